//! Password hashing: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), always on the
//! blocking pool so hashing never stalls the async runtime, and bounded: at most
//! `limits.password_hash_concurrency` hashes run at once and `limits.password_hash_queue` wait,
//! so a flood of registrations or logins costs a fixed amount of memory and cores, and what does
//! not fit is refused at once ([`AuthError::Busy`], 503 with `Retry-After`) instead of piling up
//! 19 MiB threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use super::{AuthError, Password};
use crate::config::LimitsConfig;
use crate::metrics::{Metrics, PasswordHashLabels};

/// What a refused hash tells the client to wait: a hash takes tens of milliseconds, so a second
/// is plenty for the queue to move.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1. These are constants known to
    // be valid, so construction cannot fail.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string, unbounded (for bulk tools that run alone).
pub(super) async fn hash_unbounded(password: &Password) -> Result<String, AuthError> {
    let secret = password.expose().to_owned();
    tokio::task::spawn_blocking(move || hash_now(&secret))
        .await
        .map_err(|e| AuthError::Internal(format!("hashing task failed: {e}")))?
}

fn hash_now(secret: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Internal(format!("hashing failed: {e}")))
}

fn verify_now(candidate: &str, phc: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| AuthError::Internal(format!("stored hash is malformed: {e}")))?;
    Ok(argon2()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok())
}

/// The bounded hasher; one per kernel, cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Hasher {
    slots: Arc<Semaphore>,
    /// Hashes running or waiting for a slot.
    in_line: Arc<AtomicUsize>,
    max_in_line: usize,
    wait: Duration,
    metrics: Metrics,
}

/// Leaves the line when dropped, however the hash ends.
struct InLine(Arc<AtomicUsize>);

impl Drop for InLine {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hasher {
    pub(super) fn new(config: &LimitsConfig, metrics: Metrics) -> Self {
        let slots = config.password_hash_concurrency.get();
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            in_line: Arc::new(AtomicUsize::new(0)),
            max_in_line: slots.saturating_add(config.password_hash_queue),
            wait: config.password_hash_wait(),
            metrics,
        }
    }

    /// Runs `work` on the blocking pool once a slot is free; refuses at once when the line is
    /// full, and after `limits.password_hash_wait_ms` in it.
    async fn run<T: Send + 'static>(
        &self,
        op: &'static str,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let busy = || {
            self.metrics.password_hash_busy.inc();
            AuthError::Busy {
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            }
        };
        if self.in_line.fetch_add(1, Ordering::AcqRel) >= self.max_in_line {
            self.in_line.fetch_sub(1, Ordering::AcqRel);
            return Err(busy());
        }
        let _in_line = InLine(self.in_line.clone());
        let permit = match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(AuthError::Internal("the hashing slots are closed".into())),
            Err(_) => return Err(busy()),
        };
        self.metrics
            .password_hashes
            .get_or_create(&PasswordHashLabels { op })
            .inc();
        // The permit travels with the blocking task: a request that gives up (client gone)
        // still holds its slot until the hash it started is done.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| AuthError::Internal(format!("{op} task failed: {e}")))?
    }

    /// Hashes a password into a PHC string.
    pub(super) async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let secret = password.expose().to_owned();
        self.run("hash", move || hash_now(&secret)).await
    }

    /// Checks a password against a stored PHC string.
    pub(super) async fn verify(&self, candidate: &str, phc: &str) -> Result<bool, AuthError> {
        let candidate = candidate.to_owned();
        let phc = phc.to_owned();
        self.run("verify", move || verify_now(&candidate, &phc))
            .await
    }

    /// Verifies against a hash of a random password, so that a login for a missing account costs
    /// the same time as one with a wrong password. Always false.
    pub(super) async fn verify_decoy(&self, candidate: &str) -> Result<bool, AuthError> {
        static DECOY: OnceCell<String> = OnceCell::const_new();
        let decoy = DECOY
            .get_or_try_init(|| async {
                let random = super::token::SessionToken::generate();
                let password = Password::parse(random.expose())
                    .map_err(|e| AuthError::Internal(e.to_owned()))?;
                hash_unbounded(&password).await
            })
            .await?;
        self.verify(candidate, decoy).await?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use std::num::{NonZeroU64, NonZeroUsize};

    use super::*;

    fn hasher(concurrency: usize, queue: usize) -> (Hasher, Metrics) {
        let metrics = Metrics::new();
        let config = LimitsConfig {
            password_hash_concurrency: NonZeroUsize::new(concurrency).expect("not zero"),
            password_hash_queue: queue,
            password_hash_wait_ms: NonZeroU64::new(10_000).expect("not zero"),
            ..LimitsConfig::default()
        };
        (Hasher::new(&config, metrics.clone()), metrics)
    }

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let (hasher, _) = hasher(1, 0);
        let password = Password::parse("correct horse battery").expect("valid");
        let phc = hasher.hash(&password).await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher
            .verify("correct horse battery", &phc)
            .await
            .expect("verify"));
        assert!(!hasher
            .verify("wrong horse battery", &phc)
            .await
            .expect("verify"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_past_the_slots_and_the_queue_are_refused_as_busy() {
        let (hasher, metrics) = hasher(1, 2);
        let password = Password::parse("correct horse battery").expect("valid");
        let results = futures_util::future::join_all((0..12).map(|_| hasher.hash(&password))).await;
        let done = results.iter().filter(|r| r.is_ok()).count();
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(AuthError::Busy { .. })))
            .count();
        // One running and two waiting fit; the other nine arrive at a full line.
        assert_eq!((done, busy), (3, 9), "{results:?}");
        assert!(metrics
            .render()
            .contains("hearth_password_hash_busy_total 9"));
    }
}
