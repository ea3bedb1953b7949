//! A listing as the kernel and clients see it, and its conversion to and from the stored row.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::ListingInput;
use crate::auth::AccountId;
use crate::data::listings::ListingRecord;
use crate::domain::DomainError;
use crate::model::{
    Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType, StayRules, TimeOfDay,
    Timezone,
};

/// A listing (serde only for the cache).
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Street address.
    pub address: String,
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
    /// IANA time zone: stays are dates here, and the times below are local to it.
    pub timezone: Timezone,
    /// When check-in opens on the first day, local time.
    pub check_in_time: TimeOfDay,
    /// When the guest leaves on the last day, local time.
    pub check_out_time: TimeOfDay,
    /// Hours a booking must be made before check-in opens (0: a stay may start today).
    pub advance_notice_hours: u32,
    /// How many days ahead a stay may end; `None`: as far as the platform allows.
    pub availability_window_days: Option<u32>,
    /// Nights kept free before and after each booking.
    pub preparation_nights: u32,
}

impl Listing {
    /// The rules in time a stay here obeys.
    pub fn stay_rules(&self) -> StayRules {
        StayRules {
            timezone: self.timezone,
            check_in_time: self.check_in_time,
            advance_notice_hours: self.advance_notice_hours,
            availability_window_days: self.availability_window_days,
        }
    }

    /// This listing as shown to someone who may not know where it is exactly: no street address
    /// (empty) and the coordinates rounded to a grid of `APPROXIMATE_DEGREES` (about 500 m).
    pub fn approximately_located(self) -> Self {
        let round = |degrees: f64| {
            let snapped = (degrees / APPROXIMATE_DEGREES).round() * APPROXIMATE_DEGREES;
            // Three decimals: the grid, without the float noise of the division.
            (snapped * 1000.0).round() / 1000.0
        };
        Self {
            address: String::new(),
            latitude: round(self.latitude),
            longitude: round(self.longitude),
            ..self
        }
    }
}

/// The grid an approximate location is rounded to: 0.005° is about 550 m of latitude (and
/// less of longitude away from the equator).
pub const APPROXIMATE_DEGREES: f64 = 0.005;

#[allow(clippy::too_many_arguments)]
pub(super) fn to_record(
    id: Uuid,
    host: AccountId,
    input: &ListingInput,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    rating_avg: Option<f64>,
    rating_count: u32,
) -> ListingRecord {
    ListingRecord {
        id,
        host_id: host.as_uuid(),
        title: input.title.clone(),
        description: input.description.clone(),
        property_type: input.property_type,
        address: input.address.clone(),
        city: input.city.clone(),
        city_key: city_key(&input.city),
        country: input.country.clone(),
        latitude: input.latitude,
        longitude: input.longitude,
        max_guests: i32::try_from(input.max_guests).unwrap_or(i32::MAX),
        bedrooms: i32::try_from(input.bedrooms).unwrap_or(i32::MAX),
        beds: i32::try_from(input.beds).unwrap_or(i32::MAX),
        bathrooms: input.bathrooms,
        amenities: Json(input.amenities.clone()),
        photo_urls: Json(input.photo_urls.clone()),
        nightly_price_minor: input.nightly_price_minor,
        currency: input.currency,
        min_nights: i32::try_from(input.min_nights).unwrap_or(i32::MAX),
        max_nights: i32::try_from(input.max_nights).unwrap_or(i32::MAX),
        instant_book: input.instant_book,
        cancellation_policy: input.cancellation_policy,
        status: input.status,
        rating_avg,
        rating_count: i32::try_from(rating_count).unwrap_or(i32::MAX),
        created_at,
        updated_at,
        deleted_at: None,
        timezone: input.timezone,
        check_in_time: input.check_in_time,
        check_out_time: input.check_out_time,
        advance_notice_hours: small(input.advance_notice_hours),
        availability_window_days: input.availability_window_days.map(small),
        preparation_nights: small(input.preparation_nights),
    }
}

pub(super) fn to_input(l: &Listing) -> ListingInput {
    ListingInput {
        title: l.title.clone(),
        description: l.description.clone(),
        property_type: l.property_type,
        address: l.address.clone(),
        city: l.city.clone(),
        country: l.country.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
        max_guests: l.max_guests,
        bedrooms: l.bedrooms,
        beds: l.beds,
        bathrooms: l.bathrooms,
        amenities: l.amenities.clone(),
        photo_urls: l.photo_urls.clone(),
        nightly_price_minor: l.nightly_price_minor,
        currency: l.currency,
        min_nights: l.min_nights,
        max_nights: l.max_nights,
        instant_book: l.instant_book,
        cancellation_policy: l.cancellation_policy,
        status: l.status,
        timezone: l.timezone,
        check_in_time: l.check_in_time,
        check_out_time: l.check_out_time,
        advance_notice_hours: l.advance_notice_hours,
        availability_window_days: l.availability_window_days,
        preparation_nights: l.preparation_nights,
    }
}

/// A bounded count as its column (every count a listing has was checked far below `i32::MAX`).
fn small(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(super) fn from_record(r: ListingRecord) -> Result<Listing, DomainError> {
    let corrupt = |what: &str| crate::data::DataError::Corrupt(format!("listing {}: {what}", r.id));
    let count = |v: i32| u32::try_from(v).map_err(|_| corrupt("count"));
    Ok(Listing {
        id: r.id,
        host_id: r.host_id,
        property_type: r.property_type,
        amenities: r.amenities.0,
        photo_urls: r.photo_urls.0,
        currency: r.currency,
        cancellation_policy: r.cancellation_policy,
        status: r.status,
        max_guests: count(r.max_guests)?,
        bedrooms: count(r.bedrooms)?,
        beds: count(r.beds)?,
        min_nights: count(r.min_nights)?,
        max_nights: count(r.max_nights)?,
        rating_count: count(r.rating_count)?,
        advance_notice_hours: count(r.advance_notice_hours)?,
        availability_window_days: r.availability_window_days.map(count).transpose()?,
        preparation_nights: count(r.preparation_nights)?,
        timezone: r.timezone,
        check_in_time: r.check_in_time,
        check_out_time: r.check_out_time,
        title: r.title,
        description: r.description,
        address: r.address,
        city: r.city,
        country: r.country,
        latitude: r.latitude,
        longitude: r.longitude,
        bathrooms: r.bathrooms,
        nightly_price_minor: r.nightly_price_minor,
        instant_book: r.instant_book,
        rating_avg: r.rating_avg,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// A city as search compares it: trimmed and lower-cased with Unicode rules (so `évora`
/// finds `Évora` on both databases).
pub(crate) fn city_key(city: &str) -> String {
    city.trim().to_lowercase()
}
