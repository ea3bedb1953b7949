//! `hearth plugin run`: the plugin author's local runner. Loads one component through the same
//! loader and host as `serve` (everything but the sha256 pin is checked), makes one call on a
//! JSON input, and prints the output, the fuel used and the time taken.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use serde::Deserialize;

use super::kinds::{notifier, payments, pricing, review_policy};
use super::{with_kernel_clock_and_seed, EnvOverride, Plugin, PluginHost};
use crate::cache::Cache;
use crate::config::{
    CacheConfig, Capability, OnError, PluginConfig, PluginHostConfig, PluginId, PluginKind,
    PluginLimits,
};
use crate::metrics::Metrics;

/// Arguments of `hearth plugin run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The component (`.wasm`) to run.
    file: PathBuf,
    /// The world it implements: pricing, payments, review-policy or notifier.
    #[arg(long, value_parser = parse_kind)]
    kind: PluginKind,
    /// The call's input document (JSON), by kind (see `hearth plugin run --help`).
    #[arg(long)]
    input: PathBuf,
    /// The plugin's configuration (JSON), as `[plugins.config]` would give it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Capabilities to grant (repeat or comma-separate): log, clock, cache, events, http, mail.
    #[arg(long = "capability", value_delimiter = ',', value_parser = parse_capability)]
    capabilities: Vec<Capability>,
    /// Fuel for the call.
    #[arg(long, default_value_t = PluginLimits::default().fuel)]
    fuel: std::num::NonZeroU64,
    /// Wall-clock limit in milliseconds.
    #[arg(long, default_value_t = PluginLimits::default().timeout_ms)]
    timeout_ms: std::num::NonZeroU64,
    /// Memory cap in MiB.
    #[arg(long, default_value_t = PluginLimits::default().memory_mib)]
    memory_mib: std::num::NonZeroU64,
    /// The seed of the call's random bytes (printed when not given): the same input, seed and
    /// clock give the same output.
    #[arg(long)]
    seed: Option<u64>,
    /// The kernel's clock for the call, in ms since the Unix epoch (default: now). Only a plugin
    /// granted `clock` sees it; others see the epoch.
    #[arg(long)]
    now_ms: Option<u64>,
}

fn parse_kind(s: &str) -> Result<PluginKind, String> {
    PluginKind::parse(s)
        .ok_or_else(|| "expected pricing, payments, review-policy or notifier".into())
}

fn parse_capability(s: &str) -> Result<Capability, String> {
    Capability::from_interface(s)
        .ok_or_else(|| "expected log, clock, cache, events, http or mail".into())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingInput {
    stay: pricing::Stay,
    #[serde(default)]
    items: Vec<pricing::LineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PaymentsInput {
    Webhook {
        /// Only selects this shape: `"call": "parse_webhook"`.
        #[serde(rename = "call")]
        _call: WebhookTag,
        webhook: payments::Webhook,
    },
    Call(payments::PaymentCall),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WebhookTag {
    ParseWebhook,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case", deny_unknown_fields)]
enum ReviewInput {
    Evaluate {
        submission: review_policy::Submission,
    },
    Reveal {
        state: review_policy::RevealState,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifierInput {
    event: notifier::Event,
}

fn parse<T: serde::de::DeserializeOwned>(input: &str, kind: PluginKind) -> anyhow::Result<T> {
    serde_json::from_str(input).with_context(|| format!("--input is not a {kind} input document"))
}

/// Runs the command.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let input = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read --input {}", args.input.display()))?;
    let config = match &args.config {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --config {}", path.display()))?,
        )
        .with_context(|| format!("--config {} is not JSON", path.display()))?,
        None => serde_json::json!({}),
    };
    let stem = args
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin")
        .to_ascii_lowercase()
        .replace('_', "-");
    let entry = PluginConfig {
        id: PluginId::parse(&stem)
            .or_else(|_| PluginId::parse("local"))
            .map_err(|e| anyhow!(e))?,
        kind: args.kind,
        path: args.file.clone(),
        sha256: None,
        sha256_from: None,
        order: 0,
        on_error: OnError::FailClosed,
        capabilities: args.capabilities.clone(),
        http_allow: Vec::new(),
        events: None,
        limits: PluginLimits {
            fuel: args.fuel,
            memory_mib: args.memory_mib,
            timeout_ms: args.timeout_ms,
            ..PluginLimits::default()
        },
        config,
    };
    let cache_dir = std::env::temp_dir().join("hearth-plugin-cache");
    let host = PluginHost::new(
        &PluginHostConfig {
            max_instances: std::num::NonZeroU32::new(4).expect("4 is not zero"),
            ..PluginHostConfig::default()
        },
        &cache_dir,
        Cache::new(&CacheConfig::default(), Metrics::new())?,
        Metrics::new(),
    )?;
    let plugin = host
        .load_unpinned(&entry, &std::env::current_dir()?)
        .await
        .map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let env = EnvOverride {
        now_ms: args.now_ms,
        seed: Some(seed),
    };
    let output = with_kernel_clock_and_seed(env, call(&plugin, args.kind, &input)).await?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    let stats = plugin.stats();
    eprintln!(
        "fuel used: {}  time: {:.3} ms  seed: {seed}",
        stats.fuel, stats.mean_ms
    );
    Ok(())
}

async fn call(plugin: &Plugin, kind: PluginKind, input: &str) -> anyhow::Result<serde_json::Value> {
    let value = match kind {
        PluginKind::Pricing => {
            let input: PricingInput = parse(input, kind)?;
            serde_json::to_value(pricing::price(plugin, &input.stay, &input.items).await?)?
        }
        PluginKind::Payments => match parse::<PaymentsInput>(input, kind)? {
            PaymentsInput::Webhook { webhook, .. } => {
                serde_json::to_value(payments::parse_webhook(plugin, &webhook).await?)?
            }
            PaymentsInput::Call(request) => {
                serde_json::to_value(payments::call(plugin, &request).await?)?
            }
        },
        PluginKind::ReviewPolicy => match parse::<ReviewInput>(input, kind)? {
            ReviewInput::Evaluate { submission } => {
                serde_json::to_value(review_policy::evaluate(plugin, &submission).await?)?
            }
            ReviewInput::Reveal { state } => {
                serde_json::to_value(review_policy::reveal(plugin, state).await?)?
            }
        },
        PluginKind::Notifier => {
            let input: NotifierInput = parse(input, kind)?;
            serde_json::to_value(notifier::notify(plugin, &input.event).await?)?
        }
    };
    Ok(value)
}
