//! Every 4xx/5xx is problem+json with a stable code, whoever produced it: our handlers, the
//! JSON extractor, the router, or the middleware.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, TestApp};

crate::on_both_backends!(
    malformed_json_is_a_400_problem,
    a_body_that_is_not_json_is_a_415_problem,
    a_wrong_type_missing_or_unknown_field_is_a_422_naming_it,
    an_unknown_route_is_a_404_problem,
    a_wrong_method_is_a_405_problem_with_allow,
    an_oversized_body_is_a_413_problem,
    every_response_carries_a_request_id,
);

async fn malformed_json_is_a_400_problem(app: TestApp) {
    let res = app
        .request(Method::POST, "/v1/auth/register")
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
}

async fn a_body_that_is_not_json_is_a_415_problem(app: TestApp) {
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .header("content-type", "text/plain")
        .body("email=a&password=b")
        .send()
        .await
        .expect("sent");
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

async fn a_wrong_type_missing_or_unknown_field_is_a_422_naming_it(app: TestApp) {
    let cases = [
        (json!({ "email": 7, "password": "x" }), "email"),
        (json!({ "email": "a@b.co" }), "password"),
        (
            json!({ "email": "a@b.co", "password": "x", "remember_me": true }),
            "remember_me",
        ),
    ];
    for (body, field) in cases {
        let res = app.post_json("/v1/auth/login", None, &body).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert!(problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

async fn an_unknown_route_is_a_404_problem(app: TestApp) {
    assert_problem(
        app.get("/v1/nothing-here", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(app.get("/", None).await, StatusCode::NOT_FOUND, "not_found").await;
}

async fn a_wrong_method_is_a_405_problem_with_allow(app: TestApp) {
    let res = app
        .request(Method::DELETE, "/v1/me")
        .send()
        .await
        .expect("sent");
    let allow = res.headers()["allow"].to_str().expect("ascii").to_owned();
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

async fn an_oversized_body_is_a_413_problem(app: TestApp) {
    let limit = app.kernel.config.server.body_limit_bytes.get();
    let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(limit + 1));
    let res = app
        .request(Method::POST, "/v1/auth/register")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let ok = app.get("/healthz", None).await;
    assert!(ok.headers().contains_key("x-request-id"));
    let err = app.get("/missing", None).await;
    assert!(err.headers().contains_key("x-request-id"));
    // A caller's own id is kept, so it can be traced through the logs.
    let res = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let Some(app) = TestApp::builder()
        .config(|c| c.server.cors_allowed_origins = vec!["https://app.example.com".into()])
        .spawn(crate::helpers::Backend::Sqlite)
        .await
    else {
        return;
    };
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/v1/me")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.expect("sent");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = preflight("https://evil.example.net").await.expect("sent");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let Some(app) = TestApp::builder()
        .config(|c| c.server.hsts_max_age_secs = std::num::NonZeroU64::new(31_536_000))
        .spawn(crate::helpers::Backend::Sqlite)
        .await
    else {
        return;
    };
    let guest = app.guest().await;
    let answers = [
        app.get("/healthz", None).await,
        app.get("/missing", None).await,
        app.get("/v1/me", None).await,
        guest.get("/v1/me").await,
        app.login("nobody@example.com", "wrong password here").await,
        app.get("/docs", None).await,
        app.get("/openapi.json", None).await,
    ];
    for res in answers {
        let at = format!("{} {}", res.status(), res.url().path());
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{at}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{at}");
        assert_eq!(h["cache-control"], "no-store", "{at}");
        assert_eq!(
            h["strict-transport-security"], "max-age=31536000; includeSubDomains",
            "{at}"
        );
    }
    // HSTS only when configured: plain-HTTP deployments must not pin browsers to HTTPS.
    let res = TestApp::spawn(crate::helpers::Backend::Sqlite)
        .await
        .expect("app")
        .get("/healthz", None)
        .await;
    assert!(!res.headers().contains_key("strict-transport-security"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn metrics_need_the_token_or_a_loopback_bind() {
    let Some(app) = TestApp::builder()
        .config(|c| c.telemetry.metrics_token = Some("scrape-me-please".into()))
        .spawn(crate::helpers::Backend::Sqlite)
        .await
    else {
        return;
    };
    let res = app.get("/metrics", None).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = app.get("/metrics", Some("not-the-token")).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = app.get("/metrics", Some("scrape-me-please")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.expect("text").contains("hearth_"));
    drop(app);
    // Listening beyond loopback without a token: no metrics for anyone.
    let Some(public) = TestApp::builder()
        .config(|c| c.server.bind = std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
        .spawn(crate::helpers::Backend::Sqlite)
        .await
    else {
        return;
    };
    let res = public.get("/metrics", None).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}
