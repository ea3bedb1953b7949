//! Listings: what hosts offer. Hosts create and manage their own; anyone reads published (and,
//! by link, unlisted) ones; drafts are private: to anyone but the owner or an admin they do not
//! exist (404, never 403).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{now, DomainError, Problems};
use crate::auth::{AccountId, Principal, Role};
use crate::cache::{Cache, Namespace};
use crate::data::listings::{self as store, Area, ListingFilter, ListingRecord, SortKey};
use crate::data::Database;
use crate::model::{Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType, StayRange};
use sqlx::types::Json;

/// How long a listing or a search page may be served from the cache. Writes invalidate at once;
/// this only bounds staleness while the cache is unreachable.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// The most results one search page returns.
pub const MAX_PAGE: u32 = 100;

/// A listing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
}

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
}

impl ListingPatch {
    fn apply(self, to: &mut ListingInput) {
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
fn validate(input: &mut ListingInput) -> Result<Currency, DomainError> {
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
    currency.map_err(|m| DomainError::Invalid(vec![super::Invalid::new("currency", m.to_string())]))
}

/// Whether `viewer` may see a listing in this state.
fn visible(listing: &Listing, viewer: Option<&Principal>) -> bool {
    listing.status != ListingStatus::Draft || viewer.is_some_and(|v| may_manage(listing, v))
}

fn may_manage(listing: &Listing, who: &Principal) -> bool {
    who.role == Role::Admin || who.account_id.as_uuid() == listing.host_id
}

/// The search criteria, parsed from query parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// City, case-insensitive.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// A bounding box `min_lat,min_lng,max_lat,max_lng`.
    pub bbox: Option<String>,
    /// Centre latitude for a radius search (with `lng` and `radius_km`).
    #[param(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// Centre longitude for a radius search.
    #[param(minimum = -180, maximum = 180)]
    pub lng: Option<f64>,
    /// Radius in km (at most 500).
    #[param(exclusive_minimum = 0, maximum = 500)]
    pub radius_km: Option<f64>,
    /// Lowest nightly price, minor units of the listing's currency.
    pub min_price: Option<i64>,
    /// Highest nightly price, minor units of the listing's currency.
    pub max_price: Option<i64>,
    /// Only listings priced in this currency.
    #[param(pattern = r"^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// Guests who must fit.
    #[param(format = Int64, minimum = 0, maximum = 4_294_967_295_u64)]
    pub guests: Option<u32>,
    /// Comma-separated amenities; listings must have all of them.
    pub amenities: Option<String>,
    /// With `check_out`: only listings free for every night of the stay.
    #[param(format = Date)]
    pub check_in: Option<String>,
    /// Departure day.
    #[param(format = Date)]
    pub check_out: Option<String>,
    /// `price` (default), `price_desc`, `rating`, `newest`.
    #[param(pattern = "^(price|price_desc|rating|newest)$")]
    pub sort: Option<String>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// One page of search results.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// The listings, in the requested order.
    pub listings: Vec<Listing>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Sort {
    Price,
    PriceDesc,
    Rating,
    Newest,
}

/// A cursor: the sort key and id of the last listing on the page, opaque to clients.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    s: Sort,
    k: Option<f64>,
    id: Uuid,
}

impl Cursor {
    fn encode(&self) -> String {
        super::cursor::encode(self)
    }

    fn decode(s: &str) -> Option<Self> {
        super::cursor::decode(s)
    }
}

impl SearchParams {
    fn parse(&self) -> Result<(ListingFilter, Sort, u32), DomainError> {
        let mut p = Problems::default();
        let mut filter = ListingFilter {
            city: self.city.as_ref().map(|c| city_key(c)),
            country: self.country.as_ref().map(|c| c.trim().to_ascii_uppercase()),
            min_price: self.min_price,
            max_price: self.max_price,
            guests: self.guests,
            ..ListingFilter::default()
        };
        if let Some(c) = &self.currency {
            match Currency::parse(c) {
                Ok(c) => filter.currency = Some(c.as_str().to_owned()),
                Err(m) => p.add("currency", m.to_string()),
            }
        }
        if let Some(bbox) = &self.bbox {
            // Every part must be a number: a bad one is an error, not silently dropped.
            let v: Option<Vec<f64>> = bbox
                .split(',')
                .map(|x| x.trim().parse().ok().filter(|f: &f64| f.is_finite()))
                .collect();
            match v.as_deref() {
                Some([a, b, c, d]) if a <= c && b <= d => {
                    filter.area = Some(Area::BBox {
                        min_lat: *a,
                        min_lng: *b,
                        max_lat: *c,
                        max_lng: *d,
                    })
                }
                _ => p.add("bbox", "must be min_lat,min_lng,max_lat,max_lng"),
            }
        }
        match (self.lat, self.lng, self.radius_km) {
            (None, None, None) => {}
            (Some(lat), Some(lng), Some(km))
                if (-90.0..=90.0).contains(&lat)
                    && (-180.0..=180.0).contains(&lng)
                    && km > 0.0
                    && km <= 500.0 =>
            {
                if filter.area.is_some() {
                    p.add(
                        "radius_km",
                        "use either bbox or lat/lng/radius_km, not both",
                    );
                }
                filter.area = Some(Area::Radius { lat, lng, km });
            }
            _ => p.add("radius_km", "lat, lng and radius_km (0-500) go together"),
        }
        if let (Some(lo), Some(hi)) = (self.min_price, self.max_price) {
            p.check(lo <= hi, "max_price", "must be at least min_price");
        }
        if let Some(list) = &self.amenities {
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match Amenity::parse(name) {
                    Some(a) => filter.amenities.push(a.as_str().to_owned()),
                    None => p.add("amenities", format!("unknown amenity `{name}`")),
                }
            }
        }
        if self.check_in.is_some() || self.check_out.is_some() {
            match StayRange::parse(self.check_in.as_deref(), self.check_out.as_deref()) {
                Ok(stay) => filter.stay = Some((stay.check_in(), stay.check_out(), stay.nights())),
                Err(problems) => p.extend(problems),
            }
        }
        let sort = match self.sort.as_deref() {
            None | Some("price") => Sort::Price,
            Some("price_desc") => Sort::PriceDesc,
            Some("rating") => Sort::Rating,
            Some("newest") => Sort::Newest,
            Some(_) => {
                p.add("sort", "must be price, price_desc, rating or newest");
                Sort::Price
            }
        };
        let limit = self.limit.unwrap_or(20);
        p.check((1..=MAX_PAGE).contains(&limit), "limit", "must be 1-100");
        if let Some(c) = &self.cursor {
            match Cursor::decode(c) {
                Some(cursor) if cursor.s == sort => filter.after = Some((cursor.k, cursor.id)),
                _ => p.add("cursor", "is not a cursor from this search"),
            }
        }
        filter.sort = match sort {
            Sort::Price => SortKey::PriceAsc,
            Sort::PriceDesc => SortKey::PriceDesc,
            Sort::Rating => SortKey::RatingDesc,
            Sort::Newest => SortKey::Newest,
        };
        filter.limit = limit;
        p.finish()?;
        Ok((filter, sort, limit))
    }
}

/// The listings service.
#[derive(Clone, Debug)]
pub struct Listings {
    db: Database,
    cached: Namespace,
    searches: Namespace,
}

impl Listings {
    /// Builds the service.
    pub fn new(db: Database, cache: &Cache) -> Self {
        Self {
            db,
            cached: cache.namespace("listing"),
            searches: cache.namespace("search"),
        }
    }

    pub(super) fn db(&self) -> &Database {
        &self.db
    }

    /// Creates a listing owned by the caller, who must be a host (or an admin).
    pub async fn create(
        &self,
        who: &Principal,
        mut input: ListingInput,
    ) -> Result<Listing, DomainError> {
        if who.role < Role::Host {
            return Err(DomainError::Forbidden);
        }
        let currency = validate(&mut input)?;
        let now = now();
        let record = to_record(
            Uuid::now_v7(),
            who.account_id,
            &input,
            &currency,
            now,
            now,
            None,
            0,
        );
        let mut tx = self.db.begin().await?;
        store::insert(tx.exec(), &record, &input.amenities).await?;
        crate::bus::record(tx.exec(), &ListingEvent::new("listing_created", &record)).await?;
        if record.status == ListingStatus::Published {
            crate::bus::record(tx.exec(), &ListingEvent::new("listing_published", &record)).await?;
        }
        tx.commit().await?;
        self.invalidate(record.id).await;
        from_record(record)
    }

    /// A listing, if the caller may see it.
    pub async fn get(&self, viewer: Option<&Principal>, id: Uuid) -> Result<Listing, DomainError> {
        let listing = self.load(id).await?;
        if visible(&listing, viewer) {
            Ok(listing)
        } else {
            Err(DomainError::NotFound("listing"))
        }
    }

    /// A listing the caller may manage: 404 if they may not even see it, 403 if they may see
    /// but not change it.
    pub async fn get_managed(&self, who: &Principal, id: Uuid) -> Result<Listing, DomainError> {
        let listing = self.get(Some(who), id).await?;
        if may_manage(&listing, who) {
            Ok(listing)
        } else {
            Err(DomainError::Forbidden)
        }
    }

    async fn load(&self, id: Uuid) -> Result<Listing, DomainError> {
        let key = id.to_string();
        if let Some(listing) = self.cached.get::<Listing>(&key).await {
            return Ok(listing);
        }
        let mut conn = self.db.acquire().await?;
        let record = store::find(conn.exec(), id)
            .await?
            .filter(|r| r.deleted_at.is_none())
            .ok_or(DomainError::NotFound("listing"))?;
        let listing = from_record(record)?;
        self.cached.set(&key, &listing, CACHE_TTL).await;
        Ok(listing)
    }

    /// Changes a listing (owner or admin).
    pub async fn update(
        &self,
        who: &Principal,
        id: Uuid,
        patch: ListingPatch,
    ) -> Result<Listing, DomainError> {
        let current = self.get_managed(who, id).await?;
        let mut input = to_input(&current);
        patch.apply(&mut input);
        let currency = validate(&mut input)?;
        let record = to_record(
            id,
            AccountId::from(current.host_id),
            &input,
            &currency,
            current.created_at,
            now(),
            current.rating_avg,
            current.rating_count,
        );
        let mut tx = self.db.begin().await?;
        store::update(tx.exec(), &record, &input.amenities).await?;
        crate::bus::record(tx.exec(), &ListingEvent::new("listing_updated", &record)).await?;
        if record.status == ListingStatus::Published && current.status != ListingStatus::Published {
            crate::bus::record(tx.exec(), &ListingEvent::new("listing_published", &record)).await?;
        }
        tx.commit().await?;
        self.invalidate(id).await;
        from_record(record)
    }

    /// Soft-deletes a listing (owner or admin).
    pub async fn delete(&self, who: &Principal, id: Uuid) -> Result<(), DomainError> {
        let listing = self.get_managed(who, id).await?;
        let mut tx = self.db.begin().await?;
        store::soft_delete(tx.exec(), id, now()).await?;
        let event = ListingEvent {
            kind: "listing_deleted",
            listing_id: id,
            account_id: listing.host_id,
            title: &listing.title,
            city: &listing.city,
            country: &listing.country,
        };
        crate::bus::record(tx.exec(), &event).await?;
        tx.commit().await?;
        self.invalidate(id).await;
        Ok(())
    }

    /// Published listings matching the criteria, one page at a time, in a stable order.
    pub async fn search(&self, params: &SearchParams) -> Result<SearchPage, DomainError> {
        let (filter, sort, limit) = params.parse()?;
        let generation = self.searches.count("generation").await;
        let key = format!("{generation}:{}", cache_key(&filter));
        if let Some(page) = self.searches.get::<SearchPage>(&key).await {
            return Ok(page);
        }
        let mut conn = self.db.acquire().await?;
        let mut records = store::search(conn.exec(), &filter).await?;
        drop(conn);
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let listings = records
            .into_iter()
            .map(from_record)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = match (more, listings.last()) {
            (true, Some(last)) => Some(
                Cursor {
                    s: sort,
                    k: match sort {
                        Sort::Price | Sort::PriceDesc => Some(last.nightly_price_minor as f64),
                        Sort::Rating => last.rating_avg,
                        Sort::Newest => None,
                    },
                    id: last.id,
                }
                .encode(),
            ),
            _ => None,
        };
        let page = SearchPage {
            listings,
            next_cursor,
        };
        self.searches.set(&key, &page, CACHE_TTL).await;
        Ok(page)
    }

    /// Drops the cached listing and every cached search page (by moving to a new generation).
    pub(crate) async fn invalidate(&self, id: Uuid) {
        self.cached.delete(&id.to_string()).await;
        self.searches
            .incr("generation", Duration::from_secs(30 * 24 * 3600))
            .await;
    }
}

/// `listing_created`, `listing_updated`, `listing_published` (became visible) and
/// `listing_deleted`. `account_id` is the host, whom notifiers address.
#[derive(Debug, Serialize)]
struct ListingEvent<'a> {
    #[serde(skip)]
    kind: &'static str,
    listing_id: Uuid,
    account_id: Uuid,
    title: &'a str,
    city: &'a str,
    country: &'a str,
}

impl<'a> ListingEvent<'a> {
    fn new(kind: &'static str, r: &'a ListingRecord) -> Self {
        Self {
            kind,
            listing_id: r.id,
            account_id: r.host_id,
            title: &r.title,
            city: &r.city,
            country: &r.country,
        }
    }
}

impl crate::bus::DomainEvent for ListingEvent<'_> {
    fn kind(&self) -> &str {
        self.kind
    }
}

/// A city as search compares it: trimmed and lower-cased with Unicode rules (so `évora`
/// finds `Évora` on both databases).
pub(crate) fn city_key(city: &str) -> String {
    city.trim().to_lowercase()
}

fn cache_key(filter: &ListingFilter) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("{filter:?}").as_bytes()))
}

#[allow(clippy::too_many_arguments)]
fn to_record(
    id: Uuid,
    host: AccountId,
    input: &ListingInput,
    currency: &Currency,
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
        currency: *currency,
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
    }
}

fn to_input(l: &Listing) -> ListingInput {
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
        currency: l.currency.as_str().to_owned(),
        min_nights: l.min_nights,
        max_nights: l.max_nights,
        instant_book: l.instant_book,
        cancellation_policy: l.cancellation_policy,
        status: l.status,
    }
}

fn from_record(r: ListingRecord) -> Result<Listing, DomainError> {
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
