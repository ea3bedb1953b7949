//! A guest service fee: a percentage of the subtotal of the items before it in the chain (so
//! its position in the chain matters: after the cleaning fee, the fee includes it).

use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};
use hearth_sdk::types::total;
use schemars::JsonSchema;
use serde::Deserialize;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The fee in basis points of the subtotal so far: 1400 is 14%.
    #[schemars(range(min = 0, max = 10000))]
    pub percent_bp: i64,
    /// The description shown to the guest.
    #[serde(default = "default_label")]
    pub label: String,
}

fn default_label() -> String {
    "Service fee".into()
}

/// The plugin.
pub struct ServiceFee;

impl PricingPlugin for ServiceFee {
    type Config = Config;

    fn price(
        config: &Config,
        stay: &Stay,
        items: &[LineItem],
    ) -> Result<Vec<LineItem>, PluginError> {
        let subtotal = Money::new(total(items, &stay.currency), stay.currency.clone());
        let fee = subtotal.percent_bp(config.percent_bp);
        if fee.minor == 0 {
            return Ok(Vec::new());
        }
        Ok(vec![LineItem::new(
            "service-fee",
            config.label.clone(),
            fee,
        )])
    }
}

hearth_sdk::export_pricing!(ServiceFee);

#[cfg(test)]
mod tests {
    use hearth_sdk::pricing::run;
    use serde_json::json;

    use super::*;

    fn stay() -> Stay {
        hearth_sdk::testing::stay()
    }

    #[test]
    fn the_fee_is_a_share_of_the_items_so_far_rounded_to_the_cent() {
        let items = vec![
            LineItem::new("nightly", "Night", Money::new(10_000, "EUR")),
            LineItem::new("nightly", "Night", Money::new(10_005, "EUR")),
        ];
        let out =
            run::<ServiceFee>(json!({ "percent_bp": 1400 }), &stay(), &items).expect("priced");
        // 14% of 200.05 = 28.007 -> 28.01
        assert_eq!(
            out,
            vec![LineItem::new(
                "service-fee",
                "Service fee",
                Money::new(2_801, "EUR")
            )]
        );
    }

    #[test]
    fn nothing_to_charge_adds_no_item() {
        assert!(
            run::<ServiceFee>(json!({ "percent_bp": 1400 }), &stay(), &[])
                .expect("priced")
                .is_empty()
        );
    }

    #[test]
    fn a_percentage_over_100_is_refused_by_the_schema() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema["properties"]["percent_bp"]["maximum"], json!(10000));
    }
}
