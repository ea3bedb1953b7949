//! Test guest: reads the time and 16 random bytes through plain WASI (`std::time`,
//! `getrandom`), not through Hearth's host imports, and reports them as a zero-amount line item
//! whose description is `wall=<ms since the epoch> random=<32 hex digits>`. The kernel decides
//! what both are: a fixed instant without the `clock` grant, and bytes from its per-call seed.

use std::time::{SystemTime, UNIX_EPOCH};

use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct WasiProbe;

impl PricingPlugin for WasiProbe {
    type Config = Config;

    fn price(_: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| PluginError::Internal(e.to_string()))?;
        let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(vec![LineItem::new(
            "probe",
            format!("wall={wall} random={random}"),
            Money::new(0, stay.currency.clone()),
        )])
    }
}

hearth_sdk::export_pricing!(WasiProbe);
