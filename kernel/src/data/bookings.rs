//! SQL for `bookings`. A booking's status changes only through [`transition`], which names the
//! statuses it may change from, so two racing changes cannot both apply.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{dispatch, DataError, Exec};

/// Statuses in which a booking holds its nights.
pub const ACTIVE: &str = "('pending_payment', 'requested', 'confirmed', 'completed')";

/// A booking as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct BookingRecord {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: i32,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    /// JSON array of quote lines.
    pub line_items: String,
    pub quote_id: Option<Uuid>,
    pub cancellation_policy: String,
    pub instant_book: bool,
    /// The payments plugin id.
    pub provider: String,
    /// When a hold (pending_payment) or request (requested) expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub refund_minor: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, listing_id, guest_id, host_id, check_in, check_out, guests, status, \
    currency, total_minor, line_items, quote_id, cancellation_policy, instant_book, provider, \
    expires_at, end_reason, refund_minor, created_at, updated_at";

/// Inserts a booking. On PostgreSQL an overlap with an active booking is
/// [`DataError::ExclusionViolation`]; SQLite callers check [`overlaps`] first in the same
/// (write-locked) transaction.
#[tracing::instrument(skip_all, fields(booking.id = %b.id))]
pub async fn insert(exec: Exec<'_>, b: &BookingRecord) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO bookings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    );
    dispatch!(exec, c => sqlx::query(&sql)
        .bind(b.id)
        .bind(b.listing_id)
        .bind(b.guest_id)
        .bind(b.host_id)
        .bind(b.check_in)
        .bind(b.check_out)
        .bind(b.guests)
        .bind(&b.status)
        .bind(&b.currency)
        .bind(b.total_minor)
        .bind(&b.line_items)
        .bind(b.quote_id)
        .bind(&b.cancellation_policy)
        .bind(b.instant_book)
        .bind(&b.provider)
        .bind(b.expires_at)
        .bind(&b.end_reason)
        .bind(b.refund_minor)
        .bind(b.created_at)
        .bind(b.updated_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .map_err(DataError::from_query)
}

/// Serialises bookings of one listing for the rest of the transaction. On PostgreSQL two
/// transactions inserting overlapping bookings would otherwise each wait on the other's row in
/// the exclusion constraint's check and one would die in a deadlock (a 500, not a 409); with
/// the listing's row locked first, the second waits, then sees the first's booking. SQLite's
/// transactions already hold the database's write lock.
pub async fn lock_listing(exec: Exec<'_>, listing: Uuid) -> Result<(), DataError> {
    if let Exec::Postgres(c) = exec {
        sqlx::query("SELECT 1 FROM listings WHERE id = $1 FOR UPDATE")
            .bind(listing)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Whether an active booking of `listing` takes any night of `[check_in, check_out)`.
pub async fn overlaps(
    exec: Exec<'_>,
    listing: Uuid,
    check_in: NaiveDate,
    check_out: NaiveDate,
) -> Result<bool, DataError> {
    let sql = format!(
        "SELECT COUNT(*) FROM bookings WHERE listing_id = $1 AND status IN {ACTIVE} \
         AND check_in < $3 AND check_out > $2"
    );
    let n: i64 = dispatch!(exec, c => sqlx::query_scalar(&sql)
        .bind(listing)
        .bind(check_in)
        .bind(check_out)
        .fetch_one(&mut *c)
        .await)?;
    Ok(n > 0)
}

/// The `[check_in, check_out)` ranges of active bookings of `listing` touching `[from, to)`.
pub async fn booked_ranges(
    exec: Exec<'_>,
    listing: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, NaiveDate)>, DataError> {
    let sql = format!(
        "SELECT check_in, check_out FROM bookings WHERE listing_id = $1 AND status IN {ACTIVE} \
         AND check_in < $3 AND check_out > $2 ORDER BY check_in"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, (NaiveDate, NaiveDate)>(&sql)
        .bind(listing)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *c)
        .await)?,
    )
}

/// A booking by id.
pub async fn find(exec: Exec<'_>, id: Uuid) -> Result<Option<BookingRecord>, DataError> {
    let sql = format!("SELECT {COLUMNS} FROM bookings WHERE id = $1");
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, BookingRecord>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?,
    )
}

/// Whose bookings a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Party {
    /// The account's own stays.
    Guest(Uuid),
    /// Bookings of the account's listings.
    Host(Uuid),
}

/// One page of bookings, newest first, after the `(created_at, id)` cursor.
pub async fn list(
    exec: Exec<'_>,
    party: Party,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<BookingRecord>, DataError> {
    let (column, account) = match party {
        Party::Guest(a) => ("guest_id", a),
        Party::Host(a) => ("host_id", a),
    };
    let cursor = if after.is_some() {
        "AND (created_at < $2 OR (created_at = $2 AND id < $3))"
    } else {
        "AND $2 IS NULL AND $3 IS NULL"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM bookings WHERE {column} = $1 {cursor} \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    let (at, id) = after.unzip();
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, BookingRecord>(&sql)
        .bind(account)
        .bind(at)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?,
    )
}

/// What a transition also sets.
#[derive(Debug, Clone, Default)]
pub struct Changes<'a> {
    /// The new deadline (`None` clears it).
    pub expires_at: Option<DateTime<Utc>>,
    /// Why the booking ended.
    pub end_reason: Option<&'a str>,
    /// The refund decided at cancellation.
    pub refund_minor: Option<i64>,
}

/// Moves a booking to `to` if it is in one of `from`; the booking as changed, or none if it
/// was not in one of those statuses (someone else changed it first).
pub async fn transition(
    exec: Exec<'_>,
    id: Uuid,
    from: &[&str],
    to: &str,
    changes: &Changes<'_>,
    now: DateTime<Utc>,
) -> Result<Option<BookingRecord>, DataError> {
    let from: Vec<String> = from.iter().map(|s| format!("'{s}'")).collect();
    let sql = format!(
        "UPDATE bookings SET status = $1, expires_at = $2, \
         end_reason = COALESCE($3, end_reason), refund_minor = COALESCE($4, refund_minor), \
         updated_at = $5 WHERE id = $6 AND status IN ({}) RETURNING {COLUMNS}",
        from.join(", ")
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, BookingRecord>(&sql)
        .bind(to)
        .bind(changes.expires_at)
        .bind(changes.end_reason)
        .bind(changes.refund_minor)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?,
    )
}

/// Bookings in `status` whose deadline passed before `now`.
pub async fn expired(
    exec: Exec<'_>,
    status: &str,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<BookingRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bookings WHERE status = $1 AND expires_at < $2 \
         ORDER BY expires_at LIMIT $3"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, BookingRecord>(&sql)
        .bind(status)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?,
    )
}

/// Confirmed bookings whose check-out day is `today` or earlier.
pub async fn stays_over(
    exec: Exec<'_>,
    today: NaiveDate,
    limit: u32,
) -> Result<Vec<BookingRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bookings WHERE status = 'confirmed' AND check_out <= $1 \
         ORDER BY check_out LIMIT $2"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, BookingRecord>(&sql)
        .bind(today)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?,
    )
}
