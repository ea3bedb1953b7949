//! Login throttling: failed logins (and wrong current passwords) are counted per account and
//! client address, per account, and per client address, in the cache (so every node sees the same
//! counts when the cache is Redis). The account is a hash of the lower-cased email, whether or not
//! the account exists, so a 429 reveals nothing; the address is a [`ClientKey`] (IPv6 per /64).
//!
//! The tight ceiling is per account *and* address; the per-account one is higher, so an attacker
//! failing from their address does not lock the owner out from theirs.
//!
//! An attempt is reserved before its password is verified: each count is bumped atomically
//! first, and an attempt whose bump went past a ceiling is undone and refused. So N parallel
//! wrong guesses verify at most the ceiling; a correct password gives its reservation back.
//!
//! Counting is a sliding window built from two fixed ones: the current window's count plus the
//! previous window's count weighted by how much of it still overlaps the last `window` seconds
//! (rounded up). So a window boundary neither forgives a burst nor lets through twice the limit.

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::cache::Namespace;
use crate::config::AuthConfig;
use crate::model::ClientKey;

/// Counts login failures and says when to refuse.
#[derive(Clone, Debug)]
pub(super) struct LoginThrottle {
    counts: Namespace,
    window_secs: u64,
    max_per_account_and_address: u64,
    max_per_account: u64,
    max_per_address: u64,
}

/// An attempt counted in advance; [`LoginThrottle::release`] gives it back.
#[derive(Debug)]
#[must_use = "a reservation counts as a failure unless released"]
pub(super) struct Reservation {
    keys: Vec<String>,
}

impl Reservation {
    /// The attempt failed: it stays counted until its window slides out.
    pub(super) fn keep(self) {}
}

/// The caller must wait `retry_after` seconds: `max` failures per `window_secs` were reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refused {
    pub(super) retry_after: u64,
    pub(super) max: u64,
    pub(super) window_secs: u64,
}

/// Where "now" falls: the current fixed window's index and the seconds elapsed in it.
#[derive(Debug, Clone, Copy)]
struct Clock {
    index: u64,
    elapsed: u64,
}

/// The sliding count: `current` plus the overlapping share of `previous`, rounded up.
fn sliding(current: u64, previous: u64, elapsed: u64, window: u64) -> u64 {
    current + (previous * (window - elapsed)).div_ceil(window)
}

/// Seconds until the sliding count drops below `max`, with no new failures.
fn retry_after(current: u64, previous: u64, elapsed: u64, window: u64, max: u64) -> u64 {
    let mut t = 0;
    // The count only falls, and by the end of the next window it is zero: a bounded search in
    // whole seconds, at most two windows long.
    while t < 2 * window {
        let (c, p, e) = if elapsed + t < window {
            (current, previous, elapsed + t)
        } else if elapsed + t < 2 * window {
            (0, current, elapsed + t - window)
        } else {
            (0, 0, 0)
        };
        if sliding(c, p, e, window) < max {
            break;
        }
        t += 1;
    }
    t.max(1)
}

impl LoginThrottle {
    pub(super) fn new(counts: Namespace, config: &AuthConfig) -> Self {
        Self {
            counts,
            window_secs: config.login_window_secs.get(),
            max_per_account_and_address: config
                .login_max_failures_per_account_and_address
                .get()
                .into(),
            max_per_account: config.login_max_failures_per_account.get().into(),
            max_per_address: config.login_max_failures_per_address.get().into(),
        }
    }

    fn clock(&self) -> Clock {
        let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
        Clock {
            index: now / self.window_secs,
            elapsed: now % self.window_secs,
        }
    }

    /// Each counted subject with its ceiling, tightest first.
    fn subjects(&self, email: &str, client: IpAddr) -> [(String, u64); 3] {
        let account = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
        let address = ClientKey::of(client);
        [
            (
                format!("pair:{account}:{address}"),
                self.max_per_account_and_address,
            ),
            (format!("acct:{account}"), self.max_per_account),
            (format!("addr:{address}"), self.max_per_address),
        ]
    }

    /// Reserves one failed attempt against every subject, or refuses (reserving nothing) when
    /// one of them would pass its ceiling.
    pub(super) async fn reserve(
        &self,
        email: &str,
        client: IpAddr,
    ) -> Result<Reservation, Refused> {
        let clock = self.clock();
        // Each window's counter must outlive the next window, which still weighs it.
        let ttl = Duration::from_secs(2 * self.window_secs);
        let mut reservation = Reservation { keys: Vec::new() };
        for (subject, max) in self.subjects(email, client) {
            let key = format!("{subject}:{}", clock.index);
            let mine = self.counts.incr(&key, ttl).await;
            reservation.keys.push(key);
            let previous = match clock.index.checked_sub(1) {
                Some(i) => self.counts.count(&format!("{subject}:{i}")).await,
                None => 0,
            };
            if sliding(mine, previous, clock.elapsed, self.window_secs) > max {
                self.release(reservation).await;
                let before = mine.saturating_sub(1);
                return Err(Refused {
                    retry_after: retry_after(
                        before,
                        previous,
                        clock.elapsed,
                        self.window_secs,
                        max,
                    ),
                    max,
                    window_secs: self.window_secs,
                });
            }
        }
        Ok(reservation)
    }

    /// Gives a reservation back: the attempt succeeded, or was never made.
    pub(super) async fn release(&self, reservation: Reservation) {
        for key in &reservation.keys {
            self.counts.decr(key).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_boundary_does_not_forgive_recent_failures() {
        // 5 failures late in the previous window still count in full just after the boundary.
        assert_eq!(sliding(0, 5, 1, 900), 5);
        // ...and fade as the previous window slides out.
        assert_eq!(sliding(0, 5, 450, 900), 3);
        assert_eq!(sliding(0, 5, 899, 900), 1);
        assert_eq!(sliding(2, 0, 10, 900), 2);
    }

    #[test]
    fn retry_after_is_when_the_sliding_count_drops_below_the_limit() {
        // 5 of 5 in the current window, 100 s in: wait out the rest of it, then until the
        // weighted remainder is below 5, i.e. as soon as it is 4 or less.
        let t = retry_after(5, 0, 100, 900, 5);
        assert_eq!(sliding(0, 5, t + 100 - 900, 900), 4);
        assert_eq!(sliding(0, 5, t + 100 - 900 - 1, 900), 5);
        // Already allowed: the minimum hint.
        assert_eq!(retry_after(1, 0, 0, 900, 5), 1);
    }
}
