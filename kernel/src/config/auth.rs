//! `[auth]`: sessions and login throttling.

use std::num::{NonZeroU32, NonZeroU64};

use secrecy::SecretString;
use serde::Deserialize;

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `session_ttl_hours = 720`: a session token is valid this long after login.
    pub session_ttl_hours: NonZeroU64,
    /// `session_cache_secs = 30`: how long a validated session may be served from the cache
    /// (0: every request reads the database). Logout deletes the cached entry at once; this
    /// bounds staleness only while the cache is unreachable.
    pub session_cache_secs: u64,
    /// `login_window_secs = 900`: the window over which failed logins are counted.
    pub login_window_secs: NonZeroU64,
    /// `login_max_failures_per_account_and_address = 5`: failed logins (or wrong current
    /// passwords) for one email from one client address within the window before further
    /// attempts from there get 429.
    pub login_max_failures_per_account_and_address: NonZeroU32,
    /// `login_max_failures_per_account = 50`: failed logins for one email from all addresses
    /// within the window before every attempt gets 429. Higher than the per-address ceiling, so
    /// an attacker failing from their address does not lock the owner out from theirs.
    pub login_max_failures_per_account: NonZeroU32,
    /// `login_max_failures_per_address = 20`: failed logins from one client address within the
    /// window before further attempts get 429.
    pub login_max_failures_per_address: NonZeroU32,
    /// `cache_key`: the secret cached sessions and roles are sealed with (HMAC-SHA256), so
    /// whoever can write to the cache cannot forge one. Nodes sharing a Redis should share it
    /// (`HEARTH_AUTH__CACHE_KEY`); unset, each process picks a random one, and a session cached
    /// by another node is read again from the database.
    pub cache_key: Option<SecretString>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_hours: NonZeroU64::new(24 * 30).expect("30 days is not zero"),
            session_cache_secs: 30,
            login_window_secs: NonZeroU64::new(15 * 60).expect("15 minutes is not zero"),
            login_max_failures_per_account_and_address: NonZeroU32::new(5).expect("5 is not zero"),
            login_max_failures_per_account: NonZeroU32::new(50).expect("50 is not zero"),
            login_max_failures_per_address: NonZeroU32::new(20).expect("20 is not zero"),
            cache_key: None,
        }
    }
}
