//! Bounded request heads and list-valued parameters: an oversized query string or header block
//! is refused (414, 431) before any other work, a repeated amenity counts once and an oversized
//! list is refused by name, and a cached search page holds ids, not copies of listing bodies.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, TestApp};

async fn oversized_request_heads_are_refused(app: TestApp) {
    let long = "x".repeat(9_000);
    let res = app.get(&format!("/v1/listings?city={long}"), None).await;
    assert_problem(res, StatusCode::URI_TOO_LONG, "uri_too_long").await;
    let res = app
        .request(Method::GET, "/healthz")
        .header("x-padding", "y".repeat(17_000))
        .send()
        .await
        .expect("request sent");
    assert_problem(
        res,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    )
    .await;
    // Under the bounds, the same requests are answered.
    let res = app
        .get(&format!("/v1/listings?city={}", &long[..7_000]), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(Method::GET, "/healthz")
        .header("x-padding", "y".repeat(15_000))
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_repeated_amenity_counts_once_and_a_long_list_is_refused(app: TestApp) {
    let host = app.host().await;
    host.create_listing(json!({ "amenities": ["wifi"] })).await;
    host.create_listing(json!({ "amenities": ["kitchen"] }))
        .await;
    let once = search(&app, &[("amenities", "wifi")]).await;
    assert_eq!(once["listings"].as_array().map(Vec::len), Some(1));
    // 150 times the same name: still one condition, the same answer.
    let repeated = vec!["wifi"; 150].join(",");
    let many = search(&app, &[("amenities", &repeated)]).await;
    assert_eq!(many["listings"], once["listings"]);
    let too_long = vec!["wifi"; 300].join(",");
    let res = search_raw(&app, &[("amenities", &too_long)]).await;
    assert_invalid(res, &["amenities"], "1.5 KB of amenities").await;
}

async fn a_cached_search_page_holds_ids_not_listings(app: TestApp) {
    let Some(redis_url) = app.stores.redis_url.clone() else {
        return;
    };
    let host = app.host().await;
    let title = "A title only a listing body has";
    for _ in 0..3 {
        host.create_listing(json!({ "title": title })).await;
    }
    let first = search(&app, &[("city", "Paris")]).await;
    assert_eq!(first["listings"].as_array().map(Vec::len), Some(3));
    // Served again from the cache: the same page.
    assert_eq!(search(&app, &[("city", "Paris")]).await, first);

    let client = redis::Client::open(redis_url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let pattern = format!("{}:search:*", app.stores.redis_prefix);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(&pattern)
        .query_async(&mut conn)
        .await
        .expect("keys");
    let mut pages = 0;
    for key in keys.iter().filter(|k| !k.ends_with(":generation")) {
        let value: Vec<u8> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("get");
        let text = String::from_utf8_lossy(&value);
        assert!(!text.contains(title), "{key} holds a listing body: {text}");
        assert!(value.len() < 512, "{key}: {} bytes for 3 ids", value.len());
        pages += 1;
    }
    assert_eq!(pages, 1, "one cached page: {keys:?}");
}

crate::on_both_backends!(
    oversized_request_heads_are_refused,
    a_repeated_amenity_counts_once_and_a_long_list_is_refused,
    a_cached_search_page_holds_ids_not_listings,
);
