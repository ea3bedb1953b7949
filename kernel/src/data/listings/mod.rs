//! SQL for `listings` and `listing_amenities`; the search query is in `search`.

mod search;

pub use self::search::{search, Area, ListingFilter, SortKey};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{dispatch, DataError, Exec};
use crate::model::{
    Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType, TimeOfDay, Timezone,
};

/// A listing row.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct ListingRecord {
    pub id: Uuid,
    pub host_id: Uuid,
    pub title: String,
    pub description: String,
    pub property_type: PropertyType,
    pub address: String,
    pub city: String,
    /// `city` lower-cased (Unicode) for search.
    pub city_key: String,
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
    pub max_guests: i32,
    pub bedrooms: i32,
    pub beds: i32,
    pub bathrooms: f64,
    pub amenities: Json<Vec<Amenity>>,
    pub photo_urls: Json<Vec<String>>,
    pub nightly_price_minor: i64,
    pub currency: Currency,
    pub min_nights: i32,
    pub max_nights: i32,
    pub instant_book: bool,
    pub cancellation_policy: CancellationPolicy,
    pub status: ListingStatus,
    pub rating_avg: Option<f64>,
    pub rating_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub timezone: Timezone,
    pub check_in_time: TimeOfDay,
    pub check_out_time: TimeOfDay,
    pub advance_notice_hours: i32,
    /// `None`: as far ahead as the platform allows.
    pub availability_window_days: Option<i32>,
    pub preparation_nights: i32,
}

const COLUMNS: &str = "id, host_id, title, description, property_type, address, city, city_key, \
    country, latitude, longitude, max_guests, bedrooms, beds, bathrooms, amenities, photo_urls, \
    nightly_price_minor, currency, min_nights, max_nights, instant_book, cancellation_policy, \
    status, rating_avg, rating_count, created_at, updated_at, deleted_at, timezone, check_in_time, \
    check_out_time, advance_notice_hours, availability_window_days, preparation_nights";

/// Binds every column of a listing, in `COLUMNS` order.
macro_rules! bind_listing {
    ($q:expr, $l:expr) => {
        $q.bind($l.id)
            .bind($l.host_id)
            .bind(&$l.title)
            .bind(&$l.description)
            .bind($l.property_type)
            .bind(&$l.address)
            .bind(&$l.city)
            .bind(&$l.city_key)
            .bind(&$l.country)
            .bind($l.latitude)
            .bind($l.longitude)
            .bind($l.max_guests)
            .bind($l.bedrooms)
            .bind($l.beds)
            .bind($l.bathrooms)
            .bind(&$l.amenities)
            .bind(&$l.photo_urls)
            .bind($l.nightly_price_minor)
            .bind($l.currency)
            .bind($l.min_nights)
            .bind($l.max_nights)
            .bind($l.instant_book)
            .bind($l.cancellation_policy)
            .bind($l.status)
            .bind($l.rating_avg)
            .bind($l.rating_count)
            .bind($l.created_at)
            .bind($l.updated_at)
            .bind($l.deleted_at)
            .bind($l.timezone)
            .bind($l.check_in_time)
            .bind($l.check_out_time)
            .bind($l.advance_notice_hours)
            .bind($l.availability_window_days)
            .bind($l.preparation_nights)
    };
}

/// Inserts a listing and its amenity rows.
#[tracing::instrument(skip_all, fields(listing.id = %listing.id))]
pub async fn insert(
    mut exec: Exec<'_>,
    listing: &ListingRecord,
    amenities: &[Amenity],
) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO listings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, \
         $30, $31, $32, $33, $34, $35)"
    );
    dispatch!(&mut exec, c => bind_listing!(sqlx::query(&sql), listing).execute(&mut **c).await.map(|_| ()))?;
    replace_amenities(exec, listing.id, amenities).await
}

/// Rewrites a listing's mutable columns and its amenity rows.
#[tracing::instrument(skip_all, fields(listing.id = %listing.id))]
pub async fn update(
    mut exec: Exec<'_>,
    listing: &ListingRecord,
    amenities: &[Amenity],
) -> Result<(), DataError> {
    let sql =
        "UPDATE listings SET title = $2, description = $3, property_type = $4, address = $5, \
        city = $6, country = $7, latitude = $8, longitude = $9, max_guests = $10, bedrooms = $11, \
        beds = $12, bathrooms = $13, amenities = $14, photo_urls = $15, nightly_price_minor = $16, \
        currency = $17, min_nights = $18, max_nights = $19, instant_book = $20, \
        cancellation_policy = $21, status = $22, updated_at = $23, city_key = $24, \
        timezone = $25, check_in_time = $26, check_out_time = $27, advance_notice_hours = $28, \
        availability_window_days = $29, preparation_nights = $30 \
        WHERE id = $1 AND deleted_at IS NULL";
    let l = listing;
    dispatch!(&mut exec, c => sqlx::query(sql)
        .bind(l.id)
        .bind(&l.title)
        .bind(&l.description)
        .bind(l.property_type)
        .bind(&l.address)
        .bind(&l.city)
        .bind(&l.country)
        .bind(l.latitude)
        .bind(l.longitude)
        .bind(l.max_guests)
        .bind(l.bedrooms)
        .bind(l.beds)
        .bind(l.bathrooms)
        .bind(&l.amenities)
        .bind(&l.photo_urls)
        .bind(l.nightly_price_minor)
        .bind(l.currency)
        .bind(l.min_nights)
        .bind(l.max_nights)
        .bind(l.instant_book)
        .bind(l.cancellation_policy)
        .bind(l.status)
        .bind(l.updated_at)
        .bind(&l.city_key)
        .bind(l.timezone)
        .bind(l.check_in_time)
        .bind(l.check_out_time)
        .bind(l.advance_notice_hours)
        .bind(l.availability_window_days)
        .bind(l.preparation_nights)
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
    replace_amenities(exec, listing.id, amenities).await
}

async fn replace_amenities(
    mut exec: Exec<'_>,
    id: Uuid,
    amenities: &[Amenity],
) -> Result<(), DataError> {
    dispatch!(&mut exec, c => sqlx::query("DELETE FROM listing_amenities WHERE listing_id = $1")
        .bind(id)
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
    for amenity in amenities {
        dispatch!(&mut exec, c => sqlx::query("INSERT INTO listing_amenities (amenity, listing_id) VALUES ($1, $2)")
            .bind(amenity)
            .bind(id)
            .execute(&mut **c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// A listing by id, deleted or not.
#[tracing::instrument(skip_all, fields(listing.id = %id))]
pub async fn find(exec: Exec<'_>, id: Uuid) -> Result<Option<ListingRecord>, DataError> {
    let sql = format!("SELECT {COLUMNS} FROM listings WHERE id = $1");
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, ListingRecord>(&sql).bind(id).fetch_optional(&mut *c).await)?,
    )
}

/// The listings among `ids`, deleted or not (any order; missing ids are left out).
#[tracing::instrument(skip_all, fields(listings = ids.len()))]
pub async fn find_many(exec: Exec<'_>, ids: &[Uuid]) -> Result<Vec<ListingRecord>, DataError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dispatch!(exec, c => {
        let mut qb = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM listings WHERE id IN "));
        super::push_in(&mut qb, ids);
        qb.build_query_as::<ListingRecord>().fetch_all(&mut *c).await
    })?)
}

/// Marks a listing deleted.
#[tracing::instrument(skip_all, fields(listing.id = %id))]
pub async fn soft_delete(exec: Exec<'_>, id: Uuid, now: DateTime<Utc>) -> Result<(), DataError> {
    dispatch!(exec, c => sqlx::query("UPDATE listings SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}
