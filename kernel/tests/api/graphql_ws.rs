//! GraphQL subscriptions over `/graphql/ws` (`graphql-transport-ws`): a booking's status
//! changes and inbox messages reach the people they concern, on whichever node they are
//! connected to (two kernels on PostgreSQL + Redis), and nobody else; the connection is signed
//! in by `connection_init` and bounded (operations per connection, cost limits, session end).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::ws::{GqlSocket, Heard};
use crate::helpers::{assert_problem, plugin, Actor, Backend, Stores, TestApp};

const BOOKING_CHANGED: &str = "subscription($id: UUID) { bookingChanged(id: $id) { bookingId event status booking { id status } } }";
const NOTIFICATION_ADDED: &str = "subscription { notificationAdded { id kind subject } }";

/// How long an event may take from commit to a subscriber.
const ARRIVES: Duration = Duration::from_secs(20);
/// How long we listen for something that must not come.
const QUIET: Duration = Duration::from_millis(1500);

/// The inbox notifier, for published listings only.
fn inbox() -> String {
    plugin(
        "notify-inbox",
        "notifier",
        "hearth_plugin_notify_inbox",
        "",
        r#"kinds = ["listing_published"]"#,
    )
}

/// Waits until every socket's server has read what was sent so far and started the
/// operations (a started subscription watches from then on).
async fn settled(sockets: &mut [&mut GqlSocket]) {
    for socket in sockets.iter_mut() {
        socket.round_trip().await;
    }
    // The operation starts when the protocol next polls it, right after the pong.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// The `next` payload's data for operation `id`, which must arrive.
async fn next_data(socket: &mut GqlSocket, id: &str) -> Value {
    match socket.hear_on(id, ARRIVES).await {
        Heard::Message(m) if m["type"] == "next" => m["payload"].clone(),
        other => panic!("expected a `next` for {id}, heard {other:?}"),
    }
}

/// A guest subscribed on `watched` sees their booking confirmed when the host accepts through
/// `acted` (the same node, or another one); the host sees it too; a stranger watching all
/// their own bookings, or this booking by id, sees nothing.
async fn the_guest_and_host_see_an_accept_and_a_stranger_does_not(
    watched: &TestApp,
    acted: &TestApp,
) {
    let (host, listing) = host_with_listing(watched, json!({})).await;
    let guest = watched.guest().await;
    let stranger = watched.guest().await;
    let booking = guest.book(&stay(&listing, 30, 33, CARD_OK)).await;
    assert_eq!(booking["status"], "requested");
    let id = id_of(&booking);

    let mut theirs = GqlSocket::signed_in(watched, &guest.token).await;
    let mut hosts = GqlSocket::signed_in(acted, &host.token).await;
    let mut spy = GqlSocket::signed_in(watched, &stranger.token).await;
    theirs.subscribe("b", BOOKING_CHANGED, json!({})).await;
    hosts
        .subscribe("b", BOOKING_CHANGED, json!({ "id": id }))
        .await;
    spy.subscribe("all", BOOKING_CHANGED, json!({})).await;
    spy.subscribe("that", BOOKING_CHANGED, json!({ "id": id }))
        .await;
    settled(&mut [&mut theirs, &mut hosts, &mut spy]).await;

    let res = acted
        .request(Method::POST, &format!("/v1/bookings/{id}/accept"))
        .bearer_auth(&host.token)
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), StatusCode::OK);

    for (who, socket) in [("guest", &mut theirs), ("host", &mut hosts)] {
        let change = next_data(socket, "b").await["data"]["bookingChanged"].clone();
        assert_eq!(
            change,
            json!({
                "bookingId": id,
                "event": "booking_confirmed",
                "status": "confirmed",
                "booking": { "id": id, "status": "confirmed" }
            }),
            "{who}"
        );
    }
    assert_eq!(
        spy.hear(QUIET).await,
        Heard::Nothing,
        "the stranger sees nothing"
    );
}

async fn an_accept_reaches_subscribers_on_the_same_node(backend: Backend) {
    let Some(app) = with_payments("").spawn(backend).await else {
        return;
    };
    the_guest_and_host_see_an_accept_and_a_stranger_does_not(&app, &app).await;
}

/// Two kernels on one PostgreSQL and one Redis: the guest is connected to node one, the host
/// accepts through node two (and watches there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_accept_on_one_node_reaches_a_subscriber_on_another() {
    let Some(stores) = Stores::fresh(Backend::Postgres).await else {
        return;
    };
    let one = with_payments("").spawn_on(stores.clone()).await;
    let two = with_payments("").spawn_on(stores).await;
    the_guest_and_host_see_an_accept_and_a_stranger_does_not(&one, &two).await;
}

/// A host watching their inbox sees the message their published listing put there, the same
/// one REST lists; another host watching theirs sees nothing.
async fn inbox_messages_arrive_for_their_owner_only(backend: Backend) {
    let Some(app) = TestApp::builder().plugins(&inbox()).spawn(backend).await else {
        return;
    };
    let host = app.host().await;
    let other = app.host().await;
    let mut mine = GqlSocket::signed_in(&app, &host.token).await;
    let mut theirs = GqlSocket::signed_in(&app, &other.token).await;
    mine.subscribe("n", NOTIFICATION_ADDED, json!({})).await;
    theirs.subscribe("n", NOTIFICATION_ADDED, json!({})).await;
    settled(&mut [&mut mine, &mut theirs]).await;

    host.create_listing(json!({})).await;
    let added = next_data(&mut mine, "n").await["data"]["notificationAdded"].clone();
    assert_eq!(added["kind"], "listing_published", "{added}");
    assert_eq!(added["subject"], "Your listing is live");
    let (_, inbox) = host.get_json("/v1/notifications").await;
    assert_eq!(
        inbox["items"][0]["id"], added["id"],
        "the message REST lists"
    );
    assert_eq!(theirs.hear(QUIET).await, Heard::Nothing);
}

/// The connection must be signed in by its first message, with a live session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_connection_is_signed_in_by_connection_init_or_closed() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    // Not a WebSocket handshake: a problem naming what is needed.
    assert_problem(
        app.get("/graphql/ws", None).await,
        StatusCode::BAD_REQUEST,
        "websocket_required",
    )
    .await;

    let closed_with = |code: u16| {
        move |heard: Heard| match heard {
            Heard::Closed(c, reason) if c == code => reason,
            other => panic!("expected close {code}, heard {other:?}"),
        }
    };
    // A subscription sent over HTTP: pointed to the socket.
    let over_http = app
        .request(Method::POST, "/graphql")
        .json(&json!({ "query": NOTIFICATION_ADDED }))
        .send()
        .await
        .expect("request sent");
    assert_problem(over_http, StatusCode::BAD_REQUEST, "subscription_over_http").await;

    // An operation before `connection_init`.
    let mut socket = GqlSocket::open(&app).await;
    socket.subscribe("1", NOTIFICATION_ADDED, json!({})).await;
    closed_with(4401)(socket.hear(ARRIVES).await);
    // No token, then a token that is no session.
    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer not-a-session" }),
    ] {
        let mut socket = GqlSocket::open(&app).await;
        socket
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let reason = closed_with(4403)(socket.hear(ARRIVES).await);
        assert!(reason.starts_with("Forbidden"), "{reason}");
    }
    // Silence: closed once the initialisation time is up.
    let mut socket = GqlSocket::open(&app).await;
    closed_with(4408)(socket.hear(Duration::from_secs(15)).await);
}

/// At most `graphql.max_subscriptions` operations run at once on a connection; an id already
/// running closes it; the cost limits apply to subscriptions as to queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_connection_runs_a_bounded_number_of_operations() {
    let Some(app) = TestApp::builder()
        .config(|c| {
            c.graphql.max_subscriptions = std::num::NonZeroUsize::new(2).expect("not zero");
            c.graphql.max_depth = std::num::NonZeroUsize::new(3).expect("not zero");
        })
        .spawn(Backend::Sqlite)
        .await
    else {
        return;
    };
    let guest = app.guest().await;
    let mut socket = GqlSocket::signed_in(&app, &guest.token).await;
    socket.subscribe("a", NOTIFICATION_ADDED, json!({})).await;
    socket.subscribe("b", NOTIFICATION_ADDED, json!({})).await;
    socket.subscribe("c", NOTIFICATION_ADDED, json!({})).await;
    let refused = match socket.hear_on("c", ARRIVES).await {
        Heard::Message(m) if m["type"] == "error" => m,
        other => panic!("expected an error for c, heard {other:?}"),
    };
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "too_many_subscriptions"
    );
    // Completing one leaves room for another.
    socket.send(json!({ "type": "complete", "id": "a" })).await;
    socket.subscribe("d", NOTIFICATION_ADDED, json!({})).await;
    socket.round_trip().await;
    assert_eq!(socket.hear_on("d", QUIET).await, Heard::Nothing, "d runs");

    // Too deep for `graphql.max_depth = 3`: refused before it runs, naming the limit; it
    // ends, so it does not hold a place.
    let deep = "subscription { bookingChanged { booking { listing { id } } } }";
    socket.send(json!({ "type": "complete", "id": "b" })).await;
    socket.subscribe("deep", deep, json!({})).await;
    match socket.hear_on("deep", ARRIVES).await {
        Heard::Message(m) => {
            let code = m["payload"]["errors"][0]["extensions"]["code"].clone();
            assert_eq!(code, "query_too_deep", "{m}");
        }
        other => panic!("expected the refusal, heard {other:?}"),
    }
    assert_eq!(
        socket.hear_on("deep", ARRIVES).await,
        Heard::Message(json!({ "type": "complete", "id": "deep" }))
    );
    socket.subscribe("e", NOTIFICATION_ADDED, json!({})).await;
    socket.round_trip().await;
    assert_eq!(socket.hear_on("e", QUIET).await, Heard::Nothing, "e runs");

    // `d` is running: starting it again closes the connection, as the protocol says.
    socket.subscribe("d", NOTIFICATION_ADDED, json!({})).await;
    match socket.hear(ARRIVES).await {
        Heard::Closed(4409, reason) => assert_eq!(reason, "Subscriber for d already exists"),
        other => panic!("expected close 4409, heard {other:?}"),
    }
}

/// A subscription ends with its session: after logout, the next update is an `invalid_token`
/// error instead, and the operation completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_subscription_ends_with_its_session() {
    let Some(app) = TestApp::builder()
        .plugins(&inbox())
        .spawn(Backend::Sqlite)
        .await
    else {
        return;
    };
    let email = format!("host-{}@example.com", uuid::Uuid::new_v4().simple());
    let host = app.actor(&email).await;
    let res = host.post_json("/v1/me/host", &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Actor = app.actor_logged_in(&email, "correct horse battery").await;
    let mut socket = GqlSocket::signed_in(&app, &host.token).await;
    socket.subscribe("n", NOTIFICATION_ADDED, json!({})).await;
    settled(&mut [&mut socket]).await;

    assert_eq!(
        app.logout(&host.token).await.status(),
        StatusCode::NO_CONTENT
    );
    second.create_listing(json!({})).await;
    let ended = next_data(&mut socket, "n").await;
    assert_eq!(
        ended["errors"][0]["extensions"]["code"], "invalid_token",
        "{ended}"
    );
    assert_eq!(ended["data"], Value::Null, "no message shown: {ended}");
    assert_eq!(
        socket.hear_on("n", ARRIVES).await,
        Heard::Message(json!({ "type": "complete", "id": "n" }))
    );
}

crate::for_each_backend!(
    an_accept_reaches_subscribers_on_the_same_node,
    inbox_messages_arrive_for_their_owner_only,
);
