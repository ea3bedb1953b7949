//! The `hearth` binary as an operator uses it: `config check`, `migrate`, `admin create`, and
//! `serve` on the shipped embedded-default config, stopped by SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

fn hearth() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hearth"));
    // The test process may carry HEARTH_ variables of its own; the binary must not see them.
    for (key, _) in std::env::vars() {
        if key.starts_with("HEARTH_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn shipped_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/hearth.toml")
}

#[test]
fn config_check_accepts_the_shipped_configs() {
    for file in ["hearth.toml", "production.example.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../config")
            .join(file);
        let out = hearth()
            .args(["config", "check", "--config"])
            .arg(&path)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
    }
}

#[test]
fn config_check_names_the_file_and_key_and_fails() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[database]\nurl = \"sqlite::memory:\"\n\n[cache]\nbackend = \"memcached\"\n",
    )
    .expect("write");
    let out = hearth()
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("cache.backend"), "{stderr}");
    assert!(stderr.contains("\"memory\", \"redis\""), "{stderr}");
}

#[test]
fn an_environment_override_with_a_bad_value_is_named() {
    let out = hearth()
        .args(["config", "check", "--config"])
        .arg(shipped_config())
        .env("HEARTH_SERVER__BIND", "not-an-address")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HEARTH_SERVER__BIND"), "{stderr}");
    assert!(stderr.contains("server.bind"), "{stderr}");
}

/// Runs `hearth admin create` with `env` and asserts it succeeded.
fn create_admin(config: &Path, email: &str, env: &[(&str, &str)]) {
    let mut cmd = hearth();
    cmd.args(["admin", "create", "--email", email, "--config"])
        .arg(config)
        .env("HEARTH_ADMIN_PASSWORD", "an admin passphrase");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `hearth serve` on a free port with `env`, in `dir`, and waits for /healthz.
async fn serve(config: &Path, dir: &Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let port = free_port();
    let mut cmd = hearth();
    cmd.args(["serve", "--config"])
        .arg(config)
        .current_dir(dir)
        .env("HEARTH_SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = cmd.spawn().expect("serve starts");
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_for_health(&base).await, "the server answers /healthz");
    (server, base)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_on_the_embedded_default_with_an_admin_made_by_the_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("data/hearth.db").display());

    let out = hearth()
        .arg("migrate")
        .arg("--config")
        .arg(shipped_config())
        .env("HEARTH_DATABASE__URL", &db)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let env = [("HEARTH_DATABASE__URL", db.as_str())];
    create_admin(&shipped_config(), "root@example.com", &env);
    let (mut server, base) = serve(&shipped_config(), dir.path(), &env).await;
    let client = reqwest::Client::new();

    let res = client
        .post(format!("{base}/v1/auth/register"))
        .json(&json!({ "email": "guest@example.com", "password": "correct horse battery", "display_name": "G" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::CREATED);
    let guest: Value = res.json().await.expect("json");

    let admin: Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({ "email": "root@example.com", "password": "an admin passphrase" }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(admin["account"]["role"], "admin");
    let res = client
        .put(format!(
            "{base}/v1/admin/accounts/{}/role",
            guest["id"].as_str().expect("id")
        ))
        .bearer_auth(admin["token"].as_str().expect("token"))
        .json(&json!({ "role": "host" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}");
}

async fn wait_for_health(base: &str) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_plugins_from_the_edited_file() {
    use crate::helpers::plugin;
    let dir = tempfile::tempdir().expect("dir");
    let config_path = dir.path().join("hearth.toml");
    let write = |service_order: i32| {
        let text = format!(
            "[database]\nurl = \"sqlite://{}\"\n\n[plugin_host]\ncache_dir = \"{}\"\nmax_instances = 8\n\n{}{}",
            dir.path().join("hearth.db").display(),
            crate::helpers::plugin_cache_dir().display(),
            plugin("cleaning-fee", "pricing", "hearth_plugin_pricing_cleaning_fee", "order = 10", "amount_minor = 5000"),
            plugin("service-fee", "pricing", "hearth_plugin_pricing_service_fee", &format!("order = {service_order}"), "percent_bp = 1400"),
        );
        std::fs::write(&config_path, text).expect("write config");
    };
    write(20);
    create_admin(&config_path, "ops@example.com", &[]);
    let (mut server, base) = serve(&config_path, dir.path(), &[]).await;
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({ "email": "ops@example.com", "password": "an admin passphrase" }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let order = || async {
        let list: Value = client
            .get(format!("{base}/v1/admin/plugins"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        list["plugins"]
            .as_array()
            .expect("list")
            .iter()
            .map(|p| p["id"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(order().await, ["cleaning-fee", "service-fee"]);

    write(5);
    let status = Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut reordered = false;
    for _ in 0..50 {
        if order().await == ["service-fee", "cleaning-fee"] {
            reordered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reordered, "SIGHUP swapped in the new order");
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success());
}

#[test]
fn plugins_check_lists_every_bundled_plugin_as_ok() {
    let out = hearth()
        .args(["plugins", "check", "--config"])
        .arg(shipped_config())
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(shipped_config()).expect("config");
    let ids: Vec<&str> = config
        .lines()
        .filter_map(|l| l.strip_prefix("id = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert!(ids.len() >= 8, "{ids:?}");
    for id in ids {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_default();
        assert!(row.ends_with("OK"), "`{id}` should be OK in:\n{stdout}");
    }
}

#[test]
fn plugins_check_fails_and_names_a_bad_plugin() {
    use crate::helpers::plugin;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("hearth.toml");
    let text = format!(
        "[database]\nurl = \"sqlite::memory:\"\n[plugin_host]\ncache_dir = \"{}\"\n\n{}{}",
        crate::helpers::plugin_cache_dir().display(),
        plugin(
            "fine",
            "pricing",
            "hearth_plugin_pricing_cleaning_fee",
            "",
            "amount_minor = 100"
        ),
        plugin("wrong", "pricing", "hearth_plugin_review_basic", "", ""),
    );
    std::fs::write(&path, text).expect("write");
    let out = hearth()
        .args(["plugins", "check", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("fine ") && l.ends_with("OK")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("wrong ")
            && l.contains("FAILED")
            && l.contains("review-policy")),
        "{stdout}"
    );
}

#[test]
fn plugin_run_prints_the_output_fuel_and_time() {
    let dir = tempfile::tempdir().expect("dir");
    let input = dir.path().join("input.json");
    std::fs::write(
        &input,
        r#"{"stay": {"listing_id": "l1", "check_in": "2031-07-01", "check_out": "2031-07-04", "guests": 2, "country": "FR", "city": "Paris", "currency": "EUR"},
            "items": [{"code": "nightly", "description": "Night", "amount": {"minor": 10000, "currency": "EUR"}, "source": "kernel"}]}"#,
    )
    .expect("write");
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"percent_bp": 1400}"#).expect("write");
    let wasm = crate::helpers::dist_dir().join("hearth_plugin_pricing_service_fee.wasm");
    let out = hearth()
        .args(["plugin", "run"])
        .arg(&wasm)
        .args(["--kind", "pricing", "--input"])
        .arg(&input)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let items: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(items[0]["code"], "service-fee");
    assert_eq!(items[0]["amount"]["minor"], 1400);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fuel used: ") && stderr.contains(" ms"),
        "{stderr}"
    );
}

/// Two `hearth serve` processes against one PostgreSQL and one Redis (Redis Streams consumer
/// groups): 1,000 events committed to the outbox are each handled exactly once by the
/// `notifications` group, the work is shared by both processes, and each event becomes exactly
/// one inbox message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_handle_each_of_1000_events_once_per_group() {
    use hearth::bus::{self, DomainEvent};
    use hearth::config::{DatabaseConfig, DatabaseUrl};
    use hearth::data::Database;

    use crate::helpers::{plugin, Backend, Stores};

    #[derive(serde::Serialize)]
    struct Ping {
        account_id: String,
        n: u32,
    }
    impl DomainEvent for Ping {
        fn kind(&self) -> &str {
            "test_ping"
        }
    }

    let Some(stores) = Stores::fresh(Backend::Postgres).await else {
        return;
    };
    let redis_url = stores.redis_url.clone().expect("redis");
    let config = stores.config_path();
    let text = format!(
        "{}\n[cache]\nbackend = \"redis\"\nredis_url = \"{redis_url}\"\nkey_prefix = \"{}\"\n",
        stores.config_text(&plugin(
            "notify-inbox",
            "notifier",
            "hearth_plugin_notify_inbox",
            "",
            ""
        )),
        stores.redis_prefix
    );
    std::fs::write(&config, text).expect("write config");
    let dir = config.parent().expect("dir").to_path_buf();
    // One after the other, so only the first applies the migrations.
    let (mut one, base_one) = serve(&config, &dir, &[]).await;
    let (mut two, base_two) = serve(&config, &dir, &[]).await;

    let client = reqwest::Client::new();
    let res = client
        .post(format!("{base_one}/v1/auth/register"))
        .json(&json!({ "email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::CREATED);
    let account: Value = res.json().await.expect("json");
    let account_id = account["id"].as_str().expect("id").to_owned();

    let db = Database::connect(&DatabaseConfig {
        url: DatabaseUrl::parse(&stores.database_url).expect("url"),
        max_connections: 2,
        busy_timeout_ms: 5000,
    })
    .await
    .expect("connect");
    for batch in 0..50 {
        let mut tx = db.begin().await.expect("begin");
        for i in 0..20 {
            let ping = Ping {
                account_id: account_id.clone(),
                n: batch * 20 + i,
            };
            bus::record(tx.exec(), &ping).await.expect("record");
        }
        tx.commit().await.expect("commit");
    }

    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let mut conn = db.acquire().await.expect("connection");
            match conn.exec() {
                hearth::data::Exec::Postgres(c) => {
                    sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await
                }
                hearth::data::Exec::Sqlite(c) => {
                    sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await
                }
            }
            .expect("count")
        }
    };
    let inbox = "SELECT COUNT(*) FROM notifications WHERE kind = 'test_ping'";
    let mut arrived = 0;
    for _ in 0..600 {
        arrived = count(inbox).await;
        if arrived >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(arrived, 1000, "every event became an inbox message");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(inbox).await, 1000, "and only one each");
    assert_eq!(
        count("SELECT COUNT(*) FROM event_receipts WHERE subscriber = 'notifications'").await,
        1001,
        "the 1,000 pings and the registration"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND state = 'succeeded'").await,
        1001
    );

    // Per-process counters: handled once in total, shared by both, never twice.
    let handled = |metrics: &str, outcome: &str| -> u64 {
        let key =
            format!("hearth_bus_events_total{{group=\"notifications\",outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(key.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let mut totals = Vec::new();
    for base in [&base_one, &base_two] {
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("text");
        assert_eq!(handled(&metrics, "duplicate"), 0, "{metrics}");
        totals.push(handled(&metrics, "handled"));
    }
    println!("handled per process: {totals:?}");
    assert_eq!(totals.iter().sum::<u64>(), 1001);
    assert!(
        totals.iter().all(|n| *n > 0),
        "both processes consume: {totals:?}"
    );

    for server in [&mut one, &mut two] {
        let _ = Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status();
        let _ = server.wait();
    }
}
