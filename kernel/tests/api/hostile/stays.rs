//! Bounded dates: a calendar change set decades wide, a stay in the past and one beyond the
//! window are refused by field before any work, and nothing is written; an anonymous quote
//! writes no row. Stays obey time at the listing: its time zone decides when today is, its
//! advance notice, availability window and preparation nights are kept by quotes, bookings and
//! search, and its time fields are refused by name when bad.

use std::time::{Duration, Instant};

use chrono::Timelike;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, sql_count, Actor, Backend, TestApp};

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

/// `check_in`/`check_out` query parameters `from` and `to` days from today (UTC).
fn dates(from: i64, to: i64) -> [(&'static str, String); 2] {
    [("check_in", day(from)), ("check_out", day(to))]
}

async fn quote_days(
    app: &TestApp,
    who: Option<&Actor>,
    listing: &str,
    from: i64,
    to: i64,
) -> Response {
    let dates = dates(from, to);
    let params: Vec<(&str, &str)> = dates.iter().map(|(k, v)| (*k, v.as_str())).collect();
    quote_raw(app, who.map(|a| a.token.as_str()), listing, &params).await
}

/// The ids a search for this stay (in `city`) finds.
async fn found(app: &TestApp, city: &str, from: i64, to: i64) -> Vec<String> {
    let dates = dates(from, to);
    let mut params: Vec<(&str, &str)> = dates.iter().map(|(k, v)| (*k, v.as_str())).collect();
    params.push(("city", city));
    ids(&search(app, &params).await)
}

async fn a_past_stay_and_one_inside_the_notice_are_refused_and_write_nothing(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    // Check-in opens at 15:00 UTC and needs 48 hours' notice: the day after tomorrow opens at
    // least 63 hours from now, tomorrow at most 39.
    let (host, listing) = host_with_listing(
        &app,
        json!({ "city": "Noticeville", "advance_notice_hours": 48 }),
    )
    .await;
    let guest = app.guest().await;
    for (from, to, what) in [(-1, 1, "yesterday"), (1, 3, "inside the notice")] {
        let res = quote_days(&app, None, &listing, from, to).await;
        assert_invalid(res, &["check_in"], &format!("an anonymous quote {what}")).await;
        let res = quote_days(&app, Some(&guest), &listing, from, to).await;
        assert_invalid(res, &["check_in"], &format!("a quote {what}")).await;
        let res = guest
            .book_raw(&stay(&listing, from, to, CARD_OK), None)
            .await;
        let problem = assert_invalid(res, &["check_in"], &format!("a booking {what}")).await;
        if from > 0 {
            let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("48 hours"), "{problem}");
        }
        assert!(
            found(&app, "Noticeville", from, to).await.is_empty(),
            "{what}"
        );
    }
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM quotes").await, 0);
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 0);
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM payments").await, 0);
    // Outside the notice all is well.
    assert_eq!(
        found(&app, "Noticeville", 3, 5).await,
        std::slice::from_ref(&listing)
    );
    let res = quote_days(&app, Some(&guest), &listing, 3, 5).await;
    assert_eq!(res.status(), StatusCode::OK);
    let quote: Value = res.json().await.expect("json");
    // A stored quote does not carry the stay past the listing's rules: the host now asks for a
    // week's notice, and booking from the quote is refused like a fresh stay.
    let res = patch(
        &app,
        Some(&host.token),
        &listing,
        json!({ "advance_notice_hours": 168 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let from_quote = json!({ "quote_id": quote["quote_id"], "payment_method": CARD_OK });
    let res = guest.book_raw(&from_quote, None).await;
    assert_invalid(
        res,
        &["check_in"],
        "a booking from a quote inside the new notice",
    )
    .await;
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 0);
    let booking = guest.book(&stay(&listing, 10, 12, CARD_OK)).await;
    // Check-in opens at the listing's time, and the booking remembers when.
    assert_eq!(
        booking["check_in_at"]
            .as_str()
            .map(|t| t.replace("+00:00", "Z")),
        Some(format!("{}T15:00:00Z", day(10)))
    );
}

async fn a_stay_beyond_the_listings_window_is_refused(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_host, listing) = host_with_listing(
        &app,
        json!({ "city": "Windowton", "availability_window_days": 30 }),
    )
    .await;
    let guest = app.guest().await;
    let res = quote_days(&app, None, &listing, 29, 32).await;
    assert_invalid(res, &["check_out"], "a quote beyond the window").await;
    let res = guest.book_raw(&stay(&listing, 29, 32, CARD_OK), None).await;
    assert_invalid(res, &["check_out"], "a booking beyond the window").await;
    assert!(found(&app, "Windowton", 29, 32).await.is_empty());
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 0);
    // The window's last night is 29 days from today.
    assert_eq!(
        found(&app, "Windowton", 27, 30).await,
        std::slice::from_ref(&listing)
    );
    guest.book(&stay(&listing, 27, 30, CARD_OK)).await;
}

async fn preparation_nights_keep_a_margin_around_every_booking(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_host, listing) =
        host_with_listing(&app, json!({ "city": "Turnover", "preparation_nights": 2 })).await;
    let first = app.guest().await;
    first.book(&stay(&listing, 20, 23, CARD_OK)).await;
    let other = app.actor("other-guest@example.com").await;
    // Checking in on the check-out day, or checking out a night before check-in, leaves less
    // than two nights to prepare.
    for (from, to) in [(23, 25), (24, 26), (17, 19), (18, 20)] {
        let res = other
            .book_raw(&stay(&listing, from, to, CARD_OK), None)
            .await;
        assert_problem(res, StatusCode::CONFLICT, "dates_unavailable").await;
        let res = quote_days(&app, None, &listing, from, to).await;
        assert_problem(res, StatusCode::CONFLICT, "dates_unavailable").await;
        assert!(
            found(&app, "Turnover", from, to).await.is_empty(),
            "{from}..{to}"
        );
    }
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 1);
    // Two whole nights on either side are enough.
    assert_eq!(
        found(&app, "Turnover", 25, 27).await,
        std::slice::from_ref(&listing)
    );
    other.book(&stay(&listing, 25, 27, CARD_OK)).await;
    let third = app.actor("third-guest@example.com").await;
    third.book(&stay(&listing, 16, 18, CARD_OK)).await;
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 3);
    // The calendar shows the nights kept free: two before and after each of the three stays.
    let res = get_calendar(&app, None, &listing, &day(15), &day(30)).await;
    let calendar: Value = res.json().await.expect("json");
    let statuses: Vec<String> = nights(&calendar).into_iter().map(|n| n.1).collect();
    let expected = [
        "preparation",
        "booked",
        "booked",
        "preparation",
        "preparation",
        "booked",
        "booked",
        "booked",
        "preparation",
        "preparation",
        "booked",
        "booked",
        "preparation",
        "preparation",
        "available",
    ];
    assert_eq!(statuses, expected, "{calendar}");
}

async fn a_listings_time_zone_decides_when_its_today_is(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let in_zone = |zone: &str, city: &str| json!({ "city": city, "timezone": zone, "check_in_time": "14:30" });
    // Kiritimati is UTC+14, Pago Pago UTC-11: 25 hours apart.
    let (east_host, east) =
        host_with_listing(&app, in_zone("Pacific/Kiritimati", "Kiritimati")).await;
    let (west_host, west) =
        host_with_listing(&app, in_zone("Pacific/Pago_Pago", "Pago Pago")).await;
    let (_, body) = west_host.get_json(&format!("/v1/listings/{west}")).await;
    assert_eq!(body["timezone"], "Pacific/Pago_Pago", "{body}");
    assert_eq!(body["check_in_time"], "14:30", "{body}");
    assert_eq!(body["check_out_time"], "11:00", "{body}");
    assert_eq!(body["advance_notice_hours"], 0, "{body}");
    assert!(body["availability_window_days"].is_null(), "{body}");

    // Yesterday (UTC) is over in Kiritimati whatever the time; in Pago Pago it is still
    // yesterday until 11:00 UTC. (A minute either side of 11:00, and of midnight, when the
    // dates themselves move, is left alone.)
    let res = quote_days(&app, None, &east, -1, 1).await;
    assert_invalid(res, &["check_in"], "yesterday in Kiritimati").await;
    let now = chrono::Utc::now();
    let minute = now.hour() * 60 + now.minute();
    if !(659..=661).contains(&minute) && (1..1439).contains(&minute) {
        let res = quote_days(&app, None, &west, -1, 1).await;
        if minute < 660 {
            assert_eq!(res.status(), StatusCode::OK, "still yesterday in Pago Pago");
        } else {
            assert_invalid(res, &["check_in"], "yesterday is over in Pago Pago").await;
        }
    }

    // With an hour's notice: check-in today (UTC date) at 14:30 local opens at 00:30 UTC in
    // Kiritimati, already past or within the hour, and at 01:30 UTC tomorrow in Pago Pago,
    // always more than an hour away.
    for (host, listing) in [(&east_host, &east), (&west_host, &west)] {
        let res = patch(
            &app,
            Some(&host.token),
            listing,
            json!({ "advance_notice_hours": 1 }),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let guest = app.guest().await;
    let res = guest.book_raw(&stay(&east, 0, 2, CARD_OK), None).await;
    assert_invalid(res, &["check_in"], "today in Kiritimati").await;
    assert!(found(&app, "Kiritimati", 0, 2).await.is_empty());
    assert_eq!(
        found(&app, "Pago Pago", 0, 2).await,
        std::slice::from_ref(&west)
    );
    let booking = guest.book(&stay(&west, 0, 2, CARD_OK)).await;
    let opens =
        chrono::DateTime::parse_from_rfc3339(booking["check_in_at"].as_str().expect("check_in_at"))
            .expect("RFC 3339");
    let today = chrono::NaiveDate::parse_from_str(&day(0), "%Y-%m-%d").expect("date");
    let expected = (today + chrono::Duration::days(1))
        .and_hms_opt(1, 30, 0)
        .expect("time")
        .and_utc();
    assert_eq!(
        opens, expected,
        "14:30 in Pago Pago is 01:30 UTC the next day"
    );
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 1);
}

async fn bad_time_fields_are_refused_by_name(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let host = app.host().await;
    let res = host
        .post_json(
            "/v1/listings",
            &listing(json!({
                "timezone": "Mars/Olympus_Mons",
                "check_in_time": "25:00",
                "check_out_time": "9:00",
                "advance_notice_hours": 169,
                "availability_window_days": 0,
                "preparation_nights": 8,
            })),
        )
        .await;
    let fields = [
        "timezone",
        "check_in_time",
        "check_out_time",
        "advance_notice_hours",
        "availability_window_days",
        "preparation_nights",
    ];
    assert_invalid(res, &fields, "every bad time field").await;
    for (field, value) in [
        ("timezone", json!("europe/paris")),
        ("timezone", json!(" UTC")),
        ("check_in_time", json!("15:00:00")),
        ("advance_notice_hours", json!(-1)),
        ("availability_window_days", json!(1097)),
    ] {
        let res = host
            .post_json("/v1/listings", &listing(json!({ field: value })))
            .await;
        assert_invalid(res, &[field], &format!("{field} = {value}")).await;
    }
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM listings").await, 0);
    // A patch is checked the same way; `null` removes the listing's own window.
    let created = host
        .create_listing(json!({ "availability_window_days": 90, "timezone": "Europe/Paris" }))
        .await;
    let listing_id = id(&created);
    assert_eq!(created["availability_window_days"], 90);
    let res = patch(
        &app,
        Some(&host.token),
        &listing_id,
        json!({ "check_out_time": "noon", "preparation_nights": 8 }),
    )
    .await;
    assert_invalid(
        res,
        &["check_out_time", "preparation_nights"],
        "a bad patch",
    )
    .await;
    let res = patch(
        &app,
        Some(&host.token),
        &listing_id,
        json!({ "availability_window_days": null, "check_out_time": "10:30" }),
    )
    .await;
    let status = res.status();
    let patched: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert!(patched["availability_window_days"].is_null(), "{patched}");
    assert_eq!(patched["check_out_time"], "10:30");
    assert_eq!(patched["timezone"], "Europe/Paris");
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/v1/listings/{listing_id}"),
            Some(&host.token),
            &json!({ "timezone": null }),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "null leaves the zone as it is"
    );
}

crate::for_each_backend!(
    a_calendar_put_decades_apart_is_refused_fast_and_writes_nothing,
    stays_out_of_the_window_are_refused_and_anonymous_quotes_write_nothing,
    a_past_stay_and_one_inside_the_notice_are_refused_and_write_nothing,
    a_stay_beyond_the_listings_window_is_refused,
    preparation_nights_keep_a_margin_around_every_booking,
    a_listings_time_zone_decides_when_its_today_is,
    bad_time_fields_are_refused_by_name,
);
