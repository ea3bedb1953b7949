//! Auth: accounts, passwords, sessions and roles.
//!
//! Owns who someone is and what they may do. Passwords are Argon2id hashes made on the blocking
//! pool; session tokens are 256-bit random strings stored only as SHA-256 hashes and looked up
//! through the cache (`sessions:` → account id, `roles:` → role), so logout and role changes
//! drop the cached entries at once, on every node when the cache is Redis. Failed logins are
//! throttled per account and per client address.

mod account;
mod password;
mod throttle;
mod token;

pub use account::{Account, AccountId, DisplayName, Email, Password, Role};
pub use token::SessionToken;

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cache::{Cache, Namespace};
use crate::config::AuthConfig;
use crate::data::accounts::{self, AccountRecord};
use crate::data::{sessions, DataError, Database};
use crate::metrics::Metrics;

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
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
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

/// The fields of a profile change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChange {
    /// A new email.
    pub email: Option<Email>,
    /// A new display name.
    pub display_name: Option<DisplayName>,
    /// A new password, authorised by the current one. Changing it signs out every other session.
    pub password: Option<PasswordChange>,
}

/// A password change.
#[derive(Debug)]
pub struct PasswordChange {
    /// The password in use now.
    pub current: String,
    /// The new password.
    pub new: Password,
}

#[derive(Debug, Serialize, Deserialize)]
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
    throttle: LoginThrottle,
    session_ttl: chrono::Duration,
    session_cache_ttl: Duration,
    metrics: Metrics,
}

impl Auth {
    /// Builds the service over the database and cache.
    pub fn new(db: Database, cache: &Cache, config: &AuthConfig, metrics: Metrics) -> Self {
        let session_ttl = i64::try_from(config.session_ttl_hours.get())
            .map(chrono::Duration::hours)
            .unwrap_or(chrono::Duration::MAX);
        Self {
            db,
            sessions: cache.namespace("sessions"),
            roles: cache.namespace("roles"),
            throttle: LoginThrottle::new(cache.namespace("login-failures"), config),
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
        let password_hash = password::hash(password).await?;
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

    /// Checks credentials and opens a session. Unknown email and wrong password are the same
    /// error and cost the same time; failures count towards the throttle.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Session, AuthError> {
        if let Err(wait) = self.throttle.check(email, client).await {
            self.metrics.login_throttled.inc();
            return Err(AuthError::Throttled {
                retry_after_secs: wait.0,
            });
        }
        let mut conn = self.db.acquire().await?;
        let found = accounts::find_by_email(conn.exec(), email.trim()).await?;
        drop(conn);
        let verified = match &found {
            Some(record) => password::verify(password, &record.password_hash).await?,
            None => {
                password::verify(password, password::decoy().await?).await?;
                false
            }
        };
        let record = match found {
            Some(record) if verified => record,
            _ => {
                self.metrics.login_failures.inc();
                self.throttle.record_failure(email, client).await;
                return Err(AuthError::InvalidCredentials);
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
        let mut conn = self.db.acquire().await?;
        sessions::insert(conn.exec(), &session).await?;
        tracing::info!(account.id = %record.id, "session opened");
        Ok(Session {
            token,
            expires_at: session.expires_at,
            account: account_from(record)?,
        })
    }

    /// Resolves a bearer token to its caller, through the cache.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let token_hash = token::hash(token);
        let now = Utc::now();
        let session = match self.sessions.get::<CachedSession>(&token_hash).await {
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
                self.sessions
                    .set(&token_hash, &cached, self.session_cache_ttl)
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
        if let Some(role) = self.roles.get::<Role>(&key).await {
            return Ok(role);
        }
        let account = self.account(id).await?;
        self.roles
            .set(&key, &account.role, self.session_cache_ttl)
            .await;
        Ok(account.role)
    }

    /// Ends the caller's session at once.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        let mut conn = self.db.acquire().await?;
        sessions::delete(conn.exec(), &principal.token_hash).await?;
        self.sessions.delete(&principal.token_hash).await;
        tracing::info!(account.id = %principal.account_id, "session closed");
        Ok(())
    }

    /// Reads an account.
    pub async fn account(&self, id: AccountId) -> Result<Account, AuthError> {
        let mut conn = self.db.acquire().await?;
        let record = accounts::find_by_id(conn.exec(), id.as_uuid())
            .await?
            .ok_or(AuthError::AccountNotFound)?;
        account_from(record)
    }

    /// Changes the caller's own profile. A password change needs the current password and signs
    /// out every other session of the account.
    pub async fn update_profile(
        &self,
        principal: &Principal,
        change: ProfileChange,
    ) -> Result<Account, AuthError> {
        let id = principal.account_id.as_uuid();
        let mut conn = self.db.acquire().await?;
        let current = accounts::find_by_id(conn.exec(), id)
            .await?
            .ok_or(AuthError::AccountNotFound)?;
        drop(conn);
        let password_hash = match &change.password {
            Some(p) => {
                if !password::verify(&p.current, &current.password_hash).await? {
                    return Err(AuthError::WrongCurrentPassword);
                }
                password::hash(&p.new).await?
            }
            None => current.password_hash.clone(),
        };
        let email = change
            .email
            .as_ref()
            .map_or(current.email.as_str(), Email::as_str);
        let display_name = change
            .display_name
            .as_ref()
            .map_or(current.display_name.as_str(), DisplayName::as_str);
        let mut tx = self.db.begin().await?;
        let updated = accounts::update_profile(
            tx.exec(),
            id,
            email,
            display_name,
            &password_hash,
            Utc::now(),
        )
        .await
        .map_err(email_conflict)?
        .ok_or(AuthError::AccountNotFound)?;
        let signed_out = if change.password.is_some() {
            sessions::delete_others(tx.exec(), id, &principal.token_hash).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        for hash in &signed_out {
            self.sessions.delete(hash).await;
        }
        account_from(updated)
    }

    /// Sets an account's role (becoming a host, or an admin's decision).
    pub async fn set_role(&self, id: AccountId, role: Role) -> Result<Account, AuthError> {
        let mut conn = self.db.acquire().await?;
        let record = accounts::set_role(conn.exec(), id.as_uuid(), role.as_str(), Utc::now())
            .await?
            .ok_or(AuthError::AccountNotFound)?;
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
    password::hash(password).await
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
