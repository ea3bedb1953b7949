//! Time at a listing: its IANA time zone, the local check-in and check-out times of day, the one
//! conversion from a local date and time to a UTC instant, and the rules in time a stay must
//! obey there (not in the past, not inside the advance notice, not beyond the availability
//! window). Stays are dates in the listing's zone; instants are UTC.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Invalid, Problems, StayRange};

/// The most advance notice a listing may ask for, in hours (a week).
pub const MAX_ADVANCE_NOTICE_HOURS: u32 = 168;
/// The longest availability window a listing may set, in days (about three years).
pub const MAX_AVAILABILITY_WINDOW_DAYS: u32 = 1096;
/// The most nights a listing may keep free before and after each booking.
pub const MAX_PREPARATION_NIGHTS: u32 = 7;

/// An IANA time zone the kernel knows (the tz database `chrono-tz` compiles in), by its
/// case-sensitive name (`Europe/Paris`, `UTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timezone(Tz);

impl Timezone {
    /// UTC: the default of a listing that names no zone.
    pub const UTC: Timezone = Timezone(Tz::UTC);

    /// Parses a zone name exactly as the tz database spells it.
    pub fn parse(name: &str) -> Result<Self, &'static str> {
        name.parse::<Tz>()
            .map(Self)
            .map_err(|_| "must be an IANA time zone name such as Europe/Paris")
    }

    /// The zone's name.
    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    /// Every zone name the kernel accepts, in the tz database's order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// The local date at `now`.
    pub fn today(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }

    /// The UTC instant at which the local clock first reads `time` on `date`. Deterministic
    /// across daylight-saving changes: in a fold (the local time happens twice) the earlier
    /// instant; in a gap (it never happens) the first valid local minute after it, which is the
    /// instant the clocks jump (02:30 on a spring-forward night in Paris is 03:00 CEST).
    pub fn instant(self, date: NaiveDate, time: TimeOfDay) -> DateTime<Utc> {
        let local = date.and_time(time.as_naive());
        // Gaps last an hour, rarely more; no zone has one of a day.
        for minutes in 0..=24 * 60 {
            let at = local + Duration::minutes(minutes);
            if let Some(t) = self.0.from_local_datetime(&at).earliest() {
                return t.to_utc();
            }
        }
        local.and_utc()
    }
}

impl std::fmt::Display for Timezone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Timezone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Timezone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

text_column!(Timezone, |text| Timezone::parse(text)
    .map_err(|_| format!("`{text}` is not a time zone").into()));

/// A local time of day to the minute, `HH:MM` from `00:00` to `23:59`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    /// Minutes after midnight, below 1440.
    minutes: u16,
}

impl TimeOfDay {
    /// 15:00: when check-in opens at a listing that sets no time (and at every listing made
    /// before listings had times).
    pub const DEFAULT_CHECK_IN: TimeOfDay = TimeOfDay { minutes: 15 * 60 };
    /// 11:00: when check-out closes at a listing that sets no time.
    pub const DEFAULT_CHECK_OUT: TimeOfDay = TimeOfDay { minutes: 11 * 60 };

    /// The pattern of the wire and stored form.
    pub const PATTERN: &'static str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

    /// `hour` 0-23, `minute` 0-59.
    pub fn new(hour: u32, minute: u32) -> Result<Self, &'static str> {
        if hour < 24 && minute < 60 {
            Ok(Self {
                minutes: (hour * 60 + minute) as u16,
            })
        } else {
            Err("must be a time of day from 00:00 to 23:59")
        }
    }

    /// Parses exactly `HH:MM` (two digits each, 24-hour clock).
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        const BAD: &str = "must be a local time of day HH:MM, from 00:00 to 23:59";
        let b = s.as_bytes();
        let digits = |i: usize| b[i].is_ascii_digit() && b[i + 1].is_ascii_digit();
        if b.len() != 5 || b[2] != b':' || !digits(0) || !digits(3) {
            return Err(BAD);
        }
        let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
        Self::new(two(0), two(3)).map_err(|_| BAD)
    }

    /// The hour, 0-23.
    pub fn hour(self) -> u32 {
        u32::from(self.minutes / 60)
    }

    /// The minute, 0-59.
    pub fn minute(self) -> u32 {
        u32::from(self.minutes % 60)
    }

    fn as_naive(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour(), self.minute(), 0)
            .expect("`new` admits only valid times")
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl serde::Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

text_column!(TimeOfDay, owned, |text| TimeOfDay::parse(text)
    .map_err(|_| format!("`{text}` is not a time of day").into()));

/// A listing's rules in time for the stays it takes, in its own zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StayRules {
    /// Where the listing's dates and times are.
    pub timezone: Timezone,
    /// When check-in opens on the first day, local time.
    pub check_in_time: TimeOfDay,
    /// How long before check-in opens a stay must be booked, in hours; 0 takes a stay starting
    /// today (local) until the day is over.
    pub advance_notice_hours: u32,
    /// How many days ahead (from today, local) the stay may end; `None` leaves only the
    /// platform's bound.
    pub availability_window_days: Option<u32>,
}

impl StayRules {
    /// When the guest may arrive: the check-in date at the local check-in time, in UTC.
    pub fn arrival(&self, check_in: NaiveDate) -> DateTime<Utc> {
        self.timezone.instant(check_in, self.check_in_time)
    }

    /// Whether a guest may book `stay` at `now`: its first night is not in the past (local
    /// date), with notice it is booked at least `advance_notice_hours` before check-in opens,
    /// and it ends inside the availability window. Problems are named `check_in`/`check_out`.
    ///
    /// Without notice a stay starting today is taken all day, even after the check-in time:
    /// that time is when check-in opens, and a guest booking at 18:00 arrives later. With
    /// notice the host has asked for time before check-in opens.
    pub fn check(&self, stay: &StayRange, now: DateTime<Utc>) -> Result<(), Vec<Invalid>> {
        let mut p = Problems::default();
        let today = self.timezone.today(now);
        if stay.check_in() < today {
            p.add(
                "check_in",
                format!(
                    "must not be in the past (today is {today} in {})",
                    self.timezone
                ),
            );
        } else if self.advance_notice_hours > 0 {
            let arrival = self.arrival(stay.check_in());
            if arrival < now + Duration::hours(i64::from(self.advance_notice_hours)) {
                p.add(
                    "check_in",
                    format!(
                        "this listing needs {} hours' notice before check-in at {} ({})",
                        self.advance_notice_hours, self.check_in_time, self.timezone
                    ),
                );
            }
        }
        if let Some(days) = self.availability_window_days {
            let last = today + Duration::days(i64::from(days));
            if stay.check_out() > last {
                p.add(
                    "check_out",
                    format!("this listing takes stays ending at most {days} days from today"),
                );
            }
        }
        p.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn tz(name: &str) -> Timezone {
        Timezone::parse(name).expect("zone")
    }

    fn time(s: &str) -> TimeOfDay {
        TimeOfDay::parse(s).expect("time")
    }

    #[test]
    fn times_of_day_are_hh_mm_on_a_24_hour_clock() {
        assert_eq!(time("00:00").to_string(), "00:00");
        assert_eq!(time("23:59").to_string(), "23:59");
        assert_eq!(time("15:00").hour(), 15);
        for bad in [
            "24:00",
            "12:60",
            "9:00",
            "09:0",
            "09-00",
            "0900",
            " 09:00",
            "١٢:٠٠",
            "",
        ] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zone_names_are_the_tz_databases_spelled_exactly() {
        assert_eq!(tz("Europe/Paris").as_str(), "Europe/Paris");
        assert_eq!(Timezone::UTC.as_str(), "UTC");
        assert!(Timezone::parse("europe/paris").is_err());
        assert!(Timezone::parse("Mars/Olympus_Mons").is_err());
        assert!(Timezone::parse("").is_err());
        assert!(Timezone::names().all(|n| Timezone::parse(n).is_ok()));
        assert!(Timezone::names().any(|n| n == "Pacific/Kiritimati"));
        // `domain::listings::MAX_STORED_TEXT_BYTES` counts a zone name as at most 32 bytes.
        assert!(Timezone::names().all(|n| n.len() <= 32));
    }

    #[test]
    fn arrival_is_the_local_check_in_time_in_utc() {
        let three = time("15:00");
        assert_eq!(
            tz("UTC").instant(d("2031-06-20"), three),
            at("2031-06-20T15:00:00Z")
        );
        assert_eq!(
            tz("Europe/Paris").instant(d("2031-06-20"), three),
            at("2031-06-20T13:00:00Z")
        );
        assert_eq!(
            tz("Pacific/Kiritimati").instant(d("2031-06-20"), three),
            at("2031-06-20T01:00:00Z")
        );
        assert_eq!(
            tz("Pacific/Pago_Pago").instant(d("2031-06-20"), three),
            at("2031-06-21T02:00:00Z")
        );
    }

    #[test]
    fn a_check_in_time_in_a_dst_gap_is_the_instant_the_clocks_jump() {
        // Paris springs forward on 2031-03-30: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let paris = tz("Europe/Paris");
        assert_eq!(
            paris.instant(d("2031-03-30"), time("02:30")),
            at("2031-03-30T01:00:00Z")
        );
        assert_eq!(
            paris.instant(d("2031-03-30"), time("03:00")),
            at("2031-03-30T01:00:00Z")
        );
        assert_eq!(
            paris.instant(d("2031-03-30"), time("01:59")),
            at("2031-03-30T00:59:00Z")
        );
    }

    #[test]
    fn a_check_in_time_in_a_dst_fold_is_its_first_occurrence() {
        // Paris falls back on 2031-10-26: 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET).
        let paris = tz("Europe/Paris");
        assert_eq!(
            paris.instant(d("2031-10-26"), time("02:30")),
            at("2031-10-26T00:30:00Z")
        );
        // New York, 2031-11-02: 01:30 happens twice; EDT's comes first.
        assert_eq!(
            tz("America/New_York").instant(d("2031-11-02"), time("01:30")),
            at("2031-11-02T05:30:00Z")
        );
    }

    fn rules(zone: &str, check_in: &str, notice: u32, window: Option<u32>) -> StayRules {
        StayRules {
            timezone: tz(zone),
            check_in_time: time(check_in),
            advance_notice_hours: notice,
            availability_window_days: window,
        }
    }

    fn stay(a: &str, b: &str) -> StayRange {
        StayRange::new(d(a), d(b)).expect("stay")
    }

    fn fields(r: Result<(), Vec<Invalid>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.field)
            .collect()
    }

    #[test]
    fn a_stay_starting_before_today_in_the_listings_zone_is_in_the_past() {
        // 2031-06-20 11:00 UTC is already the 21st in Kiritimati (UTC+14) and still the 20th
        // in Pago Pago (UTC-11), where the 19th is over.
        let now = at("2031-06-20T11:00:00Z");
        let r = rules("Pacific/Kiritimati", "15:00", 0, None);
        assert_eq!(
            fields(r.check(&stay("2031-06-20", "2031-06-22"), now)),
            ["check_in"]
        );
        assert!(r.check(&stay("2031-06-21", "2031-06-22"), now).is_ok());
        let r = rules("Pacific/Pago_Pago", "15:00", 0, None);
        assert!(r.check(&stay("2031-06-20", "2031-06-22"), now).is_ok());
        assert_eq!(
            fields(r.check(&stay("2031-06-19", "2031-06-22"), now)),
            ["check_in"]
        );
    }

    #[test]
    fn without_notice_today_is_bookable_after_the_check_in_time() {
        let r = rules("UTC", "15:00", 0, None);
        let late = at("2031-06-20T22:00:00Z");
        assert!(r.check(&stay("2031-06-20", "2031-06-21"), late).is_ok());
    }

    #[test]
    fn notice_counts_back_from_the_local_check_in_time() {
        // Check-in opens at 15:00 in Paris (13:00 UTC); 24 hours' notice.
        let r = rules("Europe/Paris", "15:00", 24, None);
        let s = stay("2031-06-21", "2031-06-23");
        assert!(r.check(&s, at("2031-06-20T13:00:00Z")).is_ok());
        assert_eq!(
            fields(r.check(&s, at("2031-06-20T13:00:01Z"))),
            ["check_in"]
        );
        // The same stay at a listing whose check-in opens at 23:00 local still has room.
        let r = rules("Europe/Paris", "23:00", 24, None);
        assert!(r.check(&s, at("2031-06-20T20:00:00Z")).is_ok());
    }

    #[test]
    fn a_stay_must_end_inside_the_listings_window_from_its_local_today() {
        let now = at("2031-06-20T12:00:00Z");
        let r = rules("UTC", "15:00", 0, Some(30));
        assert!(r.check(&stay("2031-07-18", "2031-07-20"), now).is_ok());
        assert_eq!(
            fields(r.check(&stay("2031-07-19", "2031-07-21"), now)),
            ["check_out"]
        );
        // Kiritimati's today is the 21st, so its window reaches a day further.
        let r = rules("Pacific/Kiritimati", "15:00", 0, Some(30));
        assert!(r.check(&stay("2031-07-19", "2031-07-21"), now).is_ok());
    }
}
