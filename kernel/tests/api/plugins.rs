//! The plugin host through the operator's path: `[[plugins]]` in the configuration file, real
//! `.wasm` components from `plugins/dist` and the test guests from `plugins/testing/dist` (both
//! built by `scripts/build-plugins`), loaded by the kernel's loader, called through the kind
//! adapters, managed through the admin API.

use std::time::Duration;

use chrono::NaiveDate;
use hearth::model::Currency;
use hearth::plugins::kinds::pricing::{self, LineItem, Stay};
use hearth::plugins::kinds::Money;
use hearth::plugins::PluginCallError;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_problem, plugin, sql_count, wait_until, Backend, Stores, TestApp};
use crate::sinks::SmtpSink;

fn eur() -> Currency {
    Currency::parse("EUR").expect("ISO 4217")
}

fn stay(nights: i64) -> Stay {
    let check_in = NaiveDate::from_ymd_opt(2026, 7, 1).expect("date");
    Stay {
        listing_id: "0190c000-0000-7000-8000-000000000001".into(),
        check_in,
        check_out: check_in + chrono::Duration::days(nights),
        guests: 2,
        country: "FR".into(),
        city: "Paris".into(),
        currency: eur(),
    }
}

fn nightly(stay: &Stay, minor: i64) -> Vec<LineItem> {
    (0..stay.nights())
        .map(|_| LineItem {
            code: "nightly".into(),
            description: "Night".into(),
            amount: Money {
                minor,
                currency: eur(),
            },
            night: None,
            source: "kernel".into(),
        })
        .collect()
}

async fn chain(
    app: &TestApp,
    stay: &Stay,
    base: Vec<LineItem>,
) -> Result<pricing::Priced, PluginCallError> {
    pricing::run_chain(&app.kernel.plugins.current(), stay, base).await
}

fn amount(items: &[LineItem], code: &str) -> Option<i64> {
    items
        .iter()
        .find(|i| i.code == code)
        .map(|i| i.amount.minor)
}

fn fees(cleaning_order: i32, service_order: i32, percent_bp: i64) -> String {
    plugin(
        "cleaning-fee",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        &format!("order = {cleaning_order}"),
        "amount_minor = 5000",
    ) + &plugin(
        "service-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        &format!("order = {service_order}"),
        &format!("percent_bp = {percent_bp}"),
    )
}

async fn reload(app: &TestApp, admin: &str) -> reqwest::Response {
    app.request(Method::POST, "/v1/admin/plugins/reload")
        .bearer_auth(admin)
        .send()
        .await
        .expect("sent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_runs_in_order_and_a_reload_reorders_and_reconfigures_it() {
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &fees(10, 20, 1400)).await else {
        return;
    };
    let admin = app.admin().await;
    let s = stay(3);

    // Cleaning first: the service fee is 14% of 3 x 100.00 + 50.00 = 49.00.
    let priced = chain(&app, &s, nightly(&s, 10_000)).await.expect("priced");
    assert_eq!(amount(&priced.items, "cleaning-fee"), Some(5_000));
    assert_eq!(amount(&priced.items, "service-fee"), Some(4_900));
    let sources: Vec<&str> = priced.items.iter().map(|i| i.source.as_str()).collect();
    assert_eq!(
        sources,
        ["kernel", "kernel", "kernel", "cleaning-fee", "service-fee"]
    );

    // Service fee moved before cleaning, and to 10%: 10% of 300.00 = 30.00.
    std::fs::write(
        app.stores.config_path(),
        app.stores.config_text(&fees(10, 5, 1000)),
    )
    .expect("rewrite");
    let res = reload(&app, &admin.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    let ids: Vec<&str> = body["plugins"]
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["service-fee", "cleaning-fee"]);
    let priced = chain(&app, &s, nightly(&s, 10_000)).await.expect("priced");
    assert_eq!(amount(&priced.items, "service-fee"), Some(3_000));
    assert_eq!(
        priced.items.last().map(|i| i.code.as_str()),
        Some("cleaning-fee")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reload_changes_nothing_and_names_the_problem() {
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &fees(10, 20, 1400)).await else {
        return;
    };
    let admin = app.admin().await;
    let broken = fees(10, 20, 1400).replace("percent_bp = 1400", "percent_bp = 20000")
        + &plugin("ghost", "pricing", "no_such_component", "", "");
    std::fs::write(app.stores.config_path(), app.stores.config_text(&broken)).expect("rewrite");
    let problem = assert_problem(
        reload(&app, &admin.token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reload_failed",
    )
    .await;
    let errors = problem["errors"].as_array().expect("errors");
    let find = |field: &str| {
        errors
            .iter()
            .find(|e| e["field"] == field)
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
    };
    let fee = find("plugins.service-fee").expect("service-fee named");
    assert!(fee.contains("plugins.config.percent_bp"), "{fee}");
    assert!(find("plugins.ghost")
        .expect("ghost named")
        .contains("not found"));
    // The old set is still serving.
    let s = stay(3);
    let priced = chain(&app, &s, nightly(&s, 10_000)).await.expect("priced");
    assert_eq!(amount(&priced.items, "service-fee"), Some(4_900));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_see_every_plugin_with_its_pin_contract_limits_and_counters() {
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &fees(10, 20, 1400)).await else {
        return;
    };
    let s = stay(2);
    chain(&app, &s, nightly(&s, 10_000)).await.expect("priced");
    let guest = app.guest().await;
    assert_problem(
        app.get("/v1/admin/plugins", Some(&guest.token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let admin = app.admin().await;
    let list: Value = app
        .get("/v1/admin/plugins", Some(&admin.token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["plugins"].as_array().expect("list").len(), 2);
    let one: Value = app
        .get("/v1/admin/plugins/service-fee", Some(&admin.token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["kind"], "pricing");
    assert_eq!(one["contract_version"], "0.1.0");
    assert_eq!(one["sha256"].as_str().expect("sha").len(), 64);
    assert_eq!(one["limits"]["fuel"], 11_000_000);
    assert_eq!(one["limits"]["memory_mib"], 16);
    assert_eq!(one["stats"]["calls"], 1);
    assert_eq!(one["stats"]["errors"]["trap"], 0);
    assert!(one["stats"]["fuel"].as_u64().expect("fuel") > 0);
    assert_problem(
        app.get("/v1/admin/plugins/nope", Some(&admin.token)).await,
        StatusCode::NOT_FOUND,
        "plugin_not_found",
    )
    .await;
}

/// Each misbehaving guest is contained: a typed error for that call, counted, and the kernel
/// and the next call carry on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_guests_fail_only_their_own_call_with_a_typed_error() {
    let guests = plugin(
        "loop",
        "pricing",
        "hearth_test_guest_loop",
        "order = 1\non_error = \"fail-open\"",
        "",
    ) + &plugin(
        "slow-loop",
        "pricing",
        "hearth_test_guest_loop",
        "order = 2\non_error = \"fail-open\"\nlimits = { fuel = 100000000000, timeout_ms = 100 }",
        "",
    ) + &plugin(
        "memory-hog",
        "pricing",
        "hearth_test_guest_memory_hog",
        "order = 3\non_error = \"fail-open\"",
        "",
    ) + &plugin(
        "panic",
        "pricing",
        "hearth_test_guest_panic",
        "order = 4\non_error = \"fail-open\"",
        "",
    ) + &plugin(
        "recursion",
        "pricing",
        "hearth_test_guest_recursion",
        "order = 5\non_error = \"fail-open\"",
        "",
    ) + &plugin(
        "huge-output",
        "pricing",
        "hearth_test_guest_huge_output",
        "order = 6\non_error = \"fail-open\"",
        "",
    ) + &plugin(
        "cleaning-fee",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 7",
        "amount_minor = 5000",
    );
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &guests).await else {
        return;
    };
    let s = stay(2);
    for round in 0..2 {
        let priced = chain(&app, &s, nightly(&s, 10_000))
            .await
            .expect("fail-open guests are skipped");
        assert_eq!(
            amount(&priced.items, "cleaning-fee"),
            Some(5_000),
            "round {round}: the good plugin still ran"
        );
        let kinds: Vec<(String, &str)> = priced
            .skipped
            .iter()
            .map(|e| (e.to_string(), e.kind()))
            .collect();
        let kind_of = |id: &str| {
            kinds
                .iter()
                .find(|(m, _)| m.contains(&format!("`{id}`")))
                .map(|(_, k)| *k)
        };
        assert_eq!(kind_of("loop"), Some("fuel"), "{kinds:?}");
        assert_eq!(kind_of("slow-loop"), Some("timeout"), "{kinds:?}");
        assert_eq!(kind_of("memory-hog"), Some("memory"), "{kinds:?}");
        assert_eq!(kind_of("panic"), Some("trap"), "{kinds:?}");
        assert_eq!(kind_of("recursion"), Some("trap"), "{kinds:?}");
        assert_eq!(kind_of("huge-output"), Some("output"), "{kinds:?}");
        let panic = kinds
            .iter()
            .find(|(m, _)| m.contains("`panic`"))
            .map(|(m, _)| m.clone())
            .unwrap_or_default();
        assert!(
            panic.contains("boom: this guest panics on purpose"),
            "the guest's panic message is kept: {panic}"
        );
        assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    }
    let admin = app.admin().await;
    let hog: Value = app
        .get("/v1/admin/plugins/memory-hog", Some(&admin.token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(hog["stats"]["calls"], 2);
    assert_eq!(hog["stats"]["errors"]["memory"], 2);
    let metrics = app.get("/metrics", None).await.text().await.expect("text");
    assert!(
        metrics.contains("hearth_plugin_calls_total{plugin=\"slow-loop\",outcome=\"timeout\"} 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fail_closed_plugin_failure_fails_the_chain() {
    let plugins = plugin(
        "panic",
        "pricing",
        "hearth_test_guest_panic",
        "order = 1",
        "",
    ) + &plugin(
        "cleaning-fee",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 2",
        "amount_minor = 5000",
    );
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &plugins).await else {
        return;
    };
    let s = stay(2);
    let err = chain(&app, &s, nightly(&s, 10_000))
        .await
        .expect_err("fail-closed");
    assert_eq!(err.kind(), "trap");
    assert!(err.to_string().contains("`panic`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_requests_are_served_while_looping_plugins_are_cut_off() {
    let plugins = plugin(
        "slow-loop",
        "pricing",
        "hearth_test_guest_loop",
        "limits = { fuel = 100000000000, timeout_ms = 3000 }",
        "",
    );
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &plugins).await else {
        return;
    };
    // More runaway calls than the runtime has worker threads.
    let loops: Vec<_> = (0..6)
        .map(|_| {
            let kernel = app.kernel.clone();
            tokio::spawn(async move {
                let s = stay(2);
                pricing::run_chain(&kernel.plugins.current(), &s, nightly(&s, 100)).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut served = 0;
    while served < 20 {
        let res = tokio::time::timeout(Duration::from_secs(5), app.get("/healthz", None))
            .await
            .expect("answered while plugins loop");
        assert_eq!(res.status(), StatusCode::OK);
        served += 1;
    }
    assert!(
        loops.iter().any(|h| !h.is_finished()),
        "the health checks overlapped the runaway calls"
    );
    for handle in loops {
        let err = handle.await.expect("task").expect_err("cut off");
        assert_eq!(err.kind(), "timeout");
    }
}

async fn refused(plugins: &str) -> String {
    let stores = Stores::fresh(Backend::Sqlite).await.expect("sqlite");
    let path = stores.config_path();
    std::fs::write(&path, stores.config_text(plugins)).expect("write");
    let mut config = hearth::config::Config::load(&path).expect("config parses");
    config.server.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let err = hearth::startup::Application::build(config)
        .await
        .expect_err("startup refused");
    format!("{err:#}")
}

#[tokio::test]
async fn startup_is_refused_naming_the_plugin_and_the_problem() {
    let dist = crate::helpers::dist_dir();
    let cases = [
        (plugin("missing", "pricing", "nothing_here", "", ""), "component file not found"),
        (
            format!(
                "[[plugins]]\nid = \"pinned\"\nkind = \"pricing\"\npath = \"{}\"\nsha256 = \"{}\"\n[plugins.config]\namount_minor = 1\n",
                dist.join("hearth_plugin_pricing_cleaning_fee.wasm").display(),
                "0".repeat(64)
            ),
            "sha256 mismatch",
        ),
        (plugin("wrong-world", "pricing", "hearth_plugin_notify_inbox", "", ""), "implements the `notifier` world but is declared as kind = \"pricing\""),
        (plugin("future", "pricing", "hearth_test_guest_future_contract", "", ""), "targets contract hearth:plugins@0.9.0"),
        (plugin("probe", "pricing", "hearth_test_guest_http_probe", "", "url = \"http://127.0.0.1/\""), "imports the `http` capability, which is not granted"),
        (plugin("bad-config", "pricing", "hearth_plugin_pricing_cleaning_fee", "", "amount_minor = \"fifty\""), "`plugins.config.amount_minor`"),
        (plugin("no-config", "pricing", "hearth_plugin_pricing_cleaning_fee", "", ""), "\"amount_minor\" is a required property"),
        (plugin("capless", "pricing", "pricing_early_bird", "", "min_days_ahead = 30\npercent_bp = 1000"), "imports capabilities that are not granted: `clock`, `log`"),
    ];
    for (plugins, expected) in cases {
        let message = refused(&plugins).await;
        let id = plugins.split('"').nth(1).unwrap_or_default();
        assert!(
            message.contains(&format!("plugin `{id}`")),
            "names the plugin: {message}"
        );
        assert!(
            message.contains(expected),
            "expected `{expected}` in: {message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn granted_capabilities_reach_the_kernel() {
    let plugins = plugin(
        "probe",
        "pricing",
        "hearth_test_guest_capabilities",
        "capabilities = [\"log\", \"clock\", \"cache\", \"events\", \"mail\"]",
        "",
    );
    let sink = SmtpSink::start().await;
    let Some(stores) = Stores::fresh(Backend::Sqlite).await else {
        return;
    };
    let port = sink.port;
    let app = TestApp::spawn_configured(stores, &plugins, |c| {
        c.mail.transport = hearth::config::MailTransportKind::Smtp;
        c.mail.smtp_port = port;
    })
    .await;
    let s = stay(1);
    let before = chrono::Utc::now().timestamp_millis();
    let first = chain(&app, &s, vec![]).await.expect("priced");
    let second = chain(&app, &s, vec![]).await.expect("priced");
    let describe = |p: &pricing::Priced| p.items[0].description.clone();
    assert!(
        describe(&first).starts_with("calls=1 "),
        "{}",
        describe(&first)
    );
    assert!(
        describe(&second).starts_with("calls=2 "),
        "the plugin's cache outlives its instance: {}",
        describe(&second)
    );
    let clock: i64 = describe(&second)
        .rsplit('=')
        .next()
        .and_then(|c| c.parse().ok())
        .expect("clock");
    assert!(clock >= before, "the clock is the host's");
    // The mail was queued as a job and sent through the kernel's SMTP transport.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            !sink.messages().is_empty()
        })
        .await,
        "the SMTP sink gets the plugin's mail"
    );
    let mail = &sink.messages()[0];
    assert_eq!(mail.to, ["probe@example.com"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("capabilities probe")
    );
    // The event went through the outbox, namespaced by the plugin's id.
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM events WHERE kind = 'plugin.probe.probe.called' \
             AND payload IN ('{\"calls\":1}', '{\"calls\":2}')"
        )
        .await,
        2
    );
}

/// One call of a wasi-probe guest: the `wall=<ms> random=<hex>` it reported.
async fn wasi_probe(plugin: &hearth::plugins::Plugin) -> (u64, String) {
    let items = pricing::price(plugin, &stay(1), &[]).await.expect("priced");
    let description = &items[0].description;
    let (wall, random) = description
        .strip_prefix("wall=")
        .and_then(|rest| rest.split_once(" random="))
        .unwrap_or_else(|| panic!("not a wasi-probe answer: {description}"));
    (wall.parse().expect("ms"), random.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_time_and_randomness_are_the_kernels() {
    // The same guest twice: once without grants, once with `clock`. It reads the time with
    // `std::time::SystemTime` and random bytes with `getrandom`, through plain WASI.
    let plugins = plugin(
        "fixed",
        "pricing",
        "hearth_test_guest_wasi_probe",
        "order = 1",
        "",
    ) + &plugin(
        "timed",
        "pricing",
        "hearth_test_guest_wasi_probe",
        "order = 2\ncapabilities = [\"clock\"]",
        "",
    );
    let Some(app) = TestApp::builder()
        .plugins(&plugins)
        .spawn(Backend::Sqlite)
        .await
    else {
        return;
    };
    let set = app.kernel.plugins.current();
    let fixed = set.get("fixed").expect("loaded");
    let timed = set.get("timed").expect("loaded");
    let before = u64::try_from(chrono::Utc::now().timestamp_millis()).expect("after 1970");
    let (wall, first_random) = wasi_probe(fixed).await;
    assert_eq!(
        wall,
        hearth::plugins::FIXED_INSTANT_MS,
        "no clock grant: a fixed instant"
    );
    let (timed_wall, _) = wasi_probe(timed).await;
    let after = u64::try_from(chrono::Utc::now().timestamp_millis()).expect("after 1970");
    assert!(
        (before..=after).contains(&timed_wall),
        "with `clock`, the kernel's time: {before} <= {timed_wall} <= {after}"
    );
    // Each call gets its own seed...
    let (_, second_random) = wasi_probe(fixed).await;
    assert_ne!(first_random, second_random, "a fresh seed per call");
    // ...and the kernel's seed and clock decide the answer: the same ones give the same bytes.
    let env = hearth::plugins::EnvOverride {
        now_ms: Some(1_234_567),
        seed: Some(42),
    };
    let twice = hearth::plugins::with_kernel_clock_and_seed(env, async {
        (
            wasi_probe(timed).await,
            wasi_probe(timed).await,
            wasi_probe(fixed).await,
        )
    })
    .await;
    assert_eq!(twice.0, (1_234_567, twice.0 .1.clone()));
    assert_eq!(twice.0, twice.1, "same input, seed and clock: same output");
    assert_eq!(
        twice.2 .1, twice.0 .1,
        "the seed, not the grant, decides the bytes"
    );
    assert_eq!(twice.2 .0, hearth::plugins::FIXED_INSTANT_MS);
    let other = hearth::plugins::with_kernel_clock_and_seed(
        hearth::plugins::EnvOverride {
            seed: Some(43),
            ..env
        },
        wasi_probe(timed),
    )
    .await;
    assert_ne!(other.1, twice.0 .1, "another seed, other bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_reaches_only_allowed_hosts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let app = axum::Router::new()
            .route(
                "/hello",
                axum::routing::get(|| async { "hello from upstream" }),
            )
            .route(
                "/big",
                axum::routing::get(|| async { "x".repeat(2 * 1024 * 1024) }),
            );
        let _ = axum::serve(listener, app).await;
    });
    let url = format!("url = \"http://127.0.0.1:{port}/hello\"");
    let plugins = plugin(
        "allowed",
        "pricing",
        "hearth_test_guest_http_probe",
        &format!(
            "order = 1\ncapabilities = [\"http\"]\nhttp_allow = [\"http://127.0.0.1:{port}\"]"
        ),
        &url,
    ) + &plugin(
        "elsewhere",
        "pricing",
        "hearth_test_guest_http_probe",
        "order = 2\ncapabilities = [\"http\"]\nhttp_allow = [\"https://api.example.com\"]",
        &url,
    ) + &plugin(
        "other-port",
        "pricing",
        "hearth_test_guest_http_probe",
        "order = 3\ncapabilities = [\"http\"]\nhttp_allow = [\"http://127.0.0.1:1\"]",
        &url,
    ) + &plugin(
        "other-scheme",
        "pricing",
        "hearth_test_guest_http_probe",
        &format!(
            "order = 4\ncapabilities = [\"http\"]\nhttp_allow = [\"https://127.0.0.1:{port}\"]"
        ),
        &url,
    ) + &plugin(
        "oversized",
        "pricing",
        "hearth_test_guest_http_probe",
        &format!(
            "order = 5\ncapabilities = [\"http\"]\nhttp_allow = [\"http://127.0.0.1:{port}\"]"
        ),
        &format!("url = \"http://127.0.0.1:{port}/big\""),
    );
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &plugins).await else {
        return;
    };
    let priced = chain(&app, &stay(1), vec![]).await.expect("priced");
    assert_eq!(priced.items[0].description, "200 hello from upstream");
    assert!(
        priced.items[1]
            .description
            .contains("is not in this plugin's http_allow list"),
        "{}",
        priced.items[1].description
    );
    for refused in &priced.items[1..4] {
        assert!(
            refused
                .description
                .contains("is not in this plugin's http_allow list"),
            "scheme, host and port must all match: {}",
            refused.description
        );
    }
    assert!(
        priced.items[2].description.contains("`http://127.0.0.1:"),
        "the refusal names the origin: {}",
        priced.items[2].description
    );
    assert_eq!(
        priced.items[4].description,
        "error: response body is over the 1 MiB cap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_never_reaches_the_kernels_own_networks_or_follows_redirects() {
    // An upstream on 127.0.0.1 that would answer, and one public-looking path that redirects
    // back to it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        let app = axum::Router::new()
            .route(
                "/secret",
                axum::routing::get(move || {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async { "internal" }
                }),
            )
            .route(
                "/moved",
                axum::routing::get(|| async {
                    axum::response::Redirect::temporary("http://169.254.169.254/latest/meta-data/")
                }),
            );
        let _ = axum::serve(listener, app).await;
    });
    let probe = |id: &str, order: usize, allow: &str, url: &str| {
        plugin(
            id,
            "pricing",
            "hearth_test_guest_http_probe",
            &format!("order = {order}\ncapabilities = [\"http\"]\nhttp_allow = [\"{allow}\"]"),
            &format!("url = \"{url}\""),
        )
    };
    let plugins = [
        probe(
            "loopback",
            1,
            &format!("http://127.0.0.1:{port}"),
            &format!("http://127.0.0.1:{port}/secret"),
        ),
        probe(
            "by-name",
            2,
            &format!("http://localhost:{port}"),
            &format!("http://localhost:{port}/secret"),
        ),
        probe("private", 3, "http://10.0.0.1", "http://10.0.0.1/"),
        probe(
            "metadata",
            4,
            "http://169.254.169.254",
            "http://169.254.169.254/latest/meta-data/",
        ),
        probe(
            "mapped",
            5,
            &format!("http://[::ffff:7f00:1]:{port}"),
            &format!("http://[::ffff:127.0.0.1]:{port}/secret"),
        ),
    ]
    .concat();
    // The shipped rule: nothing private is allowed.
    let Some(app) = TestApp::builder()
        .plugins(&plugins)
        .config(|c| c.outbound.allow_private = Vec::new())
        .spawn(Backend::Sqlite)
        .await
    else {
        return;
    };
    let priced = chain(&app, &stay(1), vec![]).await.expect("priced");
    let said: Vec<&str> = priced
        .items
        .iter()
        .map(|i| i.description.as_str())
        .collect();
    assert_eq!(said.len(), 5, "{said:?}");
    for (answer, class) in said.iter().zip([
        "loopback",
        "loopback",
        "private",
        "cloud metadata",
        "loopback",
    ]) {
        assert!(
            answer.starts_with("error: ") && answer.contains(&format!("a {class} address")),
            "{answer}"
        );
    }
    assert!(said[1].contains("`localhost` is "), "{}", said[1]);
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached it"
    );
    drop(app);

    // An operator may allow loopback; a redirect is then handed to the plugin, not followed.
    let plugins = [
        probe(
            "allowed",
            1,
            &format!("http://127.0.0.1:{port}"),
            &format!("http://127.0.0.1:{port}/secret"),
        ),
        probe(
            "redirect",
            2,
            &format!("http://127.0.0.1:{port}"),
            &format!("http://127.0.0.1:{port}/moved"),
        ),
    ]
    .concat();
    let Some(app) = TestApp::builder()
        .plugins(&plugins)
        .config(|c| c.outbound.allow_private = vec!["127.0.0.0/8".parse().expect("a CIDR")])
        .spawn(Backend::Sqlite)
        .await
    else {
        return;
    };
    let priced = chain(&app, &stay(1), vec![]).await.expect("priced");
    assert_eq!(priced.items[0].description, "200 internal");
    assert_eq!(
        priced.items[1].description, "307 ",
        "the redirect is not followed"
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_third_party_example_loads_and_prices() {
    let plugins = plugin(
        "early-bird",
        "pricing",
        "pricing_early_bird",
        "capabilities = [\"clock\", \"log\"]",
        "min_days_ahead = 30\npercent_bp = 1000",
    );
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &plugins).await else {
        return;
    };
    let check_in = chrono::Utc::now().date_naive() + chrono::Duration::days(90);
    let s = Stay {
        check_in,
        check_out: check_in + chrono::Duration::days(2),
        ..stay(2)
    };
    let priced = chain(&app, &s, nightly(&s, 12_000)).await.expect("priced");
    assert_eq!(amount(&priced.items, "early-bird-discount"), Some(-2_400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_plugins_are_cached_on_disk_and_reused() {
    let cache = tempfile::tempdir().expect("dir");
    let plugins = fees(1, 2, 1000);
    // Compiled artifacts live under modules/wasmtime-<version>/; `.stats` files count hits.
    let count = |dir: &std::path::Path| {
        walk(dir)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("/modules/") && p.extension().is_none())
            .count()
    };
    for _ in 0..2 {
        let stores = Stores::fresh(Backend::Sqlite).await.expect("sqlite");
        let text = stores.config_text(&plugins).replace(
            &crate::helpers::plugin_cache_dir().display().to_string(),
            &cache.path().display().to_string(),
        );
        std::fs::write(stores.config_path(), text).expect("write");
        let config = hearth::config::Config::load(&stores.config_path()).expect("loads");
        hearth::startup::Kernel::build(config)
            .await
            .expect("kernel builds");
    }
    // Two components compiled once each: the second kernel found both in the cache.
    assert_eq!(count(cache.path()), 2, "{:?}", walk(cache.path()));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The payments, review-policy and notifier adapters, on the bundled proof plugins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_callable_through_its_adapter() {
    use hearth::plugins::kinds::{notifier, payments, review_policy};
    use hmac::{Hmac, Mac};

    const SECRET: &str = "whsec_test_0123456789abcdef";
    let plugins = plugin(
        "sandbox",
        "payments",
        "hearth_plugin_payments_sandbox",
        "",
        &format!("webhook_secret = \"{SECRET}\""),
    ) + &plugin(
        "reviews",
        "review-policy",
        "hearth_plugin_review_basic",
        "",
        "window_days = 7",
    ) + &plugin("inbox", "notifier", "hearth_plugin_notify_inbox", "", "");
    let Some(app) = TestApp::spawn_with_plugins(Backend::Sqlite, &plugins).await else {
        return;
    };
    let set = app.kernel.plugins.current();

    let sandbox = set.get("sandbox").expect("loaded");
    let authorize = |card: &str| payments::PaymentCall::Authorize {
        request: payments::AuthorizeRequest {
            payment_id: "pay1".into(),
            booking_id: "b1".into(),
            amount: Money {
                minor: 25_000,
                currency: eur(),
            },
            payment_method: card.into(),
        },
    };
    let held = payments::call(sandbox, &authorize("4242424242424242"))
        .await
        .expect("authorized");
    assert_eq!(held.status, payments::PaymentStatus::Authorized);
    let declined = payments::call(sandbox, &authorize("4000000000009995"))
        .await
        .expect("answered");
    assert_eq!(
        declined.status,
        payments::PaymentStatus::Declined("insufficient_funds".into())
    );
    let captured = payments::call(
        sandbox,
        &payments::PaymentCall::Capture {
            provider_ref: held.provider_ref.clone(),
            amount: Money {
                minor: 25_000,
                currency: eur(),
            },
        },
    )
    .await
    .expect("captured");
    assert_eq!(captured.status, payments::PaymentStatus::Captured);

    let body = format!(
        r#"{{"id":"evt_9","provider_ref":"{}","status":"refunded"}}"#,
        held.provider_ref
    );
    let now = u64::try_from(chrono::Utc::now().timestamp()).expect("time");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{now}.{body}").as_bytes());
    let signature = format!("t={now},v1={}", hex::encode(mac.finalize().into_bytes()));
    let webhook = |sig: &str, body: &str| payments::Webhook {
        headers: vec![("sandbox-signature".into(), sig.into())],
        body: body.as_bytes().to_vec(),
        received_at_ms: now * 1000,
    };
    let event = payments::parse_webhook(sandbox, &webhook(&signature, &body))
        .await
        .expect("verified");
    assert_eq!(event.status, payments::PaymentStatus::Refunded);
    let tampered = payments::parse_webhook(
        sandbox,
        &webhook(&signature, &body.replace("refunded", "captured")),
    )
    .await
    .expect_err("rejected");
    assert_eq!(tampered.kind(), "plugin");

    let policy = set.get("reviews").expect("loaded");
    let decision = review_policy::evaluate(
        policy,
        &review_policy::Submission {
            author_role: review_policy::AuthorRole::Guest,
            rating: 5,
            text: "Great stay, write me at x@example.com".into(),
            days_since_checkout: 2,
        },
    )
    .await
    .expect("decided");
    assert_eq!(
        decision,
        review_policy::Decision::Accept("Great stay, write me at [hidden]".into())
    );
    let late = review_policy::evaluate(
        policy,
        &review_policy::Submission {
            author_role: review_policy::AuthorRole::Host,
            rating: 4,
            text: "A tidy and friendly guest".into(),
            days_since_checkout: 8,
        },
    )
    .await
    .expect("decided");
    assert!(matches!(late, review_policy::Decision::Reject(r) if r.contains("7-day")));
    assert!(!review_policy::reveal(
        policy,
        review_policy::RevealState {
            both_submitted: false,
            days_since_checkout: 1
        }
    )
    .await
    .expect("ok"));
    assert!(review_policy::reveal(
        policy,
        review_policy::RevealState {
            both_submitted: true,
            days_since_checkout: 1
        }
    )
    .await
    .expect("ok"));

    let inbox = set.get("inbox").expect("loaded");
    let deliveries = notifier::notify(
        inbox,
        &notifier::Event {
            id: "evt-1".into(),
            kind: "user_registered".into(),
            occurred_at_ms: 0,
            payload: serde_json::json!({ "account_id": "acc-1", "display_name": "Ada" }),
        },
    )
    .await
    .expect("rendered");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].channel, notifier::Channel::Inbox);
    assert_eq!(deliveries[0].recipient.as_deref(), Some("acc-1"));
}

#[test]
fn the_production_set_holds_no_test_guest() {
    let names = |dir: std::path::PathBuf| -> Vec<String> {
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-plugins)", dir.display()))
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    let production = names(crate::helpers::dist_dir());
    assert!(production
        .iter()
        .any(|n| n == "hearth_plugin_payments_sandbox.wasm"));
    assert!(
        !production
            .iter()
            .any(|n| n.starts_with("hearth_test_guest_")),
        "{production:?}"
    );
    let sums =
        std::fs::read_to_string(crate::helpers::dist_dir().join("SHA256SUMS")).expect("sums");
    assert!(!sums.contains("hearth_test_guest_"), "{sums}");
    assert!(names(crate::helpers::guest_dir())
        .iter()
        .any(|n| n == "hearth_test_guest_loop.wasm"));
}
