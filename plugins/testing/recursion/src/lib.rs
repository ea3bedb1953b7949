//! Test guest: recurses without bound. The host must survive the stack overflow.

use hearth_sdk::pricing::{LineItem, PluginError, PricingPlugin, Stay};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct Recursion;

/// Recurses until the stack runs out; the branch only exists to keep the compiler from
/// proving (and rejecting or flattening) the infinite recursion.
#[inline(never)]
fn dive(depth: u64, trail: &mut [u64; 16]) -> u64 {
    trail[(depth % 16) as usize] = depth;
    std::hint::black_box(&mut *trail);
    if depth == u64::MAX {
        return 0;
    }
    dive(depth + 1, trail) + 1
}

impl PricingPlugin for Recursion {
    type Config = Config;

    fn price(_: &Config, _: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        let mut trail = [0u64; 16];
        let n = dive(0, &mut trail);
        Err(PluginError::Internal(format!("unreachable depth {n}")))
    }
}

hearth_sdk::export_pricing!(Recursion);
