//! Login throttling: failed logins are counted per account (by a hash of the lower-cased email,
//! whether or not the account exists, so a 429 reveals nothing) and per client address, in fixed
//! windows kept in the cache (so every node sees the same counts when the cache is Redis).

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::cache::Namespace;
use crate::config::AuthConfig;

/// Counts login failures and says when to refuse.
#[derive(Clone, Debug)]
pub(super) struct LoginThrottle {
    counts: Namespace,
    window_secs: u64,
    max_per_account: u64,
    max_per_address: u64,
}

/// The caller must wait this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RetryAfter(pub(super) u64);

impl LoginThrottle {
    pub(super) fn new(counts: Namespace, config: &AuthConfig) -> Self {
        Self {
            counts,
            window_secs: config.login_window_secs,
            max_per_account: config.login_max_failures_per_account.into(),
            max_per_address: config.login_max_failures_per_address.into(),
        }
    }

    fn window(&self) -> (u64, u64) {
        let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
        let index = now / self.window_secs;
        let remaining = (index + 1) * self.window_secs - now;
        (index, remaining.max(1))
    }

    fn keys(&self, email: &str, client: IpAddr) -> (String, String) {
        let (index, _) = self.window();
        let account = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
        (
            format!("acct:{account}:{index}"),
            format!("addr:{client}:{index}"),
        )
    }

    /// Refuses when either count has reached its maximum in the current window.
    pub(super) async fn check(&self, email: &str, client: IpAddr) -> Result<(), RetryAfter> {
        let (account, address) = self.keys(email, client);
        let over = self.counts.count(&account).await >= self.max_per_account
            || self.counts.count(&address).await >= self.max_per_address;
        if over {
            Err(RetryAfter(self.window().1))
        } else {
            Ok(())
        }
    }

    /// Counts one failure against both the account and the address.
    pub(super) async fn record_failure(&self, email: &str, client: IpAddr) {
        let (account, address) = self.keys(email, client);
        let ttl = Duration::from_secs(self.window_secs);
        self.counts.incr(&account, ttl).await;
        self.counts.incr(&address, ttl).await;
    }
}
