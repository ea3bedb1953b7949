//! `[limits]`: request budgets per client address and per account, and the bound on concurrent
//! password hashing.
//!
//! Each budget is `requests` per `window_secs`, counted per client address and, for a request
//! with a valid session, also per account; a request over either is refused with 429. A budget
//! table may give only the keys it changes (`[limits.login] requests = 50`): the others keep that
//! budget's default. `enabled = false` in a budget switches it off; `limits.enabled = false`
//! switches every budget off (load tests, fuzzers). The password-hashing bound is not a budget and
//! stays on.

use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::error::Checks;

/// The longest window a budget may have: a day (longer ones only lock people out for longer).
const MAX_WINDOW_SECS: u64 = 24 * 60 * 60;

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// `enabled = true`: apply the budgets below at all.
    pub enabled: bool,
    /// `[limits.general]` (default 600 per 60 s): every request but `/healthz` and `/readyz`.
    #[serde(deserialize_with = "budget::<600, 60, _>")]
    pub general: Budget,
    /// `[limits.register]` (default 20 per 3600 s): `POST /v1/auth/register`.
    #[serde(deserialize_with = "budget::<20, 3600, _>")]
    pub register: Budget,
    /// `[limits.login]` (default 30 per 60 s): `POST /v1/auth/login`, successful or not (failed
    /// logins are also throttled by `[auth]`).
    #[serde(deserialize_with = "budget::<30, 60, _>")]
    pub login: Budget,
    /// `[limits.password]` (default 10 per 600 s): `PATCH /v1/me`, which checks the current
    /// password.
    #[serde(deserialize_with = "budget::<10, 600, _>")]
    pub password: Budget,
    /// `[limits.quotes]` (default 60 per 60 s): `GET /v1/listings/{id}/quote`, which runs the
    /// pricing plugins.
    #[serde(deserialize_with = "budget::<60, 60, _>")]
    pub quotes: Budget,
    /// `[limits.bookings]` (default 30 per 3600 s): `POST /v1/bookings`.
    #[serde(deserialize_with = "budget::<30, 3600, _>")]
    pub bookings: Budget,
    /// `password_hash_concurrency = 2`: password hashes and verifications running at once
    /// (each takes 19 MiB and a core); default: the number of cores.
    pub password_hash_concurrency: NonZeroUsize,
    /// `password_hash_queue = 16`: hashes that may wait for a slot; more get 503 at once.
    pub password_hash_queue: usize,
    /// `password_hash_wait_ms = 2000`: a hash that waited this long for a slot gets 503.
    pub password_hash_wait_ms: NonZeroU64,
}

/// One budget: `requests` per `window_secs`, per client address and per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// `enabled = true`: `false` switches this budget off.
    pub enabled: bool,
    /// `requests = 30`: how many requests a client may make within the window.
    pub requests: NonZeroU32,
    /// `window_secs = 60`: the window, 1 to 86400 seconds. The budget refills evenly over it
    /// (GCRA), so a client that used it all may make one more request every
    /// `window_secs / requests`.
    pub window_secs: NonZeroU64,
}

impl Budget {
    const fn new(requests: u32, window_secs: u64) -> Self {
        match (NonZeroU32::new(requests), NonZeroU64::new(window_secs)) {
            (Some(requests), Some(window_secs)) => Self {
                enabled: true,
                requests,
                window_secs,
            },
            _ => panic!("a default budget is not zero"),
        }
    }

    /// The window as a [`Duration`].
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs.get())
    }
}

/// A budget table as written: every key optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetTable {
    enabled: Option<bool>,
    requests: Option<NonZeroU32>,
    window_secs: Option<NonZeroU64>,
}

/// Reads a budget table, taking the keys it leaves out from the default `R` per `W` seconds.
fn budget<'de, const R: u32, const W: u64, D: Deserializer<'de>>(d: D) -> Result<Budget, D::Error> {
    let default = Budget::new(R, W);
    let table = BudgetTable::deserialize(d)?;
    Ok(Budget {
        enabled: table.enabled.unwrap_or(default.enabled),
        requests: table.requests.unwrap_or(default.requests),
        window_secs: table.window_secs.unwrap_or(default.window_secs),
    })
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
        Self {
            enabled: true,
            general: Budget::new(600, 60),
            register: Budget::new(20, 3600),
            login: Budget::new(30, 60),
            password: Budget::new(10, 600),
            quotes: Budget::new(60, 60),
            bookings: Budget::new(30, 3600),
            password_hash_concurrency: cores,
            password_hash_queue: 16,
            password_hash_wait_ms: NonZeroU64::new(2000).expect("2000 is not zero"),
        }
    }
}

impl LimitsConfig {
    /// Every budget with its name (the name is the policy's in `RateLimit-Policy`).
    pub fn budgets(&self) -> [(&'static str, Budget); 6] {
        [
            ("general", self.general),
            ("register", self.register),
            ("login", self.login),
            ("password", self.password),
            ("quotes", self.quotes),
            ("bookings", self.bookings),
        ]
    }

    /// How long a hash may wait for a slot.
    pub fn password_hash_wait(&self) -> Duration {
        Duration::from_millis(self.password_hash_wait_ms.get())
    }

    pub(super) fn check(&self, checks: &mut Checks) {
        for (name, budget) in self.budgets() {
            if budget.window_secs.get() > MAX_WINDOW_SECS {
                checks.invalid(
                    format!("limits.{name}.window_secs"),
                    "1 to 86400 seconds (a day)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn limits(toml: &str) -> LimitsConfig {
        let text = format!("[database]\nurl = \"sqlite::memory:\"\n\n{toml}");
        Config::from_toml_str("test.toml", &text)
            .expect("valid")
            .limits
    }

    #[test]
    fn a_budget_table_keeps_the_defaults_of_the_keys_it_leaves_out() {
        let defaults = LimitsConfig::default();
        let given = limits("[limits.login]\nrequests = 50\n\n[limits.quotes]\nenabled = false\n");
        assert_eq!(given.login.requests.get(), 50);
        assert_eq!(given.login.window_secs, defaults.login.window_secs);
        assert!(!given.quotes.enabled);
        assert_eq!(given.quotes.requests, defaults.quotes.requests);
        assert_eq!(given.register, defaults.register);
        // An empty table is the default itself: the two spellings of each default agree.
        let empty = limits(
            "[limits.general]\n[limits.register]\n[limits.login]\n[limits.password]\n\
             [limits.quotes]\n[limits.bookings]\n",
        );
        assert_eq!(empty.budgets(), defaults.budgets());
    }

    #[test]
    fn a_budget_window_over_a_day_is_refused_by_key() {
        let text =
            "[database]\nurl = \"sqlite::memory:\"\n[limits.register]\nwindow_secs = 90000\n";
        let err = Config::from_toml_str("test.toml", text).expect_err("refused");
        assert_eq!(err.problems()[0].key, "limits.register.window_secs");
    }
}
