//! GraphQL at `/graphql`: the same data and effects as REST (parity, on both backends), the same
//! errors with REST's `code`, idempotent `createBooking` across both surfaces, the 64-way race,
//! the cost limits (each refused before anything runs), DataLoaders proven by counting SQL
//! statements, and the schema as a reviewed artefact.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::statements::{count_statements, tagged};
use crate::helpers::ws::{GqlSocket, Heard};
use crate::helpers::{sql_count, Actor, Backend, TestApp};

/// POSTs a GraphQL request (as `token`'s owner) and returns the response body.
async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut req = app
        .request(Method::POST, "/graphql")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request sent");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("a JSON response")
}

/// The first error's `extensions.code`.
fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error with a code: {response}"))
}

/// `snake_case` → `camelCase`.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Every field of the REST body, asked for by its GraphQL name.
const LISTING_FIELDS: &str = "id hostId title description propertyType address city country \
    latitude longitude maxGuests bedrooms beds bathrooms amenities photoUrls nightlyPriceMinor \
    currency minNights maxNights instantBook cancellationPolicy status ratingAvg ratingCount \
    createdAt updatedAt timezone checkInTime checkOutTime advanceNoticeHours \
    availabilityWindowDays preparationNights";

/// Asserts that the GraphQL object holds exactly the REST body's values, field for field.
fn assert_same(rest: &Value, graphql: &Value, what: &str) {
    let fields = rest.as_object().expect("a REST object");
    for (name, value) in fields {
        let theirs = &graphql[camel(name)];
        // Times are RFC 3339 on both; REST writes UTC as `Z`, GraphQL's scalar as `+00:00`.
        let instant = |v: &Value| {
            v.as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        };
        if let (Some(a), Some(b)) = (instant(value), instant(theirs)) {
            assert_eq!(a, b, "{what}: `{name}` differs");
            continue;
        }
        assert_eq!(
            theirs, value,
            "{what}: `{name}` differs (REST {rest}, GraphQL {graphql})"
        );
    }
}

async fn a_listing_page_is_one_query_with_the_same_data_as_rest(app: TestApp) {
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let query = format!(
        "query($id: UUID!, $from: NaiveDate!, $to: NaiveDate!) {{ listing(id: $id) {{ {LISTING_FIELDS} \
         host {{ id displayName }} reviews(first: 3) {{ edges {{ node {{ id }} }} pageInfo {{ hasNextPage }} }} \
         calendar(from: $from, to: $to) {{ listingId currency nights {{ date status priceMinor }} }} }} }}"
    );
    let vars = json!({ "id": listing, "from": day(1), "to": day(5) });
    for (who, token) in [("anonymous", None), ("host", Some(host.token.as_str()))] {
        let rest = get_listing(&app, token, &listing).await;
        assert_eq!(rest.status(), StatusCode::OK);
        let rest: Value = rest.json().await.expect("json");
        let body = gql(&app, token, &query, vars.clone()).await;
        assert!(body["errors"].is_null(), "{body}");
        let seen = &body["data"]["listing"];
        assert_same(&rest, seen, who);
        assert_eq!(seen["host"]["id"], json!(host.id));
        assert_eq!(seen["reviews"]["edges"], json!([]));
        let calendar: Value = get_calendar(&app, token, &listing, &day(1), &day(5))
            .await
            .json()
            .await
            .expect("json");
        assert_same(
            &json!({ "listing_id": calendar["listing_id"], "currency": calendar["currency"] }),
            &seen["calendar"],
            who,
        );
        let nights: Vec<Value> = calendar["nights"]
            .as_array()
            .expect("nights")
            .iter()
            .map(|n| json!({ "date": n["date"], "status": n["status"], "priceMinor": n["price_minor"] }))
            .collect();
        assert_eq!(seen["calendar"]["nights"], json!(nights), "{who}");
    }
    // Anonymous callers see what REST shows them: no street, rounded coordinates.
    let body = gql(&app, None, &query, vars).await;
    assert!(body["data"]["listing"]["address"].is_null());

    // A draft is not found for anyone but its host, with REST's code.
    let draft = host.create_listing(json!({ "status": "draft" })).await;
    let q = "query($id: UUID!) { listing(id: $id) { id } }";
    let body = gql(&app, None, q, json!({ "id": id(&draft) })).await;
    assert_eq!(code(&body), "listing_not_found");
    assert_eq!(body["errors"][0]["extensions"]["status"], 404);
    let body = gql(&app, Some(&host.token), q, json!({ "id": id(&draft) })).await;
    assert_eq!(body["data"]["listing"]["id"], json!(id(&draft)));
}

async fn search_pages_like_rest_with_cursors(app: TestApp) {
    let host = app.host().await;
    for price in [10_000, 12_000, 9_000] {
        host.create_listing(json!({ "nightly_price_minor": price }))
            .await;
    }
    let rest = search(&app, &[("city", "Paris"), ("sort", "price")]).await;
    let q = "query($after: String) { listings(filter: { city: \"Paris\", sort: \"price\" }, first: 2, after: $after) \
             { edges { cursor node { id nightlyPriceMinor host { displayName } } } \
               pageInfo { hasNextPage endCursor } } }";
    let first = gql(&app, None, q, json!({})).await;
    let page = &first["data"]["listings"];
    assert_eq!(page["pageInfo"]["hasNextPage"], true, "{first}");
    let after = page["pageInfo"]["endCursor"].clone();
    let second = gql(&app, None, q, json!({ "after": after })).await;
    let page2 = &second["data"]["listings"];
    assert_eq!(page2["pageInfo"]["hasNextPage"], false, "{second}");
    let ids: Vec<Value> = [page, page2]
        .iter()
        .flat_map(|p| p["edges"].as_array().cloned().unwrap_or_default())
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(
        ids,
        ids_of_rest(&rest),
        "the same listings in the same order"
    );
    // `first` obeys REST's `limit` rule and is named as GraphQL names it.
    let body = gql(
        &app,
        None,
        "{ listings(first: 101) { edges { cursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "validation_failed");
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["field"],
        "first"
    );
}

fn ids_of_rest(page: &Value) -> Vec<Value> {
    page["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(|l| l["id"].clone())
        .collect()
}

async fn errors_carry_the_rest_problem_code_and_fields(app: TestApp) {
    let body = gql(&app, None, "{ me { id } }", json!({})).await;
    assert_eq!(code(&body), "unauthenticated");
    assert!(body["data"].is_null());

    let host = app.host().await;
    let bad = json!({ "title": "", "max_guests": 0, "currency": "XYZ" });
    let rest = host.post_json("/v1/listings", &listing(bad)).await;
    assert_eq!(rest.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let rest: Value = rest.json().await.expect("json");
    let q = "mutation { createListing(input: { title: \"\", propertyType: \"apartment\", \
             address: \"1 Rue de Rivoli\", city: \"Paris\", country: \"FR\", latitude: 48.8566, \
             longitude: 2.3522, maxGuests: 0, nightlyPriceMinor: 10000, currency: \"XYZ\" }) { id } }";
    let body = gql(&app, Some(&host.token), q, json!({})).await;
    assert_eq!(code(&body), rest["code"].as_str().expect("code"));
    let fields = |errors: &Value| {
        let mut f: Vec<String> = errors
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
            .collect();
        f.sort();
        f
    };
    assert_eq!(
        fields(&body["errors"][0]["extensions"]["errors"]),
        fields(&rest["errors"])
    );
    // Nothing was created by either.
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM listings").await, 0);

    // A guest is not a host: REST's 403 code.
    let guest = app.guest().await;
    let q = "mutation { createListing(input: { title: \"Flat\", propertyType: \"apartment\", \
             address: \"x\", city: \"Paris\", country: \"FR\", latitude: 1.0, longitude: 1.0, \
             maxGuests: 2, nightlyPriceMinor: 100, currency: \"EUR\" }) { id } }";
    let body = gql(&app, Some(&guest.token), q, json!({})).await;
    assert_eq!(code(&body), "forbidden");
}

const BOOK: &str = "mutation($input: BookingInput!, $key: String) { \
    createBooking(input: $input, idempotencyKey: $key) { id status totalMinor \
      listing { id title } payments { operation status amountMinor } } }";

fn booking_input(listing: &str, from: i64, to: i64) -> Value {
    json!({ "listingId": listing, "checkIn": day(from), "checkOut": day(to), "paymentMethod": CARD_OK })
}

async fn bookings_match_rest_and_keys_replay_across_surfaces(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    let vars = json!({ "input": booking_input(&listing, 30, 33), "key": "gql-key-1" });
    let first = gql(&app, Some(&guest.token), BOOK, vars.clone()).await;
    let booking = &first["data"]["createBooking"];
    assert_eq!(booking["status"], "requested", "{first}");
    assert_eq!(booking["listing"]["id"], json!(listing));
    let id = booking["id"].as_str().expect("id").to_owned();
    let ledger_rest = ledger(&guest, &id).await;
    let ledger_gql: Vec<(String, String, i64)> = booking["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .map(|p| {
            (
                p["operation"].as_str().unwrap_or_default().to_owned(),
                p["status"].as_str().unwrap_or_default().to_owned(),
                p["amountMinor"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(ledger_gql, ledger_rest);

    // The same key again, over GraphQL and over REST with the same body: the same booking,
    // nothing new.
    let again = gql(&app, Some(&guest.token), BOOK, vars).await;
    assert_eq!(again["data"]["createBooking"]["id"], json!(id), "{again}");
    let rest = guest
        .book_raw(&stay(&listing, 30, 33, CARD_OK), Some("gql-key-1"))
        .await;
    assert_eq!(rest.status(), StatusCode::CREATED);
    assert_eq!(rest.headers()["idempotent-replayed"], "true");
    let rest: Value = rest.json().await.expect("json");
    assert_eq!(rest["id"], json!(id));
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 1);
    // The key with another request is refused as REST refuses it.
    let other = json!({ "input": booking_input(&listing, 40, 41), "key": "gql-key-1" });
    let body = gql(&app, Some(&guest.token), BOOK, other).await;
    assert_eq!(code(&body), "idempotency_key_reused");

    // The trips screen and the booking read through GraphQL are REST's.
    let trips = gql(
        &app,
        Some(&guest.token),
        "{ bookings(role: \"guest\") { edges { node { id status listing { title } } } } }",
        json!({}),
    )
    .await;
    let (_, rest_list) = guest.get_json("/v1/bookings?role=guest").await;
    let gql_ids: Vec<Value> = trips["data"]["bookings"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    let rest_ids: Vec<Value> = rest_list["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .map(|b| b["id"].clone())
        .collect();
    assert_eq!(gql_ids, rest_ids);

    // Someone else's booking does not exist for them (REST's 404 code).
    let stranger = app.guest().await;
    let q = "query($id: UUID!) { booking(id: $id) { id } }";
    let body = gql(&app, Some(&stranger.token), q, json!({ "id": id })).await;
    assert_eq!(code(&body), "booking_not_found");

    // The host accepts through GraphQL: the same effect as REST (captured, confirmed).
    let q =
        "mutation($id: UUID!) { acceptBooking(id: $id) { status payments { operation status } } }";
    let body = gql(&app, Some(&guest.token), q, json!({ "id": id })).await;
    assert_eq!(code(&body), "forbidden");
    let body = gql(&app, Some(&host.token), q, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["acceptBooking"]["status"], "confirmed",
        "{body}"
    );
    let (_, rest_booking) = guest.get_json(&format!("/v1/bookings/{id}")).await;
    assert_eq!(rest_booking["status"], "confirmed");
    assert_eq!(
        ledger(&guest, &id)
            .await
            .iter()
            .map(|(op, st, _)| (op.clone(), st.clone()))
            .collect::<Vec<_>>(),
        [
            ("authorize".to_owned(), "succeeded".to_owned()),
            ("capture".to_owned(), "succeeded".to_owned())
        ]
    );
}

async fn sixty_four_racing_create_bookings_give_one_booking(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guests: Vec<Actor> = join_all((0..8).map(|_| app.guest())).await;
    let vars = json!({ "input": booking_input(&listing, 20, 23) });
    let answers = join_all((0..64).map(|i| {
        let (vars, who) = (&vars, &guests[i % guests.len()]);
        async { gql(&app, Some(&who.token), BOOK, vars.clone()).await }
    }))
    .await;
    let booked = answers
        .iter()
        .filter(|a| a["data"]["createBooking"]["id"].is_string())
        .count();
    let taken = answers
        .iter()
        .filter(|a| a["errors"][0]["extensions"]["code"] == "dates_unavailable")
        .count();
    assert_eq!((booked, taken), (1, 63), "{answers:?}");
    assert_eq!(sql_count(&app, OVERLAPS).await, 0);
}

async fn queries_over_a_limit_are_refused_before_running(app: TestApp) {
    let (_, listing) = host_with_listing(&app, json!({})).await;
    let guest = app.guest().await;
    // Too deep: profile → reviews → author → reviews → …
    let mut deep = String::from("id");
    for _ in 0..6 {
        deep = format!(
            "displayName reviews(first: 1) {{ edges {{ node {{ author {{ {deep} }} }} }} }}"
        );
    }
    let q = format!("query($id: UUID!) {{ user(id: $id) {{ {deep} }} }}");
    let body = gql(&app, None, &q, json!({ "id": guest.id })).await;
    assert_eq!(code(&body), "query_too_deep", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["limit"], 10);
    assert!(body["data"].is_null());

    // Too complex: 100 listings × 100 reviews each.
    let q = "{ listings(first: 100) { edges { node { reviews(first: 100) { edges { node { id text } } } } } } }";
    let body = gql(&app, None, q, json!({})).await;
    assert_eq!(code(&body), "query_too_complex", "{body}");

    // An alias bomb of bookings: refused whole, nothing booked.
    let aliases: String = (0..31)
        .map(|i| format!("b{i}: createBooking(input: $input) {{ id }} "))
        .collect();
    let q = format!("mutation($input: BookingInput!) {{ {aliases} }}");
    let vars = json!({ "input": booking_input(&listing, 20, 21) });
    let body = gql(&app, Some(&guest.token), &q, vars).await;
    assert_eq!(code(&body), "too_many_aliases", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["found"], 31);
    // Aliases hidden in a fragment spread many times count too.
    let q = "query { ...a ...a ...a ...a } fragment a on Query { \
             a1: me { id } a2: me { id } a3: me { id } a4: me { id } a5: me { id } \
             a6: me { id } a7: me { id } a8: me { id } }";
    let body = gql(&app, Some(&guest.token), q, json!({})).await;
    assert_eq!(code(&body), "too_many_aliases", "{body}");

    // Oversized.
    let q = format!("{{ me {{ id }} }} # {}", "x".repeat(17 * 1024));
    let body = gql(&app, Some(&guest.token), &q, json!({})).await;
    assert_eq!(code(&body), "query_too_large");
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 0);

    // Mutations do not come by GET; queries do.
    let res = app
        .request(Method::GET, "/graphql")
        .query(&[("query", "mutation { becomeHost { id } }")])
        .bearer_auth(&guest.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let (_, me) = guest.get_json("/v1/me").await;
    assert_eq!(me["role"], "guest", "nothing changed");
    let res = app
        .request(Method::GET, "/graphql")
        .query(&[("query", "{ me { role } }")])
        .bearer_auth(&guest.token)
        .send()
        .await
        .expect("sent");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["me"]["role"], "guest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_is_bounded_and_can_be_switched_off() {
    let q = "{ __schema { queryType { name } } }";
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let body = gql(&app, None, q, json!({})).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    // Introspection is as deep as GraphiQL's (the `ofType` chain is 15 deep: no fan-out), but
    // introspection lists nested four times (types × fields × fields × fields) are refused.
    let of_type = (0..7).fold(String::from("name"), |inner, _| {
        format!("kind name ofType {{ {inner} }}")
    });
    let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {of_type} }} }} }} }} }}");
    let body = gql(&app, None, &deep, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(body["data"]["__schema"]["types"].is_array());
    let fan = "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }";
    let body = gql(&app, None, fan, json!({})).await;
    assert_eq!(code(&body), "query_too_deep", "{body}");
    assert!(body["data"].is_null());
    let Some(app) = TestApp::builder()
        .config(|c| c.graphql.introspection = false)
        .spawn(Backend::Sqlite)
        .await
    else {
        return;
    };
    let body = gql(&app, None, q, json!({})).await;
    assert_eq!(body["data"]["__schema"], Value::Null, "{body}");
}

/// A page of listings with their hosts and latest reviews costs the same SQL statements for
/// 2 listings as for 20: the hosts and the reviews are each one batched query. Counted on
/// PostgreSQL, where sqlx logs each statement in the request's own task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataloaders_keep_a_listing_page_to_a_fixed_number_of_statements() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let hosts: Vec<Actor> = join_all((0..4).map(|_| app.host())).await;
    for (i, host) in hosts.iter().cycle().take(20).enumerate() {
        host.create_listing(json!({ "nightly_price_minor": 10_000 + i as i64 }))
            .await;
    }
    let page = |first: u32| {
        format!(
            "{{ listings(filter: {{ city: \"Paris\" }}, first: {first}) {{ edges {{ node {{ title \
             ratingAvg host {{ displayName }} reviews(first: 3) {{ edges {{ node {{ text author {{ displayName }} }} }} }} }} }} }} }}"
        )
    };
    // A DataLoader batch takes the keys asked for within 1 ms of the first; on a loaded
    // machine a pass over 20 nodes can take longer and split one batch in two. So each page
    // is counted at its best of three: without the loaders, every try costs 20 more.
    let mut counts = Vec::new();
    for first in [2, 20] {
        let mut best = usize::MAX;
        for _ in 0..3 {
            let tag = format!("count-{}", uuid::Uuid::new_v4());
            let q = page(first);
            let (body, statements) = count_statements(&tag, async {
                let res = tagged(app.request(Method::POST, "/graphql"), &tag)
                    .json(&json!({ "query": q }))
                    .send()
                    .await
                    .expect("sent");
                res.json::<Value>().await.expect("json")
            })
            .await;
            let edges = body["data"]["listings"]["edges"].as_array().expect("edges");
            assert_eq!(edges.len(), first as usize, "{body}");
            assert!(edges
                .iter()
                .all(|e| e["node"]["host"]["displayName"].is_string()));
            best = best.min(statements);
        }
        counts.push(best);
    }
    assert!(counts[0] > 0, "statements were counted: {counts:?}");
    assert_eq!(counts[0], counts[1], "2 and 20 listings: {counts:?}");
    assert!(counts[1] <= 3, "search, hosts, reviews: {counts:?}");
}

/// `hearth graphql schema` prints the SDL the server serves; the snapshot keeps it reviewed.
#[test]
fn the_schema_is_a_reviewed_artefact() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["graphql", "schema"])
        .output()
        .expect("hearth runs");
    assert!(out.status.success());
    let sdl = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(sdl, hearth::graphql::sdl());
    insta::assert_snapshot!("graphql_schema", sdl);
}

crate::on_both_backends!(
    a_listing_page_is_one_query_with_the_same_data_as_rest,
    search_pages_like_rest_with_cursors,
    errors_carry_the_rest_problem_code_and_fields,
    queries_over_a_limit_are_refused_before_running,
);

mod bookings {
    use super::*;

    crate::for_each_backend!(
        bookings_match_rest_and_keys_replay_across_surfaces,
        sixty_four_racing_create_bookings_give_one_booking,
    );
}

/// Every GraphQL example in the README is valid against the schema: run as a signed-in host
/// (subscriptions over `/graphql/ws`), any error it gets comes from a resolver (with a `code`),
/// never from validation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_examples_are_valid_queries() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let (host, listing) = host_with_listing(&app, json!({})).await;
    let readme = include_str!("../../../README.md");
    let blocks: Vec<&str> = readme
        .split("```graphql\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(
        blocks.len() >= 4,
        "the README shows the three screens and subscriptions"
    );
    let vars = json!({ "id": listing, "from": day(1), "to": day(3) });
    let mut socket = GqlSocket::signed_in(&app, &host.token).await;
    for block in blocks {
        // A block may hold several operations: each is run by its name.
        let operations: Vec<(String, String)> = block
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| ["query", "mutation", "subscription"].contains(&w[0]))
            .map(|w| {
                let name = w[1].split(['(', '{']).next().unwrap_or_default();
                (w[0].to_owned(), name.to_owned())
            })
            .collect();
        assert!(
            !operations.is_empty(),
            "every example names its operations\n{block}"
        );
        for (kind, name) in operations {
            let body = json!({ "query": block, "variables": vars, "operationName": name });
            let errors = if kind == "subscription" {
                // A valid subscription runs (and says nothing yet); an invalid one is answered
                // with its errors at once.
                socket
                    .send(json!({ "type": "subscribe", "id": name, "payload": body }))
                    .await;
                socket.round_trip().await;
                match socket.hear_on(&name, Duration::from_millis(500)).await {
                    Heard::Nothing => Vec::new(),
                    Heard::Message(m) => m["payload"]["errors"]
                        .as_array()
                        .cloned()
                        .unwrap_or_else(|| vec![m]),
                    closed => panic!("README subscription {name}: {closed:?}"),
                }
            } else {
                let res = app
                    .request(Method::POST, "/graphql")
                    .bearer_auth(&host.token)
                    .json(&body)
                    .send()
                    .await
                    .expect("sent");
                let answer: Value = res.json().await.expect("json");
                answer["errors"].as_array().cloned().unwrap_or_default()
            };
            for error in errors {
                assert!(
                    error["extensions"]["code"].is_string(),
                    "README example {name} does not validate: {error}\n{block}"
                );
            }
        }
    }
}
