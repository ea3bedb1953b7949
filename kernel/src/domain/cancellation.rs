//! What a cancellation refunds, by the listing's cancellation policy (copied onto the booking
//! when it was made). "Check-in" is the instant check-in opens: the check-in day at the listing's
//! local check-in time, in its time zone, as fixed on the booking when it was made
//! (`check_in_at`; 15:00 UTC for bookings made before listings had times). So "24 hours before
//! check-in" at a Paris listing opening at 15:00 on 20 June is 15:00 CEST on 19 June. A host who
//! cancels a confirmed stay refunds it in full.
//!
//! | policy | refund |
//! | --- | --- |
//! | `flexible` | 100% until 24 h before check-in, none after |
//! | `moderate` | 100% until 5 days before check-in, none after |
//! | `strict` | 100% within 48 h of booking if check-in was then 14+ days away; else 50% until 7 days before check-in; none after |

use crate::model::CancellationPolicy;
use chrono::{DateTime, Duration, Utc};

/// Who cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelledBy {
    /// The guest.
    Guest,
    /// The host.
    Host,
}

/// The refund a cancellation would give now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// Percent of the total refunded.
    pub percent: u8,
    /// The amount, minor units (rounded down).
    pub refund_minor: i64,
    /// The rule that applies, in words.
    pub rule: String,
}

/// The refund of cancelling a booking of `total_minor` whose check-in opens at `arrival`, at
/// `now`.
pub fn refund(
    policy: CancellationPolicy,
    by: CancelledBy,
    total_minor: i64,
    arrival: DateTime<Utc>,
    booked_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Refund {
    let (percent, rule) = percent(policy, by, arrival, booked_at, now);
    let refund_minor = i64::try_from(i128::from(total_minor) * i128::from(percent) / 100)
        .unwrap_or(0)
        .max(0);
    Refund {
        percent,
        refund_minor,
        rule,
    }
}

fn percent(
    policy: CancellationPolicy,
    by: CancelledBy,
    arrival: DateTime<Utc>,
    booked_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (u8, String) {
    if by == CancelledBy::Host {
        return (100, "the host cancelled: full refund".into());
    }
    let before = arrival - now;
    match policy {
        CancellationPolicy::Flexible if before >= Duration::hours(24) => (
            100,
            "flexible: full refund until 24 hours before check-in".into(),
        ),
        CancellationPolicy::Flexible => {
            (0, "flexible: no refund within 24 hours of check-in".into())
        }
        CancellationPolicy::Moderate if before >= Duration::days(5) => (
            100,
            "moderate: full refund until 5 days before check-in".into(),
        ),
        CancellationPolicy::Moderate => (0, "moderate: no refund within 5 days of check-in".into()),
        CancellationPolicy::Strict
            if now - booked_at <= Duration::hours(48)
                && arrival - booked_at >= Duration::days(14) =>
        {
            (
                100,
                "strict: full refund within 48 hours of booking a stay 14 or more days away".into(),
            )
        }
        CancellationPolicy::Strict if before >= Duration::days(7) => {
            (50, "strict: 50% refund until 7 days before check-in".into())
        }
        CancellationPolicy::Strict => (0, "strict: no refund within 7 days of check-in".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TimeOfDay, Timezone};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    /// Check-in opening at `time` on `date` in `zone`, as a booking records it.
    fn opens(zone: &str, date: &str, time: &str) -> DateTime<Utc> {
        Timezone::parse(zone).expect("zone").instant(
            date.parse().expect("date"),
            TimeOfDay::parse(time).expect("time"),
        )
    }

    #[test]
    fn each_policy_refunds_by_how_long_before_check_in_it_is_cancelled() {
        use CancellationPolicy::*;
        // Check-in opens at 15:00 UTC on 20 June.
        let arrival = opens("UTC", "2031-06-20", "15:00");
        let booked = at("2031-05-01T10:00:00Z");
        let cases = [
            // (policy, now, percent)
            (Flexible, "2031-06-19T14:59:00Z", 100),
            (Flexible, "2031-06-19T15:00:00Z", 100),
            (Flexible, "2031-06-19T15:00:01Z", 0),
            (Moderate, "2031-06-15T15:00:00Z", 100),
            (Moderate, "2031-06-15T15:00:01Z", 0),
            (Moderate, "2031-06-20T12:00:00Z", 0),
            (Strict, "2031-05-02T09:00:00Z", 100),
            (Strict, "2031-05-04T10:00:00Z", 50),
            (Strict, "2031-06-13T15:00:00Z", 50),
            (Strict, "2031-06-13T15:00:01Z", 0),
        ];
        for (policy, now, expected) in cases {
            let r = refund(policy, CancelledBy::Guest, 12_345, arrival, booked, at(now));
            assert_eq!(r.percent, expected, "{policy:?} at {now}: {}", r.rule);
            assert_eq!(r.refund_minor, 12_345 * i64::from(expected) / 100);
        }
    }

    #[test]
    fn deadlines_fall_at_the_listings_local_check_in_time() {
        let booked = at("2031-05-01T10:00:00Z");
        let flexible = |arrival, now| {
            refund(
                CancellationPolicy::Flexible,
                CancelledBy::Guest,
                10_000,
                arrival,
                booked,
                at(now),
            )
            .percent
        };
        // Paris, 15:00 CEST (13:00 UTC) on 20 June: the full refund ends at 13:00 UTC on the 19th.
        let paris = opens("Europe/Paris", "2031-06-20", "15:00");
        assert_eq!(flexible(paris, "2031-06-19T13:00:00Z"), 100);
        assert_eq!(flexible(paris, "2031-06-19T13:00:01Z"), 0);
        // The same date and time in Pago Pago (UTC-11) opens 13 hours later.
        let pago = opens("Pacific/Pago_Pago", "2031-06-20", "15:00");
        assert_eq!(flexible(pago, "2031-06-19T13:00:01Z"), 100);
        assert_eq!(flexible(pago, "2031-06-20T02:00:00Z"), 100);
        assert_eq!(flexible(pago, "2031-06-20T02:00:01Z"), 0);
        // Across a change of clocks (Paris falls back on 26 October): 5 days before 15:00 CET
        // (14:00 UTC) on 28 October is 120 hours before, 14:00 UTC on the 23rd, which is 16:00
        // CEST there.
        let moderate = |now| {
            refund(
                CancellationPolicy::Moderate,
                CancelledBy::Guest,
                10_000,
                opens("Europe/Paris", "2031-10-28", "15:00"),
                booked,
                at(now),
            )
            .percent
        };
        assert_eq!(moderate("2031-10-23T14:00:00Z"), 100);
        assert_eq!(moderate("2031-10-23T14:00:01Z"), 0);
    }

    #[test]
    fn strict_grace_needs_a_stay_14_days_away() {
        let r = refund(
            CancellationPolicy::Strict,
            CancelledBy::Guest,
            10_000,
            opens("UTC", "2031-05-10", "15:00"),
            at("2031-05-01T10:00:00Z"),
            at("2031-05-01T11:00:00Z"),
        );
        assert_eq!(r.percent, 50, "{}", r.rule);
    }

    #[test]
    fn a_host_cancelling_refunds_in_full_and_amounts_round_down() {
        let r = refund(
            CancellationPolicy::Strict,
            CancelledBy::Host,
            999,
            opens("UTC", "2031-05-02", "15:00"),
            at("2031-05-01T10:00:00Z"),
            at("2031-05-01T23:00:00Z"),
        );
        assert_eq!((r.percent, r.refund_minor), (100, 999));
        let half = refund(
            CancellationPolicy::Strict,
            CancelledBy::Guest,
            999,
            opens("UTC", "2031-06-20", "15:00"),
            at("2031-05-01T10:00:00Z"),
            at("2031-05-10T10:00:00Z"),
        );
        assert_eq!((half.percent, half.refund_minor), (50, 499));
    }
}
