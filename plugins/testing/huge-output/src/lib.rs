//! Test guest: returns more than the default output cap (about 400 KiB of line items).

use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct HugeOutput;

impl PricingPlugin for HugeOutput {
    type Config = Config;

    fn price(_: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        Ok((0..3_000)
            .map(|i| {
                LineItem::new(
                    format!("spam-{i}"),
                    "x".repeat(100),
                    Money::new(0, stay.currency.clone()),
                )
            })
            .collect())
    }
}

hearth_sdk::export_pricing!(HugeOutput);
