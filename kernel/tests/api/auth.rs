//! Accounts and sessions: register → login → me → logout, and everything that must be refused.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};

crate::on_both_backends!(
    register_login_me_logout_then_the_token_is_refused,
    an_email_registered_in_any_case_is_a_conflict,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    failed_logins_for_one_account_are_throttled_with_retry_after,
    failed_logins_from_one_address_are_throttled_across_accounts,
    invalid_registration_fields_are_named,
    a_guest_cannot_use_an_admin_route_and_an_admin_can,
    becoming_a_host_takes_effect_on_the_next_request,
    a_password_change_needs_the_current_password_and_signs_out_other_sessions,
    changing_email_to_one_in_use_is_a_conflict,
    no_response_carries_a_password_hash_or_another_users_email,
    a_malformed_or_unknown_token_is_refused,
);

async fn register_login_me_logout_then_the_token_is_refused(app: TestApp) {
    let res = app
        .register("Ada@Example.com", "correct horse battery")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.expect("json");
    assert_eq!(created["email"], "Ada@Example.com");
    assert_eq!(created["role"], "guest");

    // Login is case-insensitive on the email.
    let res = app.login("ada@example.COM", "correct horse battery").await;
    assert_eq!(res.status(), StatusCode::OK);
    let session: Value = res.json().await.expect("json");
    let token = session["token"].as_str().expect("token");
    assert!(token.len() >= 40, "a token carries at least 128 bits");
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["account"]["id"], created["id"]);

    let me: Value = app
        .get("/v1/me", Some(token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["id"], created["id"]);
    assert_eq!(me["display_name"], "Test User");

    let res = app.logout(token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let res = app.get("/v1/me", Some(token)).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // The stored session is gone, not just the cached one.
    let res = app.logout(token).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

async fn an_email_registered_in_any_case_is_a_conflict(app: TestApp) {
    assert_eq!(
        app.register("bo@example.com", "correct horse battery")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = app.register("BO@Example.Com", "another password").await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "email_taken").await;
    assert_eq!(problem["errors"][0]["field"], "email");
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(app: TestApp) {
    app.register("cy@example.com", "correct horse battery")
        .await;
    let wrong_password = app.login("cy@example.com", "not the password").await;
    let unknown_email = app.login("nobody@example.com", "not the password").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    let a: Value = wrong_password.json().await.expect("json");
    let b: Value = unknown_email.json().await.expect("json");
    assert_eq!(a, b, "the body must not reveal whether the email exists");
    assert_eq!(a["code"], "invalid_credentials");
}

async fn failed_logins_for_one_account_are_throttled_with_retry_after(app: TestApp) {
    // The default allows 5 failures per account per window.
    app.register("dee@example.com", "correct horse battery")
        .await;
    for _ in 0..5 {
        assert_eq!(
            app.login("dee@example.com", "wrong password")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.login("dee@example.com", "wrong password").await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(
        (1..=1800).contains(&retry_after),
        "retry-after {retry_after}"
    );
    assert_problem(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_login_attempts",
    )
    .await;
    // Even the right password waits out the window: that is the point of the throttle.
    let res = app.login("DEE@example.com", "correct horse battery").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // An unknown email is throttled the same way, so a 429 reveals nothing either.
    for _ in 0..5 {
        app.login("ghost@example.com", "wrong password").await;
    }
    assert_eq!(
        app.login("ghost@example.com", "wrong password")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account is unaffected.
    app.register("eve@example.com", "correct horse battery")
        .await;
    assert_eq!(
        app.login("eve@example.com", "correct horse battery")
            .await
            .status(),
        StatusCode::OK
    );
    let metrics = app.get("/metrics", None).await.text().await.expect("text");
    assert!(
        metrics.contains("hearth_login_throttled_total 3"),
        "{metrics}"
    );
}

async fn failed_logins_from_one_address_are_throttled_across_accounts(app: TestApp) {
    let stores = app.stores.clone();
    drop(app);
    let app = TestApp::builder()
        .config(|c| {
            c.auth.login_max_failures_per_address = std::num::NonZeroU32::new(3).expect("not zero")
        })
        .spawn_on(stores)
        .await;
    app.register("fay@example.com", "correct horse battery")
        .await;
    for i in 0..3 {
        let res = app
            .login(&format!("someone-{i}@example.com"), "wrong password")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.login("fay@example.com", "correct horse battery").await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_login_attempts",
    )
    .await;
}

async fn invalid_registration_fields_are_named(app: TestApp) {
    let res = app
        .post_json(
            "/v1/auth/register",
            None,
            &json!({ "email": "not-an-email", "password": "short", "display_name": " " }),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["email", "password", "display_name"]);
    // Nothing was created.
    assert_eq!(
        app.login("not-an-email", "short").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn a_guest_cannot_use_an_admin_route_and_an_admin_can(app: TestApp) {
    let guest = app.guest().await;
    let path = format!("/v1/admin/accounts/{}/role", guest.id);
    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&guest.token),
            &json!({ "role": "admin" }),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .send_json(Method::PUT, &path, None, &json!({ "role": "admin" }))
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let admin = app.admin().await;
    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin.token),
            &json!({ "role": "host" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["role"], "host");
    // The guest's own session sees the new role at once.
    let me: Value = app
        .get("/v1/me", Some(&guest.token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "host");

    let missing = format!("/v1/admin/accounts/{}/role", uuid::Uuid::now_v7());
    let res = app
        .send_json(
            Method::PUT,
            &missing,
            Some(&admin.token),
            &json!({ "role": "host" }),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "account_not_found").await;
    let res = app
        .send_json(
            Method::PUT,
            "/v1/admin/accounts/not-a-uuid/role",
            Some(&admin.token),
            &json!({ "role": "host" }),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin.token),
            &json!({ "role": "root" }),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "role");
}

async fn becoming_a_host_takes_effect_on_the_next_request(app: TestApp) {
    let guest = app.guest().await;
    // Warm the cached role first, so the test proves the change invalidates it.
    let me: Value = app
        .get("/v1/me", Some(&guest.token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "guest");
    let res = app
        .post_json("/v1/me/host", Some(&guest.token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["role"], "host");
    let principal = app
        .kernel
        .auth
        .authenticate(&guest.token)
        .await
        .expect("valid");
    assert_eq!(principal.role, hearth::auth::Role::Host);
    // Idempotent.
    let again: Value = app
        .post_json("/v1/me/host", Some(&guest.token), &json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["role"], "host");
}

async fn a_password_change_needs_the_current_password_and_signs_out_other_sessions(app: TestApp) {
    let here = app.actor("gil@example.com").await;
    let elsewhere = app
        .actor_logged_in("gil@example.com", "correct horse battery")
        .await;
    // Warm the other session's cache entry.
    assert_eq!(
        app.get("/v1/me", Some(&elsewhere.token)).await.status(),
        StatusCode::OK
    );

    let res = app
        .send_json(
            Method::PATCH,
            "/v1/me",
            Some(&here.token),
            &json!({ "password": "a brand new secret" }),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "current_password");

    let res = app
        .send_json(
            Method::PATCH,
            "/v1/me",
            Some(&here.token),
            &json!({ "password": "a brand new secret", "current_password": "wrong" }),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let res = app
        .send_json(
            Method::PATCH,
            "/v1/me",
            Some(&here.token),
            &json!({ "password": "a brand new secret", "current_password": "correct horse battery", "display_name": "Gil" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["display_name"], "Gil");

    assert_eq!(
        app.get("/v1/me", Some(&here.token)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/me", Some(&elsewhere.token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("gil@example.com", "correct horse battery")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("gil@example.com", "a brand new secret")
            .await
            .status(),
        StatusCode::OK
    );
}

async fn changing_email_to_one_in_use_is_a_conflict(app: TestApp) {
    app.register("hal@example.com", "correct horse battery")
        .await;
    let ivy = app.actor("ivy@example.com").await;
    let res = app
        .send_json(
            Method::PATCH,
            "/v1/me",
            Some(&ivy.token),
            &json!({ "email": "HAL@example.com", "current_password": "correct horse battery" }),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "email_taken").await;
    let res = app
        .send_json(
            Method::PATCH,
            "/v1/me",
            Some(&ivy.token),
            &json!({ "role": "admin" }),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        problem["errors"][0]["field"], "role",
        "read-only fields are refused by name"
    );
    let me: Value = app
        .get("/v1/me", Some(&ivy.token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "ivy@example.com");
    assert_eq!(me["role"], "guest");
    let res = app
        .send_json(
            Method::PATCH,
            "/v1/me",
            Some(&ivy.token),
            &json!({ "email": "Ivy.New@example.com", "current_password": "correct horse battery" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.login("ivy.new@example.com", "correct horse battery")
            .await
            .status(),
        StatusCode::OK
    );
}

async fn no_response_carries_a_password_hash_or_another_users_email(app: TestApp) {
    let res = app
        .register("jo@example.com", "correct horse battery")
        .await;
    let text = res.text().await.expect("text");
    let login = app
        .login("jo@example.com", "correct horse battery")
        .await
        .text()
        .await
        .expect("text");
    let jo: Value = serde_json::from_str(&login).expect("json");
    let me = app
        .get("/v1/me", jo["token"].as_str())
        .await
        .text()
        .await
        .expect("text");
    for body in [&text, &login, &me] {
        assert!(!body.contains("argon2"), "{body}");
        assert!(!body.contains("password"), "{body}");
    }
    let admin = app.admin().await;
    let path = format!(
        "/v1/admin/accounts/{}/role",
        jo["account"]["id"].as_str().expect("id")
    );
    let summary = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin.token),
            &json!({ "role": "host" }),
        )
        .await
        .text()
        .await
        .expect("text");
    assert!(!summary.contains("jo@example.com"), "{summary}");
}

async fn a_malformed_or_unknown_token_is_refused(app: TestApp) {
    for header in [
        "Bearer hearth_not-a-real-token",
        "Bearer ",
        "Basic am86cGFzcw==",
    ] {
        let res = app
            .request(Method::GET, "/v1/me")
            .header("authorization", header)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
}
