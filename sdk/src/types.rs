//! The contract's shared value types, with helpers for plugin authors.

use std::cmp::Ordering;
use std::fmt;

pub use crate::bindings::common::hearth::plugins::types::{
    Date, Header, LineItem, Money, PluginError, Stay,
};

impl Money {
    /// An amount in minor units of `currency`.
    pub fn new(minor: i64, currency: impl Into<String>) -> Self {
        Self {
            minor,
            currency: currency.into(),
        }
    }

    /// `self` scaled by `basis_points / 10_000`, rounded half away from zero. Percentages are
    /// basis points to stay in integers: 12.5% is 1250.
    pub fn percent_bp(&self, basis_points: i64) -> Money {
        let scaled = i128::from(self.minor) * i128::from(basis_points);
        let rounded = if scaled >= 0 {
            (scaled + 5_000) / 10_000
        } else {
            (scaled - 5_000) / 10_000
        };
        Money::new(
            i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN }),
            self.currency.clone(),
        )
    }
}

/// The days of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Date {
    /// A date from its parts (not checked: the kernel only sends valid dates).
    pub fn new(year: i32, month: u8, day: u8) -> Self {
        Self { year, month, day }
    }

    /// Days since 1970-01-01 (negative before), by Howard Hinnant's `days_from_civil`.
    pub fn to_days(&self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (`civil_from_days`).
    pub fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(&self, n: i64) -> Self {
        Self::from_days(self.to_days() + n)
    }

    /// The day of the week.
    pub fn weekday(&self) -> Weekday {
        // 1970-01-01 was a Thursday.
        match (self.to_days() + 3).rem_euclid(7) {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        let date = Self { year, month, day };
        // Round-tripping rejects 2026-02-30 and friends.
        (Self::from_days(date.to_days()) == date).then_some(date)
    }
}

impl PartialOrd for Date {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.to_days().cmp(&other.to_days()))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Stay {
    /// A stay of the nights [`check_in`, `check_out`) priced in `currency`, for one guest, with
    /// no listing id or place yet (add them with [`Stay::for_listing`], [`Stay::with_guests`]
    /// and [`Stay::in_city`]). The kernel builds the stays plugins receive; this is for tests.
    ///
    /// ```
    /// use hearth_sdk::types::{Date, Stay};
    ///
    /// let stay = Stay::new(Date::new(2026, 7, 1), Date::new(2026, 7, 4), "EUR")
    ///     .with_guests(2)
    ///     .in_city("FR", "Paris");
    /// assert_eq!(stay.nights, 3);
    /// assert_eq!(stay.nights_iter().last(), Some(Date::new(2026, 7, 3)));
    /// ```
    pub fn new(check_in: Date, check_out: Date, currency: impl Into<String>) -> Self {
        Self {
            listing_id: String::new(),
            check_in,
            check_out,
            nights: u32::try_from(check_out.to_days() - check_in.to_days()).unwrap_or(0),
            guests: 1,
            country: String::new(),
            city: String::new(),
            currency: currency.into(),
        }
    }

    /// The same stay, at the listing with this id.
    pub fn for_listing(mut self, listing_id: impl Into<String>) -> Self {
        self.listing_id = listing_id.into();
        self
    }

    /// The same stay, for `guests` guests.
    pub fn with_guests(mut self, guests: u32) -> Self {
        self.guests = guests;
        self
    }

    /// The same stay, at a listing in `city` of `country` (ISO 3166-1 alpha-2, e.g. "FR").
    pub fn in_city(mut self, country: impl Into<String>, city: impl Into<String>) -> Self {
        self.country = country.into();
        self.city = city.into();
        self
    }

    /// Every night of the stay, check-in first (check-out is not a night).
    pub fn nights_iter(&self) -> impl Iterator<Item = Date> + '_ {
        let first = self.check_in.to_days();
        (first..self.check_out.to_days()).map(Date::from_days)
    }
}

impl LineItem {
    /// A line item; the kernel fills in `source`.
    pub fn new(code: impl Into<String>, description: impl Into<String>, amount: Money) -> Self {
        Self {
            code: code.into(),
            description: description.into(),
            amount,
            night: None,
            source: String::new(),
        }
    }

    /// The same item, for one night.
    pub fn for_night(mut self, night: Date) -> Self {
        self.night = Some(night);
        self
    }
}

impl Header {
    /// A header.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// The value of the first header called `name` (compared case-insensitively), if any.
pub fn find_header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Sums amounts of the given items in `currency`, ignoring other currencies.
pub fn total(items: &[LineItem], currency: &str) -> i64 {
    items
        .iter()
        .filter(|i| i.amount.currency == currency)
        .map(|i| i.amount.minor)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_days_and_know_their_weekday() {
        let d = Date::new(2026, 11, 23);
        assert_eq!(Date::from_days(d.to_days()), d);
        assert_eq!(d.weekday(), Weekday::Monday);
        assert_eq!(Date::new(2024, 2, 28).add_days(1), Date::new(2024, 2, 29));
        assert_eq!(Date::new(2024, 12, 31).add_days(1), Date::new(2025, 1, 1));
        assert_eq!(Date::parse("2026-02-30"), None);
        assert_eq!(Date::parse("2026-07-14"), Some(Date::new(2026, 7, 14)));
        assert!(Date::new(2026, 1, 1) < Date::new(2026, 1, 2));
    }

    #[test]
    fn percentages_round_half_away_from_zero() {
        let m = Money::new(1_005, "EUR");
        assert_eq!(m.percent_bp(1_000).minor, 101); // 100.5 -> 101
        assert_eq!(Money::new(-1_005, "EUR").percent_bp(1_000).minor, -101);
        assert_eq!(Money::new(10_000, "EUR").percent_bp(1_250).minor, 1_250);
    }
}
