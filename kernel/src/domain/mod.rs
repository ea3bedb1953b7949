//! Domain: the marketplace's rules. Listings, availability calendars and priced quotes (more
//! aggregates arrive with bookings, payments and reviews). Speaks kernel types only: it calls
//! `data` for SQL, `cache` for read-through caching and `plugins` through the kind adapters, and
//! never sees HTTP.

pub mod bookings;
pub mod cancellation;
mod cursor;
pub mod idempotency;
pub mod listings;
pub mod notifications;
pub mod payments;
pub mod quotes;
pub mod reviews;
pub mod updates;

use crate::auth::AuthError;
use crate::data::DataError;
use crate::plugins::PluginCallError;

pub(crate) use crate::data::now;
pub use crate::model::{Invalid, Problems};
pub use cursor::{after_item, PageRequest};

/// What a domain operation can fail with, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The input broke a rule; each field says which.
    #[error("invalid input")]
    Invalid(Vec<Invalid>),
    /// No such resource, or not one the caller may see.
    #[error("{} not found", .0.name())]
    NotFound(Resource),
    /// The caller may see it but not change it.
    #[error("not allowed")]
    Forbidden,
    /// Some nights of the stay are not available.
    #[error("the dates are not available")]
    DatesUnavailable(Vec<Invalid>),
    /// The pricing chain failed (a fail-closed plugin), or produced an unusable total.
    #[error("pricing failed")]
    Pricing(#[source] PricingError),
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
    /// The guest already has as many unconfirmed bookings as they may hold at once.
    #[error("too many unconfirmed bookings (at most {limit})")]
    TooManyUnconfirmed {
        /// `bookings.max_unconfirmed_per_guest`.
        limit: u32,
    },
    /// A guest tried to book their own listing.
    #[error("you cannot book your own listing")]
    OwnListing,
    /// The payment provider declined; the booking was cancelled.
    #[error("the payment was declined: {code}")]
    PaymentDeclined {
        /// The booking, now cancelled.
        booking_id: uuid::Uuid,
        /// Why, as a code (the provider's own words are in the ledger, for admins).
        code: crate::model::PaymentFailure,
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
    /// A verified webhook that may be about an authorization whose answer is not recorded yet;
    /// it was not recorded, so the provider should send it again.
    #[error("the webhook may be about a payment not recorded yet; send it again")]
    WebhookEarly,
    /// The `Idempotency-Key`'s first request is still running.
    #[error("a request with this idempotency key is still running")]
    IdempotencyKeyInUse,
    /// The `Idempotency-Key` was used for a different request.
    #[error("this idempotency key was used for a different request")]
    IdempotencyKeyReused,
    /// Storage failed.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl DomainError {
    /// A copy of an error that carries only values, for rendering a response to store under an
    /// idempotency key while the error itself goes on to the caller; `None` for a storage or
    /// auth failure (which is not stored: the client may retry).
    pub fn try_clone(&self) -> Option<DomainError> {
        use DomainError as E;
        Some(match self {
            E::Invalid(v) => E::Invalid(v.clone()),
            E::NotFound(what) => E::NotFound(*what),
            E::Forbidden => E::Forbidden,
            E::DatesUnavailable(v) => E::DatesUnavailable(v.clone()),
            E::Pricing(s) => E::Pricing(s.clone()),
            E::Conflict { code, detail } => E::Conflict {
                code,
                detail: detail.clone(),
            },
            E::OwnListing => E::OwnListing,
            E::TooManyUnconfirmed { limit } => E::TooManyUnconfirmed { limit: *limit },
            E::PaymentDeclined { booking_id, code } => E::PaymentDeclined {
                booking_id: *booking_id,
                code: *code,
            },
            E::PaymentUnavailable(s) => E::PaymentUnavailable(s.clone()),
            E::PolicyUnavailable(s) => E::PolicyUnavailable(s.clone()),
            E::ReviewRejected(s) => E::ReviewRejected(s.clone()),
            E::InvalidWebhook(s) => E::InvalidWebhook(s.clone()),
            E::WebhookEarly => E::WebhookEarly,
            E::IdempotencyKeyInUse => E::IdempotencyKeyInUse,
            E::IdempotencyKeyReused => E::IdempotencyKeyReused,
            E::Auth(_) | E::Data(_) => return None,
        })
    }
}

/// What a [`DomainError::NotFound`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A listing.
    Listing,
    /// A booking.
    Booking,
    /// A review.
    Review,
    /// A notification.
    Notification,
    /// A payments plugin (a webhook for one that is not loaded).
    PaymentsPlugin,
}

impl Resource {
    /// The noun, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Listing => "listing",
            Resource::Booking => "booking",
            Resource::Review => "review",
            Resource::Notification => "notification",
            Resource::PaymentsPlugin => "payments plugin",
        }
    }
}

/// Why a stay could not be priced.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PricingError {
    /// A fail-closed plugin of the chain failed (shown without the plugin's own words).
    #[error("{}", .0.redacted())]
    Plugin(#[from] PluginCallError),
    /// The line items do not fit in an amount.
    #[error("the line items overflow")]
    Overflow,
    /// The chain's lines add up to less than nothing.
    #[error("the pricing chain produced a negative total ({0})")]
    Negative(i64),
}

impl From<Vec<Invalid>> for DomainError {
    fn from(problems: Vec<Invalid>) -> Self {
        DomainError::Invalid(problems)
    }
}
