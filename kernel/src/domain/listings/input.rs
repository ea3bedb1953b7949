//! What hosts send: a whole listing (`ListingInput`) or a partial change (`ListingPatch`), and
//! the rules every listing obeys, each problem naming its field.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{DomainError, Invalid, Problems};
use crate::model::{Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType};

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
}

pub(super) fn one() -> u32 {
    1
}

pub(super) fn max_nights() -> u32 {
    365
}

pub(super) fn moderate() -> CancellationPolicy {
    CancellationPolicy::Moderate
}

pub(super) fn draft() -> ListingStatus {
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
            status
        );
    }
}

/// Checks every rule, naming each bad field; returns the normalised currency.
pub(super) fn validate(input: &mut ListingInput) -> Result<Currency, DomainError> {
    let mut p = Problems::default();
    let len = |s: &str| s.trim().chars().count();
    input.title = input.title.trim().to_owned();
    p.check(
        (1..=120).contains(&len(&input.title)),
        "title",
        "must be 1-120 characters",
    );
    p.check(
        len(&input.description) <= 5000,
        "description",
        "must be at most 5000 characters",
    );
    p.check(
        (1..=200).contains(&len(&input.address)),
        "address",
        "must be 1-200 characters",
    );
    input.city = input.city.trim().to_owned();
    p.check(
        (1..=100).contains(&len(&input.city)),
        "city",
        "must be 1-100 characters",
    );
    input.country = input.country.trim().to_ascii_uppercase();
    p.check(
        input.country.len() == 2 && input.country.bytes().all(|b| b.is_ascii_uppercase()),
        "country",
        "must be an ISO 3166-1 alpha-2 code such as FR",
    );
    p.check(
        (-90.0..=90.0).contains(&input.latitude),
        "latitude",
        "must be between -90 and 90",
    );
    p.check(
        (-180.0..=180.0).contains(&input.longitude),
        "longitude",
        "must be between -180 and 180",
    );
    p.check(
        (1..=50).contains(&input.max_guests),
        "max_guests",
        "must be 1-50",
    );
    p.check(input.bedrooms <= 50, "bedrooms", "must be at most 50");
    p.check(input.beds <= 100, "beds", "must be at most 100");
    p.check(
        (0.0..=50.0).contains(&input.bathrooms) && (input.bathrooms * 2.0).fract() == 0.0,
        "bathrooms",
        "must be 0-50 in halves",
    );
    input.amenities.sort();
    input.amenities.dedup();
    p.check(
        input.photo_urls.len() <= 30,
        "photo_urls",
        "at most 30 photos",
    );
    for (i, url) in input.photo_urls.iter().enumerate() {
        let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            p.add(&format!("photo_urls[{i}]"), "must be an http(s) URL");
        }
    }
    p.check(
        (1..=100_000_000).contains(&input.nightly_price_minor),
        "nightly_price_minor",
        "must be 1 to 100000000 minor units",
    );
    let currency = Currency::parse(&input.currency);
    if let Err(message) = &currency {
        p.add("currency", message.to_string());
    }
    p.check(
        (1..=365).contains(&input.min_nights),
        "min_nights",
        "must be 1-365",
    );
    p.check(
        input.max_nights >= input.min_nights && input.max_nights <= 365,
        "max_nights",
        "must be at least min_nights and at most 365",
    );
    p.finish()?;
    currency.map_err(|m| DomainError::Invalid(vec![Invalid::new("currency", m.to_string())]))
}
