//! Login throttling that cannot be raced: an attempt is reserved before its hash is checked, so
//! parallel guesses verify at most the limit; counting per account and address keeps the owner
//! able to log in from elsewhere; the current-password check of `PATCH /v1/me` is throttled the
//! same way, and a new email needs it.

use std::num::NonZeroU32;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{hostile, login_from, metric, send_from};
use crate::helpers::{assert_problem, TestApp};

crate::on_both_backends!(
    forty_parallel_wrong_guesses_verify_at_most_the_limit,
    the_owner_logs_in_from_another_address_while_an_attacker_is_locked_out,
    the_per_account_ceiling_holds_across_addresses,
    wrong_current_passwords_are_throttled_like_logins,
    changing_the_email_without_the_current_password_is_refused,
);

const VERIFIED: &str = "hearth_password_hashes_total{op=\"verify\"}";

async fn forty_parallel_wrong_guesses_verify_at_most_the_limit(app: TestApp) {
    // The default allows 5 failures per account and address.
    app.register("victim@example.com", "correct horse battery")
        .await;
    let before = metric(&app, VERIFIED).await;
    let guesses = (0..40).map(|i| {
        let app = &app;
        async move {
            app.login("victim@example.com", &format!("guess number {i}"))
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!((wrong, refused), (5, 35), "{statuses:?}");
    assert_eq!(
        metric(&app, VERIFIED).await - before,
        5,
        "only the reserved attempts were verified"
    );
    assert_eq!(metric(&app, "hearth_login_throttled_total").await, 35);
}

async fn the_owner_logs_in_from_another_address_while_an_attacker_is_locked_out(app: TestApp) {
    let stores = app.stores.clone();
    drop(app);
    let app = hostile().spawn_on(stores).await;
    app.register("owner@example.com", "correct horse battery")
        .await;
    let attacker = "198.51.100.66";
    for _ in 0..5 {
        let res = login_from(&app, attacker, "owner@example.com", "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, attacker, "owner@example.com", "wrong password").await;
    let headers = res.headers().clone();
    assert_problem(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_login_attempts",
    )
    .await;
    assert_eq!(headers["ratelimit-policy"], "\"login-failures\";q=5;w=900");
    assert!(headers.contains_key("retry-after"));
    // Even the right password waits, from the attacker's address.
    let res = login_from(&app, attacker, "owner@example.com", "correct horse battery").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The owner, elsewhere, is not locked out.
    let res = login_from(
        &app,
        "203.0.113.5",
        "owner@example.com",
        "correct horse battery",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn the_per_account_ceiling_holds_across_addresses(app: TestApp) {
    let stores = app.stores.clone();
    drop(app);
    let app = hostile()
        .config(|c| c.auth.login_max_failures_per_account = NonZeroU32::new(3).expect("not zero"))
        .spawn_on(stores)
        .await;
    app.register("spread@example.com", "correct horse battery")
        .await;
    for from in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        let res = login_from(&app, from, "spread@example.com", "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, "198.51.100.4", "spread@example.com", "wrong password").await;
    assert_problem(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_login_attempts",
    )
    .await;
}

async fn wrong_current_passwords_are_throttled_like_logins(app: TestApp) {
    let guest = app.guest().await;
    let verified_before = metric(&app, VERIFIED).await;
    let change = json!({ "password": "a brand new secret", "current_password": "a wrong guess" });
    for _ in 0..5 {
        let res = guest.send_json(Method::PATCH, "/v1/me", &change).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "current_password");
    }
    let res = guest.send_json(Method::PATCH, "/v1/me", &change).await;
    assert_problem(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_login_attempts",
    )
    .await;
    assert_eq!(metric(&app, VERIFIED).await - verified_before, 5);
    // The session itself still works; only password checks wait.
    assert_eq!(guest.get("/v1/me").await.status(), StatusCode::OK);
}

async fn changing_the_email_without_the_current_password_is_refused(app: TestApp) {
    let guest = app.guest().await;
    let (_, before) = guest.get_json("/v1/me").await;
    let res = send_from(
        &app,
        "198.51.100.8",
        Method::PATCH,
        "/v1/me",
        Some(&guest.token),
        &json!({ "email": "taken-over@example.com" }),
    )
    .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let res = guest
        .send_json(
            Method::PATCH,
            "/v1/me",
            &json!({ "email": "taken-over@example.com", "current_password": "not it" }),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let (_, after): (StatusCode, Value) = guest.get_json("/v1/me").await;
    assert_eq!(after["email"], before["email"], "the email did not change");
    assert_eq!(
        app.login("taken-over@example.com", "correct horse battery")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
