//! Availability calendars: per-night status (available / blocked / booked / preparation) and
//! price. Hosts block and unblock nights and set per-night price overrides; everyone who can see
//! a listing can read its calendar.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Listing, Listings};
use crate::auth::Principal;
use crate::data::bookings;
use crate::data::calendar::{self as store, CalendarDay};
use crate::domain::{now, DomainError};
use crate::model::{Invalid, Problems};

/// The longest range one calendar read or change set may cover, in days.
pub const MAX_RANGE_DAYS: i64 = 366;
/// The most changes one calendar update may carry.
pub const MAX_CHANGES: usize = 100;

/// A night's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayStatus {
    /// Bookable.
    Available,
    /// Blocked by the host.
    Blocked,
    /// Taken by a booking.
    Booked,
    /// Kept free before or after a booking (the listing's `preparation_nights`).
    Preparation,
}

/// One night of the calendar.
#[derive(Debug, Clone)]
pub struct CalendarNight {
    /// The night.
    pub date: NaiveDate,
    /// Its status.
    pub status: DayStatus,
    /// Its price in minor units (the override, or the listing's nightly price).
    pub price_minor: i64,
}

/// A listing's calendar for a range.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// The listing.
    pub listing_id: Uuid,
    /// Currency of every price.
    pub currency: String,
    /// Every night of the range, in order.
    pub nights: Vec<CalendarNight>,
}

/// The nights `[from, to)`: at least one, at most [`MAX_RANGE_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nights {
    from: NaiveDate,
    to: NaiveDate,
}

impl Nights {
    /// Parses a range; the error is about `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, &'static str> {
        if to <= from {
            Err("must be after `from`")
        } else if (to - from).num_days() > MAX_RANGE_DAYS {
            Err("the range is longer than 366 days")
        } else {
            Ok(Self { from, to })
        }
    }

    /// First night.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The day after the last night.
    pub fn to(&self) -> NaiveDate {
        self.to
    }
}

/// What one change does to its nights; `None` leaves that part as it is.
#[derive(Debug, Clone)]
pub struct CalendarChange {
    /// The nights.
    pub nights: Nights,
    /// Block (true) or unblock (false).
    pub blocked: Option<bool>,
    /// Set a price override (`Some(Some(minor))`, 1 to 100,000,000) or remove it (`Some(None)`).
    pub price_minor: Option<Option<i64>>,
}

impl Listings {
    /// The calendar of `[from, to)` for anyone who can see the listing.
    pub async fn calendar(
        &self,
        viewer: Option<&Principal>,
        id: Uuid,
        nights: Nights,
    ) -> Result<Calendar, DomainError> {
        let mut p = Problems::default();
        let today = now().date_naive();
        let range = (nights.from, nights.to);
        self.window()
            .check_nights(&mut p, range, today, false, ("from", "to"));
        p.finish()?;
        let listing = self.get(viewer, id).await?;
        let (from, to) = (nights.from, nights.to);
        let mut conn = self.db().acquire().await?;
        let days = store::range(conn.exec(), id, from, to).await?;
        let booked = booked_around(conn.exec(), &listing, from, to).await?;
        Ok(render(&listing, from, to, &days, &booked))
    }

    /// Applies changes (owner or admin) and returns the calendar over the changed span.
    pub async fn update_calendar(
        &self,
        who: &Principal,
        id: Uuid,
        changes: Vec<CalendarChange>,
    ) -> Result<Calendar, DomainError> {
        // Bounded before anything is read: at most MAX_CHANGES changes, inside the date window,
        // all within MAX_RANGE_DAYS of each other (the work and the answer are that span).
        let mut p = Problems::default();
        p.check(
            changes.len() <= MAX_CHANGES,
            "changes",
            "at most 100 changes per request",
        );
        let today = now().date_naive();
        for (i, c) in changes.iter().enumerate().take(MAX_CHANGES) {
            let fields = (format!("changes[{i}].from"), format!("changes[{i}].to"));
            let range = (c.nights.from, c.nights.to);
            self.window()
                .check_nights(&mut p, range, today, true, (&fields.0, &fields.1));
        }
        let (Some(from), Some(to)) = (
            changes.iter().map(|c| c.nights.from).min(),
            changes.iter().map(|c| c.nights.to).max(),
        ) else {
            return Err(vec![Invalid::new("changes", "must not be empty")].into());
        };
        p.check(
            (to - from).num_days() <= MAX_RANGE_DAYS,
            "changes",
            "must all lie within 366 days of each other",
        );
        p.finish()?;
        let listing = self.get_managed(who, id).await?;
        let mut tx = self.db().begin().await?;
        let existing = store::range(tx.exec(), id, from, to).await?;
        let mut days: std::collections::BTreeMap<NaiveDate, CalendarDay> =
            existing.into_iter().map(|d| (d.day, d)).collect();
        for change in &changes {
            for day in change
                .nights
                .from
                .iter_days()
                .take_while(|d| *d < change.nights.to)
            {
                let entry = days.entry(day).or_insert(CalendarDay {
                    day,
                    blocked: false,
                    price_minor: None,
                });
                if let Some(blocked) = change.blocked {
                    entry.blocked = blocked;
                }
                if let Some(price) = change.price_minor {
                    entry.price_minor = price;
                }
            }
        }
        let days: Vec<CalendarDay> = days.into_values().collect();
        store::upsert(tx.exec(), id, &days).await?;
        let booked = booked_around(tx.exec(), &listing, from, to).await?;
        tx.commit().await?;
        self.invalidate(id).await;
        Ok(render(&listing, from, to, &days, &booked))
    }
}

/// The active bookings whose nights, or the preparation nights around them, touch `[from, to)`.
async fn booked_around(
    exec: crate::data::Exec<'_>,
    listing: &Listing,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, NaiveDate)>, DomainError> {
    let margin = chrono::Duration::days(i64::from(listing.preparation_nights));
    Ok(bookings::booked_ranges(exec, listing.id, from - margin, to + margin).await?)
}

/// Every night of `[from, to)` with its status and price. A booked night is `booked` even if
/// the host also blocked it; a night within the listing's preparation nights of a booking is
/// `preparation` (so a stay overlaps none of them exactly when `data::bookings::hold_nights`
/// would take it).
fn render(
    listing: &Listing,
    from: NaiveDate,
    to: NaiveDate,
    days: &[CalendarDay],
    booked: &[(NaiveDate, NaiveDate)],
) -> Calendar {
    let changed: std::collections::HashMap<NaiveDate, &CalendarDay> =
        days.iter().map(|d| (d.day, d)).collect();
    let margin = chrono::Duration::days(i64::from(listing.preparation_nights));
    let nights = from
        .iter_days()
        .take_while(|d| *d < to)
        .map(|date| {
            let day = changed.get(&date);
            CalendarNight {
                date,
                status: if booked.iter().any(|(i, o)| *i <= date && date < *o) {
                    DayStatus::Booked
                } else if booked
                    .iter()
                    .any(|(i, o)| *i - margin <= date && date < *o + margin)
                {
                    DayStatus::Preparation
                } else if day.is_some_and(|d| d.blocked) {
                    DayStatus::Blocked
                } else {
                    DayStatus::Available
                },
                price_minor: day
                    .and_then(|d| d.price_minor)
                    .unwrap_or(listing.nightly_price_minor),
            }
        })
        .collect();
    Calendar {
        listing_id: listing.id,
        currency: listing.currency.as_str().to_owned(),
        nights,
    }
}

/// The nights of a stay as the calendar sees them (for quotes).
pub(crate) async fn nights_of(
    listings: &Listings,
    listing: &Listing,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CalendarNight>, DomainError> {
    let mut conn = listings.db().acquire().await?;
    let days = store::range(conn.exec(), listing.id, from, to).await?;
    let booked = booked_around(conn.exec(), listing, from, to).await?;
    Ok(render(listing, from, to, &days, &booked).nights)
}
