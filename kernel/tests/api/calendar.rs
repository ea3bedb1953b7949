//! Availability calendars through the REST surface, on both backends: blocked nights and
//! override prices against the base price, who may change them, and ranges refused by field.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, TestApp};

crate::on_both_backends!(
    the_calendar_shows_blocked_nights_and_override_prices_against_the_base_price,
    only_the_owner_or_an_admin_changes_a_calendar,
    invalid_calendar_ranges_and_changes_are_refused_naming_the_field,
);

// ---------------------------------------------------------------------------------------------
// 5. Calendar
// ---------------------------------------------------------------------------------------------

async fn the_calendar_shows_blocked_nights_and_override_prices_against_the_base_price(
    app: TestApp,
) {
    let owner = app.host().await;
    let created = owner
        .create_listing(json!({ "nightly_price_minor": 10_000 }))
        .await;
    let listing_id = id(&created);

    let calendar: Value = get_calendar(&app, None, &listing_id, "2031-05-09", "2031-05-12")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(calendar["listing_id"].as_str(), Some(listing_id.as_str()));
    assert_eq!(calendar["currency"], "EUR");
    assert_eq!(
        nights(&calendar),
        [
            night("2031-05-09", "available", 10_000),
            night("2031-05-10", "available", 10_000),
            night("2031-05-11", "available", 10_000),
        ]
    );

    // Changes apply in order over [from, to); the answer covers the changed span.
    let changed = set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([
            { "from": "2031-05-10", "to": "2031-05-12", "blocked": true },
            { "from": "2031-05-11", "to": "2031-05-13", "price_minor": 15_000 },
        ]),
    )
    .await;
    assert_eq!(
        nights(&changed),
        [
            night("2031-05-10", "blocked", 10_000),
            night("2031-05-11", "blocked", 15_000),
            night("2031-05-12", "available", 15_000),
        ]
    );
    let calendar: Value = get_calendar(&app, None, &listing_id, "2031-05-09", "2031-05-14")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        nights(&calendar),
        [
            night("2031-05-09", "available", 10_000),
            night("2031-05-10", "blocked", 10_000),
            night("2031-05-11", "blocked", 15_000),
            night("2031-05-12", "available", 15_000),
            night("2031-05-13", "available", 10_000),
        ]
    );

    // Unblock one night, drop one override (null), and change the base price: nights without
    // an override follow it.
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([
            { "from": "2031-05-10", "to": "2031-05-11", "blocked": false },
            { "from": "2031-05-12", "to": "2031-05-13", "price_minor": null },
        ]),
    )
    .await;
    let res = patch(
        &app,
        Some(&owner.token),
        &listing_id,
        json!({ "nightly_price_minor": 11_000 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let calendar: Value = get_calendar(&app, None, &listing_id, "2031-05-09", "2031-05-14")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        nights(&calendar),
        [
            night("2031-05-09", "available", 11_000),
            night("2031-05-10", "available", 11_000),
            night("2031-05-11", "blocked", 15_000),
            night("2031-05-12", "available", 11_000),
            night("2031-05-13", "available", 11_000),
        ]
    );
    // Another listing's calendar is untouched.
    let other = owner.create_listing(json!({})).await;
    let calendar: Value = get_calendar(&app, None, &id(&other), "2031-05-10", "2031-05-12")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        nights(&calendar),
        [
            night("2031-05-10", "available", 10_000),
            night("2031-05-11", "available", 10_000),
        ]
    );
}

async fn only_the_owner_or_an_admin_changes_a_calendar(app: TestApp) {
    let owner = app.host().await;
    let other_host = app.host().await;
    let guest = app.guest().await;
    let admin = app.admin().await;
    let published = owner.create_listing(json!({})).await;
    let block = json!([{ "from": "2031-06-01", "to": "2031-06-03", "blocked": true }]);

    for token in [&other_host.token, &guest.token] {
        assert_problem(
            put_calendar(&app, Some(token), &id(&published), block.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        put_calendar(&app, None, &id(&published), block.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let calendar: Value = get_calendar(&app, None, &id(&published), "2031-06-01", "2031-06-03")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        nights(&calendar).iter().all(|n| n.1 == "available"),
        "nothing was blocked: {calendar}"
    );
    let res = put_calendar(&app, Some(&admin.token), &id(&published), block).await;
    assert_eq!(res.status(), StatusCode::OK);
    let calendar: Value = get_calendar(
        &app,
        Some(&guest.token),
        &id(&published),
        "2031-06-01",
        "2031-06-03",
    )
    .await
    .json()
    .await
    .expect("json");
    assert!(
        nights(&calendar).iter().all(|n| n.1 == "blocked"),
        "{calendar}"
    );
}

async fn invalid_calendar_ranges_and_changes_are_refused_naming_the_field(app: TestApp) {
    let owner = app.host().await;
    let listing_id = id(&owner.create_listing(json!({})).await);

    for (from, to, field) in [
        ("2031-05-10", "2031-05-10", "to"),
        ("2031-05-10", "2031-05-09", "to"),
        ("2031-01-01", "2032-01-03", "to"),
        ("2031-13-01", "2031-05-09", "from"),
        ("2031-05-10", "soon", "to"),
    ] {
        assert_invalid(
            get_calendar(&app, None, &listing_id, from, to).await,
            &[field],
            &format!("GET {from}..{to}"),
        )
        .await;
    }
    // 366 days is the longest range.
    let res = get_calendar(&app, None, &listing_id, "2031-01-01", "2032-01-02").await;
    assert_eq!(res.status(), StatusCode::OK);
    let calendar: Value = res.json().await.expect("json");
    assert_eq!(nights(&calendar).len(), 366);
    // A missing bound is named too.
    let res = app
        .request(Method::GET, &format!("/v1/listings/{listing_id}/calendar"))
        .query(&[("to", "2031-05-10")])
        .send()
        .await
        .expect("sent");
    assert_invalid(res, &["from"], "GET without from").await;

    let cases = [
        (json!([]), vec!["changes"]),
        (
            json!([{ "from": "2031-05-10", "to": "2031-05-10", "blocked": true }]),
            vec!["changes[0].to"],
        ),
        (
            json!([
                { "from": "2031-05-10", "to": "2031-05-11", "blocked": true },
                { "from": "2031-05-12", "to": "2031-05-11", "blocked": true },
            ]),
            vec!["changes[1].to"],
        ),
        (
            json!([{ "from": "2031-01-01", "to": "2032-01-03", "blocked": true }]),
            vec!["changes[0].to"],
        ),
        (
            json!([{ "from": "2031-05-10", "to": "2031-05-11" }]),
            vec!["changes[0]"],
        ),
        (
            json!([{ "from": "2031-05-10", "to": "2031-05-11", "price_minor": 0 }]),
            vec!["changes[0].price_minor"],
        ),
        (
            json!([{ "from": "2031-05-10", "to": "2031-05-11", "price_minor": -5 }]),
            vec!["changes[0].price_minor"],
        ),
        (
            json!([{ "from": "2031-05-10", "to": "2031-05-11", "blocked": "yes" }]),
            vec!["changes[0].blocked"],
        ),
        (
            json!([{ "from": "2031-02-30", "to": "2031-03-02", "blocked": true }]),
            vec!["changes[0].from"],
        ),
        (
            json!([{ "from": "2031-05-10", "to": "2031-05-11", "blocked": true, "note": "x" }]),
            vec!["changes[0].note"],
        ),
    ];
    for (changes, expected) in cases {
        let res = put_calendar(&app, Some(&owner.token), &listing_id, changes.clone()).await;
        assert_invalid(res, &expected, &changes.to_string()).await;
    }
    let calendar: Value = get_calendar(&app, None, &listing_id, "2031-05-09", "2031-05-13")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        nights(&calendar)
            .iter()
            .all(|n| n.1 == "available" && n.2 == 10_000),
        "no invalid change was applied, even partly: {calendar}"
    );
}
