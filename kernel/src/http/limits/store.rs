//! Where a budget's state lives: in Redis when the cache is Redis (one decision for every node,
//! by [`Namespace::gcra`]), else in process (`governor`'s keyed GCRA). When Redis fails, the
//! in-process limiter decides instead, so a budget keeps holding on each node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::cache::Namespace;
use crate::config::Budget;

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Drop idle keys from the in-process limiter every this many decisions.
const SWEEP_EVERY: u64 = 4096;

/// One budget's decision for one key.
#[derive(Debug, Clone, Copy)]
pub(super) struct Decision {
    pub(super) allowed: bool,
    pub(super) remaining: u64,
    /// Refused: until one more request is allowed. Allowed: until the budget is whole again.
    pub(super) wait: Duration,
}

/// One budget's limiter.
pub(super) struct Store {
    pub(super) name: &'static str,
    pub(super) budget: Budget,
    emission: Duration,
    local: KeyedLimiter,
    shared: Option<Namespace>,
    decisions: AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("name", &self.name)
            .field("budget", &self.budget)
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

impl Store {
    pub(super) fn new(name: &'static str, budget: Budget, shared: Option<Namespace>) -> Self {
        // The budget refills one request per `window / requests`; a client may spend it all at
        // once. At least a microsecond, which is also the Redis script's resolution.
        let emission = (budget.window() / budget.requests.get()).max(Duration::from_micros(1));
        let quota = Quota::with_period(emission)
            .unwrap_or_else(|| Quota::per_second(budget.requests))
            .allow_burst(budget.requests);
        Self {
            name,
            budget,
            emission,
            local: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            shared,
            decisions: AtomicU64::new(0),
        }
    }

    /// Counts one request for `key` if the budget allows it.
    pub(super) async fn check(&self, key: &str) -> Decision {
        if let Some(shared) = &self.shared {
            if let Some(d) = shared
                .gcra(
                    &format!("{}:{key}", self.name),
                    self.emission,
                    self.budget.requests.get(),
                )
                .await
            {
                return Decision {
                    allowed: d.allowed,
                    remaining: d.remaining,
                    wait: d.wait,
                };
            }
        }
        self.check_local(key)
    }

    fn check_local(&self, key: &str) -> Decision {
        if self.decisions.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Keys whose budget is whole again carry no information: forget them, so memory
            // follows the clients of the last window, not every client ever seen.
            self.local.retain_recent();
            self.local.shrink_to_fit();
        }
        let requests = u64::from(self.budget.requests.get());
        match self.local.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = u64::from(snapshot.remaining_burst_capacity());
                let used = u32::try_from(requests.saturating_sub(remaining)).unwrap_or(u32::MAX);
                Decision {
                    allowed: true,
                    remaining,
                    wait: self.emission.saturating_mul(used),
                }
            }
            Err(not_until) => Decision {
                allowed: false,
                remaining: 0,
                wait: not_until.wait_time_from(self.local.clock().now()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::{NonZeroU32, NonZeroU64};

    use super::*;

    fn budget(requests: u32, window_secs: u64) -> Budget {
        Budget {
            enabled: true,
            requests: NonZeroU32::new(requests).expect("not zero"),
            window_secs: NonZeroU64::new(window_secs).expect("not zero"),
        }
    }

    #[tokio::test]
    async fn a_key_gets_its_burst_then_waits_one_emission() {
        let store = Store::new("login", budget(3, 60), None);
        let remaining: Vec<u64> = [0; 3]
            .iter()
            .map(|_| store.check_local("a"))
            .map(|d| {
                assert!(d.allowed);
                d.remaining
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = store.check("a").await;
        assert!(!refused.allowed);
        assert!(
            refused.wait > Duration::from_secs(19) && refused.wait <= Duration::from_secs(20),
            "{refused:?}"
        );
        // Another key is unaffected.
        assert!(store.check("b").await.allowed);
    }
}
