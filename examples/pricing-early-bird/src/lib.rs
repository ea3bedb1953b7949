//! Early-bird discount: stays whose check-in is at least `min_days_ahead` days after today get
//! `percent_bp` off the nightly rate. Reads today's date through the host's `clock` capability,
//! so the operator must grant `capabilities = ["clock"]`.

use hearth_sdk::host::{clock, log};
use hearth_sdk::pricing::{Date, LineItem, Money, PluginError, PricingPlugin, Stay};
use schemars::JsonSchema;
use serde::Deserialize;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How far ahead the check-in must be, in days.
    #[schemars(range(min = 1))]
    pub min_days_ahead: u32,
    /// The discount on nightly items, in basis points (1000 = 10%).
    #[schemars(range(min = 1, max = 10000))]
    pub percent_bp: i64,
}

/// The plugin.
pub struct EarlyBird;

impl PricingPlugin for EarlyBird {
    type Config = Config;

    fn price(
        config: &Config,
        stay: &Stay,
        items: &[LineItem],
    ) -> Result<Vec<LineItem>, PluginError> {
        let today = Date::from_days(i64::try_from(clock::now_ms() / 86_400_000).unwrap_or(0));
        let days_ahead = stay.check_in.to_days() - today.to_days();
        if days_ahead < i64::from(config.min_days_ahead) {
            return Ok(Vec::new());
        }
        let nightly: i64 = items
            .iter()
            .filter(|i| i.code == "nightly" && i.amount.currency == stay.currency)
            .map(|i| i.amount.minor)
            .sum();
        let discount = Money::new(-nightly, stay.currency.clone()).percent_bp(config.percent_bp);
        if discount.minor == 0 {
            return Ok(Vec::new());
        }
        log::debug(&format!("early bird: {days_ahead} days ahead"));
        Ok(vec![LineItem::new(
            "early-bird-discount",
            "Early-bird discount",
            discount,
        )])
    }
}

hearth_sdk::export_pricing!(EarlyBird);

#[cfg(test)]
mod tests {
    use hearth_sdk::pricing::run;
    use hearth_sdk::testing;
    use serde_json::json;

    use super::*;

    fn stay(check_in: Date) -> Stay {
        Stay::new(check_in, check_in.add_days(2), "EUR").in_city("PT", "Lisbon")
    }

    fn nights() -> Vec<LineItem> {
        vec![
            LineItem::new("nightly", "Night", Money::new(12_000, "EUR")),
            LineItem::new("nightly", "Night", Money::new(12_000, "EUR")),
            LineItem::new("cleaning-fee", "Cleaning", Money::new(5_000, "EUR")),
        ]
    }

    const TODAY_MS: u64 = 20_000 * 86_400_000; // 2024-10-04

    #[test]
    fn a_stay_booked_far_enough_ahead_gets_the_discount_on_nights_only() {
        testing::reset();
        testing::set_now_ms(TODAY_MS);
        let check_in = Date::from_days(20_000 + 60);
        let out = run::<EarlyBird>(
            json!({ "min_days_ahead": 30, "percent_bp": 1000 }),
            &stay(check_in),
            &nights(),
        )
        .expect("priced");
        assert_eq!(
            out,
            vec![LineItem::new(
                "early-bird-discount",
                "Early-bird discount",
                Money::new(-2_400, "EUR")
            )]
        );
    }

    #[test]
    fn a_late_booking_gets_nothing() {
        testing::reset();
        testing::set_now_ms(TODAY_MS);
        let check_in = Date::from_days(20_000 + 10);
        let out = run::<EarlyBird>(
            json!({ "min_days_ahead": 30, "percent_bp": 1000 }),
            &stay(check_in),
            &nights(),
        )
        .expect("priced");
        assert!(out.is_empty());
    }
}
