//! Payments through the provider plugins: declines, refunds per cancellation policy, the
//! webhook signature matrix with duplicates and out-of-order deliveries, a second provider
//! (bank transfer) chosen by currency, and a provider that traps.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::fixtures::{
    host_with_listing, id_of, ledger, payment_plugins, spawn_with_payments, stay, CARD_DECLINED,
    CARD_LATER, CARD_OK, INVOICE_SECRET, SANDBOX_SECRET,
};
use crate::helpers::{assert_problem, plugin, sql_count, wait_until, Backend, Stores, TestApp};

/// `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, computed here independently.
fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook(
    app: &TestApp,
    plugin: &str,
    header: Option<(&str, String)>,
    body: &str,
) -> Response {
    let mut req = app
        .request(Method::POST, &format!("/v1/webhooks/payments/{plugin}"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    req.send().await.expect("request sent")
}

async fn status_of(who: &crate::helpers::Actor, id: &str) -> Value {
    who.get_json(&format!("/v1/bookings/{id}")).await.1["status"].clone()
}

fn ops(ledger: Vec<(String, String, i64)>) -> Vec<String> {
    ledger
        .into_iter()
        .map(|(o, s, _)| format!("{o}:{s}"))
        .collect()
}

async fn a_declined_card_cancels_the_booking(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let admin = app.admin().await;
    for (card, code) in [
        (CARD_DECLINED, "card_declined"),
        ("4000000000009995", "insufficient_funds"),
    ] {
        let res = guest.book_raw(&stay(&listing, 30, 32, card), None).await;
        let problem = assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("({code})")),
            "the client is told the code: {problem}"
        );
        let booking = problem["detail"]
            .as_str()
            .and_then(|d| d.split("booking ").nth(1))
            .and_then(|d| d.split(' ').next())
            .expect("the problem names the booking")
            .to_owned();
        // The host sees the code, not the provider's words, and no card digits anywhere.
        let (status, view) = host
            .get_json(&format!("/v1/bookings/{booking}/payments"))
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view[0]["failure_code"], code, "{view}");
        assert!(view[0]["detail"].is_null(), "{view}");
        let last_four = &card[card.len() - 4..];
        assert!(!view.to_string().contains(last_four), "{view}");
        // An admin sees what the provider said.
        let (_, view) = admin
            .get_json(&format!("/v1/bookings/{booking}/payments"))
            .await;
        assert!(
            view[0]["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{view}"
        );
        // The raw card is gone from the ledger once the provider answered: only its last four.
        assert_eq!(
            sql_count(
                &app,
                &format!(
                    "SELECT COUNT(*) FROM payments WHERE payment_method = '••••{last_four}' \
                     AND failure_code = '{code}'"
                )
            )
            .await,
            1
        );
    }
    assert_eq!(
        sql_count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM payments WHERE payment_method LIKE '%{}%'",
                &CARD_DECLINED[..12]
            )
        )
        .await,
        0,
        "no full card number is kept"
    );
    let (_, mine) = guest.get_json("/v1/bookings").await;
    for b in mine["bookings"].as_array().expect("bookings") {
        assert_eq!(b["status"], "cancelled");
        assert_eq!(b["end_reason"], "payment_declined");
        assert_eq!(
            ops(ledger(&guest, b["id"].as_str().expect("id")).await),
            ["authorize:failed"]
        );
    }
    // The nights were released.
    guest.book(&stay(&listing, 30, 32, CARD_OK)).await;
}

async fn refunds_follow_the_cancellation_policy(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let guest = app.guest().await;
    // (policy, check-in in days, who cancels, expected percent)
    let cases = [
        ("flexible", 10, "guest", 100),
        ("flexible", 1, "guest", 0),
        ("moderate", 10, "guest", 100),
        ("moderate", 3, "guest", 0),
        ("strict", 30, "guest", 100),
        ("strict", 10, "guest", 50),
        ("strict", 3, "guest", 0),
        ("strict", 3, "host", 100),
    ];
    // Check-in opens at this minute of the day, so "check-in in N days" is N×24 hours away less
    // the seconds already gone in this minute, whatever the time of day the test runs at.
    // Dates count from the same instant, so a run that straddles midnight only brings check-in
    // nearer.
    let now = chrono::Utc::now();
    let opens = now.format("%H:%M").to_string();
    let on = |days: i64| (now.date_naive() + chrono::Duration::days(days)).to_string();
    for (policy, days, by, percent) in cases {
        let (host, listing) = host_with_listing(
            &app,
            json!({ "cancellation_policy": policy, "timezone": "UTC", "check_in_time": opens }),
        )
        .await;
        let booking = guest
            .book(&json!({
                "listing_id": listing, "check_in": on(days), "check_out": on(days + 2),
                "payment_method": CARD_OK,
            }))
            .await;
        let id = id_of(&booking);
        assert_eq!(host.act(&id, "accept").await.status(), StatusCode::OK);
        let total = booking["total_minor"].as_i64().expect("total");
        let expected = total * percent / 100;
        let who = if by == "guest" { &guest } else { &host };
        let (status, preview) = who
            .get_json(&format!("/v1/bookings/{id}/cancellation"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let context = format!("{policy}, check-in in {days} days, cancelled by {by}: {preview}");
        assert_eq!(preview["percent"], percent, "{context}");
        assert_eq!(preview["refund_minor"], expected, "{context}");
        assert_eq!(preview["cancelled_by"], by, "{context}");
        let res = who.act(&id, "cancel").await;
        assert_eq!(res.status(), StatusCode::OK, "{context}");
        let cancelled: Value = res.json().await.expect("json");
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["refund_minor"], expected, "{context}");
        let refunds: Vec<(String, String, i64)> = ledger(&guest, &id)
            .await
            .into_iter()
            .filter(|(o, _, _)| o == "refund")
            .collect();
        if expected > 0 {
            assert_eq!(
                refunds,
                [("refund".into(), "succeeded".into(), expected)],
                "{context}"
            );
        } else {
            assert!(refunds.is_empty(), "{context}");
        }
        let res = who.act(&id, "cancel").await;
        assert_problem(res, StatusCode::CONFLICT, "booking_not_cancellable").await;
    }
    // Cancelling a request refunds nothing (nothing was captured) and releases the hold.
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let id = id_of(&guest.book(&stay(&listing, 20, 22, CARD_OK)).await);
    assert_eq!(guest.act(&id, "cancel").await.status(), StatusCode::OK);
    assert_eq!(
        ops(ledger(&guest, &id).await),
        ["authorize:succeeded", "void:succeeded"]
    );
}

async fn the_webhook_signature_matrix_changes_nothing_unless_valid(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let booking = guest.book(&stay(&listing, 30, 32, CARD_LATER)).await;
    assert_eq!(
        booking["status"], "pending_payment",
        "confirmed later by webhook"
    );
    let id = id_of(&booking);
    let payments = ledger(&guest, &id).await;
    assert_eq!(ops(payments), ["authorize:pending"]);
    let (_, raw) = guest.get_json(&format!("/v1/bookings/{id}/payments")).await;
    let reference = raw[0]["provider_ref"]
        .as_str()
        .expect("provider ref")
        .to_owned();

    let now = chrono::Utc::now().timestamp();
    let body =
        json!({ "id": "evt_1", "provider_ref": reference, "status": "authorized" }).to_string();
    let tampered = body.replace("authorized", "captured");
    let rejected = [
        ("missing header", None, body.clone()),
        (
            "tampered body",
            Some(sign(SANDBOX_SECRET, now, &body)),
            tampered,
        ),
        (
            "wrong secret",
            Some(sign("whsec_someone_else_000000", now, &body)),
            body.clone(),
        ),
        (
            "stale",
            Some(sign(SANDBOX_SECRET, now - 3600, &body)),
            body.clone(),
        ),
        ("garbage header", Some("t=abc,v1=zz".into()), body.clone()),
    ];
    for (case, header, payload) in rejected {
        let res = webhook(
            &app,
            "payments-sandbox",
            header.map(|h| ("sandbox-signature", h)),
            &payload,
        )
        .await;
        let problem = assert_problem(res, StatusCode::BAD_REQUEST, "invalid_webhook").await;
        assert_eq!(
            status_of(&guest, &id).await,
            "pending_payment",
            "{case}: {problem}"
        );
        assert_eq!(
            ops(ledger(&guest, &id).await),
            ["authorize:pending"],
            "{case}"
        );
    }
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM payment_webhooks").await,
        0,
        "nothing was recorded"
    );

    // Valid: the payment is authorized and the booking becomes a request.
    let valid = || Some(("sandbox-signature", sign(SANDBOX_SECRET, now, &body)));
    let res = webhook(&app, "payments-sandbox", valid(), &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let receipt: Value = res.json().await.expect("json");
    assert_eq!(receipt["outcome"], "applied");
    assert_eq!(status_of(&guest, &id).await, "requested");
    assert_eq!(ops(ledger(&guest, &id).await), ["authorize:succeeded"]);

    // A duplicate delivery is harmless.
    let res = webhook(&app, "payments-sandbox", valid(), &body).await;
    let receipt: Value = res.json().await.expect("json");
    assert_eq!(receipt["outcome"], "duplicate");
    // A late, out-of-order "declined" never leaves the final state.
    let late =
        json!({ "id": "evt_0", "provider_ref": reference, "status": "declined:card_declined" })
            .to_string();
    let res = webhook(
        &app,
        "payments-sandbox",
        Some(("sandbox-signature", sign(SANDBOX_SECRET, now, &late))),
        &late,
    )
    .await;
    let receipt: Value = res.json().await.expect("json");
    assert_eq!(receipt["outcome"], "ignored");
    assert_eq!(status_of(&guest, &id).await, "requested");
    assert_eq!(ops(ledger(&guest, &id).await), ["authorize:succeeded"]);

    let res = webhook(&app, "no-such-provider", valid(), &body).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn a_declining_webhook_cancels_a_pending_booking(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let id = id_of(&guest.book(&stay(&listing, 30, 32, CARD_LATER)).await);
    let (_, raw) = guest.get_json(&format!("/v1/bookings/{id}/payments")).await;
    let reference = raw[0]["provider_ref"].as_str().expect("ref").to_owned();
    let body = json!({ "id": "evt_9", "provider_ref": reference, "status": "declined:insufficient_funds" })
        .to_string();
    let now = chrono::Utc::now().timestamp();
    let res = webhook(
        &app,
        "payments-sandbox",
        Some(("sandbox-signature", sign(SANDBOX_SECRET, now, &body))),
        &body,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, b) = guest.get_json(&format!("/v1/bookings/{id}")).await;
    assert_eq!(b["status"], "cancelled");
    assert_eq!(b["end_reason"], "payment_declined");
    assert_eq!(ops(ledger(&guest, &id).await), ["authorize:failed"]);
}

async fn an_invoice_stays_pending_until_its_webhook_says_paid(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    // CHF is paid by invoice (bank transfer) in this configuration.
    let (host, listing) = host_with_listing(
        &app,
        json!({ "currency": "CHF", "country": "CH", "city": "Zürich" }),
    )
    .await;
    let guest = app.guest().await;
    let booking = guest.book(&stay(&listing, 30, 33, "bank_transfer")).await;
    assert_eq!(booking["status"], "pending_payment");
    assert_eq!(booking["payment_provider"], "payments-invoice");
    let id = id_of(&booking);
    let (_, raw) = guest.get_json(&format!("/v1/bookings/{id}/payments")).await;
    assert_eq!(raw[0]["status"], "pending");
    let reference = raw[0]["provider_ref"].as_str().expect("ref").to_owned();
    assert!(reference.starts_with("inv_"), "{reference}");
    // A card is not a payment method the invoice provider takes.
    let res = guest.book_raw(&stay(&listing, 40, 42, CARD_OK), None).await;
    assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;

    let body = json!({ "id": "inv_evt_1", "reference": reference, "status": "paid" }).to_string();
    let now = chrono::Utc::now().timestamp();
    let res = webhook(
        &app,
        "payments-invoice",
        Some(("invoice-signature", sign(INVOICE_SECRET, now, &body))),
        &body,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(status_of(&guest, &id).await, "requested");
    assert_eq!(host.act(&id, "accept").await.status(), StatusCode::OK);
    assert_eq!(
        ops(ledger(&guest, &id).await),
        ["authorize:succeeded", "capture:succeeded"]
    );
}

async fn a_trapping_provider_leaves_no_booking_without_payment_or_payment_without_booking(
    backend: Backend,
) {
    let Some(stores) = Stores::fresh(backend).await else {
        return;
    };
    let plugins = [
        payment_plugins(""),
        plugin(
            "payments-trap",
            "payments",
            "hearth_test_guest_payments_trap",
            "",
            "",
        ),
    ]
    .concat();
    let app = TestApp::spawn_configured(stores, &plugins, |c| {
        c.payments.default_provider = Some("payments-trap".into());
        c.payments.reconcile_after_secs = 0;
        c.jobs.schedules.insert(
            "reconcile_payments".into(),
            "* * * * * *".parse().expect("cron"),
        );
    })
    .await;
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let res = guest.book_raw(&stay(&listing, 30, 32, CARD_OK), None).await;
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "payment_unavailable").await;
    let (_, mine) = guest.get_json("/v1/bookings").await;
    let b = &mine["bookings"][0];
    assert_eq!(b["status"], "cancelled");
    assert_eq!(b["end_reason"], "payment_error");
    // The authorization's outcome is unknown: it stays an intent the reconciliation keeps
    // asking about; nothing is ever marked paid, and the nights are free.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        ops(ledger(&guest, b["id"].as_str().expect("id")).await),
        ["authorize:intent"]
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM payments WHERE status = 'succeeded'"
        )
        .await,
        0
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM bookings WHERE status IN ('requested', 'confirmed')"
        )
        .await,
        0
    );
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'reconcile_payments' AND state = 'succeeded'").await >= 1
        })
        .await
    );
    // Its webhooks trap too: 503 so the provider retries, and nothing changes.
    let res = webhook(&app, "payments-trap", None, "{}").await;
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "payment_unavailable").await;
}

crate::for_each_backend!(
    a_declined_card_cancels_the_booking,
    refunds_follow_the_cancellation_policy,
    the_webhook_signature_matrix_changes_nothing_unless_valid,
    a_declining_webhook_cancels_a_pending_booking,
    an_invoice_stays_pending_until_its_webhook_says_paid,
    a_trapping_provider_leaves_no_booking_without_payment_or_payment_without_booking,
);
