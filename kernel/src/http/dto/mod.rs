//! The wire format of the marketplace resources: request DTOs (bodies and query parameters),
//! each parsed here into the domain's command with [`crate::model::Problems`] naming every bad
//! field, and response DTOs built from the domain's views with `From`. Every OpenAPI derive of
//! these resources lives here, so the domain never sees `utoipa`.

pub mod bookings;
pub mod calendar;
pub mod listing_input;
pub mod listings;
pub mod notifications;
pub mod payments;
pub mod quotes;
pub mod reviews;
pub mod search;
