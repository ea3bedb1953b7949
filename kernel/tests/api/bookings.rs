//! Bookings: the state machine through the API, access rules, no double booking under
//! concurrency (on SQLite's write lock and PostgreSQL's exclusion constraint), idempotency keys,
//! and the timers.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, sql_count, sql_exec, wait_until, Actor, Backend, TestApp};

/// Kept for `cli.rs` (owned elsewhere), which still imports these from here; new code imports
/// them from `crate::helpers::fixtures`.
pub(crate) use crate::helpers::fixtures::{day, payment_plugins, CARD_LATER, CARD_OK, OVERLAPS};

async fn a_request_is_accepted_captured_and_confirmed(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let booking = guest.book(&stay(&listing, 30, 33, CARD_OK)).await;
    assert_eq!(booking["status"], "requested");
    assert_eq!(booking["guests"], 1);
    assert!(booking["total_minor"].as_i64().unwrap_or_default() >= 30_000);
    let id = id_of(&booking);
    let total = booking["total_minor"].as_i64().expect("total");
    assert_eq!(
        ledger(&guest, &id).await,
        [("authorize".into(), "succeeded".into(), total)]
    );
    // The nights are taken: the calendar says booked, search and quotes skip them.
    let (_, calendar) = guest
        .get_json(&format!(
            "/v1/listings/{listing}/calendar?from={}&to={}",
            day(29),
            day(34)
        ))
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
    let res = quote_raw(
        &app,
        None,
        &listing,
        &[("check_in", &day(32)), ("check_out", &day(35))],
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "dates_unavailable").await;
    let (_, found) = guest
        .get_json(&format!(
            "/v1/listings?city=Paris&check_in={}&check_out={}",
            day(31),
            day(32)
        ))
        .await;
    assert_eq!(
        found["listings"],
        json!([]),
        "search excludes booked nights"
    );

    // Only the host accepts; the guest gets 403.
    let res = guest.act(&id, "accept").await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = host.act(&id, "accept").await;
    assert_eq!(res.status(), StatusCode::OK);
    let confirmed: Value = res.json().await.expect("json");
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(
        ledger(&host, &id).await,
        [
            ("authorize".into(), "succeeded".into(), total),
            ("capture".into(), "succeeded".into(), total),
        ]
    );
    let res = host.act(&id, "accept").await;
    assert_problem(res, StatusCode::CONFLICT, "booking_not_requested").await;

    // Both parties are notified of the request and the confirmation.
    for who in [&guest, &host] {
        assert!(
            wait_until(Duration::from_secs(15), || async {
                let (_, inbox) = who.get_json("/v1/notifications").await;
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
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let id = id_of(&guest.book(&stay(&listing, 30, 32, CARD_OK)).await);
    let res = host.act(&id, "decline").await;
    assert_eq!(res.status(), StatusCode::OK);
    let declined: Value = res.json().await.expect("json");
    assert_eq!(declined["status"], "declined");
    let ops: Vec<(String, String)> = ledger(&guest, &id)
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
    guest.book(&stay(&listing, 30, 32, CARD_OK)).await;
}

async fn instant_book_confirms_at_once(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({ "instant_book": true })).await;
    let guest = app.guest().await;
    let booking = guest.book(&stay(&listing, 40, 42, CARD_OK)).await;
    assert_eq!(booking["status"], "confirmed");
    assert!(booking["instant_book"].as_bool().unwrap_or_default());
    let ops: Vec<String> = ledger(&guest, &id_of(&booking))
        .await
        .into_iter()
        .map(|(o, s, _)| format!("{o}:{s}"))
        .collect();
    assert_eq!(ops, ["authorize:succeeded", "capture:succeeded"]);
}

async fn bookings_are_seen_only_by_their_parties_and_bodies_cannot_set_prices(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let stranger = app.guest().await;
    let admin = app.admin().await;
    let id = id_of(&guest.book(&stay(&listing, 30, 32, CARD_OK)).await);
    for (who, expected) in [
        (&guest, StatusCode::OK),
        (&host, StatusCode::OK),
        (&admin, StatusCode::OK),
        (&stranger, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = who.get_json(&format!("/v1/bookings/{id}")).await;
        assert_eq!(status, expected);
        let (status, _) = who.get_json(&format!("/v1/bookings/{id}/payments")).await;
        assert_eq!(status, expected);
    }
    let (_, mine) = guest.get_json("/v1/bookings").await;
    assert_eq!(mine["bookings"][0]["id"], id.as_str());
    let (_, hosted) = host.get_json("/v1/bookings?role=host").await;
    assert_eq!(hosted["bookings"][0]["id"], id.as_str());
    let (_, as_guest) = host.get_json("/v1/bookings").await;
    assert_eq!(as_guest["bookings"], json!([]));
    let res = app.get("/v1/bookings?role=owner", Some(&guest.token)).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // A guest may not book their own listing.
    let res = host.book_raw(&stay(&listing, 50, 52, CARD_OK), None).await;
    assert_problem(res, StatusCode::FORBIDDEN, "own_listing").await;
    // Status, prices and totals are the kernel's.
    for field in ["status", "total_minor", "line_items"] {
        let mut body = stay(&listing, 60, 62, CARD_OK);
        body[field] = json!("confirmed");
        let res = guest.book_raw(&body, None).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // From a quote: the quoted price holds.
    let res = quote_raw(
        &app,
        Some(&guest.token),
        &listing,
        &[("check_in", &day(70)), ("check_out", &day(73))],
    )
    .await;
    let quote: Value = res.json().await.expect("json");
    let booking = guest
        .book(&json!({ "quote_id": quote["quote_id"], "payment_method": CARD_OK }))
        .await;
    assert_eq!(booking["total_minor"], quote["total_minor"]);
    assert_eq!(booking["quote_id"], quote["quote_id"]);
    let res = stranger
        .book_raw(
            &json!({ "quote_id": quote["quote_id"], "payment_method": CARD_OK }),
            None,
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

/// 64 concurrent requests for the same nights: exactly one 201, 63 409, no 5xx; over rounds.
async fn concurrent_requests_for_the_same_nights_book_them_once(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guests = join_all((0..8).map(|_| app.guest())).await;
    for round in 0..4i64 {
        let body = stay(&listing, 20 + round * 5, 23 + round * 5, CARD_OK);
        let responses = join_all((0..64).map(|i| {
            let (body, who) = (&body, &guests[i % guests.len()]);
            async move { who.book_raw(body, None).await.status() }
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
    // Each request priced its stay afresh; a quote is kept only with the hold it was made for.
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM quotes").await, 4);
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM bookings b JOIN quotes q ON q.id = b.quote_id \
             AND q.total_minor = b.total_minor"
        )
        .await,
        4
    );
}

/// Random overlapping ranges from many clients never leave two active bookings on one night.
async fn random_overlapping_ranges_never_double_book(backend: Backend) {
    use rand::Rng;
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
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
        let who = &guests[i % guests.len()];
        async move { who.book_raw(body, None).await.status() }
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
    guests[0].book(&stay(&other, 10, 12, CARD_OK)).await;
    guests[1].book(&stay(&other, 12, 14, CARD_OK)).await;
}

async fn idempotency_keys_replay_refuse_and_guard(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let body = stay(&listing, 30, 32, CARD_OK);

    // Replay: the same response, no second booking.
    let first = guest.book_raw(&body, Some("key-1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let again = guest.book_raw(&body, Some("key-1")).await;
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
    let res = guest.book_raw(&other, Some("key-1")).await;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    let someone = app.guest().await;
    let res = someone.book_raw(&other, Some("key-1")).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // A stored decline is replayed as the same 402, and nothing new happens.
    let declined = stay(&listing, 50, 52, CARD_DECLINED);
    let res = guest.book_raw(&declined, Some("key-2")).await;
    let problem = assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
    let res = guest.book_raw(&declined, Some("key-2")).await;
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
    let parsed: hearth::http::dto::bookings::NewBooking =
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
    let res = guest.book_raw(&running, Some("key-3")).await;
    assert_problem(res, StatusCode::CONFLICT, "idempotency_key_in_use").await;

    // Concurrent requests with one key: one booking, the others replay it or get 409.
    let body = stay(&listing, 70, 72, CARD_OK);
    let responses = join_all((0..16).map(|_| {
        let (guest, body) = (&guest, &body);
        async move {
            let res = guest.book_raw(body, Some("key-4")).await;
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
    let Some(app) = spawn_with_payments(backend, |c| {
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
    let pending = id_of(&guest.book(&stay(&listing, 30, 32, CARD_LATER)).await);
    let requested = id_of(&guest.book(&stay(&listing, 40, 42, CARD_OK)).await);
    let stayed = id_of(&guest.book(&stay(&listing, 50, 52, CARD_OK)).await);
    assert_eq!(host.act(&stayed, "accept").await.status(), StatusCode::OK);
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
        let guest = &guest;
        async move { guest.get_json(&format!("/v1/bookings/{id}")).await.1["status"].clone() }
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
    // The void is settled after the provider answers, just after the booking expired.
    let ops = |id: String| {
        let guest = &guest;
        async move {
            ledger(guest, &id)
                .await
                .into_iter()
                .map(|(o, s, _)| format!("{o}:{s}"))
                .collect::<Vec<String>>()
        }
    };
    let settled = |id: String| {
        let ops = &ops;
        async move {
            ops(id)
                .await
                .last()
                .is_some_and(|op| op.ends_with(":succeeded"))
        }
    };
    wait_until(Duration::from_secs(10), || async {
        settled(requested.clone()).await && settled(pending.clone()).await
    })
    .await;
    assert_eq!(
        ops(requested.clone()).await,
        ["authorize:succeeded", "void:succeeded"],
        "the expired request's hold is released"
    );
    let ops = ops(pending.clone()).await;
    assert_eq!(
        ops,
        ["authorize:pending", "void:succeeded"],
        "the unpaid hold is released"
    );
}

async fn only_its_host_admins_and_confirmed_guests_see_where_a_listing_is(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(
        &app,
        json!({ "instant_book": true, "latitude": 48.858_37, "longitude": 2.294_48 }),
    )
    .await;
    let guest = app.guest().await;
    let admin = app.admin().await;
    let path = format!("/v1/listings/{listing}");
    let exact = |v: &Value| {
        v["address"].as_str().is_some_and(|a| !a.is_empty())
            && v["latitude"] == 48.858_37
            && v["longitude"] == 2.294_48
    };
    let approximate =
        |v: &Value| v["address"].is_null() && v["latitude"] == 48.86 && v["longitude"] == 2.295;
    let anonymous: Value = app.get(&path, None).await.json().await.expect("json");
    assert!(approximate(&anonymous), "{anonymous}");
    let (_, before) = guest.get_json(&path).await;
    assert!(
        approximate(&before),
        "not before a confirmed booking: {before}"
    );
    for who in [&host, &admin] {
        let (_, seen) = who.get_json(&path).await;
        assert!(exact(&seen), "{seen}");
    }
    let booking = guest.book(&stay(&listing, 30, 32, CARD_OK)).await;
    assert_eq!(booking["status"], "confirmed");
    let (_, after) = guest.get_json(&path).await;
    assert!(
        exact(&after),
        "the confirmed guest finds the place: {after}"
    );
    // Search answers anyone: approximate for everyone, the host included.
    let found = search(&app, &[("city", "Paris")]).await;
    let listed = &found["listings"][0];
    assert_eq!(listed["id"], listing.as_str());
    assert!(approximate(listed), "{listed}");
}

crate::for_each_backend!(
    only_its_host_admins_and_confirmed_guests_see_where_a_listing_is,
    a_request_is_accepted_captured_and_confirmed,
    a_declined_request_releases_the_authorization,
    instant_book_confirms_at_once,
    bookings_are_seen_only_by_their_parties_and_bodies_cannot_set_prices,
    concurrent_requests_for_the_same_nights_book_them_once,
    random_overlapping_ranges_never_double_book,
    idempotency_keys_replay_refuse_and_guard,
    unanswered_holds_and_requests_expire_and_stays_complete,
);
