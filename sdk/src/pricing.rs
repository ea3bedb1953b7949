//! Pricing plugins (`kind = "pricing"`): one link of the quote chain.
//!
//! ```
//! use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};
//!
//! /// `[plugins.config]`
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Config {
//!     /// The fee, in minor units of the stay's currency.
//!     amount_minor: i64,
//! }
//!
//! struct CleaningFee;
//!
//! impl PricingPlugin for CleaningFee {
//!     type Config = Config;
//!
//!     fn price(config: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
//!         let fee = Money::new(config.amount_minor, stay.currency.clone());
//!         Ok(vec![LineItem::new("cleaning-fee", "Cleaning fee", fee)])
//!     }
//! }
//!
//! hearth_sdk::export_pricing!(CleaningFee);
//!
//! // Natively, through the same glue as the component:
//! let stay = hearth_sdk::testing::stay();
//! let items = hearth_sdk::pricing::run::<CleaningFee>(
//!     serde_json::json!({ "amount_minor": 6000 }),
//!     &stay,
//!     &[],
//! )?;
//! assert_eq!(items, vec![LineItem::new("cleaning-fee", "Cleaning fee", Money::new(6000, "EUR"))]);
//! # Ok::<(), PluginError>(())
//! ```

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use crate::types::{Date, LineItem, Money, PluginError, Stay};

/// A pricing rule. The kernel calls [`PricingPlugin::price`] with the stay and the items the
/// chain produced so far; return the items you add (a discount is a negative amount).
pub trait PricingPlugin {
    /// The `[plugins.config]` table, typed. Its JSON Schema is exported and checked at load.
    type Config: DeserializeOwned + JsonSchema;

    /// The items this plugin adds.
    fn price(
        config: &Self::Config,
        stay: &Stay,
        items: &[LineItem],
    ) -> Result<Vec<LineItem>, PluginError>;
}

/// Runs a plugin natively, through the same glue as the component (for tests).
pub fn run<P: PricingPlugin>(
    config: serde_json::Value,
    stay: &Stay,
    items: &[LineItem],
) -> Result<Vec<LineItem>, PluginError> {
    __price::<P>(&config.to_string(), stay.clone(), items.to_vec())
}

#[doc(hidden)]
pub fn __price<P: PricingPlugin>(
    config: &str,
    stay: Stay,
    items: Vec<LineItem>,
) -> Result<Vec<LineItem>, PluginError> {
    let config = crate::__parse_config::<P::Config>(config)?;
    P::price(&config, &stay, &items)
}

/// Exports a [`PricingPlugin`] as the component's `pricing` world (its `pricing-plugin` and
/// `config` interfaces).
#[macro_export]
macro_rules! export_pricing {
    ($plugin:ty) => {
        // Exports exist only in the component; native builds (unit tests) have none.
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            struct __HearthExport;
            impl $crate::bindings::config::exports::hearth::plugins::config::Guest for __HearthExport {
                fn config_schema() -> ::std::string::String {
                    $crate::__config_schema::<<$plugin as $crate::pricing::PricingPlugin>::Config>()
                }
            }
            impl $crate::bindings::pricing::exports::hearth::plugins::pricing_plugin::Guest for __HearthExport {
                fn price(
                    config: ::std::string::String,
                    stay: $crate::types::Stay,
                    items: ::std::vec::Vec<$crate::types::LineItem>,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::types::LineItem>, $crate::types::PluginError> {
                    $crate::pricing::__price::<$plugin>(&config, stay, items)
                }
            }
            $crate::bindings::pricing::export!(__HearthExport with_types_in $crate::bindings::pricing);
            $crate::bindings::config::export!(__HearthExport with_types_in $crate::bindings::config);
        };
    };
}
