//! SQL for the payments ledger (`payments`) and applied provider webhooks
//! (`payment_webhooks`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{dispatch, DataError, Exec};

/// One operation with a provider.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct PaymentRecord {
    pub id: Uuid,
    pub booking_id: Uuid,
    /// The payments plugin id.
    pub provider: String,
    /// `authorize`, `capture`, `refund` or `void`.
    pub operation: String,
    /// `intent` (recorded, provider not yet answered), `pending` (the provider will say by
    /// webhook), `succeeded` or `failed`.
    pub status: String,
    pub amount_minor: i64,
    pub currency: String,
    pub provider_ref: Option<String>,
    /// The client's payment method token (authorizations only).
    pub payment_method: Option<String>,
    /// A decline reason or error.
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, booking_id, provider, operation, status, amount_minor, currency, \
    provider_ref, payment_method, detail, created_at, updated_at";

/// Records an operation; [`DataError::UniqueViolation`] if the booking already has a live one
/// of the same kind.
pub async fn insert(exec: Exec<'_>, p: &PaymentRecord) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    dispatch!(exec, c => sqlx::query(&sql)
        .bind(p.id)
        .bind(p.booking_id)
        .bind(&p.provider)
        .bind(&p.operation)
        .bind(&p.status)
        .bind(p.amount_minor)
        .bind(&p.currency)
        .bind(&p.provider_ref)
        .bind(&p.payment_method)
        .bind(&p.detail)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .map_err(DataError::from_query)
}

/// Settles an open (`intent` or `pending`) operation; the row as settled, or none if it was
/// already final (a duplicate or late answer changes nothing).
pub async fn settle(
    exec: Exec<'_>,
    id: Uuid,
    status: &str,
    provider_ref: Option<&str>,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<PaymentRecord>, DataError> {
    let sql = format!(
        "UPDATE payments SET status = $1, provider_ref = COALESCE($2, provider_ref), detail = $3, \
         updated_at = $4 WHERE id = $5 AND status IN ('intent', 'pending') RETURNING {COLUMNS}"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(status)
        .bind(provider_ref)
        .bind(detail)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?,
    )
}

/// Notes a new error on an open operation without settling it (it will be retried).
pub async fn note(
    exec: Exec<'_>,
    id: Uuid,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), DataError> {
    let sql =
        "UPDATE payments SET detail = $1, updated_at = $2 WHERE id = $3 AND status = 'intent'";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(detail)
        .bind(now)
        .bind(id)
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

/// The booking's live (not failed) operation of a kind.
pub async fn live(
    exec: Exec<'_>,
    booking: Uuid,
    operation: &str,
) -> Result<Option<PaymentRecord>, DataError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE booking_id = $1 AND operation = $2 AND status <> 'failed'"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(booking)
        .bind(operation)
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
         AND operation = 'authorize' ORDER BY created_at DESC LIMIT 1"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(provider)
        .bind(provider_ref)
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
        "SELECT {COLUMNS} FROM payments WHERE status = 'intent' AND updated_at < $1 \
         ORDER BY updated_at LIMIT $2"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, PaymentRecord>(&sql)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?,
    )
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
