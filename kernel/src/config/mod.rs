//! Configuration: the one loader for `config/hearth.toml` plus `HEARTH_SECTION__KEY` environment
//! overrides.
//!
//! Parsing is strict: an unknown key, a value of the wrong type or a missing required key is a
//! [`ConfigError`] that names the file (or environment variable), the dotted key and what was
//! expected. Everything past [`Config::load`] is typed, so the rest of the kernel never re-checks.

mod background;
mod bookings;
mod error;
mod plugins;

pub use background::{
    BusConfig, CronSchedule, JobsConfig, MailConfig, MailTransportKind, NotificationsConfig,
    SmtpTls, DEFAULT_SCHEDULES,
};
pub use bookings::{BookingsConfig, PaymentsConfig};
pub use error::ConfigError;
pub use plugins::{
    Capability, OnError, PluginConfig, PluginHostConfig, PluginId, PluginKind, PluginLimits,
    Sha256Pin, MAX_PLUGIN_MEMORY_MIB,
};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The default location of the configuration file, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/hearth.toml";

/// Environment variables starting with this prefix and containing `__` override TOML keys:
/// `HEARTH_SERVER__BIND=0.0.0.0:8080` sets `server.bind`.
pub const ENV_PREFIX: &str = "HEARTH_";

/// The whole kernel configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`: the HTTP listener and request limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[database]`: where accounts, listings and bookings live.
    pub database: DatabaseConfig,
    /// `[cache]`: the cache primitive's backend.
    #[serde(default)]
    pub cache: CacheConfig,
    /// `[auth]`: sessions and login throttling.
    #[serde(default)]
    pub auth: AuthConfig,
    /// `[telemetry]`: logging.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// `[quotes]`: priced quotes.
    #[serde(default)]
    pub quotes: QuotesConfig,
    /// `[bus]`: the event outbox and its subscribers.
    #[serde(default)]
    pub bus: BusConfig,
    /// `[jobs]`: durable background jobs and timers.
    #[serde(default)]
    pub jobs: JobsConfig,
    /// `[mail]`: outgoing email.
    #[serde(default)]
    pub mail: MailConfig,
    /// `[notifications]`: delivery of notifier plugins' messages.
    #[serde(default)]
    pub notifications: NotificationsConfig,
    /// `[bookings]`: booking timers.
    #[serde(default)]
    pub bookings: BookingsConfig,
    /// `[payments]`: payment providers per currency.
    #[serde(default)]
    pub payments: PaymentsConfig,
    /// `[plugin_host]`: the WebAssembly engine.
    #[serde(default)]
    pub plugin_host: PluginHostConfig,
    /// `[[plugins]]`: the plugins to load.
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// The file this configuration was loaded from (reloads re-read it); relative plugin paths
    /// are resolved against its folder.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `bind = "127.0.0.1:8080"`: the address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// `request_timeout_secs = 30`: a request still running after this is answered 503.
    pub request_timeout_secs: u64,
    /// `body_limit_bytes = 1048576`: larger request bodies are refused with 413.
    pub body_limit_bytes: usize,
    /// `shutdown_grace_secs = 30`: on SIGINT/SIGTERM, requests in flight get this long to finish.
    pub shutdown_grace_secs: u64,
    /// `trust_forwarded_for = false`: take the client address from `X-Forwarded-For` (only behind
    /// a proxy you control; otherwise clients can spoof it and dodge login throttling).
    pub trust_forwarded_for: bool,
    /// `cors_allowed_origins = ["https://app.example.com"]`: origins allowed to call the API from
    /// a browser; empty disables CORS headers.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_secs: 30,
            body_limit_bytes: 1024 * 1024,
            shutdown_grace_secs: 30,
            trust_forwarded_for: false,
            cors_allowed_origins: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// The request timeout as a [`Duration`].
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// The shutdown grace period as a [`Duration`].
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `url = "sqlite://data/hearth.db"` or `"postgres://user@host/db"`; the scheme picks the backend.
    pub url: DatabaseUrl,
    /// `max_connections = 10`
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// `busy_timeout_ms = 5000`: how long SQLite waits for a lock before giving up.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
}

fn default_max_connections() -> u32 {
    10
}

fn default_busy_timeout_ms() -> u64 {
    5000
}

/// A database URL whose scheme names a supported backend. Kept secret because it may carry a
/// password.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    backend: DatabaseBackend,
    url: SecretString,
}

/// Which database a [`DatabaseUrl`] points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseBackend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl DatabaseUrl {
    /// Parses a URL, accepting `sqlite:`, `postgres://` and `postgresql://` schemes.
    pub fn parse(url: &str) -> Result<Self, String> {
        let backend = if url.starts_with("sqlite:") {
            DatabaseBackend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseBackend::Postgres
        } else {
            return Err(
                "expected a URL starting with `sqlite:`, `postgres://` or `postgresql://`".into(),
            );
        };
        Ok(Self {
            backend,
            url: SecretString::from(url.to_owned()),
        })
    }

    /// The backend the scheme names.
    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// The URL itself; handle with care, it may contain a password.
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        DatabaseUrl::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// `[cache]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// `backend = "memory"` (in-process, one node) or `"redis"` (shared by every node).
    pub backend: CacheBackendKind,
    /// `max_entries = 100000`: capacity of the in-process cache.
    pub max_entries: u64,
    /// `redis_url = "redis://127.0.0.1:6379"`: required when `backend = "redis"`.
    pub redis_url: Option<SecretString>,
    /// `timeout_ms = 100`: a Redis call slower than this is abandoned and the cache skipped.
    pub timeout_ms: u64,
    /// `key_prefix = "hearth"`: prepended to every Redis key, so several deployments can share one
    /// Redis.
    pub key_prefix: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            backend: CacheBackendKind::Memory,
            max_entries: 100_000,
            redis_url: None,
            timeout_ms: 100,
            key_prefix: "hearth".into(),
        }
    }
}

/// The cache backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackendKind {
    /// In-process (moka).
    Memory,
    /// Redis.
    Redis,
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `session_ttl_hours = 720`: a session token is valid this long after login.
    pub session_ttl_hours: u64,
    /// `session_cache_secs = 30`: how long a validated session may be served from the cache.
    /// Logout deletes the cached entry at once; this bounds staleness only while the cache is
    /// unreachable.
    pub session_cache_secs: u64,
    /// `login_window_secs = 900`: the window over which failed logins are counted.
    pub login_window_secs: u64,
    /// `login_max_failures_per_account = 5`: failed logins for one email within the window before
    /// further attempts get 429.
    pub login_max_failures_per_account: u32,
    /// `login_max_failures_per_address = 20`: failed logins from one client address within the
    /// window before further attempts get 429.
    pub login_max_failures_per_address: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_hours: 24 * 30,
            session_cache_secs: 30,
            login_window_secs: 15 * 60,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 20,
        }
    }
}

/// `[quotes]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotesConfig {
    /// `ttl_minutes = 15`: how long a quote holds its price for a booking.
    pub ttl_minutes: u64,
}

impl Default for QuotesConfig {
    fn default() -> Self {
        Self { ttl_minutes: 15 }
    }
}

/// `[telemetry]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// `log_format = "human"` or `"json"`.
    pub log_format: LogFormat,
    /// `log_level = "info"`: a tracing filter (`RUST_LOG` wins when set).
    pub log_level: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Human,
            log_level: "info".into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

impl Config {
    /// Loads `path` (which must exist) and applies `HEARTH_SECTION__KEY` environment overrides.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        if !path.is_file() {
            return Err(ConfigError::missing_file(path));
        }
        let figment = Figment::new()
            .merge(Toml::file_exact(path))
            .merge(env_overrides());
        let mut config = Self::extract(figment, Some(path.to_path_buf()))?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// The folder relative paths in this configuration are resolved against: the configuration
    /// file's folder, or the working directory for configuration that came from no file.
    pub fn base_dir(&self) -> PathBuf {
        self.source
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Resolves a path from this configuration against [`Config::base_dir`].
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir().join(path)
        }
    }

    /// Parses configuration from TOML text, without environment overrides. `name` stands for the
    /// file in error messages.
    pub fn from_toml_str(name: &str, toml: &str) -> Result<Self, ConfigError> {
        let figment = Figment::new().merge(Toml::string(toml));
        Self::extract(figment, Some(PathBuf::from(name)))
    }

    fn extract(figment: Figment, file: Option<PathBuf>) -> Result<Self, ConfigError> {
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::from_figment(e, file.as_deref()))?;
        config.check(file.as_deref())?;
        Ok(config)
    }

    /// Cross-field rules serde cannot express.
    fn check(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let invalid =
            |key: &str, expected: &str| Err(ConfigError::invalid(file, key, expected.to_owned()));
        if self.cache.backend == CacheBackendKind::Redis {
            match &self.cache.redis_url {
                None => {
                    return invalid(
                        "cache.redis_url",
                        "a `redis://` URL, required when `cache.backend = \"redis\"`",
                    )
                }
                Some(url) if !url.expose_secret().starts_with("redis://") => {
                    return invalid("cache.redis_url", "a URL starting with `redis://`")
                }
                Some(_) => {}
            }
        }
        if self.cache.timeout_ms == 0 {
            return invalid("cache.timeout_ms", "a timeout of at least 1 ms");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "at least 1 connection");
        }
        if self.server.request_timeout_secs == 0 {
            return invalid("server.request_timeout_secs", "at least 1 second");
        }
        if self.auth.session_ttl_hours == 0 {
            return invalid("auth.session_ttl_hours", "at least 1 hour");
        }
        if self.quotes.ttl_minutes == 0 || self.quotes.ttl_minutes > 24 * 60 {
            return invalid("quotes.ttl_minutes", "1 to 1440 minutes");
        }
        if self.auth.login_window_secs == 0 {
            return invalid("auth.login_window_secs", "at least 1 second");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.telemetry.log_level).is_err() {
            return invalid(
                "telemetry.log_level",
                "a tracing filter such as `info` or `hearth=debug,sqlx=warn`",
            );
        }
        self.check_plugins(file)?;
        self.check_background(file)?;
        self.check_payments(file)?;
        for origin in &self.server.cors_allowed_origins {
            let ok = url::Url::parse(origin)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.path() == "/")
                .unwrap_or(false);
            if !ok || origin.ends_with('/') {
                return invalid(
                    "server.cors_allowed_origins",
                    "origins like `https://app.example.com` (scheme and host, no path)",
                );
            }
        }
        Ok(())
    }
}

impl Config {
    fn check_plugins(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let invalid = |key: String, expected: &str| {
            Err(ConfigError::invalid(file, &key, expected.to_owned()))
        };
        if self.plugin_host.max_instances == 0 {
            return invalid("plugin_host.max_instances".into(), "at least 1");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.plugins.iter().enumerate() {
            let at = |key: &str| format!("plugins[{i}].{key}");
            if !seen.insert(p.id.as_str()) {
                return invalid(at("id"), "an id not used by another plugin");
            }
            match (&p.sha256, &p.sha256_from) {
                (None, None) => {
                    return invalid(
                        at("sha256"),
                        "a pin: `sha256 = \"<64 hex digits>\"` or `sha256_from = \"SHA256SUMS\"`",
                    )
                }
                (Some(_), Some(_)) => {
                    return invalid(
                        at("sha256_from"),
                        "either `sha256` or `sha256_from`, not both",
                    )
                }
                _ => {}
            }
            let limits = &p.limits;
            if limits.fuel == 0 || limits.timeout_ms == 0 || limits.output_kib == 0 {
                return invalid(
                    at("limits"),
                    "fuel, timeout_ms and output_kib of at least 1",
                );
            }
            if limits.memory_mib == 0 || limits.memory_mib > MAX_PLUGIN_MEMORY_MIB {
                return invalid(at("limits.memory_mib"), "1 to 64 (MiB)");
            }
            if !p.config.is_object() {
                return invalid(at("config"), "a table");
            }
            if !p.http_allow.is_empty() && !p.capabilities.contains(&Capability::Http) {
                return invalid(at("http_allow"), "the `http` capability to be granted too");
            }
        }
        Ok(())
    }
}

impl Config {
    fn check_payments(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let invalid =
            |key: String, expected: String| Err(ConfigError::invalid(file, &key, expected));
        if self.bookings.hold_minutes == 0 || self.bookings.request_hours == 0 {
            return invalid(
                "bookings".into(),
                "hold_minutes and request_hours of at least 1".into(),
            );
        }
        let payments: Vec<&str> = self
            .plugins
            .iter()
            .filter(|p| p.kind == PluginKind::Payments)
            .map(|p| p.id.as_str())
            .collect();
        let named = self
            .payments
            .default_provider
            .iter()
            .map(|id| ("payments.default_provider".to_owned(), id))
            .chain(
                self.payments
                    .providers
                    .iter()
                    .map(|(currency, id)| (format!("payments.providers.{currency}"), id)),
            );
        for (key, id) in named {
            if !payments.contains(&id.as_str()) {
                return invalid(
                    key,
                    format!(
                        "the id of a `kind = \"payments\"` plugin in [[plugins]] ({})",
                        if payments.is_empty() {
                            "there is none".to_owned()
                        } else {
                            payments.join(", ")
                        }
                    ),
                );
            }
        }
        for currency in self.payments.providers.keys() {
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return invalid(
                    format!("payments.providers.{currency}"),
                    "an ISO 4217 currency code such as `EUR`".into(),
                );
            }
        }
        Ok(())
    }

    fn check_background(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let invalid =
            |key: &str, expected: &str| Err(ConfigError::invalid(file, key, expected.to_owned()));
        let (bus, jobs) = (&self.bus, &self.jobs);
        if bus.poll_interval_ms == 0 || bus.batch_size == 0 || bus.max_attempts == 0 {
            return invalid(
                "bus",
                "poll_interval_ms, batch_size and max_attempts of at least 1",
            );
        }
        if bus.reclaim_idle_secs == 0 {
            return invalid("bus.reclaim_idle_secs", "at least 1 second");
        }
        if jobs.concurrency == 0 || jobs.poll_interval_ms == 0 || jobs.max_attempts == 0 {
            return invalid(
                "jobs",
                "concurrency, poll_interval_ms and max_attempts of at least 1",
            );
        }
        if jobs.lease_secs < 3 {
            return invalid("jobs.lease_secs", "at least 3 seconds");
        }
        if jobs.retention_days == 0 {
            return invalid("jobs.retention_days", "at least 1 day");
        }
        if jobs.backoff_base_ms == 0 {
            return invalid("jobs.backoff_base_ms", "at least 1 ms");
        }
        for name in jobs.schedules.keys() {
            if !DEFAULT_SCHEDULES.iter().any(|(known, _)| known == name) {
                let names: Vec<_> = DEFAULT_SCHEDULES.iter().map(|(n, _)| *n).collect();
                return invalid(
                    &format!("jobs.schedules.{name}"),
                    &format!("one of the kernel's schedules: {}", names.join(", ")),
                );
            }
        }
        let mail = &self.mail;
        if mail.transport == MailTransportKind::Smtp {
            if mail.smtp_host.is_empty() {
                return invalid(
                    "mail.smtp_host",
                    "a host name, required for `transport = \"smtp\"`",
                );
            }
            if mail.smtp_username.is_some() != mail.smtp_password.is_some() {
                return invalid(
                    "mail.smtp_password",
                    "both `smtp_username` and `smtp_password`, or neither",
                );
            }
        }
        if mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid(
                "mail.from",
                "a mailbox such as `Hearth <no-reply@example.com>`",
            );
        }
        if mail.timeout_ms == 0 || self.notifications.webhook_timeout_ms == 0 {
            return invalid(
                "mail.timeout_ms",
                "timeouts (mail.timeout_ms, notifications.webhook_timeout_ms) of at least 1 ms",
            );
        }
        Ok(())
    }
}

/// `HEARTH_SECTION__KEY` variables. Variables without `__` (such as `HEARTH_TEST_DATABASE_URL`)
/// are not configuration and are ignored.
fn env_overrides() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| key.as_str().contains("__"))
        .split("__")
}

#[cfg(test)]
mod tests;
