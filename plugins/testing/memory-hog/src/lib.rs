//! Test guest: allocates without bound. The host's memory cap must stop it.

use hearth_sdk::pricing::{LineItem, PluginError, PricingPlugin, Stay};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct MemoryHog;

impl PricingPlugin for MemoryHog {
    type Config = Config;

    fn price(_: &Config, _: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        // Reserving without writing grows linear memory quickly and cheaply in fuel.
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(Vec::with_capacity(1024 * 1024));
            std::hint::black_box(&hoard);
        }
    }
}

hearth_sdk::export_pricing!(MemoryHog);
