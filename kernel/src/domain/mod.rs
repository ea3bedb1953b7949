//! Domain: the marketplace's rules. Listings, availability calendars and priced quotes (more
//! aggregates arrive with bookings, payments and reviews). Speaks kernel types only: it calls
//! `data` for SQL, `cache` for read-through caching and `plugins` through the kind adapters, and
//! never sees HTTP.

/// A closed set of values with one stored and wire name each: an enum with `as_str`, `parse`
/// and `ALL`.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            /// Parses the stored and wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

pub mod bookings;
pub mod calendar;
pub mod cancellation;
mod cursor;
pub mod listings;
pub mod money;
pub mod notifications;
pub mod payments;
pub mod quotes;
pub mod reviews;
pub mod stay;

use crate::auth::AuthError;
use crate::data::DataError;
use crate::plugins::PluginCallError;

pub(crate) use crate::data::now;

/// A problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field's path, e.g. `check_out` or `address.city`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// A problem with `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

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

/// Collects field problems while parsing input.
#[derive(Debug, Default)]
pub struct Problems(Vec<Invalid>);

impl Problems {
    /// Records a problem.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(Invalid::new(field, message));
    }

    /// Records a problem unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// `Err(Invalid)` if anything was recorded.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
