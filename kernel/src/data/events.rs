//! SQL for the outbox (`events`) and the subscribers' receipts (`event_receipts`).

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{dispatch, push_in, DataError, Exec};

/// An outbox row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRecord {
    /// Commit-independent position: the relay publishes in this order.
    pub seq: i64,
    /// UUIDv7.
    pub id: Uuid,
    /// e.g. `user_registered`.
    pub kind: String,
    /// JSON.
    pub payload: String,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
}

/// Writes events into the outbox (inside the caller's transaction), in one statement, in
/// order: their `seq`s follow the slice.
#[tracing::instrument(skip_all, fields(events = records.len()))]
pub async fn insert(exec: Exec<'_>, records: &[EventRecord]) -> Result<(), DataError> {
    if records.is_empty() {
        return Ok(());
    }
    dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("INSERT INTO events (id, kind, payload, occurred_at) ");
        qb.push_values(records, |mut row, e| {
            row.push_bind(e.id)
                .push_bind(&e.kind)
                .push_bind(&e.payload)
                .push_bind(e.occurred_at);
        });
        qb.build().execute(&mut *c).await.map(|_| ())
    })?;
    Ok(())
}

/// The oldest committed events not yet handed on, in `seq` order.
pub async fn unpublished(exec: Exec<'_>, limit: u32) -> Result<Vec<EventRecord>, DataError> {
    let sql = "SELECT seq, id, kind, payload, occurred_at FROM events \
               WHERE published_at IS NULL ORDER BY seq LIMIT $1";
    Ok(dispatch!(exec, c => sqlx::query_as::<_, EventRecord>(sql)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?)
}

/// Sequence numbers per `UPDATE ... IN (...)` on SQLite.
const SQLITE_IN_CHUNK: usize = 500;

/// Marks exactly these events as handed on. (Not a range: an event with a lower `seq` may
/// commit after a higher one was read.)
pub async fn mark_published(
    exec: Exec<'_>,
    seqs: &[i64],
    at: DateTime<Utc>,
) -> Result<(), DataError> {
    match exec {
        Exec::Postgres(c) => {
            sqlx::query("UPDATE events SET published_at = $1 WHERE seq = ANY($2)")
                .bind(at)
                .bind(seqs)
                .execute(&mut *c)
                .await?;
        }
        Exec::Sqlite(c) => {
            // SQLite has no array binds: the batch as `IN (...)`, so a relay round is one
            // statement rather than one per event (in chunks, well under SQLite's bind limit,
            // whatever `bus.batch_size` is).
            for chunk in seqs.chunks(SQLITE_IN_CHUNK) {
                let mut qb = QueryBuilder::new("UPDATE events SET published_at = ");
                qb.push_bind(at).push(" WHERE seq IN ");
                push_in(&mut qb, chunk);
                qb.build().execute(&mut *c).await?;
            }
        }
    }
    Ok(())
}

/// Takes the relay's leadership on PostgreSQL: a session advisory lock, held while the
/// connection lives, so several kernel processes publish one at a time and in order. SQLite is
/// one process: always granted.
pub async fn try_lead_relay(exec: Exec<'_>) -> Result<bool, DataError> {
    match exec {
        Exec::Postgres(c) => Ok(sqlx::query_scalar::<_, bool>(
            "SELECT pg_try_advisory_lock(hashtext('hearth.outbox.relay'))",
        )
        .fetch_one(&mut *c)
        .await?),
        Exec::Sqlite(_) => Ok(true),
    }
}

/// Gives up the relay's leadership.
pub async fn resign_relay(exec: Exec<'_>) -> Result<(), DataError> {
    if let Exec::Postgres(c) = exec {
        sqlx::query("SELECT pg_advisory_unlock(hashtext('hearth.outbox.relay'))")
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// How a subscriber finished with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its handler committed. (`dead` receipts were written by versions that gave up on an
    /// event; a failing event now goes to a `redeliver_event` job instead.)
    Handled,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Handled => "handled",
        }
    }
}

/// Records that `subscriber` finished with `event_id`; false if it already had (a redelivery).
/// On PostgreSQL a concurrent insert of the same receipt waits for the first to commit.
pub async fn insert_receipt(
    exec: Exec<'_>,
    subscriber: &str,
    event_id: Uuid,
    outcome: Outcome,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, DataError> {
    let sql = "INSERT INTO event_receipts (subscriber, event_id, outcome, error, handled_at) \
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
    let done = dispatch!(exec, c => sqlx::query(sql)
        .bind(subscriber)
        .bind(event_id)
        .bind(outcome.as_str())
        .bind(error)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Deletes events published before `before`, with their receipts; how many events.
pub async fn delete_published(exec: Exec<'_>, before: DateTime<Utc>) -> Result<u64, DataError> {
    let receipts = "DELETE FROM event_receipts WHERE event_id IN \
                    (SELECT id FROM events WHERE published_at < $1)";
    let events = "DELETE FROM events WHERE published_at < $1";
    Ok(dispatch!(exec, c => {
        match sqlx::query(receipts).bind(before).execute(&mut *c).await {
            Ok(_) => sqlx::query(events)
                .bind(before)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()),
            Err(e) => Err(e),
        }
    })?)
}
