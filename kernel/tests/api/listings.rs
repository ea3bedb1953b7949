//! Listings, search, calendars and quotes through the REST surface, on both backends: who may
//! see and change what, every search filter, sort and page, no stale reads after writes, the
//! availability calendar, and quotes priced by the bundled pricing plugins to the cent.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, plugin, Actor, TestApp};

crate::on_both_backends!(
    an_owner_creates_reads_updates_and_deletes_a_listing,
    a_draft_is_hidden_from_everyone_but_its_owner_and_admins,
    a_published_listing_is_read_by_anyone_and_changed_only_by_its_owner,
    an_admin_can_change_and_delete_any_listing,
    only_hosts_create_listings,
    unknown_and_read_only_fields_are_refused_by_name,
    invalid_values_are_named_field_by_field,
    an_unlisted_listing_is_read_by_link_but_not_found_by_search,
    search_filters_by_place_price_currency_guests_and_amenities,
    a_radius_search_keeps_the_listings_inside_the_circle_only,
    a_date_search_excludes_blocked_nights_but_not_a_block_on_the_check_out_day,
    a_date_search_respects_min_and_max_nights,
    bad_search_parameters_are_refused_naming_the_parameter,
    every_sort_returns_its_order_with_ties_broken_by_id,
    pages_walk_every_listing_once_in_every_sort,
    a_changed_title_is_read_at_once_after_a_cached_read,
    a_cached_search_sees_new_published_and_deleted_listings_at_once,
    a_blocked_night_takes_a_listing_out_of_a_cached_date_search_at_once,
    the_calendar_shows_blocked_nights_and_override_prices_against_the_base_price,
    only_the_owner_or_an_admin_changes_a_calendar,
    invalid_calendar_ranges_and_changes_are_refused_naming_the_field,
    a_quote_without_plugins_is_the_nightly_rates_with_calendar_overrides,
    quote_errors_are_problems_naming_the_field,
);

/// Like `on_both_backends!`, spawning each app with the `[[plugins]]` entries its function
/// returns.
macro_rules! on_both_backends_with_plugins {
    ($($name:ident => $plugins:ident),* $(,)?) => {
        mod sqlite_with_plugins {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let plugins = super::$plugins();
                    if let Some(app) = $crate::helpers::TestApp::spawn_with_plugins(
                        $crate::helpers::Backend::Sqlite,
                        &plugins,
                    )
                    .await
                    {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres_with_plugins {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let plugins = super::$plugins();
                    if let Some(app) = $crate::helpers::TestApp::spawn_with_plugins(
                        $crate::helpers::Backend::Postgres,
                        &plugins,
                    )
                    .await
                    {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

on_both_backends_with_plugins!(
    seasonal_adjusts_weekend_and_season_nights_to_the_cent => seasonal_plugin,
    length_of_stay_discounts_weeks_and_months_to_the_cent => length_of_stay_plugin,
    the_cleaning_fee_is_charged_once_and_waived_for_long_stays => cleaning_fee_plugin,
    the_service_fee_is_a_share_of_everything_before_it_in_the_chain => service_fee_plugins,
    occupancy_taxes_apply_only_where_country_and_city_match => occupancy_tax_plugin,
    all_five_plugins_chain_to_the_total_computed_by_hand => all_five_plugins,
    a_reload_reorders_and_reconfigures_the_next_quote => cleaning_then_service_fee,
);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A valid, published listing body in Paris at 100.00 EUR a night, with `overrides` merged in.
pub(crate) fn listing(overrides: Value) -> Value {
    let mut body = json!({
        "title": "Sunny flat",
        "description": "Close to everything.",
        "property_type": "apartment",
        "address": "1 Rue de Rivoli",
        "city": "Paris",
        "country": "FR",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "max_guests": 4,
        "bedrooms": 2,
        "beds": 2,
        "bathrooms": 1.5,
        "amenities": ["wifi", "kitchen"],
        "photo_urls": ["https://example.com/flat.jpg"],
        "nightly_price_minor": 10_000,
        "currency": "EUR",
        "status": "published",
    });
    let fields = body.as_object_mut().expect("object");
    for (key, value) in overrides.as_object().expect("overrides are an object") {
        fields.insert(key.clone(), value.clone());
    }
    body
}

/// A fresh guest who became a host.
pub(crate) async fn host(app: &TestApp) -> Actor {
    let actor = app.guest().await;
    let res = app
        .post_json("/v1/me/host", Some(&actor.token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    actor
}

/// Creates a listing from [`listing`]`(overrides)` and returns it.
pub(crate) async fn create(app: &TestApp, owner: &Actor, overrides: Value) -> Value {
    let res = app
        .post_json("/v1/listings", Some(&owner.token), &listing(overrides))
        .await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

pub(crate) fn id(listing: &Value) -> String {
    listing["id"].as_str().expect("id").to_owned()
}

async fn get_listing(app: &TestApp, token: Option<&str>, id: &str) -> Response {
    app.get(&format!("/v1/listings/{id}"), token).await
}

async fn patch(app: &TestApp, token: Option<&str>, id: &str, body: Value) -> Response {
    app.send_json(Method::PATCH, &format!("/v1/listings/{id}"), token, &body)
        .await
}

async fn delete(app: &TestApp, token: Option<&str>, id: &str) -> Response {
    let mut req = app.request(Method::DELETE, &format!("/v1/listings/{id}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request sent")
}

/// `GET /v1/listings` with these (URL-encoded) parameters.
async fn search_raw(app: &TestApp, params: &[(&str, &str)]) -> Response {
    app.request(Method::GET, "/v1/listings")
        .query(params)
        .send()
        .await
        .expect("request sent")
}

/// A search page, which must succeed.
async fn search(app: &TestApp, params: &[(&str, &str)]) -> Value {
    let res = search_raw(app, params).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{params:?}: {body}");
    body
}

/// A table row: query parameters, and the titles (or problem fields) they give.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

fn titles(page: &Value) -> Vec<String> {
    page["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(|l| l["title"].as_str().expect("title").to_owned())
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(id)
        .collect()
}

/// The field names of a problem's `errors`, in order.
fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().expect("field").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a 422 `validation_failed` naming exactly `expected`, in order.
async fn assert_invalid(res: Response, expected: &[&str], context: &str) -> Value {
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{context}");
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&problem), expected, "{context}: {problem}");
    for error in problem["errors"].as_array().expect("errors") {
        assert!(
            !error["message"].as_str().unwrap_or_default().is_empty(),
            "{context}: every field error says what is wrong: {problem}"
        );
    }
    problem
}

async fn put_calendar(app: &TestApp, token: Option<&str>, id: &str, changes: Value) -> Response {
    app.send_json(
        Method::PUT,
        &format!("/v1/listings/{id}/calendar"),
        token,
        &json!({ "changes": changes }),
    )
    .await
}

/// Changes a calendar as its owner, which must succeed.
async fn set_calendar(app: &TestApp, owner: &Actor, id: &str, changes: Value) -> Value {
    let res = put_calendar(app, Some(&owner.token), id, changes).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn get_calendar(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    from: &str,
    to: &str,
) -> Response {
    let mut req = app
        .request(Method::GET, &format!("/v1/listings/{id}/calendar"))
        .query(&[("from", from), ("to", to)]);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request sent")
}

/// A night as [`nights`] shows it.
fn night(date: &str, status: &str, price_minor: i64) -> (String, String, i64) {
    (date.to_owned(), status.to_owned(), price_minor)
}

/// `(date, status, price_minor)` for every night of a calendar.
fn nights(calendar: &Value) -> Vec<(String, String, i64)> {
    calendar["nights"]
        .as_array()
        .expect("nights")
        .iter()
        .map(|n| {
            (
                n["date"].as_str().expect("date").to_owned(),
                n["status"].as_str().expect("status").to_owned(),
                n["price_minor"].as_i64().expect("price"),
            )
        })
        .collect()
}

pub(crate) async fn quote_raw(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    params: &[(&str, &str)],
) -> Response {
    let mut req = app
        .request(Method::GET, &format!("/v1/listings/{id}/quote"))
        .query(params);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request sent")
}

/// An anonymous quote, which must succeed; checks what holds for every quote: the total is the
/// sum of the lines, every line comes from the kernel or one of `plugin_ids`, the currency is
/// the listing's and the quote has not expired.
async fn quote(
    app: &TestApp,
    id: &str,
    check_in: &str,
    check_out: &str,
    guests: u32,
    plugin_ids: &[&str],
) -> Value {
    let guests = guests.to_string();
    let res = quote_raw(
        app,
        None,
        id,
        &[
            ("check_in", check_in),
            ("check_out", check_out),
            ("guests", &guests),
        ],
    )
    .await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["line_items"].as_array().expect("line_items");
    let sum: i64 = items
        .iter()
        .map(|i| i["amount_minor"].as_i64().expect("amount"))
        .sum();
    assert_eq!(body["total_minor"].as_i64(), Some(sum), "{body}");
    for item in items {
        let source = item["source"].as_str().expect("source");
        assert!(
            source == "kernel" || plugin_ids.contains(&source),
            "unexpected source `{source}`: {body}"
        );
        assert!(item["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    assert_eq!(body["listing_id"].as_str(), Some(id));
    assert_eq!(body["check_in"].as_str(), Some(check_in));
    assert_eq!(body["check_out"].as_str(), Some(check_out));
    assert_eq!(body["guests"].as_u64(), Some(guests.parse().expect("n")));
    assert!(body["quote_id"].as_str().is_some_and(|q| q.len() == 36));
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("expires_at"))
            .expect("RFC 3339");
    assert!(expires > chrono::Utc::now(), "{body}");
    body
}

/// A quote's lines as `(code, amount_minor, night, source)`.
fn lines(quote: &Value) -> Vec<(String, i64, Option<String>, String)> {
    quote["line_items"]
        .as_array()
        .expect("line_items")
        .iter()
        .map(|i| {
            (
                i["code"].as_str().expect("code").to_owned(),
                i["amount_minor"].as_i64().expect("amount"),
                i["night"].as_str().map(str::to_owned),
                i["source"].as_str().expect("source").to_owned(),
            )
        })
        .collect()
}

/// A line as [`lines`] shows it.
fn line(
    code: &str,
    amount: i64,
    night: Option<&str>,
    source: &str,
) -> (String, i64, Option<String>, String) {
    (
        code.to_owned(),
        amount,
        night.map(str::to_owned),
        source.to_owned(),
    )
}

/// One kernel `nightly` line per night from `first` (a date in 2031+), at `prices[i]`.
fn nightly_lines(first: &str, prices: &[i64]) -> Vec<(String, i64, Option<String>, String)> {
    let start = chrono::NaiveDate::parse_from_str(first, "%Y-%m-%d").expect("date");
    prices
        .iter()
        .enumerate()
        .map(|(i, price)| {
            let night = start + chrono::Duration::days(i64::try_from(i).expect("small"));
            line("nightly", *price, Some(&night.to_string()), "kernel")
        })
        .collect()
}

fn total(quote: &Value) -> i64 {
    quote["total_minor"].as_i64().expect("total")
}

// ---------------------------------------------------------------------------------------------
// 1. Create, read, update, delete; who may see and change what
// ---------------------------------------------------------------------------------------------

async fn an_owner_creates_reads_updates_and_deletes_a_listing(app: TestApp) {
    let owner = host(&app).await;
    let mut body = listing(json!({
        "country": "fr",
        "currency": "eur",
        "amenities": ["kitchen", "wifi", "kitchen"],
    }));
    let fields = body.as_object_mut().expect("object");
    // Everything optional left out: the defaults apply.
    for optional in [
        "status",
        "description",
        "bedrooms",
        "beds",
        "bathrooms",
        "photo_urls",
    ] {
        fields.remove(optional);
    }
    let res = app
        .post_json("/v1/listings", Some(&owner.token), &body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.expect("json");
    assert_eq!(created["host_id"].as_str(), Some(owner.id.as_str()));
    assert_eq!(created["status"], "draft");
    assert_eq!(created["country"], "FR");
    assert_eq!(created["currency"], "EUR");
    // Deduplicated, in the canonical (declared) order of amenities.
    assert_eq!(created["amenities"], json!(["wifi", "kitchen"]));
    assert_eq!(created["min_nights"], 1);
    assert_eq!(created["max_nights"], 365);
    assert_eq!(created["cancellation_policy"], "moderate");
    assert_eq!(created["instant_book"], false);
    assert_eq!(created["rating_avg"], Value::Null);
    assert_eq!(created["rating_count"], 0);
    let listing_id = id(&created);

    let res = get_listing(&app, Some(&owner.token), &listing_id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let read: Value = res.json().await.expect("json");
    assert_eq!(read, created);

    let res = patch(
        &app,
        Some(&owner.token),
        &listing_id,
        json!({ "title": "  Sunnier flat  ", "nightly_price_minor": 12_500, "status": "published" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.expect("json");
    assert_eq!(updated["title"], "Sunnier flat");
    assert_eq!(updated["nightly_price_minor"], 12_500);
    assert_eq!(updated["status"], "published");
    assert_eq!(
        updated["city"], "Paris",
        "fields left out stay as they were"
    );
    assert_eq!(updated["created_at"], created["created_at"]);
    let read: Value = get_listing(&app, None, &listing_id)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(read, updated);
    assert_eq!(
        ids(&search(&app, &[("city", "Paris")]).await),
        [listing_id.as_str()]
    );

    let res = delete(&app, Some(&owner.token), &listing_id).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for token in [Some(owner.token.as_str()), None] {
        assert_problem(
            get_listing(&app, token, &listing_id).await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
    }
    assert!(ids(&search(&app, &[("city", "Paris")]).await).is_empty());
    assert!(ids(&search(&app, &[]).await).is_empty());
    assert_problem(
        delete(&app, Some(&owner.token), &listing_id).await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
    assert_problem(
        patch(
            &app,
            Some(&owner.token),
            &listing_id,
            json!({ "title": "Back" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
    assert_problem(
        get_calendar(&app, None, &listing_id, "2031-01-01", "2031-01-02").await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
}

async fn a_draft_is_hidden_from_everyone_but_its_owner_and_admins(app: TestApp) {
    let owner = host(&app).await;
    let other_host = host(&app).await;
    let guest = app.guest().await;
    let admin = app.admin().await;
    let draft = create(&app, &owner, json!({ "status": "draft" })).await;
    let draft_id = id(&draft);

    for (who, token) in [
        ("another host", Some(other_host.token.as_str())),
        ("a guest", Some(guest.token.as_str())),
        ("anonymous", None),
    ] {
        let problem = assert_problem(
            get_listing(&app, token, &draft_id).await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
        assert_eq!(problem["errors"], Value::Null, "{who}");
        assert_problem(
            get_calendar(&app, token, &draft_id, "2031-01-01", "2031-01-08").await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
    }
    // Changing a draft one cannot see is "not found" too, never "forbidden".
    for token in [&other_host.token, &guest.token] {
        assert_problem(
            patch(&app, Some(token), &draft_id, json!({ "title": "Mine now" })).await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
        assert_problem(
            delete(&app, Some(token), &draft_id).await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
        assert_problem(
            put_calendar(
                &app,
                Some(token),
                &draft_id,
                json!([{ "from": "2031-01-01", "to": "2031-01-02", "blocked": true }]),
            )
            .await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
    }
    for token in [&owner.token, &admin.token] {
        let res = get_listing(&app, Some(token), &draft_id).await;
        assert_eq!(res.status(), StatusCode::OK);
        let read: Value = res.json().await.expect("json");
        assert_eq!(read["title"], "Sunny flat", "nothing was changed");
    }
    assert!(
        ids(&search(&app, &[]).await).is_empty(),
        "drafts are not searched"
    );
}

async fn a_published_listing_is_read_by_anyone_and_changed_only_by_its_owner(app: TestApp) {
    let owner = host(&app).await;
    let other_host = host(&app).await;
    let guest = app.guest().await;
    let published = create(&app, &owner, json!({})).await;
    let listing_id = id(&published);

    for token in [
        Some(other_host.token.as_str()),
        Some(guest.token.as_str()),
        None,
    ] {
        let res = get_listing(&app, token, &listing_id).await;
        assert_eq!(res.status(), StatusCode::OK);
        let read: Value = res.json().await.expect("json");
        assert_eq!(read, published);
    }
    for token in [&other_host.token, &guest.token] {
        assert_problem(
            patch(
                &app,
                Some(token),
                &listing_id,
                json!({ "title": "Mine now" }),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            delete(&app, Some(token), &listing_id).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        patch(&app, None, &listing_id, json!({ "title": "Anyone" })).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        delete(&app, None, &listing_id).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let read: Value = get_listing(&app, None, &listing_id)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(read, published, "nothing was changed or deleted");
    // Unpublishing hides it again.
    let res = patch(
        &app,
        Some(&owner.token),
        &listing_id,
        json!({ "status": "draft" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        get_listing(&app, Some(&guest.token), &listing_id).await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
}

async fn an_admin_can_change_and_delete_any_listing(app: TestApp) {
    let owner = host(&app).await;
    let admin = app.admin().await;
    let published = create(&app, &owner, json!({})).await;
    let draft = create(
        &app,
        &owner,
        json!({ "status": "draft", "title": "Hidden" }),
    )
    .await;

    for listing in [&published, &draft] {
        let res = patch(
            &app,
            Some(&admin.token),
            &id(listing),
            json!({ "title": "Moderated" }),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let changed: Value = res.json().await.expect("json");
        assert_eq!(changed["title"], "Moderated");
        assert_eq!(
            changed["host_id"].as_str(),
            Some(owner.id.as_str()),
            "the owner stays the owner"
        );
        let read: Value = get_listing(&app, Some(&owner.token), &id(listing))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(read["title"], "Moderated");
    }
    let res = put_calendar(
        &app,
        Some(&admin.token),
        &id(&published),
        json!([{ "from": "2031-02-01", "to": "2031-02-02", "blocked": true }]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        delete(&app, Some(&admin.token), &id(&published))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        get_listing(&app, Some(&owner.token), &id(&published)).await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
}

async fn only_hosts_create_listings(app: TestApp) {
    let guest = app.guest().await;
    let res = app
        .post_json("/v1/listings", Some(&guest.token), &listing(json!({})))
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post_json("/v1/listings", None, &listing(json!({})))
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(
        ids(&search(&app, &[]).await).is_empty(),
        "nothing was created"
    );

    let res = app
        .post_json("/v1/me/host", Some(&guest.token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let created = create(&app, &guest, json!({})).await;
    assert_eq!(created["host_id"].as_str(), Some(guest.id.as_str()));
    let admin = app.admin().await;
    let by_admin = create(&app, &admin, json!({})).await;
    assert_eq!(by_admin["host_id"].as_str(), Some(admin.id.as_str()));
}

async fn unknown_and_read_only_fields_are_refused_by_name(app: TestApp) {
    let owner = host(&app).await;
    let existing = create(&app, &owner, json!({ "title": "Original" })).await;
    let cases = [
        ("id", json!("0190c000-0000-7000-8000-000000000001")),
        ("host_id", json!(owner.id)),
        ("rating_avg", json!(5.0)),
        ("rating_count", json!(100)),
        ("created_at", json!("2031-01-01T00:00:00Z")),
        ("bogus", json!(true)),
    ];
    for (field, value) in cases {
        let res = app
            .post_json(
                "/v1/listings",
                Some(&owner.token),
                &listing(json!({ field: value.clone() })),
            )
            .await;
        assert_invalid(res, &[field], &format!("POST with `{field}`")).await;
        let res = patch(
            &app,
            Some(&owner.token),
            &id(&existing),
            json!({ "title": "Changed", field: value }),
        )
        .await;
        assert_invalid(res, &[field], &format!("PATCH with `{field}`")).await;
    }
    assert_eq!(
        titles(&search(&app, &[]).await),
        ["Original"],
        "nothing was created or changed"
    );
}

async fn invalid_values_are_named_field_by_field(app: TestApp) {
    let owner = host(&app).await;
    let res = app
        .post_json(
            "/v1/listings",
            Some(&owner.token),
            &listing(json!({
                "country": "France",
                "latitude": 100.0,
                "currency": "EURO",
                "min_nights": 10,
                "max_nights": 5,
            })),
        )
        .await;
    assert_invalid(
        res,
        &["country", "latitude", "currency", "max_nights"],
        "create",
    )
    .await;
    assert!(
        ids(&search(&app, &[]).await).is_empty(),
        "nothing was created"
    );

    let existing = create(&app, &owner, json!({ "min_nights": 3, "max_nights": 10 })).await;
    let cases = [
        (json!({ "longitude": -180.5 }), vec!["longitude"]),
        (json!({ "max_nights": 2 }), vec!["max_nights"]),
        (json!({ "min_nights": 0 }), vec!["min_nights"]),
        (
            json!({ "currency": "E1R", "country": "F" }),
            vec!["country", "currency"],
        ),
        (json!({ "title": "   " }), vec!["title"]),
        (
            json!({ "max_guests": 0, "nightly_price_minor": 0 }),
            vec!["max_guests", "nightly_price_minor"],
        ),
        (json!({ "bathrooms": 1.25 }), vec!["bathrooms"]),
        (
            json!({ "photo_urls": ["ftp://example.com/a.jpg"] }),
            vec!["photo_urls[0]"],
        ),
        (json!({ "amenities": ["jacuzzi"] }), vec!["amenities[0]"]),
        (json!({ "property_type": "castle" }), vec!["property_type"]),
        (json!({ "max_guests": "four" }), vec!["max_guests"]),
    ];
    for (body, expected) in cases {
        let res = patch(&app, Some(&owner.token), &id(&existing), body.clone()).await;
        assert_invalid(res, &expected, &body.to_string()).await;
    }
    let read: Value = get_listing(&app, None, &id(&existing))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(read, existing, "no invalid change was applied");
}

async fn an_unlisted_listing_is_read_by_link_but_not_found_by_search(app: TestApp) {
    let owner = host(&app).await;
    let unlisted = create(
        &app,
        &owner,
        json!({ "status": "unlisted", "title": "By link" }),
    )
    .await;
    create(&app, &owner, json!({ "title": "Public" })).await;
    let res = get_listing(&app, None, &id(&unlisted)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(titles(&search(&app, &[]).await), ["Public"]);
}

// ---------------------------------------------------------------------------------------------
// 2. Search filters
// ---------------------------------------------------------------------------------------------

async fn search_filters_by_place_price_currency_guests_and_amenities(app: TestApp) {
    let owner = host(&app).await;
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
        create(&app, &owner, fixture).await;
    }
    create(
        &app,
        &owner,
        json!({ "title": "Paris draft", "status": "draft" }),
    )
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
    let owner = host(&app).await;
    // The centre is (48.8566, 2.3522). About 2.2 km away; about 12.5 km away, inside the
    // bounding box of a 10 km circle but outside the circle; and Versailles, about 17.9 km away.
    for (title, lat, lng, price) in [
        ("Inside", 48.87, 2.33, 10_000),
        ("Box corner", 48.9366, 2.4722, 11_000),
        ("Versailles", 48.8049, 2.1204, 12_000),
    ] {
        create(
            &app,
            &owner,
            json!({ "title": title, "latitude": lat, "longitude": lng, "nightly_price_minor": price }),
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
    let owner = host(&app).await;
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
        let created = create(
            &app,
            &owner,
            json!({ "title": title, "nightly_price_minor": price }),
        )
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
    let owner = host(&app).await;
    for (title, min, max, price) in [
        ("At least 3", 3, 365, 10_000),
        ("At most 5", 1, 5, 11_000),
        ("Exactly 4", 4, 4, 12_000),
        ("Any", 1, 365, 13_000),
    ] {
        create(
            &app,
            &owner,
            json!({ "title": title, "min_nights": min, "max_nights": max, "nightly_price_minor": price }),
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
    let owner = host(app).await;
    let mut out = Vec::new();
    for (i, price) in [5_000, 3_000, 5_000, 7_000, 3_000, 5_000, 9_000]
        .into_iter()
        .enumerate()
    {
        let created = create(
            app,
            &owner,
            json!({ "title": format!("Listing {i}"), "nightly_price_minor": price }),
        )
        .await;
        out.push((id(&created), price));
    }
    // A draft and a deleted listing never show up.
    create(
        app,
        &owner,
        json!({ "status": "draft", "nightly_price_minor": 4_000 }),
    )
    .await;
    let gone = create(app, &owner, json!({ "nightly_price_minor": 4_000 })).await;
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

// ---------------------------------------------------------------------------------------------
// 4. No stale reads after writes
// ---------------------------------------------------------------------------------------------

async fn a_changed_title_is_read_at_once_after_a_cached_read(app: TestApp) {
    let owner = host(&app).await;
    let created = create(&app, &owner, json!({ "title": "Before" })).await;
    let listing_id = id(&created);
    for _ in 0..2 {
        let read: Value = get_listing(&app, None, &listing_id)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(read["title"], "Before");
    }
    let res = patch(
        &app,
        Some(&owner.token),
        &listing_id,
        json!({ "title": "After" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let read: Value = get_listing(&app, None, &listing_id)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(read["title"], "After");
    assert_eq!(titles(&search(&app, &[]).await), ["After"]);
    // A quote reads the listing through the same cache: a new price is quoted at once.
    let stay = ("2031-11-03", "2031-11-05");
    assert_eq!(
        total(&quote(&app, &listing_id, stay.0, stay.1, 1, &[]).await),
        20_000
    );
    let res = patch(
        &app,
        Some(&owner.token),
        &listing_id,
        json!({ "nightly_price_minor": 12_000 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        total(&quote(&app, &listing_id, stay.0, stay.1, 1, &[]).await),
        24_000
    );
    // A second change on top of a fresh cache entry.
    let res = patch(
        &app,
        Some(&owner.token),
        &listing_id,
        json!({ "status": "draft" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        get_listing(&app, None, &listing_id).await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
}

async fn a_cached_search_sees_new_published_and_deleted_listings_at_once(app: TestApp) {
    let owner = host(&app).await;
    let params = [("city", "Paris"), ("sort", "price")];
    let first = create(
        &app,
        &owner,
        json!({ "title": "First", "nightly_price_minor": 10_000 }),
    )
    .await;
    for _ in 0..2 {
        assert_eq!(titles(&search(&app, &params).await), ["First"]);
    }
    create(
        &app,
        &owner,
        json!({ "title": "Second", "nightly_price_minor": 9_000 }),
    )
    .await;
    assert_eq!(titles(&search(&app, &params).await), ["Second", "First"]);

    let draft = create(
        &app,
        &owner,
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
    let owner = host(&app).await;
    let created = create(&app, &owner, json!({ "title": "Flat" })).await;
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

// ---------------------------------------------------------------------------------------------
// 5. Calendar
// ---------------------------------------------------------------------------------------------

async fn the_calendar_shows_blocked_nights_and_override_prices_against_the_base_price(
    app: TestApp,
) {
    let owner = host(&app).await;
    let created = create(&app, &owner, json!({ "nightly_price_minor": 10_000 })).await;
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
    let other = create(&app, &owner, json!({})).await;
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
    let owner = host(&app).await;
    let other_host = host(&app).await;
    let guest = app.guest().await;
    let admin = app.admin().await;
    let published = create(&app, &owner, json!({})).await;
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
    let owner = host(&app).await;
    let listing_id = id(&create(&app, &owner, json!({})).await);

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

// ---------------------------------------------------------------------------------------------
// 6. Quotes, without and with the bundled pricing plugins
// ---------------------------------------------------------------------------------------------

async fn a_quote_without_plugins_is_the_nightly_rates_with_calendar_overrides(app: TestApp) {
    let owner = host(&app).await;
    let created = create(&app, &owner, json!({ "nightly_price_minor": 10_050 })).await;
    let listing_id = id(&created);
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-04-02", "to": "2031-04-03", "price_minor": 17_525 }]),
    )
    .await;
    let q = quote(&app, &listing_id, "2031-04-01", "2031-04-04", 2, &[]).await;
    assert_eq!(
        lines(&q),
        nightly_lines("2031-04-01", &[10_050, 17_525, 10_050])
    );
    assert_eq!(total(&q), 37_625);
    assert_eq!(q["nights"], 3);
    assert_eq!(q["currency"], "EUR");
    // A logged-in guest gets the same price; guests default to 1.
    let guest = app.guest().await;
    let res = quote_raw(
        &app,
        Some(&guest.token),
        &listing_id,
        &[("check_in", "2031-04-01"), ("check_out", "2031-04-04")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.expect("json");
    assert_eq!(again["guests"], 1);
    assert_eq!(total(&again), 37_625);
    assert_ne!(again["quote_id"], q["quote_id"], "each quote is its own");
    // The owner sees a draft's quote; a USD listing is quoted in USD.
    let draft = create(
        &app,
        &owner,
        json!({ "status": "draft", "currency": "usd", "nightly_price_minor": 9_999 }),
    )
    .await;
    let res = quote_raw(
        &app,
        Some(&owner.token),
        &id(&draft),
        &[("check_in", "2031-04-01"), ("check_out", "2031-04-02")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let own: Value = res.json().await.expect("json");
    assert_eq!(own["currency"], "USD");
    assert_eq!(total(&own), 9_999);
}

async fn quote_errors_are_problems_naming_the_field(app: TestApp) {
    let owner = host(&app).await;
    let listing_id = id(&create(
        &app,
        &owner,
        json!({ "max_guests": 3, "min_nights": 2, "max_nights": 10 }),
    )
    .await);
    let cases: &[Case] = &[
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-08")],
            &["check_out"],
        ),
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-10")],
            &["check_out"],
        ),
        (&[], &["check_in", "check_out"]),
        (&[("check_in", "2031-04-10")], &["check_out"]),
        (&[("check_out", "2031-04-12")], &["check_in"]),
        (
            &[("check_in", "April 10"), ("check_out", "2031-04-12")],
            &["check_in"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-12"),
                ("guests", "4"),
            ],
            &["guests"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-12"),
                ("guests", "0"),
            ],
            &["guests"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-12"),
                ("guests", "two"),
            ],
            &["guests"],
        ),
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-11")],
            &["check_out"],
        ),
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-21")],
            &["check_out"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-11"),
                ("guests", "9"),
            ],
            &["guests", "check_out"],
        ),
    ];
    for (params, expected) in cases {
        assert_invalid(
            quote_raw(&app, None, &listing_id, params).await,
            expected,
            &format!("{params:?}"),
        )
        .await;
    }
    // At the limits it prices.
    quote(&app, &listing_id, "2031-04-10", "2031-04-12", 3, &[]).await;
    quote(&app, &listing_id, "2031-04-10", "2031-04-20", 1, &[]).await;

    // A blocked night: 409, naming the night.
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-04-11", "to": "2031-04-12", "blocked": true }]),
    )
    .await;
    let problem = assert_problem(
        quote_raw(
            &app,
            None,
            &listing_id,
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-13")],
        )
        .await,
        StatusCode::CONFLICT,
        "dates_unavailable",
    )
    .await;
    assert_eq!(fields(&problem), ["check_in"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2031-04-11")),
        "{problem}"
    );
    // Leaving on the blocked day is fine.
    quote(&app, &listing_id, "2031-04-09", "2031-04-11", 1, &[]).await;

    // Someone else's draft does not exist.
    let draft = create(&app, &owner, json!({ "status": "draft" })).await;
    let stranger = host(&app).await;
    for token in [Some(stranger.token.as_str()), None] {
        assert_problem(
            quote_raw(
                &app,
                token,
                &id(&draft),
                &[("check_in", "2031-04-10"), ("check_out", "2031-04-12")],
            )
            .await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
    }
    assert_problem(
        quote_raw(
            &app,
            None,
            "0190c000-0000-7000-8000-000000000001",
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-12")],
        )
        .await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
}

fn seasonal_plugin() -> String {
    plugin(
        "seasonal",
        "pricing",
        "hearth_plugin_pricing_seasonal",
        "order = 10",
        "weekend_adjust_bp = 2000\n\
         seasons = [{ name = \"Summer\", from = \"07-01\", to = \"08-31\", adjust_bp = 1500 }]",
    )
}

async fn seasonal_adjusts_weekend_and_season_nights_to_the_cent(app: TestApp) {
    let owner = host(&app).await;
    let listing_id = id(&create(&app, &owner, json!({ "nightly_price_minor": 10_003 })).await);
    // Saturday 2031-06-28 costs 150.00 instead of 100.03.
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-06-28", "to": "2031-06-29", "price_minor": 15_000 }]),
    )
    .await;
    // Friday 06-27 to Wednesday 07-02: Friday and Saturday are weekend nights (+20% of their
    // own rate: 20.006 -> 20.01 and 30.00), Tuesday 07-01 is in summer (+15%: 15.0045 -> 15.00).
    let q = quote(
        &app,
        &listing_id,
        "2031-06-27",
        "2031-07-02",
        2,
        &["seasonal"],
    )
    .await;
    let mut expected = nightly_lines("2031-06-27", &[10_003, 15_000, 10_003, 10_003, 10_003]);
    expected.extend([
        line("weekend-adjustment", 2_001, Some("2031-06-27"), "seasonal"),
        line("weekend-adjustment", 3_000, Some("2031-06-28"), "seasonal"),
        line("seasonal-adjustment", 1_500, Some("2031-07-01"), "seasonal"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 61_513);
    let descriptions: Vec<&str> = q["line_items"]
        .as_array()
        .expect("items")
        .iter()
        .skip(5)
        .map(|i| i["description"].as_str().expect("description"))
        .collect();
    assert_eq!(
        descriptions,
        [
            "Weekend rate (2031-06-27)",
            "Weekend rate (2031-06-28)",
            "Summer (2031-07-01)"
        ]
    );
    // Friday 07-04 is both: each adjustment is of the nightly rate, they do not compound.
    let q = quote(
        &app,
        &listing_id,
        "2031-07-04",
        "2031-07-05",
        1,
        &["seasonal"],
    )
    .await;
    let mut expected = nightly_lines("2031-07-04", &[10_003]);
    expected.extend([
        line("weekend-adjustment", 2_001, Some("2031-07-04"), "seasonal"),
        line("seasonal-adjustment", 1_500, Some("2031-07-04"), "seasonal"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 13_504);
    // A weekday outside the season is not adjusted.
    let q = quote(
        &app,
        &listing_id,
        "2031-06-30",
        "2031-07-01",
        1,
        &["seasonal"],
    )
    .await;
    assert_eq!(lines(&q), nightly_lines("2031-06-30", &[10_003]));
}

fn length_of_stay_plugin() -> String {
    plugin(
        "length-of-stay",
        "pricing",
        "hearth_plugin_pricing_length_of_stay",
        "order = 10",
        "weekly_discount_bp = 1000\nmonthly_discount_bp = 2500",
    )
}

async fn length_of_stay_discounts_weeks_and_months_to_the_cent(app: TestApp) {
    let owner = host(&app).await;
    let listing_id = id(&create(&app, &owner, json!({ "nightly_price_minor": 10_007 })).await);
    let source = &["length-of-stay"];

    // 6 nights: no discount.
    let q = quote(&app, &listing_id, "2031-03-03", "2031-03-09", 2, source).await;
    assert_eq!(lines(&q), nightly_lines("2031-03-03", &[10_007; 6]));
    assert_eq!(total(&q), 60_042);

    // 7 nights: 10% of 700.49 = 70.049 -> 70.05 off.
    let q = quote(&app, &listing_id, "2031-03-10", "2031-03-17", 2, source).await;
    let mut expected = nightly_lines("2031-03-10", &[10_007; 7]);
    expected.push(line("weekly-discount", -7_005, None, "length-of-stay"));
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 63_044);

    // 27 nights are still weekly: 10% of 2701.89 = 270.189 -> 270.19 off.
    let q = quote(&app, &listing_id, "2031-04-01", "2031-04-28", 2, source).await;
    let mut expected = nightly_lines("2031-04-01", &[10_007; 27]);
    expected.push(line("weekly-discount", -27_019, None, "length-of-stay"));
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 243_170);

    // 28 nights: the monthly discount replaces the weekly one: 25% of 2801.96 = 700.49 off.
    let q = quote(&app, &listing_id, "2031-05-01", "2031-05-29", 2, source).await;
    let mut expected = nightly_lines("2031-05-01", &[10_007; 28]);
    expected.push(line("monthly-discount", -70_049, None, "length-of-stay"));
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 210_147);
}

fn cleaning_fee_plugin() -> String {
    plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 10",
        "amount_minor = 5000\nwaive_from_nights = 7",
    )
}

async fn the_cleaning_fee_is_charged_once_and_waived_for_long_stays(app: TestApp) {
    let owner = host(&app).await;
    let listing_id = id(&create(&app, &owner, json!({})).await);
    for (check_out, nights, fee) in [
        ("2031-03-04", 3, Some(5_000)),
        ("2031-03-07", 6, Some(5_000)),
        ("2031-03-08", 7, None),
    ] {
        let q = quote(&app, &listing_id, "2031-03-01", check_out, 2, &["cleaning"]).await;
        let mut expected = nightly_lines("2031-03-01", &vec![10_000; nights]);
        if let Some(fee) = fee {
            expected.push(line("cleaning-fee", fee, None, "cleaning"));
        }
        assert_eq!(lines(&q), expected, "{nights} nights");
        assert_eq!(
            total(&q),
            10_000 * i64::try_from(nights).expect("small") + fee.unwrap_or(0)
        );
    }
}

fn service_fee_plugins() -> String {
    // The same plugin twice: a booking fee before the cleaning fee, a service fee after it.
    plugin(
        "booking-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        "order = 5",
        "percent_bp = 1000\nlabel = \"Booking fee\"",
    ) + &plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 10",
        "amount_minor = 5000",
    ) + &plugin(
        "service-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        "order = 20",
        "percent_bp = 1400",
    )
}

async fn the_service_fee_is_a_share_of_everything_before_it_in_the_chain(app: TestApp) {
    let owner = host(&app).await;
    let listing_id = id(&create(&app, &owner, json!({ "nightly_price_minor": 10_005 })).await);
    let q = quote(
        &app,
        &listing_id,
        "2031-03-01",
        "2031-03-04",
        2,
        &["booking-fee", "cleaning", "service-fee"],
    )
    .await;
    // Nights: 3 x 100.05 = 300.15.
    // Booking fee (first): 10% of 300.15 = 30.015 -> 30.02.
    // Cleaning: 50.00.
    // Service fee (last): 14% of 300.15 + 30.02 + 50.00 = 380.17 -> 53.2238 -> 53.22.
    let mut expected = nightly_lines("2031-03-01", &[10_005; 3]);
    expected.extend([
        line("service-fee", 3_002, None, "booking-fee"),
        line("cleaning-fee", 5_000, None, "cleaning"),
        line("service-fee", 5_322, None, "service-fee"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 43_339);
    assert_eq!(q["line_items"][3]["description"], "Booking fee");
    assert_eq!(q["line_items"][5]["description"], "Service fee");
}

fn occupancy_tax_plugin() -> String {
    plugin(
        "occupancy-tax",
        "pricing",
        "hearth_plugin_pricing_occupancy_tax",
        "order = 10",
        "rules = [\n\
           { name = \"VAT\", country = \"FR\", kind = \"percent\", rate_bp = 1000 },\n\
           { name = \"Paris tourist tax\", country = \"fr\", city = \"PARIS\", kind = \"per_guest_per_night\", amount_minor = 260 },\n\
           { name = \"Lyon tax\", country = \"FR\", city = \"Lyon\", kind = \"percent\", rate_bp = 300 },\n\
           { name = \"Spanish tax\", country = \"ES\", kind = \"per_guest_per_night\", amount_minor = 100 },\n\
         ]",
    )
}

async fn occupancy_taxes_apply_only_where_country_and_city_match(app: TestApp) {
    let owner = host(&app).await;
    let paris = id(&create(&app, &owner, json!({ "nightly_price_minor": 10_003 })).await);
    let lyon = id(&create(
        &app,
        &owner,
        json!({ "city": "Lyon", "latitude": 45.764, "longitude": 4.8357, "nightly_price_minor": 10_003 }),
    )
    .await);
    let berlin = id(&create(
        &app,
        &owner,
        json!({ "city": "Berlin", "country": "DE", "latitude": 52.52, "longitude": 13.405,
                "nightly_price_minor": 10_003 }),
    )
    .await);
    let source = &["occupancy-tax"];
    let nights = nightly_lines("2031-03-01", &[10_003; 3]);
    let tax = |amount| line("occupancy-tax", amount, None, "occupancy-tax");

    // Nights: 300.09. Paris: VAT 10% = 30.009 -> 30.01; 2.60 x 2 guests x 3 nights = 15.60.
    let q = quote(&app, &paris, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(
        lines(&q),
        [nights.clone(), vec![tax(3_001), tax(1_560)]].concat()
    );
    assert_eq!(total(&q), 34_570);
    let names: Vec<&str> = q["line_items"]
        .as_array()
        .expect("items")
        .iter()
        .skip(3)
        .map(|i| i["description"].as_str().expect("description"))
        .collect();
    assert_eq!(names, ["VAT", "Paris tourist tax"]);
    // Per guest: 3 guests pay 2.60 x 3 x 3 = 23.40.
    let q = quote(&app, &paris, "2031-03-01", "2031-03-04", 3, source).await;
    assert_eq!(
        lines(&q),
        [nights.clone(), vec![tax(3_001), tax(2_340)]].concat()
    );
    assert_eq!(total(&q), 35_350);
    // Lyon: VAT, and 3% of 300.09 = 9.0027 -> 9.00; no Paris tax.
    let q = quote(&app, &lyon, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(
        lines(&q),
        [nights.clone(), vec![tax(3_001), tax(900)]].concat()
    );
    assert_eq!(total(&q), 33_910);
    // Germany: no rule matches.
    let q = quote(&app, &berlin, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(lines(&q), nights);
    assert_eq!(total(&q), 30_009);
}

fn all_five_plugins() -> String {
    plugin(
        "seasonal",
        "pricing",
        "hearth_plugin_pricing_seasonal",
        "order = 10",
        "weekend_adjust_bp = 2000\n\
         seasons = [{ name = \"Summer\", from = \"07-06\", to = \"08-31\", adjust_bp = 1500 }]",
    ) + &plugin(
        "length-of-stay",
        "pricing",
        "hearth_plugin_pricing_length_of_stay",
        "order = 20",
        "weekly_discount_bp = 1000\nmonthly_discount_bp = 2500",
    ) + &plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 30",
        "amount_minor = 6000\nwaive_from_nights = 28",
    ) + &plugin(
        "service-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        "order = 40",
        "percent_bp = 1400",
    ) + &plugin(
        "occupancy-tax",
        "pricing",
        "hearth_plugin_pricing_occupancy_tax",
        "order = 50",
        "rules = [\n\
           { name = \"VAT\", country = \"FR\", kind = \"percent\", rate_bp = 1000 },\n\
           { name = \"Paris tourist tax\", country = \"FR\", city = \"Paris\", kind = \"per_guest_per_night\", amount_minor = 260 },\n\
         ]",
    )
}

async fn all_five_plugins_chain_to_the_total_computed_by_hand(app: TestApp) {
    let owner = host(&app).await;
    let listing_id = id(&create(&app, &owner, json!({ "nightly_price_minor": 12_345 })).await);
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-07-08", "to": "2031-07-09", "price_minor": 15_000 }]),
    )
    .await;
    let q = quote(
        &app,
        &listing_id,
        "2031-07-03",
        "2031-07-10",
        2,
        &[
            "seasonal",
            "length-of-stay",
            "cleaning",
            "service-fee",
            "occupancy-tax",
        ],
    )
    .await;
    // Seven nights, Thursday 07-03 to Wednesday 07-09, 2 guests, in Paris:
    //   nightly:   6 x 123.45 + 150.00 (the 07-08 override)                  =   890.70
    //   weekend:   Fri 07-04, Sat 07-05: 20% of 123.45 = 24.69, x 2           =    49.38
    //   summer:    from 07-06: 15% of 123.45 = 18.5175 -> 18.52 on 07-06, 07-07
    //              and 07-09; 15% of 150.00 = 22.50 on 07-08                  =    78.06
    //   weekly:    10% of 890.70 + 49.38 + 78.06 = 1018.14 -> 101.814         =  -101.81
    //   cleaning:                                                             =    60.00
    //   service:   14% of 1018.14 - 101.81 + 60.00 = 976.33 -> 136.6862       =   136.69
    //   VAT:       10% of 976.33 + 136.69 = 1113.02 -> 111.302                =   111.30
    //   Paris tax: 2.60 x 2 guests x 7 nights                                 =    36.40
    //   total:     1113.02 + 111.30 + 36.40                                   =  1260.72
    let mut expected = nightly_lines(
        "2031-07-03",
        &[12_345, 12_345, 12_345, 12_345, 12_345, 15_000, 12_345],
    );
    expected.extend([
        line("weekend-adjustment", 2_469, Some("2031-07-04"), "seasonal"),
        line("weekend-adjustment", 2_469, Some("2031-07-05"), "seasonal"),
        line("seasonal-adjustment", 1_852, Some("2031-07-06"), "seasonal"),
        line("seasonal-adjustment", 1_852, Some("2031-07-07"), "seasonal"),
        line("seasonal-adjustment", 2_250, Some("2031-07-08"), "seasonal"),
        line("seasonal-adjustment", 1_852, Some("2031-07-09"), "seasonal"),
        line("weekly-discount", -10_181, None, "length-of-stay"),
        line("cleaning-fee", 6_000, None, "cleaning"),
        line("service-fee", 13_669, None, "service-fee"),
        line("occupancy-tax", 11_130, None, "occupancy-tax"),
        line("occupancy-tax", 3_640, None, "occupancy-tax"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 126_072);
}

fn cleaning_then_service_fee() -> String {
    reload_config(10, 5_000, 20, 1_400)
}

fn reload_config(
    cleaning_order: i32,
    cleaning: i64,
    service_order: i32,
    percent_bp: i64,
) -> String {
    plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        &format!("order = {cleaning_order}"),
        &format!("amount_minor = {cleaning}"),
    ) + &plugin(
        "service-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        &format!("order = {service_order}"),
        &format!("percent_bp = {percent_bp}"),
    )
}

async fn a_reload_reorders_and_reconfigures_the_next_quote(app: TestApp) {
    let owner = host(&app).await;
    let admin = app.admin().await;
    let listing_id = id(&create(&app, &owner, json!({})).await);
    let source = &["cleaning", "service-fee"];

    // Cleaning first: 14% of 300.00 + 50.00 = 49.00.
    let q = quote(&app, &listing_id, "2031-03-01", "2031-03-04", 2, source).await;
    let mut expected = nightly_lines("2031-03-01", &[10_000; 3]);
    expected.extend([
        line("cleaning-fee", 5_000, None, "cleaning"),
        line("service-fee", 4_900, None, "service-fee"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 39_900);

    // The service fee moves first and drops to 10%, the cleaning fee to 25.00.
    std::fs::write(
        app.stores.config_path(),
        app.stores.config_text(&reload_config(10, 2_500, 5, 1_000)),
    )
    .expect("rewrite the configuration");
    // Only an admin may reload.
    let guest = app.guest().await;
    let res = app
        .request(Method::POST, "/v1/admin/plugins/reload")
        .bearer_auth(&guest.token)
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let q = quote(&app, &listing_id, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(total(&q), 39_900, "nothing changes before the reload");

    let res = app
        .request(Method::POST, "/v1/admin/plugins/reload")
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    // 10% of 300.00 = 30.00, then 25.00 cleaning.
    let q = quote(&app, &listing_id, "2031-03-01", "2031-03-04", 2, source).await;
    let mut expected = nightly_lines("2031-03-01", &[10_000; 3]);
    expected.extend([
        line("service-fee", 3_000, None, "service-fee"),
        line("cleaning-fee", 2_500, None, "cleaning"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 35_500);
}
