//! `[server]`: the HTTP listener and request limits.

use std::net::SocketAddr;
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

use serde::Deserialize;

use super::error::Checks;

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `bind = "127.0.0.1:8080"`: the address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// `request_timeout_secs = 30`: a request still running after this is answered 503.
    pub request_timeout_secs: NonZeroU64,
    /// `body_limit_bytes = 1048576`: larger request bodies are refused with 413.
    pub body_limit_bytes: NonZeroUsize,
    /// `shutdown_grace_secs = 30`: on SIGINT/SIGTERM, requests in flight get this long to finish
    /// (0: stop at once).
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
            request_timeout_secs: NonZeroU64::new(30).expect("30 is not zero"),
            body_limit_bytes: NonZeroUsize::new(1024 * 1024).expect("1 MiB is not zero"),
            shutdown_grace_secs: 30,
            trust_forwarded_for: false,
            cors_allowed_origins: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// The request timeout as a [`Duration`].
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.get())
    }

    /// The shutdown grace period as a [`Duration`].
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Every origin is a scheme and a host (and port): the form browsers send in `Origin`, so an
    /// origin with a path or a trailing slash would never match and is a mistake.
    pub(super) fn check(&self, checks: &mut Checks) {
        for (i, origin) in self.cors_allowed_origins.iter().enumerate() {
            let ok = url::Url::parse(origin)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.path() == "/")
                .unwrap_or(false);
            if !ok || origin.ends_with('/') {
                checks.invalid(
                    format!("server.cors_allowed_origins[{i}]"),
                    "an origin like `https://app.example.com` (scheme and host, no path)",
                );
            }
        }
    }
}
