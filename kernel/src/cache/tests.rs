//! The cache API on the in-process backend, on a real Redis (`HEARTH_TEST_REDIS_URL`), and on a
//! Redis that is not there.

use std::time::{Duration, Instant};

use super::*;
use crate::config::CacheConfig;

fn memory() -> Cache {
    Cache::new(&CacheConfig::default(), Metrics::new()).expect("memory cache")
}

fn redis_at(url: &str) -> (Cache, Metrics) {
    let metrics = Metrics::new();
    let config = CacheConfig {
        backend: CacheBackendKind::Redis,
        redis_url: Some(url.to_owned().into()),
        key_prefix: format!("hearth-test-{}", uuid::Uuid::new_v4()),
        timeout_ms: std::num::NonZeroU64::new(100).expect("not zero"),
        ..CacheConfig::default()
    };
    (
        Cache::new(&config, metrics.clone()).expect("redis cache"),
        metrics,
    )
}

fn test_redis() -> Option<String> {
    crate::testing::service_url("HEARTH_TEST_REDIS_URL")
}

async fn round_trip(cache: Cache) {
    let ns = cache.namespace("t");
    assert_eq!(ns.get::<String>("k").await, None);
    ns.set("k", &"v".to_owned(), Duration::from_secs(60)).await;
    assert_eq!(ns.get::<String>("k").await.as_deref(), Some("v"));
    // Namespaces do not see each other's keys.
    assert_eq!(cache.namespace("other").get::<String>("k").await, None);
    ns.delete("k").await;
    assert_eq!(ns.get::<String>("k").await, None);

    assert_eq!(ns.incr("c", Duration::from_secs(60)).await, 1);
    assert_eq!(ns.incr("c", Duration::from_secs(60)).await, 2);
    assert_eq!(ns.count("c").await, 2);
    assert_eq!(ns.count("missing").await, 0);
    ns.decr("c").await;
    assert_eq!(ns.count("c").await, 1);
    ns.decr("c").await;
    ns.decr("c").await;
    assert_eq!(ns.count("c").await, 0, "never below zero");
    ns.decr("missing").await;
    assert_eq!(ns.count("missing").await, 0);

    // Counters and a value read together (one MGET on Redis).
    let gens = ["gen".to_owned(), "dates".to_owned()];
    assert_eq!(
        ns.counts_and_get::<String>(&gens, "page").await,
        (vec![0, 0], None)
    );
    ns.incr("gen", Duration::from_secs(60)).await;
    ns.incr("dates", Duration::from_secs(60)).await;
    ns.incr("dates", Duration::from_secs(60)).await;
    ns.set("page", &"p1".to_owned(), Duration::from_secs(60))
        .await;
    assert_eq!(
        ns.counts_and_get::<String>(&gens, "page").await,
        (vec![1, 2], Some("p1".to_owned()))
    );
    assert_eq!(
        ns.counts_and_get::<String>(&gens[1..], "page").await,
        (vec![2], Some("p1".to_owned()))
    );

    // Parallel increments on several threads each see their own count: a reservation cannot
    // be raced, and a limit of N lets exactly N through.
    let tasks = (0..200).map(|_| {
        let ns = ns.clone();
        tokio::spawn(async move { ns.incr("race", Duration::from_secs(60)).await })
    });
    let mut seen: Vec<u64> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|joined| joined.expect("the task ran"))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=200).collect::<Vec<u64>>());
}

async fn entries_expire(cache: Cache) {
    let ns = cache.namespace("t");
    ns.set("short", &1u8, Duration::from_millis(50)).await;
    ns.incr("counter", Duration::from_millis(50)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ns.get::<u8>("short").await, None);
    assert_eq!(ns.count("counter").await, 0);
}

/// A value over `cache.max_value_bytes` is not stored, and the refusal is counted.
async fn oversized_values_are_not_cached(cache: Cache, metrics: &Metrics) {
    let ns = cache.namespace("t");
    let big = vec![b'x'; 2048];
    ns.set_bytes("big", big, Duration::from_secs(60)).await;
    assert_eq!(ns.get_bytes("big").await, None);
    ns.set_bytes("small", vec![b'x'; 1024], Duration::from_secs(60))
        .await;
    assert_eq!(ns.get_bytes("small").await.map(|v| v.len()), Some(1024));
    let text = metrics.render();
    assert!(
        text.lines()
            .any(|l| l.starts_with("hearth_cache_failures_total")
                && l.contains("reason=\"too_large\"")
                && l.ends_with(" 1")),
        "{text}"
    );
}

fn small_values(config: CacheConfig) -> CacheConfig {
    CacheConfig {
        max_value_bytes: std::num::NonZeroU64::new(1024).expect("not zero"),
        ..config
    }
}

#[tokio::test]
async fn memory_backend_refuses_oversized_values() {
    let metrics = Metrics::new();
    let cache = Cache::new(&small_values(CacheConfig::default()), metrics.clone()).expect("memory");
    oversized_values_are_not_cached(cache, &metrics).await;
}

#[tokio::test]
async fn redis_backend_refuses_oversized_values() {
    let Some(url) = test_redis() else { return };
    let metrics = Metrics::new();
    let config = small_values(CacheConfig {
        backend: CacheBackendKind::Redis,
        redis_url: Some(url.into()),
        key_prefix: format!("hearth-test-{}", uuid::Uuid::new_v4()),
        ..CacheConfig::default()
    });
    let cache = Cache::new(&config, metrics.clone()).expect("redis");
    oversized_values_are_not_cached(cache, &metrics).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_backend_round_trips_values_and_counters() {
    round_trip(memory()).await;
}

#[tokio::test]
async fn memory_backend_entries_expire_after_their_ttl() {
    entries_expire(memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_backend_round_trips_values_and_counters() {
    let Some(url) = test_redis() else { return };
    let (cache, metrics) = redis_at(&url);
    round_trip(cache).await;
    assert!(!metrics.render().contains("reason=\"error\""));
}

#[tokio::test]
async fn redis_backend_entries_expire_after_their_ttl() {
    let Some(url) = test_redis() else { return };
    entries_expire(redis_at(&url).0).await;
}

#[tokio::test]
async fn an_unreachable_redis_reads_as_a_miss_quickly_and_is_counted() {
    // Nothing listens on port 1.
    let (cache, metrics) = redis_at("redis://127.0.0.1:1");
    let ns = cache.namespace("t");
    let started = Instant::now();
    ns.set("k", &1u8, Duration::from_secs(60)).await;
    assert_eq!(ns.get::<u8>("k").await, None);
    ns.delete("k").await;
    // Counters survive on the in-process fallback.
    assert_eq!(ns.incr("c", Duration::from_secs(60)).await, 1);
    assert_eq!(ns.incr("c", Duration::from_secs(60)).await, 2);
    assert_eq!(ns.count("c").await, 2);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up within the timeout"
    );
    assert!(cache.ping().await.is_err());
    let text = metrics.render();
    assert!(
        text.contains("hearth_cache_failures_total{op=\"set\""),
        "{text}"
    );
}

#[tokio::test]
async fn redis_gcra_allows_the_burst_then_refuses_with_the_wait() {
    let Some(url) = test_redis() else { return };
    let (cache, _) = redis_at(&url);
    let ns = cache.namespace("limits");
    let emission = Duration::from_secs(20);
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let decision = ns.gcra("k", emission, 3).await.expect("redis answers");
        assert!(decision.allowed);
        remaining.push(decision.remaining);
    }
    assert_eq!(remaining, [2, 1, 0]);
    let refused = ns.gcra("k", emission, 3).await.expect("redis answers");
    assert!(!refused.allowed);
    assert!(
        refused.wait > Duration::from_secs(19) && refused.wait <= emission,
        "{refused:?}"
    );
    // Another key has its own budget; the memory backend has no shared decision.
    assert!(
        ns.gcra("other", emission, 3)
            .await
            .expect("answers")
            .allowed
    );
    assert_eq!(
        memory().namespace("limits").gcra("k", emission, 3).await,
        None
    );
}

/// A `redis-server` of its own on loopback that speaks only TLS and wants a password (the shape
/// of a managed Redis), with a self-signed certificate made by `openssl`. Stopped on drop.
struct TlsRedis {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

const TLS_REDIS_PASSWORD: &str = "a-redis-password";

impl TlsRedis {
    /// `None` when this machine has no `redis-server` (the test is then skipped, unless
    /// `HEARTH_TEST_REQUIRE_SERVICES` is set).
    fn start() -> Option<Self> {
        test_redis()?;
        let dir = tempfile::tempdir().expect("dir");
        let run = |cmd: &mut std::process::Command| {
            let status = cmd.status().expect("runs");
            assert!(status.success(), "{cmd:?}");
        };
        run(std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("cert.pem"))
            .stderr(std::process::Stdio::null()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--tls-cert-file")
            .arg(dir.path().join("cert.pem"))
            .arg("--tls-key-file")
            .arg(dir.path().join("key.pem"))
            .args([
                "--tls-auth-clients",
                "no",
                "--requirepass",
                TLS_REDIS_PASSWORD,
            ])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            child,
            port,
            _dir: dir,
        })
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn redis_over_tls_with_a_password_works_and_a_wrong_password_does_not() {
    let Some(redis) = TlsRedis::start() else {
        return;
    };
    // `#insecure`: the test certificate is self-signed; a managed Redis's is checked against
    // the web PKI roots.
    let url = |password: &str| format!("rediss://:{password}@127.0.0.1:{}/#insecure", redis.port);
    let (cache, metrics) = redis_at(&url(TLS_REDIS_PASSWORD));
    cache.ping().await.expect("a TLS session with the password");
    round_trip(cache).await;
    assert!(!metrics.render().contains("reason=\"error\""));
    let (wrong, _) = redis_at(&url("not-the-password"));
    assert!(wrong.ping().await.is_err(), "the password is checked");
    // Plain TCP to a TLS port gets nowhere either.
    let (plain, _) = redis_at(&format!(
        "redis://:{TLS_REDIS_PASSWORD}@127.0.0.1:{}",
        redis.port
    ));
    assert!(plain.ping().await.is_err());
}
