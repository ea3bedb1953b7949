//! Mutation inputs. Each mirrors a REST body field for field and becomes that body before
//! anything else happens: the listing inputs are written out as REST's JSON and read back by
//! the REST parser (same defaults, same refusals by field name), the smaller ones are built as
//! REST's DTO directly. Either way the DTO's own `parse` makes the domain command, so there is
//! one set of rules.

use async_graphql::{InputObject, MaybeUndefined};
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::error::{GqlResult, IntoGql};
use crate::http::dto::bookings::NewBooking;
use crate::http::dto::calendar::{CalendarChange, CalendarUpdate};
use crate::http::dto::listing_input::{ListingInput, ListingPatch};
use crate::http::error::ApiError;
use crate::model::{Amenity, CancellationPolicy, ListingStatus, PropertyType};

/// A listing to create (the body of `POST /v1/listings`; defaults as there).
#[derive(Debug, Serialize, InputObject)]
#[serde(rename_all = "snake_case")]
#[graphql(name = "ListingInput")]
pub(crate) struct NewListing {
    /// 1-120 characters.
    title: String,
    /// Up to 5000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// Kind of place.
    property_type: PropertyType,
    /// Street address.
    address: String,
    /// City.
    city: String,
    /// ISO 3166-1 alpha-2 country.
    country: String,
    /// -90 to 90.
    latitude: f64,
    /// -180 to 180.
    longitude: f64,
    /// 1-50.
    max_guests: u32,
    /// 0-50 (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    bedrooms: Option<u32>,
    /// 0-100 (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    beds: Option<u32>,
    /// 0-50, in halves (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    bathrooms: Option<f64>,
    /// From the known list.
    #[serde(skip_serializing_if = "Option::is_none")]
    amenities: Option<Vec<Amenity>>,
    /// Up to 30 http(s) URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    photo_urls: Option<Vec<String>>,
    /// Base price per night in minor units (1 to 100,000,000).
    nightly_price_minor: i64,
    /// ISO 4217 currency.
    currency: String,
    /// Default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    min_nights: Option<u32>,
    /// Default 365.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_nights: Option<u32>,
    /// Default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    instant_book: Option<bool>,
    /// Default `moderate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    cancellation_policy: Option<CancellationPolicy>,
    /// Default `draft`.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ListingStatus>,
    /// IANA time zone (default `UTC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    /// Local `HH:MM` (default `15:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    check_in_time: Option<String>,
    /// Local `HH:MM` (default `11:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    check_out_time: Option<String>,
    /// 0-168 hours (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    advance_notice_hours: Option<u32>,
    /// 1-1096 days; absent: as far as the platform allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    availability_window_days: Option<u32>,
    /// 0-7 (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    preparation_nights: Option<u32>,
}

/// Changes to a listing (the body of `PATCH /v1/listings/{id}`): only the fields given change.
#[derive(Debug, Default, Serialize, InputObject)]
#[serde(rename_all = "snake_case")]
#[graphql(name = "ListingPatch")]
pub(crate) struct ChangedListing {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    property_type: Option<PropertyType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    longitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_guests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bedrooms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    beds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bathrooms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amenities: Option<Vec<Amenity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    photo_urls: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nightly_price_minor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_nights: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_nights: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instant_book: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancellation_policy: Option<CancellationPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ListingStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_in_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_out_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advance_notice_hours: Option<u32>,
    /// `null` removes the window (as far as the platform allows).
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    availability_window_days: MaybeUndefined<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preparation_nights: Option<u32>,
}

/// Writes `input` as REST's JSON and reads it with REST's parser.
fn as_rest<T: serde::de::DeserializeOwned>(input: &impl Serialize) -> GqlResult<T> {
    let json = serde_json::to_vec(input)
        .map_err(ApiError::internal)
        .gql()?;
    crate::http::extract::from_json(&json).gql()
}

impl NewListing {
    /// The REST creation body.
    pub(crate) fn rest(&self) -> GqlResult<ListingInput> {
        as_rest(self)
    }
}

impl ChangedListing {
    /// A patch of the status alone.
    pub(crate) fn status(status: ListingStatus) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    /// The REST patch body.
    pub(crate) fn rest(&self) -> GqlResult<ListingPatch> {
        as_rest(self)
    }
}

/// A booking to make (the body of `POST /v1/bookings`): a `quoteId`, or a `listingId` with
/// dates and guests.
#[derive(Debug, InputObject)]
pub(crate) struct BookingInput {
    /// A quote to book at its price.
    quote_id: Option<Uuid>,
    /// Or: the listing to price and book now.
    listing_id: Option<Uuid>,
    /// First night, YYYY-MM-DD (with `listingId`).
    check_in: Option<String>,
    /// Departure day, YYYY-MM-DD (with `listingId`).
    check_out: Option<String>,
    /// Guests (default 1).
    guests: Option<u32>,
    /// The provider's payment method token.
    payment_method: String,
}

impl BookingInput {
    /// The REST body (also what an idempotency key's fingerprint is made of, so a key used over
    /// REST and GraphQL names the same request).
    pub(crate) fn rest(self) -> NewBooking {
        NewBooking {
            quote_id: self.quote_id,
            listing_id: self.listing_id,
            check_in: self.check_in,
            check_out: self.check_out,
            guests: self.guests,
            payment_method: self.payment_method,
        }
    }
}

/// One calendar change (`PUT /v1/listings/{id}/calendar`).
#[derive(Debug, InputObject)]
pub(crate) struct CalendarChangeInput {
    /// First night changed.
    from: NaiveDate,
    /// Night after the last one changed.
    to: NaiveDate,
    /// Block or unblock the nights.
    blocked: Option<bool>,
    /// A nightly price override in minor units; `null` removes the override.
    price_minor: MaybeUndefined<i64>,
}

/// The REST calendar body of `changes`.
pub(crate) fn calendar_update(changes: Vec<CalendarChangeInput>) -> CalendarUpdate {
    CalendarUpdate {
        changes: changes
            .into_iter()
            .map(|c| CalendarChange {
                from: c.from,
                to: c.to,
                blocked: c.blocked,
                price_minor: match c.price_minor {
                    MaybeUndefined::Undefined => None,
                    MaybeUndefined::Null => Some(None),
                    MaybeUndefined::Value(v) => Some(Some(v)),
                },
            })
            .collect(),
    }
}
