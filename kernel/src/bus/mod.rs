//! The event bus: a transactional outbox, a relay, and subscriber groups.
//!
//! A domain change writes its event with [`record`] in the same transaction as the change, so an
//! event exists exactly when the change committed. The relay (`relay`) reads committed events
//! in order and hands them on: straight to this process's subscribers on the embedded default,
//! or into a Redis stream that every kernel process reads through consumer groups
//! (`streams`), so each event is handled once per group across processes. An event is marked
//! published only once handed on, so a crash or a Redis outage delays events but never drops
//! them.
//!
//! Delivery is at least once. A subscriber's handler runs in a transaction that first inserts
//! the group's receipt for the event (for each event, when the relay hands on a batch
//! together): a redelivery finds the receipt and is skipped, and the handler's own writes
//! commit with the receipt or not at all. A failing handler is retried at once with a short
//! backoff, up to `bus.max_attempts`; then the event is handed, for that group,
//! to a durable `redeliver_event` job ([`REDELIVER`]), which retries with the jobs' backoff (up
//! to an hour apart) and, after `jobs.max_attempts`, is dead-lettered where admins see it
//! (`GET /v1/admin/jobs`) and can retry it. An event is never silently given up.
//!
//! Beside the groups, every process has a live view of the bus ([`Bus::live`]): each committed
//! event, on whichever process it happened, once it was handed on. It feeds what watches
//! events as they happen (GraphQL subscriptions); it is best effort (nothing is redelivered),
//! so a watcher that falls behind is told so rather than silently skipped.

mod relay;
mod streams;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::{BusConfig, CacheBackendKind, CacheConfig};
use crate::data::events::{self as store, EventRecord, Outcome};
use crate::data::{in_background, now, DataError, Database, Exec, Tx};
use crate::jobs::{Enqueue, JobError, JobHandler, JobRun, Jobs};
use crate::metrics::{BusLabels, Metrics};

/// A committed event, as subscribers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id; subscribers deduplicate by it.
    pub id: Uuid,
    /// e.g. `user_registered`.
    pub kind: String,
    /// The event's data.
    pub payload: serde_json::Value,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    fn from_record(r: EventRecord) -> Result<Self, DataError> {
        Ok(Self {
            id: r.id,
            kind: r.kind,
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| DataError::Corrupt(format!("event payload: {e}")))?,
            occurred_at: r.occurred_at,
        })
    }
}

/// A domain event: its payload, which names its kind.
pub trait DomainEvent: Serialize {
    /// The event kind, e.g. `user_registered`.
    fn kind(&self) -> &str;
}

/// Writes `event` into the outbox inside the caller's transaction; it is published after the
/// transaction commits, and never if it rolls back.
pub async fn record<E: DomainEvent>(exec: Exec<'_>, event: &E) -> Result<Uuid, DataError> {
    let record = outbox_row(event, now())?;
    store::insert(exec, std::slice::from_ref(&record)).await?;
    Ok(record.id)
}

/// Writes `events` into the outbox in one statement, in order, inside the caller's
/// transaction, as [`record`] does one.
pub async fn record_all<E: DomainEvent>(exec: Exec<'_>, events: &[E]) -> Result<(), DataError> {
    let occurred_at = now();
    let records = events
        .iter()
        .map(|event| outbox_row(event, occurred_at))
        .collect::<Result<Vec<_>, DataError>>()?;
    store::insert(exec, &records).await
}

fn outbox_row<E: DomainEvent>(
    event: &E,
    occurred_at: DateTime<Utc>,
) -> Result<EventRecord, DataError> {
    let payload = serde_json::to_value(event)
        .map_err(|e| DataError::Corrupt(format!("event payload: {e}")))?;
    Ok(EventRecord {
        seq: 0,
        id: Uuid::now_v7(),
        kind: event.kind().to_owned(),
        payload: payload.to_string(),
        occurred_at,
    })
}

/// Why a handler failed; the event is retried.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The database failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A subscriber group: every event is handled once by each group.
pub trait Subscriber: Send + Sync + 'static {
    /// The group's name (stable: receipts and Redis consumer groups are keyed by it).
    fn group(&self) -> &'static str;

    /// Whether this group does anything with `event`. One it does not want is passed over with
    /// no transaction and no receipt (handling it would change nothing, now or on a redelivery).
    fn wants(&self, _event: &Event) -> bool {
        true
    }

    /// Handles `events`, in order, inside `tx`, which also holds the group's receipt for each.
    /// The relay hands on a whole batch in one transaction when it can; after a failure it
    /// retries the batch's events one by one, so a handler sees a given event alone or in a
    /// batch, and its writes commit with that event's receipt either way.
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
}

/// The bus: the outbox relay plus this process's subscribers.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    /// Where deferred deliveries go ([`REDELIVER`]).
    jobs: Jobs,
    config: BusConfig,
    subscribers: Vec<Arc<dyn Subscriber>>,
    transport: Transport,
    metrics: Metrics,
    /// This process's live view: every event once handed on.
    live: broadcast::Sender<Arc<Event>>,
}

/// Events a live watcher may fall behind by before it is told it missed some.
const LIVE_BACKLOG: usize = 1024;

enum Transport {
    /// Subscribers in this process, called by the relay.
    Local,
    /// A Redis stream read by consumer groups.
    Redis(streams::Stream),
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let groups: Vec<_> = self.inner.subscribers.iter().map(|s| s.group()).collect();
        f.debug_struct("Bus")
            .field("groups", &groups)
            .field(
                "transport",
                &match self.inner.transport {
                    Transport::Local => "local",
                    Transport::Redis(_) => "redis",
                },
            )
            .finish()
    }
}

/// Why the bus could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The Redis URL is unusable.
    #[error("cannot set up the Redis stream: {0}")]
    Redis(#[from] redis::RedisError),
}

impl Bus {
    /// A bus over `db` for `subscribers`; Redis Streams when the cache is Redis.
    pub fn new(
        db: Database,
        jobs: Jobs,
        config: &BusConfig,
        cache: &CacheConfig,
        metrics: Metrics,
        subscribers: Vec<Arc<dyn Subscriber>>,
    ) -> Result<Self, BusError> {
        let transport = match (&cache.backend, &cache.redis_url) {
            (CacheBackendKind::Redis, Some(url)) => {
                Transport::Redis(streams::Stream::new(url, &cache.key_prefix, config)?)
            }
            _ => Transport::Local,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                jobs,
                config: config.clone(),
                subscribers,
                transport,
                metrics,
                live: broadcast::channel(LIVE_BACKLOG).0,
            }),
        })
    }

    /// Every event committed from now on, on any process (with Redis, each process reads the
    /// whole stream for this, beside its consumer groups), in the order the relay handed them
    /// on. A receiver more than 1,024 events behind (`LIVE_BACKLOG`) gets `Lagged` and continues
    /// with the newest.
    pub fn live(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.live.subscribe()
    }

    /// Shows `events` to the live watchers (there may be none).
    fn show_live(&self, events: &[Event]) {
        if self.inner.live.receiver_count() == 0 {
            return;
        }
        for event in events {
            let _ = self.inner.live.send(Arc::new(event.clone()));
        }
    }

    /// Starts the relay and (with Redis) one consumer per group and the live view's reader;
    /// they stop when `stop` is cancelled.
    pub async fn start(&self, stop: CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let Transport::Redis(stream) = &self.inner.transport {
            // Groups first: a group created after the relay's first append would skip it.
            for sub in &self.inner.subscribers {
                stream.ensure_group(sub.group()).await;
            }
            for sub in &self.inner.subscribers {
                tasks.push(tokio::spawn(in_background(streams::consume(
                    self.clone(),
                    stream.clone(),
                    sub.clone(),
                    stop.clone(),
                ))));
            }
            tasks.push(tokio::spawn(in_background(streams::tail(
                self.clone(),
                stream.clone(),
                stop.clone(),
            ))));
        }
        tasks.push(tokio::spawn(in_background(relay::run(
            self.clone(),
            stop.clone(),
        ))));
        tasks
    }

    /// Hands `events` to `subscriber` in order: the ones it wants in one transaction, or, if
    /// that fails, one by one as [`Bus::deliver`] does. The number settled, counted from the
    /// first: the caller offers the rest again later.
    async fn deliver_all(&self, subscriber: &dyn Subscriber, events: &[Event]) -> usize {
        let wanted: Vec<Event> = events
            .iter()
            .filter(|e| subscriber.wants(e))
            .cloned()
            .collect();
        if wanted.len() > 1 {
            let group = subscriber.group();
            match self.handle_together(subscriber, &wanted).await {
                Ok(fresh) => {
                    let count = |outcome, n: usize| {
                        self.inner
                            .metrics
                            .bus_events
                            .get_or_create(&BusLabels { group, outcome })
                            .inc_by(n as u64);
                    };
                    count("handled", fresh);
                    count("duplicate", wanted.len() - fresh);
                    count("unwanted", events.len() - wanted.len());
                    return events.len();
                }
                Err(e) => {
                    tracing::info!(group, events = wanted.len(), error = %e, "a batch failed; handing its events on one by one");
                }
            }
        }
        for (settled, event) in events.iter().enumerate() {
            if !self.deliver(subscriber, event).await {
                return settled;
            }
        }
        events.len()
    }

    /// Hands `event` to `subscriber`, retrying a failing handler with backoff. True once it was
    /// handled, found to be a duplicate, or given up on and recorded as dead; false if not even
    /// that could be recorded (the database is down): the caller must offer it again later.
    async fn deliver(&self, subscriber: &dyn Subscriber, event: &Event) -> bool {
        let group = subscriber.group();
        if !subscriber.wants(event) {
            self.inner
                .metrics
                .bus_events
                .get_or_create(&BusLabels {
                    group,
                    outcome: "unwanted",
                })
                .inc();
            return true;
        }
        let count = |outcome| {
            self.inner
                .metrics
                .bus_events
                .get_or_create(&BusLabels { group, outcome })
                .inc();
        };
        let max = self.inner.config.max_attempts.get();
        for attempt in 1..=max {
            match self.handle_once(subscriber, event).await {
                Ok(true) => {
                    count("handled");
                    return true;
                }
                Ok(false) => {
                    count("duplicate");
                    return true;
                }
                Err(e) => {
                    count("failed");
                    tracing::warn!(group, event.id = %event.id, event.kind = %event.kind, attempt, error = %e, "subscriber failed");
                    if attempt == max {
                        let deferred = self.defer(group, event, &e.to_string()).await;
                        if deferred {
                            count("deferred");
                        }
                        return deferred;
                    }
                    let delay = self
                        .inner
                        .config
                        .retry_base_ms
                        .saturating_mul(1 << attempt.min(16));
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
            }
        }
        false
    }

    /// One attempt: receipt and handler in one transaction. `false` for a redelivery.
    async fn handle_once(
        &self,
        subscriber: &dyn Subscriber,
        event: &Event,
    ) -> Result<bool, HandlerError> {
        let fresh = self
            .handle_together(subscriber, std::slice::from_ref(event))
            .await?;
        Ok(fresh == 1)
    }

    /// One attempt at several events: every receipt and one handler call in one transaction.
    /// How many were fresh (the rest were redeliveries).
    async fn handle_together(
        &self,
        subscriber: &dyn Subscriber,
        events: &[Event],
    ) -> Result<usize, HandlerError> {
        let mut tx = self.inner.db.begin().await?;
        let group = subscriber.group();
        let mut fresh = Vec::with_capacity(events.len());
        for event in events {
            if store::insert_receipt(tx.exec(), group, event.id, Outcome::Handled, None, now())
                .await?
            {
                fresh.push(event.clone());
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        subscriber.handle(&mut tx, &fresh).await?;
        tx.commit().await?;
        // A handler queues its follow-up work as jobs.
        self.inner.jobs.wake();
        Ok(fresh.len())
    }

    /// Hands `event` for `group` to a durable [`REDELIVER`] job, so the stream moves on while
    /// the job keeps trying. False if the job could not be queued (the event is offered again).
    async fn defer(&self, group: &str, event: &Event, error: &str) -> bool {
        tracing::error!(group, event.id = %event.id, event.kind = %event.kind, error, "subscriber keeps failing; a redeliver_event job takes over");
        let job = Redelivery {
            group: group.to_owned(),
            event: event.clone(),
        };
        let options = Enqueue::unique(format!("redeliver:{group}:{}", event.id));
        match self.inner.jobs.enqueue(REDELIVER, &job, options).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(group, event.id = %event.id, error = %e, "cannot queue the redelivery; the event will be offered again");
                false
            }
        }
    }

    /// The job handler that carries on delivering deferred events.
    pub fn redelivery(&self) -> Arc<dyn JobHandler> {
        Arc::new(Redeliver(self.clone()))
    }
}

/// The job kind that carries on delivering an event a subscriber group kept failing on.
pub const REDELIVER: &str = "redeliver_event";

/// A [`REDELIVER`] job: the event itself (so retention never prunes it away) and the group.
#[derive(Debug, Serialize, Deserialize)]
struct Redelivery {
    group: String,
    event: Event,
}

struct Redeliver(Bus);

impl JobHandler for Redeliver {
    fn kind(&self) -> &'static str {
        REDELIVER
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let job: Redelivery = run.job.payload()?;
            let bus = &self.0;
            let Some(subscriber) = bus
                .inner
                .subscribers
                .iter()
                .find(|s| s.group() == job.group)
            else {
                return Err(JobError::Permanent(format!(
                    "no subscriber group `{}` in this process",
                    job.group
                )));
            };
            let outcome = match bus.handle_once(subscriber.as_ref(), &job.event).await {
                Ok(true) => "handled",
                Ok(false) => "duplicate",
                Err(e) => return Err(JobError::Failed(e.to_string())),
            };
            bus.inner
                .metrics
                .bus_events
                .get_or_create(&BusLabels {
                    group: subscriber.group(),
                    outcome,
                })
                .inc();
            Ok(())
        })
    }
}
