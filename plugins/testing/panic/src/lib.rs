//! Test guest: panics. The host must turn the trap into an error for this call only.

use hearth_sdk::pricing::{LineItem, PluginError, PricingPlugin, Stay};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct Panics;

impl PricingPlugin for Panics {
    type Config = Config;

    fn price(_: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        panic!(
            "boom: this guest panics on purpose ({} nights)",
            stay.nights
        );
    }
}

hearth_sdk::export_pricing!(Panics);
