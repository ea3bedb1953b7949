//! Availability calendars: per-night status (available / blocked / booked) and price. Hosts
//! block and unblock nights and set per-night price overrides; everyone who can see a listing
//! can read its calendar.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Listing, Listings};
use crate::auth::Principal;
use crate::data::bookings;
use crate::data::calendar::{self as store, CalendarDay};
use crate::domain::{DomainError, Problems};

/// The longest range one calendar read or change may cover, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A night's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    /// Bookable.
    Available,
    /// Blocked by the host.
    Blocked,
    /// Taken by a booking.
    Booked,
}

/// One night of the calendar.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarNight {
    /// The night.
    pub date: NaiveDate,
    /// Its status.
    pub status: DayStatus,
    /// Its price in minor units (the override, or the listing's nightly price).
    pub price_minor: i64,
}

/// A listing's calendar for a range.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Calendar {
    /// The listing.
    pub listing_id: Uuid,
    /// Currency of every price.
    pub currency: String,
    /// Every night of the range, in order.
    pub nights: Vec<CalendarNight>,
}

/// Changes to a calendar, applied in order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarUpdate {
    /// The changes.
    #[schema(min_items = 1)]
    pub changes: Vec<CalendarChange>,
}

/// One change over the nights `[from, to)`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarChange {
    /// First night.
    pub from: NaiveDate,
    /// The day after the last night.
    pub to: NaiveDate,
    /// Block (true) or unblock (false) the nights; omit to leave as is.
    #[serde(default)]
    pub blocked: Option<bool>,
    /// A price override in minor units; `null` removes the override; omit to leave as is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100_000_000)]
    pub price_minor: Option<Option<i64>>,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

fn check_range(from: NaiveDate, to: NaiveDate, field: &str, p: &mut Problems) {
    if to <= from {
        p.add(field, "must be after `from`");
    } else if (to - from).num_days() > MAX_RANGE_DAYS {
        p.add(field, "the range is longer than 366 days");
    }
}

impl Listings {
    /// The calendar of `[from, to)` for anyone who can see the listing.
    pub async fn calendar(
        &self,
        viewer: Option<&Principal>,
        id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Calendar, DomainError> {
        let listing = self.get(viewer, id).await?;
        let mut p = Problems::default();
        check_range(from, to, "to", &mut p);
        p.finish()?;
        let mut conn = self.db().acquire().await?;
        let days = store::range(conn.exec(), id, from, to).await?;
        let booked = bookings::booked_ranges(conn.exec(), id, from, to).await?;
        Ok(render(&listing, from, to, &days, &booked))
    }

    /// Applies changes (owner or admin) and returns the calendar over the changed span.
    pub async fn update_calendar(
        &self,
        who: &Principal,
        id: Uuid,
        update: CalendarUpdate,
    ) -> Result<Calendar, DomainError> {
        let listing = self.get_managed(who, id).await?;
        let mut p = Problems::default();
        if update.changes.is_empty() {
            p.add("changes", "must not be empty");
        }
        for (i, c) in update.changes.iter().enumerate() {
            check_range(c.from, c.to, &format!("changes[{i}].to"), &mut p);
            if let Some(Some(price)) = c.price_minor {
                p.check(
                    (1..=100_000_000).contains(&price),
                    &format!("changes[{i}].price_minor"),
                    "must be 1 to 100000000 minor units, or null to remove the override",
                );
            }
            p.check(
                c.blocked.is_some() || c.price_minor.is_some(),
                &format!("changes[{i}]"),
                "must set `blocked` and/or `price_minor`",
            );
        }
        p.finish()?;
        let (Some(from), Some(to)) = (
            update.changes.iter().map(|c| c.from).min(),
            update.changes.iter().map(|c| c.to).max(),
        ) else {
            return Err(DomainError::Invalid(vec![]));
        };
        let mut tx = self.db().begin().await?;
        let existing = store::range(tx.exec(), id, from, to).await?;
        let mut days: std::collections::BTreeMap<NaiveDate, CalendarDay> =
            existing.into_iter().map(|d| (d.day, d)).collect();
        for change in &update.changes {
            for day in change.from.iter_days().take_while(|d| *d < change.to) {
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
        let booked = bookings::booked_ranges(tx.exec(), id, from, to).await?;
        tx.commit().await?;
        self.invalidate(id).await;
        Ok(render(&listing, from, to, &days, &booked))
    }
}

/// Every night of `[from, to)` with its status and price. A booked night is `booked` even if
/// the host also blocked it.
fn render(
    listing: &Listing,
    from: NaiveDate,
    to: NaiveDate,
    days: &[CalendarDay],
    booked: &[(NaiveDate, NaiveDate)],
) -> Calendar {
    let changed: std::collections::HashMap<NaiveDate, &CalendarDay> =
        days.iter().map(|d| (d.day, d)).collect();
    let nights = from
        .iter_days()
        .take_while(|d| *d < to)
        .map(|date| {
            let day = changed.get(&date);
            CalendarNight {
                date,
                status: if booked.iter().any(|(i, o)| *i <= date && date < *o) {
                    DayStatus::Booked
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
    let booked = bookings::booked_ranges(conn.exec(), listing.id, from, to).await?;
    Ok(render(listing, from, to, &days, &booked).nights)
}
