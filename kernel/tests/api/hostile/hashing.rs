//! Password hashing cannot starve the server: a flood of registrations beyond the hashing slots
//! and queue is answered 503 with `Retry-After` at once, while `/healthz` keeps answering.

use std::num::{NonZeroU64, NonZeroUsize};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::metric;
use crate::helpers::{sql_count, Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_flood_gets_503_with_retry_after_while_healthz_answers() {
    let Some(app) = TestApp::builder()
        .config(|c| {
            c.limits.password_hash_concurrency = NonZeroUsize::MIN;
            c.limits.password_hash_queue = 1;
            c.limits.password_hash_wait_ms = NonZeroU64::new(10_000).expect("not zero");
        })
        .spawn(Backend::Sqlite)
        .await
    else {
        return;
    };
    let flood = (0..30).map(|i| {
        let app = &app;
        async move {
            let res = app
                .post_json(
                    "/v1/auth/register",
                    None,
                    &json!({ "email": format!("flood-{i}@example.com"), "password": "correct horse battery", "display_name": "Flood" }),
                )
                .await;
            let status = res.status();
            let retry_after = res.headers().get("retry-after").cloned();
            let body: serde_json::Value = res.json().await.expect("json");
            (status, retry_after, body)
        }
    });
    let health = async {
        let mut slowest = Duration::ZERO;
        for _ in 0..10 {
            let started = Instant::now();
            assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        slowest
    };
    let (results, slowest) = tokio::join!(futures_util::future::join_all(flood), health);
    let created = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .count();
    let busy: Vec<_> = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(created + busy.len(), 30, "{results:?}");
    assert!(created >= 1 && !busy.is_empty(), "{created} created");
    for (_, retry_after, body) in &busy {
        assert_eq!(body["code"], "password_hashing_busy");
        assert_eq!(retry_after.as_ref().expect("retry-after"), "1");
    }
    assert!(slowest < Duration::from_secs(1), "healthz took {slowest:?}");
    // Nothing half-made: exactly the accounts that were answered 201 exist.
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM accounts").await,
        i64::try_from(created).expect("small")
    );
    assert_eq!(
        metric(&app, "hearth_password_hash_busy_total").await,
        busy.len() as u64
    );
}
