//! Live updates: what happens to one account, as it happens, for watchers such as GraphQL
//! subscriptions. Read from the bus's live view ([`Bus::live`]), which with Redis shows every
//! node's events on every node, so it does not matter which node a watcher is connected to.
//!
//! A watcher sees only what concerns its own account: status changes of bookings it is the
//! guest or host of, and messages put in its own inbox. Before each update it is shown, its
//! session is checked again, so a watch ends with the session (logout, expiry, revocation).
//! Updates are best effort and in order; a watcher that falls too far behind is told
//! ([`WatchEnded::Missed`]) and should read the current state again.

use std::sync::Arc;

use futures_util::stream::{self, BoxStream};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::bookings::BookingChange;
use super::notifications::InboxMessage;
use crate::auth::{Auth, AuthError, Principal};
use crate::bus::{Bus, Event};

/// Why a watch ended.
#[derive(Debug, thiserror::Error)]
pub enum WatchEnded {
    /// The watcher fell behind and `0` updates went by unseen.
    #[error("{0} events went by while this watcher was behind; read the current state again")]
    Missed(u64),
    /// The session ended, or could not be checked.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// One watcher's stream of updates; it ends after the first `Err`.
pub type Watch<T> = BoxStream<'static, Result<T, WatchEnded>>;

/// The live updates service. Cheap to clone.
#[derive(Clone)]
pub struct Updates {
    bus: Bus,
    auth: Auth,
}

impl std::fmt::Debug for Updates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updates").finish_non_exhaustive()
    }
}

impl Updates {
    /// Updates from `bus`, for sessions `auth` knows.
    pub fn new(bus: Bus, auth: Auth) -> Self {
        Self { bus, auth }
    }

    /// Status changes of `who`'s bookings, as guest or host, from now on; only booking `only`'s
    /// when given (one that is not theirs shows nothing, as if it did not exist).
    pub fn bookings(&self, who: &Principal, only: Option<Uuid>) -> Watch<BookingChange> {
        let me = who.account_id;
        self.watch(who, move |event| {
            BookingChange::of(event)
                .filter(|change| change.concerns(me))
                .filter(|change| only.is_none_or(|id| id == change.booking_id))
        })
    }

    /// Messages arriving in `who`'s inbox from now on.
    pub fn inbox(&self, who: &Principal) -> Watch<InboxMessage> {
        let me = who.account_id;
        self.watch(who, move |event| {
            InboxMessage::added(event)
                .filter(|(account, _)| *account == me)
                .map(|(_, message)| message)
        })
    }

    /// The events `pick` turns into updates for `who`, each shown only after their session is
    /// checked again.
    fn watch<T, F>(&self, who: &Principal, pick: F) -> Watch<T>
    where
        T: Send + 'static,
        F: Fn(&Event) -> Option<T> + Send + 'static,
    {
        struct State<F> {
            events: broadcast::Receiver<Arc<Event>>,
            pick: F,
            auth: Auth,
            who: Principal,
            ended: bool,
        }
        let state = State {
            events: self.bus.live(),
            pick,
            auth: self.auth.clone(),
            who: who.clone(),
            ended: false,
        };
        Box::pin(stream::unfold(state, |mut state| async move {
            if state.ended {
                return None;
            }
            loop {
                let update = match state.events.recv().await {
                    Ok(event) => match (state.pick)(&event) {
                        Some(update) => update,
                        None => continue,
                    },
                    Err(RecvError::Lagged(missed)) => {
                        state.ended = true;
                        return Some((Err(WatchEnded::Missed(missed)), state));
                    }
                    Err(RecvError::Closed) => return None,
                };
                return match state.auth.recheck(&state.who).await {
                    Ok(_) => Some((Ok(update), state)),
                    Err(e) => {
                        state.ended = true;
                        Some((Err(e.into()), state))
                    }
                };
            }
        }))
    }
}
