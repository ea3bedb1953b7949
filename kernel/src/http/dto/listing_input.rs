//! What hosts send: the creation and patch bodies of a listing, each field checked and
//! normalised here into the domain's command.
//!
//! Over 400 lines on purpose: the two bodies are one schema (a patch is the creation body with
//! every field optional) and share one field-by-field check, so splitting them would split
//! that check; most of the length is the fields' documentation and schema constraints.

use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::domain::listings::{
    self as domain, check_stay_lengths, MAX_PHOTOS, MAX_PHOTO_URL_BYTES,
};
use crate::model::time::{
    MAX_ADVANCE_NOTICE_HOURS, MAX_AVAILABILITY_WINDOW_DAYS, MAX_PREPARATION_NIGHTS,
};
use crate::model::{
    Amenity, CancellationPolicy, Currency, Invalid, ListingStatus, Problems, PropertyType,
    TimeOfDay, Timezone,
};

/// The writable fields of a listing (creation body). Unknown and read-only fields (`id`,
/// `host_id`, ratings, timestamps) are refused by name.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    /// 1-120 characters.
    #[schema(min_length = 1, max_length = 120, pattern = r"\S")]
    pub title: String,
    /// Up to 5000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    /// Kind of place.
    pub property_type: PropertyType,
    /// Street address.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub address: String,
    /// City.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub city: String,
    /// ISO 3166-1 alpha-2 country.
    #[schema(pattern = r"^[A-Za-z]{2}$", example = "FR")]
    pub country: String,
    /// -90 to 90.
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: f64,
    /// -180 to 180.
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: f64,
    /// 1-50.
    #[schema(minimum = 1, maximum = 50)]
    pub max_guests: u32,
    /// 0-50.
    #[serde(default)]
    #[schema(maximum = 50)]
    pub bedrooms: u32,
    /// 0-100.
    #[serde(default)]
    #[schema(maximum = 100)]
    pub beds: u32,
    /// 0-50, in halves.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50, multiple_of = 0.5)]
    pub bathrooms: f64,
    /// From the known list.
    #[serde(default)]
    pub amenities: Vec<Amenity>,
    /// Up to 30 http(s) URLs.
    #[serde(default)]
    #[schema(max_items = 30, schema_with = crate::http::schemas::photo_urls)]
    pub photo_urls: Vec<String>,
    /// Base price per night in minor units (1 to 100,000,000).
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub nightly_price_minor: i64,
    /// ISO 4217 currency.
    #[schema(pattern = r"^[A-Za-z]{3}$", example = "EUR")]
    pub currency: String,
    /// Default 1.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 365)]
    pub min_nights: u32,
    /// Default 365.
    #[serde(default = "max_nights")]
    #[schema(minimum = 1, maximum = 365)]
    pub max_nights: u32,
    /// Default false.
    #[serde(default)]
    pub instant_book: bool,
    /// Default `moderate`.
    #[serde(default = "moderate")]
    pub cancellation_policy: CancellationPolicy,
    /// Default `draft`.
    #[serde(default = "draft")]
    pub status: ListingStatus,
    /// IANA time zone (default `UTC`): stays are dates here, and the times below are local.
    #[serde(default = "utc")]
    #[schema(value_type = Timezone)]
    pub timezone: String,
    /// When check-in opens on the first day, local `HH:MM` (default `15:00`).
    #[serde(default = "check_in_time")]
    #[schema(value_type = TimeOfDay)]
    pub check_in_time: String,
    /// When the guest leaves on the last day, local `HH:MM` (default `11:00`).
    #[serde(default = "check_out_time")]
    #[schema(value_type = TimeOfDay)]
    pub check_out_time: String,
    /// Hours a stay must be booked before check-in opens, 0-168 (default 0: a stay may start
    /// today, local time).
    #[serde(default)]
    #[schema(maximum = 168)]
    pub advance_notice_hours: u32,
    /// How many days ahead a stay may end, 1-1096; default `null`: as far as the platform allows.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1096)]
    pub availability_window_days: Option<u32>,
    /// Nights kept free before and after each booking, 0-7 (default 0).
    #[serde(default)]
    #[schema(maximum = 7)]
    pub preparation_nights: u32,
}

fn utc() -> String {
    Timezone::UTC.as_str().to_owned()
}

fn check_in_time() -> String {
    TimeOfDay::DEFAULT_CHECK_IN.to_string()
}

fn check_out_time() -> String {
    TimeOfDay::DEFAULT_CHECK_OUT.to_string()
}

fn one() -> u32 {
    1
}

fn max_nights() -> u32 {
    365
}

fn moderate() -> CancellationPolicy {
    CancellationPolicy::Moderate
}

fn draft() -> ListingStatus {
    ListingStatus::Draft
}

/// Changes to a listing; omitted fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ListingPatch {
    #[schema(min_length = 1, max_length = 120, pattern = r"\S")]
    pub title: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub property_type: Option<PropertyType>,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub address: Option<String>,
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub city: Option<String>,
    #[schema(pattern = r"^[A-Za-z]{2}$", example = "FR")]
    pub country: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    #[schema(minimum = 1, maximum = 50)]
    pub max_guests: Option<u32>,
    #[schema(maximum = 50)]
    pub bedrooms: Option<u32>,
    #[schema(maximum = 100)]
    pub beds: Option<u32>,
    #[schema(minimum = 0, maximum = 50, multiple_of = 0.5)]
    pub bathrooms: Option<f64>,
    pub amenities: Option<Vec<Amenity>>,
    #[schema(max_items = 30, schema_with = crate::http::schemas::photo_urls_or_null)]
    pub photo_urls: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub nightly_price_minor: Option<i64>,
    #[schema(pattern = r"^[A-Za-z]{3}$", example = "EUR")]
    pub currency: Option<String>,
    #[schema(minimum = 1, maximum = 365)]
    pub min_nights: Option<u32>,
    #[schema(minimum = 1, maximum = 365)]
    pub max_nights: Option<u32>,
    pub instant_book: Option<bool>,
    pub cancellation_policy: Option<CancellationPolicy>,
    pub status: Option<ListingStatus>,
    #[schema(value_type = Option<Timezone>)]
    pub timezone: Option<String>,
    #[schema(value_type = Option<TimeOfDay>)]
    pub check_in_time: Option<String>,
    #[schema(value_type = Option<TimeOfDay>)]
    pub check_out_time: Option<String>,
    #[schema(maximum = 168)]
    pub advance_notice_hours: Option<u32>,
    /// 1-1096 days; `null` removes the listing's own window (as far as the platform allows).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1096)]
    pub availability_window_days: Option<Option<u32>>,
    #[schema(maximum = 7)]
    pub preparation_nights: Option<u32>,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

impl ListingInput {
    /// The whole listing, every bad field named.
    pub fn parse(self) -> Result<domain::ListingInput, Vec<Invalid>> {
        let mut p = Problems::default();
        let (min, max) = (self.min_nights, self.max_nights);
        let patch = ListingPatch::from(self).check(&mut p);
        // Both in range on their own: then `max_nights` must not be below `min_nights`.
        if (1..=365).contains(&min) && (1..=365).contains(&max) {
            check_stay_lengths(&mut p, min, max);
        }
        match whole(patch) {
            Some(input) if p.is_empty() => Ok(input),
            // A field that did not parse (the currency) was recorded in `p`.
            _ => Err(p.into_vec()),
        }
    }
}

fn whole(p: domain::ListingPatch) -> Option<domain::ListingInput> {
    Some(domain::ListingInput {
        title: p.title?,
        description: p.description?,
        property_type: p.property_type?,
        address: p.address?,
        city: p.city?,
        country: p.country?,
        latitude: p.latitude?,
        longitude: p.longitude?,
        max_guests: p.max_guests?,
        bedrooms: p.bedrooms?,
        beds: p.beds?,
        bathrooms: p.bathrooms?,
        amenities: p.amenities?,
        photo_urls: p.photo_urls?,
        nightly_price_minor: p.nightly_price_minor?,
        currency: p.currency?,
        min_nights: p.min_nights?,
        max_nights: p.max_nights?,
        instant_book: p.instant_book?,
        cancellation_policy: p.cancellation_policy?,
        status: p.status?,
        timezone: p.timezone?,
        check_in_time: p.check_in_time?,
        check_out_time: p.check_out_time?,
        advance_notice_hours: p.advance_notice_hours?,
        availability_window_days: p.availability_window_days?,
        preparation_nights: p.preparation_nights?,
    })
}

impl From<ListingInput> for ListingPatch {
    fn from(i: ListingInput) -> Self {
        Self {
            title: Some(i.title),
            description: Some(i.description),
            property_type: Some(i.property_type),
            address: Some(i.address),
            city: Some(i.city),
            country: Some(i.country),
            latitude: Some(i.latitude),
            longitude: Some(i.longitude),
            max_guests: Some(i.max_guests),
            bedrooms: Some(i.bedrooms),
            beds: Some(i.beds),
            bathrooms: Some(i.bathrooms),
            amenities: Some(i.amenities),
            photo_urls: Some(i.photo_urls),
            nightly_price_minor: Some(i.nightly_price_minor),
            currency: Some(i.currency),
            min_nights: Some(i.min_nights),
            max_nights: Some(i.max_nights),
            instant_book: Some(i.instant_book),
            cancellation_policy: Some(i.cancellation_policy),
            status: Some(i.status),
            timezone: Some(i.timezone),
            check_in_time: Some(i.check_in_time),
            check_out_time: Some(i.check_out_time),
            advance_notice_hours: Some(i.advance_notice_hours),
            availability_window_days: Some(i.availability_window_days),
            preparation_nights: Some(i.preparation_nights),
        }
    }
}

impl ListingPatch {
    /// The changes, every bad field named.
    pub fn parse(self) -> Result<domain::ListingPatch, Vec<Invalid>> {
        let mut p = Problems::default();
        let patch = self.check(&mut p);
        p.finish()?;
        Ok(patch)
    }

    /// Checks and normalises each field present, in the order of the body. `max_nights` is
    /// checked against `min_nights` by whoever knows both (creation here, a patch once applied
    /// by the domain).
    fn check(self, p: &mut Problems) -> domain::ListingPatch {
        let len = |s: &str| s.trim().chars().count();
        let title = self.title.map(|t| t.trim().to_owned());
        if let Some(title) = &title {
            p.check(
                (1..=120).contains(&len(title)),
                "title",
                "must be 1-120 characters",
            );
        }
        if let Some(description) = &self.description {
            p.check(
                len(description) <= 5000,
                "description",
                "must be at most 5000 characters",
            );
        }
        if let Some(address) = &self.address {
            p.check(
                (1..=200).contains(&len(address)),
                "address",
                "must be 1-200 characters",
            );
        }
        let city = self.city.map(|c| c.trim().to_owned());
        if let Some(city) = &city {
            p.check(
                (1..=100).contains(&len(city)),
                "city",
                "must be 1-100 characters",
            );
        }
        let country = self.country.map(|c| c.trim().to_ascii_uppercase());
        if let Some(country) = &country {
            p.check(
                country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()),
                "country",
                "must be an ISO 3166-1 alpha-2 code such as FR",
            );
        }
        if let Some(latitude) = self.latitude {
            p.check(
                (-90.0..=90.0).contains(&latitude),
                "latitude",
                "must be between -90 and 90",
            );
        }
        if let Some(longitude) = self.longitude {
            p.check(
                (-180.0..=180.0).contains(&longitude),
                "longitude",
                "must be between -180 and 180",
            );
        }
        if let Some(max_guests) = self.max_guests {
            p.check((1..=50).contains(&max_guests), "max_guests", "must be 1-50");
        }
        if let Some(bedrooms) = self.bedrooms {
            p.check(bedrooms <= 50, "bedrooms", "must be at most 50");
        }
        if let Some(beds) = self.beds {
            p.check(beds <= 100, "beds", "must be at most 100");
        }
        if let Some(bathrooms) = self.bathrooms {
            p.check(
                (0.0..=50.0).contains(&bathrooms) && (bathrooms * 2.0).fract() == 0.0,
                "bathrooms",
                "must be 0-50 in halves",
            );
        }
        if let Some(photo_urls) = &self.photo_urls {
            p.check(
                photo_urls.len() <= MAX_PHOTOS,
                "photo_urls",
                "at most 30 photos",
            );
            // Bounded before any URL is parsed: at most MAX_PHOTOS are looked at.
            for (i, url) in photo_urls.iter().take(MAX_PHOTOS).enumerate() {
                if url.len() > MAX_PHOTO_URL_BYTES {
                    p.add(&format!("photo_urls[{i}]"), "must be at most 1024 bytes");
                    continue;
                }
                let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                if !ok {
                    p.add(&format!("photo_urls[{i}]"), "must be an http(s) URL");
                }
            }
        }
        if let Some(price) = self.nightly_price_minor {
            p.check(
                (1..=100_000_000).contains(&price),
                "nightly_price_minor",
                "must be 1 to 100000000 minor units",
            );
        }
        let currency = self
            .currency
            .and_then(|c| p.parsed("currency", Currency::parse(&c)));
        if let Some(min_nights) = self.min_nights {
            p.check(
                (1..=365).contains(&min_nights),
                "min_nights",
                "must be 1-365",
            );
        }
        if let Some(max_nights) = self.max_nights {
            p.check(
                (1..=365).contains(&max_nights),
                "max_nights",
                "must be at least min_nights and at most 365",
            );
        }
        let timezone = self
            .timezone
            .and_then(|t| p.parsed("timezone", Timezone::parse(&t)));
        let check_in_time = self
            .check_in_time
            .and_then(|t| p.parsed("check_in_time", TimeOfDay::parse(&t)));
        let check_out_time = self
            .check_out_time
            .and_then(|t| p.parsed("check_out_time", TimeOfDay::parse(&t)));
        if let Some(hours) = self.advance_notice_hours {
            p.check(
                hours <= MAX_ADVANCE_NOTICE_HOURS,
                "advance_notice_hours",
                "must be 0-168 hours",
            );
        }
        if let Some(Some(days)) = self.availability_window_days {
            p.check(
                (1..=MAX_AVAILABILITY_WINDOW_DAYS).contains(&days),
                "availability_window_days",
                "must be 1-1096 days, or null for as far as the platform allows",
            );
        }
        if let Some(nights) = self.preparation_nights {
            p.check(
                nights <= MAX_PREPARATION_NIGHTS,
                "preparation_nights",
                "must be 0-7 nights",
            );
        }
        domain::ListingPatch {
            title,
            description: self.description,
            property_type: self.property_type,
            address: self.address,
            city,
            country,
            latitude: self.latitude,
            longitude: self.longitude,
            max_guests: self.max_guests,
            bedrooms: self.bedrooms,
            beds: self.beds,
            bathrooms: self.bathrooms,
            // Each amenity once, whatever the body repeated: the list is bounded by the enum.
            amenities: self.amenities.map(|mut a| {
                a.sort_unstable();
                a.dedup();
                a
            }),
            photo_urls: self.photo_urls,
            nightly_price_minor: self.nightly_price_minor,
            currency,
            min_nights: self.min_nights,
            max_nights: self.max_nights,
            instant_book: self.instant_book,
            cancellation_policy: self.cancellation_policy,
            status: self.status,
            timezone,
            check_in_time,
            check_out_time,
            advance_notice_hours: self.advance_notice_hours,
            availability_window_days: self.availability_window_days,
            preparation_nights: self.preparation_nights,
        }
    }
}
