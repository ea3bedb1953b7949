//! The event bus: outbox, relay and subscriber groups, on the embedded default (in-process) and
//! on PostgreSQL + Redis Streams, including two kernels sharing one database and one Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use hearth::bus::{self, DomainEvent, Event, HandlerError, Subscriber};
use hearth::data::Tx;
use hearth::startup::Extensions;
use serde::Serialize;
use uuid::Uuid;

use crate::helpers::{sql_count, sql_exec, wait_until, Backend, Link, Stores, TestApp};

/// A subscriber that records what it handled, failing the first `fail_first` attempts at
/// each event. It only looks at `test_*` events (the kernel publishes its own too).
struct Recorder {
    group: &'static str,
    fail_first: u32,
    attempts: Mutex<HashMap<Uuid, u32>>,
    handled: Mutex<Vec<Uuid>>,
    /// How many `test_*` events each successful handler call was given.
    calls: Mutex<Vec<usize>>,
}

impl Recorder {
    fn new(group: &'static str, fail_first: u32) -> Arc<Self> {
        Arc::new(Self {
            group,
            fail_first,
            attempts: Mutex::default(),
            handled: Mutex::default(),
            calls: Mutex::default(),
        })
    }

    fn handled(&self) -> Vec<Uuid> {
        self.handled.lock().expect("lock").clone()
    }

    fn calls(&self) -> Vec<usize> {
        self.calls.lock().expect("lock").clone()
    }

    fn attempts(&self, id: Uuid) -> u32 {
        self.attempts
            .lock()
            .expect("lock")
            .get(&id)
            .copied()
            .unwrap_or(0)
    }
}

impl Subscriber for Recorder {
    fn group(&self) -> &'static str {
        self.group
    }

    fn handle<'a>(
        &'a self,
        _tx: &'a mut Tx,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            // What the handler did counts only if all of it succeeds, as a transaction's writes.
            let mut handled = Vec::new();
            for event in events.iter().filter(|e| e.kind.starts_with("test_")) {
                let attempt = {
                    let mut attempts = self.attempts.lock().expect("lock");
                    let n = attempts.entry(event.id).or_default();
                    *n += 1;
                    *n
                };
                if attempt <= self.fail_first {
                    return Err(HandlerError::Other(format!("planned failure {attempt}")));
                }
                handled.push(event.id);
            }
            if !handled.is_empty() {
                self.calls.lock().expect("lock").push(handled.len());
            }
            self.handled.lock().expect("lock").extend(handled);
            Ok(())
        })
    }
}

#[derive(Serialize)]
struct TestEvent {
    #[serde(skip)]
    kind: &'static str,
    n: u32,
}

impl DomainEvent for TestEvent {
    fn kind(&self) -> &str {
        self.kind
    }
}

fn with(subscribers: &[&Arc<Recorder>]) -> Extensions {
    Extensions {
        subscribers: subscribers
            .iter()
            .map(|r| (*r).clone() as Arc<dyn Subscriber>)
            .collect(),
        job_handlers: Vec::new(),
    }
}

async fn spawn(backend: Backend, subscribers: &[&Arc<Recorder>]) -> Option<TestApp> {
    TestApp::builder()
        .extensions(with(subscribers))
        .spawn(backend)
        .await
}

/// Commits `count` events of `kind` in one transaction; their ids.
async fn publish(app: &TestApp, kind: &'static str, count: u32) -> Vec<Uuid> {
    let mut tx = app.kernel.db.begin().await.expect("begin");
    let mut ids = Vec::new();
    for n in 0..count {
        ids.push(
            bus::record(tx.exec(), &TestEvent { kind, n })
                .await
                .expect("record"),
        );
    }
    tx.commit().await.expect("commit");
    ids
}

fn exactly_once(handled: &[Uuid], expected: &[Uuid]) -> bool {
    let mut got = handled.to_vec();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    got == want
}

async fn an_event_in_a_rolled_back_transaction_is_never_delivered(backend: Backend) {
    let audit = Recorder::new("audit", 0);
    let Some(app) = spawn(backend, &[&audit]).await else {
        return;
    };
    {
        let mut tx = app.kernel.db.begin().await.expect("begin");
        bus::record(
            tx.exec(),
            &TestEvent {
                kind: "test_rolled_back",
                n: 0,
            },
        )
        .await
        .expect("record");
        // Dropped without commit: rolled back.
    }
    let committed = publish(&app, "test_committed", 1).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            audit.handled().contains(&committed[0])
        })
        .await,
        "the committed event is delivered"
    );
    // The relay publishes in order, so anything before the committed event has gone by.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(audit.handled(), committed, "only the committed event");
    let in_outbox = sql_count(
        &app,
        "SELECT COUNT(*) FROM events WHERE kind = 'test_rolled_back'",
    )
    .await;
    assert_eq!(in_outbox, 0);
}

async fn a_committed_event_reaches_each_group_once_even_when_its_handler_fails_twice(
    backend: Backend,
) {
    let flaky = Recorder::new("flaky", 2);
    let steady = Recorder::new("steady", 0);
    let Some(app) = spawn(backend, &[&flaky, &steady]).await else {
        return;
    };
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.extend(publish(&app, "test_order_placed", 4).await);
    }
    assert!(
        wait_until(Duration::from_secs(20), || async {
            flaky.handled().len() >= ids.len() && steady.handled().len() >= ids.len()
        })
        .await,
        "flaky handled {} and steady {} of {}",
        flaky.handled().len(),
        steady.handled().len(),
        ids.len()
    );
    assert!(exactly_once(&flaky.handled(), &ids));
    assert!(exactly_once(&steady.handled(), &ids));
    for id in &ids {
        assert_eq!(flaky.attempts(*id), 3, "two failures, then success");
        assert_eq!(steady.attempts(*id), 1);
    }
    for group in ["flaky", "steady"] {
        let receipts = sql_count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM event_receipts WHERE subscriber = '{group}' AND outcome = 'handled'"
            ),
        )
        .await;
        assert!(receipts >= ids.len() as i64, "{group}: {receipts} receipts");
    }

    // Redelivery (at least once) is harmless: publish everything again and nothing is handled
    // a second time.
    sql_exec(&app, "UPDATE events SET published_at = NULL").await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            sql_count(
                &app,
                "SELECT COUNT(*) FROM events WHERE published_at IS NULL",
            )
            .await
                == 0
        })
        .await,
        "the relay publishes everything again"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(exactly_once(&flaky.handled(), &ids));
    assert!(exactly_once(&steady.handled(), &ids));
    let metrics = app.kernel.metrics.render();
    assert!(
        metrics.contains(r#"hearth_bus_events_total{group="steady",outcome="duplicate"}"#),
        "redeliveries are counted as duplicates:\n{metrics}"
    );
}

async fn events_committed_together_reach_a_group_in_one_call(backend: Backend) {
    let steady = Recorder::new("steady", 0);
    let flaky = Recorder::new("flaky", 1);
    let Some(app) = spawn(backend, &[&steady, &flaky]).await else {
        return;
    };
    let ids = publish(&app, "test_batch", 10).await;
    assert!(
        wait_until(Duration::from_secs(20), || async {
            steady.handled().len() >= ids.len() && flaky.handled().len() >= ids.len()
        })
        .await,
        "steady handled {} and flaky {} of {}",
        steady.handled().len(),
        flaky.handled().len(),
        ids.len()
    );
    // One transaction for the batch: ten receipts, one handler call.
    assert_eq!(steady.calls(), vec![10]);
    // A failing batch is handed on event by event, each once.
    assert!(exactly_once(&flaky.handled(), &ids));
    assert_eq!(flaky.calls(), vec![1; 10]);
    for id in &ids {
        assert_eq!(flaky.attempts(*id), 2, "one failure, then success");
    }
}

/// The broken group's receipts of `test_poison` events (joined on the events table, so the id
/// compares as stored on either backend).
const POISON_RECEIPTS: &str = "SELECT COUNT(*) FROM event_receipts r JOIN events e \
    ON e.id = r.event_id WHERE r.subscriber = 'broken' AND e.kind = 'test_poison'";

async fn a_handler_that_keeps_failing_is_retried_by_a_job_until_an_admin_acts(backend: Backend) {
    // Five quick tries in the bus (bus.max_attempts), then three by the durable job
    // (jobs.max_attempts): eight failures, and the ninth try succeeds.
    let broken = Recorder::new("broken", 8);
    let Some(app) = TestApp::builder()
        .extensions(with(&[&broken]))
        .config(|c| c.jobs.max_attempts = std::num::NonZeroU32::new(3).expect("not zero"))
        .spawn(backend)
        .await
    else {
        return;
    };
    let admin = app.admin().await;
    let ids = publish(&app, "test_poison", 1).await;
    let dead = "SELECT COUNT(*) FROM jobs WHERE kind = 'redeliver_event' AND state = 'dead' \
        AND attempts = 3 AND last_error = 'planned failure 8'";
    assert!(
        wait_until(Duration::from_secs(20), || async {
            sql_count(&app, dead).await == 1
        })
        .await,
        "the job retries with backoff, then is dead-lettered with the last error; attempts {}",
        broken.attempts(ids[0])
    );
    assert_eq!(broken.attempts(ids[0]), 8);
    assert!(broken.handled().is_empty());
    assert_eq!(
        sql_count(&app, POISON_RECEIPTS).await,
        0,
        "not given up on: no receipt"
    );
    // The stream moved on meanwhile.
    let next = publish(&app, "test_after_poison", 1).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            broken.attempts(next[0]) > 0
        })
        .await
    );
    // An admin sees it and retries it once the subscriber is fixed (here: its ninth try works).
    let res = app.get("/v1/admin/jobs", Some(&admin.token)).await;
    let overview: serde_json::Value = res.json().await.expect("json");
    let job = overview["dead"]
        .as_array()
        .and_then(|d| d.iter().find(|j| j["kind"] == "redeliver_event"))
        .expect("the dead redelivery is listed")
        .clone();
    assert_eq!(job["payload"]["group"], "broken");
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/admin/jobs/{}/retry", job["id"].as_str().expect("id")),
        )
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            broken.handled().contains(&ids[0])
        })
        .await,
        "handled after the retry"
    );
    assert_eq!(
        broken.handled().iter().filter(|id| **id == ids[0]).count(),
        1,
        "handled once"
    );
    // The receipt commits just after the handler returns.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            sql_count(&app, POISON_RECEIPTS).await == 1
        })
        .await,
        "the receipt is recorded with the handling"
    );
}

// SQLite runs the in-process bus; PostgreSQL + Redis runs Redis Streams.
crate::for_each_backend!(
    an_event_in_a_rolled_back_transaction_is_never_delivered,
    a_committed_event_reaches_each_group_once_even_when_its_handler_fails_twice,
    a_handler_that_keeps_failing_is_retried_by_a_job_until_an_admin_acts,
    events_committed_together_reach_a_group_in_one_call,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_during_a_redis_outage_are_delivered_once_it_is_back() {
    let audit = Recorder::new("audit", 0);
    let Some(app) = spawn(Backend::Postgres, &[&audit]).await else {
        return;
    };
    let proxy = app.redis.as_ref().expect("redis");
    proxy.set(Link::Down);
    let ids = publish(&app, "test_during_outage", 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        audit.handled().is_empty(),
        "nothing can flow while Redis is down"
    );
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM events WHERE published_at IS NULL AND kind = 'test_during_outage'").await,
        10,
        "the events wait in the outbox"
    );
    proxy.set(Link::Up);
    assert!(
        wait_until(Duration::from_secs(15), || async {
            audit.handled().len() >= ids.len()
        })
        .await,
        "the outbox catches up"
    );
    assert!(exactly_once(&audit.handled(), &ids));
}

/// Two kernels against one PostgreSQL and one Redis, each with a consumer in the groups
/// `alpha` and `beta`: 1,000 events are each handled exactly once per group, and both kernels
/// take a share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kernels_handle_each_of_1000_events_once_per_group() {
    let Some(stores) = Stores::fresh(Backend::Postgres).await else {
        return;
    };
    let (alpha1, beta1) = (Recorder::new("alpha", 0), Recorder::new("beta", 0));
    let (alpha2, beta2) = (Recorder::new("alpha", 0), Recorder::new("beta", 0));
    let one = TestApp::builder()
        .extensions(with(&[&alpha1, &beta1]))
        .spawn_on(stores.clone())
        .await;
    let two = TestApp::builder()
        .extensions(with(&[&alpha2, &beta2]))
        .spawn_on(stores.clone())
        .await;
    let mut ids = Vec::new();
    for round in 0..50 {
        let app = if round % 2 == 0 { &one } else { &two };
        ids.extend(publish(app, "test_burst", 20).await);
    }
    assert_eq!(ids.len(), 1000);
    let union = |a: &Recorder, b: &Recorder| [a.handled(), b.handled()].concat();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            union(&alpha1, &alpha2).len() >= 1000 && union(&beta1, &beta2).len() >= 1000
        })
        .await,
        "alpha handled {}, beta {}",
        union(&alpha1, &alpha2).len(),
        union(&beta1, &beta2).len()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        exactly_once(&union(&alpha1, &alpha2), &ids),
        "alpha: once each"
    );
    assert!(
        exactly_once(&union(&beta1, &beta2), &ids),
        "beta: once each"
    );
    for (name, a, b) in [("alpha", &alpha1, &alpha2), ("beta", &beta1, &beta2)] {
        println!(
            "{name}: kernel one handled {}, kernel two {}",
            a.handled().len(),
            b.handled().len()
        );
        assert!(
            !a.handled().is_empty() && !b.handled().is_empty(),
            "{name}: both kernels consume"
        );
    }
}
