//! Loading one `[[plugins]]` entry, checking everything an operator can get wrong and saying
//! which: the file, the sha256 pin, that it is a component, which world and contract version it
//! implements, which capabilities it imports, and its config against its own JSON Schema.

use std::path::Path;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::{bindings, resolve, KindPre, Plugin, PluginHost, PluginInfo, CONTRACT_VERSION};
use crate::config::{Capability, PluginConfig, PluginKind};

const PACKAGE: &str = "hearth:plugins/";

/// Whether the sha256 pin is checked (always, except for the developer's local runner).
pub(super) enum Pin {
    Checked,
    Unchecked,
}

pub(super) async fn load(
    host: &PluginHost,
    config: &PluginConfig,
    base_dir: &Path,
) -> Result<Plugin, String> {
    load_with(host, config, base_dir, Pin::Checked).await
}

pub(super) async fn load_with(
    host: &PluginHost,
    config: &PluginConfig,
    base_dir: &Path,
    pin: Pin,
) -> Result<Plugin, String> {
    let path = resolve(base_dir, &config.path);
    let bytes = tokio::fs::read(&path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "component file not found at {} (build the bundled plugins with scripts/build-plugins)",
            path.display()
        ),
        _ => format!("cannot read {}: {e}", path.display()),
    })?;
    let digest = hex::encode(Sha256::digest(&bytes));
    if let Pin::Checked = pin {
        let pinned = pinned_digest(config, base_dir, &path)?;
        if digest != pinned {
            return Err(format!(
                "sha256 mismatch: the file is {digest}, the configuration pins {pinned}"
            ));
        }
    }

    let engine = host.engine.clone();
    let component = tokio::task::spawn_blocking(move || Component::new(&engine, &bytes))
        .await
        .map_err(|e| format!("compiling failed: {e}"))?
        .map_err(|e| format!("not a valid WebAssembly component: {e:#}"))?;

    let kind = implemented_kind(&component, host)?;
    if kind != config.kind {
        return Err(format!(
            "implements the `{kind}` world but is declared as kind = \"{}\"",
            config.kind
        ));
    }
    check_imports(&component, host, config)?;

    let instance_pre = host
        .linker
        .instantiate_pre(&component)
        .map_err(|e| format!("cannot be linked: {e:#}"))?;
    let wrong_shape = |e: wasmtime::Error| {
        format!("its `{kind}` exports do not match contract {CONTRACT_VERSION}: {e:#}")
    };
    let pre = match kind {
        PluginKind::Pricing => {
            KindPre::Pricing(bindings::pricing::PricingPre::new(instance_pre).map_err(wrong_shape)?)
        }
        PluginKind::Payments => KindPre::Payments(
            bindings::payments::PaymentsPre::new(instance_pre).map_err(wrong_shape)?,
        ),
        PluginKind::ReviewPolicy => KindPre::ReviewPolicy(
            bindings::review_policy::ReviewPolicyPre::new(instance_pre).map_err(wrong_shape)?,
        ),
        PluginKind::Notifier => KindPre::Notifier(
            bindings::notifier::NotifierPre::new(instance_pre).map_err(wrong_shape)?,
        ),
    };

    let mut capabilities = config.capabilities.clone();
    capabilities.sort();
    capabilities.dedup();
    let plugin = Plugin {
        info: PluginInfo {
            id: config.id.clone(),
            kind,
            path: config.path.display().to_string(),
            sha256: digest,
            contract_version: CONTRACT_VERSION.to_owned(),
            order: config.order,
            on_error: config.on_error,
            capabilities,
            limits: config.limits,
            events: config.events.clone(),
        },
        engine: host.engine.clone(),
        pre,
        config_json: config.config.to_string().into(),
        context: host.context(config),
        counters: super::PluginCounters::new(&host.metrics, &config.id),
    };
    validate_config(&plugin, &config.config).await?;
    Ok(plugin)
}

/// The digest the configuration pins: `sha256`, or the file's entry in `sha256_from`.
fn pinned_digest(
    config: &PluginConfig,
    base_dir: &Path,
    component: &Path,
) -> Result<String, String> {
    if let Some(pin) = &config.sha256 {
        return Ok(pin.as_str().to_owned());
    }
    let Some(sums) = &config.sha256_from else {
        return Err("no sha256 pin configured".into());
    };
    let sums = resolve(base_dir, sums);
    let text = std::fs::read_to_string(&sums)
        .map_err(|e| format!("cannot read sha256_from file {}: {e}", sums.display()))?;
    let name = component
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (digest, file) = line.split_once(char::is_whitespace)?;
            Some((digest, file.trim().trim_start_matches('*')))
        })
        .find(|(_, file)| Path::new(file).file_name().and_then(|n| n.to_str()) == Some(name))
        .map(|(digest, _)| digest.to_ascii_lowercase())
        .ok_or_else(|| format!("{} has no entry for {name}", sums.display()))
}

/// Splits `hearth:plugins/<interface>@<version>`.
fn hearth_interface(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(PACKAGE)?;
    Some(rest.split_once('@').unwrap_or((rest, "")))
}

fn kind_of_export(interface: &str) -> Option<PluginKind> {
    match interface {
        "pricing-plugin" => Some(PluginKind::Pricing),
        "payments-plugin" => Some(PluginKind::Payments),
        "review-policy-plugin" => Some(PluginKind::ReviewPolicy),
        "notifier-plugin" => Some(PluginKind::Notifier),
        _ => None,
    }
}

/// Which world the component implements, by its exported interface and contract version.
fn implemented_kind(component: &Component, host: &PluginHost) -> Result<PluginKind, String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(&host.engine)
        .map(|(n, _)| n.to_owned())
        .collect();
    let mut found = None;
    for name in &exports {
        let Some((interface, version)) = hearth_interface(name) else {
            continue;
        };
        if version != CONTRACT_VERSION {
            return Err(format!(
                "targets contract hearth:plugins@{version} (exports `{name}`), but this kernel \
                 supports hearth:plugins@{CONTRACT_VERSION}; rebuild it against a matching hearth-sdk"
            ));
        }
        if let Some(kind) = kind_of_export(interface) {
            found = Some(kind);
        }
    }
    found.ok_or_else(|| {
        format!(
            "implements no Hearth plugin world (it exports: {})",
            if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            }
        )
    })
}

/// Every import must be WASI (given with nothing) or a Hearth capability that was granted.
/// All capabilities missing a grant are named at once.
fn check_imports(
    component: &Component,
    host: &PluginHost,
    config: &PluginConfig,
) -> Result<(), String> {
    let ty = component.component_type();
    let mut ungranted = Vec::new();
    for (name, _) in ty.imports(&host.engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let Some((interface, version)) = hearth_interface(name) else {
            return Err(format!("imports `{name}`, which Hearth does not provide"));
        };
        if version != CONTRACT_VERSION {
            return Err(format!(
                "imports `{name}` from contract hearth:plugins@{version}, but this kernel \
                 supports hearth:plugins@{CONTRACT_VERSION}"
            ));
        }
        if interface == "types" {
            continue;
        }
        match Capability::from_interface(interface) {
            Some(cap) if config.capabilities.contains(&cap) => {}
            Some(cap) => ungranted.push(cap.as_str()),
            None => return Err(format!("imports `{name}`, which Hearth does not provide")),
        }
    }
    ungranted.sort_unstable();
    ungranted.dedup();
    match ungranted.as_slice() {
        [] => Ok(()),
        [one] => Err(format!(
            "imports the `{one}` capability, which is not granted (add \"{one}\" to capabilities)"
        )),
        many => Err(format!(
            "imports capabilities that are not granted: {} (add them to capabilities)",
            many.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Asks the plugin for its config schema and validates the operator's config against it.
async fn validate_config(plugin: &Plugin, config: &serde_json::Value) -> Result<(), String> {
    let schema = super::kinds::config_schema(plugin)
        .await
        .map_err(|e| format!("config-schema call failed: {e}"))?;
    let schema: serde_json::Value = serde_json::from_str(&schema)
        .map_err(|e| format!("exports a config schema that is not JSON: {e}"))?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| format!("exports an invalid config schema: {e}"))?;
    let problems: Vec<String> = validator
        .iter_errors(config)
        .map(|e| {
            let pointer = e.instance_path.to_string();
            let field = if pointer.is_empty() {
                "plugins.config".to_owned()
            } else {
                format!("plugins.config{}", pointer.replace('/', "."))
            };
            format!("`{field}`: {e}")
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "config does not match the plugin's schema: {}",
            problems.join("; ")
        ))
    }
}
