//! Durable jobs: retries and dead letters (seen and retried through the admin API), a lease
//! that runs out when a worker dies, graceful shutdown, and scheduled timers.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hearth::bus::{self, DomainEvent};
use hearth::config::{DatabaseConfig, DatabaseUrl};
use hearth::data::jobs::{self as store, Fence};
use hearth::data::{Database, Exec};
use hearth::jobs::{Enqueue, JobError, JobHandler, JobRun};
use hearth::startup::Extensions;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::fixtures::{id, quote_raw};
use crate::helpers::{assert_problem, sql_count, sql_exec, wait_until, Backend, TestApp};

/// Fails every attempt, saying which.
#[derive(Default)]
struct AlwaysFails {
    calls: AtomicU32,
}

impl JobHandler for AlwaysFails {
    fn kind(&self) -> &'static str {
        "test_always_fails"
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Err(JobError::Failed(format!(
                "boom on attempt {}",
                run.job.attempt
            )))
        })
    }
}

/// Writes its effect (an outbox event) and finishes the run in one transaction.
struct Effect;

#[derive(Serialize)]
struct EffectDone {
    job: Uuid,
}

impl DomainEvent for EffectDone {
    fn kind(&self) -> &str {
        "test_effect_done"
    }
}

impl JobHandler for Effect {
    fn kind(&self) -> &'static str {
        "test_effect"
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let mut tx = run.begin().await?;
            bus::record(tx.exec(), &EffectDone { job: run.job.id }).await?;
            run.commit_with(tx).await
        })
    }
}

/// Sleeps `ms` from its payload.
struct Sleeps;

impl JobHandler for Sleeps {
    fn kind(&self) -> &'static str {
        "test_sleeps"
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let ms = run.job.payload["ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(())
        })
    }
}

async fn spawn(
    backend: Backend,
    handlers: Vec<Arc<dyn JobHandler>>,
    tweak: impl FnOnce(&mut hearth::config::Config),
) -> Option<TestApp> {
    let extensions = Extensions {
        subscribers: Vec::new(),
        job_handlers: handlers,
    };
    TestApp::builder()
        .config(tweak)
        .extensions(extensions)
        .spawn(backend)
        .await
}

async fn jobs_overview(app: &TestApp, token: &str) -> Value {
    let res = app.get("/v1/admin/jobs", Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

async fn job_id(app: &TestApp, kind: &str) -> Uuid {
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    let sql = format!("SELECT id FROM jobs WHERE kind = '{kind}'");
    match conn.exec() {
        Exec::Sqlite(c) => sqlx::query_scalar::<_, Uuid>(&sql).fetch_one(&mut *c).await,
        Exec::Postgres(c) => sqlx::query_scalar::<_, Uuid>(&sql).fetch_one(&mut *c).await,
    }
    .expect("job id")
}

async fn a_job_that_always_fails_is_dead_lettered_with_its_error_and_can_be_retried(
    backend: Backend,
) {
    let failing = Arc::new(AlwaysFails::default());
    let handlers: Vec<Arc<dyn JobHandler>> = vec![failing.clone(), Arc::new(Sleeps)];
    let Some(app) = spawn(backend, handlers, |c| {
        c.jobs.max_attempts = std::num::NonZeroU32::new(3).expect("not zero")
    })
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    app.kernel
        .jobs
        .enqueue("test_always_fails", &json!({ "n": 1 }), Enqueue::default())
        .await
        .expect("enqueue");
    assert!(
        wait_until(Duration::from_secs(10), || async {
            jobs_overview(&app, &admin.token).await["counts"]["dead"] == 1
        })
        .await,
        "the job ends dead"
    );
    let overview = jobs_overview(&app, &admin.token).await;
    let dead = &overview["dead"][0];
    assert_eq!(dead["kind"], "test_always_fails");
    assert_eq!(dead["attempts"], 3);
    assert_eq!(dead["max_attempts"], 3);
    assert_eq!(dead["last_error"], "boom on attempt 3");
    assert_eq!(dead["payload"], json!({ "n": 1 }));
    assert_eq!(
        failing.calls.load(Ordering::SeqCst),
        3,
        "exactly N attempts"
    );

    // Retrying puts it back with a fresh set of attempts; it fails three more times.
    let id = dead["id"].as_str().expect("id").to_owned();
    let res = app
        .send_json(
            Method::POST,
            &format!("/v1/admin/jobs/{id}/retry"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let retried: Value = res.json().await.expect("json");
    assert_eq!(retried["state"], "queued");
    assert_eq!(retried["attempts"], 0);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            failing.calls.load(Ordering::SeqCst) == 6
                && jobs_overview(&app, &admin.token).await["counts"]["dead"] == 1
        })
        .await,
        "three more attempts, then dead again"
    );

    // Only dead jobs can be retried; unknown ids are 404; only admins may.
    app.kernel
        .jobs
        .enqueue("test_sleeps", &json!({ "ms": 0 }), Enqueue::default())
        .await
        .expect("enqueue");
    assert!(
        wait_until(Duration::from_secs(10), || async {
            sql_count(
                &app,
                "SELECT COUNT(*) FROM jobs WHERE kind = 'test_sleeps' AND state = 'succeeded'",
            )
            .await
                == 1
        })
        .await
    );
    let done = job_id(&app, "test_sleeps").await;
    let res = app
        .send_json(
            Method::POST,
            &format!("/v1/admin/jobs/{done}/retry"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "job_not_dead").await;
    let res = app
        .send_json(
            Method::POST,
            &format!("/v1/admin/jobs/{}/retry", Uuid::now_v7()),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "job_not_found").await;
    let guest = app.guest().await;
    let res = app.get("/v1/admin/jobs", Some(&guest.token)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .get("/v1/admin/jobs?dead_limit=0", Some(&admin.token))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

async fn a_job_whose_worker_died_runs_again_and_its_effect_happens_once(backend: Backend) {
    let Some(app) = spawn(backend, vec![Arc::new(Effect)], |_| {}).await else {
        return;
    };
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    app.kernel
        .jobs
        .enqueue(
            "test_effect",
            &json!({}),
            Enqueue {
                unique_key: None,
                run_at: Some(later),
            },
        )
        .await
        .expect("enqueue");
    // A worker claimed it and was killed mid-run: the job is running, and its lease ran out.
    sql_exec(
        &app,
        "UPDATE jobs SET state = 'running', worker = 'ghost', attempts = 1, \
         run_at = '2000-01-01 00:00:00+00:00', lease_until = '2000-01-01 00:00:00+00:00' \
         WHERE kind = 'test_effect'",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            sql_count(
                &app,
                "SELECT COUNT(*) FROM jobs WHERE kind = 'test_effect' AND state = 'succeeded'",
            )
            .await
                == 1
        })
        .await,
        "another worker takes the job over once the lease ran out"
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT CAST(attempts AS BIGINT) FROM jobs WHERE kind = 'test_effect'"
        )
        .await,
        2
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM events WHERE kind = 'test_effect_done'"
        )
        .await,
        1,
        "the effect happened once"
    );
    // The dead worker coming back cannot finish (or fail) the job any more.
    let id = job_id(&app, "test_effect").await;
    let ghost = Fence {
        id,
        worker: "ghost",
        attempt: 1,
    };
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    let now = chrono::Utc::now();
    assert!(!store::succeed(conn.exec(), ghost, now)
        .await
        .expect("query"));
    assert!(!store::bury(conn.exec(), ghost, "late", now)
        .await
        .expect("query"));
}

async fn shutdown_lets_short_jobs_finish_and_releases_long_ones(backend: Backend) {
    let Some(mut app) = spawn(backend, vec![Arc::new(Sleeps)], |c| {
        c.jobs.shutdown_grace_secs = 1;
    })
    .await
    else {
        return;
    };
    for ms in [600, 60_000] {
        app.kernel
            .jobs
            .enqueue("test_sleeps", &json!({ "ms": ms }), Enqueue::default())
            .await
            .expect("enqueue");
    }
    assert!(
        wait_until(Duration::from_secs(10), || async {
            sql_count(&app, "SELECT COUNT(*) FROM jobs WHERE state = 'running'").await == 2
        })
        .await
    );
    app.begin_shutdown()
        .await
        .expect("join")
        .expect("clean stop");
    // The pool closed with the app: look with a fresh one.
    let db = Database::connect(&DatabaseConfig {
        url: DatabaseUrl::parse(&app.stores.database_url).expect("url"),
        max_connections: std::num::NonZeroU32::new(1).expect("not zero"),
        busy_timeout_ms: std::num::NonZeroU64::new(5000).expect("not zero"),
    })
    .await
    .expect("connect");
    let mut conn = db.acquire().await.expect("connection");
    let overview = store::counts(conn.exec()).await.expect("counts");
    assert_eq!(
        overview.succeeded, 1,
        "the short job finished within the grace period"
    );
    assert_eq!(overview.running, 0, "nothing is left claimed");
    assert_eq!(overview.queued, 1, "the long job went back to the queue");
    assert_eq!(overview.retrying, 0, "its cut-off attempt does not count");
}

async fn scheduled_timers_purge_expired_quotes_and_old_history(backend: Backend) {
    let Some(app) = spawn(backend, Vec::new(), |c| {
        for timer in ["purge_expired_quotes", "prune_history"] {
            c.jobs
                .schedules
                .insert(timer.into(), "* * * * * *".parse().expect("cron"));
        }
    })
    .await
    else {
        return;
    };
    let host = app.host().await;
    let listing = host.create_listing(json!({})).await;
    // Signed in: only a signed-in caller's quote is stored.
    let guest = app.guest().await;
    let res = quote_raw(
        &app,
        Some(&guest.token),
        &id(&listing),
        &[("check_in", "2031-03-02"), ("check_out", "2031-03-05")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = quote_raw(
        &app,
        Some(&guest.token),
        &id(&listing),
        &[("check_in", "2031-04-02"), ("check_out", "2031-04-05")],
    )
    .await;
    let fresh: Value = fresh.json().await.expect("json");
    sql_exec(
        &app,
        "UPDATE quotes SET expires_at = '2000-01-01 00:00:00+00:00' WHERE check_in = '2031-03-02'",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            sql_count(&app, "SELECT COUNT(*) FROM quotes").await == 1
        })
        .await,
        "the expired quote is purged by the timer"
    );
    assert!(fresh["quote_id"].is_string());
    // The purge commits in the job's transaction; the runner records the success just after.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            sql_count(
                &app,
                "SELECT COUNT(*) FROM jobs WHERE kind = 'purge_expired_quotes' AND state = 'succeeded'",
            )
            .await
                >= 1
        })
        .await,
        "the timer's run is recorded as succeeded"
    );
}

async fn the_jobs_view_shows_no_addresses_or_message_bodies(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.admin().await;
    // A job nobody handles is dead at once, with its payload and an error naming the kind.
    app.kernel
        .jobs
        .enqueue(
            "send_postcard",
            &json!({
                "to": "ada@example.com",
                "body": "the door code is 4711",
                "event": { "kind": "user_registered", "payload": { "email": "ada@example.com", "account_id": "a-1" } },
            }),
            Enqueue::default(),
        )
        .await
        .expect("enqueued");
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(
                &app,
                "SELECT COUNT(*) FROM jobs WHERE kind = 'send_postcard' AND state = 'dead'",
            )
            .await
                == 1
        })
        .await
    );
    let overview = jobs_overview(&app, &admin.token).await;
    let text = overview.to_string();
    assert!(!text.contains("ada@example.com"), "{text}");
    assert!(!text.contains("4711"), "{text}");
    let job = overview["dead"]
        .as_array()
        .and_then(|d| d.iter().find(|j| j["kind"] == "send_postcard"))
        .expect("listed");
    assert_eq!(job["payload"]["to"], hearth::jobs::redact::REDACTED);
    assert_eq!(
        job["payload"]["event"]["kind"], "user_registered",
        "the shape stays"
    );
    assert_eq!(job["payload"]["event"]["payload"]["account_id"], "a-1");
}

crate::for_each_backend!(
    the_jobs_view_shows_no_addresses_or_message_bodies,
    a_job_that_always_fails_is_dead_lettered_with_its_error_and_can_be_retried,
    a_job_whose_worker_died_runs_again_and_its_effect_happens_once,
    shutdown_lets_short_jobs_finish_and_releases_long_ones,
    scheduled_timers_purge_expired_quotes_and_old_history,
);
