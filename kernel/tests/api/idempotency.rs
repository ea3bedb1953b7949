//! `Idempotency-Key` and the transactions it lives in: the key is claimed with the booking's
//! first transaction and its response saved with the one that records the outcome, so a refused
//! or failed effect leaves no key behind and a committed outcome never has a key that says
//! `running`. (Replay, reuse and in-flight refusals are in `bookings.rs`.)

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, sql_count, sql_exec, Backend, TestApp};

async fn keys(app: &TestApp, key: &str, state: &str) -> i64 {
    sql_count(
        app,
        &format!("SELECT COUNT(*) FROM idempotency_keys WHERE key = '{key}' AND state = '{state}'"),
    )
    .await
}

async fn a_refused_booking_leaves_no_key_and_a_retry_proceeds(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let (first, second) = (app.guest().await, app.guest().await);
    let taken = id_of(&first.book(&stay(&listing, 30, 32, CARD_OK)).await);

    // The nights are taken: the hold rolls back, and the claim with it.
    let body = stay(&listing, 30, 32, CARD_OK);
    let res = second.book_raw(&body, Some("retry-1")).await;
    assert_problem(res, StatusCode::CONFLICT, "dates_unavailable").await;
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'retry-1'"
        )
        .await,
        0,
        "no key outlives a rolled-back effect"
    );

    // Once the nights are free, the same key books them (nothing was stored to replay).
    let res = first.act(&taken, "cancel").await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = second.book_raw(&body, Some("retry-1")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!res.headers().contains_key("idempotent-replayed"));
    let booked: Value = res.json().await.expect("json");

    // The key committed with the booking: done, never left running, and a replay names it.
    assert_eq!(keys(&app, "retry-1", "done").await, 1);
    assert_eq!(keys(&app, "retry-1", "running").await, 0);
    let again = second.book_raw(&body, Some("retry-1")).await;
    assert!(again.headers().contains_key("idempotent-replayed"));
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], booked["id"]);
    let (status, stored) = second
        .get_json(&format!("/v1/bookings/{}", id_of(&booked)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["status"], "requested");
}

/// Makes every write of a finished response fail, as a crash between the booking's last
/// transaction and a separately saved response would.
async fn refuse_finished_keys(app: &TestApp) {
    if app.kernel.db.backend() == hearth::config::DatabaseBackend::Postgres {
        sql_exec(
            app,
            "CREATE FUNCTION refuse_done() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
        )
        .await;
        sql_exec(
            app,
            "CREATE TRIGGER refuse_done BEFORE UPDATE ON idempotency_keys FOR EACH ROW \
             WHEN (NEW.state = 'done') EXECUTE FUNCTION refuse_done()",
        )
        .await;
    } else {
        sql_exec(
            app,
            "CREATE TRIGGER refuse_done BEFORE UPDATE ON idempotency_keys \
             WHEN NEW.state = 'done' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await;
    }
}

async fn a_response_that_cannot_be_saved_takes_its_outcome_with_it(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    refuse_finished_keys(&app).await;
    let res = guest
        .book_raw(&stay(&listing, 30, 32, CARD_OK), Some("lost-1"))
        .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // The authorization's outcome rolled back with the response: the booking waits for
    // reconciliation in `pending_payment` instead of being `requested` behind a running key.
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM bookings WHERE status = 'requested'"
        )
        .await,
        0
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM bookings WHERE status = 'pending_payment'"
        )
        .await,
        1
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'lost-1'"
        )
        .await,
        0,
        "the unfinished claim is released, so the client may retry"
    );
}

async fn a_keyed_action_saves_its_response_with_its_transition(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let id = id_of(&guest.book(&stay(&listing, 30, 32, CARD_OK)).await);
    let accept = || {
        host.request(Method::POST, &format!("/v1/bookings/{id}/accept"))
            .header("idempotency-key", "accept-1")
            .send()
    };
    let first = accept().await.expect("request");
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.expect("json");
    assert_eq!(first["status"], "confirmed");
    assert_eq!(keys(&app, "accept-1", "done").await, 1);
    let again = accept().await.expect("request");
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "replayed, not `booking_not_requested`"
    );
    assert!(again.headers().contains_key("idempotent-replayed"));
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first);

    // Refused before its transition (not the host's to decline): nothing is stored.
    let other = id_of(&guest.book(&stay(&listing, 40, 42, CARD_OK)).await);
    let res = guest
        .request(Method::POST, &format!("/v1/bookings/{other}/decline"))
        .header("idempotency-key", "decline-1")
        .send()
        .await
        .expect("request");
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'decline-1'"
        )
        .await,
        0
    );
}

crate::for_each_backend!(
    a_refused_booking_leaves_no_key_and_a_retry_proceeds,
    a_response_that_cannot_be_saved_takes_its_outcome_with_it,
    a_keyed_action_saves_its_response_with_its_transition,
);
