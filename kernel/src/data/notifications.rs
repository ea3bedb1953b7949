//! SQL for `deliveries` (what notifiers chose to send, and how it went) and `notifications`
//! (the in-app inbox).

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{dispatch, push_in, DataError, Exec};

/// A delivery as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub event_id: Uuid,
    pub plugin_id: String,
    pub position: i32,
    /// `inbox`, `email` or `webhook`.
    pub channel: String,
    /// The address or URL (none for the inbox).
    pub target: Option<String>,
    pub recipient_id: Option<Uuid>,
    pub subject: String,
    pub body: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

const DELIVERY_COLUMNS: &str = "id, event_id, plugin_id, position, channel, target, recipient_id, \
     subject, body, state, attempts, last_error, created_at, delivered_at";

/// Stores a delivery.
pub async fn insert_delivery(exec: Exec<'_>, d: &DeliveryRecord) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO deliveries ({DELIVERY_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    dispatch!(exec, c => sqlx::query(&sql)
        .bind(d.id)
        .bind(d.event_id)
        .bind(&d.plugin_id)
        .bind(d.position)
        .bind(&d.channel)
        .bind(&d.target)
        .bind(d.recipient_id)
        .bind(&d.subject)
        .bind(&d.body)
        .bind(&d.state)
        .bind(d.attempts)
        .bind(&d.last_error)
        .bind(d.created_at)
        .bind(d.delivered_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .map_err(DataError::from)
}

/// Whether `plugin_id` already rendered `event_id` (a rerun of its job).
pub async fn rendered(exec: Exec<'_>, event_id: Uuid, plugin_id: &str) -> Result<bool, DataError> {
    let sql = "SELECT COUNT(*) FROM deliveries WHERE event_id = $1 AND plugin_id = $2";
    let n: i64 = dispatch!(exec, c => sqlx::query_scalar(sql)
        .bind(event_id)
        .bind(plugin_id)
        .fetch_one(&mut *c)
        .await)?;
    Ok(n > 0)
}

/// The deliveries among `ids` that exist, in no particular order.
pub async fn find_deliveries(
    exec: Exec<'_>,
    ids: &[Uuid],
) -> Result<Vec<DeliveryRecord>, DataError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new(format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id IN "));
        push_in(&mut qb, ids);
        qb.build_query_as::<DeliveryRecord>().fetch_all(&mut *c).await
    })?)
}

/// Deliveries of one event, in the order the notifiers chose them.
pub async fn deliveries_of(
    exec: Exec<'_>,
    event_id: Uuid,
) -> Result<Vec<DeliveryRecord>, DataError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE event_id = $1 ORDER BY plugin_id, position"
    );
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, DeliveryRecord>(&sql)
        .bind(event_id)
        .fetch_all(&mut *c)
        .await)?,
    )
}

/// Records an attempt's result: `delivered` (with the time) or the error, `failed` once given up.
pub async fn record_attempt(
    exec: Exec<'_>,
    id: Uuid,
    state: &str,
    error: Option<&str>,
    delivered_at: Option<DateTime<Utc>>,
) -> Result<(), DataError> {
    let sql = "UPDATE deliveries SET state = $1, attempts = attempts + 1, last_error = $2, \
               delivered_at = $3 WHERE id = $4 AND state <> 'delivered'";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(state)
        .bind(error)
        .bind(delivered_at)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// An inbox message as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct InboxRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

const INBOX_COLUMNS: &str = "id, account_id, event_id, kind, subject, body, created_at, read_at";

/// Puts a message in an inbox.
pub async fn insert_inbox(exec: Exec<'_>, n: &InboxRecord) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO notifications ({INBOX_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    dispatch!(exec, c => sqlx::query(&sql)
        .bind(n.id)
        .bind(n.account_id)
        .bind(n.event_id)
        .bind(&n.kind)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(n.created_at)
        .bind(n.read_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// One page of an account's inbox, newest first, starting after the `(created_at, id)` cursor.
pub async fn inbox_page(
    exec: Exec<'_>,
    account_id: Uuid,
    unread_only: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<InboxRecord>, DataError> {
    let unread = if unread_only {
        " AND read_at IS NULL"
    } else {
        ""
    };
    let cursor = if after.is_some() {
        " AND (created_at < $2 OR (created_at = $2 AND id < $3))"
    } else {
        " AND $2 IS NULL AND $3 IS NULL"
    };
    let sql = format!(
        "SELECT {INBOX_COLUMNS} FROM notifications WHERE account_id = $1{unread}{cursor} \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    let (at, id) = after.unzip();
    Ok(dispatch!(exec, c => sqlx::query_as::<_, InboxRecord>(&sql)
        .bind(account_id)
        .bind(at)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?)
}

/// Marks a message read if it is in `account_id`'s inbox; the stored message, or none if it is
/// not theirs.
pub async fn mark_read(
    exec: Exec<'_>,
    account_id: Uuid,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<InboxRecord>, DataError> {
    let sql = format!(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND account_id = $3 \
         RETURNING {INBOX_COLUMNS}"
    );
    Ok(dispatch!(exec, c => sqlx::query_as::<_, InboxRecord>(&sql)
        .bind(at)
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *c)
        .await)?)
}
