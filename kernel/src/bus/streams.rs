//! The Redis Streams transport: the relay appends events to one stream; each subscriber group is
//! a Redis consumer group, and every kernel process runs one consumer per group, so an event is
//! handled by one process per group. An entry is acknowledged only once settled (handled,
//! duplicate, or dead and recorded); an entry taken by a process that died is taken over by
//! another consumer after `bus.reclaim_idle_secs` (`XAUTOCLAIM`).
//!
//! Each process also reads the whole stream without a group ([`tail`]) for its live view, so an
//! event committed on one process reaches the live watchers of every process.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::{AsyncConnectionConfig, Client, RedisError, RedisResult};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Bus, Event, Subscriber};
use crate::config::BusConfig;
use crate::data::events::EventRecord;

/// How long one `XREADGROUP` waits for new entries (also bounds how long a stop takes).
const BLOCK: Duration = Duration::from_millis(1000);
/// Entries read per round.
const COUNT: usize = 64;
/// The pause after a Redis error before trying again.
const PAUSE: Duration = Duration::from_millis(500);

/// The stream and a connection for appending to it. Cheap to clone.
#[derive(Clone)]
pub(super) struct Stream {
    inner: Arc<StreamInner>,
}

struct StreamInner {
    client: Client,
    key: String,
    max_len: u64,
    reclaim_idle: Duration,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Stream {
    pub(super) fn new(
        url: &SecretString,
        prefix: &str,
        config: &BusConfig,
    ) -> Result<Self, RedisError> {
        Ok(Self {
            inner: Arc::new(StreamInner {
                client: Client::open(url.expose_secret())?,
                key: format!("{prefix}:events"),
                max_len: config.stream_max_len.get(),
                reclaim_idle: Duration::from_secs(config.reclaim_idle_secs.get()),
                conn: Mutex::new(None),
            }),
        })
    }

    async fn connect(&self) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(BLOCK + Duration::from_secs(5));
        self.inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// The shared appending connection, connecting if needed.
    async fn appender(&self) -> RedisResult<MultiplexedConnection> {
        let cached = self
            .inner
            .conn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(conn) = cached {
            return Ok(conn);
        }
        let conn = self.connect().await?;
        *self.inner.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        Ok(conn)
    }

    /// Appends a batch of events in one round trip, atomically: a consumer reads all of it or
    /// none, so events committed together are handled together.
    pub(super) async fn publish(&self, batch: &[EventRecord]) -> RedisResult<()> {
        let mut conn = self.appender().await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for e in batch {
            pipe.cmd("XADD")
                .arg(&self.inner.key)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.inner.max_len)
                .arg("*")
                .arg("id")
                .arg(e.id.to_string())
                .arg("kind")
                .arg(&e.kind)
                .arg("payload")
                .arg(&e.payload)
                .arg("at")
                .arg(e.occurred_at.to_rfc3339())
                .ignore();
        }
        let result: RedisResult<()> = pipe.query_async(&mut conn).await;
        if result.is_err() {
            *self.inner.conn.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        result
    }

    /// Creates the consumer group if missing, starting at new entries (`$`), or at the start of
    /// the stream (`0`) when recovering from a stream that disappeared.
    async fn create_group(&self, group: &str, start: &str) -> RedisResult<()> {
        let mut conn = self.appender().await?;
        let created: RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.inner.key)
            .arg(group)
            .arg(start)
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Makes sure `group` exists before this process publishes (best effort: if Redis is down
    /// the consumer creates it when Redis is back).
    pub(super) async fn ensure_group(&self, group: &str) {
        if let Err(e) = self.create_group(group, "$").await {
            tracing::warn!(group, error = %e, "cannot create the consumer group yet");
        }
    }
}

/// One consumer of `subscriber`'s group, until `stop`.
pub(super) async fn consume(
    bus: Bus,
    stream: Stream,
    subscriber: Arc<dyn Subscriber>,
    stop: CancellationToken,
) {
    let group = subscriber.group();
    let consumer = Uuid::now_v7().to_string();
    let reclaim_every = stream.inner.reclaim_idle / 2;
    let mut last_reclaim: Option<Instant> = None;
    let mut conn: Option<MultiplexedConnection> = None;
    while !stop.is_cancelled() {
        let Some(c) = connected(&mut conn, &stream, &stop, group).await else {
            continue;
        };
        let round = async {
            if last_reclaim.is_none_or(|t| t.elapsed() >= reclaim_every) {
                let taken = reclaim(c, &stream, group, &consumer).await?;
                last_reclaim = Some(Instant::now());
                settle(&bus, c, &stream, subscriber.as_ref(), taken).await?;
            }
            let fresh = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                read = read_new(c, &stream, group, &consumer) => read?,
            };
            settle(&bus, c, &stream, subscriber.as_ref(), fresh).await
        };
        if let Err(e) = round.await {
            if e.code() == Some("NOGROUP") {
                // The stream was deleted (or Redis restarted empty): recreate from its start.
                let _ = stream.create_group(group, "0").await;
            } else {
                tracing::warn!(group, error = %e, "event consumer error; reconnecting");
                conn = None;
            }
            pause(&stop).await;
        }
    }
}

/// This process's live view of the stream: every entry appended from when it starts (a plain
/// `XREAD`, no group, nothing acknowledged), shown to [`Bus::live`]'s receivers. After an error
/// it carries on from the last entry it saw, so an outage shorter than the stream's length
/// loses nothing.
pub(super) async fn tail(bus: Bus, stream: Stream, stop: CancellationToken) {
    let mut last = "$".to_owned();
    let mut conn: Option<MultiplexedConnection> = None;
    while !stop.is_cancelled() {
        let Some(c) = connected(&mut conn, &stream, &stop, "live").await else {
            continue;
        };
        let read = tokio::select! {
            () = stop.cancelled() => return,
            read = read_after(c, &stream, &last) => read,
        };
        match read {
            Ok(entries) => {
                if let Some(entry) = entries.last() {
                    last.clone_from(&entry.id);
                }
                let events: Vec<Event> = entries.iter().filter_map(parse).collect();
                bus.show_live(&events);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the live event reader failed; reconnecting");
                conn = None;
                pause(&stop).await;
            }
        }
    }
}

/// The entries after `last` (`$`: from now), waiting up to [`BLOCK`] for some.
async fn read_after(
    c: &mut MultiplexedConnection,
    stream: &Stream,
    last: &str,
) -> RedisResult<Vec<StreamId>> {
    read(c, redis::cmd("XREAD"), stream, last).await
}

/// The reader's connection, connecting if it has none; `None` (after a pause) when Redis cannot
/// be reached, so the caller tries again.
async fn connected<'c>(
    conn: &'c mut Option<MultiplexedConnection>,
    stream: &Stream,
    stop: &CancellationToken,
    reader: &str,
) -> Option<&'c mut MultiplexedConnection> {
    if conn.is_none() {
        match stream.connect().await {
            Ok(c) => *conn = Some(c),
            Err(e) => {
                tracing::warn!(reader, error = %e, "an event reader cannot reach Redis");
                pause(stop).await;
                return None;
            }
        }
    }
    conn.as_mut()
}

async fn pause(stop: &CancellationToken) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(PAUSE) => {}
    }
}

async fn read_new(
    c: &mut MultiplexedConnection,
    stream: &Stream,
    group: &str,
    consumer: &str,
) -> RedisResult<Vec<StreamId>> {
    let mut command = redis::cmd("XREADGROUP");
    command.arg("GROUP").arg(group).arg(consumer);
    read(c, command, stream, ">").await
}

/// Runs `command` (`XREAD`, or `XREADGROUP` with its group) for up to [`COUNT`] entries of the
/// stream after `after`, waiting up to [`BLOCK`] for some.
async fn read(
    c: &mut MultiplexedConnection,
    mut command: redis::Cmd,
    stream: &Stream,
    after: &str,
) -> RedisResult<Vec<StreamId>> {
    let reply: Option<StreamReadReply> = command
        .arg("COUNT")
        .arg(COUNT)
        .arg("BLOCK")
        .arg(BLOCK.as_millis() as u64)
        .arg("STREAMS")
        .arg(&stream.inner.key)
        .arg(after)
        .query_async(c)
        .await?;
    Ok(reply
        .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
        .unwrap_or_default())
}

/// Takes over entries another consumer took but left unacknowledged for too long.
async fn reclaim(
    c: &mut MultiplexedConnection,
    stream: &Stream,
    group: &str,
    consumer: &str,
) -> RedisResult<Vec<StreamId>> {
    let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
        .arg(&stream.inner.key)
        .arg(group)
        .arg(consumer)
        .arg(stream.inner.reclaim_idle.as_millis() as u64)
        .arg("0-0")
        .arg("COUNT")
        .arg(COUNT)
        .query_async(c)
        .await?;
    if !reply.claimed.is_empty() {
        tracing::info!(
            group,
            taken = reply.claimed.len(),
            "took over events left by another consumer"
        );
    }
    Ok(reply.claimed)
}

/// Delivers the entries (together when the subscriber can) and acknowledges the settled ones
/// in one command. An entry that could not be settled stays pending (and is reclaimed later),
/// with every entry after it.
async fn settle(
    bus: &Bus,
    c: &mut MultiplexedConnection,
    stream: &Stream,
    subscriber: &dyn Subscriber,
    entries: Vec<StreamId>,
) -> RedisResult<()> {
    // An unreadable entry never becomes readable: it is acknowledged, and passed over.
    let mut done = Vec::with_capacity(entries.len());
    let mut events = Vec::with_capacity(entries.len());
    let mut ids = Vec::with_capacity(entries.len());
    for entry in entries {
        match parse(&entry) {
            Some(event) => {
                events.push(event);
                ids.push(entry.id);
            }
            None => {
                tracing::error!(stream.id = %entry.id, "skipping an unreadable stream entry");
                done.push(entry.id);
            }
        }
    }
    let settled = bus.deliver_all(subscriber, &events).await;
    done.extend(ids.into_iter().take(settled));
    if done.is_empty() {
        return Ok(());
    }
    let _: i64 = redis::cmd("XACK")
        .arg(&stream.inner.key)
        .arg(subscriber.group())
        .arg(&done)
        .query_async(c)
        .await?;
    Ok(())
}

fn parse(entry: &StreamId) -> Option<Event> {
    let id: String = entry.get("id")?;
    let kind: String = entry.get("kind")?;
    let payload: String = entry.get("payload")?;
    let at: String = entry.get("at")?;
    Some(Event {
        id: id.parse().ok()?,
        kind,
        payload: serde_json::from_str(&payload).ok()?,
        occurred_at: chrono::DateTime::parse_from_rfc3339(&at).ok()?.to_utc(),
    })
}
