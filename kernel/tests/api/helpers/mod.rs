//! Shared test support: the app and its builder ([`app`]), actors that send their own requests
//! ([`actors`]), the request bodies and plugin sets tests share ([`fixtures`]), receivers for
//! mail and webhooks ([`sinks`]), a payment provider whose answers the test gives ([`provider`]),
//! and the macros that run a test on both backends. No test file
//! imports from another test file: what two files need lives here.

pub mod actors;
pub mod app;
pub mod fixtures;
pub mod provider;
pub mod sinks;
pub mod statements;
pub mod ws;

use std::time::Duration;

use hearth::data::Exec;
use reqwest::{Response, StatusCode};
use serde_json::Value;

pub use actors::Actor;
pub use app::{
    dist_dir, guest_dir, plugin, plugin_cache_dir, Link, Stores, TestApp, TestAppBuilder,
};

/// Which backends a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: SQLite + in-process cache.
    Sqlite,
    /// PostgreSQL + Redis.
    Postgres,
}

/// The URL of a test service, or `None` (skip) when unset and not required.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("HEARTH_TEST_REQUIRE_SERVICES").is_some() => {
            panic!("{var} must be set (HEARTH_TEST_REQUIRE_SERVICES is on)")
        }
        _ => {
            eprintln!("{var} is not set: skipping this PostgreSQL+Redis test");
            None
        }
    }
}

/// Asserts a response is a problem+json with this status and code, and returns its body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "problem: {body}");
    assert_eq!(body["status"], status.as_u16(), "problem: {body}");
    assert_eq!(body["type"], format!("urn:hearth:problem:{code}"));
    assert!(body["title"].is_string(), "problem: {body}");
    body
}

/// Retries `check` until it returns true, up to about five seconds.
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..50 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Retries `check` every 50 ms until it returns true or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

/// Runs a `SELECT COUNT(*) ...` (or any single-integer query) on the app's database.
pub async fn sql_count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    match conn.exec() {
        Exec::Sqlite(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await,
        Exec::Postgres(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs a statement on the app's database (to stage what a test cannot do through the API).
pub async fn sql_exec(app: &TestApp, sql: &str) {
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    match conn.exec() {
        Exec::Sqlite(c) => sqlx::query(sql).execute(&mut *c).await.map(|_| ()),
        Exec::Postgres(c) => sqlx::query(sql).execute(&mut *c).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs each named test body on both backends: `mod sqlite { fn name }` and `mod postgres { fn name }`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

/// Like [`on_both_backends!`] for tests that build their own app: each named `async fn(Backend)`
/// runs as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Like [`on_both_backends!`], spawning each app with the `[[plugins]]` entries its function
/// returns: `name => plugins_fn` runs as `sqlite_with_plugins::name` and
/// `postgres_with_plugins::name`.
#[macro_export]
macro_rules! on_both_backends_with_plugins {
    ($($name:ident => $plugins:ident),* $(,)?) => {
        mod sqlite_with_plugins {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let plugins = super::$plugins();
                    if let Some(app) = $crate::helpers::TestApp::builder()
                        .plugins(&plugins)
                        .spawn($crate::helpers::Backend::Sqlite)
                        .await
                    {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres_with_plugins {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let plugins = super::$plugins();
                    if let Some(app) = $crate::helpers::TestApp::builder()
                        .plugins(&plugins)
                        .spawn($crate::helpers::Backend::Postgres)
                        .await
                    {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
