//! Notifications end to end through the bundled notifier plugins: an inbox message, an email at
//! a local SMTP sink, and a signed webhook at a local receiver; retries with backoff while the
//! receiver is down; only the recipient sees their inbox.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::sinks::{SmtpSink, WebhookReceiver};
use crate::helpers::{assert_problem, plugin, sql_count, wait_until, Actor, Backend, TestApp};

const SECRET: &str = "whsec_test_0123456789";

/// The three bundled notifiers: inbox for registrations and published listings, email and
/// webhook for registrations (the kernel hands them nothing else).
fn notifiers(webhook_url: &str) -> String {
    notifiers_granted(
        webhook_url,
        "[\"mail\"]",
        "[\"http\"]",
        &origin(webhook_url),
    )
}

/// The origin (`scheme://host:port`) of `url`, as an `http_allow` entry names it.
fn origin(url: &str) -> String {
    let parsed = url::Url::parse(url).expect("a URL");
    format!(
        "{}://{}:{}",
        parsed.scheme(),
        parsed.host_str().expect("a host"),
        parsed.port_or_known_default().expect("a port")
    )
}

/// The three bundled notifiers, the email one granted `email_grants` and the webhook one
/// `webhook_grants` with `allow` as its only `http_allow` origin (none when empty).
fn notifiers_granted(
    webhook_url: &str,
    email_grants: &str,
    webhook_grants: &str,
    allow: &str,
) -> String {
    let allow = if allow.is_empty() {
        String::new()
    } else {
        format!("\nhttp_allow = [\"{allow}\"]")
    };
    [
        plugin(
            "notify-inbox",
            "notifier",
            "hearth_plugin_notify_inbox",
            "",
            r#"kinds = ["user_registered", "listing_published"]"#,
        ),
        // These two are given only registrations by the kernel (`events`); the inbox above
        // filters for itself (its own `kinds` setting), so it is handed every event.
        plugin(
            "notify-email",
            "notifier",
            "hearth_plugin_notify_email",
            &format!("capabilities = {email_grants}\nevents = [\"user_registered\"]"),
            "",
        ),
        plugin(
            "notify-webhook",
            "notifier",
            "hearth_plugin_notify_webhook",
            &format!("capabilities = {webhook_grants}{allow}\nevents = [\"user_registered\"]"),
            &format!("url = \"{webhook_url}\""),
        ),
    ]
    .concat()
}

async fn spawn(
    backend: Backend,
    sink: &SmtpSink,
    receiver: &WebhookReceiver,
    tweak: impl FnOnce(&mut hearth::config::Config),
) -> Option<TestApp> {
    spawn_with(backend, sink, &notifiers(&receiver.url), tweak).await
}

/// An app with `plugins`, mailing through `sink` and signing webhooks with [`SECRET`].
async fn spawn_with(
    backend: Backend,
    sink: &SmtpSink,
    plugins: &str,
    tweak: impl FnOnce(&mut hearth::config::Config),
) -> Option<TestApp> {
    let port = sink.port;
    TestApp::builder()
        .plugins(plugins)
        .config(move |c| {
            c.mail.transport = hearth::config::MailTransportKind::Smtp;
            c.mail.smtp_port = port;
            c.mail.from = "Hearth <no-reply@hearth.test>".into();
            c.notifications.webhook_secret = Some(SecretString::from(SECRET));
            tweak(c);
        })
        .spawn(backend)
        .await
}

async fn inbox(app: &TestApp, actor: &Actor, query: &str) -> Value {
    let res = app
        .get(&format!("/v1/notifications{query}"), Some(&actor.token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

async fn a_new_user_gets_an_inbox_message_an_email_and_a_signed_webhook(backend: Backend) {
    let sink = SmtpSink::start().await;
    let receiver = WebhookReceiver::start(&[]).await;
    let Some(app) = spawn(backend, &sink, &receiver, |_| {}).await else {
        return;
    };
    let ada = app.actor("ada@example.com").await;

    assert!(
        wait_until(Duration::from_secs(15), || async {
            inbox(&app, &ada, "").await["items"]
                .as_array()
                .is_some_and(|i| i.len() == 1)
        })
        .await,
        "the inbox gets the welcome"
    );
    let page = inbox(&app, &ada, "").await;
    let message = &page["items"][0];
    assert_eq!(message["kind"], "user_registered");
    assert_eq!(message["subject"], "Welcome to Hearth");
    assert!(message["read_at"].is_null());
    let event_id = message["event_id"].as_str().expect("event id").to_owned();

    assert!(
        wait_until(Duration::from_secs(15), || async {
            !sink.messages().is_empty()
        })
        .await,
        "the SMTP sink gets the email"
    );
    let mail = &sink.messages()[0];
    assert_eq!(mail.to, ["ada@example.com"]);
    assert_eq!(mail.from, "no-reply@hearth.test");
    assert_eq!(mail.header("Subject").as_deref(), Some("Welcome to Hearth"));
    assert!(
        mail.data
            .contains("Welcome to Hearth! Your account is ready."),
        "{}",
        mail.data
    );

    assert!(
        wait_until(Duration::from_secs(15), || async {
            !receiver.hooks().is_empty()
        })
        .await,
        "the webhook receiver gets a request"
    );
    let hook = &receiver.hooks()[0];
    let header = |name: &str| {
        hook.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("hearth-event-id"), event_id);
    let signature = header("hearth-signature");
    let (t, v1) = signature
        .split_once(",v1=")
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v)))
        .unwrap_or_else(|| panic!("signature header `t=...,v1=...`: {signature}"));
    let t: i64 = t.parse().expect("unix seconds");
    assert!(
        (chrono::Utc::now().timestamp() - t).abs() < 60,
        "a fresh timestamp"
    );
    // Signed with this endpoint's own secret, not the master, nor another endpoint's.
    let signed_with = |key: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("key");
        mac.update(format!("{t}.{}", hook.body).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    let own = hearth::domain::notifications::endpoint_secret(SECRET.as_bytes(), &receiver.url);
    assert!(own.starts_with("whsec_") && own != SECRET);
    assert_eq!(v1, signed_with(&own), "HMAC-SHA256 over t.body");
    let elsewhere = hearth::domain::notifications::endpoint_secret(
        SECRET.as_bytes(),
        "https://hooks.example.com/other",
    );
    assert_ne!(own, elsewhere, "each endpoint has its own secret");
    assert_ne!(v1, signed_with(&elsewhere));
    assert_ne!(v1, signed_with(SECRET), "the master never signs");
    let body: Value = serde_json::from_str(&hook.body).expect("JSON body");
    assert_eq!(body["id"], event_id.as_str());
    assert_eq!(body["kind"], "user_registered");
    assert_eq!(body["data"]["account_id"], ada.id.as_str());
    assert_eq!(body["data"]["email"], "ada@example.com");

    // The kernel recorded each delivery. The email and the webhook go out in one job whose
    // attempts commit after both were sent, so the receiver can see its request first.
    let event: uuid::Uuid = event_id.parse().expect("uuid");
    let seen = || async {
        let deliveries = app
            .kernel
            .notifications
            .deliveries(event)
            .await
            .expect("deliveries");
        let mut seen: Vec<(String, String)> = deliveries
            .iter()
            .map(|d| (d.channel.clone(), d.state.clone()))
            .collect();
        seen.sort();
        seen
    };
    let expected = [
        ("email".to_owned(), "delivered".to_owned()),
        ("inbox".to_owned(), "delivered".to_owned()),
        ("webhook".to_owned(), "delivered".to_owned()),
    ];
    wait_until(Duration::from_secs(15), || async {
        seen().await == expected
    })
    .await;
    assert_eq!(seen().await, expected);
    // A notifier is handed only the kinds it declares: a new listing (`listing_created` and
    // `listing_published`) queues work for the inbox, which declares none, and nobody else.
    let host = app.host().await;
    host.create_listing(json!({})).await;
    let notify_jobs = |plugin: &str, kind: &str| {
        format!(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND payload LIKE '%\"plugin\":\"{plugin}\"%' \
             AND payload LIKE '%\"kind\":\"{kind}\"%'"
        )
    };
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(&app, &notify_jobs("notify-inbox", "listing_created")).await == 1
                && sql_count(&app, &notify_jobs("notify-inbox", "listing_published")).await == 1
        })
        .await,
        "the inbox is handed both listing events"
    );
    for plugin in ["notify-email", "notify-webhook"] {
        assert_eq!(sql_count(&app, &notify_jobs(plugin, "listing_%")).await, 0);
    }
}

async fn only_the_recipient_sees_and_reads_their_notifications(backend: Backend) {
    let sink = SmtpSink::start().await;
    let receiver = WebhookReceiver::start(&[]).await;
    let Some(app) = spawn(backend, &sink, &receiver, |_| {}).await else {
        return;
    };
    let ada = app.actor("ada@example.com").await;
    let bob = app.actor("bob@example.com").await;
    for who in [&ada, &bob] {
        assert!(
            wait_until(Duration::from_secs(15), || async {
                inbox(&app, who, "").await["items"]
                    .as_array()
                    .is_some_and(|i| i.len() == 1)
            })
            .await
        );
    }
    let ada_message = inbox(&app, &ada, "").await["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bob_items = inbox(&app, &bob, "").await;
    assert_ne!(
        bob_items["items"][0]["id"],
        ada_message.as_str(),
        "bob sees only his own"
    );

    let read = |who: &Actor, id: &str| {
        let path = format!("/v1/notifications/{id}/read");
        let token = who.token.clone();
        let app = &app;
        async move {
            app.send_json(Method::POST, &path, Some(&token), &json!({}))
                .await
        }
    };
    assert_problem(
        read(&bob, &ada_message).await,
        StatusCode::NOT_FOUND,
        "notification_not_found",
    )
    .await;
    let res = read(&ada, &ada_message).await;
    assert_eq!(res.status(), StatusCode::OK);
    let marked: Value = res.json().await.expect("json");
    assert!(marked["read_at"].is_string());
    assert_eq!(inbox(&app, &ada, "?unread=true").await["items"], json!([]));
    assert_eq!(
        inbox(&app, &bob, "?unread=true").await["items"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "bob's stays unread"
    );
    let res = app.get("/v1/notifications", None).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = app.get("/v1/notifications?limit=0", Some(&ada.token)).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // A published listing reaches its host's inbox; pages are newest first.
    let host = app.host().await;
    host.create_listing(json!({ "title": "Loft by the canal" }))
        .await;
    assert!(
        wait_until(Duration::from_secs(15), || async {
            inbox(&app, &host, "").await["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|m| m["kind"] == "listing_published"))
        })
        .await
    );
    let first = inbox(&app, &host, "?limit=1").await;
    assert_eq!(first["items"][0]["kind"], "listing_published");
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = inbox(&app, &host, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["kind"], "user_registered");
    assert!(second["next_cursor"].is_null() || second["items"].as_array().map(Vec::len) == Some(1));
}

async fn a_receiver_that_is_down_gets_retries_with_backoff(backend: Backend) {
    let sink = SmtpSink::start().await;
    let down = StatusCode::SERVICE_UNAVAILABLE;
    let receiver = WebhookReceiver::start(&[down, down, down]).await;
    let Some(app) = spawn(backend, &sink, &receiver, |c| {
        c.jobs.backoff_base_ms = std::num::NonZeroU64::new(200).expect("not zero");
    })
    .await
    else {
        return;
    };
    let started = std::time::Instant::now();
    // The request that caused the event does not wait for, or fail with, its notifiers.
    let res = app
        .register("carol@example.com", "correct horse battery")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(
        wait_until(Duration::from_secs(20), || async {
            receiver.hooks().len() >= 4
        })
        .await,
        "three refusals, then a success: {} requests",
        receiver.hooks().len()
    );
    let at: Vec<_> = receiver.hooks().iter().map(|h| h.at).collect();
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    // Backoff with jitter: attempt n waits within [base * 2^(n-1) / 2, base * 2^(n-1)].
    for (n, (gap, min_ms)) in gaps.iter().zip([100u64, 200, 400]).enumerate() {
        assert!(
            *gap >= Duration::from_millis(min_ms),
            "retry {} came after {gap:?}, sooner than its backoff of at least {min_ms} ms (gaps {gaps:?})",
            n + 1
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(
                &app,
                "SELECT COUNT(*) FROM deliveries WHERE channel = 'webhook' AND state = 'delivered' AND attempts = 4",
            )
            .await
                == 1
        })
        .await,
        "the delivery records four attempts"
    );
    assert_eq!(receiver.hooks().len(), 4, "no delivery after the success");
}

async fn a_receiver_that_never_answers_ends_in_a_dead_job_with_its_error(backend: Backend) {
    let sink = SmtpSink::start().await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let receiver = WebhookReceiver::start(&[]).await;
    let url = format!("http://127.0.0.1:{closed}/hook");
    let Some(app) = spawn_with(backend, &sink, &notifiers(&url), move |c| {
        c.jobs.max_attempts = std::num::NonZeroU32::new(3).expect("not zero");
    })
    .await
    else {
        return;
    };
    drop(receiver);
    let res = app
        .register("dave@example.com", "correct horse battery")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin = app.admin().await;
    let daves_failed = "SELECT COUNT(*) FROM deliveries WHERE channel = 'webhook' \
        AND state = 'failed' AND attempts = 3 AND body LIKE '%dave@example.com%'";
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(&app, daves_failed).await == 1
        })
        .await,
        "the delivery is given up after 3 attempts"
    );
    // The delivery is marked failed by the job; the runner dead-letters the job just after.
    let dead = dead_deliver_job_soon(&app, &admin.token).await;
    assert_eq!(dead["attempts"], 3);
    assert!(
        dead["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot reach the receiver")),
        "{dead}"
    );
    // The other channels were not held back by the failing one.
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sink.messages().iter().any(|m| m.to == ["dave@example.com"])
        })
        .await,
        "the email was delivered"
    );
}

async fn a_webhook_to_the_kernels_own_network_is_refused_at_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let receiver = WebhookReceiver::start(&[]).await;
    // A name that resolves to loopback, under the shipped rule (nothing private).
    let url = receiver.url.replace("127.0.0.1", "localhost");
    let Some(app) = spawn_with(backend, &sink, &notifiers(&url), move |c| {
        c.outbound.allow_private = Vec::new();
    })
    .await
    else {
        return;
    };
    let res = app
        .register("erin@example.com", "correct horse battery")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin = app.admin().await;
    let dead = dead_deliver_job_soon(&app, &admin.token).await;
    assert_eq!(dead["attempts"], 1, "a refusal is not retried: {dead}");
    let error = dead["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("`localhost` is ") && error.contains("a loopback address"),
        "{dead}"
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'webhook' AND state = 'failed' \
             AND attempts = 1 AND body LIKE '%erin@example.com%'"
        )
        .await,
        1
    );
    assert!(receiver.hooks().is_empty(), "nothing reached the receiver");
}

async fn notifiers_without_grants_deliver_nothing_but_the_inbox(backend: Backend) {
    let sink = SmtpSink::start().await;
    let receiver = WebhookReceiver::start(&[]).await;
    // The email notifier lacks `mail`, the webhook one `http`; a second webhook notifier has
    // `http` but its allowlist names another port of the same host.
    let other_port = "http://127.0.0.1:1";
    let plugins = notifiers_granted(&receiver.url, "[]", "[]", "")
        + &plugin(
            "notify-webhook-elsewhere",
            "notifier",
            "hearth_plugin_notify_webhook",
            &format!("capabilities = [\"http\"]\nhttp_allow = [\"{other_port}\"]"),
            &format!("url = \"{}\"\nkinds = [\"user_registered\"]", receiver.url),
        );
    let Some(app) = spawn_with(backend, &sink, &plugins, |_| {}).await else {
        return;
    };
    let res = app
        .register("fred@example.com", "correct horse battery")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let fred = "body LIKE '%fred@example.com%' OR target = 'fred@example.com'";
    let failed = |channel: &str, error: &str| {
        format!(
            "SELECT COUNT(*) FROM deliveries WHERE channel = '{channel}' AND state = 'failed' \
             AND attempts = 0 AND last_error LIKE '{error}%' AND ({fred})"
        )
    };
    let (email, webhook, elsewhere) = (
        failed(
            "email",
            "capability_not_granted: notifier `notify-email` needs the `mail`",
        ),
        failed(
            "webhook",
            "capability_not_granted: notifier `notify-webhook` needs the `http`",
        ),
        failed("webhook", "target_not_allowed: `http://127.0.0.1:"),
    );
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(&app, &email).await == 1
                && sql_count(&app, &webhook).await == 1
                && sql_count(&app, &elsewhere).await == 1
        })
        .await,
        "each refused delivery is recorded with its reason"
    );
    // The inbox needs no grant and still works.
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(
                &app,
                "SELECT COUNT(*) FROM deliveries WHERE channel = 'inbox' AND state = 'delivered'",
            )
            .await
                >= 1
        })
        .await
    );
    // Nothing was sent, and no job will send it later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.messages().is_empty(), "no email");
    assert!(receiver.hooks().is_empty(), "no webhook");
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'deliver'").await,
        0
    );
}

/// A `listing_published` event for `recipient`, poisoned or not, as a test commits it.
#[derive(serde::Serialize)]
struct Published {
    recipient_id: String,
    poison: bool,
}

impl hearth::bus::DomainEvent for Published {
    fn kind(&self) -> &str {
        "listing_published"
    }
}

async fn a_notifier_gets_events_committed_together_in_one_job_and_a_failing_one_alone(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let plugins = plugin(
        "notify-poison",
        "notifier",
        "hearth_test_guest_notify_poison",
        "events = [\"listing_published\"]",
        "",
    );
    let Some(app) = spawn_with(backend, &sink, &plugins, |c| {
        c.jobs.max_attempts = std::num::NonZeroU32::new(2).expect("not zero");
        c.jobs.backoff_base_ms = std::num::NonZeroU64::new(50).expect("not zero");
    })
    .await
    else {
        return;
    };
    let people = [
        app.actor("ann@example.com").await,
        app.actor("bob@example.com").await,
        app.actor("cy@example.com").await,
        app.actor("dee@example.com").await,
    ];
    // Four events in one transaction, the third poisoned.
    let mut tx = app.kernel.db.begin().await.expect("begin");
    for (n, who) in people.iter().enumerate() {
        let event = Published {
            recipient_id: who.id.clone(),
            poison: n == 2,
        };
        hearth::bus::record(tx.exec(), &event)
            .await
            .expect("record");
    }
    tx.commit().await.expect("commit");

    let dead = "SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND state = 'dead' \
        AND attempts = 2 AND last_error LIKE 'plugin `notify-poison` failed%' \
        AND payload LIKE '%\"poison\":true%'";
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(&app, dead).await == 1
        })
        .await,
        "the poisoned event's own job is retried, then dead-lettered with the plugin's error: {}",
        app.get("/v1/admin/jobs", Some(&app.admin().await.token))
            .await
            .text()
            .await
            .unwrap_or_default()
    );
    for (n, who) in people.iter().enumerate() {
        let messages = inbox(&app, who, "").await["items"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(messages, usize::from(n != 2), "person {n}");
    }
    // One job for the four events, which succeeded, and the poisoned one's own.
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'notify'").await,
        2
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND state = 'succeeded'"
        )
        .await,
        1
    );
}

/// Two events committed together make two webhooks, sent by one `deliver` job. The receiver
/// refuses the first; the job is retried and sends only that one again.
async fn webhooks_chosen_together_share_a_job_and_a_retry_resends_only_the_failed(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let receiver = WebhookReceiver::start(&[StatusCode::SERVICE_UNAVAILABLE]).await;
    let plugins = plugin(
        "notify-webhook",
        "notifier",
        "hearth_plugin_notify_webhook",
        &format!(
            "capabilities = [\"http\"]\nhttp_allow = [\"{}\"]\nevents = [\"listing_published\"]",
            origin(&receiver.url)
        ),
        &format!("url = \"{}\"", receiver.url),
    );
    let Some(app) = spawn_with(backend, &sink, &plugins, |c| {
        c.jobs.backoff_base_ms = std::num::NonZeroU64::new(50).expect("not zero");
    })
    .await
    else {
        return;
    };
    let people = [
        app.actor("eve@example.com").await,
        app.actor("fay@example.com").await,
    ];
    let mut tx = app.kernel.db.begin().await.expect("begin");
    for who in &people {
        let event = Published {
            recipient_id: who.id.clone(),
            poison: false,
        };
        hearth::bus::record(tx.exec(), &event)
            .await
            .expect("record");
    }
    tx.commit().await.expect("commit");

    let done = "SELECT COUNT(*) FROM jobs WHERE kind = 'deliver' AND state = 'succeeded'";
    assert!(
        wait_until(Duration::from_secs(15), || async {
            sql_count(&app, done).await == 1
        })
        .await,
        "the deliver job succeeds after its retry: {} webhooks",
        receiver.hooks().len()
    );
    let ids: Vec<String> = receiver
        .hooks()
        .iter()
        .map(|h| {
            h.headers["hearth-delivery-id"]
                .to_str()
                .expect("text")
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids.len(),
        3,
        "two sends, then the refused one again: {ids:?}"
    );
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids[2], ids[0], "only the refused webhook is sent again");
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'deliver'").await,
        1,
        "one job for both webhooks"
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'deliver' AND attempts = 2"
        )
        .await,
        1
    );
    let attempts = |n: i64| {
        format!(
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'webhook' \
             AND state = 'delivered' AND attempts = {n}"
        )
    };
    assert_eq!(sql_count(&app, &attempts(1)).await, 1);
    assert_eq!(sql_count(&app, &attempts(2)).await, 1);
}

/// The dead-lettered `deliver` job, once the admin's jobs overview lists it (the job marks its
/// delivery failed, and the runner dead-letters the job just after).
async fn dead_deliver_job_soon(app: &TestApp, token: &str) -> Value {
    assert!(
        wait_until(Duration::from_secs(15), || async {
            dead_deliver_job(app, token).await.is_some()
        })
        .await,
        "the dead deliver job is listed"
    );
    dead_deliver_job(app, token)
        .await
        .expect("a dead job stays dead")
}

/// The dead-lettered `deliver` job in the admin's jobs overview, if there is one yet.
async fn dead_deliver_job(app: &TestApp, token: &str) -> Option<Value> {
    let res = app.get("/v1/admin/jobs", Some(token)).await;
    let body: Value = res.json().await.expect("json");
    body["dead"]
        .as_array()
        .and_then(|d| d.iter().find(|j| j["kind"] == "deliver"))
        .cloned()
}

crate::for_each_backend!(
    a_new_user_gets_an_inbox_message_an_email_and_a_signed_webhook,
    only_the_recipient_sees_and_reads_their_notifications,
    a_receiver_that_is_down_gets_retries_with_backoff,
    a_receiver_that_never_answers_ends_in_a_dead_job_with_its_error,
    a_webhook_to_the_kernels_own_network_is_refused_at_once,
    notifiers_without_grants_deliver_nothing_but_the_inbox,
    a_notifier_gets_events_committed_together_in_one_job_and_a_failing_one_alone,
    webhooks_chosen_together_share_a_job_and_a_retry_resends_only_the_failed,
);
