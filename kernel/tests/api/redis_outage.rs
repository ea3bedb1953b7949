//! The cache is an accelerator: with Redis down or hung, requests still succeed; the failures are
//! counted; readiness says so; and when Redis is back the cache is used again. Also: a logout on
//! one node is seen at once on another node sharing the Redis.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{eventually, Backend, Link, TestApp};

async fn full_flow_succeeds(app: &TestApp) {
    let email = format!("outage-{}@example.com", uuid::Uuid::new_v4().simple());
    let actor = app.actor(&email).await;
    let me = app.get("/v1/me", Some(&actor.token)).await;
    assert_eq!(me.status(), StatusCode::OK);
    let res = app.logout(&actor.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/me", Some(&actor.token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_succeed_while_redis_is_down_and_the_cache_returns_after() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let redis = app.redis.as_ref().expect("redis proxy");
    let before = app.guest().await;
    assert_eq!(
        app.get("/v1/me", Some(&before.token)).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);

    redis.set(Link::Down);
    full_flow_succeeds(&app).await;
    // A session opened before the outage still works (its cached copy is unreachable; the
    // database answers).
    assert_eq!(
        app.get("/v1/me", Some(&before.token)).await.status(),
        StatusCode::OK
    );
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "not_ready");
    assert!(problem["detail"]
        .as_str()
        .expect("detail")
        .contains("redis"));
    let metrics = app.get("/metrics", None).await.text().await.expect("text");
    assert!(
        metrics.contains("hearth_cache_failures_total{op=\"get\""),
        "{metrics}"
    );

    redis.set(Link::Up);
    assert!(
        eventually(|| async { app.get("/readyz", None).await.status() == StatusCode::OK }).await
    );
    full_flow_succeeds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_succeed_while_redis_hangs() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let redis = app.redis.as_ref().expect("redis proxy");
    app.guest().await;
    redis.set(Link::Hung);
    full_flow_succeeds(&app).await;
    let metrics = app.get("/metrics", None).await.text().await.expect("text");
    assert!(metrics.contains("reason=\"timeout\""), "{metrics}");
    redis.set(Link::Up);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_node_is_refused_at_once_on_another() {
    let Some(node_a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let node_b = TestApp::builder().spawn_on(node_a.stores.clone()).await;
    let actor = node_a.guest().await;
    // Both nodes have now served (and cached) the session.
    assert_eq!(
        node_a.get("/v1/me", Some(&actor.token)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        node_b.get("/v1/me", Some(&actor.token)).await.status(),
        StatusCode::OK
    );
    let res = node_a.logout(&actor.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        node_b.get("/v1/me", Some(&actor.token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_throttling_is_shared_by_nodes() {
    let Some(node_a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let node_b = TestApp::builder().spawn_on(node_a.stores.clone()).await;
    node_a
        .register("kim@example.com", "correct horse battery")
        .await;
    for node in [&node_a, &node_b, &node_a, &node_b, &node_a] {
        assert_eq!(
            node.login("kim@example.com", "wrong password")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        node_b
            .login("kim@example.com", "wrong password")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
