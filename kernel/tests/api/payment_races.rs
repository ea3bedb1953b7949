//! The payment races, staged with a provider whose answers the test holds and orders
//! ([`GatedProvider`]): a deadline that passes while a capture is in flight, a capture that
//! lands on an ended booking, an instant booking that cannot be confirmed, an ended booking
//! whose release was lost, a bank transfer that arrives after its hold expired, and a webhook
//! that overtakes the authorization's answer. Each ends with the guest's money captured for a
//! live stay, voided, or refunded, and recorded.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::{host_with_listing, id_of, ledger, stay};
use crate::helpers::provider::{GatedProvider, GATED};
use crate::helpers::{assert_problem, sql_count, sql_exec, Actor, Backend, TestApp};

/// Any token: the gated provider ignores it.
const CARD: &str = "tok_gated_card";

/// An app paying through the gated provider, its timers left to the test (they never fire on
/// their own here, so no call reaches the provider unasked).
async fn spawn(backend: Backend, provider: &GatedProvider) -> Option<TestApp> {
    TestApp::builder()
        .plugins(&provider.plugin())
        .config(|c| {
            c.payments.default_provider = Some(GATED.into());
            c.payments.reconcile_after_secs = 0;
            for timer in ["expire_bookings", "reconcile_payments"] {
                c.jobs
                    .schedules
                    .insert(timer.into(), "0 0 0 1 1 * 2099".parse().expect("cron"));
            }
        })
        .spawn(backend)
        .await
}

fn ops(ledger: &[(String, String, i64)]) -> Vec<String> {
    ledger.iter().map(|(o, s, _)| format!("{o}:{s}")).collect()
}

/// Books in the background; the request waits for the provider's answer.
fn book(guest: &Actor, listing: &str) -> tokio::task::JoinHandle<Response> {
    let guest = guest.clone();
    let body = stay(listing, 30, 32, CARD);
    tokio::spawn(async move { guest.book_raw(&body, None).await })
}

async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(got, status, "{body}");
    body
}

/// A booking the host must accept, authorized: its id.
async fn requested(app: &TestApp, provider: &mut GatedProvider) -> (Actor, Actor, String) {
    let (host, listing) = host_with_listing(app, json!({})).await;
    let guest = app.guest().await;
    let booking = book(&guest, &listing);
    provider.next("authorize").await.answer("authorized");
    let booking = json_of(booking.await.expect("booked"), StatusCode::CREATED).await;
    assert_eq!(booking["status"], "requested");
    (host, guest, id_of(&booking))
}

/// The host accepts in the background; the capture is held.
fn accept(host: &Actor, id: &str) -> tokio::task::JoinHandle<Response> {
    let (host, id) = (host.clone(), id.to_owned());
    tokio::spawn(async move { host.act(&id, "accept").await })
}

async fn webhook(app: &TestApp, id: &str, reference: &str, status: &str) -> Response {
    app.request(Method::POST, &format!("/v1/webhooks/payments/{GATED}"))
        .header("content-type", "application/json")
        .body(json!({ "id": id, "reference": reference, "status": status }).to_string())
        .send()
        .await
        .expect("request sent")
}

async fn refunded_events(app: &TestApp) -> i64 {
    sql_count(
        app,
        "SELECT COUNT(*) FROM events WHERE kind = 'payment_refunded'",
    )
    .await
}

async fn a_capture_in_flight_outlives_the_request_deadline(backend: Backend) {
    let mut provider = GatedProvider::start().await;
    let Some(app) = spawn(backend, &provider).await else {
        return;
    };
    let (host, guest, id) = requested(&app, &mut provider).await;
    let accepting = accept(&host, &id);
    let capture = provider.next("capture").await;
    // The request's deadline passes while the provider is still capturing.
    sql_exec(
        &app,
        "UPDATE bookings SET expires_at = '2000-01-01 00:00:00+00:00' WHERE status = 'requested'",
    )
    .await;
    let expired = app.kernel.bookings.expire_due().await.expect("timer runs");
    assert_eq!(
        expired, 0,
        "a booking with a capture in flight is not expired"
    );
    capture.answer("captured");
    let accepted = json_of(accepting.await.expect("accepted"), StatusCode::OK).await;
    assert_eq!(accepted["status"], "confirmed");
    assert_eq!(
        ops(&ledger(&guest, &id).await),
        ["authorize:succeeded", "capture:succeeded"]
    );
    assert_eq!(app.kernel.bookings.expire_due().await.expect("runs"), 0);
}

async fn a_capture_that_lands_on_an_ended_booking_is_refunded(backend: Backend) {
    let mut provider = GatedProvider::start().await;
    let Some(app) = spawn(backend, &provider).await else {
        return;
    };
    let (host, guest, id) = requested(&app, &mut provider).await;
    let accepting = accept(&host, &id);
    let capture = provider.next("capture").await;
    // The booking ends without seeing the capture (a node on the old rule, an operator).
    sql_exec(
        &app,
        "UPDATE bookings SET status = 'expired', end_reason = 'host_did_not_answer' \
         WHERE status = 'requested'",
    )
    .await;
    let reference = capture.subject.clone();
    capture.answer("captured");
    let refund = provider.next("refund").await;
    assert_eq!(refund.subject, reference, "the capture is what is refunded");
    refund.answer("refunded");
    let answered = json_of(accepting.await.expect("answered"), StatusCode::OK).await;
    assert_eq!(answered["status"], "expired");
    let entries = ledger(&guest, &id).await;
    assert_eq!(
        ops(&entries),
        [
            "authorize:succeeded",
            "capture:succeeded",
            "refund:succeeded"
        ]
    );
    assert_eq!(entries[2].2, entries[1].2, "refunded in full");
    assert_eq!(refunded_events(&app).await, 1);
}

async fn an_instant_booking_that_cannot_be_confirmed_is_voided(backend: Backend) {
    let mut provider = GatedProvider::start().await;
    let Some(app) = spawn(backend, &provider).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({ "instant_book": true })).await;
    let guest = app.guest().await;
    let booking = book(&guest, &listing);
    let authorize = provider.next("authorize").await;
    // The hold runs out while the provider is still authorizing: the booking expires, and
    // there is nothing to release yet.
    sql_exec(
        &app,
        "UPDATE bookings SET expires_at = '2000-01-01 00:00:00+00:00' \
         WHERE status = 'pending_payment'",
    )
    .await;
    assert_eq!(app.kernel.bookings.expire_due().await.expect("runs"), 1);
    authorize.answer("authorized");
    // The authorization cannot confirm an expired booking: it is voided at once.
    provider.next("cancel").await.answer("voided");
    let refused = booking.await.expect("answered");
    assert_problem(refused, StatusCode::CONFLICT, "booking_state_changed").await;
    let (_, mine) = guest.get_json("/v1/bookings").await;
    let id = id_of(&mine["bookings"][0]);
    assert_eq!(mine["bookings"][0]["status"], "expired");
    assert_eq!(
        ops(&ledger(&guest, &id).await),
        ["authorize:succeeded", "void:succeeded"]
    );
}

async fn reconciliation_releases_what_an_ended_booking_still_holds(backend: Backend) {
    let mut provider = GatedProvider::start().await;
    let Some(app) = spawn(backend, &provider).await else {
        return;
    };
    let (_, guest, id) = requested(&app, &mut provider).await;
    // The booking ended, but its release was lost (a crash between the two).
    sql_exec(
        &app,
        "UPDATE bookings SET status = 'expired', end_reason = 'host_did_not_answer' \
         WHERE status = 'requested'",
    )
    .await;
    let bookings = app.kernel.bookings.clone();
    let reconciling = tokio::spawn(async move { bookings.reconcile().await });
    provider.next("cancel").await.answer("voided");
    let settled = reconciling.await.expect("ran").expect("reconciled");
    assert_eq!(settled, 1);
    assert_eq!(
        ops(&ledger(&guest, &id).await),
        ["authorize:succeeded", "void:succeeded"]
    );
    // Released once: the next run asks the provider nothing.
    assert_eq!(app.kernel.bookings.reconcile().await.expect("runs"), 0);
    assert!(provider
        .asked_within(Duration::from_millis(300))
        .await
        .is_none());
}

async fn a_transfer_that_arrives_after_its_hold_expired_is_refunded(backend: Backend) {
    let mut provider = GatedProvider::start().await;
    let Some(app) = spawn(backend, &provider).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let booking = book(&guest, &listing);
    let authorize = provider.next("authorize").await;
    let reference = authorize.reference();
    // An invoice: nothing is paid until the transfer arrives.
    authorize.answer("pending");
    let booking = json_of(booking.await.expect("booked"), StatusCode::CREATED).await;
    assert_eq!(booking["status"], "pending_payment");
    let id = id_of(&booking);
    // The hold expires; the invoice is withdrawn.
    sql_exec(
        &app,
        "UPDATE bookings SET expires_at = '2000-01-01 00:00:00+00:00' \
         WHERE status = 'pending_payment'",
    )
    .await;
    let bookings = app.kernel.bookings.clone();
    let expiring = tokio::spawn(async move { bookings.expire_due().await });
    provider.next("cancel").await.answer("voided");
    assert_eq!(expiring.await.expect("ran").expect("expired"), 1);
    // The payer transferred anyway: the money is sent back, not "voided".
    let arrived = {
        let request = webhook(&app, "evt_paid", &reference, "captured");
        let (res, ()) = tokio::join!(request, async {
            let refund = provider.next("refund").await;
            assert_eq!(refund.subject, reference);
            refund.answer("refunded");
        });
        res
    };
    let receipt = json_of(arrived, StatusCode::OK).await;
    assert_eq!(receipt["outcome"], "applied");
    let entries = ledger(&guest, &id).await;
    assert_eq!(
        ops(&entries),
        ["authorize:succeeded", "void:succeeded", "refund:succeeded"]
    );
    assert_eq!(
        entries[2].2,
        booking["total_minor"].as_i64().expect("total")
    );
    assert_eq!(refunded_events(&app).await, 1);
    let (_, now) = guest.get_json(&format!("/v1/bookings/{id}")).await;
    assert_eq!(now["status"], "expired");
}

async fn a_webhook_that_overtakes_the_authorization_is_retried_not_lost(backend: Backend) {
    let mut provider = GatedProvider::start().await;
    let Some(app) = spawn(backend, &provider).await else {
        return;
    };
    // With nothing waiting for an answer, a webhook about an unknown payment is ignored.
    let foreign = webhook(&app, "evt_foreign", "gated_elsewhere", "captured").await;
    assert_eq!(json_of(foreign, StatusCode::OK).await["outcome"], "ignored");

    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let booking = book(&guest, &listing);
    let authorize = provider.next("authorize").await;
    let reference = authorize.reference();
    // The provider's webhook arrives before its answer to the authorization.
    let early = webhook(&app, "evt_early", &reference, "captured").await;
    assert_eq!(
        early
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    assert_problem(early, StatusCode::SERVICE_UNAVAILABLE, "webhook_early").await;
    authorize.answer("pending");
    let booking = json_of(booking.await.expect("booked"), StatusCode::CREATED).await;
    assert_eq!(booking["status"], "pending_payment");
    // The provider sends it again: applied, not a duplicate of a delivery that was lost.
    let again = webhook(&app, "evt_early", &reference, "captured").await;
    assert_eq!(json_of(again, StatusCode::OK).await["outcome"], "applied");
    let id = id_of(&booking);
    let (_, now) = guest.get_json(&format!("/v1/bookings/{id}")).await;
    assert_eq!(now["status"], "requested");
    assert_eq!(ops(&ledger(&guest, &id).await), ["authorize:succeeded"]);
}

crate::for_each_backend!(
    a_capture_in_flight_outlives_the_request_deadline,
    a_capture_that_lands_on_an_ended_booking_is_refunded,
    an_instant_booking_that_cannot_be_confirmed_is_voided,
    reconciliation_releases_what_an_ended_booking_still_holds,
    a_transfer_that_arrives_after_its_hold_expired_is_refunded,
    a_webhook_that_overtakes_the_authorization_is_retried_not_lost,
);
