//! Logging in and out, and resolving a bearer token to its caller.

use std::net::IpAddr;

use chrono::Utc;

use super::sealed::Sealed;
use super::throttle::Refused;
use super::{account_from, token, Auth, AuthError, CachedSession, Principal, Role, Session};
use super::{AccountId, SessionToken};
use crate::data::{accounts, sessions};

impl From<Refused> for AuthError {
    fn from(r: Refused) -> Self {
        AuthError::Throttled {
            retry_after_secs: r.retry_after,
            max_failures: r.max,
            window_secs: r.window_secs,
        }
    }
}

impl Auth {
    /// Checks credentials and opens a session. Unknown email and wrong password are the same
    /// error and cost the same time. The attempt is reserved with the throttle before the hash
    /// is checked and counts as a failure unless the password is right.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Session, AuthError> {
        let reservation = self.throttle.reserve(email, client).await.map_err(|r| {
            self.metrics.login_throttled.inc();
            AuthError::from(r)
        })?;
        let checked = async {
            let mut conn = self.db.acquire().await?;
            let found = accounts::find_by_email(conn.exec(), email.trim()).await?;
            drop(conn);
            let verified = match &found {
                Some(record) => self.hasher.verify(password, &record.password_hash).await?,
                None => self.hasher.verify_decoy(password).await?,
            };
            Ok::<_, AuthError>(found.filter(|_| verified))
        }
        .await;
        let record = match checked {
            Ok(Some(record)) => {
                self.throttle.release(reservation).await;
                record
            }
            Ok(None) => {
                // The reservation stays: it was a failure.
                self.metrics.login_failures.inc();
                reservation.keep();
                return Err(AuthError::InvalidCredentials);
            }
            Err(e) => {
                // Busy or broken: no password was judged, so nothing counts.
                self.throttle.release(reservation).await;
                return Err(e);
            }
        };
        let token = SessionToken::generate();
        let now = Utc::now();
        let session = sessions::SessionRecord {
            token_hash: token::hash(token.expose()),
            account_id: record.id,
            created_at: now,
            expires_at: now + self.session_ttl,
        };
        let mut conn = self.db.write().await?;
        sessions::insert(conn.exec(), &session).await?;
        tracing::info!(account.id = %record.id, "session opened");
        Ok(Session {
            token,
            expires_at: session.expires_at,
            account: account_from(record)?,
        })
    }

    /// Checks `candidate` as the current password of the account with `email` (authorising a
    /// change), throttled exactly like a login from `client`.
    pub(super) async fn check_current_password(
        &self,
        email: &str,
        phc: &str,
        candidate: &str,
        client: IpAddr,
    ) -> Result<(), AuthError> {
        let reservation = self.throttle.reserve(email, client).await.map_err(|r| {
            self.metrics.login_throttled.inc();
            AuthError::from(r)
        })?;
        match self.hasher.verify(candidate, phc).await {
            Ok(true) => {
                self.throttle.release(reservation).await;
                Ok(())
            }
            Ok(false) => {
                self.metrics.login_failures.inc();
                reservation.keep();
                Err(AuthError::WrongCurrentPassword)
            }
            Err(e) => {
                self.throttle.release(reservation).await;
                Err(e)
            }
        }
    }

    /// Resolves a bearer token to its caller, through the cache.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        self.resolve(token::hash(token)).await
    }

    /// The caller `principal` is now: their current role, or `Unauthenticated` once their
    /// session has ended (logged out, expired, revoked). For long-lived connections, which
    /// authenticate once and must not outlive the session.
    pub async fn recheck(&self, principal: &Principal) -> Result<Principal, AuthError> {
        self.resolve(principal.token_hash.clone()).await
    }

    /// The caller of the session whose token hashes to `token_hash`.
    async fn resolve(&self, token_hash: String) -> Result<Principal, AuthError> {
        let now = Utc::now();
        let cached = self
            .sessions
            .get::<Sealed<CachedSession>>(&token_hash)
            .await
            .and_then(|sealed| self.open("sessions", &token_hash, sealed));
        let session = match cached {
            Some(cached) => cached,
            None => {
                let mut conn = self.db.acquire().await?;
                let record = sessions::find_live(conn.exec(), &token_hash, now)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                let cached = CachedSession {
                    account_id: record.account_id.into(),
                    expires_at: record.expires_at,
                };
                let sealed = self.sealer.seal(&format!("sessions:{token_hash}"), cached);
                self.sessions
                    .set(&token_hash, &sealed, self.session_cache_ttl)
                    .await;
                cached
            }
        };
        if session.expires_at <= now {
            return Err(AuthError::Unauthenticated);
        }
        let role = self.role_of(session.account_id).await?;
        Ok(Principal {
            account_id: session.account_id,
            role,
            token_hash,
        })
    }

    async fn role_of(&self, id: AccountId) -> Result<Role, AuthError> {
        let key = id.to_string();
        let cached = self
            .roles
            .get::<Sealed<Role>>(&key)
            .await
            .and_then(|sealed| self.open("roles", &key, sealed));
        if let Some(role) = cached {
            return Ok(role);
        }
        let account = self.account(id).await?;
        let sealed = self.sealer.seal(&format!("roles:{key}"), account.role);
        self.roles.set(&key, &sealed, self.session_cache_ttl).await;
        Ok(account.role)
    }

    /// A sealed value from the namespace `ns` at `key`, if its seal holds; a broken one is a
    /// forgery (or another key's) and is logged and counted.
    fn open<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        ns: &str,
        key: &str,
        sealed: Sealed<T>,
    ) -> Option<T> {
        let opened = self.sealer.open(&format!("{ns}:{key}"), sealed);
        if opened.is_none() {
            tracing::warn!(
                cache.namespace = ns,
                "a cached value failed its seal; ignored"
            );
            self.metrics.cache_seal_failures.inc();
        }
        opened
    }

    /// Ends the caller's session at once.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        let mut conn = self.db.write().await?;
        sessions::delete(conn.exec(), &principal.token_hash).await?;
        drop(conn);
        self.sessions.delete(&principal.token_hash).await;
        tracing::info!(account.id = %principal.account_id, "session closed");
        Ok(())
    }
}
