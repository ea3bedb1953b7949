//! Listings are bounded: an oversized photo URL is refused by field and stores nothing; a
//! repeated amenity is kept once.

use serde_json::json;

use crate::helpers::fixtures::*;
use crate::helpers::{sql_count, TestApp};

async fn an_oversized_listing_is_refused_by_field(app: TestApp) {
    let host = app.host().await;
    let long = format!("https://example.com/{}", "a".repeat(2_000));
    let photos: Vec<_> = (0..30).map(|_| long.clone()).collect();
    let res = host
        .post_json("/v1/listings", &listing(json!({ "photo_urls": photos })))
        .await;
    let expected: Vec<String> = (0..30).map(|i| format!("photo_urls[{i}]")).collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_invalid(res, &expected, "30 photo URLs of 2 KB").await;
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM listings").await, 0);

    let amenities: Vec<_> = (0..5_000).map(|_| "wifi").collect();
    let created = host.create_listing(json!({ "amenities": amenities })).await;
    assert_eq!(created["amenities"], json!(["wifi"]));
    let rows = sql_count(&app, "SELECT COUNT(*) FROM listing_amenities").await;
    assert_eq!(
        rows, 1,
        "one row per amenity, however often the body named it"
    );
}

crate::on_both_backends!(an_oversized_listing_is_refused_by_field);
