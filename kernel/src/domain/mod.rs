//! Domain: the marketplace's rules. Listings, availability calendars and priced quotes (more
//! aggregates arrive with bookings, payments and reviews). Speaks kernel types only: it calls
//! `data` for SQL, `cache` for read-through caching and `plugins` through the kind adapters, and
//! never sees HTTP.

pub mod bookings;
pub mod cancellation;
mod cursor;
pub mod listings;
pub mod notifications;
pub mod payments;
pub mod quotes;
pub mod reviews;

use crate::auth::AuthError;
use crate::data::DataError;
use crate::plugins::PluginCallError;

pub(crate) use crate::data::now;
pub use crate::model::{Invalid, Problems};
pub use cursor::PageRequest;

/// What a domain operation can fail with, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The input broke a rule; each field says which.
    #[error("invalid input")]
    Invalid(Vec<Invalid>),
    /// No such resource, or not one the caller may see.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller may see it but not change it.
    #[error("not allowed")]
    Forbidden,
    /// Some nights of the stay are not available.
    #[error("the dates are not available")]
    DatesUnavailable(Vec<Invalid>),
    /// The pricing chain failed (a fail-closed plugin), or produced an unusable total.
    #[error("pricing failed: {0}")]
    Pricing(String),
    /// Auth failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The resource is not in a state that allows this (`code` says which rule).
    #[error("{detail}")]
    Conflict {
        /// Stable code, e.g. `booking_not_requested`.
        code: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A guest tried to book their own listing.
    #[error("you cannot book your own listing")]
    OwnListing,
    /// The payment provider declined; the booking was cancelled.
    #[error("the payment was declined: {reason}")]
    PaymentDeclined {
        /// The booking, now cancelled.
        booking_id: uuid::Uuid,
        /// The provider's reason.
        reason: String,
    },
    /// No payment provider could take the call (none configured for the currency, not loaded,
    /// or it failed).
    #[error("payments are unavailable: {0}")]
    PaymentUnavailable(String),
    /// No review policy could decide (none loaded, or it failed).
    #[error("the review policy is unavailable: {0}")]
    PolicyUnavailable(String),
    /// The review policy refused the review, with its reason for the author.
    #[error("review rejected: {0}")]
    ReviewRejected(String),
    /// A payment webhook failed verification or parsing; nothing changed.
    #[error("webhook rejected: {0}")]
    InvalidWebhook(String),
    /// Storage failed.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl From<PluginCallError> for DomainError {
    fn from(e: PluginCallError) -> Self {
        DomainError::Pricing(e.to_string())
    }
}

impl From<Vec<Invalid>> for DomainError {
    fn from(problems: Vec<Invalid>) -> Self {
        DomainError::Invalid(problems)
    }
}
