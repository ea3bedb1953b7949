//! The hostile suite: what an attacker tries, refused, and nothing else changed. Clients are told
//! apart by `X-Forwarded-For` through a trusted proxy (the test client's 127.0.0.1), so one test
//! can play an attacker and a bystander at different addresses.

mod disconnects;
mod forged_cache;
mod hashing;
mod holds;
mod listings;
mod login;
mod rate_limits;
mod requests;
mod stays;

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestAppBuilder};

/// An app whose budgets are on (the test defaults switch them off) and whose client addresses
/// come from `X-Forwarded-For`, as behind a load balancer on 127.0.0.1.
pub fn hostile<'a>() -> TestAppBuilder<'a> {
    TestApp::builder().config(|c| {
        c.limits.enabled = true;
        c.server.trusted_proxies =
            hearth::config::TrustedProxies::Cidrs(vec!["127.0.0.1/32".parse().expect("a CIDR")]);
    })
}

/// Sends `body` to `path` as the client at `from`.
pub async fn send_from(
    app: &TestApp,
    from: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Response {
    let mut req = app
        .request(method, path)
        .header("x-forwarded-for", from)
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request sent")
}

/// A login as the client at `from`.
pub async fn login_from(app: &TestApp, from: &str, email: &str, password: &str) -> Response {
    send_from(
        app,
        from,
        Method::POST,
        "/v1/auth/login",
        None,
        &json!({ "email": email, "password": password }),
    )
    .await
}

/// A counter's value in `/metrics` (0 when it has not been touched yet).
pub async fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app.get("/metrics", None).await.text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}
