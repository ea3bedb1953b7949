//! SQL for the payments ledger (`payments`) and applied provider webhooks
//! (`payment_webhooks`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use sqlx::QueryBuilder;

use super::{dispatch, push_in, DataError, Exec};
use crate::model::{BookingStatus, Currency, PaymentFailure, PaymentOperation, PaymentState};

/// One operation with a provider.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct PaymentRecord {
    pub id: Uuid,
    pub booking_id: Uuid,
    /// The payments plugin id.
    pub provider: String,
    pub operation: PaymentOperation,
    pub status: PaymentState,
    pub amount_minor: i64,
    pub currency: Currency,
    pub provider_ref: Option<String>,
    /// The client's payment method (authorizations only): the raw token until the provider
    /// answers, then only its masked form (`••••4242`).
    pub payment_method: Option<String>,
    /// Why it failed, as the parties see it.
    pub failure_code: Option<PaymentFailure>,
    /// The provider's or plugin's own words about a failure or error (admins only).
    pub detail: Option<String>,
    /// An authorization that already took the money (a transfer that arrived): returned by a
    /// refund, not a void.
    pub collected: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, booking_id, provider, operation, status, amount_minor, currency, \
    provider_ref, payment_method, failure_code, detail, collected, created_at, updated_at";

/// Records an operation; [`DataError::UniqueViolation`] if the booking already has a live one
/// of the same kind.
pub async fn insert(exec: Exec<'_>, p: &PaymentRecord) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    dispatch!(exec, c => sqlx::query(&sql)
        .bind(p.id)
        .bind(p.booking_id)
        .bind(&p.provider)
        .bind(p.operation)
        .bind(p.status)
        .bind(p.amount_minor)
        .bind(p.currency)
        .bind(&p.provider_ref)
        .bind(&p.payment_method)
        .bind(p.failure_code)
        .bind(&p.detail)
        .bind(p.collected)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// How an open operation ends (or goes pending).
#[derive(Debug, Clone, Copy)]
pub struct Settlement<'a> {
    /// The new state.
    pub status: PaymentState,
    /// The provider's reference, when it gave one.
    pub provider_ref: Option<&'a str>,
    /// The failure's code and the provider's own words, for a failure.
    pub failure: Option<(PaymentFailure, &'a str)>,
    /// What replaces the stored payment method (its masked form).
    pub payment_method: Option<&'a str>,
    /// The money already moved (an authorization answered with a completed transfer).
    pub collected: bool,
}

/// Settles an open (`intent` or `pending`) operation; the row as settled, or none if it was
/// already final (a duplicate or late answer changes nothing).
pub async fn settle(
    exec: Exec<'_>,
    id: Uuid,
    s: &Settlement<'_>,
    now: DateTime<Utc>,
) -> Result<Option<PaymentRecord>, DataError> {
    let (code, detail) = s.failure.map_or((None, None), |(c, d)| (Some(c), Some(d)));
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("UPDATE payments SET status = ");
        qb.push_bind(s.status);
        qb.push(", provider_ref = COALESCE(").push_bind(s.provider_ref);
        qb.push(", provider_ref), payment_method = COALESCE(").push_bind(s.payment_method);
        qb.push(", payment_method), failure_code = ").push_bind(code);
        qb.push(", collected = collected OR ").push_bind(s.collected);
        qb.push(", detail = ").push_bind(detail);
        qb.push(", updated_at = ").push_bind(now);
        qb.push(" WHERE id = ").push_bind(id).push(" AND status IN ");
        push_in(&mut qb, PaymentState::OPEN);
        qb.push(" RETURNING ").push(COLUMNS);
        qb.build_query_as::<PaymentRecord>().fetch_optional(&mut *c).await
    })?)
}

/// Notes a new error on an open operation without settling it (it will be retried).
pub async fn note(
    exec: Exec<'_>,
    id: Uuid,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), DataError> {
    let sql = "UPDATE payments SET detail = $1, updated_at = $2 WHERE id = $3 AND status = $4";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(detail)
        .bind(now)
        .bind(id)
        .bind(PaymentState::Intent)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A booking's operations, oldest first.
pub async fn of_booking(exec: Exec<'_>, booking: Uuid) -> Result<Vec<PaymentRecord>, DataError> {
    let sql =
        format!("SELECT {COLUMNS} FROM payments WHERE booking_id = $1 ORDER BY created_at, id");
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(booking)
        .fetch_all(&mut *c)
        .await)?,
    )
}

/// The operations of every booking among `bookings`, oldest first.
pub async fn of_bookings(
    exec: Exec<'_>,
    bookings: &[Uuid],
) -> Result<Vec<PaymentRecord>, DataError> {
    if bookings.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM payments WHERE booking_id IN "));
        push_in(&mut qb, bookings);
        qb.push(" ORDER BY created_at, id");
        qb.build_query_as::<PaymentRecord>().fetch_all(&mut *c).await
    })?)
}

/// The booking's live (not failed) operation of a kind.
pub async fn live(
    exec: Exec<'_>,
    booking: Uuid,
    operation: PaymentOperation,
) -> Result<Option<PaymentRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE booking_id = $1 AND operation = $2 AND status <> $3"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(booking)
        .bind(operation)
        .bind(PaymentState::Failed)
        .fetch_optional(&mut *c)
        .await)?,
    )
}

/// The authorization a provider reference belongs to.
pub async fn authorization_by_ref(
    exec: Exec<'_>,
    provider: &str,
    provider_ref: &str,
) -> Result<Option<PaymentRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE provider = $1 AND provider_ref = $2 \
         AND operation = $3 ORDER BY created_at DESC LIMIT 1"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(provider)
        .bind(provider_ref)
        .bind(PaymentOperation::Authorize)
        .fetch_optional(&mut *c)
        .await)?,
    )
}

/// Operations still `intent` since before `before` (their outcome was lost to a crash or a
/// failing provider).
pub async fn stale_intents(
    exec: Exec<'_>,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<PaymentRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE status = $1 AND updated_at < $2 \
         ORDER BY updated_at LIMIT $3"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(PaymentState::Intent)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?,
    )
}

/// Ended (unconfirmed) bookings whose authorization still holds the guest's money, last
/// changed before `before`: held (`succeeded` or `pending`), never captured, and with no void
/// (or, when the money was collected, no refund) attempted. A failed void or refund is left to an
/// operator rather than retried forever.
pub async fn unreleased(
    exec: Exec<'_>,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Uuid>, DataError> {
    let ended: Vec<BookingStatus> = BookingStatus::ALL
        .iter()
        .copied()
        .filter(|s| !s.is_active())
        .collect();
    let held = [PaymentState::Succeeded, PaymentState::Pending];
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new(
            "SELECT a.booking_id FROM payments a JOIN bookings b ON b.id = a.booking_id \
             WHERE a.operation = ",
        );
        qb.push_bind(PaymentOperation::Authorize);
        qb.push(" AND a.status IN ");
        push_in(&mut qb, &held);
        qb.push(" AND a.updated_at < ").push_bind(before);
        qb.push(" AND b.status IN ");
        push_in(&mut qb, &ended);
        qb.push(" AND NOT EXISTS (SELECT 1 FROM payments o WHERE o.booking_id = a.booking_id AND ((o.operation = ");
        qb.push_bind(PaymentOperation::Capture);
        qb.push(" AND o.status <> ").push_bind(PaymentState::Failed);
        qb.push(") OR o.operation = CASE WHEN a.collected THEN ");
        qb.push_bind(PaymentOperation::Refund);
        qb.push(" ELSE ").push_bind(PaymentOperation::Void);
        qb.push(" END)) ORDER BY a.updated_at LIMIT ").push_bind(i64::from(limit));
        qb.build_query_scalar::<Uuid>().fetch_all(&mut *c).await
    })?)
}

/// Whether `provider` has an operation still waiting for its first answer: a webhook about a
/// reference the ledger does not know yet may be about it.
pub async fn has_unanswered(exec: Exec<'_>, provider: &str) -> Result<bool, DataError> {
    let sql = "SELECT COUNT(*) FROM payments WHERE provider = $1 AND status = $2 \
               AND provider_ref IS NULL";
    let n: i64 = dispatch!(exec, c => sqlx::query_scalar(sql)
        .bind(provider)
        .bind(PaymentState::Intent)
        .fetch_one(&mut *c)
        .await)?;
    Ok(n > 0)
}

/// Records a provider webhook; false if this delivery was already applied.
pub async fn insert_webhook(
    exec: Exec<'_>,
    provider: &str,
    event_id: &str,
    provider_ref: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    let sql =
        "INSERT INTO payment_webhooks (provider, event_id, provider_ref, status, received_at) \
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
    let n = dispatch!(exec, c => sqlx::query(sql)
        .bind(provider)
        .bind(event_id)
        .bind(provider_ref)
        .bind(status)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
