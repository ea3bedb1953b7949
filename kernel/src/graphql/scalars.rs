//! The kernel's vocabulary as GraphQL scalars: each is the same string as in REST (`EUR`,
//! `confirmed`, `Europe/Paris`, `15:00`), parsed by the model's own rules when it is input.
//! Status sets are scalars rather than GraphQL enums so the values are exactly REST's
//! snake_case names; each scalar's description lists them.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::auth::Role;
use crate::model::{
    Amenity, AuthorRole, BookingStatus, CancellationPolicy, Currency, ListingStatus,
    PaymentFailure, PaymentOperation, PaymentState, PropertyType, ReviewStatus, TimeOfDay,
    Timezone,
};

/// A GraphQL scalar over a type with serde names: input must deserialize (so it obeys the
/// type's own parse rules), output is its serialized form.
macro_rules! serde_scalar {
    ($ty:ty, $name:literal, $desc:expr) => {
        #[Scalar(name = $name, use_type_description)]
        impl ScalarType for $ty {
            fn parse(value: Value) -> InputValueResult<Self> {
                let json = value
                    .into_json()
                    .map_err(|e| InputValueError::custom(e.to_string()))?;
                serde_json::from_value(json).map_err(|e| InputValueError::custom(e.to_string()))
            }

            fn to_value(&self) -> Value {
                serde_json::to_value(self)
                    .ok()
                    .and_then(|v| Value::from_json(v).ok())
                    .unwrap_or(Value::Null)
            }
        }

        impl async_graphql::Description for $ty {
            fn description() -> &'static str {
                $desc
            }
        }
    };
}

/// A scalar over one of the model's closed sets of names: its description lists them.
macro_rules! names_scalar {
    ($ty:ty, $name:literal, $what:literal) => {
        serde_scalar!($ty, $name, {
            static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            TEXT.get_or_init(|| {
                let names: Vec<&str> = <$ty>::ALL.iter().map(|v| v.as_str()).collect();
                format!("{}: one of {}.", $what, names.join(", "))
            })
            .as_str()
        });
    };
}

serde_scalar!(
    Currency,
    "Currency",
    "An ISO 4217 currency code (`EUR`, `JPY`); amounts in it are integer minor units."
);
serde_scalar!(
    Timezone,
    "Timezone",
    "An IANA time zone name (`Europe/Paris`, `UTC`)."
);
serde_scalar!(
    TimeOfDay,
    "TimeOfDay",
    "A local time of day, `HH:MM` (24-hour)."
);
serde_scalar!(
    Role,
    "Role",
    "What an account may do: guest, host or admin."
);
names_scalar!(PropertyType, "PropertyType", "Kind of place");
names_scalar!(Amenity, "Amenity", "An amenity");
names_scalar!(
    CancellationPolicy,
    "CancellationPolicy",
    "A cancellation policy"
);
names_scalar!(ListingStatus, "ListingStatus", "A listing's visibility");
names_scalar!(BookingStatus, "BookingStatus", "A booking's state");
names_scalar!(AuthorRole, "AuthorRole", "Who wrote a review");
names_scalar!(ReviewStatus, "ReviewStatus", "A review's state");
names_scalar!(PaymentOperation, "PaymentOperation", "A payment operation");
names_scalar!(PaymentState, "PaymentState", "A payment operation's state");
names_scalar!(PaymentFailure, "PaymentFailure", "Why a payment failed");
