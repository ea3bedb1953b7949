//! Auth: accounts, passwords, sessions and roles.
//!
//! Owns who someone is and what they may do. Passwords are Argon2id hashes made on the blocking
//! pool; session tokens are 256-bit random strings stored only as SHA-256 hashes and looked up
//! through the cache (`sessions:` → account id, `roles:` → role), so logout and role changes
//! drop the cached entries at once, on every node when the cache is Redis. Failed logins are
//! throttled per account and client address, per account and per address, each attempt reserved
//! before its hash is checked (`throttle`); hashing itself is bounded (`password`). Logging in and
//! sessions live in `login`, profile changes in `profile`.

mod account;
mod login;
mod password;
mod profile;
mod sealed;
mod throttle;
mod token;

pub use account::{Account, AccountId, DisplayName, Email, Password, Role};
pub use token::SessionToken;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cache::{Cache, Namespace};
use crate::config::{AuthConfig, LimitsConfig};
use crate::data::accounts::{self, AccountRecord};
use crate::data::{DataError, Database};
use crate::metrics::Metrics;

use self::password::Hasher;
use self::sealed::Sealer;
use self::throttle::LoginThrottle;

/// What can go wrong in auth, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Another account already uses this email (compared case-insensitively).
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Unknown email or wrong password; deliberately not saying which.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many failed logins; try again after this many seconds.
    #[error("too many failed logins")]
    Throttled {
        /// Seconds until an attempt is allowed again.
        retry_after_secs: u64,
        /// The ceiling that was reached: failures per window.
        max_failures: u64,
        /// The window, in seconds.
        window_secs: u64,
    },
    /// Every password-hashing slot and the queue are taken; try again after this many seconds.
    #[error("password hashing is saturated")]
    Busy {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Changing the email or the password needs the current password.
    #[error("the current password is required")]
    CurrentPasswordRequired,
    /// No valid session: missing, unknown, expired or revoked token.
    #[error("not authenticated")]
    Unauthenticated,
    /// Authenticated, but the role does not allow this.
    #[error("not allowed")]
    Forbidden,
    /// The current password given to authorise a change is wrong.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// No such account.
    #[error("account not found")]
    AccountNotFound,
    /// The data layer failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Something that should not happen (a hashing task died, a stored hash is malformed).
    #[error("internal auth error: {0}")]
    Internal(String),
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who.
    pub account_id: AccountId,
    /// With which role, as of this request.
    pub role: Role,
    token_hash: String,
}

impl Principal {
    /// Succeeds when the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AuthError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }
}

/// What other users see of an account.
#[derive(Debug, Clone)]
pub struct PublicProfile {
    /// Who.
    pub id: AccountId,
    /// The name shown to others.
    pub display_name: DisplayName,
    /// When the account was created.
    pub joined_at: DateTime<Utc>,
}

/// A new session, as returned by [`Auth::login`].
#[derive(Debug)]
pub struct Session {
    /// The bearer token; shown to the client exactly once.
    pub token: SessionToken,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Whose it is.
    pub account: Account,
}

/// The fields of a profile change; `None` leaves a field as it is. A new email or password
/// needs `current_password`, checked (and throttled) like a login.
#[derive(Debug, Default)]
pub struct ProfileChange {
    /// A new email.
    pub email: Option<Email>,
    /// A new display name.
    pub display_name: Option<DisplayName>,
    /// A new password. Changing it signs out every other session.
    pub password: Option<Password>,
    /// The password in use now.
    pub current_password: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct CachedSession {
    account_id: AccountId,
    expires_at: DateTime<Utc>,
}

/// The auth service.
#[derive(Clone, Debug)]
pub struct Auth {
    db: Database,
    sessions: Namespace,
    roles: Namespace,
    /// Seals what `sessions` and `roles` hold.
    sealer: Sealer,
    throttle: LoginThrottle,
    hasher: Hasher,
    session_ttl: chrono::Duration,
    session_cache_ttl: Duration,
    metrics: Metrics,
}

impl Auth {
    /// Builds the service over the database and cache.
    pub fn new(
        db: Database,
        cache: &Cache,
        config: &AuthConfig,
        limits: &LimitsConfig,
        metrics: Metrics,
    ) -> Self {
        let session_ttl = i64::try_from(config.session_ttl_hours.get())
            .map(chrono::Duration::hours)
            .unwrap_or(chrono::Duration::MAX);
        Self {
            db,
            sessions: cache.namespace("sessions"),
            roles: cache.namespace("roles"),
            sealer: Sealer::new(config.cache_key.as_ref()),
            throttle: LoginThrottle::new(cache.namespace("login-failures"), config),
            hasher: Hasher::new(limits, metrics.clone()),
            session_ttl,
            session_cache_ttl: Duration::from_secs(config.session_cache_secs),
            metrics,
        }
    }

    /// Creates a guest account.
    pub async fn register(
        &self,
        email: Email,
        password: &Password,
        display_name: DisplayName,
    ) -> Result<Account, AuthError> {
        self.create(email, password, display_name, Role::Guest)
            .await
    }

    async fn create(
        &self,
        email: Email,
        password: &Password,
        display_name: DisplayName,
        role: Role,
    ) -> Result<Account, AuthError> {
        let password_hash = self.hasher.hash(password).await?;
        let now = Utc::now();
        let record = AccountRecord {
            id: AccountId::new().as_uuid(),
            email: email.as_str().to_owned(),
            display_name: display_name.as_str().to_owned(),
            password_hash,
            role: role.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        accounts::insert(tx.exec(), &record)
            .await
            .map_err(email_conflict)?;
        let event = UserRegistered {
            account_id: record.id,
            email: &record.email,
            display_name: &record.display_name,
            role: &record.role,
        };
        crate::bus::record(tx.exec(), &event).await?;
        tx.commit().await?;
        tracing::info!(account.id = %record.id, "account created");
        account_from(record)
    }

    /// Reads an account.
    pub async fn account(&self, id: AccountId) -> Result<Account, AuthError> {
        let mut conn = self.db.acquire().await?;
        let record = accounts::find_by_id(conn.exec(), id.as_uuid())
            .await?
            .ok_or(AuthError::AccountNotFound)?;
        account_from(record)
    }

    /// What anyone may see of the accounts among `ids` (missing ids are left out): the
    /// public face of hosts and review authors, never an email.
    pub async fn profiles(&self, ids: &[AccountId]) -> Result<Vec<PublicProfile>, AuthError> {
        let ids: Vec<uuid::Uuid> = ids.iter().map(AccountId::as_uuid).collect();
        let mut conn = self.db.acquire().await?;
        accounts::find_many(conn.exec(), &ids)
            .await?
            .into_iter()
            .map(|record| {
                let account = account_from(record)?;
                Ok(PublicProfile {
                    id: account.id,
                    display_name: account.display_name,
                    joined_at: account.created_at,
                })
            })
            .collect()
    }

    /// Sets an account's role (becoming a host, or an admin's decision).
    pub async fn set_role(&self, id: AccountId, role: Role) -> Result<Account, AuthError> {
        let mut conn = self.db.write().await?;
        let record = accounts::set_role(conn.exec(), id.as_uuid(), role.as_str(), Utc::now())
            .await?
            .ok_or(AuthError::AccountNotFound)?;
        drop(conn);
        self.roles.delete(&id.to_string()).await;
        tracing::info!(account.id = %id, account.role = role.as_str(), "role changed");
        account_from(record)
    }

    /// Makes the caller a host; an admin stays an admin.
    pub async fn become_host(&self, principal: &Principal) -> Result<Account, AuthError> {
        if principal.role >= Role::Host {
            return self.account(principal.account_id).await;
        }
        self.set_role(principal.account_id, Role::Host).await
    }

    /// Creates an admin account, or promotes the existing account with this email (for the
    /// `hearth admin create` command). Returns the account and whether it was created.
    pub async fn create_admin(
        &self,
        email: Email,
        password: &Password,
        display_name: DisplayName,
    ) -> Result<(Account, bool), AuthError> {
        let mut conn = self.db.acquire().await?;
        let existing = accounts::find_by_email(conn.exec(), email.as_str()).await?;
        drop(conn);
        match existing {
            Some(record) => Ok((self.set_role(record.id.into(), Role::Admin).await?, false)),
            None => Ok((
                self.create(email, password, display_name, Role::Admin)
                    .await?,
                true,
            )),
        }
    }
}

/// Hashes a password the way accounts store it (for bulk tools such as `hearth seed`, which
/// write accounts directly).
pub async fn hash_password(password: &Password) -> Result<String, AuthError> {
    password::hash_unbounded(password).await
}

/// `user_registered`: an account was created. Notifiers greet the new account (`account_id` is
/// the recipient; `email` its address).
#[derive(Debug, serde::Serialize)]
struct UserRegistered<'a> {
    account_id: uuid::Uuid,
    email: &'a str,
    display_name: &'a str,
    role: &'a str,
}

impl crate::bus::DomainEvent for UserRegistered<'_> {
    fn kind(&self) -> &str {
        "user_registered"
    }
}

fn email_conflict(e: DataError) -> AuthError {
    match e {
        DataError::UniqueViolation => AuthError::EmailTaken,
        other => AuthError::Data(other),
    }
}

fn account_from(record: AccountRecord) -> Result<Account, AuthError> {
    let corrupt = |what: &str| DataError::Corrupt(format!("account {}: {what}", record.id));
    Ok(Account {
        id: record.id.into(),
        email: Email::parse(&record.email).map_err(|_| corrupt("email"))?,
        display_name: DisplayName::parse(&record.display_name)
            .map_err(|_| corrupt("display name"))?,
        role: Role::parse(&record.role).ok_or_else(|| corrupt("role"))?,
        created_at: record.created_at,
    })
}
