//! SQL for `quotes`.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use sqlx::types::Json;

use super::{dispatch, DataError, Exec};
use crate::model::{Currency, QuoteLine};

/// A stored quote.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct QuoteRecord {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub account_id: Option<Uuid>,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: i32,
    pub currency: Currency,
    pub total_minor: i64,
    pub line_items: Json<Vec<QuoteLine>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Stores a quote.
#[tracing::instrument(skip_all, fields(quote.id = %q.id))]
pub async fn insert(exec: Exec<'_>, q: &QuoteRecord) -> Result<(), DataError> {
    let sql = "INSERT INTO quotes (id, listing_id, account_id, check_in, check_out, guests, currency, \
               total_minor, line_items, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(q.id)
        .bind(q.listing_id)
        .bind(q.account_id)
        .bind(q.check_in)
        .bind(q.check_out)
        .bind(q.guests)
        .bind(q.currency)
        .bind(q.total_minor)
        .bind(&q.line_items)
        .bind(q.created_at)
        .bind(q.expires_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A quote by id.
#[tracing::instrument(skip_all, fields(quote.id = %id))]
pub async fn find(exec: Exec<'_>, id: Uuid) -> Result<Option<QuoteRecord>, DataError> {
    let sql =
        "SELECT id, listing_id, account_id, check_in, check_out, guests, currency, total_minor, \
               line_items, created_at, expires_at FROM quotes WHERE id = $1";
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, QuoteRecord>(sql).bind(id).fetch_optional(&mut *c).await)?,
    )
}

/// Deletes quotes that expired before `cutoff`; how many.
#[tracing::instrument(skip_all)]
pub async fn delete_expired(exec: Exec<'_>, cutoff: DateTime<Utc>) -> Result<u64, DataError> {
    let sql = "DELETE FROM quotes WHERE expires_at < $1";
    let done = dispatch!(exec, c => sqlx::query(sql).bind(cutoff).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(done)
}
