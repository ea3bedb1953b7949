//! Calendars: the range query, the changes body (parsed here into the domain's changes), and
//! the calendar as clients see it.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::listings::calendar::{self as domain, Nights};
use crate::model::{Invalid, Problems};

/// The calendar range.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarRange {
    /// First night, YYYY-MM-DD.
    pub from: NaiveDate,
    /// The day after the last night (at most 366 days after `from`).
    pub to: NaiveDate,
}

impl CalendarRange {
    /// The nights asked for.
    pub fn parse(&self) -> Result<Nights, Vec<Invalid>> {
        Nights::new(self.from, self.to).map_err(|message| vec![Invalid::new("to", message)])
    }
}

/// A night's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(rename_items = "snake_case")]
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
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct CalendarNight {
    /// The night.
    pub date: NaiveDate,
    /// Its status.
    pub status: DayStatus,
    /// Its price in minor units (the override, or the listing's nightly price).
    pub price_minor: i64,
}

/// A listing's calendar for a range.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
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

impl CalendarUpdate {
    /// The changes, every bad one named by its index.
    pub fn parse(self) -> Result<Vec<domain::CalendarChange>, Vec<Invalid>> {
        let mut p = Problems::default();
        if self.changes.is_empty() {
            p.add("changes", "must not be empty");
        }
        let mut changes = Vec::with_capacity(self.changes.len());
        for (i, c) in self.changes.into_iter().enumerate() {
            let nights = p.parsed(&format!("changes[{i}].to"), Nights::new(c.from, c.to));
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
            if let Some(nights) = nights {
                changes.push(domain::CalendarChange {
                    nights,
                    blocked: c.blocked,
                    price_minor: c.price_minor,
                });
            }
        }
        p.finish()?;
        Ok(changes)
    }
}

impl From<domain::DayStatus> for DayStatus {
    fn from(s: domain::DayStatus) -> Self {
        match s {
            domain::DayStatus::Available => DayStatus::Available,
            domain::DayStatus::Blocked => DayStatus::Blocked,
            domain::DayStatus::Booked => DayStatus::Booked,
            domain::DayStatus::Preparation => DayStatus::Preparation,
        }
    }
}

impl From<domain::Calendar> for Calendar {
    fn from(c: domain::Calendar) -> Self {
        Self {
            listing_id: c.listing_id,
            currency: c.currency,
            nights: c
                .nights
                .into_iter()
                .map(|n| CalendarNight {
                    date: n.date,
                    status: n.status.into(),
                    price_minor: n.price_minor,
                })
                .collect(),
        }
    }
}
