//! `TestApp`: the real application on port 0, on SQLite (a temp file, in-process cache) or on
//! PostgreSQL + Redis (a fresh database per test, a fresh Redis key prefix per test, Redis
//! reached through a proxy the test can cut), built by one [`TestAppBuilder`].

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;

use hearth::config::{CacheBackendKind, Config};
use hearth::startup::{Application, Extensions, Kernel};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::{service_url, Backend};

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

/// A configuration change applied after the test defaults, before the app starts.
type Tweak<'a> = Box<dyn FnOnce(&mut Config) + 'a>;

/// How a [`TestApp`] is built: `[[plugins]]` entries, configuration overrides and extra bus
/// subscribers or job handlers, then [`spawn`](Self::spawn) on fresh stores of a backend or
/// [`spawn_on`](Self::spawn_on) existing stores (another node of the same deployment).
///
/// ```ignore
/// let app = TestApp::builder()
///     .plugins(&payment_plugins(""))
///     .config(|c| c.payments.default_provider = Some("payments-sandbox".into()))
///     .spawn(backend)
///     .await?;
/// ```
#[must_use]
pub struct TestAppBuilder<'a> {
    plugins: String,
    tweaks: Vec<Tweak<'a>>,
    extensions: Extensions,
}

impl<'a> TestAppBuilder<'a> {
    /// Adds `[[plugins]]` entries (see [`plugin`]) to the configuration file.
    pub fn plugins(mut self, plugins: &str) -> Self {
        self.plugins.push_str(plugins);
        self
    }

    /// Changes the loaded configuration; overrides apply in the order given, after the test
    /// defaults (quick polls, port 0, Redis through the proxy).
    pub fn config(mut self, tweak: impl FnOnce(&mut Config) + 'a) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// Extra bus subscribers and job handlers.
    pub fn extensions(mut self, extensions: Extensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// Spawns on fresh stores of `backend`; `None` when the backend is not available here.
    pub async fn spawn(self, backend: Backend) -> Option<TestApp> {
        let stores = Stores::fresh(backend).await?;
        Some(self.spawn_on(stores).await)
    }

    /// Writes the configuration file for `stores`, loads it through the same loader `hearth
    /// serve` uses, applies the overrides, and spawns.
    pub async fn spawn_on(self, stores: Stores) -> TestApp {
        if let Ok(filter) = std::env::var("HEARTH_TEST_LOG") {
            // Logs for debugging a test: HEARTH_TEST_LOG=hearth=debug cargo test -- --nocapture
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let path = stores.config_path();
        std::fs::write(&path, stores.config_text(&self.plugins)).expect("write config");
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
        // Every test's clients share 127.0.0.1: budgets would throttle suites by accident. The
        // hostile suite switches on the budgets it tests.
        config.limits.enabled = false;
        // The suites pin stays in 2031 (the seasonal plugin prices by month): a window of ten
        // years keeps them valid; the hostile suite tests the shipped three.
        config.bookings.max_days_ahead = NonZeroU32::new(3660).expect("not zero");
        // The suites hold many unconfirmed bookings per guest; the hostile suite tests the caps.
        config.bookings.max_unconfirmed_per_guest = NonZeroU32::new(1000).expect("not zero");
        config.bookings.max_unconfirmed_per_listing = NonZeroU32::new(1000).expect("not zero");
        // The suites' webhook receivers and upstreams listen on 127.0.0.1; the hostile suite
        // tests the shipped rule (nothing private).
        config.outbound.allow_private = vec!["127.0.0.1/32".parse().expect("a CIDR")];
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
        for tweak in self.tweaks {
            tweak(&mut config);
        }
        let app = Application::build_with(config, self.extensions)
            .await
            .expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let kernel = app.kernel();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        TestApp {
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
}

impl TestApp {
    /// A builder for an app: `TestApp::builder().plugins(..).config(..).spawn(backend)`.
    pub fn builder<'a>() -> TestAppBuilder<'a> {
        TestAppBuilder {
            plugins: String::new(),
            tweaks: Vec::new(),
            extensions: Extensions::default(),
        }
    }

    /// Spawns with the defaults on fresh stores; `None` when the backend is not available here.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::builder().spawn(backend).await
    }

    /// Kept for `plugins.rs` and `openapi.rs` (owned elsewhere): `builder().plugins(..)`.
    pub async fn spawn_with_plugins(backend: Backend, plugins: &str) -> Option<Self> {
        Self::builder().plugins(plugins).spawn(backend).await
    }

    /// Kept for `plugins.rs` (owned elsewhere): `builder().plugins(..).config(..).spawn_on(..)`.
    pub async fn spawn_configured(
        stores: Stores,
        plugins: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        Self::builder()
            .plugins(plugins)
            .config(tweak)
            .spawn_on(stores)
            .await
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

/// Where `scripts/build-plugins` puts the test guests, apart from the production set.
pub fn guest_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/testing/dist")
}

/// The folder holding the component `file` (a test guest, or a plugin of the production set).
fn component_dir(file: &str) -> std::path::PathBuf {
    if file.starts_with("hearth_test_guest_") {
        guest_dir()
    } else {
        dist_dir()
    }
}

/// A `[[plugins]]` entry for a component in `plugins/dist` (or, for a test guest,
/// `plugins/testing/dist`), pinned through its folder's SHA256SUMS.
/// `extra` holds more keys (`order = 5`, `capabilities = [...]`, `limits = {...}`); `config`
/// is the body of `[plugins.config]`. Unless `extra` sets its own limits, the entry gets a
/// generous wall-clock limit: tests share two busy cores with a debug build, and a timeout is
/// only what a test asserts when it says so.
pub fn plugin(id: &str, kind: &str, file: &str, extra: &str, config: &str) -> String {
    let dist = component_dir(file);
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
