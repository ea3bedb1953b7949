//! The outbox relay: moves committed events, in `seq` order, to the subscribers (embedded) or to
//! the Redis stream, and marks each published only once it is handed on.
//!
//! On PostgreSQL several kernel processes share one outbox; a session advisory lock makes one of
//! them the relay at a time (the others retry each poll), which keeps the order and avoids
//! publishing twice in the normal case. Publishing twice is still harmless: receipts deduplicate.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Bus, Event, Transport};
use crate::data::events as store;
use crate::data::{now, Conn, DataError};

pub(super) async fn run(bus: Bus, stop: CancellationToken) {
    let poll = Duration::from_millis(bus.inner.config.poll_interval_ms.get());
    while !stop.is_cancelled() {
        if let Err(e) = lead(&bus, &stop, poll).await {
            tracing::warn!(error = %e, "outbox relay interrupted; retrying");
        }
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Takes the relay's leadership if free and relays until stopped or an error.
async fn lead(bus: &Bus, stop: &CancellationToken, poll: Duration) -> Result<(), DataError> {
    let mut conn = bus.inner.db.acquire().await?;
    if !store::try_lead_relay(conn.exec()).await? {
        return Ok(());
    }
    let result = relay(bus, &mut conn, stop, poll).await;
    // If the connection is broken the server ended the session, and the lock with it.
    let _ = store::resign_relay(conn.exec()).await;
    result
}

async fn relay(
    bus: &Bus,
    conn: &mut Conn,
    stop: &CancellationToken,
    poll: Duration,
) -> Result<(), DataError> {
    while !stop.is_cancelled() {
        let batch = store::unpublished(conn.exec(), bus.inner.config.batch_size.get()).await?;
        let moved = if batch.is_empty() {
            0
        } else {
            match &bus.inner.transport {
                Transport::Local => hand_to_subscribers(bus, conn, batch).await?,
                Transport::Redis(stream) => match stream.publish(&batch).await {
                    Ok(()) => {
                        let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
                        mark_published(bus, conn, &seqs).await?;
                        seqs.len()
                    }
                    Err(e) => {
                        // The events stay unpublished and go out once Redis is back.
                        tracing::warn!(error = %e, "cannot publish to the Redis stream; will retry");
                        0
                    }
                },
            }
        };
        bus.inner.metrics.bus_published.inc_by(moved as u64);
        if moved == 0 {
            // Every event is written in a transaction: this process's commits wake the relay at
            // once, the poll finds other processes' events.
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(poll) => {}
                () = bus.inner.db.commits().notified() => {}
            }
        }
    }
    Ok(())
}

/// Embedded: every subscriber handles the batch's events (together when it can) before they are
/// marked published, in one statement. Only the events every subscriber settled, counted from
/// the first, are marked, to keep the order when the database is failing; a crash before the
/// marking only hands them on again, which the receipts make harmless.
async fn hand_to_subscribers(
    bus: &Bus,
    conn: &mut Conn,
    batch: Vec<store::EventRecord>,
) -> Result<usize, DataError> {
    // An unreadable event never becomes readable: it is marked, and passed over.
    let mut handled = Vec::with_capacity(batch.len());
    let mut events = Vec::with_capacity(batch.len());
    let mut seqs = Vec::with_capacity(batch.len());
    for record in batch {
        let seq = record.seq;
        match Event::from_record(record) {
            Ok(event) => {
                events.push(event);
                seqs.push(seq);
            }
            Err(e) => {
                tracing::error!(event.seq = seq, error = %e, "skipping an unreadable event");
                handled.push(seq);
            }
        }
    }
    let mut settled = events.len();
    for sub in &bus.inner.subscribers {
        settled = settled.min(bus.deliver_all(sub.as_ref(), &events[..settled]).await);
    }
    handled.extend_from_slice(&seqs[..settled]);
    if !handled.is_empty() {
        mark_published(bus, conn, &handled).await?;
    }
    bus.show_live(&events[..settled]);
    Ok(handled.len())
}

/// Marks events published on the relay's own connection, in the writers' line.
async fn mark_published(bus: &Bus, conn: &mut Conn, seqs: &[i64]) -> Result<(), DataError> {
    let _turn = bus.inner.db.turn().await?;
    store::mark_published(conn.exec(), seqs, now()).await
}
