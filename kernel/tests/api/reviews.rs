//! Reviews through the review-policy plugin: eligibility, each policy outcome, moderation,
//! double-blind reveal, a policy swapped by reload, host responses, and the listing rating.

use std::time::Duration;

use hearth::config::DatabaseBackend;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::{day, host_with_listing, id_of, payment_plugins, stay, CARD_OK};
use crate::helpers::{
    assert_problem, plugin, sql_count, sql_exec, wait_until, Actor, Backend, TestApp,
};

fn policy(config: &str) -> String {
    plugin(
        "review-basic",
        "review-policy",
        "hearth_plugin_review_basic",
        "",
        config,
    )
}

const STRICT_POLICY: &str = "window_days = 14\ncontact_details = \"mask\"\nbanned_words = [\"scam\"]\nhold_words = [\"lawyer\"]";

async fn spawn(backend: Backend, timers: bool) -> Option<TestApp> {
    let plugins = [payment_plugins(""), policy(STRICT_POLICY)].concat();
    TestApp::builder()
        .plugins(&plugins)
        .config(move |c| {
            c.payments.default_provider = Some("payments-sandbox".into());
            if timers {
                c.jobs.schedules.insert(
                    "reveal_reviews".into(),
                    "* * * * * *".parse().expect("cron"),
                );
            }
        })
        .spawn(backend)
        .await
}

/// A booking of a fresh listing whose stay ended `days_ago` days ago.
async fn stayed(app: &TestApp, guest: &Actor, days_ago: i64) -> (Actor, String, String) {
    let (host, listing) = host_with_listing(app, json!({})).await;
    let booking = id_of(&guest.book(&stay(&listing, 30, 32, CARD_OK)).await);
    complete(app, &booking, days_ago).await;
    (host, listing, booking)
}

/// Moves a booking into the past and marks it completed (what the `complete_stays` timer does
/// once check-out has come).
async fn complete(app: &TestApp, booking: &str, days_ago: i64) {
    let id = match app.kernel.db.backend() {
        DatabaseBackend::Sqlite => format!("X'{}'", booking.replace('-', "")),
        DatabaseBackend::Postgres => format!("'{booking}'"),
    };
    sql_exec(
        app,
        &format!(
            "UPDATE bookings SET status = 'completed', check_in = '{}', check_out = '{}' WHERE id = {id}",
            day(-days_ago - 2),
            day(-days_ago)
        ),
    )
    .await;
}

async fn review(app: &TestApp, who: &Actor, booking: &str, body: Value) -> Response {
    app.send_json(
        Method::POST,
        &format!("/v1/bookings/{booking}/reviews"),
        Some(&who.token),
        &body,
    )
    .await
}

async fn submitted(app: &TestApp, who: &Actor, booking: &str, rating: u8, text: &str) -> Value {
    let res = review(app, who, booking, json!({ "rating": rating, "text": text })).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn listing_reviews(app: &TestApp, listing: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/v1/listings/{listing}/reviews"), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.expect("json");
    page["reviews"].as_array().cloned().unwrap_or_default()
}

async fn user_reviews(app: &TestApp, user: &str) -> Vec<Value> {
    let res = app.get(&format!("/v1/users/{user}/reviews"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.expect("json");
    page["reviews"].as_array().cloned().unwrap_or_default()
}

async fn only_the_parties_of_a_completed_stay_review_it_once_within_the_window(backend: Backend) {
    let Some(app) = spawn(backend, false).await else {
        return;
    };
    let guest = app.guest().await;
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let booking = id_of(&guest.book(&stay(&listing, 30, 32, CARD_OK)).await);
    let text = "A lovely, quiet flat; we slept well.";
    let res = review(&app, &guest, &booking, json!({ "rating": 5, "text": text })).await;
    assert_problem(res, StatusCode::CONFLICT, "booking_not_completed").await;

    complete(&app, &booking, 1).await;
    let stranger = app.guest().await;
    let res = review(
        &app,
        &stranger,
        &booking,
        json!({ "rating": 5, "text": text }),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "booking_not_found").await;
    let res = review(
        &app,
        &host,
        &booking,
        json!({ "rating": 5, "text": text, "sub_ratings": { "cleanliness": 5 } }),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = review(
        &app,
        &guest,
        &booking,
        json!({ "rating": 6, "text": text, "sub_ratings": { "wifi": 5 } }),
    )
    .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["rating", "sub_ratings.wifi"], "{problem}");

    let first = review(
        &app,
        &guest,
        &booking,
        json!({ "rating": 5, "text": text, "sub_ratings": { "cleanliness": 5, "value": 4 } }),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    assert_eq!(
        first["status"], "hidden",
        "double-blind: hidden until the host writes theirs"
    );
    assert_eq!(
        first["sub_ratings"],
        json!({ "cleanliness": 5, "value": 4 })
    );
    let res = review(&app, &guest, &booking, json!({ "rating": 4, "text": text })).await;
    assert_problem(res, StatusCode::CONFLICT, "review_exists").await;

    // Outside the policy's 14-day window.
    let (_, _, late) = stayed(&app, &guest, 20).await;
    let res = review(&app, &guest, &late, json!({ "rating": 5, "text": text })).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "review_rejected").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("14-day review window"),
        "{problem}"
    );
}

async fn the_policy_accepts_masks_rejects_and_holds_for_moderation(backend: Backend) {
    let Some(app) = spawn(backend, false).await else {
        return;
    };
    let guest = app.guest().await;
    let admin = app.admin().await;
    // Accepted, contact details masked; shown once the host wrote theirs too.
    let (host, listing, booking) = stayed(&app, &guest, 1).await;
    submitted(
        &app,
        &guest,
        &booking,
        4,
        "Great host, write to me at ana@example.com anytime",
    )
    .await;
    submitted(
        &app,
        &host,
        &booking,
        5,
        "A perfect guest, welcome back any time.",
    )
    .await;
    let shown = listing_reviews(&app, &listing).await;
    assert_eq!(shown.len(), 1);
    assert_eq!(
        shown[0]["text"],
        "Great host, write to me at [hidden] anytime"
    );

    // Rejected with the policy's reason; nothing is stored.
    let (_, _, booking) = stayed(&app, &guest, 1).await;
    let res = review(
        &app,
        &guest,
        &booking,
        json!({ "rating": 1, "text": "This place is a total scam, avoid." }),
    )
    .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "review_rejected").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("scam"),
        "{problem}"
    );
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM reviews WHERE rating = 1").await,
        0
    );

    // Held for a moderator, then approved (and revealed with the host's).
    let (host2, listing2, held_booking) = stayed(&app, &guest, 1).await;
    let held = submitted(
        &app,
        &guest,
        &held_booking,
        2,
        "I will call my lawyer about the heating.",
    )
    .await;
    assert_eq!(held["status"], "held");
    submitted(
        &app,
        &host2,
        &held_booking,
        4,
        "Polite guest who left the flat tidy.",
    )
    .await;
    assert!(
        listing_reviews(&app, &listing2).await.is_empty(),
        "held reviews are not shown"
    );
    let (status, queue) = admin.get_json("/v1/admin/reviews").await;
    assert_eq!(status, StatusCode::OK);
    let queued = queue.as_array().expect("array");
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["id"], held["id"]);
    assert!(queued[0]["note"]
        .as_str()
        .unwrap_or_default()
        .contains("lawyer"));
    let (status, _) = guest.get_json("/v1/admin/reviews").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let held_id = held["id"].as_str().expect("id");
    let res = app
        .send_json(
            Method::POST,
            &format!("/v1/admin/reviews/{held_id}/approve"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let approved: Value = res.json().await.expect("json");
    assert_eq!(
        approved["status"], "published",
        "both sides had written: revealed at once"
    );
    assert_eq!(listing_reviews(&app, &listing2).await.len(), 1);
    let res = app
        .send_json(
            Method::POST,
            &format!("/v1/admin/reviews/{held_id}/approve"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "review_not_held").await;

    // Held, then rejected by the moderator: never shown.
    let (_, listing3, booking3) = stayed(&app, &guest, 1).await;
    let held = submitted(
        &app,
        &guest,
        &booking3,
        3,
        "My lawyer says the photos were misleading.",
    )
    .await;
    let id = held["id"].as_str().expect("id");
    let res = app
        .send_json(
            Method::POST,
            &format!("/v1/admin/reviews/{id}/reject"),
            Some(&admin.token),
            &json!({ "reason": "legal threat" }),
        )
        .await;
    let rejected: Value = res.json().await.expect("json");
    assert_eq!(rejected["status"], "rejected");
    assert!(listing_reviews(&app, &listing3).await.is_empty());
}

async fn double_blind_reviews_show_when_both_wrote_or_the_window_closed(backend: Backend) {
    let Some(app) = spawn(backend, true).await else {
        return;
    };
    let guest = app.guest().await;
    let (host, listing, booking) = stayed(&app, &guest, 2).await;
    let mine = submitted(
        &app,
        &guest,
        &booking,
        5,
        "Spotless and central, would book again.",
    )
    .await;
    assert!(
        listing_reviews(&app, &listing).await.is_empty(),
        "hidden after one side"
    );
    assert!(user_reviews(&app, &host.id).await.is_empty());
    let theirs = submitted(
        &app,
        &host,
        &booking,
        4,
        "Friendly guest, left everything tidy.",
    )
    .await;
    assert_eq!(theirs["status"], "published");
    let shown = listing_reviews(&app, &listing).await;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["id"], mine["id"]);
    let about_guest = user_reviews(&app, &guest.id).await;
    assert_eq!(about_guest.len(), 1);
    assert_eq!(about_guest[0]["id"], theirs["id"]);
    assert_eq!(user_reviews(&app, &host.id).await[0]["id"], mine["id"]);

    // The host answers once, publicly; nobody else may.
    let review_id = mine["id"].as_str().expect("id");
    let path = format!("/v1/reviews/{review_id}/response");
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&guest.token),
            &json!({ "text": "Me too" }),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&host.token),
            &json!({ "text": "Thank you, come back soon!" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        listing_reviews(&app, &listing).await[0]["response"],
        "Thank you, come back soon!"
    );
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&host.token),
            &json!({ "text": "Again" }),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "response_exists").await;

    // Only one side wrote: shown once the window closes (the reveal timer).
    let (_, listing2, booking2) = stayed(&app, &guest, 2).await;
    submitted(&app, &guest, &booking2, 3, "Fine for a night, a bit noisy.").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        listing_reviews(&app, &listing2).await.is_empty(),
        "still inside the window"
    );
    complete(&app, &booking2, 15).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            listing_reviews(&app, &listing2).await.len() == 1
        })
        .await,
        "revealed after the window with one side"
    );

    // review_published reaches both sides' inboxes.
    assert!(
        wait_until(Duration::from_secs(15), || async {
            let (_, inbox) = guest.get_json("/v1/notifications").await;
            inbox["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|m| m["kind"] == "review_published"))
        })
        .await
    );
}

async fn swapping_the_policy_by_reload_changes_behaviour_without_a_rebuild(backend: Backend) {
    let Some(app) = spawn(backend, false).await else {
        return;
    };
    let guest = app.guest().await;
    let admin = app.admin().await;
    let (_, listing, booking) = stayed(&app, &guest, 10).await;
    // A 7-day window, published at once.
    let text = app.stores.config_text(
        &[
            payment_plugins(""),
            policy("window_days = 7\ndouble_blind = false"),
        ]
        .concat(),
    );
    std::fs::write(app.stores.config_path(), text).expect("write config");
    let res = app
        .send_json(
            Method::POST,
            "/v1/admin/plugins/reload",
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = review(
        &app,
        &guest,
        &booking,
        json!({ "rating": 4, "text": "Nice stay, good value for money." }),
    )
    .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "review_rejected").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("7-day"),
        "{problem}"
    );
    let (_, listing2, booking2) = stayed(&app, &guest, 1).await;
    let published = submitted(
        &app,
        &guest,
        &booking2,
        4,
        "Nice stay, good value for money.",
    )
    .await;
    assert_eq!(
        published["status"], "published",
        "no double-blind wait any more"
    );
    assert_eq!(listing_reviews(&app, &listing2).await.len(), 1);
    assert!(listing_reviews(&app, &listing).await.is_empty());
}

async fn the_listing_rating_follows_revealed_reviews(backend: Backend) {
    let Some(app) = spawn(backend, false).await else {
        return;
    };
    let guest = app.guest().await;
    let (host, listing) = host_with_listing(&app, json!({ "title": "Reviewed loft" })).await;
    let (_, _other) = host_with_listing(&app, json!({ "title": "Unreviewed loft" })).await;
    for (i, rating) in [(0i64, 4u8), (1, 5)] {
        let booking = id_of(
            &guest
                .book(&stay(&listing, 30 + 5 * i, 32 + 5 * i, CARD_OK))
                .await,
        );
        // Distinct past stays, so they do not overlap.
        complete(&app, &booking, 4 + 4 * i).await;
        submitted(
            &app,
            &guest,
            &booking,
            rating,
            "Honest review of a real stay here.",
        )
        .await;
        let (status, l) = guest.get_json(&format!("/v1/listings/{listing}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(l["rating_count"], i, "hidden reviews do not count yet");
        submitted(
            &app,
            &host,
            &booking,
            5,
            "Lovely guest, always welcome here.",
        )
        .await;
    }
    let (_, l) = guest.get_json(&format!("/v1/listings/{listing}")).await;
    assert_eq!(l["rating_count"], 2);
    assert_eq!(l["rating_avg"], 4.5);
    let (_, page) = guest.get_json("/v1/listings?city=Paris&sort=rating").await;
    assert_eq!(
        page["listings"][0]["title"], "Reviewed loft",
        "search sorts by the rating"
    );
}

crate::for_each_backend!(
    only_the_parties_of_a_completed_stay_review_it_once_within_the_window,
    the_policy_accepts_masks_rejects_and_holds_for_moderation,
    double_blind_reviews_show_when_both_wrote_or_the_window_closed,
    swapping_the_policy_by_reload_changes_behaviour_without_a_rebuild,
    the_listing_rating_follows_revealed_reviews,
);
