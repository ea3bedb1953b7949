//! A listing as clients see it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::listings as domain;
use crate::model::{
    Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType, TimeOfDay, Timezone,
};

/// A listing.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(complex)]
pub struct Listing {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// The host's account id.
    pub host_id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Kind of place.
    pub property_type: PropertyType,
    /// Street address: `null` unless you host this listing, are an admin, or have a confirmed
    /// booking of it. Everyone else (and every search result) sees `latitude` and `longitude`
    /// rounded to about 500 m.
    pub address: Option<String>,
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2 country, upper case.
    pub country: String,
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
    /// Most guests.
    pub max_guests: u32,
    /// Bedrooms.
    pub bedrooms: u32,
    /// Beds.
    pub beds: u32,
    /// Bathrooms (halves allowed).
    pub bathrooms: f64,
    /// Amenities, without duplicates, in the order of the known list.
    pub amenities: Vec<Amenity>,
    /// Photo URLs.
    pub photo_urls: Vec<String>,
    /// Base price per night, minor units.
    pub nightly_price_minor: i64,
    /// ISO 4217 currency of every price of this listing.
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    /// Shortest stay, nights.
    pub min_nights: u32,
    /// Longest stay, nights.
    pub max_nights: u32,
    /// Bookings are confirmed without the host's approval.
    pub instant_book: bool,
    /// Cancellation policy.
    pub cancellation_policy: CancellationPolicy,
    /// Visibility.
    pub status: ListingStatus,
    /// Average review rating (1-5), once reviewed.
    pub rating_avg: Option<f64>,
    /// Number of reviews.
    pub rating_count: u32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// IANA time zone: stays are dates here, and the times below are local.
    pub timezone: Timezone,
    /// When check-in opens on the first day, local `HH:MM`.
    pub check_in_time: TimeOfDay,
    /// When the guest leaves on the last day, local `HH:MM`.
    pub check_out_time: TimeOfDay,
    /// Hours a stay must be booked before check-in opens (0: a stay may start today).
    #[schema(maximum = 168)]
    pub advance_notice_hours: u32,
    /// How many days ahead a stay may end; `null`: as far as the platform allows.
    #[schema(minimum = 1, maximum = 1096)]
    pub availability_window_days: Option<u32>,
    /// Nights kept free before and after each booking.
    #[schema(maximum = 7)]
    pub preparation_nights: u32,
}

impl From<domain::Listing> for Listing {
    fn from(l: domain::Listing) -> Self {
        Self {
            id: l.id,
            host_id: l.host_id,
            title: l.title,
            description: l.description,
            property_type: l.property_type,
            // An approximately located listing has no address.
            address: Some(l.address).filter(|a| !a.is_empty()),
            city: l.city,
            country: l.country,
            latitude: l.latitude,
            longitude: l.longitude,
            max_guests: l.max_guests,
            bedrooms: l.bedrooms,
            beds: l.beds,
            bathrooms: l.bathrooms,
            amenities: l.amenities,
            photo_urls: l.photo_urls,
            nightly_price_minor: l.nightly_price_minor,
            currency: l.currency,
            min_nights: l.min_nights,
            max_nights: l.max_nights,
            instant_book: l.instant_book,
            cancellation_policy: l.cancellation_policy,
            status: l.status,
            rating_avg: l.rating_avg,
            rating_count: l.rating_count,
            created_at: l.created_at,
            updated_at: l.updated_at,
            timezone: l.timezone,
            check_in_time: l.check_in_time,
            check_out_time: l.check_out_time,
            advance_notice_hours: l.advance_notice_hours,
            availability_window_days: l.availability_window_days,
            preparation_nights: l.preparation_nights,
        }
    }
}
