//! Test guest: never returns (an infinite loop). The host must cut it off by fuel or timeout.

use hearth_sdk::pricing::{LineItem, PluginError, PricingPlugin, Stay};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct Loop;

impl PricingPlugin for Loop {
    type Config = Config;

    fn price(_: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        let mut n = u64::from(stay.nights);
        loop {
            n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

hearth_sdk::export_pricing!(Loop);
