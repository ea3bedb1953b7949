//! SQL for `calendar_days`: the days a host blocked or priced differently.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{dispatch, DataError, Exec};

/// A changed day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CalendarDay {
    /// The date (a night).
    pub day: NaiveDate,
    /// Blocked by the host.
    pub blocked: bool,
    /// Price override, minor units.
    pub price_minor: Option<i64>,
}

/// The changed days of `[from, to)`, in date order.
#[tracing::instrument(skip_all, fields(listing.id = %listing))]
pub async fn range(
    exec: Exec<'_>,
    listing: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CalendarDay>, DataError> {
    let sql = "SELECT day, blocked, price_minor FROM calendar_days \
               WHERE listing_id = $1 AND day >= $2 AND day < $3 ORDER BY day";
    Ok(dispatch!(exec, c => sqlx::query_as::<_, CalendarDay>(sql)
        .bind(listing)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *c)
        .await)?)
}

/// Writes days (insert or replace).
#[tracing::instrument(skip_all, fields(listing.id = %listing, days = days.len()))]
pub async fn upsert(
    mut exec: Exec<'_>,
    listing: Uuid,
    days: &[CalendarDay],
) -> Result<(), DataError> {
    let sql = "INSERT INTO calendar_days (listing_id, day, blocked, price_minor) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (listing_id, day) DO UPDATE SET blocked = excluded.blocked, price_minor = excluded.price_minor";
    for d in days {
        dispatch!(&mut exec, c => sqlx::query(sql)
            .bind(listing)
            .bind(d.day)
            .bind(d.blocked)
            .bind(d.price_minor)
            .execute(&mut **c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}
