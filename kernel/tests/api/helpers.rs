//! `TestApp`: the real application on port 0, on SQLite (a temp file, in-process cache) or on
//! PostgreSQL + Redis (a fresh database per test, a fresh Redis key prefix per test, Redis
//! reached through a proxy the test can cut), with actors to act as.

use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use hearth::config::{CacheBackendKind, Config};
use hearth::data::Exec;
use hearth::startup::{Application, Extensions, Kernel};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// Which backends a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: SQLite + in-process cache.
    Sqlite,
    /// PostgreSQL + Redis.
    Postgres,
}

/// The URL of a test service, or `None` (skip) when unset and not required.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("HEARTH_TEST_REQUIRE_SERVICES").is_some() => {
            panic!("{var} must be set (HEARTH_TEST_REQUIRE_SERVICES is on)")
        }
        _ => {
            eprintln!("{var} is not set: skipping this PostgreSQL+Redis test");
            None
        }
    }
}

/// Where a test's data lives; shared by several `TestApp`s to act as several nodes.
#[derive(Debug, Clone)]
pub struct Stores {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    _dir: Arc<tempfile::TempDir>,
}

impl Stores {
    /// The configuration file of apps on these stores.
    pub fn config_path(&self) -> std::path::PathBuf {
        self._dir.path().join("hearth.toml")
    }

    /// The configuration file's text, with `plugins` appended.
    pub fn config_text(&self, plugins: &str) -> String {
        format!(
            "[database]\nurl = \"{}\"\nmax_connections = 5\n\n[plugin_host]\ncache_dir = \"{}\"\nmax_instances = 16\n\n{plugins}",
            self.database_url,
            plugin_cache_dir().display()
        )
    }

    /// Fresh, empty stores; `None` when the backend's services are not configured.
    pub async fn fresh(backend: Backend) -> Option<Self> {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let prefix = format!("hearth-test-{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => Some(Self {
                database_url: format!("sqlite://{}", dir.path().join("hearth.db").display()),
                redis_url: None,
                redis_prefix: prefix,
                _dir: dir,
            }),
            Backend::Postgres => {
                let admin_url = service_url("HEARTH_TEST_DATABASE_URL")?;
                let redis_url = service_url("HEARTH_TEST_REDIS_URL")?;
                let name = format!("hearth_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to HEARTH_TEST_DATABASE_URL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("valid database URL");
                url.set_path(&name);
                Some(Self {
                    database_url: url.to_string(),
                    redis_url: Some(redis_url),
                    redis_prefix: prefix,
                    _dir: dir,
                })
            }
        }
    }
}

/// The running application plus a client.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub kernel: Arc<Kernel>,
    pub stores: Stores,
    pub redis: Option<RedisProxy>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Spawns on fresh stores; `None` when the backend is not available here.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns on fresh stores after `tweak` adjusts the configuration.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let stores = Stores::fresh(backend).await?;
        Some(Self::spawn_on(stores, tweak).await)
    }

    /// Spawns another node on existing stores.
    pub async fn spawn_on(stores: Stores, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_configured(stores, "", tweak).await
    }

    /// Spawns on fresh stores with `plugins` (TOML `[[plugins]]` entries, see [`plugin`]) in
    /// the configuration file.
    pub async fn spawn_with_plugins(backend: Backend, plugins: &str) -> Option<Self> {
        let stores = Stores::fresh(backend).await?;
        Some(Self::spawn_configured(stores, plugins, |_| {}).await)
    }

    /// Writes the configuration file for `stores` with `plugins`, loads it through the same
    /// loader `hearth serve` uses, applies `tweak`, and spawns.
    pub async fn spawn_configured(
        stores: Stores,
        plugins: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        Self::spawn_extended(stores, plugins, tweak, Extensions::default()).await
    }

    /// [`TestApp::spawn_configured`] with extra bus subscribers and job handlers.
    pub async fn spawn_extended(
        stores: Stores,
        plugins: &str,
        tweak: impl FnOnce(&mut Config),
        extensions: Extensions,
    ) -> Self {
        if let Ok(filter) = std::env::var("HEARTH_TEST_LOG") {
            // Logs for debugging a test: HEARTH_TEST_LOG=hearth=debug cargo test -- --nocapture
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let path = stores.config_path();
        std::fs::write(&path, stores.config_text(plugins)).expect("write config");
        let mut config = Config::load(&path).expect("test config loads");
        config.server.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config.server.shutdown_grace_secs = 5;
        // Background work at test speed: quick polls and short retry delays.
        config.bus.poll_interval_ms = NonZeroU64::new(20).expect("not zero");
        config.bus.retry_base_ms = 5;
        config.jobs.poll_interval_ms = NonZeroU64::new(20).expect("not zero");
        config.jobs.backoff_base_ms = NonZeroU64::new(20).expect("not zero");
        config.jobs.backoff_max_secs = 1;
        config.jobs.shutdown_grace_secs = 2;
        let redis = match &stores.redis_url {
            Some(url) => {
                let proxy = RedisProxy::start(url).await;
                config.cache.backend = CacheBackendKind::Redis;
                config.cache.redis_url = Some(proxy.url().into());
                config.cache.key_prefix = stores.redis_prefix.clone();
                Some(proxy)
            }
            None => None,
        };
        tweak(&mut config);
        let app = Application::build_with(config, extensions)
            .await
            .expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let kernel = app.kernel();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Self {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            kernel,
            stores,
            redis,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// A request to `path` on this app.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.request(Method::GET, path);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut req = self.request(method, path).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    /// `POST /v1/auth/logout` with `token`.
    pub async fn logout(&self, token: &str) -> Response {
        self.request(Method::POST, "/v1/auth/logout")
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/v1/auth/register",
            None,
            &json!({ "email": email, "password": password, "display_name": "Test User" }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/v1/auth/login",
            None,
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Registers a fresh guest and logs in.
    pub async fn guest(&self) -> Actor {
        let email = format!("guest-{}@example.com", uuid::Uuid::new_v4().simple());
        self.actor(&email).await
    }

    /// Registers, logs in and returns the actor.
    pub async fn actor(&self, email: &str) -> Actor {
        let password = "correct horse battery";
        assert_eq!(
            self.register(email, password).await.status(),
            StatusCode::CREATED
        );
        self.actor_logged_in(email, password).await
    }

    pub async fn actor_logged_in(&self, email: &str, password: &str) -> Actor {
        let res = self.login(email, password).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("json");
        Actor {
            id: body["account"]["id"].as_str().expect("id").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// An admin, created the way an operator does (`hearth admin create` calls the same function).
    pub async fn admin(&self) -> Actor {
        let email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery";
        self.kernel
            .auth
            .create_admin(
                hearth::auth::Email::parse(&email).expect("email"),
                &hearth::auth::Password::parse(password).expect("password"),
                hearth::auth::DisplayName::parse("Admin").expect("name"),
            )
            .await
            .expect("admin created");
        self.actor_logged_in(&email, password).await
    }

    /// Begins shutdown without waiting.
    pub fn begin_shutdown(&mut self) -> JoinHandle<anyhow::Result<()>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server.take().expect("server running")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The compiled-plugin cache shared by every test (compiling in a debug build is slow).
pub fn plugin_cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// Where `scripts/build-plugins` puts the components.
pub fn dist_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/dist")
}

/// A `[[plugins]]` entry for a component in `plugins/dist`, pinned through its SHA256SUMS.
/// `extra` holds more keys (`order = 5`, `capabilities = [...]`, `limits = {...}`); `config`
/// is the body of `[plugins.config]`. Unless `extra` sets its own limits, the entry gets a
/// generous wall-clock limit: tests share two busy cores with a debug build, and a timeout is
/// only what a test asserts when it says so.
pub fn plugin(id: &str, kind: &str, file: &str, extra: &str, config: &str) -> String {
    let dist = dist_dir();
    let limits = if extra.contains("limits") {
        ""
    } else {
        "limits = { timeout_ms = 5000 }\n"
    };
    format!(
        "[[plugins]]\nid = \"{id}\"\nkind = \"{kind}\"\npath = \"{}\"\nsha256_from = \"{}\"\n{limits}{extra}\n[plugins.config]\n{config}\n\n",
        dist.join(format!("{file}.wasm")).display(),
        dist.join("SHA256SUMS").display()
    )
}

/// Someone logged in.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub token: String,
}

/// Asserts a response is a problem+json with this status and code, and returns its body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "problem: {body}");
    assert_eq!(body["status"], status.as_u16(), "problem: {body}");
    assert_eq!(body["type"], format!("urn:hearth:problem:{code}"));
    assert!(body["title"].is_string(), "problem: {body}");
    body
}

/// The state of a [`RedisProxy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Traffic flows.
    Up,
    /// Connections are closed and new ones dropped at once: Redis is down.
    Down,
    /// Connections are accepted but nothing is forwarded: Redis hangs.
    Hung,
}

/// A TCP proxy in front of the real Redis that a test can cut.
pub struct RedisProxy {
    port: u16,
    link: watch::Sender<Link>,
    task: JoinHandle<()>,
}

impl RedisProxy {
    async fn start(upstream_url: &str) -> Self {
        let upstream = url::Url::parse(upstream_url).expect("redis URL");
        let upstream = format!(
            "{}:{}",
            upstream.host_str().unwrap_or("127.0.0.1"),
            upstream.port().unwrap_or(6379)
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (link, _) = watch::channel(Link::Up);
        let links = link.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut state = links.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let mode = *state.borrow_and_update();
                    match mode {
                        Link::Down => return,
                        Link::Hung => {
                            let _ = state.changed().await;
                            return;
                        }
                        Link::Up => {}
                    }
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let cut = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => None,
                        link = async { state.wait_for(|l| *l != Link::Up).await.map(|l| *l).ok() } => link,
                    };
                    drop(server);
                    if cut == Some(Link::Hung) {
                        // Keep the client's socket open but silent until the link changes.
                        let _ = state.changed().await;
                    }
                });
            }
        });
        Self { port, link, task }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, link: Link) {
        self.link.send_replace(link);
    }
}

impl Drop for RedisProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Retries `check` until it returns true, up to about five seconds.
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..50 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Retries `check` every 50 ms until it returns true or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

/// Runs each named test body on both backends: `mod sqlite { fn name }` and `mod postgres { fn name }`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

/// Runs a `SELECT COUNT(*) ...` (or any single-integer query) on the app's database.
pub async fn sql_count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    match conn.exec() {
        Exec::Sqlite(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await,
        Exec::Postgres(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs a statement on the app's database (to stage what a test cannot do through the API).
pub async fn sql_exec(app: &TestApp, sql: &str) {
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    match conn.exec() {
        Exec::Sqlite(c) => sqlx::query(sql).execute(&mut *c).await.map(|_| ()),
        Exec::Postgres(c) => sqlx::query(sql).execute(&mut *c).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Like [`on_both_backends!`] for tests that build their own app: each named `async fn(Backend)`
/// runs as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}
