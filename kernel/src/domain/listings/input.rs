//! What hosts send, parsed: a whole listing (`ListingInput`) or a partial change
//! (`ListingPatch`). Each field was checked on its own at the edge (lengths, ranges, URLs, the
//! currency); what only the whole listing can show (a patch's `max_nights` below the stored
//! `min_nights`) is checked here, after a patch is applied.

use crate::domain::{DomainError, Problems};
use crate::model::{
    Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType, TimeOfDay, Timezone,
};

/// The writable fields of a listing, each already valid on its own (trimmed, in range, the
/// country upper-case).
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct ListingInput {
    pub title: String,
    pub description: String,
    pub property_type: PropertyType,
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
    pub max_guests: u32,
    pub bedrooms: u32,
    pub beds: u32,
    pub bathrooms: f64,
    pub amenities: Vec<Amenity>,
    pub photo_urls: Vec<String>,
    pub nightly_price_minor: i64,
    pub currency: Currency,
    pub min_nights: u32,
    pub max_nights: u32,
    pub instant_book: bool,
    pub cancellation_policy: CancellationPolicy,
    pub status: ListingStatus,
    pub timezone: Timezone,
    pub check_in_time: TimeOfDay,
    pub check_out_time: TimeOfDay,
    pub advance_notice_hours: u32,
    pub availability_window_days: Option<u32>,
    pub preparation_nights: u32,
}

/// Changes to a listing, each already valid on its own; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct ListingPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub property_type: Option<PropertyType>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub max_guests: Option<u32>,
    pub bedrooms: Option<u32>,
    pub beds: Option<u32>,
    pub bathrooms: Option<f64>,
    pub amenities: Option<Vec<Amenity>>,
    pub photo_urls: Option<Vec<String>>,
    pub nightly_price_minor: Option<i64>,
    pub currency: Option<Currency>,
    pub min_nights: Option<u32>,
    pub max_nights: Option<u32>,
    pub instant_book: Option<bool>,
    pub cancellation_policy: Option<CancellationPolicy>,
    pub status: Option<ListingStatus>,
    pub timezone: Option<Timezone>,
    pub check_in_time: Option<TimeOfDay>,
    pub check_out_time: Option<TimeOfDay>,
    pub advance_notice_hours: Option<u32>,
    /// `Some(None)` removes the listing's own window.
    pub availability_window_days: Option<Option<u32>>,
    pub preparation_nights: Option<u32>,
}

impl ListingPatch {
    pub(super) fn apply(self, to: &mut ListingInput) {
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = self.$f { to.$f = v; })* };
        }
        set!(
            title,
            description,
            property_type,
            address,
            city,
            country,
            latitude,
            longitude,
            max_guests,
            bedrooms,
            beds,
            bathrooms,
            amenities,
            photo_urls,
            nightly_price_minor,
            currency,
            min_nights,
            max_nights,
            instant_book,
            cancellation_policy,
            status,
            timezone,
            check_in_time,
            check_out_time,
            advance_notice_hours,
            availability_window_days,
            preparation_nights
        );
    }
}

/// At most this many photos per listing.
pub const MAX_PHOTOS: usize = 30;
/// At most this many bytes per photo URL.
pub const MAX_PHOTO_URL_BYTES: usize = 1024;
/// The most text a listing can hold, in bytes: the per-field limits (title 120, description
/// 5000, address 200 and city 100 characters of up to 4 UTF-8 bytes each, a country code,
/// [`MAX_PHOTOS`] URLs of [`MAX_PHOTO_URL_BYTES`], a time zone name of at most 32 bytes and two
/// `HH:MM` times) add up to this, and every page of search results and every cache entry is
/// bounded by it (checked at compile time below).
pub const MAX_STORED_TEXT_BYTES: usize =
    4 * (120 + 5000 + 200 + 100) + 2 + MAX_PHOTOS * MAX_PHOTO_URL_BYTES + 32 + 2 * 5;
// With fixed-size fields and each amenity once, a listing's JSON stays well inside the cache's
// default value budget (256 KiB).
const _: () = assert!(MAX_STORED_TEXT_BYTES < 64 * 1024);

/// The rule between a listing's stay lengths, recorded against `max_nights`: at least
/// `min_nights` and at most 365.
pub fn check_stay_lengths(p: &mut Problems, min_nights: u32, max_nights: u32) {
    p.check(
        max_nights >= min_nights && max_nights <= 365,
        "max_nights",
        "must be at least min_nights and at most 365",
    );
}

/// Checks what only the whole listing can show, and puts amenities in the known order without
/// duplicates.
pub(super) fn validate(input: &mut ListingInput) -> Result<(), DomainError> {
    let mut p = Problems::default();
    input.amenities.sort();
    input.amenities.dedup();
    check_stay_lengths(&mut p, input.min_nights, input.max_nights);
    Ok(p.finish()?)
}
