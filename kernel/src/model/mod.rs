//! Model: the kernel's shared vocabulary. Money and currencies, stays and guest counts, a
//! listing's time zone and local times (and the rules in time a stay obeys), typed ids,
//! every status enum, the event kinds, and the collector of per-field input problems. Values here are parsed, not
//! validated later: a `Money`, a `StayRange` or a `BookingStatus` that exists is a valid one.
//!
//! This module imports nothing else of the kernel, so `data`, `domain`, `plugins` and `http` can
//! all speak it. Each status enum is stored as TEXT on both backends (see the `string_enum!` macro).

/// `sqlx` `Type`/`Encode`/`Decode` as TEXT on every backend for a type with `as_str` (or, with
/// `owned`, one whose `Display` is its stored form), decoding through `$parse`
/// (`|text| -> Result<Self, BoxDynError>`).
macro_rules! text_column {
    (@type $name:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }
    };
    (@decode $name:ty, |$text:ident| $parse:expr) => {
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let $text = <&str as sqlx::Decode<'r, DB>>::decode(value)?;
                $parse
            }
        }
    };
    ($name:ty, owned, |$text:ident| $parse:expr) => {
        text_column!(@type $name);

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode(self.to_string(), buf)
            }
        }

        text_column!(@decode $name, |$text| $parse);
    };
    ($name:ty, |$text:ident| $parse:expr) => {
        text_column!(@type $name);

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        text_column!(@decode $name, |$text| $parse);
    };
}

/// A closed set of values with one stored and wire name each: an enum with `as_str`, `parse` and
/// `ALL`, serde and OpenAPI under those names, and `sqlx` `Type`/`Encode`/`Decode` as TEXT on every
/// backend. Decoding goes through `parse`, so a stored name outside the set is an error naming the
/// enum and the value rather than a silent default.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        text_column!($name, |text| Self::parse(text).ok_or_else(|| {
            format!(concat!("`{}` is not a ", stringify!($name)), text).into()
        }));
    };
}

pub mod client;
pub mod events;
pub mod ids;
pub mod line;
pub mod money;
pub mod problems;
pub mod status;
pub mod stay;
pub mod time;

pub use client::ClientKey;
pub use events::{is_event_kind, EVENT_KINDS};
pub use ids::{AccountId, BookingId, ListingId, PaymentId, QuoteId, ReviewId};
pub use line::QuoteLine;
pub use money::{Currency, Money, MoneyError};
pub use problems::{Invalid, Problems};
pub use status::{
    Amenity, AuthorRole, BookingStatus, CancellationPolicy, KeyState, ListingStatus,
    PaymentFailure, PaymentOperation, PaymentState, PropertyType, ReviewStatus,
};
pub use stay::{DateWindow, GuestCount, StayRange};
pub use time::{StayRules, TimeOfDay, Timezone};
