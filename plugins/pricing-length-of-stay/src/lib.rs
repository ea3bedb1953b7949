//! Length-of-stay discounts: a weekly discount from 7 nights, a monthly one from 28 nights (which
//! replaces the weekly one), as a share of the nightly rates including their weekend and
//! seasonal adjustments (so it belongs after `pricing-seasonal` in the chain).

use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};
use schemars::JsonSchema;
use serde::Deserialize;

/// The item codes the discount is a share of.
pub const DISCOUNTED_CODES: [&str; 3] = ["nightly", "weekend-adjustment", "seasonal-adjustment"];

/// Stays of at least this many nights get the weekly discount.
pub const WEEKLY_FROM_NIGHTS: u32 = 7;

/// Stays of at least this many nights get the monthly discount (when it is not 0).
pub const MONTHLY_FROM_NIGHTS: u32 = 28;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The discount on stays of 7 nights or more, in basis points of the nightly rates: 1000
    /// is 10% off. 0 (the default) for none.
    #[serde(default)]
    #[schemars(range(min = 0, max = 10000))]
    pub weekly_discount_bp: i64,
    /// The discount on stays of 28 nights or more, in basis points of the nightly rates; it
    /// replaces the weekly discount. 0 (the default) for none: the weekly one then applies.
    #[serde(default)]
    #[schemars(range(min = 0, max = 10000))]
    pub monthly_discount_bp: i64,
}

/// The plugin.
pub struct LengthOfStay;

impl PricingPlugin for LengthOfStay {
    type Config = Config;

    fn price(
        config: &Config,
        stay: &Stay,
        items: &[LineItem],
    ) -> Result<Vec<LineItem>, PluginError> {
        let (code, description, bp) =
            if stay.nights >= MONTHLY_FROM_NIGHTS && config.monthly_discount_bp != 0 {
                (
                    "monthly-discount",
                    "Monthly discount",
                    config.monthly_discount_bp,
                )
            } else if stay.nights >= WEEKLY_FROM_NIGHTS && config.weekly_discount_bp != 0 {
                (
                    "weekly-discount",
                    "Weekly discount",
                    config.weekly_discount_bp,
                )
            } else {
                return Ok(Vec::new());
            };
        let base: i64 = items
            .iter()
            .filter(|i| {
                i.amount.currency == stay.currency && DISCOUNTED_CODES.contains(&i.code.as_str())
            })
            .map(|i| i.amount.minor)
            .sum();
        // The share is rounded (half away from zero), then negated into a discount.
        let discount = Money::new(base, stay.currency.clone()).percent_bp(bp).minor;
        if discount == 0 {
            return Ok(Vec::new());
        }
        Ok(vec![LineItem::new(
            code,
            description,
            Money::new(-discount, stay.currency.clone()),
        )])
    }
}

hearth_sdk::export_pricing!(LengthOfStay);

#[cfg(test)]
mod tests {
    use hearth_sdk::pricing::{run, Date};
    use serde_json::json;

    use super::*;

    fn stay(nights: u32) -> Stay {
        let check_in = Date::new(2026, 7, 1);
        Stay::new(check_in, check_in.add_days(i64::from(nights)), "EUR")
    }

    /// One nightly item of `minor` per night of the stay.
    fn nights(stay: &Stay, minor: i64) -> Vec<LineItem> {
        stay.nights_iter()
            .map(|d| LineItem::new("nightly", "Night", Money::new(minor, "EUR")).for_night(d))
            .collect()
    }

    fn config() -> serde_json::Value {
        json!({ "weekly_discount_bp": 1000, "monthly_discount_bp": 2500 })
    }

    #[test]
    fn shorter_stays_get_no_discount() {
        let stay = stay(6);
        let out = run::<LengthOfStay>(config(), &stay, &nights(&stay, 10_000)).expect("priced");
        assert!(out.is_empty());
    }

    #[test]
    fn a_week_gets_the_weekly_discount_to_the_cent() {
        let stay = stay(7);
        let out = run::<LengthOfStay>(config(), &stay, &nights(&stay, 10_007)).expect("priced");
        // 10% of 700.49 = 70.049 -> 70.05.
        assert_eq!(
            out,
            vec![LineItem::new(
                "weekly-discount",
                "Weekly discount",
                Money::new(-7_005, "EUR")
            )]
        );
    }

    #[test]
    fn the_discount_rounds_half_away_from_zero_before_it_is_negated() {
        let stay = stay(7);
        let items = vec![LineItem::new("nightly", "Night", Money::new(10_005, "EUR"))];
        let out = run::<LengthOfStay>(json!({ "weekly_discount_bp": 1000 }), &stay, &items)
            .expect("priced");
        // 10% of 100.05 = 10.005 -> 10.01 off.
        assert_eq!(out[0].amount, Money::new(-1_001, "EUR"));
    }

    #[test]
    fn twenty_seven_nights_are_still_weekly() {
        let stay = stay(27);
        let out = run::<LengthOfStay>(config(), &stay, &nights(&stay, 10_000)).expect("priced");
        assert_eq!(
            out,
            vec![LineItem::new(
                "weekly-discount",
                "Weekly discount",
                Money::new(-27_000, "EUR")
            )]
        );
    }

    #[test]
    fn a_month_gets_the_monthly_discount_instead_of_the_weekly_one() {
        let stay = stay(28);
        let out = run::<LengthOfStay>(config(), &stay, &nights(&stay, 9_999)).expect("priced");
        // 25% of 2799.72 = 699.93.
        assert_eq!(
            out,
            vec![LineItem::new(
                "monthly-discount",
                "Monthly discount",
                Money::new(-69_993, "EUR")
            )]
        );
    }

    #[test]
    fn without_a_monthly_discount_a_month_gets_the_weekly_one() {
        let stay = stay(30);
        let out = run::<LengthOfStay>(
            json!({ "weekly_discount_bp": 1500 }),
            &stay,
            &nights(&stay, 10_001),
        )
        .expect("priced");
        // 15% of 3000.30 = 450.045 -> 450.05.
        assert_eq!(
            out,
            vec![LineItem::new(
                "weekly-discount",
                "Weekly discount",
                Money::new(-45_005, "EUR")
            )]
        );
    }

    #[test]
    fn only_nightly_rates_and_their_adjustments_in_the_stays_currency_count() {
        let stay = stay(7);
        let d = stay.check_in;
        let items = vec![
            LineItem::new("nightly", "Night", Money::new(70_000, "EUR")).for_night(d),
            LineItem::new(
                "weekend-adjustment",
                "Weekend rate",
                Money::new(4_000, "EUR"),
            )
            .for_night(d),
            LineItem::new("seasonal-adjustment", "Summer", Money::new(-2_005, "EUR")).for_night(d),
            LineItem::new("nightly", "Night", Money::new(99_999, "USD")).for_night(d),
            LineItem::new("cleaning-fee", "Cleaning fee", Money::new(5_000, "EUR")),
            LineItem::new("service-fee", "Service fee", Money::new(9_000, "EUR")),
        ];
        let out = run::<LengthOfStay>(config(), &stay, &items).expect("priced");
        // 10% of 719.95 = 71.995 -> 72.00.
        assert_eq!(out[0].amount, Money::new(-7_200, "EUR"));
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn no_discount_configured_or_nothing_to_discount_adds_no_item() {
        let month = stay(30);
        assert!(
            run::<LengthOfStay>(json!({}), &month, &nights(&month, 10_000))
                .expect("priced")
                .is_empty()
        );
        assert!(run::<LengthOfStay>(config(), &month, &[])
            .expect("priced")
            .is_empty());
        // 10% of 0.04 rounds to 0.00.
        let tiny = vec![LineItem::new("nightly", "Night", Money::new(4, "EUR"))];
        assert!(run::<LengthOfStay>(config(), &stay(7), &tiny)
            .expect("priced")
            .is_empty());
    }

    #[test]
    fn a_bad_config_is_a_config_error() {
        for config in [
            json!({ "weekly_discount_bp": "10%" }),
            json!({ "weekly_discount": 1000 }),
            json!({ "monthly_discount_bp": 25.5 }),
        ] {
            let err = run::<LengthOfStay>(config.clone(), &stay(7), &[]).expect_err("refused");
            assert!(matches!(err, PluginError::Config(_)), "{config}: {err:?}");
        }
    }

    #[test]
    fn the_exported_schema_bounds_both_discounts() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema.get("required"), None);
        for field in ["weekly_discount_bp", "monthly_discount_bp"] {
            assert_eq!(schema["properties"][field]["minimum"], json!(0), "{field}");
            assert_eq!(
                schema["properties"][field]["maximum"],
                json!(10000),
                "{field}"
            );
        }
    }
}
