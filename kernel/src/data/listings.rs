//! SQL for `listings` and `listing_amenities`, including the search query. Search reads only
//! published, undeleted rows (matching the partial indexes' predicate exactly), filters with
//! indexed columns, and pages by keyset (sort key, id) so pages never repeat or skip rows.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use sqlx::QueryBuilder;

use super::{dispatch, push_in, DataError, Exec};
use crate::model::{
    Amenity, BookingStatus, CancellationPolicy, Currency, ListingStatus, PropertyType,
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
}

const COLUMNS: &str = "id, host_id, title, description, property_type, address, city, city_key, \
    country, latitude, longitude, max_guests, bedrooms, beds, bathrooms, amenities, photo_urls, \
    nightly_price_minor, currency, min_nights, max_nights, instant_book, cancellation_policy, \
    status, rating_avg, rating_count, created_at, updated_at, deleted_at";

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
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)"
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
        cancellation_policy = $21, status = $22, updated_at = $23, city_key = $24 \
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

/// A search area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Area {
    /// A bounding box.
    BBox {
        /// South edge.
        min_lat: f64,
        /// West edge.
        min_lng: f64,
        /// North edge.
        max_lat: f64,
        /// East edge.
        max_lng: f64,
    },
    /// A circle.
    Radius {
        /// Centre latitude.
        lat: f64,
        /// Centre longitude.
        lng: f64,
        /// Radius, km.
        km: f64,
    },
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Cheapest first.
    #[default]
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Best rated first (unrated last).
    RatingDesc,
    /// Newest first (ids are UUIDv7, so id order is creation order).
    Newest,
}

/// Search criteria, already parsed by the domain.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct ListingFilter {
    /// Lower-cased (Unicode), compared with `city_key`.
    pub city: Option<String>,
    pub country: Option<String>,
    pub area: Option<Area>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub currency: Option<String>,
    pub guests: Option<u32>,
    pub amenities: Vec<String>,
    /// (check_in, check_out, nights)
    pub stay: Option<(NaiveDate, NaiveDate, u32)>,
    pub sort: SortKey,
    /// Keyset: the last row's sort key and id.
    pub after: Option<(Option<f64>, Uuid)>,
    pub limit: u32,
}

/// Km per degree of latitude.
const KM_PER_DEGREE: f64 = 111.32;

/// One page (plus one row, to tell whether there is more) of published listings.
#[tracing::instrument(skip_all)]
pub async fn search(exec: Exec<'_>, f: &ListingFilter) -> Result<Vec<ListingRecord>, DataError> {
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("SELECT ");
        push_search(&mut qb, f);
        qb.build_query_as::<ListingRecord>().fetch_all(&mut *c).await
    })?)
}

/// Builds the search query into `qb`: every value is a bound parameter, on either backend.
fn push_search<'a, DB>(qb: &mut QueryBuilder<'a, DB>, f: &'a ListingFilter)
where
    DB: sqlx::Database,
    f64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    NaiveDate: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    BookingStatus: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    // The status stays literal SQL: the partial indexes are declared `WHERE status =
    // 'published' AND deleted_at IS NULL`, and PostgreSQL uses a partial index for a generic
    // plan only when the predicate is spelled out (`published_literal_is_the_enum` pins it).
    qb.push(COLUMNS)
        .push(" FROM listings l WHERE l.status = 'published' AND l.deleted_at IS NULL");
    if let Some(country) = &f.country {
        qb.push(" AND l.country = ").push_bind(country.as_str());
    }
    if let Some(city) = &f.city {
        // city_key is folded by the kernel at write (SQLite's lower() folds ASCII only).
        qb.push(" AND l.city_key = ").push_bind(city.as_str());
    }
    match f.area {
        Some(Area::BBox {
            min_lat,
            min_lng,
            max_lat,
            max_lng,
        }) => push_bbox(qb, (min_lat, max_lat), (min_lng, max_lng)),
        Some(Area::Radius { lat, lng, km }) => {
            // A bounding box first (indexed), then the exact circle on an equirectangular
            // projection: plain arithmetic, the same on both databases, accurate at city scale.
            let dlat = km / KM_PER_DEGREE;
            let coslat = lat.to_radians().cos().max(0.01);
            let dlng = dlat / coslat;
            push_bbox(qb, (lat - dlat, lat + dlat), (lng - dlng, lng + dlng));
            let dx = |qb: &mut QueryBuilder<'a, DB>| {
                qb.push("((l.longitude - ").push_bind(lng);
                qb.push(") * ").push_bind(coslat).push(")");
            };
            let dy = |qb: &mut QueryBuilder<'a, DB>| {
                qb.push("(l.latitude - ").push_bind(lat).push(")");
            };
            qb.push(" AND ");
            dx(qb);
            qb.push(" * ");
            dx(qb);
            qb.push(" + ");
            dy(qb);
            qb.push(" * ");
            dy(qb);
            qb.push(" <= ").push_bind(dlat * dlat);
        }
        None => {}
    }
    if let Some(min) = f.min_price {
        qb.push(" AND l.nightly_price_minor >= ").push_bind(min);
    }
    if let Some(max) = f.max_price {
        qb.push(" AND l.nightly_price_minor <= ").push_bind(max);
    }
    if let Some(currency) = &f.currency {
        qb.push(" AND l.currency = ").push_bind(currency.as_str());
    }
    if let Some(guests) = f.guests {
        qb.push(" AND l.max_guests >= ")
            .push_bind(i64::from(guests));
    }
    for amenity in &f.amenities {
        qb.push(" AND EXISTS (SELECT 1 FROM listing_amenities a WHERE a.amenity = ")
            .push_bind(amenity.as_str())
            .push(" AND a.listing_id = l.id)");
    }
    if let Some((check_in, check_out, nights)) = f.stay {
        let nights = i64::from(nights);
        qb.push(" AND l.min_nights <= ").push_bind(nights);
        qb.push(" AND l.max_nights >= ").push_bind(nights);
        qb.push(" AND NOT EXISTS (SELECT 1 FROM calendar_days c WHERE c.listing_id = l.id AND c.blocked = TRUE AND c.day >= ")
            .push_bind(check_in)
            .push(" AND c.day < ")
            .push_bind(check_out)
            .push(")");
        qb.push(
            " AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.listing_id = l.id AND b.status IN ",
        );
        push_in(qb, BookingStatus::ACTIVE);
        qb.push(" AND b.check_in < ")
            .push_bind(check_out)
            .push(" AND b.check_out > ")
            .push_bind(check_in)
            .push(")");
    }
    let (order, key) = match f.sort {
        SortKey::PriceAsc => (
            "l.nightly_price_minor ASC, l.id ASC",
            "l.nightly_price_minor",
        ),
        SortKey::PriceDesc => (
            "l.nightly_price_minor DESC, l.id ASC",
            "l.nightly_price_minor",
        ),
        SortKey::RatingDesc => (
            "COALESCE(l.rating_avg, -1) DESC, l.id ASC",
            "COALESCE(l.rating_avg, -1)",
        ),
        SortKey::Newest => ("l.id DESC", "l.id"),
    };
    if let Some((value, id)) = f.after {
        let value = value.unwrap_or(-1.0);
        // Keyset: strictly past the last row in sort order, ties broken by id.
        if f.sort == SortKey::Newest {
            qb.push(" AND l.id < ").push_bind(id);
        } else {
            let past = if f.sort == SortKey::PriceAsc {
                " > "
            } else {
                " < "
            };
            qb.push(" AND (").push(key).push(past);
            push_sort_value(qb, f.sort, value);
            qb.push(" OR (").push(key).push(" = ");
            push_sort_value(qb, f.sort, value);
            qb.push(" AND l.id > ").push_bind(id).push("))");
        }
    }
    qb.push(" ORDER BY ").push(order).push(" LIMIT ");
    qb.push_bind(i64::from(f.limit) + 1);
}

/// `AND latitude BETWEEN .. AND longitude BETWEEN ..`.
fn push_bbox<'a, DB>(qb: &mut QueryBuilder<'a, DB>, lat: (f64, f64), lng: (f64, f64))
where
    DB: sqlx::Database,
    f64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(" AND l.latitude BETWEEN ").push_bind(lat.0);
    qb.push(" AND ").push_bind(lat.1);
    qb.push(" AND l.longitude BETWEEN ").push_bind(lng.0);
    qb.push(" AND ").push_bind(lng.1);
}

/// A keyset value in the sort column's own type: prices are integers, ratings are not.
fn push_sort_value<'a, DB>(qb: &mut QueryBuilder<'a, DB>, sort: SortKey, value: f64)
where
    DB: sqlx::Database,
    f64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match sort {
        SortKey::RatingDesc => qb.push_bind(value),
        _ => qb.push_bind(value as i64),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_literal_is_the_enum() {
        assert_eq!(ListingStatus::Published.as_str(), "published");
    }
}
