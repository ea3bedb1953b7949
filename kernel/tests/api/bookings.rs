//! Bookings: the state machine through the API, access rules, no double booking under
//! concurrency (on SQLite's write lock and PostgreSQL's exclusion constraint), idempotency keys,
//! and the timers.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, plugin, sql_count, sql_exec, wait_until, Actor, Backend, Stores, TestApp,
};
use crate::listings;

pub(crate) const SANDBOX_SECRET: &str = "whsec_sandbox_test_0123456789";
pub(crate) const INVOICE_SECRET: &str = "whsec_invoice_test_0123456789";
pub(crate) const CARD_OK: &str = "4242424242424242";
pub(crate) const CARD_DECLINED: &str = "4000000000000002";
pub(crate) const CARD_LATER: &str = "4000000000003220";

/// The sandbox for every currency but CHF, which pays by invoice (bank transfer).
pub(crate) fn payment_plugins(extra_sandbox: &str) -> String {
    [
        plugin(
            "payments-sandbox",
            "payments",
            "hearth_plugin_payments_sandbox",
            extra_sandbox,
            &format!("webhook_secret = \"{SANDBOX_SECRET}\""),
        ),
        plugin(
            "payments-invoice",
            "payments",
            "hearth_plugin_payments_invoice",
            "",
            &format!("webhook_secret = \"{INVOICE_SECRET}\""),
        ),
        plugin(
            "notify-inbox",
            "notifier",
            "hearth_plugin_notify_inbox",
            "",
            "",
        ),
    ]
    .concat()
}

/// An app with the payment providers, on fresh stores.
pub(crate) async fn spawn(
    backend: Backend,
    tweak: impl FnOnce(&mut hearth::config::Config),
) -> Option<TestApp> {
    spawn_with(backend, "", tweak).await
}

/// [`spawn`] with extra keys for the sandbox's `[[plugins]]` entry.
pub(crate) async fn spawn_with(
    backend: Backend,
    extra_sandbox: &str,
    tweak: impl FnOnce(&mut hearth::config::Config),
) -> Option<TestApp> {
    let stores = Stores::fresh(backend).await?;
    Some(
        TestApp::spawn_configured(stores, &payment_plugins(extra_sandbox), |c| {
            c.payments.default_provider = Some("payments-sandbox".into());
            c.payments
                .providers
                .insert("CHF".into(), "payments-invoice".into());
            tweak(c);
        })
        .await,
    )
}

/// A host with a published listing made of [`listings::listing`]`(overrides)`.
pub(crate) async fn host_with_listing(app: &TestApp, overrides: Value) -> (Actor, String) {
    let host = listings::host(app).await;
    let listing = listings::create(app, &host, overrides).await;
    (host, listings::id(&listing))
}

/// `YYYY-MM-DD`, `days` from today.
pub(crate) fn day(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

pub(crate) async fn book_raw(
    app: &TestApp,
    who: &Actor,
    body: &Value,
    key: Option<&str>,
) -> Response {
    let mut req = app
        .request(Method::POST, "/v1/bookings")
        .bearer_auth(&who.token)
        .json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.expect("request sent")
}

pub(crate) fn stay(listing: &str, from: i64, to: i64, card: &str) -> Value {
    json!({ "listing_id": listing, "check_in": day(from), "check_out": day(to), "payment_method": card })
}

/// Books, which must succeed; the booking.
pub(crate) async fn book(app: &TestApp, who: &Actor, body: &Value) -> Value {
    let res = book_raw(app, who, body, None).await;
    let status = res.status();
    let booking: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    booking
}

pub(crate) async fn act(app: &TestApp, who: &Actor, id: &str, action: &str) -> Response {
    app.request(Method::POST, &format!("/v1/bookings/{id}/{action}"))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("request sent")
}

pub(crate) async fn get(app: &TestApp, who: &Actor, path: &str) -> (StatusCode, Value) {
    let res = app.get(path, Some(&who.token)).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The ledger as `(operation, status, amount)`.
pub(crate) async fn ledger(app: &TestApp, who: &Actor, id: &str) -> Vec<(String, String, i64)> {
    let (status, body) = get(app, who, &format!("/v1/bookings/{id}/payments")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            (
                p["operation"].as_str().unwrap_or_default().to_owned(),
                p["status"].as_str().unwrap_or_default().to_owned(),
                p["amount_minor"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

pub(crate) fn id_of(booking: &Value) -> String {
    booking["id"].as_str().expect("id").to_owned()
}

/// Active bookings of one listing whose nights overlap: must always be zero.
pub(crate) const OVERLAPS: &str = "SELECT COUNT(*) FROM bookings a JOIN bookings b \
    ON a.listing_id = b.listing_id AND a.id < b.id \
    AND a.check_in < b.check_out AND b.check_in < a.check_out \
    WHERE a.status IN ('pending_payment', 'requested', 'confirmed', 'completed') \
    AND b.status IN ('pending_payment', 'requested', 'confirmed', 'completed')";

async fn a_request_is_accepted_captured_and_confirmed(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let booking = book(&app, &guest, &stay(&listing, 30, 33, CARD_OK)).await;
    assert_eq!(booking["status"], "requested");
    assert_eq!(booking["guests"], 1);
    assert!(booking["total_minor"].as_i64().unwrap_or_default() >= 30_000);
    let id = id_of(&booking);
    let total = booking["total_minor"].as_i64().expect("total");
    assert_eq!(
        ledger(&app, &guest, &id).await,
        [("authorize".into(), "succeeded".into(), total)]
    );
    // The nights are taken: the calendar says booked, search and quotes skip them.
    let (_, calendar) = get(
        &app,
        &guest,
        &format!(
            "/v1/listings/{listing}/calendar?from={}&to={}",
            day(29),
            day(34)
        ),
    )
    .await;
    let statuses: Vec<&str> = calendar["nights"]
        .as_array()
        .expect("nights")
        .iter()
        .map(|n| n["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        ["available", "booked", "booked", "booked", "available"]
    );
    let res = listings::quote_raw(
        &app,
        None,
        &listing,
        &[("check_in", &day(32)), ("check_out", &day(35))],
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "dates_unavailable").await;
    let (_, found) = get(
        &app,
        &guest,
        &format!(
            "/v1/listings?city=Paris&check_in={}&check_out={}",
            day(31),
            day(32)
        ),
    )
    .await;
    assert_eq!(
        found["listings"],
        json!([]),
        "search excludes booked nights"
    );

    // Only the host accepts; the guest gets 403.
    let res = act(&app, &guest, &id, "accept").await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = act(&app, &host, &id, "accept").await;
    assert_eq!(res.status(), StatusCode::OK);
    let confirmed: Value = res.json().await.expect("json");
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(
        ledger(&app, &host, &id).await,
        [
            ("authorize".into(), "succeeded".into(), total),
            ("capture".into(), "succeeded".into(), total),
        ]
    );
    let res = act(&app, &host, &id, "accept").await;
    assert_problem(res, StatusCode::CONFLICT, "booking_not_requested").await;

    // Both parties are notified of the request and the confirmation.
    for who in [&guest, &host] {
        assert!(
            wait_until(Duration::from_secs(15), || async {
                let (_, inbox) = get(&app, who, "/v1/notifications").await;
                let kinds: Vec<String> = inbox["items"]
                    .as_array()
                    .map(|i| {
                        i.iter()
                            .filter_map(|m| m["kind"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                kinds.contains(&"booking_requested".to_owned())
                    && kinds.contains(&"booking_confirmed".to_owned())
            })
            .await,
            "both sides hear of the request and the confirmation"
        );
    }
}

async fn a_declined_request_releases_the_authorization(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let id = id_of(&book(&app, &guest, &stay(&listing, 30, 32, CARD_OK)).await);
    let res = act(&app, &host, &id, "decline").await;
    assert_eq!(res.status(), StatusCode::OK);
    let declined: Value = res.json().await.expect("json");
    assert_eq!(declined["status"], "declined");
    let ops: Vec<(String, String)> = ledger(&app, &guest, &id)
        .await
        .into_iter()
        .map(|(o, s, _)| (o, s))
        .collect();
    assert_eq!(
        ops,
        [
            ("authorize".to_owned(), "succeeded".to_owned()),
            ("void".to_owned(), "succeeded".to_owned())
        ]
    );
    // The nights are free again.
    book(&app, &guest, &stay(&listing, 30, 32, CARD_OK)).await;
}

async fn instant_book_confirms_at_once(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({ "instant_book": true })).await;
    let guest = app.guest().await;
    let booking = book(&app, &guest, &stay(&listing, 40, 42, CARD_OK)).await;
    assert_eq!(booking["status"], "confirmed");
    assert!(booking["instant_book"].as_bool().unwrap_or_default());
    let ops: Vec<String> = ledger(&app, &guest, &id_of(&booking))
        .await
        .into_iter()
        .map(|(o, s, _)| format!("{o}:{s}"))
        .collect();
    assert_eq!(ops, ["authorize:succeeded", "capture:succeeded"]);
}

async fn bookings_are_seen_only_by_their_parties_and_bodies_cannot_set_prices(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let stranger = app.guest().await;
    let admin = app.admin().await;
    let id = id_of(&book(&app, &guest, &stay(&listing, 30, 32, CARD_OK)).await);
    for (who, expected) in [
        (&guest, StatusCode::OK),
        (&host, StatusCode::OK),
        (&admin, StatusCode::OK),
        (&stranger, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = get(&app, who, &format!("/v1/bookings/{id}")).await;
        assert_eq!(status, expected);
        let (status, _) = get(&app, who, &format!("/v1/bookings/{id}/payments")).await;
        assert_eq!(status, expected);
    }
    let (_, mine) = get(&app, &guest, "/v1/bookings").await;
    assert_eq!(mine["bookings"][0]["id"], id.as_str());
    let (_, hosted) = get(&app, &host, "/v1/bookings?role=host").await;
    assert_eq!(hosted["bookings"][0]["id"], id.as_str());
    let (_, as_guest) = get(&app, &host, "/v1/bookings").await;
    assert_eq!(as_guest["bookings"], json!([]));
    let res = app.get("/v1/bookings?role=owner", Some(&guest.token)).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // A guest may not book their own listing.
    let res = book_raw(&app, &host, &stay(&listing, 50, 52, CARD_OK), None).await;
    assert_problem(res, StatusCode::FORBIDDEN, "own_listing").await;
    // Status, prices and totals are the kernel's.
    for field in ["status", "total_minor", "line_items"] {
        let mut body = stay(&listing, 60, 62, CARD_OK);
        body[field] = json!("confirmed");
        let res = book_raw(&app, &guest, &body, None).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // From a quote: the quoted price holds.
    let res = listings::quote_raw(
        &app,
        Some(&guest.token),
        &listing,
        &[("check_in", &day(70)), ("check_out", &day(73))],
    )
    .await;
    let quote: Value = res.json().await.expect("json");
    let booking = book(
        &app,
        &guest,
        &json!({ "quote_id": quote["quote_id"], "payment_method": CARD_OK }),
    )
    .await;
    assert_eq!(booking["total_minor"], quote["total_minor"]);
    assert_eq!(booking["quote_id"], quote["quote_id"]);
    let res = book_raw(
        &app,
        &stranger,
        &json!({ "quote_id": quote["quote_id"], "payment_method": CARD_OK }),
        None,
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

/// 64 concurrent requests for the same nights: exactly one 201, 63 409, no 5xx; over rounds.
async fn concurrent_requests_for_the_same_nights_book_them_once(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guests = join_all((0..8).map(|_| app.guest())).await;
    for round in 0..4i64 {
        let body = stay(&listing, 20 + round * 5, 23 + round * 5, CARD_OK);
        let responses = join_all((0..64).map(|i| {
            let (app, body, who) = (&app, &body, &guests[i % guests.len()]);
            async move { book_raw(app, who, body, None).await.status() }
        }))
        .await;
        let created = responses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let conflicts = responses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!(
            (created, conflicts),
            (1, 63),
            "round {round}: {responses:?}"
        );
    }
    assert_eq!(sql_count(&app, OVERLAPS).await, 0);
}

/// Random overlapping ranges from many clients never leave two active bookings on one night.
async fn random_overlapping_ranges_never_double_book(backend: Backend) {
    use rand::Rng;
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({ "max_nights": 30 })).await;
    let guests = join_all((0..8).map(|_| app.guest())).await;
    let bodies: Vec<Value> = (0..96)
        .map(|_| {
            let mut rng = rand::thread_rng();
            let from = rng.gen_range(10..40);
            let nights = rng.gen_range(1..6);
            stay(&listing, from, from + nights, CARD_OK)
        })
        .collect();
    let responses = join_all(bodies.iter().enumerate().map(|(i, body)| {
        let (app, who) = (&app, &guests[i % guests.len()]);
        async move { book_raw(app, who, body, None).await.status() }
    }))
    .await;
    assert!(
        responses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{responses:?}"
    );
    assert!(responses.contains(&StatusCode::CREATED));
    assert_eq!(
        sql_count(&app, OVERLAPS).await,
        0,
        "no night is booked twice"
    );
    // Back-to-back stays are fine.
    let (_, other) = host_with_listing(&app, json!({})).await;
    book(&app, &guests[0], &stay(&other, 10, 12, CARD_OK)).await;
    book(&app, &guests[1], &stay(&other, 12, 14, CARD_OK)).await;
}

async fn idempotency_keys_replay_refuse_and_guard(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let body = stay(&listing, 30, 32, CARD_OK);

    // Replay: the same response, no second booking.
    let first = book_raw(&app, &guest, &body, Some("key-1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let again = book_raw(&app, &guest, &body, Some("key-1")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first);
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 1);

    // The same key with another body is refused; another user's same key is theirs.
    let other = stay(&listing, 40, 42, CARD_OK);
    let res = book_raw(&app, &guest, &other, Some("key-1")).await;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    let someone = app.guest().await;
    let res = book_raw(&app, &someone, &other, Some("key-1")).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // A stored decline is replayed as the same 402, and nothing new happens.
    let declined = stay(&listing, 50, 52, CARD_DECLINED);
    let res = book_raw(&app, &guest, &declined, Some("key-2")).await;
    let problem = assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
    let res = book_raw(&app, &guest, &declined, Some("key-2")).await;
    assert_eq!(
        res.headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let replayed = assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
    assert_eq!(replayed, problem);
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 3);

    // While the first request with a key is still running, a replay is 409 (staged: a
    // request that began just now and has not finished).
    let running = stay(&listing, 60, 62, CARD_OK);
    let parsed: hearth::domain::bookings::NewBooking =
        serde_json::from_value(running.clone()).expect("a booking body");
    let fingerprint = hearth::http::idempotency::fingerprint("POST /v1/bookings", &parsed);
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00");
    sql_exec(
        &app,
        &format!(
            "INSERT INTO idempotency_keys (account_id, key, fingerprint, state, created_at, updated_at) \
             SELECT id, 'key-3', '{fingerprint}', 'running', '{now}', '{now}' \
             FROM accounts WHERE lower(email) = lower('{}')",
            guest_email(&app, &guest).await
        ),
    )
    .await;
    let res = book_raw(&app, &guest, &running, Some("key-3")).await;
    assert_problem(res, StatusCode::CONFLICT, "idempotency_key_in_use").await;

    // Concurrent requests with one key: one booking, the others replay it or get 409.
    let body = stay(&listing, 70, 72, CARD_OK);
    let responses = join_all((0..16).map(|_| {
        let (app, guest, body) = (&app, &guest, &body);
        async move {
            let res = book_raw(app, guest, body, Some("key-4")).await;
            let replayed = res.headers().contains_key("idempotent-replayed");
            (res.status(), replayed)
        }
    }))
    .await;
    let fresh = responses
        .iter()
        .filter(|(s, replayed)| *s == StatusCode::CREATED && !replayed)
        .count();
    assert_eq!(fresh, 1, "{responses:?}");
    assert!(
        responses
            .iter()
            .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{responses:?}"
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM bookings WHERE status = 'requested'"
        )
        .await,
        3
    );
}

async fn guest_email(app: &TestApp, who: &Actor) -> String {
    let res = app.get("/v1/me", Some(&who.token)).await;
    let me: Value = res.json().await.expect("json");
    me["email"].as_str().expect("email").to_owned()
}

async fn unanswered_holds_and_requests_expire_and_stays_complete(backend: Backend) {
    let Some(app) = spawn(backend, |c| {
        for timer in ["expire_bookings", "complete_stays"] {
            c.jobs
                .schedules
                .insert(timer.into(), "* * * * * *".parse().expect("cron"));
        }
    })
    .await
    else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let pending = id_of(&book(&app, &guest, &stay(&listing, 30, 32, CARD_LATER)).await);
    let requested = id_of(&book(&app, &guest, &stay(&listing, 40, 42, CARD_OK)).await);
    let stayed = id_of(&book(&app, &guest, &stay(&listing, 50, 52, CARD_OK)).await);
    assert_eq!(
        act(&app, &host, &stayed, "accept").await.status(),
        StatusCode::OK
    );
    // Time passes: the hold and the request run out, and the stay is over.
    sql_exec(
        &app,
        "UPDATE bookings SET expires_at = '2000-01-01 00:00:00+00:00' \
         WHERE status IN ('pending_payment', 'requested')",
    )
    .await;
    sql_exec(
        &app,
        "UPDATE bookings SET check_in = '2000-01-01', check_out = '2000-01-03' WHERE status = 'confirmed'",
    )
    .await;
    let status = |id: String| {
        let (app, guest) = (&app, &guest);
        async move { get(app, guest, &format!("/v1/bookings/{id}")).await.1["status"].clone() }
    };
    assert!(
        wait_until(Duration::from_secs(10), || async {
            status(pending.clone()).await == "expired"
                && status(requested.clone()).await == "expired"
                && status(stayed.clone()).await == "completed"
        })
        .await,
        "timers ran: {} {} {}",
        status(pending.clone()).await,
        status(requested.clone()).await,
        status(stayed.clone()).await
    );
    let ops: Vec<String> = ledger(&app, &guest, &requested)
        .await
        .into_iter()
        .map(|(o, s, _)| format!("{o}:{s}"))
        .collect();
    assert_eq!(
        ops,
        ["authorize:succeeded", "void:succeeded"],
        "the expired request's hold is released"
    );
    let ops: Vec<String> = ledger(&app, &guest, &pending)
        .await
        .into_iter()
        .map(|(o, s, _)| format!("{o}:{s}"))
        .collect();
    assert_eq!(
        ops,
        ["authorize:pending", "void:succeeded"],
        "the unpaid hold is released"
    );
}

crate::for_each_backend!(
    a_request_is_accepted_captured_and_confirmed,
    a_declined_request_releases_the_authorization,
    instant_book_confirms_at_once,
    bookings_are_seen_only_by_their_parties_and_bodies_cannot_set_prices,
    concurrent_requests_for_the_same_nights_book_them_once,
    random_overlapping_ranges_never_double_book,
    idempotency_keys_replay_refuse_and_guard,
    unanswered_holds_and_requests_expire_and_stays_complete,
);
