//! `[database]`: where accounts, listings and bookings live, and which backend that is.

use std::num::{NonZeroU32, NonZeroU64};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `url = "sqlite://data/hearth.db"` or `"postgres://user@host/db"`; the scheme picks the backend.
    pub url: DatabaseUrl,
    /// `max_connections = 10`
    #[serde(default = "default_max_connections")]
    pub max_connections: NonZeroU32,
    /// `busy_timeout_ms = 5000`: how long SQLite waits for a lock before giving up (zero would
    /// fail every write that meets another at once).
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: NonZeroU64,
}

fn default_max_connections() -> NonZeroU32 {
    NonZeroU32::new(10).expect("10 is not zero")
}

fn default_busy_timeout_ms() -> NonZeroU64 {
    NonZeroU64::new(5000).expect("5000 is not zero")
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

impl DatabaseBackend {
    /// The backend's name, as `hearth config check` prints it.
    pub fn name(self) -> &'static str {
        match self {
            DatabaseBackend::Sqlite => "sqlite",
            DatabaseBackend::Postgres => "postgres",
        }
    }
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
