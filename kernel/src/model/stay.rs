//! Stays: a half-open range of nights `[check_in, check_out)` and a guest count.

use chrono::NaiveDate;

use super::{Invalid, Problems};

/// The longest stay anyone can ask about, in nights.
pub const MAX_NIGHTS: i64 = 365;

/// A stay's dates: check-out strictly after check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StayRange {
    check_in: NaiveDate,
    check_out: NaiveDate,
}

impl StayRange {
    /// Parses a range; a stay that ends on or before the day it starts is refused.
    pub fn new(check_in: NaiveDate, check_out: NaiveDate) -> Result<Self, &'static str> {
        if check_out <= check_in {
            Err("must be after check_in")
        } else if (check_out - check_in).num_days() > MAX_NIGHTS {
            Err("the stay is longer than 365 nights")
        } else {
            Ok(Self {
                check_in,
                check_out,
            })
        }
    }

    /// Parses `check_in`/`check_out` query values, naming each bad field.
    pub fn parse(check_in: Option<&str>, check_out: Option<&str>) -> Result<Self, Vec<Invalid>> {
        let mut problems = Problems::default();
        let date = |problems: &mut Problems, field: &str, v: Option<&str>| match v {
            None => {
                problems.add(field, "is required (YYYY-MM-DD)");
                None
            }
            Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.add(field, "must be a date like 2026-07-14");
                    None
                }
            },
        };
        let ci = date(&mut problems, "check_in", check_in);
        let co = date(&mut problems, "check_out", check_out);
        if let (Some(ci), Some(co)) = (ci, co) {
            match Self::new(ci, co) {
                Ok(range) => return Ok(range),
                Err(message) => problems.add("check_out", message),
            }
        }
        // Some date was missing, malformed or out of order: `problems` says which.
        Err(problems.into_vec())
    }

    /// First night.
    pub fn check_in(&self) -> NaiveDate {
        self.check_in
    }

    /// Departure day.
    pub fn check_out(&self) -> NaiveDate {
        self.check_out
    }

    /// Number of nights (1 to [`MAX_NIGHTS`]).
    pub fn nights(&self) -> u32 {
        u32::try_from((self.check_out - self.check_in).num_days())
            .expect("`new` admits only 1 to MAX_NIGHTS nights")
    }

    /// Every night, check-in first.
    pub fn iter_nights(&self) -> impl Iterator<Item = NaiveDate> {
        self.check_in.iter_days().take_while({
            let end = self.check_out;
            move |d| *d < end
        })
    }
}

/// The dates the API accepts, relative to today (UTC): a stay starts no earlier than today
/// anywhere on Earth and ends at most `ahead_days` from now; a calendar is read at most `back_days` into the past and written
/// at most `ahead_days` into the future. Keeps every request's dates, and so its work, bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateWindow {
    /// How far back a calendar may be read.
    pub back_days: u32,
    /// How far ahead anything may be booked, quoted, searched or changed.
    pub ahead_days: u32,
}

impl DateWindow {
    fn last(&self, today: NaiveDate) -> NaiveDate {
        today + chrono::Duration::days(i64::from(self.ahead_days))
    }

    /// A stay a guest may ask for anywhere: it does not start before the earliest date that is
    /// still today somewhere (yesterday in UTC, today at UTC-12) and ends inside the window.
    /// Whether it starts in the past where the listing is, is the listing's rule
    /// ([`super::StayRules::check`]).
    pub fn check_stay(&self, stay: &StayRange, today: NaiveDate) -> Result<(), Vec<Invalid>> {
        let mut p = Problems::default();
        p.check(
            stay.check_in >= today - chrono::Duration::days(1),
            "check_in",
            "must not be in the past",
        );
        if stay.check_out > self.last(today) {
            p.add(
                "check_out",
                format!("must be at most {} days from today", self.ahead_days),
            );
        }
        p.finish()
    }

    /// A range of nights `[from, to)` to read (`write` false) or change (`write` true); problems
    /// are recorded under `from_field`/`to_field`.
    pub fn check_nights(
        &self,
        p: &mut Problems,
        (from, to): (NaiveDate, NaiveDate),
        today: NaiveDate,
        write: bool,
        (from_field, to_field): (&str, &str),
    ) {
        let first = if write {
            today
        } else {
            today - chrono::Duration::days(i64::from(self.back_days))
        };
        if from < first {
            let message = if write {
                "must not be in the past".to_owned()
            } else {
                format!("must be at most {} days ago", self.back_days)
            };
            p.add(from_field, message);
        }
        if to > self.last(today) {
            p.add(
                to_field,
                format!("must be at most {} days from today", self.ahead_days),
            );
        }
    }
}

/// The most guests a listing can host, and so a stay can have.
pub const MAX_GUESTS: u32 = 50;

/// How many people stay: 1 to [`MAX_GUESTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct GuestCount(u32);

impl GuestCount {
    /// One guest: the default when a request names none.
    pub const ONE: GuestCount = GuestCount(1);

    /// Parses a count; zero and more than [`MAX_GUESTS`] are refused.
    pub fn new(n: u32) -> Result<Self, &'static str> {
        match n {
            0 => Err("must be at least 1"),
            n if n > MAX_GUESTS => Err("must be at most 50"),
            n => Ok(Self(n)),
        }
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl From<GuestCount> for i32 {
    /// Infallible: a count is at most [`MAX_GUESTS`].
    fn from(g: GuestCount) -> i32 {
        g.0 as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: DateWindow = DateWindow {
        back_days: 366,
        ahead_days: 1096,
    };

    #[test]
    fn a_stay_in_the_past_or_beyond_the_window_is_refused_by_field() {
        let today = d("2026-12-01");
        let stay = |a, b| StayRange::new(d(a), d(b)).expect("range");
        assert!(WINDOW
            .check_stay(&stay("2026-12-01", "2026-12-03"), today)
            .is_ok());
        // Still today at UTC-12; the listing's zone decides.
        assert!(WINDOW
            .check_stay(&stay("2026-11-30", "2026-12-03"), today)
            .is_ok());
        let past = WINDOW
            .check_stay(&stay("2026-11-15", "2026-11-18"), today)
            .expect_err("past");
        assert_eq!(past[0].field, "check_in");
        let far = WINDOW
            .check_stay(&stay("2029-11-30", "2029-12-03"), today)
            .expect_err("too far");
        assert_eq!(far[0].field, "check_out");
    }

    #[test]
    fn calendar_reads_reach_back_and_writes_do_not() {
        let today = d("2026-12-01");
        let fields = ("from", "to");
        let mut p = Problems::default();
        WINDOW.check_nights(
            &mut p,
            (d("2026-01-01"), d("2026-02-01")),
            today,
            false,
            fields,
        );
        assert!(p.finish().is_ok());
        let mut p = Problems::default();
        WINDOW.check_nights(
            &mut p,
            (d("2026-01-01"), d("2026-02-01")),
            today,
            true,
            fields,
        );
        assert_eq!(p.finish().expect_err("past write")[0].field, "from");
        let mut p = Problems::default();
        WINDOW.check_nights(
            &mut p,
            (d("1990-01-01"), d("2090-01-01")),
            today,
            false,
            fields,
        );
        assert_eq!(p.finish().expect_err("decades").len(), 2);
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_stay_that_ends_on_the_day_it_starts_is_rejected() {
        assert!(StayRange::new(d("2026-07-01"), d("2026-07-01")).is_err());
        assert!(StayRange::new(d("2026-07-02"), d("2026-07-01")).is_err());
    }

    #[test]
    fn nights_are_half_open() {
        let stay = StayRange::new(d("2026-07-01"), d("2026-07-04")).expect("valid");
        assert_eq!(stay.nights(), 3);
        let nights: Vec<_> = stay.iter_nights().collect();
        assert_eq!(
            nights,
            vec![d("2026-07-01"), d("2026-07-02"), d("2026-07-03")]
        );
    }

    #[test]
    fn a_stay_of_no_guests_or_too_many_is_rejected() {
        assert!(GuestCount::new(0).is_err());
        assert!(GuestCount::new(MAX_GUESTS + 1).is_err());
        assert_eq!(GuestCount::new(3).map(GuestCount::get), Ok(3));
    }

    #[test]
    fn a_stay_longer_than_a_year_is_rejected() {
        assert!(StayRange::new(d("2026-01-01"), d("2027-01-02")).is_err());
    }

    #[test]
    fn parsing_names_every_bad_field() {
        let errors = StayRange::parse(Some("2026-13-01"), None).expect_err("invalid");
        let fields: Vec<_> = errors.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["check_in", "check_out"]);
        let errors = StayRange::parse(Some("2026-07-02"), Some("2026-07-01")).expect_err("invalid");
        assert_eq!(
            errors,
            vec![Invalid::new("check_out", "must be after check_in")]
        );
    }
}
