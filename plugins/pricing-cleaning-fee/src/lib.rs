//! A flat cleaning fee, charged once per stay, optionally waived for long stays.

use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};
use schemars::JsonSchema;
use serde::Deserialize;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The fee in minor units of the stay's currency, e.g. 5000 for 50.00.
    #[schemars(range(min = 0))]
    pub amount_minor: i64,
    /// Stays of at least this many nights pay no cleaning fee (omit to always charge).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub waive_from_nights: Option<u32>,
}

/// The plugin.
pub struct CleaningFee;

impl PricingPlugin for CleaningFee {
    type Config = Config;

    fn price(
        config: &Config,
        stay: &Stay,
        _items: &[LineItem],
    ) -> Result<Vec<LineItem>, PluginError> {
        if config.waive_from_nights.is_some_and(|n| stay.nights >= n) || config.amount_minor == 0 {
            return Ok(Vec::new());
        }
        Ok(vec![LineItem::new(
            "cleaning-fee",
            "Cleaning fee",
            Money::new(config.amount_minor, stay.currency.clone()),
        )])
    }
}

hearth_sdk::export_pricing!(CleaningFee);

#[cfg(test)]
mod tests {
    use hearth_sdk::pricing::{run, Date};
    use serde_json::json;

    use super::*;

    fn stay(nights: u32) -> Stay {
        let check_in = Date::new(2026, 7, 1);
        Stay::new(check_in, check_in.add_days(i64::from(nights)), "EUR")
    }

    #[test]
    fn charges_the_fee_once_in_the_stays_currency() {
        let items =
            run::<CleaningFee>(json!({ "amount_minor": 5000 }), &stay(3), &[]).expect("priced");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].amount, Money::new(5000, "EUR"));
        assert_eq!(items[0].code, "cleaning-fee");
    }

    #[test]
    fn long_stays_can_be_waived() {
        let config = json!({ "amount_minor": 5000, "waive_from_nights": 7 });
        assert!(run::<CleaningFee>(config.clone(), &stay(7), &[])
            .expect("priced")
            .is_empty());
        assert_eq!(
            run::<CleaningFee>(config, &stay(6), &[])
                .expect("priced")
                .len(),
            1
        );
    }

    #[test]
    fn a_config_without_the_amount_is_a_config_error() {
        let err = run::<CleaningFee>(json!({}), &stay(3), &[]).expect_err("refused");
        assert!(matches!(err, PluginError::Config(m) if m.contains("amount_minor")));
    }

    #[test]
    fn the_exported_schema_requires_the_amount() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema["required"], json!(["amount_minor"]));
    }
}
