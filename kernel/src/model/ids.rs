//! Typed ids: a UUIDv7 per aggregate, so a booking id cannot be passed where a listing id is
//! meant. Each is serde-, OpenAPI- and sqlx-transparent over its `Uuid`.

use std::fmt;

use uuid::Uuid;

macro_rules! id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The raw UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// An account (guest, host or admin).
    AccountId
);
id!(
    /// A listing.
    ListingId
);
id!(
    /// A booking.
    BookingId
);
id!(
    /// One operation in the payments ledger (the provider's idempotency key for an
    /// authorization).
    PaymentId
);
id!(
    /// A stored quote.
    QuoteId
);
id!(
    /// A review.
    ReviewId
);
