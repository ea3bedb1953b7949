//! SQL for `listings` and `listing_amenities`, including the search query. Search reads only
//! published, undeleted rows (matching the partial indexes' predicate exactly), filters with
//! indexed columns, and pages by keyset (sort key, id) so pages never repeat or skip rows.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{dispatch, DataError, Exec};
use crate::model::{Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType};

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

/// A value bound into a dynamically built query.
#[derive(Debug, Clone)]
enum Bind {
    I64(i64),
    F64(f64),
    Text(String),
    Uuid(Uuid),
    Date(NaiveDate),
}

/// Runs `sql` with `binds` (placeholders `$1..`) and decodes rows, on either backend.
macro_rules! bound_query_as {
    ($exec:expr, $row:ty, $sql:expr, $binds:expr) => {
        dispatch!($exec, c => {
            let mut q = sqlx::query_as::<_, $row>($sql);
            for b in $binds {
                q = match b {
                    Bind::I64(v) => q.bind(*v),
                    Bind::F64(v) => q.bind(*v),
                    Bind::Text(v) => q.bind(v.clone()),
                    Bind::Uuid(v) => q.bind(*v),
                    Bind::Date(v) => q.bind(*v),
                };
            }
            q.fetch_all(&mut *c).await
        })
    };
}

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
    let mut sql = format!(
        "SELECT {COLUMNS} FROM listings l WHERE l.status = 'published' AND l.deleted_at IS NULL"
    );
    let mut binds: Vec<Bind> = Vec::new();
    let mut push = |sql: &mut String, clause: &str, values: Vec<Bind>| {
        let mut clause = clause.to_owned();
        for (i, v) in values.into_iter().enumerate() {
            binds.push(v);
            clause = clause.replace(&format!("?{i}"), &format!("${}", binds.len()));
        }
        sql.push_str(" AND ");
        sql.push_str(&clause);
    };
    if let Some(country) = &f.country {
        push(
            &mut sql,
            "l.country = ?0",
            vec![Bind::Text(country.clone())],
        );
    }
    if let Some(city) = &f.city {
        push(
            &mut sql,
            // city_key is folded by the kernel at write (SQLite's lower() folds ASCII only).
            "l.city_key = ?0",
            vec![Bind::Text(city.clone())],
        );
    }
    match f.area {
        Some(Area::BBox {
            min_lat,
            min_lng,
            max_lat,
            max_lng,
        }) => push(
            &mut sql,
            "l.latitude BETWEEN ?0 AND ?1 AND l.longitude BETWEEN ?2 AND ?3",
            vec![
                Bind::F64(min_lat),
                Bind::F64(max_lat),
                Bind::F64(min_lng),
                Bind::F64(max_lng),
            ],
        ),
        Some(Area::Radius { lat, lng, km }) => {
            // A bounding box first (indexed), then the exact circle on an equirectangular
            // projection: plain arithmetic, the same on both databases, accurate at city scale.
            let dlat = km / KM_PER_DEGREE;
            let coslat = lat.to_radians().cos().max(0.01);
            let dlng = dlat / coslat;
            push(
                &mut sql,
                "l.latitude BETWEEN ?0 AND ?1 AND l.longitude BETWEEN ?2 AND ?3 AND \
                 ((l.longitude - ?4) * ?5) * ((l.longitude - ?4) * ?5) + (l.latitude - ?6) * (l.latitude - ?6) <= ?7",
                vec![
                    Bind::F64(lat - dlat),
                    Bind::F64(lat + dlat),
                    Bind::F64(lng - dlng),
                    Bind::F64(lng + dlng),
                    Bind::F64(lng),
                    Bind::F64(coslat),
                    Bind::F64(lat),
                    Bind::F64(dlat * dlat),
                ],
            );
        }
        None => {}
    }
    if let Some(min) = f.min_price {
        push(
            &mut sql,
            "l.nightly_price_minor >= ?0",
            vec![Bind::I64(min)],
        );
    }
    if let Some(max) = f.max_price {
        push(
            &mut sql,
            "l.nightly_price_minor <= ?0",
            vec![Bind::I64(max)],
        );
    }
    if let Some(currency) = &f.currency {
        push(
            &mut sql,
            "l.currency = ?0",
            vec![Bind::Text(currency.clone())],
        );
    }
    if let Some(guests) = f.guests {
        push(
            &mut sql,
            "l.max_guests >= ?0",
            vec![Bind::I64(i64::from(guests))],
        );
    }
    for amenity in &f.amenities {
        push(
            &mut sql,
            "EXISTS (SELECT 1 FROM listing_amenities a WHERE a.amenity = ?0 AND a.listing_id = l.id)",
            vec![Bind::Text(amenity.clone())],
        );
    }
    if let Some((check_in, check_out, nights)) = f.stay {
        push(
            &mut sql,
            "l.min_nights <= ?0 AND l.max_nights >= ?0 AND NOT EXISTS (SELECT 1 FROM calendar_days c \
             WHERE c.listing_id = l.id AND c.blocked = TRUE AND c.day >= ?1 AND c.day < ?2) \
             AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.listing_id = l.id \
             AND b.status IN ('pending_payment', 'requested', 'confirmed', 'completed') \
             AND b.check_in < ?2 AND b.check_out > ?1)",
            vec![Bind::I64(i64::from(nights)), Bind::Date(check_in), Bind::Date(check_out)],
        );
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
        match f.sort {
            SortKey::PriceAsc => push(
                &mut sql,
                &format!("({key} > ?0 OR ({key} = ?0 AND l.id > ?1))"),
                vec![Bind::I64(value as i64), Bind::Uuid(id)],
            ),
            SortKey::PriceDesc => push(
                &mut sql,
                &format!("({key} < ?0 OR ({key} = ?0 AND l.id > ?1))"),
                vec![Bind::I64(value as i64), Bind::Uuid(id)],
            ),
            SortKey::RatingDesc => push(
                &mut sql,
                &format!("({key} < ?0 OR ({key} = ?0 AND l.id > ?1))"),
                vec![Bind::F64(value), Bind::Uuid(id)],
            ),
            SortKey::Newest => push(&mut sql, "l.id < ?0", vec![Bind::Uuid(id)]),
        }
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT {}", f.limit + 1));
    Ok(bound_query_as!(exec, ListingRecord, &sql, &binds)?)
}
