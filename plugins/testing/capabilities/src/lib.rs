//! Test guest: uses `log`, `clock`, `cache`, `events` and `mail` (on its first call), and
//! reports what it saw as a
//! zero-amount line item whose description is `calls=<n> clock=<ms>`. The cache counter shows
//! host state persisting across calls (the cache is the kernel's, not the instance's).

use hearth_sdk::host::{cache, clock, events, log, mail, Message};
use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct Capabilities;

impl PricingPlugin for Capabilities {
    type Config = Config;

    fn price(_: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        let calls = cache::get("calls")
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        cache::set("calls", calls.to_string().as_bytes(), 60_000);
        let now = clock::now_ms();
        log::info(&format!("capabilities probe call {calls}"));
        events::publish("probe.called", &format!("{{\"calls\":{calls}}}"))
            .map_err(PluginError::Internal)?;
        if calls == 1 {
            mail::send(&Message {
                to: "probe@example.com".into(),
                subject: "capabilities probe".into(),
                text_body: format!("first call at {now}\n"),
            })
            .map_err(PluginError::Internal)?;
        }
        Ok(vec![LineItem::new(
            "probe",
            format!("calls={calls} clock={now}"),
            Money::new(0, stay.currency.clone()),
        )])
    }
}

hearth_sdk::export_pricing!(Capabilities);
