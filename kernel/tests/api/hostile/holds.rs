//! Holds are not free: a guest may hold one unconfirmed booking per listing and a few in all.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, sql_count, Backend};

async fn unconfirmed_bookings_are_capped_per_guest_and_per_listing(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |c| {
        // The shipped caps (the test defaults raise them).
        let defaults = hearth::config::BookingsConfig::default();
        c.bookings.max_unconfirmed_per_guest = defaults.max_unconfirmed_per_guest;
        c.bookings.max_unconfirmed_per_listing = defaults.max_unconfirmed_per_listing;
    })
    .await
    else {
        return;
    };
    let host = app.host().await;
    let mut listings = Vec::new();
    for _ in 0..4 {
        listings.push(id(&host.create_listing(json!({})).await));
    }
    let guest = app.guest().await;
    let mut held = Vec::new();
    for listing in &listings[..3] {
        let booking = guest.book(&stay(listing, 30, 33, CARD_OK)).await;
        assert_eq!(booking["status"], "requested");
        held.push(id_of(&booking));
    }
    // The same listing again, other nights: one unconfirmed booking per listing.
    let res = guest
        .book_raw(&stay(&listings[0], 40, 42, CARD_OK), None)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "unconfirmed_booking_exists").await;
    // A fourth listing: three unconfirmed bookings in all.
    let res = guest
        .book_raw(&stay(&listings[3], 30, 33, CARD_OK), None)
        .await;
    assert_problem(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_unconfirmed_bookings",
    )
    .await;
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 3);
    // Another guest is not affected.
    let other = app.actor("other-guest@example.com").await;
    let res = other
        .book_raw(&stay(&listings[3], 30, 33, CARD_OK), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Once the host answers one, the guest may book again.
    assert_eq!(host.act(&held[0], "decline").await.status(), StatusCode::OK);
    let res = guest
        .book_raw(&stay(&listings[0], 40, 42, CARD_OK), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

crate::for_each_backend!(unconfirmed_bookings_are_capped_per_guest_and_per_listing);
