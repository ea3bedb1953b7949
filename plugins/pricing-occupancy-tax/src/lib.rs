//! Occupancy taxes by country and city. Every rule whose place matches the stay applies, in the
//! configured order: a percentage of the total of the items before this plugin in the chain, or
//! a flat amount per guest and night.

use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};
use hearth_sdk::types::total;
use schemars::JsonSchema;
use serde::Deserialize;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The taxes. Every rule matching the stay's place applies, in this order.
    pub rules: Vec<Rule>,
}

/// One tax, written `{ name, country, city (optional), kind, ... }`:
/// `{ kind = "percent", rate_bp = 550 }` or `{ kind = "per_guest_per_night", amount_minor = 260 }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(from = "RuleConfig")]
#[schemars(with = "RuleConfig")]
pub struct Rule {
    /// The line item's description.
    pub name: String,
    /// ISO 3166-1 alpha-2 code of the country it applies in (any case).
    pub country: String,
    /// The city it applies in (any case); everywhere in the country when absent.
    pub city: Option<String>,
    /// How much.
    pub tax: Tax,
}

/// How much a [`Rule`] charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tax {
    /// Basis points of the total of the items so far in the stay's currency: 550 is 5.5%.
    Percent {
        /// The rate.
        rate_bp: i64,
    },
    /// Minor units of the stay's currency, per guest and per night.
    PerGuestPerNight {
        /// The amount.
        amount_minor: i64,
    },
}

impl Rule {
    /// Whether the rule applies to the stay: same country and, when the rule names a city, same
    /// city, both compared case-insensitively.
    pub fn matches(&self, stay: &Stay) -> bool {
        same_place(&self.country, &stay.country)
            && self
                .city
                .as_deref()
                .is_none_or(|c| same_place(c, &stay.city))
    }

    /// The tax on the stay, `subtotal` being the total of the items so far in its currency.
    pub fn amount(&self, stay: &Stay, subtotal: i64) -> Money {
        match self.tax {
            Tax::Percent { rate_bp } => {
                Money::new(subtotal, stay.currency.clone()).percent_bp(rate_bp)
            }
            Tax::PerGuestPerNight { amount_minor } => Money::new(
                amount_minor
                    .saturating_mul(i64::from(stay.guests))
                    .saturating_mul(i64::from(stay.nights)),
                stay.currency.clone(),
            ),
        }
    }
}

fn same_place(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// A rule as written in the configuration: a tagged union on `kind`, so an unknown kind (or a
/// field of the other kind) is refused by the schema and by the parser alike.
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Rule")]
enum RuleConfig {
    /// A percentage of the total of the items so far.
    Percent {
        /// The line item's description, e.g. "Taxe de séjour".
        name: String,
        /// ISO 3166-1 alpha-2 code of the country it applies in, e.g. "FR" (any case).
        #[schemars(pattern(r"^[A-Za-z]{2}$"))]
        country: String,
        /// The city it applies in (any case); everywhere in the country when absent.
        #[serde(default)]
        city: Option<String>,
        /// Basis points of the total so far: 550 is 5.5%.
        #[schemars(range(min = 0, max = 10000))]
        rate_bp: i64,
    },
    /// A flat amount per guest and per night.
    PerGuestPerNight {
        /// The line item's description, e.g. "Tourist tax".
        name: String,
        /// ISO 3166-1 alpha-2 code of the country it applies in, e.g. "FR" (any case).
        #[schemars(pattern(r"^[A-Za-z]{2}$"))]
        country: String,
        /// The city it applies in (any case); everywhere in the country when absent.
        #[serde(default)]
        city: Option<String>,
        /// Minor units of the stay's currency per guest and per night: 260 is 2.60.
        #[schemars(range(min = 0))]
        amount_minor: i64,
    },
}

impl From<RuleConfig> for Rule {
    fn from(rule: RuleConfig) -> Self {
        match rule {
            RuleConfig::Percent {
                name,
                country,
                city,
                rate_bp,
            } => Rule {
                name,
                country,
                city,
                tax: Tax::Percent { rate_bp },
            },
            RuleConfig::PerGuestPerNight {
                name,
                country,
                city,
                amount_minor,
            } => Rule {
                name,
                country,
                city,
                tax: Tax::PerGuestPerNight { amount_minor },
            },
        }
    }
}

/// The plugin.
pub struct OccupancyTax;

impl PricingPlugin for OccupancyTax {
    type Config = Config;

    fn price(
        config: &Config,
        stay: &Stay,
        items: &[LineItem],
    ) -> Result<Vec<LineItem>, PluginError> {
        // Percentages are of the items before this plugin: the taxes it adds are not taxed.
        let subtotal = total(items, &stay.currency);
        Ok(config
            .rules
            .iter()
            .filter(|rule| rule.matches(stay))
            .map(|rule| (rule, rule.amount(stay, subtotal)))
            .filter(|(_, amount)| amount.minor != 0)
            .map(|(rule, amount)| LineItem::new("occupancy-tax", rule.name.clone(), amount))
            .collect())
    }
}

hearth_sdk::export_pricing!(OccupancyTax);

#[cfg(test)]
mod tests {
    use hearth_sdk::pricing::run;
    use serde_json::json;

    use super::*;

    fn stay(country: &str, city: &str) -> Stay {
        hearth_sdk::testing::stay().in_city(country, city)
    }

    /// 350.09 in EUR, plus a USD item that no percentage sees.
    fn items() -> Vec<LineItem> {
        let mut items: Vec<_> = stay("FR", "Paris")
            .nights_iter()
            .map(|d| LineItem::new("nightly", "Night", Money::new(10_003, "EUR")).for_night(d))
            .collect();
        items.push(LineItem::new(
            "cleaning-fee",
            "Cleaning fee",
            Money::new(5_000, "EUR"),
        ));
        items.push(LineItem::new("extra", "Extra", Money::new(99_999, "USD")));
        items
    }

    fn tax(name: &str, minor: i64) -> LineItem {
        LineItem::new("occupancy-tax", name, Money::new(minor, "EUR"))
    }

    fn config() -> serde_json::Value {
        json!({ "rules": [
            { "name": "VAT", "country": "FR", "kind": "percent", "rate_bp": 1000 },
            { "name": "Lyon tax", "country": "FR", "city": "Lyon", "kind": "percent", "rate_bp": 300 },
            { "name": "Tourist tax", "country": "fr", "city": "PARIS", "kind": "per_guest_per_night", "amount_minor": 260 },
            { "name": "Spanish tax", "country": "ES", "kind": "per_guest_per_night", "amount_minor": 100 },
            { "name": "Taxe de séjour", "country": "FR", "city": "Paris", "kind": "percent", "rate_bp": 550 }
        ] })
    }

    #[test]
    fn every_matching_rule_applies_in_order_to_the_cent() {
        let out = run::<OccupancyTax>(config(), &stay("FR", "Paris"), &items()).expect("priced");
        // 10% of 350.09 = 35.009 -> 35.01; 2.60 x 2 guests x 3 nights = 15.60;
        // 5.5% of 350.09 = 19.25495 -> 19.25 (of the items before the plugin, not its own taxes).
        assert_eq!(
            out,
            vec![
                tax("VAT", 3_501),
                tax("Tourist tax", 1_560),
                tax("Taxe de séjour", 1_925),
            ]
        );
    }

    #[test]
    fn places_compare_case_insensitively_and_a_rule_without_city_covers_the_country() {
        let out = run::<OccupancyTax>(config(), &stay("fr", "lyon"), &items()).expect("priced");
        // 3% of 350.09 = 10.5027 -> 10.50.
        assert_eq!(out, vec![tax("VAT", 3_501), tax("Lyon tax", 1_050)]);
        let out = run::<OccupancyTax>(config(), &stay("FR", "Zürich"), &items()).expect("priced");
        assert_eq!(out, vec![tax("VAT", 3_501)]);
        let rules = json!({ "rules": [
            { "name": "Zürich tax", "country": "CH", "city": "ZÜRICH", "kind": "per_guest_per_night", "amount_minor": 250 }
        ] });
        let out = run::<OccupancyTax>(rules, &stay("CH", "Zürich"), &[]).expect("priced");
        assert_eq!(out, vec![tax("Zürich tax", 1_500)]);
    }

    #[test]
    fn other_places_pay_nothing() {
        let out = run::<OccupancyTax>(config(), &stay("DE", "Paris"), &items()).expect("priced");
        assert!(out.is_empty());
    }

    #[test]
    fn zero_amounts_add_no_item() {
        let rules = json!({ "rules": [
            { "name": "Free", "country": "FR", "kind": "per_guest_per_night", "amount_minor": 0 },
            { "name": "Nothing to tax", "country": "FR", "kind": "percent", "rate_bp": 550 }
        ] });
        let out = run::<OccupancyTax>(rules, &stay("FR", "Paris"), &[]).expect("priced");
        assert!(out.is_empty());
    }

    #[test]
    fn a_rule_parses_into_its_place_and_tax() {
        let config: Config = serde_json::from_value(json!({ "rules": [
            { "name": "Taxe", "country": "FR", "city": "Paris", "kind": "percent", "rate_bp": 550 },
            { "name": "Tourist tax", "country": "PT", "kind": "per_guest_per_night", "amount_minor": 200 }
        ] }))
        .expect("parsed");
        assert_eq!(
            config.rules,
            vec![
                Rule {
                    name: "Taxe".into(),
                    country: "FR".into(),
                    city: Some("Paris".into()),
                    tax: Tax::Percent { rate_bp: 550 },
                },
                Rule {
                    name: "Tourist tax".into(),
                    country: "PT".into(),
                    city: None,
                    tax: Tax::PerGuestPerNight { amount_minor: 200 },
                },
            ]
        );
    }

    #[test]
    fn a_bad_config_is_a_config_error() {
        let rule = |extra: serde_json::Value| {
            let mut rule = json!({ "name": "T", "country": "FR" });
            if let (Some(rule), Some(extra)) = (rule.as_object_mut(), extra.as_object()) {
                rule.extend(extra.clone());
            }
            json!({ "rules": [rule] })
        };
        for config in [
            json!({}),
            rule(json!({ "kind": "flat", "amount_minor": 100 })),
            rule(json!({ "rate_bp": 550 })),
            rule(json!({ "kind": "percent" })),
            rule(json!({ "kind": "percent", "rate_bp": 550, "amount_minor": 100 })),
            rule(json!({ "kind": "per_guest_per_night", "amount_minor": 100, "region": "IDF" })),
        ] {
            let err = run::<OccupancyTax>(config.clone(), &stay("FR", "Paris"), &[])
                .expect_err("refused");
            assert!(matches!(err, PluginError::Config(_)), "{config}: {err:?}");
        }
    }

    #[test]
    fn the_exported_schema_is_a_closed_union_on_kind() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema["required"], json!(["rules"]));
        let variants = schema["$defs"]["Rule"]["oneOf"]
            .as_array()
            .expect("a oneOf");
        let kinds: Vec<_> = variants
            .iter()
            .map(|v| v["properties"]["kind"]["const"].clone())
            .collect();
        assert_eq!(kinds, vec![json!("percent"), json!("per_guest_per_night")]);
        for variant in variants {
            assert_eq!(variant["additionalProperties"], json!(false), "{variant}");
            assert_eq!(
                variant["properties"]["country"]["pattern"],
                json!("^[A-Za-z]{2}$")
            );
        }
        assert_eq!(
            variants[0]["required"],
            json!(["kind", "name", "country", "rate_bp"])
        );
        assert_eq!(
            variants[1]["required"],
            json!(["kind", "name", "country", "amount_minor"])
        );
    }
}
