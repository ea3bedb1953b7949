//! Bounded dates: a calendar change set decades wide, a stay in the past and one beyond the
//! window are refused by field before any work, and nothing is written; an anonymous quote
//! writes no row.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::fixtures::*;
use crate::helpers::{sql_count, Backend, TestApp};

async fn a_calendar_put_decades_apart_is_refused_fast_and_writes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let started = Instant::now();
    let res = put_calendar(
        &app,
        Some(&host.token),
        &listing,
        json!([
            { "from": day(10), "to": day(11), "blocked": true },
            { "from": "2090-01-01", "to": "2090-01-02", "blocked": true },
        ]),
    )
    .await;
    assert_invalid(res, &["changes[1].to", "changes"], "decades apart").await;
    // Refused before any night was rendered: tens of thousands of nights would take far longer.
    assert!(started.elapsed() < Duration::from_secs(5));
    // Each change on its own is fine, but together they span more than 366 days.
    let res = put_calendar(
        &app,
        Some(&host.token),
        &listing,
        json!([
            { "from": day(10), "to": day(11), "blocked": true },
            { "from": day(500), "to": day(501), "blocked": true },
        ]),
    )
    .await;
    assert_invalid(res, &["changes"], "a span over a year").await;
    // Too many changes.
    let many: Vec<_> = (0..101)
        .map(|i| json!({ "from": day(10 + i), "to": day(11 + i), "price_minor": 5_000 }))
        .collect();
    let res = put_calendar(&app, Some(&host.token), &listing, json!(many)).await;
    assert_invalid(res, &["changes"], "101 changes").await;
    // Past nights are not written, and a read may not reach decades back either.
    let res = put_calendar(
        &app,
        Some(&host.token),
        &listing,
        json!([{ "from": day(-30), "to": day(-29), "blocked": true }]),
    )
    .await;
    assert_invalid(res, &["changes[0].from"], "a past night").await;
    let res = get_calendar(&app, None, &listing, "1990-01-01", "1990-01-10").await;
    assert_invalid(res, &["from"], "a read decades back").await;
    let sql = format!("SELECT COUNT(*) FROM calendar_days WHERE listing_id = '{listing}'");
    assert_eq!(sql_count(&app, &sql).await, 0, "nothing was written");
}

async fn stays_out_of_the_window_are_refused_and_anonymous_quotes_write_nothing(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |c| {
        c.bookings.max_days_ahead = std::num::NonZeroU32::new(1096).expect("not zero");
    })
    .await
    else {
        return;
    };
    let (_host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let past = [("check_in", day(-14)), ("check_out", day(-11))];
    let params: Vec<(&str, &str)> = past.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = quote_raw(&app, None, &listing, &params).await;
    assert_invalid(res, &["check_in"], "a past quote").await;
    let res = guest
        .book_raw(&stay(&listing, -14, -11, CARD_OK), None)
        .await;
    assert_invalid(res, &["check_in"], "a past booking").await;
    let res = search_raw(&app, &params).await;
    assert_invalid(res, &["check_in"], "a past search").await;
    let res = guest
        .book_raw(&stay(&listing, 1200, 1203, CARD_OK), None)
        .await;
    assert_invalid(res, &["check_out"], "beyond the window").await;
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 0);
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM quotes").await, 0);
    // An anonymous quote is priced and stores nothing; a signed-in one is stored to book from.
    let ok = [("check_in", day(20)), ("check_out", day(23))];
    let params: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for _ in 0..5 {
        let res = quote_raw(&app, None, &listing, &params).await;
        assert_eq!(res.status(), StatusCode::OK);
        let quote: serde_json::Value = res.json().await.expect("json");
        assert!(quote["quote_id"].is_null(), "{quote}");
        assert!(quote["total_minor"].as_i64().unwrap_or_default() > 0);
    }
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM quotes").await, 0);
    let res = quote_raw(&app, Some(&guest.token), &listing, &params).await;
    let quote: serde_json::Value = res.json().await.expect("json");
    assert!(quote["quote_id"].is_string(), "{quote}");
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM quotes").await, 1);
    // Today is still bookable.
    let res = guest.book_raw(&stay(&listing, 0, 2, CARD_OK), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

crate::for_each_backend!(
    a_calendar_put_decades_apart_is_refused_fast_and_writes_nothing,
    stays_out_of_the_window_are_refused_and_anonymous_quotes_write_nothing,
);
