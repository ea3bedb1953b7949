//! Config errors as `.toml` + expected-error pairs (`kernel/tests/config/*.toml`; the expected
//! origin, key and message are in each file's header), plus environment override rules.

// figment::Jail closures must return figment::Error, which is large; that is its API, not ours.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/config")
        .join(format!("{name}.toml"))
}

fn header<'a>(text: &'a str, field: &str) -> &'a str {
    let tag = format!("# expect-{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(tag.as_str()))
        .unwrap_or_else(|| panic!("fixture lacks `{tag}`"))
        .trim()
}

fn assert_fixture_is_refused(name: &str) {
    // Inside a jail: other tests set HEARTH_ variables, and the jail serialises them.
    figment::Jail::expect_with(|_| {
        check_fixture(name);
        Ok(())
    });
}

fn check_fixture(name: &str) {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    let err = Config::load(&path).expect_err("fixture must be refused");
    let problem = &err.problems()[0];
    assert!(
        problem.origin.ends_with(header(&text, "origin")),
        "origin `{}` should name the file; whole error: {err}",
        problem.origin
    );
    assert_eq!(problem.key, header(&text, "key"), "whole error: {err}");
    assert!(
        problem.message.contains(header(&text, "message")),
        "message `{}` should contain `{}`",
        problem.message,
        header(&text, "message")
    );
    let rendered = err.to_string();
    assert!(rendered.contains(&problem.key), "rendered: {rendered}");
}

macro_rules! refused {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                assert_fixture_is_refused(stringify!($name));
            }
        )*
    };
}

refused!(
    unknown_key,
    unknown_section,
    wrong_type,
    missing_required,
    bad_enum_value,
    bad_database_url,
    bad_bind_address,
    redis_without_url,
    bad_cors_origin,
    syntax_error,
    bad_log_level,
    bad_cron_schedule,
    unknown_schedule,
    bad_mail_from,
    smtp_password_without_user,
    zero_server_request_timeout_secs,
    zero_server_body_limit_bytes,
    zero_database_max_connections,
    zero_database_busy_timeout_ms,
    zero_cache_max_entries,
    cache_value_over_the_cache,
    zero_cache_timeout_ms,
    zero_auth_session_ttl_hours,
    zero_auth_login_window_secs,
    zero_auth_login_max_failures_per_account,
    zero_auth_login_max_failures_per_address,
    zero_auth_login_max_failures_per_account_and_address,
    bad_trusted_proxy,
    bad_outbound_network,
    zero_limits_login_requests,
    unknown_limits_budget_key,
    limits_window_over_a_day,
    zero_quotes_ttl_minutes,
    quote_ttl_over_a_day,
    zero_bus_poll_interval_ms,
    zero_bus_batch_size,
    zero_bus_max_attempts,
    zero_bus_reclaim_idle_secs,
    zero_bus_stream_max_len,
    zero_jobs_concurrency,
    zero_jobs_poll_interval_ms,
    zero_jobs_max_attempts,
    zero_jobs_backoff_base_ms,
    zero_jobs_retention_days,
    short_job_lease,
    zero_mail_timeout_ms,
    smtp_user_without_password,
    smtp_without_host,
    zero_notifications_webhook_timeout_ms,
    zero_bookings_hold_minutes,
    zero_bookings_request_hours,
    unknown_payments_provider,
    provider_for_a_bad_currency,
    redis_url_not_redis,
    zero_plugin_host_max_instances,
    zero_plugin_limits_fuel,
    zero_plugin_limits_memory_mib,
    zero_plugin_limits_timeout_ms,
    zero_plugin_limits_output_kib,
    plugin_memory_over_the_ceiling,
    duplicate_plugin_id,
    plugin_without_pin,
    plugin_with_two_pins,
    plugin_config_not_a_table,
    http_allow_without_http,
    bad_http_allow_origin,
    events_on_a_pricing_plugin,
    unknown_notifier_event,
);

#[test]
fn every_fixture_is_run() {
    // A fixture left out of `refused!` would never be checked.
    let listed = include_str!("tests.rs");
    for entry in std::fs::read_dir(fixture("unknown_key").parent().expect("folder")).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        assert!(
            listed.contains(&format!("    {name},\n")),
            "{name}.toml is not in refused!"
        );
    }
}

#[test]
fn every_problem_in_a_file_is_reported_under_its_own_key() {
    let err = Config::from_toml_str(
        "inline.toml",
        "[database]\nurl = \"sqlite::memory:\"\n[quotes]\nttl_minutes = 2000\n[jobs]\nlease_secs = 1\n\
         [mail]\nfrom = \"nobody\"\n",
    )
    .expect_err("three mistakes");
    let keys: Vec<_> = err.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["quotes.ttl_minutes", "jobs.lease_secs", "mail.from"],
        "{err}"
    );
}

#[test]
fn a_zero_from_the_environment_names_the_variable_and_the_key() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("hearth.toml", "[database]\nurl = \"sqlite::memory:\"\n")?;
        jail.set_env("HEARTH_NOTIFICATIONS__WEBHOOK_TIMEOUT_MS", "0");
        let err = Config::load(Path::new("hearth.toml")).expect_err("must fail");
        let problem = &err.problems()[0];
        assert_eq!(
            problem.origin,
            "environment variable HEARTH_NOTIFICATIONS__WEBHOOK_TIMEOUT_MS"
        );
        assert_eq!(problem.key, "notifications.webhook_timeout_ms");
        assert!(problem.message.contains("at least 1"), "{err}");
        Ok(())
    });
}

#[test]
fn a_missing_config_file_is_named() {
    let err = Config::load(Path::new("/nonexistent/hearth.toml")).expect_err("must fail");
    assert!(err.to_string().contains("/nonexistent/hearth.toml"));
    assert!(err.to_string().contains("does not exist"));
    assert!(fixture("unknown_key").is_file(), "fixtures are found");
}

#[test]
fn the_shipped_configs_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for file in ["config/hearth.toml", "config/production.example.toml"] {
        figment::Jail::expect_with(|_| {
            Config::load(&root.join(file)).map_err(|e| e.to_string())?;
            Ok(())
        });
    }
}

#[test]
fn environment_overrides_win_over_the_file() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("hearth.toml", "[database]\nurl = \"sqlite::memory:\"\n")?;
        jail.set_env("HEARTH_SERVER__BIND", "127.0.0.1:9999");
        jail.set_env("HEARTH_CACHE__TIMEOUT_MS", "25");
        // Not configuration: variables without `__` are ignored rather than rejected.
        jail.set_env("HEARTH_TEST_DATABASE_URL", "postgres://ignored");
        let config = Config::load(Path::new("hearth.toml")).map_err(|e| e.to_string())?;
        assert_eq!(config.server.bind.port(), 9999);
        assert_eq!(config.cache.timeout_ms.get(), 25);
        Ok(())
    });
}

#[test]
fn a_bad_environment_override_names_the_variable() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("hearth.toml", "[database]\nurl = \"sqlite::memory:\"\n")?;
        jail.set_env("HEARTH_DATABASE__MAX_CONNECTIONS", "many");
        let err = Config::load(Path::new("hearth.toml")).expect_err("must fail");
        let problem = &err.problems()[0];
        assert_eq!(
            problem.origin,
            "environment variable HEARTH_DATABASE__MAX_CONNECTIONS"
        );
        assert_eq!(problem.key, "database.max_connections");
        Ok(())
    });
}

#[test]
fn an_unknown_environment_override_is_an_error() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("hearth.toml", "[database]\nurl = \"sqlite::memory:\"\n")?;
        jail.set_env("HEARTH_SERVER__PROT", "80");
        let err = Config::load(Path::new("hearth.toml")).expect_err("must fail");
        assert_eq!(err.problems()[0].key, "server.prot");
        Ok(())
    });
}

#[test]
fn secrets_never_print() {
    let config = Config::from_toml_str(
        "inline.toml",
        "[database]\nurl = \"postgres://u:hunter2@db/hearth\"\n[cache]\nbackend = \"redis\"\nredis_url = \"redis://:sekrit@r:6379\"\n",
    )
    .expect("valid");
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("sekrit"), "{debug}");
}

#[test]
fn a_public_bind_refuses_the_shipped_secrets_and_the_sandbox_naming_each_key() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/hearth.toml");
    figment::Jail::expect_with(|jail| {
        jail.set_env("HEARTH_SERVER__BIND", "0.0.0.0:8080");
        let err = Config::load(&shipped).expect_err("refused");
        let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
        let sandbox = shipped_plugin_index(&shipped, "payments-sandbox");
        let invoice = shipped_plugin_index(&shipped, "payments-invoice");
        assert_eq!(
            keys,
            [
                "notifications.webhook_secret".to_owned(),
                format!("plugins[{sandbox}].config.webhook_secret"),
                format!("plugins[{invoice}].config.webhook_secret"),
                "payments.default_provider".to_owned(),
            ],
            "{err}"
        );
        assert!(
            err.to_string().contains("when serving on 0.0.0.0:8080"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("HEARTH_NOTIFICATIONS__WEBHOOK_SECRET"),
            "{err}"
        );
        // Own secrets from the environment, and a deliberate public demo, are accepted.
        jail.set_env("HEARTH_NOTIFICATIONS__WEBHOOK_SECRET", "whsec_a_real_one");
        jail.set_env(
            "HEARTH_PLUGINS__PAYMENTS_SANDBOX__WEBHOOK_SECRET",
            "whsec_sandbox_real",
        );
        jail.set_env(
            "HEARTH_PLUGINS__PAYMENTS_INVOICE__WEBHOOK_SECRET",
            "whsec_invoice_real",
        );
        let err = Config::load(&shipped).expect_err("still the sandbox");
        assert_eq!(err.problems()[0].key, "payments.default_provider", "{err}");
        jail.set_env("HEARTH_PAYMENTS__ALLOW_SANDBOX_PAYMENTS", "true");
        let config = Config::load(&shipped).map_err(|e| e.to_string())?;
        assert_eq!(
            config.plugins[sandbox].config["webhook_secret"],
            "whsec_sandbox_real"
        );
        Ok(())
    });
}

/// The position of the `[[plugins]]` entry `id` in `file`.
fn shipped_plugin_index(file: &Path, id: &str) -> usize {
    let config =
        Config::from_toml_str("hearth.toml", &std::fs::read_to_string(file).expect("read"))
            .expect("the shipped config loads on loopback");
    config
        .plugins
        .iter()
        .position(|p| p.id.as_str() == id)
        .expect("shipped")
}

#[test]
fn every_shipped_secret_is_marked_as_one_for_development() {
    // The refusal above finds dev secrets by their marker: a shipped secret without it would slip
    // through, so every secret-looking value in the shipped file must carry it.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/hearth.toml"),
    )
    .expect("read");
    let secrets: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter(|l| {
            l.split_once('=').is_some_and(|(key, _)| {
                let key = key.trim();
                key.contains("secret")
                    || ["password", "token", "api_key"]
                        .iter()
                        .any(|s| key.ends_with(s))
            })
        })
        .collect();
    assert!(!secrets.is_empty());
    for line in secrets {
        assert!(line.contains(DEV_SECRET_MARKER), "unmarked: {line}");
    }
}

#[test]
fn plugin_settings_come_from_the_environment_by_id_or_by_reference() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "hearth.toml",
            r#"[database]
url = "sqlite::memory:"

[[plugins]]
id = "pay-later"
kind = "payments"
path = "pay.wasm"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
[plugins.config]
api_key = { secret_env = "PAY_LATER_KEY" }
nested = { list = [{ secret_env = "PAY_LATER_OTHER" }] }
"#,
        )?;
        let err = Config::load(Path::new("hearth.toml")).expect_err("unset");
        let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "plugins[0].config.api_key",
                "plugins[0].config.nested.list[0]"
            ],
            "{err}"
        );
        assert!(err.to_string().contains("PAY_LATER_KEY"), "{err}");
        jail.set_env("PAY_LATER_KEY", "sk_live_1");
        jail.set_env("PAY_LATER_OTHER", "two");
        jail.set_env(
            "HEARTH_PLUGINS__PAY_LATER__ENDPOINT",
            "https://pay.example.com",
        );
        let config = Config::load(Path::new("hearth.toml")).map_err(|e| e.to_string())?;
        let settings = &config.plugins[0].config;
        assert_eq!(settings["api_key"], "sk_live_1");
        assert_eq!(settings["nested"]["list"][0], "two");
        assert_eq!(settings["endpoint"], "https://pay.example.com");
        // An id that names no plugin is refused, naming the variable.
        jail.set_env("HEARTH_PLUGINS__PAY_SOONER__ENDPOINT", "x");
        let err = Config::load(Path::new("hearth.toml")).expect_err("unknown id");
        assert_eq!(
            err.problems()[0].origin,
            "environment variable HEARTH_PLUGINS__PAY_SOONER__ENDPOINT"
        );
        assert!(err.to_string().contains("PAY_LATER"), "{err}");
        Ok(())
    });
}
