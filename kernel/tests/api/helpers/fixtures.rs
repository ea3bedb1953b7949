//! Fixtures more than one test file uses: a valid listing body, search, calendar and quote
//! requests with the checks every caller makes, the payment plugins and test cards, stays
//! relative to today, and the invariant queries.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::app::TestAppBuilder;
use super::{assert_problem, plugin, Actor, Backend, TestApp};

// ---------------------------------------------------------------------------------------------
// Listings, search, calendars and quotes
// ---------------------------------------------------------------------------------------------

/// A valid, published listing body in Paris at 100.00 EUR a night, with `overrides` merged in.
pub fn listing(overrides: Value) -> Value {
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

/// `listing` as someone who may not know exactly where it is sees it: no street address and
/// the coordinates on a 0.005° grid (about 500 m).
pub fn approximately(listing: &Value) -> Value {
    let round = |v: &Value| {
        let degrees = v.as_f64().expect("degrees");
        json!(((degrees / 0.005).round() * 0.005 * 1000.0).round() / 1000.0)
    };
    let mut seen = listing.clone();
    seen["address"] = Value::Null;
    seen["latitude"] = round(&listing["latitude"]);
    seen["longitude"] = round(&listing["longitude"]);
    seen
}

pub fn id(listing: &Value) -> String {
    listing["id"].as_str().expect("id").to_owned()
}

pub async fn get_listing(app: &TestApp, token: Option<&str>, id: &str) -> Response {
    app.get(&format!("/v1/listings/{id}"), token).await
}

pub async fn patch(app: &TestApp, token: Option<&str>, id: &str, body: Value) -> Response {
    app.send_json(Method::PATCH, &format!("/v1/listings/{id}"), token, &body)
        .await
}

pub async fn delete(app: &TestApp, token: Option<&str>, id: &str) -> Response {
    let mut req = app.request(Method::DELETE, &format!("/v1/listings/{id}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request sent")
}

/// `GET /v1/listings` with these (URL-encoded) parameters.
pub async fn search_raw(app: &TestApp, params: &[(&str, &str)]) -> Response {
    app.request(Method::GET, "/v1/listings")
        .query(params)
        .send()
        .await
        .expect("request sent")
}

/// A search page, which must succeed.
pub async fn search(app: &TestApp, params: &[(&str, &str)]) -> Value {
    let res = search_raw(app, params).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{params:?}: {body}");
    body
}

/// A table row: query parameters, and the titles (or problem fields) they give.
pub type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

pub fn titles(page: &Value) -> Vec<String> {
    page["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(|l| l["title"].as_str().expect("title").to_owned())
        .collect()
}

pub fn ids(page: &Value) -> Vec<String> {
    page["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(id)
        .collect()
}

/// The field names of a problem's `errors`, in order.
pub fn fields(problem: &Value) -> Vec<String> {
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
pub async fn assert_invalid(res: Response, expected: &[&str], context: &str) -> Value {
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

pub async fn put_calendar(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    changes: Value,
) -> Response {
    app.send_json(
        Method::PUT,
        &format!("/v1/listings/{id}/calendar"),
        token,
        &json!({ "changes": changes }),
    )
    .await
}

/// Changes a calendar as its owner, which must succeed.
pub async fn set_calendar(app: &TestApp, owner: &Actor, id: &str, changes: Value) -> Value {
    let res = put_calendar(app, Some(&owner.token), id, changes).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub async fn get_calendar(
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
pub fn night(date: &str, status: &str, price_minor: i64) -> (String, String, i64) {
    (date.to_owned(), status.to_owned(), price_minor)
}

/// `(date, status, price_minor)` for every night of a calendar.
pub fn nights(calendar: &Value) -> Vec<(String, String, i64)> {
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

pub async fn quote_raw(
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
pub async fn quote(
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
    // Anonymous: priced, not stored, so nothing to book from.
    assert!(body["quote_id"].is_null(), "{body}");
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("expires_at"))
            .expect("RFC 3339");
    assert!(expires > chrono::Utc::now(), "{body}");
    body
}

/// A quote's lines as `(code, amount_minor, night, source)`.
pub fn lines(quote: &Value) -> Vec<(String, i64, Option<String>, String)> {
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
pub fn line(
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
pub fn nightly_lines(first: &str, prices: &[i64]) -> Vec<(String, i64, Option<String>, String)> {
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

pub fn total(quote: &Value) -> i64 {
    quote["total_minor"].as_i64().expect("total")
}
// ---------------------------------------------------------------------------------------------
// Payments and bookings
// ---------------------------------------------------------------------------------------------

pub const SANDBOX_SECRET: &str = "whsec_sandbox_test_0123456789";
pub const INVOICE_SECRET: &str = "whsec_invoice_test_0123456789";
pub const CARD_OK: &str = "4242424242424242";
pub const CARD_DECLINED: &str = "4000000000000002";
pub const CARD_LATER: &str = "4000000000003220";

/// The sandbox for every currency but CHF, which pays by invoice (bank transfer).
pub fn payment_plugins(extra_sandbox: &str) -> String {
    [
        plugin(
            "payments-sandbox",
            "payments",
            "hearth_plugin_payments_sandbox",
            extra_sandbox,
            &format!("webhook_secret = \"{SANDBOX_SECRET}\""),
        ),
        plugin(
            "payments-invoice",
            "payments",
            "hearth_plugin_payments_invoice",
            "",
            &format!("webhook_secret = \"{INVOICE_SECRET}\""),
        ),
        plugin(
            "notify-inbox",
            "notifier",
            "hearth_plugin_notify_inbox",
            "",
            "",
        ),
    ]
    .concat()
}

/// A builder for an app with the payment providers (the sandbox by default, CHF by invoice);
/// `extra_sandbox` holds more keys for the sandbox's `[[plugins]]` entry.
pub fn with_payments<'a>(extra_sandbox: &str) -> TestAppBuilder<'a> {
    TestApp::builder()
        .plugins(&payment_plugins(extra_sandbox))
        .config(|c| {
            c.payments.default_provider = Some("payments-sandbox".into());
            c.payments
                .providers
                .insert("CHF".into(), "payments-invoice".into());
        })
}

/// An app with the payment providers on fresh stores of `backend`, after `tweak`.
pub async fn spawn_with_payments(
    backend: Backend,
    tweak: impl FnOnce(&mut hearth::config::Config),
) -> Option<TestApp> {
    with_payments("").config(tweak).spawn(backend).await
}

/// A host with a published listing made of [`listing`]`(overrides)`; the listing's id.
pub async fn host_with_listing(app: &TestApp, overrides: Value) -> (Actor, String) {
    let host = app.host().await;
    let listing = host.create_listing(overrides).await;
    (host, id(&listing))
}

/// `YYYY-MM-DD`, `days` from today.
pub fn day(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

pub fn stay(listing: &str, from: i64, to: i64, card: &str) -> Value {
    json!({ "listing_id": listing, "check_in": day(from), "check_out": day(to), "payment_method": card })
}

/// The ledger as `(operation, status, amount)`.
pub async fn ledger(who: &Actor, id: &str) -> Vec<(String, String, i64)> {
    let (status, body) = who.get_json(&format!("/v1/bookings/{id}/payments")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            (
                p["operation"].as_str().unwrap_or_default().to_owned(),
                p["status"].as_str().unwrap_or_default().to_owned(),
                p["amount_minor"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

pub fn id_of(booking: &Value) -> String {
    booking["id"].as_str().expect("id").to_owned()
}

/// Active bookings of one listing whose nights overlap: must always be zero.
pub const OVERLAPS: &str = "SELECT COUNT(*) FROM bookings a JOIN bookings b \
    ON a.listing_id = b.listing_id AND a.id < b.id \
    AND a.check_in < b.check_out AND b.check_in < a.check_out \
    WHERE a.status IN ('pending_payment', 'requested', 'confirmed', 'completed') \
    AND b.status IN ('pending_payment', 'requested', 'confirmed', 'completed')";
