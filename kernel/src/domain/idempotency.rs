//! `Idempotency-Key`, zero-to-production's way (`try_processing` → [`NextAction`]): a look at
//! the key before any work replays a finished request's response, refuses a key reused for
//! another request (`IdempotencyKeyReused`) or one whose first request still runs
//! (`IdempotencyKeyInUse`), or hands the command a [`Claim`]. The command claims the key in the
//! first transaction of its effect and saves the response in the transaction that completes it,
//! so the key commits or rolls back with the effect: a failed effect leaves no key behind, and a
//! committed outcome never has a key that still says `running`. Money moves with a provider call
//! between two transactions (never a transaction held across it), so the claim and the saved
//! response may sit in different transactions of one command; between them the key honestly
//! says `running`. A 5xx is not stored (the key is released, in the same transaction), so the
//! client may retry with the same key.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{now, DomainError};
use crate::data::idempotency::{self as store, KeyRecord};
use crate::data::{Database, Exec};
use crate::model::KeyState;

/// A first request still `running` after this long is taken to have died with its process.
const ABANDONED_AFTER_SECS: i64 = 60;

/// A response stored under a key: its status and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: String,
}

/// Renders a command's outcome as the response to store; `None` for one not to store (a 5xx).
pub type Render<T> = Box<dyn Fn(&Result<T, DomainError>) -> Option<SavedResponse> + Send + Sync>;

/// What to do with a keyed request.
#[derive(Debug)]
pub enum NextAction<T> {
    /// Run the command with this claim.
    StartProcessing(Claim<T>),
    /// The key's first request finished: answer with its response.
    ReturnSavedResponse(SavedResponse),
}

/// A keyed request, from the edge: who sends it, the key, and what makes it "the same request".
#[derive(Debug, Clone)]
pub struct KeyedRequest {
    /// The account the key belongs to.
    pub account: Uuid,
    /// The `Idempotency-Key`.
    pub key: String,
    /// A digest of the route and the parsed body.
    pub fingerprint: String,
}

/// Idempotency keys. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Idempotency {
    db: Database,
}

impl Idempotency {
    /// Over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Looks at the key before any work: a finished request's response, a refusal, or a
    /// claim for the command to take in its transaction.
    pub async fn try_processing<T>(
        &self,
        request: KeyedRequest,
        render: Render<T>,
    ) -> Result<NextAction<T>, DomainError> {
        let mut conn = self.db.acquire().await?;
        let existing = store::find(conn.exec(), request.account, &request.key).await?;
        if let Some(saved) = existing
            .map(|r| judge(&r, &request.fingerprint))
            .transpose()?
            .flatten()
        {
            return Ok(NextAction::ReturnSavedResponse(saved));
        }
        Ok(NextAction::StartProcessing(Claim(Arc::new(Inner {
            db: self.db.clone(),
            request,
            render,
            claimed_at: OnceLock::new(),
        }))))
    }
}

/// What an existing record means for a request with `fingerprint`: its saved response, `None`
/// when its first request was abandoned (take it over), or a refusal.
fn judge(record: &KeyRecord, fingerprint: &str) -> Result<Option<SavedResponse>, DomainError> {
    if record.fingerprint != fingerprint {
        return Err(DomainError::IdempotencyKeyReused);
    }
    if record.state == KeyState::Done {
        let status = record
            .status_code
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200);
        return Ok(Some(SavedResponse {
            status,
            body: record.body.clone().unwrap_or_default(),
        }));
    }
    if record.updated_at < stale_before() {
        Ok(None)
    } else {
        Err(DomainError::IdempotencyKeyInUse)
    }
}

fn stale_before() -> DateTime<Utc> {
    now() - chrono::Duration::seconds(ABANDONED_AFTER_SECS)
}

/// The right to run a keyed command once, handed to it by [`Idempotency::try_processing`].
/// Cheap to clone: the edge keeps one to [`Claim::settle`] after the command.
pub struct Claim<T>(Arc<Inner<T>>);

struct Inner<T> {
    db: Database,
    request: KeyedRequest,
    render: Render<T>,
    /// When this request claimed the key (its claim's name in the store).
    claimed_at: OnceLock<DateTime<Utc>>,
}

impl<T> Clone for Claim<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> std::fmt::Debug for Claim<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claim")
            .field("request", &self.0.request)
            .field("claimed_at", &self.0.claimed_at.get())
            .finish_non_exhaustive()
    }
}

impl<T> Claim<T> {
    /// Whether this request has claimed the key (its command's first transaction did so).
    pub fn is_claimed(&self) -> bool {
        self.0.claimed_at.get().is_some()
    }

    /// Claims the key in the effect's first transaction, before the effect: it commits with the
    /// effect or rolls back with it. A request that claimed the key meanwhile wins (409, or 422
    /// for a different request).
    pub async fn claim(&self, mut exec: Exec<'_>) -> Result<(), DomainError> {
        let KeyedRequest {
            account,
            key,
            fingerprint,
        } = &self.0.request;
        let at = now();
        if let Some(record) = store::claim(exec.reborrow(), *account, key, fingerprint, at).await? {
            // Finished meanwhile: the client's retry replays it.
            if judge(&record, fingerprint)?.is_some()
                || !store::take_over(exec, *account, key, stale_before(), at).await?
            {
                return Err(DomainError::IdempotencyKeyInUse);
            }
        }
        // A second claim by one command would be a bug; the first one names the row.
        let _ = self.0.claimed_at.set(at);
        Ok(())
    }

    /// Saves the response for `outcome` in the transaction that makes it true (or, for a 5xx,
    /// releases the key in it).
    pub async fn save(
        &self,
        exec: Exec<'_>,
        outcome: &Result<T, DomainError>,
    ) -> Result<(), DomainError> {
        let Some(&at) = self.0.claimed_at.get() else {
            return Ok(());
        };
        let KeyedRequest { account, key, .. } = &self.0.request;
        match (self.0.render)(outcome) {
            Some(saved) => {
                store::finish(
                    exec,
                    *account,
                    key,
                    at,
                    i32::from(saved.status),
                    &saved.body,
                    now(),
                )
                .await?;
            }
            None => {
                store::release(exec, *account, key, at).await?;
            }
        }
        Ok(())
    }

    /// After the command: a claim that committed without its response (the command failed
    /// between its transactions) is released, so the client may retry. Nothing to do for a
    /// claim that rolled back or was saved.
    pub async fn settle(&self) {
        let Some(&at) = self.0.claimed_at.get() else {
            return;
        };
        let KeyedRequest { account, key, .. } = &self.0.request;
        let released = match self.0.db.write().await {
            Ok(mut conn) => store::release(conn.exec(), *account, key, at).await,
            Err(e) => Err(e),
        };
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release an unfinished idempotency key; it is taken over after {ABANDONED_AFTER_SECS}s");
        }
    }
}

/// Saves `outcome` under `claim`, if there is one (see [`Claim::save`]).
pub async fn save<T>(
    claim: Option<&Claim<T>>,
    exec: Exec<'_>,
    outcome: &Result<T, DomainError>,
) -> Result<(), DomainError> {
    match claim {
        Some(claim) => claim.save(exec, outcome).await,
        None => Ok(()),
    }
}

/// Claims the key under `claim`, if there is one (see [`Claim::claim`]).
pub async fn claim<T>(claim: Option<&Claim<T>>, exec: Exec<'_>) -> Result<(), DomainError> {
    match claim {
        Some(claim) => claim.claim(exec).await,
        None => Ok(()),
    }
}
