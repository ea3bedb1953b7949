//! Listing search through the REST surface, on both backends: every filter, sort and page, and
//! no stale cached search after a listing or its calendar changes.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, sql_exec, Backend, TestApp};

crate::on_both_backends!(
    search_filters_by_place_price_currency_guests_and_amenities,
    a_radius_search_keeps_the_listings_inside_the_circle_only,
    a_date_search_excludes_blocked_nights_but_not_a_block_on_the_check_out_day,
    a_date_search_respects_min_and_max_nights,
    bad_search_parameters_are_refused_naming_the_parameter,
    every_sort_returns_its_order_with_ties_broken_by_id,
    pages_walk_every_listing_once_in_every_sort,
    a_cached_search_sees_new_published_and_deleted_listings_at_once,
    a_blocked_night_takes_a_listing_out_of_a_cached_date_search_at_once,
);

mod with_payments {
    use super::a_booking_refreshes_date_searches_of_its_city_and_keeps_the_others_cached;
    crate::for_each_backend!(
        a_booking_refreshes_date_searches_of_its_city_and_keeps_the_others_cached
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Search filters
// ---------------------------------------------------------------------------------------------

async fn search_filters_by_place_price_currency_guests_and_amenities(app: TestApp) {
    let owner = app.host().await;
    let fixtures = [
        json!({ "title": "Paris loft", "nightly_price_minor": 12_000, "max_guests": 2,
                "amenities": ["wifi", "kitchen"] }),
        json!({ "title": "Paris studio", "city": "PARIS", "latitude": 48.87, "longitude": 2.33,
                "nightly_price_minor": 8_000, "max_guests": 1, "amenities": ["wifi"] }),
        json!({ "title": "Lyon house", "city": "Lyon", "latitude": 45.764, "longitude": 4.8357,
                "nightly_price_minor": 15_000, "max_guests": 6,
                "amenities": ["kitchen", "pool", "wifi"] }),
        json!({ "title": "Berlin flat", "city": "Berlin", "country": "DE", "latitude": 52.52,
                "longitude": 13.405, "nightly_price_minor": 9_000, "max_guests": 3,
                "amenities": ["heating"] }),
        json!({ "title": "New York loft", "city": "New York", "country": "US",
                "latitude": 40.7128, "longitude": -74.006, "nightly_price_minor": 20_000,
                "currency": "USD", "max_guests": 4, "amenities": ["wifi", "kitchen", "gym"] }),
        json!({ "title": "Évora cottage", "city": "Évora", "country": "PT", "latitude": 38.571,
                "longitude": -7.909, "nightly_price_minor": 7_000, "max_guests": 4,
                "amenities": ["garden"] }),
    ];
    for fixture in fixtures {
        owner.create_listing(fixture).await;
    }
    owner
        .create_listing(json!({ "title": "Paris draft", "status": "draft" }))
        .await;

    // Results come cheapest first (the default sort).
    let cases: &[Case] = &[
        (
            &[],
            &[
                "Évora cottage",
                "Paris studio",
                "Berlin flat",
                "Paris loft",
                "Lyon house",
                "New York loft",
            ],
        ),
        (&[("city", "pARIS")], &["Paris studio", "Paris loft"]),
        (&[("city", " paris ")], &["Paris studio", "Paris loft"]),
        (
            &[("city", "Paris"), ("country", "fr")],
            &["Paris studio", "Paris loft"],
        ),
        (&[("city", "Paris"), ("country", "DE")], &[]),
        (&[("city", "Par")], &[]),
        // A non-ASCII city in any case, on both databases (folded by the kernel, not SQL).
        (&[("city", "Évora")], &["Évora cottage"]),
        (&[("city", "ÉVORA")], &["Évora cottage"]),
        (&[("city", "évora")], &["Évora cottage"]),
        (&[("country", "DE")], &["Berlin flat"]),
        (
            &[("country", "fr")],
            &["Paris studio", "Paris loft", "Lyon house"],
        ),
        (&[("bbox", "48,2,49,3")], &["Paris studio", "Paris loft"]),
        (
            &[("bbox", "40,-80,53,14")],
            &[
                "Paris studio",
                "Berlin flat",
                "Paris loft",
                "Lyon house",
                "New York loft",
            ],
        ),
        (&[("bbox", "-10,-10,-5,-5")], &[]),
        (
            &[("min_price", "9000"), ("max_price", "15000")],
            &["Berlin flat", "Paris loft", "Lyon house"],
        ),
        (&[("min_price", "12001")], &["Lyon house", "New York loft"]),
        (&[("max_price", "8000")], &["Évora cottage", "Paris studio"]),
        (&[("currency", "usd")], &["New York loft"]),
        (
            &[("currency", "EUR"), ("max_price", "8000")],
            &["Évora cottage", "Paris studio"],
        ),
        (&[("currency", "GBP")], &[]),
        (
            &[("guests", "4")],
            &["Évora cottage", "Lyon house", "New York loft"],
        ),
        (
            &[("guests", "3")],
            &[
                "Évora cottage",
                "Berlin flat",
                "Lyon house",
                "New York loft",
            ],
        ),
        (&[("guests", "7")], &[]),
        (
            &[("amenities", "wifi")],
            &["Paris studio", "Paris loft", "Lyon house", "New York loft"],
        ),
        (
            &[("amenities", "wifi,kitchen")],
            &["Paris loft", "Lyon house", "New York loft"],
        ),
        (&[("amenities", "kitchen, pool")], &["Lyon house"]),
        (&[("amenities", "gym,heating")], &[]),
        (
            &[("country", "FR"), ("amenities", "wifi"), ("guests", "2")],
            &["Paris loft", "Lyon house"],
        ),
    ];
    for (params, expected) in cases {
        let page = search(&app, params).await;
        assert_eq!(titles(&page), *expected, "{params:?}");
        assert_eq!(page["next_cursor"], Value::Null, "{params:?}");
    }
}

async fn a_radius_search_keeps_the_listings_inside_the_circle_only(app: TestApp) {
    let owner = app.host().await;
    // The centre is (48.8566, 2.3522). About 2.2 km away; about 12.5 km away, inside the
    // bounding box of a 10 km circle but outside the circle; and Versailles, about 17.9 km away.
    for (title, lat, lng, price) in [
        ("Inside", 48.87, 2.33, 10_000),
        ("Box corner", 48.9366, 2.4722, 11_000),
        ("Versailles", 48.8049, 2.1204, 12_000),
    ] {
        owner.create_listing(json!({ "title": title, "latitude": lat, "longitude": lng, "nightly_price_minor": price }),
        )
        .await;
    }
    for (km, expected) in [
        ("1", vec![]),
        ("10", vec!["Inside"]),
        ("15", vec!["Inside", "Box corner"]),
        ("20", vec!["Inside", "Box corner", "Versailles"]),
    ] {
        let page = search(
            &app,
            &[("lat", "48.8566"), ("lng", "2.3522"), ("radius_km", km)],
        )
        .await;
        assert_eq!(titles(&page), expected, "radius {km} km");
    }
}

async fn a_date_search_excludes_blocked_nights_but_not_a_block_on_the_check_out_day(app: TestApp) {
    let owner = app.host().await;
    // The stay is the nights of 2031-08-10 to 2031-08-13 (check-out on the 14th).
    let mut listings = Vec::new();
    for (title, blocked, price) in [
        ("Free", None, 10_000),
        ("Blocked on the check-in night", Some("2031-08-10"), 11_000),
        ("Blocked mid-stay", Some("2031-08-12"), 12_000),
        ("Blocked on the last night", Some("2031-08-13"), 13_000),
        ("Blocked on the check-out day", Some("2031-08-14"), 14_000),
        ("Blocked the night before", Some("2031-08-09"), 15_000),
    ] {
        let created = owner
            .create_listing(json!({ "title": title, "nightly_price_minor": price }))
            .await;
        if let Some(night) = blocked {
            let next = chrono::NaiveDate::parse_from_str(night, "%Y-%m-%d").expect("date")
                + chrono::Duration::days(1);
            set_calendar(
                &app,
                &owner,
                &id(&created),
                json!([{ "from": night, "to": next.to_string(), "blocked": true }]),
            )
            .await;
        }
        listings.push(created);
    }
    let stay = [("check_in", "2031-08-10"), ("check_out", "2031-08-14")];
    assert_eq!(
        titles(&search(&app, &stay).await),
        [
            "Free",
            "Blocked on the check-out day",
            "Blocked the night before"
        ]
    );
    // Another stay sees other blocks: 2031-08-14 to 2031-08-16.
    assert_eq!(
        titles(
            &search(
                &app,
                &[("check_in", "2031-08-14"), ("check_out", "2031-08-16")]
            )
            .await
        ),
        [
            "Free",
            "Blocked on the check-in night",
            "Blocked mid-stay",
            "Blocked on the last night",
            "Blocked the night before"
        ]
    );
    // Without dates nothing is excluded.
    assert_eq!(
        search(&app, &[]).await["listings"].as_array().map(Vec::len),
        Some(6)
    );
    // Unblocking brings it back.
    set_calendar(
        &app,
        &owner,
        &id(&listings[2]),
        json!([{ "from": "2031-08-12", "to": "2031-08-13", "blocked": false }]),
    )
    .await;
    assert_eq!(
        titles(&search(&app, &stay).await),
        [
            "Free",
            "Blocked mid-stay",
            "Blocked on the check-out day",
            "Blocked the night before"
        ]
    );
}

async fn a_date_search_respects_min_and_max_nights(app: TestApp) {
    let owner = app.host().await;
    for (title, min, max, price) in [
        ("At least 3", 3, 365, 10_000),
        ("At most 5", 1, 5, 11_000),
        ("Exactly 4", 4, 4, 12_000),
        ("Any", 1, 365, 13_000),
    ] {
        owner.create_listing(json!({ "title": title, "min_nights": min, "max_nights": max, "nightly_price_minor": price }),
        )
        .await;
    }
    for (check_out, expected) in [
        ("2031-09-02", vec!["At most 5", "Any"]),
        ("2031-09-04", vec!["At least 3", "At most 5", "Any"]),
        (
            "2031-09-05",
            vec!["At least 3", "At most 5", "Exactly 4", "Any"],
        ),
        ("2031-09-06", vec!["At least 3", "At most 5", "Any"]),
        ("2031-09-07", vec!["At least 3", "Any"]),
    ] {
        let page = search(
            &app,
            &[("check_in", "2031-09-01"), ("check_out", check_out)],
        )
        .await;
        assert_eq!(titles(&page), expected, "check_out {check_out}");
    }
}

async fn bad_search_parameters_are_refused_naming_the_parameter(app: TestApp) {
    let cases: &[Case] = &[
        (&[("sort", "best")], &["sort"]),
        (&[("limit", "0")], &["limit"]),
        (&[("limit", "101")], &["limit"]),
        (&[("limit", "ten")], &["limit"]),
        (&[("bbox", "1,2")], &["bbox"]),
        (&[("bbox", "1,2,3,4,5")], &["bbox"]),
        (&[("bbox", "49,2,48,3")], &["bbox"]),
        (&[("bbox", "48,2,49,3,oops")], &["bbox"]),
        (&[("bbox", "48,2,49,oops")], &["bbox"]),
        (&[("amenities", "jacuzzi")], &["amenities"]),
        (&[("amenities", "wifi,jacuzzi")], &["amenities"]),
        (&[("cursor", "garbage")], &["cursor"]),
        (
            &[("check_in", "2031-08-14"), ("check_out", "2031-08-10")],
            &["check_out"],
        ),
        (
            &[("check_in", "2031-08-10"), ("check_out", "2031-08-10")],
            &["check_out"],
        ),
        (&[("check_in", "2031-08-10")], &["check_out"]),
        (&[("check_out", "2031-08-10")], &["check_in"]),
        (
            &[("check_in", "10/08/2031"), ("check_out", "2031-08-12")],
            &["check_in"],
        ),
        (&[("currency", "EURO")], &["currency"]),
        (
            &[("min_price", "500"), ("max_price", "100")],
            &["max_price"],
        ),
        (&[("min_price", "cheap")], &["min_price"]),
        (&[("guests", "-1")], &["guests"]),
        (&[("lat", "48.8"), ("lng", "2.3")], &["radius_km"]),
        (
            &[("lat", "48.8"), ("lng", "2.3"), ("radius_km", "501")],
            &["radius_km"],
        ),
        (
            &[("lat", "48.8"), ("lng", "2.3"), ("radius_km", "0")],
            &["radius_km"],
        ),
        (&[("sort", "best"), ("limit", "0")], &["sort", "limit"]),
    ];
    for (params, expected) in cases {
        assert_invalid(
            search_raw(&app, params).await,
            expected,
            &format!("{params:?}"),
        )
        .await;
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Sorting and paging
// ---------------------------------------------------------------------------------------------

/// Seven published listings, some at equal prices; returns `(id, price)` in creation order.
async fn seven_listings(app: &TestApp) -> Vec<(String, i64)> {
    let owner = app.host().await;
    let mut out = Vec::new();
    for (i, price) in [5_000, 3_000, 5_000, 7_000, 3_000, 5_000, 9_000]
        .into_iter()
        .enumerate()
    {
        let created = owner
            .create_listing(
                json!({ "title": format!("Listing {i}"), "nightly_price_minor": price }),
            )
            .await;
        out.push((id(&created), price));
    }
    // A draft and a deleted listing never show up.
    owner
        .create_listing(json!({ "status": "draft", "nightly_price_minor": 4_000 }))
        .await;
    let gone = owner
        .create_listing(json!({ "nightly_price_minor": 4_000 }))
        .await;
    assert_eq!(
        delete(app, Some(&owner.token), &id(&gone)).await.status(),
        StatusCode::NO_CONTENT
    );
    out
}

/// The expected order of `listings` (in creation order) for `sort`.
fn expected_order(sort: &str, listings: &[(String, i64)]) -> Vec<String> {
    let mut sorted = listings.to_vec();
    match sort {
        "price" => sorted.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0))),
        "price_desc" => sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0))),
        // All unrated: the id breaks the tie, and ids grow with creation.
        "rating" => {}
        "newest" => sorted.reverse(),
        other => panic!("no such sort {other}"),
    }
    sorted.into_iter().map(|(id, _)| id).collect()
}

async fn every_sort_returns_its_order_with_ties_broken_by_id(app: TestApp) {
    let listings = seven_listings(&app).await;
    let mut by_id = listings.clone();
    by_id.sort();
    assert_eq!(by_id, listings, "ids grow with creation (UUIDv7)");
    for sort in ["price", "price_desc", "rating", "newest"] {
        let page = search(&app, &[("sort", sort)]).await;
        assert_eq!(ids(&page), expected_order(sort, &listings), "sort={sort}");
        assert_eq!(page["next_cursor"], Value::Null);
    }
    // The default is by price.
    assert_eq!(
        ids(&search(&app, &[]).await),
        expected_order("price", &listings)
    );
    let prices: Vec<i64> = search(&app, &[("sort", "price_desc")]).await["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(|l| l["nightly_price_minor"].as_i64().expect("price"))
        .collect();
    assert_eq!(prices, [9_000, 7_000, 5_000, 5_000, 5_000, 3_000, 3_000]);
}

async fn pages_walk_every_listing_once_in_every_sort(app: TestApp) {
    let listings = seven_listings(&app).await;
    for sort in ["price", "price_desc", "rating", "newest"] {
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("sort", sort), ("limit", "2")];
            if let Some(c) = &cursor {
                params.push(("cursor", c.as_str()));
            }
            let page = search(&app, &params).await;
            sizes.push(ids(&page).len());
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => {
                    assert_eq!(page["next_cursor"], Value::Null, "sort={sort}");
                    break;
                }
            }
            assert!(sizes.len() <= 4, "sort={sort}: too many pages");
        }
        assert_eq!(sizes, [2, 2, 2, 1], "sort={sort}");
        assert_eq!(
            seen,
            expected_order(sort, &listings),
            "sort={sort}: no gaps, no repeats"
        );
    }
    // Exactly a page's worth left: the last full page has no cursor.
    let page = search(&app, &[("limit", "7")]).await;
    assert_eq!(ids(&page).len(), 7);
    assert_eq!(page["next_cursor"], Value::Null);
    // A cursor belongs to its sort.
    let first = search(&app, &[("sort", "price"), ("limit", "2")]).await;
    let cursor = first["next_cursor"].as_str().expect("cursor");
    assert_invalid(
        search_raw(
            &app,
            &[("sort", "newest"), ("limit", "2"), ("cursor", cursor)],
        )
        .await,
        &["cursor"],
        "a price cursor with sort=newest",
    )
    .await;
}

async fn a_cached_search_sees_new_published_and_deleted_listings_at_once(app: TestApp) {
    let owner = app.host().await;
    let params = [("city", "Paris"), ("sort", "price")];
    let first = owner
        .create_listing(json!({ "title": "First", "nightly_price_minor": 10_000 }))
        .await;
    for _ in 0..2 {
        assert_eq!(titles(&search(&app, &params).await), ["First"]);
    }
    owner
        .create_listing(json!({ "title": "Second", "nightly_price_minor": 9_000 }))
        .await;
    assert_eq!(titles(&search(&app, &params).await), ["Second", "First"]);

    let draft = owner
        .create_listing(
            json!({ "title": "Third", "status": "draft", "nightly_price_minor": 8_000 }),
        )
        .await;
    assert_eq!(titles(&search(&app, &params).await), ["Second", "First"]);
    let res = patch(
        &app,
        Some(&owner.token),
        &id(&draft),
        json!({ "status": "published" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        titles(&search(&app, &params).await),
        ["Third", "Second", "First"]
    );
    let res = patch(
        &app,
        Some(&owner.token),
        &id(&first),
        json!({ "nightly_price_minor": 1_000 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        titles(&search(&app, &params).await),
        ["First", "Third", "Second"]
    );
    assert_eq!(
        delete(&app, Some(&owner.token), &id(&draft)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(titles(&search(&app, &params).await), ["First", "Second"]);
}

async fn a_blocked_night_takes_a_listing_out_of_a_cached_date_search_at_once(app: TestApp) {
    let owner = app.host().await;
    let created = owner.create_listing(json!({ "title": "Flat" })).await;
    let stay = [("check_in", "2031-10-01"), ("check_out", "2031-10-04")];
    for _ in 0..2 {
        assert_eq!(titles(&search(&app, &stay).await), ["Flat"]);
    }
    set_calendar(
        &app,
        &owner,
        &id(&created),
        json!([{ "from": "2031-10-02", "to": "2031-10-03", "blocked": true }]),
    )
    .await;
    assert!(titles(&search(&app, &stay).await).is_empty());
    // And a quote refuses the stay at once.
    let res = quote_raw(&app, None, &id(&created), &stay).await;
    assert_problem(res, StatusCode::CONFLICT, "dates_unavailable").await;
}

/// A booking changes which nights are free, nothing else: cached date searches of its city (and
/// those with dates and no city) are read again at once, while searches without dates and date
/// searches of other cities keep their cached pages. To see which pages were kept, listings are
/// made drafts behind the kernel's back (in SQL, so no invalidation): a kept page still shows
/// them, a page read again does not.
pub(super) async fn a_booking_refreshes_date_searches_of_its_city_and_keeps_the_others_cached(
    backend: Backend,
) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let owner = app.host().await;
    let flat = owner
        .create_listing(json!({ "title": "Paris flat", "nightly_price_minor": 9_000 }))
        .await;
    owner
        .create_listing(json!({ "title": "Paris studio", "nightly_price_minor": 8_000 }))
        .await;
    owner
        .create_listing(
            json!({ "title": "Lyon loft", "city": "Lyon", "latitude": 45.764,
                                "longitude": 4.8357, "nightly_price_minor": 7_000 }),
        )
        .await;
    let (check_in, check_out) = (day(40), day(43));
    let dates = [
        ("check_in", check_in.as_str()),
        ("check_out", check_out.as_str()),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut params = dates.to_vec();
        params.extend_from_slice(extra);
        params
    };
    let paris = [("city", "Paris")];
    let lyon_dated = with(&[("city", "Lyon")]);
    let paris_dated = with(&paris);
    let country_dated = with(&[("country", "FR")]);
    assert_eq!(
        titles(&search(&app, &paris).await),
        ["Paris studio", "Paris flat"]
    );
    assert_eq!(titles(&search(&app, &lyon_dated).await), ["Lyon loft"]);
    assert_eq!(
        titles(&search(&app, &paris_dated).await),
        ["Paris studio", "Paris flat"]
    );
    assert_eq!(
        titles(&search(&app, &country_dated).await),
        ["Lyon loft", "Paris studio", "Paris flat"]
    );
    sql_exec(
        &app,
        "UPDATE listings SET status = 'draft' WHERE title IN ('Paris studio', 'Lyon loft')",
    )
    .await;

    let guest = app.guest().await;
    guest
        .book(
            &json!({ "listing_id": id(&flat), "check_in": check_in, "check_out": check_out,
                       "payment_method": CARD_OK }),
        )
        .await;

    // Read again: the flat is booked, and the drafts are seen for what they are.
    assert!(titles(&search(&app, &paris_dated).await).is_empty());
    assert!(titles(&search(&app, &country_dated).await).is_empty());
    // Kept: the booking changed nothing these pages show.
    assert_eq!(
        titles(&search(&app, &paris).await),
        ["Paris studio", "Paris flat"]
    );
    assert_eq!(titles(&search(&app, &lyon_dated).await), ["Lyon loft"]);
}
