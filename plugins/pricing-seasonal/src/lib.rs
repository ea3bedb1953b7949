//! Weekend and seasonal adjustments of the nightly rates. A night whose date falls on a weekend
//! day, or inside a season, gets an extra line item for that night worth a share of its nightly
//! rate (in basis points; negative for a discount). Both adjustments are computed on the nightly
//! rate itself, so they add up rather than compound.

use std::fmt;

use hearth_sdk::pricing::{Date, LineItem, Money, PluginError, PricingPlugin, Stay};
use hearth_sdk::types::Weekday;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON Schema pattern of a month-day, `MM-DD` (the parser also refuses 02-30 and friends).
pub const MONTH_DAY_PATTERN: &str = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// The month-days [`MONTH_DAY_PATTERN`] lets through that no month has: the schema refuses them
/// too, so that the kernel's check at load catches them rather than the first quote.
pub const IMPOSSIBLE_MONTH_DAYS: [&str; 6] = ["02-30", "02-31", "04-31", "06-31", "09-31", "11-31"];

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The days whose nights are weekend nights: a night is a weekend night when its date (the
    /// evening it starts) is one of these days.
    #[serde(default = "default_weekend_days")]
    pub weekend_days: Vec<Day>,
    /// The adjustment of weekend nights, in basis points of the nightly rate: 2000 is +20%,
    /// -1000 is -10%, 0 (the default) for none.
    #[serde(default)]
    #[schemars(range(min = -10000, max = 10000))]
    pub weekend_adjust_bp: i64,
    /// Seasons, by month and day in any year. A night inside several seasons gets the
    /// adjustment of the first one listed (seasons whose adjustment is 0 are skipped).
    #[serde(default)]
    pub seasons: Vec<Season>,
}

fn default_weekend_days() -> Vec<Day> {
    vec![Day::Friday, Day::Saturday]
}

/// A day of the week, in lowercase: "monday" .. "sunday".
// Serialize only so that the schema shows the default days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
// The variants carry no doc comments: those would turn the schema's `enum` into a `oneOf`.
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Day {
    /// The SDK's weekday.
    pub fn weekday(self) -> Weekday {
        match self {
            Day::Monday => Weekday::Monday,
            Day::Tuesday => Weekday::Tuesday,
            Day::Wednesday => Weekday::Wednesday,
            Day::Thursday => Weekday::Thursday,
            Day::Friday => Weekday::Friday,
            Day::Saturday => Weekday::Saturday,
            Day::Sunday => Weekday::Sunday,
        }
    }
}

/// A season: the nights whose dates fall from `from` to `to` inclusive, in any year. When `from`
/// comes after `to` the season wraps over the year end (12-20 to 01-05).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "SeasonConfig")]
#[schemars(with = "SeasonConfig")]
pub struct Season {
    /// Shown to the guest, followed by the night's date.
    pub name: String,
    /// The first day of the season.
    pub from: MonthDay,
    /// The last day of the season (included).
    pub to: MonthDay,
    /// The adjustment, in basis points of the nightly rate.
    pub adjust_bp: i64,
}

impl Season {
    /// Whether the season covers `day`.
    pub fn contains(&self, day: MonthDay) -> bool {
        if self.from <= self.to {
            self.from <= day && day <= self.to
        } else {
            day >= self.from || day <= self.to
        }
    }
}

/// A season as written in the configuration (checked into a [`Season`] when parsed).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Season")]
struct SeasonConfig {
    /// Shown to the guest, followed by the night's date, e.g. "Summer" gives
    /// "Summer (2026-07-03)".
    name: String,
    /// The first day of the season, `MM-DD`.
    #[schemars(pattern(MONTH_DAY_PATTERN), extend("not" = { "enum": IMPOSSIBLE_MONTH_DAYS }))]
    from: String,
    /// The last day of the season (included), `MM-DD`. Before `from`, the season wraps over
    /// the year end.
    #[schemars(pattern(MONTH_DAY_PATTERN), extend("not" = { "enum": IMPOSSIBLE_MONTH_DAYS }))]
    to: String,
    /// The adjustment of the season's nights, in basis points of the nightly rate: 1500 is
    /// +15%, -1000 is -10%.
    #[schemars(range(min = -10000))]
    adjust_bp: i64,
}

impl TryFrom<SeasonConfig> for Season {
    type Error = String;

    fn try_from(season: SeasonConfig) -> Result<Self, String> {
        let parse = |field: &str, value: &str| {
            MonthDay::parse(value).ok_or_else(|| {
                format!(
                    "season {:?}: `{field}` must be a month-day MM-DD, got {value:?}",
                    season.name
                )
            })
        };
        let from = parse("from", &season.from)?;
        let to = parse("to", &season.to)?;
        Ok(Season {
            name: season.name,
            from,
            to,
            adjust_bp: season.adjust_bp,
        })
    }
}

/// A day of the year by month and day, ordered through the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's length (29 for February).
    pub day: u8,
}

impl MonthDay {
    /// Parses `MM-DD` strictly: two digits each, a real month and a day that month has in some
    /// year (02-29 is accepted, 02-30 and 04-31 are not).
    pub fn parse(s: &str) -> Option<Self> {
        let (month, day) = s.split_once('-')?;
        let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(month) || !two_digits(day) {
            return None;
        }
        let (month, day): (u8, u8) = (month.parse().ok()?, day.parse().ok()?);
        let last = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 => 29,
            _ => return None,
        };
        (1..=last).contains(&day).then_some(Self { month, day })
    }

    /// The month and day of a date.
    pub fn of(date: &Date) -> Self {
        Self {
            month: date.month,
            day: date.day,
        }
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

/// The plugin.
pub struct Seasonal;

impl PricingPlugin for Seasonal {
    type Config = Config;

    fn price(
        config: &Config,
        stay: &Stay,
        items: &[LineItem],
    ) -> Result<Vec<LineItem>, PluginError> {
        let mut out = Vec::new();
        let mut add = |code: &str, description: String, amount: Money, night: Date| {
            if amount.minor != 0 {
                out.push(LineItem::new(code, description, amount).for_night(night));
            }
        };
        for item in items {
            let Some(night) = item.night else { continue };
            if item.code != "nightly" || item.amount.currency != stay.currency {
                continue;
            }
            let weekday = night.weekday();
            if config.weekend_adjust_bp != 0
                && config.weekend_days.iter().any(|d| d.weekday() == weekday)
            {
                add(
                    "weekend-adjustment",
                    format!("Weekend rate ({night})"),
                    item.amount.percent_bp(config.weekend_adjust_bp),
                    night,
                );
            }
            let day = MonthDay::of(&night);
            if let Some(season) = config
                .seasons
                .iter()
                .find(|s| s.adjust_bp != 0 && s.contains(day))
            {
                add(
                    "seasonal-adjustment",
                    format!("{} ({night})", season.name),
                    item.amount.percent_bp(season.adjust_bp),
                    night,
                );
            }
        }
        Ok(out)
    }
}

hearth_sdk::export_pricing!(Seasonal);

#[cfg(test)]
mod tests {
    use hearth_sdk::pricing::run;
    use serde_json::json;

    use super::*;

    fn stay(check_in: Date, nights: u32) -> Stay {
        Stay::new(check_in, check_in.add_days(i64::from(nights)), "EUR")
            .with_guests(2)
            .in_city("FR", "Paris")
    }

    fn night(date: Date, minor: i64) -> LineItem {
        LineItem::new("nightly", "Night", Money::new(minor, "EUR")).for_night(date)
    }

    fn item(code: &str, description: &str, minor: i64, date: Date) -> LineItem {
        LineItem::new(code, description, Money::new(minor, "EUR")).for_night(date)
    }

    #[test]
    fn the_test_dates_fall_on_the_expected_weekdays() {
        assert_eq!(Date::new(2026, 7, 2).weekday(), Weekday::Thursday);
        assert_eq!(Date::new(2026, 7, 3).weekday(), Weekday::Friday);
        assert_eq!(Date::new(2026, 7, 4).weekday(), Weekday::Saturday);
        assert_eq!(Date::new(2026, 7, 5).weekday(), Weekday::Sunday);
    }

    #[test]
    fn friday_and_saturday_nights_are_adjusted_by_default_to_the_cent() {
        let (thu, fri, sat, sun) = (
            Date::new(2026, 7, 2),
            Date::new(2026, 7, 3),
            Date::new(2026, 7, 4),
            Date::new(2026, 7, 5),
        );
        let items = vec![
            night(thu, 10_000),
            night(fri, 10_003),
            night(sat, 12_345),
            night(sun, 10_000),
        ];
        let out = run::<Seasonal>(json!({ "weekend_adjust_bp": 2000 }), &stay(thu, 4), &items)
            .expect("priced");
        // 20% of 100.03 = 20.006 -> 20.01; 20% of 123.45 = 24.69.
        assert_eq!(
            out,
            vec![
                item(
                    "weekend-adjustment",
                    "Weekend rate (2026-07-03)",
                    2_001,
                    fri
                ),
                item(
                    "weekend-adjustment",
                    "Weekend rate (2026-07-04)",
                    2_469,
                    sat
                ),
            ]
        );
    }

    #[test]
    fn a_negative_weekend_adjustment_rounds_half_away_from_zero() {
        let sun = Date::new(2026, 7, 5);
        let items = vec![night(sun, 10_010), night(sun.add_days(1), 10_010)];
        let config = json!({ "weekend_days": ["sunday"], "weekend_adjust_bp": -1500 });
        let out = run::<Seasonal>(config, &stay(sun, 2), &items).expect("priced");
        // -15% of 100.10 = -15.015 -> -15.02; Monday is not a weekend day here.
        assert_eq!(
            out,
            vec![item(
                "weekend-adjustment",
                "Weekend rate (2026-07-05)",
                -1_502,
                sun
            )]
        );
    }

    #[test]
    fn no_weekend_adjustment_by_default() {
        let fri = Date::new(2026, 7, 3);
        let out = run::<Seasonal>(json!({}), &stay(fri, 1), &[night(fri, 10_000)]).expect("priced");
        assert!(out.is_empty());
    }

    #[test]
    fn seasons_cover_their_first_and_last_days() {
        let config = json!({
            "seasons": [{ "name": "Summer", "from": "07-01", "to": "08-31", "adjust_bp": 1250 }]
        });
        let dates = [
            Date::new(2026, 6, 30),
            Date::new(2026, 7, 1),
            Date::new(2026, 8, 31),
            Date::new(2026, 9, 1),
        ];
        let items: Vec<_> = dates.iter().map(|d| night(*d, 10_004)).collect();
        let out = run::<Seasonal>(config, &stay(dates[0], 63), &items).expect("priced");
        // 12.5% of 100.04 = 12.505 -> 12.51.
        assert_eq!(
            out,
            vec![
                item(
                    "seasonal-adjustment",
                    "Summer (2026-07-01)",
                    1_251,
                    dates[1]
                ),
                item(
                    "seasonal-adjustment",
                    "Summer (2026-08-31)",
                    1_251,
                    dates[2]
                ),
            ]
        );
    }

    #[test]
    fn a_season_can_wrap_over_the_year_end() {
        let config = json!({
            "seasons": [{ "name": "Holidays", "from": "12-20", "to": "01-05", "adjust_bp": 3000 }]
        });
        let dates = [
            Date::new(2026, 12, 19),
            Date::new(2026, 12, 20),
            Date::new(2026, 12, 31),
            Date::new(2027, 1, 1),
            Date::new(2027, 1, 5),
            Date::new(2027, 1, 6),
        ];
        let items: Vec<_> = dates.iter().map(|d| night(*d, 9_999)).collect();
        let out = run::<Seasonal>(config, &stay(dates[0], 18), &items).expect("priced");
        // 30% of 99.99 = 29.997 -> 30.00.
        let expected: Vec<_> = dates[1..5]
            .iter()
            .map(|d| item("seasonal-adjustment", &format!("Holidays ({d})"), 3_000, *d))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn the_first_season_with_an_adjustment_wins() {
        let config = json!({
            "seasons": [
                { "name": "Closed off", "from": "07-01", "to": "07-31", "adjust_bp": 0 },
                { "name": "Festival", "from": "07-03", "to": "07-03", "adjust_bp": 5000 },
                { "name": "Summer", "from": "06-15", "to": "09-15", "adjust_bp": 1000 }
            ]
        });
        let (thu, fri) = (Date::new(2026, 7, 2), Date::new(2026, 7, 3));
        let items = vec![night(thu, 20_000), night(fri, 20_000)];
        let out = run::<Seasonal>(config, &stay(thu, 2), &items).expect("priced");
        assert_eq!(
            out,
            vec![
                item("seasonal-adjustment", "Summer (2026-07-02)", 2_000, thu),
                item("seasonal-adjustment", "Festival (2026-07-03)", 10_000, fri),
            ]
        );
    }

    #[test]
    fn weekend_and_season_both_apply_to_the_nightly_rate_without_compounding() {
        let config = json!({
            "weekend_adjust_bp": 2000,
            "seasons": [{ "name": "Summer", "from": "07-01", "to": "08-31", "adjust_bp": -1000 }]
        });
        let fri = Date::new(2026, 7, 3);
        let out = run::<Seasonal>(config, &stay(fri, 1), &[night(fri, 15_005)]).expect("priced");
        // +20% of 150.05 = 30.01; -10% of 150.05 = -15.005 -> -15.01 (not 10% of 180.06).
        assert_eq!(
            out,
            vec![
                item(
                    "weekend-adjustment",
                    "Weekend rate (2026-07-03)",
                    3_001,
                    fri
                ),
                item("seasonal-adjustment", "Summer (2026-07-03)", -1_501, fri),
            ]
        );
    }

    #[test]
    fn only_nightly_items_for_a_night_in_the_stays_currency_are_adjusted() {
        let config = json!({
            "weekend_adjust_bp": 2000,
            "seasons": [{ "name": "Summer", "from": "07-01", "to": "08-31", "adjust_bp": 1000 }]
        });
        let fri = Date::new(2026, 7, 3);
        let items = vec![
            LineItem::new("nightly", "Night", Money::new(10_000, "USD")).for_night(fri),
            LineItem::new("nightly", "Night", Money::new(10_000, "EUR")),
            item("cleaning-fee", "Cleaning fee", 5_000, fri),
            night(fri, 2), // 20% and 10% of 0.02 round to 0.00: no items.
        ];
        let out = run::<Seasonal>(config, &stay(fri, 1), &items).expect("priced");
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_bad_month_day_is_a_config_error_naming_the_season() {
        for bad in [
            "13-01", "02-30", "04-31", "7-01", "07-1", "0701", "00-10", "07-00",
        ] {
            let config = json!({
                "seasons": [{ "name": "Summer", "from": bad, "to": "08-31", "adjust_bp": 1000 }]
            });
            let err =
                run::<Seasonal>(config, &stay(Date::new(2026, 7, 1), 1), &[]).expect_err("refused");
            assert!(
                matches!(&err, PluginError::Config(m) if m.contains("\"Summer\"") && m.contains(bad)),
                "{bad}: {err:?}"
            );
        }
        assert_eq!(
            MonthDay::parse("02-29"),
            Some(MonthDay { month: 2, day: 29 })
        );
    }

    #[test]
    fn unknown_days_and_fields_are_config_errors() {
        let stay = stay(Date::new(2026, 7, 1), 1);
        for config in [
            json!({ "weekend_days": ["funday"] }),
            json!({ "weekend_days": ["Friday"] }),
            json!({ "weekend_adjust": 2000 }),
            json!({ "seasons": [{ "name": "S", "from": "07-01", "to": "07-02" }] }),
            json!({ "seasons": [{ "name": "S", "from": "07-01", "to": "07-02", "adjust_bp": 1, "x": 1 }] }),
        ] {
            let err = run::<Seasonal>(config.clone(), &stay, &[]).expect_err("refused");
            assert!(matches!(err, PluginError::Config(_)), "{config}: {err:?}");
        }
    }

    #[test]
    fn the_exported_schema_constrains_days_adjustments_and_month_days() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        let props = &schema["properties"];
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema.get("required"), None);
        assert_eq!(
            props["weekend_days"]["default"],
            json!(["friday", "saturday"])
        );
        assert_eq!(props["weekend_adjust_bp"]["minimum"], json!(-10000));
        assert_eq!(props["weekend_adjust_bp"]["maximum"], json!(10000));
        assert_eq!(
            schema["$defs"]["Day"]["enum"],
            json!([
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday"
            ])
        );
        let season = &schema["$defs"]["Season"];
        assert_eq!(season["additionalProperties"], json!(false));
        assert_eq!(
            season["properties"]["from"]["pattern"],
            json!(MONTH_DAY_PATTERN)
        );
        assert_eq!(
            season["properties"]["to"]["pattern"],
            json!(MONTH_DAY_PATTERN)
        );
        for field in ["from", "to"] {
            assert_eq!(
                season["properties"][field]["not"],
                json!({ "enum": IMPOSSIBLE_MONTH_DAYS }),
                "{field}"
            );
        }
        for day in IMPOSSIBLE_MONTH_DAYS {
            assert_eq!(MonthDay::parse(day), None, "{day}");
        }
        assert_eq!(
            season["required"],
            json!(["name", "from", "to", "adjust_bp"])
        );
    }
}
