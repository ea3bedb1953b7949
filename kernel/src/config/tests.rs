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
);

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
        assert_eq!(config.cache.timeout_ms, 25);
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
