//! SQL for `bookings`. A booking's status changes only through [`transition`], which names the
//! statuses it may change from, so two racing changes cannot both apply. A new booking takes its
//! nights only through [`hold_nights`], which decides per backend how overlaps are refused.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{calendar, dispatch, push_in, DataError, Exec};
use crate::model::{
    BookingStatus, CancellationPolicy, Currency, PaymentOperation, PaymentState, QuoteLine,
};

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
    pub status: BookingStatus,
    pub currency: Currency,
    pub total_minor: i64,
    pub line_items: Json<Vec<QuoteLine>>,
    pub quote_id: Option<Uuid>,
    pub cancellation_policy: CancellationPolicy,
    pub instant_book: bool,
    /// The payments plugin id.
    pub provider: String,
    /// When a hold (pending_payment) or request (requested) expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub refund_minor: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When check-in opens (the listing's local check-in time on `check_in`), fixed at booking.
    pub check_in_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, listing_id, guest_id, host_id, check_in, check_out, guests, status, \
    currency, total_minor, line_items, quote_id, cancellation_policy, instant_book, provider, \
    expires_at, end_reason, refund_minor, created_at, updated_at, check_in_at";

/// Inserts a new booking if every night of its stay is free: none blocked by the host, none held
/// by an active booking, and none of the `preparation_nights` the listing keeps free before and
/// after each booking touching one (the stay widened to `[check_in - n, check_out + n)` must not
/// overlap an active booking); [`DataError::NightsTaken`] otherwise. Run it in the transaction
/// that also records the booking's payment intent.
///
/// The backends differ here: PostgreSQL locks the listing's row first (`lock_listing`, as
/// every write of the listing's bookings does; two transactions inserting overlapping bookings
/// would otherwise each wait on the other's row in the exclusion constraint's check and one would
/// die in a deadlock, a 500 instead of a 409; with the lock the second waits, then sees the
/// first's booking) and lets the exclusion constraint `bookings_no_overlap` refuse an overlap of
/// the nights themselves; the constraint knows nothing of preparation nights, so with any those
/// are checked here, under the same lock. SQLite has no exclusion constraints; its transactions
/// hold the database's write lock (`BEGIN IMMEDIATE`), so checking for an overlap and inserting
/// cannot be raced. The widened range is computed here and bound, the same SQL on both.
#[tracing::instrument(skip_all, fields(booking.id = %b.id, listing.id = %b.listing_id))]
pub async fn hold_nights(
    mut exec: Exec<'_>,
    b: &BookingRecord,
    preparation_nights: u32,
) -> Result<(), DataError> {
    lock_listing(exec.reborrow(), b.listing_id).await?;
    let days = calendar::range(exec.reborrow(), b.listing_id, b.check_in, b.check_out).await?;
    if days.iter().any(|d| d.blocked) {
        return Err(DataError::NightsTaken);
    }
    let margin = chrono::Duration::days(i64::from(preparation_nights));
    if (preparation_nights > 0 || matches!(exec, Exec::Sqlite(_)))
        && overlaps(
            exec.reborrow(),
            b.listing_id,
            b.check_in - margin,
            b.check_out + margin,
        )
        .await?
    {
        return Err(DataError::NightsTaken);
    }
    match insert(exec, b).await {
        Err(DataError::ExclusionViolation) => Err(DataError::NightsTaken),
        other => other,
    }
}

/// On PostgreSQL, locks `listing`'s row until the transaction ends; nothing on SQLite, whose
/// write transactions are already serial. Every transaction that writes a booking row of the
/// listing takes it before the write: the exclusion constraint's check of a hold's insert waits
/// on a booking being updated, and the update's own check (a status change writes a new index
/// entry) would wait on the uncommitted hold, a deadlock PostgreSQL breaks by failing one.
async fn lock_listing(exec: Exec<'_>, listing: Uuid) -> Result<(), DataError> {
    if let Exec::Postgres(c) = exec {
        sqlx::query("SELECT 1 FROM listings WHERE id = $1 FOR UPDATE")
            .bind(listing)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// What a booking's events say about its people and place.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Parties {
    /// The guest's email.
    pub guest_email: String,
    /// The guest's display name.
    pub guest_name: String,
    /// The host's email.
    pub host_email: String,
    /// The host's display name.
    pub host_name: String,
    /// The listing's title (empty if the listing row is gone).
    pub listing_title: String,
}

/// The guest, the host and the listing title of `booking`, in one statement; none if either
/// account is missing.
pub async fn parties(
    exec: Exec<'_>,
    booking: &BookingRecord,
) -> Result<Option<Parties>, DataError> {
    let sql = "SELECT g.email AS guest_email, g.display_name AS guest_name, \
               h.email AS host_email, h.display_name AS host_name, \
               COALESCE((SELECT title FROM listings WHERE id = $3), '') AS listing_title \
               FROM accounts g, accounts h WHERE g.id = $1 AND h.id = $2";
    Ok(dispatch!(exec, c => sqlx::query_as::<_, Parties>(sql)
        .bind(booking.guest_id)
        .bind(booking.host_id)
        .bind(booking.listing_id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// How many unconfirmed bookings (`pending_payment` and `requested`) a guest has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Unconfirmed {
    /// In all.
    pub total: i64,
    /// Of the listing asked about.
    pub of_listing: i64,
}

/// The guest's unconfirmed bookings, in all and of `listing` (one index range on
/// `bookings_guest_status_idx`). On PostgreSQL the guest's account row is locked first, so two
/// bookings of the same guest are counted one after the other (SQLite's write lock does the same).
pub async fn unconfirmed_of_guest(
    mut exec: Exec<'_>,
    guest: Uuid,
    listing: Uuid,
) -> Result<Unconfirmed, DataError> {
    if let Exec::Postgres(c) = exec.reborrow() {
        sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE")
            .bind(guest)
            .execute(&mut *c)
            .await?;
    }
    let unconfirmed = [BookingStatus::PendingPayment, BookingStatus::Requested];
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN listing_id = ",
        );
        qb.push_bind(listing)
            .push(" THEN 1 ELSE 0 END), 0) AS of_listing FROM bookings WHERE guest_id = ")
            .push_bind(guest)
            .push(" AND status IN ");
        push_in(&mut qb, &unconfirmed);
        qb.build_query_as::<Unconfirmed>().fetch_one(&mut *c).await
    })?)
}

/// Whether `guest` has a confirmed (or completed) booking of `listing`.
pub async fn has_confirmed_stay(
    exec: Exec<'_>,
    guest: Uuid,
    listing: Uuid,
) -> Result<bool, DataError> {
    let confirmed = [BookingStatus::Confirmed, BookingStatus::Completed];
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM bookings WHERE guest_id = ");
        qb.push_bind(guest)
            .push(" AND listing_id = ")
            .push_bind(listing)
            .push(" AND status IN ");
        push_in(&mut qb, &confirmed);
        qb.build_query_scalar::<i64>().fetch_one(&mut *c).await
    })? > 0)
}

/// Which of `listings` `guest` has a confirmed (or completed) booking of.
pub async fn confirmed_stays_among(
    exec: Exec<'_>,
    guest: Uuid,
    listings: &[Uuid],
) -> Result<Vec<Uuid>, DataError> {
    if listings.is_empty() {
        return Ok(Vec::new());
    }
    let confirmed = [BookingStatus::Confirmed, BookingStatus::Completed];
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("SELECT DISTINCT listing_id FROM bookings WHERE guest_id = ");
        qb.push_bind(guest).push(" AND status IN ");
        push_in(&mut qb, &confirmed);
        qb.push(" AND listing_id IN ");
        push_in(&mut qb, listings);
        qb.build_query_scalar::<Uuid>().fetch_all(&mut *c).await
    })?)
}

async fn insert(exec: Exec<'_>, b: &BookingRecord) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO bookings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
    );
    dispatch!(exec, c => sqlx::query(&sql)
        .bind(b.id)
        .bind(b.listing_id)
        .bind(b.guest_id)
        .bind(b.host_id)
        .bind(b.check_in)
        .bind(b.check_out)
        .bind(b.guests)
        .bind(b.status)
        .bind(b.currency)
        .bind(b.total_minor)
        .bind(&b.line_items)
        .bind(b.quote_id)
        .bind(b.cancellation_policy)
        .bind(b.instant_book)
        .bind(&b.provider)
        .bind(b.expires_at)
        .bind(&b.end_reason)
        .bind(b.refund_minor)
        .bind(b.created_at)
        .bind(b.updated_at)
        .bind(b.check_in_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The active set ([`BookingStatus::ACTIVE`]) as an SQL list, spelled exactly as the predicate of
/// the partial index `bookings_active_idx` (and of PostgreSQL's exclusion constraint), for
/// `status IN ` + this. A partial index serves a query only when the query repeats its predicate:
/// SQLite matches the terms as written, and PostgreSQL's generic plans cannot see through bound
/// parameters. With the statuses bound, the overlap check read every booking of the table (35 µs
/// became 550 µs per booking under `scripts/load`). These are the enum's own names, not values:
/// a unit test ties the list to `BookingStatus::ACTIVE` and a data test to the index.
pub const ACTIVE_STATUSES: &str = "('pending_payment', 'requested', 'confirmed', 'completed')";

/// Whether an active booking of `listing` takes any night of `[check_in, check_out)`.
async fn overlaps(
    exec: Exec<'_>,
    listing: Uuid,
    check_in: NaiveDate,
    check_out: NaiveDate,
) -> Result<bool, DataError> {
    let n: i64 = dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM bookings WHERE listing_id = ");
        qb.push_bind(listing)
            .push(" AND status IN ")
            .push(ACTIVE_STATUSES);
        qb.push(" AND check_in < ").push_bind(check_out);
        qb.push(" AND check_out > ").push_bind(check_in);
        qb.build_query_scalar().fetch_one(&mut *c).await
    })?;
    Ok(n > 0)
}

/// The `[check_in, check_out)` ranges of active bookings of `listing` touching `[from, to)`.
pub async fn booked_ranges(
    exec: Exec<'_>,
    listing: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, NaiveDate)>, DataError> {
    Ok(dispatch!(exec, c => {
        let mut qb =
            QueryBuilder::new("SELECT check_in, check_out FROM bookings WHERE listing_id = ");
        qb.push_bind(listing)
            .push(" AND status IN ")
            .push(ACTIVE_STATUSES);
        qb.push(" AND check_in < ").push_bind(to);
        qb.push(" AND check_out > ").push_bind(from);
        qb.push(" ORDER BY check_in");
        qb.build_query_as::<(NaiveDate, NaiveDate)>().fetch_all(&mut *c).await
    })?)
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

/// The bookings among `ids` (any order; missing ids are left out).
pub async fn find_many(exec: Exec<'_>, ids: &[Uuid]) -> Result<Vec<BookingRecord>, DataError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM bookings WHERE id IN "));
        push_in(&mut qb, ids);
        qb.build_query_as::<BookingRecord>().fetch_all(&mut *c).await
    })?)
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

/// Moves `booking` to `to` if it is in one of `from`; the booking as changed, or none if it
/// was not in one of those statuses (someone else changed it first). Takes its listing's lock
/// first, as holds do ([`hold_nights`]).
pub async fn transition(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
    from: &[BookingStatus],
    to: BookingStatus,
    changes: &Changes<'_>,
    now: DateTime<Utc>,
) -> Result<Option<BookingRecord>, DataError> {
    lock_listing(exec.reborrow(), booking.listing_id).await?;
    let id = booking.id;
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("UPDATE bookings SET status = ");
        qb.push_bind(to);
        qb.push(", expires_at = ").push_bind(changes.expires_at);
        qb.push(", end_reason = COALESCE(").push_bind(changes.end_reason);
        qb.push(", end_reason), refund_minor = COALESCE(").push_bind(changes.refund_minor);
        qb.push(", refund_minor), updated_at = ").push_bind(now);
        qb.push(" WHERE id = ").push_bind(id).push(" AND status IN ");
        push_in(&mut qb, from);
        qb.push(" RETURNING ").push(COLUMNS);
        qb.build_query_as::<BookingRecord>().fetch_optional(&mut *c).await
    })?)
}

/// Bookings in `status` whose deadline passed before `now`, but not those with a capture in
/// flight (its answer decides them).
pub async fn expired(
    exec: Exec<'_>,
    status: BookingStatus,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<BookingRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bookings WHERE status = $1 AND expires_at < $2 \
         AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = bookings.id \
         AND p.operation = $3 AND p.status IN ($4, $5)) \
         ORDER BY expires_at LIMIT $6"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, BookingRecord>(&sql)
        .bind(status)
        .bind(now)
        .bind(PaymentOperation::Capture)
        .bind(PaymentState::Intent)
        .bind(PaymentState::Pending)
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
        "SELECT {COLUMNS} FROM bookings WHERE status = $1 AND check_out <= $2 \
         ORDER BY check_out LIMIT $3"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, BookingRecord>(&sql)
        .bind(BookingStatus::Confirmed)
        .bind(today)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_active_sql_list_is_the_active_set() {
        let names: Vec<String> = BookingStatus::ACTIVE
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert_eq!(ACTIVE_STATUSES, format!("({})", names.join(", ")));
    }
}
