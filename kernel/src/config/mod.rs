//! Configuration: the one loader for `config/hearth.toml` plus `HEARTH_SECTION__KEY` environment
//! overrides.
//!
//! Parsing is strict: an unknown key, a value of the wrong type or a missing required key is a
//! [`ConfigError`] that names the file (or environment variable), the dotted key and what was
//! expected. Each section lives in its own module with the rules serde cannot express (its
//! `check`) next to its struct; a value where zero means nothing is a `NonZero*`, so serde refuses
//! 0 under that value's own key. Everything past [`Config::load`] is typed, so the rest of the
//! kernel never re-checks.

mod auth;
mod bookings;
mod bus;
mod cache;
mod database;
mod error;
mod exposure;
mod graphql;
mod jobs;
mod limits;
mod mail;
mod notifications;
mod outbound;
mod payments;
mod plugin_env;
mod plugin_host;
mod plugins;
mod quotes;
mod server;
mod telemetry;

pub use auth::AuthConfig;
pub use bookings::BookingsConfig;
pub use bus::BusConfig;
pub use cache::{CacheBackendKind, CacheConfig};
pub use database::{DatabaseBackend, DatabaseConfig, DatabaseUrl};
pub use error::{ConfigError, Problem};
pub use exposure::DEV_SECRET_MARKER;
pub use graphql::GraphqlConfig;
pub use jobs::{CronSchedule, JobsConfig, DEFAULT_SCHEDULES};
pub use limits::{Budget, LimitsConfig};
pub use mail::{MailConfig, MailTransportKind, SmtpTls};
pub use notifications::NotificationsConfig;
pub use outbound::OutboundConfig;
pub use payments::PaymentsConfig;
pub use plugin_host::PluginHostConfig;
pub use plugins::{
    Capability, HttpOrigin, OnError, PluginConfig, PluginId, PluginKind, PluginLimits, Sha256Pin,
    MAX_PLUGIN_MEMORY_MIB,
};
pub use quotes::QuotesConfig;
pub use server::{ServerConfig, TrustedProxies};
pub use telemetry::{LogFormat, TelemetryConfig};

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;

use error::Checks;

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
    /// `[limits]`: request budgets and the password-hashing bound.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[telemetry]`: logging.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// `[graphql]`: the cost limits of `/graphql`.
    #[serde(default)]
    pub graphql: GraphqlConfig,
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
    /// `[outbound]`: where plugins' HTTP and webhook deliveries may connect.
    #[serde(default)]
    pub outbound: OutboundConfig,
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

impl Config {
    /// Loads `path` (which must exist) and applies `HEARTH_SECTION__KEY` environment overrides.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        if !path.is_file() {
            return Err(ConfigError::missing_file(path));
        }
        let figment = Figment::new()
            .merge(Toml::file_exact(path))
            .merge(env_overrides());
        let vars: Vec<(String, String)> = std::env::vars().collect();
        let mut config = Self::extract(figment, Some(path), &vars)?;
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
        Self::extract(figment, Some(Path::new(name)), &[])
    }

    /// Extracts the configuration, fills plugin settings in from `vars` (the environment), and
    /// checks the result.
    fn extract(
        figment: Figment,
        file: Option<&Path>,
        vars: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::from_figment(e, file))?;
        plugin_env::settings_from_env(&mut config.plugins, vars, file)?;
        config.check(file)?;
        Ok(config)
    }

    /// The rules serde cannot express, each section's next to its struct; every problem found
    /// is reported, each under its own key.
    fn check(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let mut checks = Checks::default();
        self.server.check(&mut checks);
        self.cache.check(&mut checks);
        self.limits.check(&mut checks);
        self.telemetry.check(&mut checks);
        self.quotes.check(&mut checks);
        self.graphql.check(&mut checks);
        self.jobs.check(&mut checks);
        self.mail.check(&mut checks);
        self.payments.check(&self.plugins, &mut checks);
        plugins::check_all(&self.plugins, &mut checks);
        exposure::check(self, &mut checks);
        checks.finish(file)
    }
}

/// `HEARTH_SECTION__KEY` variables. Variables without `__` (such as `HEARTH_TEST_DATABASE_URL`)
/// are not configuration and are ignored.
fn env_overrides() -> Env {
    Env::prefixed(ENV_PREFIX)
        // `[[plugins]]` is a list: `HEARTH_PLUGINS__<ID>__<KEY>` is applied by id instead.
        .filter(|key| {
            key.as_str().contains("__")
                && !key.as_str().to_ascii_uppercase().starts_with("PLUGINS__")
        })
        .split("__")
}

#[cfg(test)]
mod tests;
