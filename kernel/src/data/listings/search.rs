//! The listing search. It reads only published, undeleted rows (matching the partial indexes'
//! predicate exactly), filters with indexed columns, and pages by keyset (sort key, id) so pages
//! never repeat or skip rows.
//!
//! With a stay, a listing must also be free around it: no active booking overlaps the stay
//! widened by the listing's own `preparation_nights` (exact: one bound pair of dates per possible
//! count, chosen per row by `CASE`, the same as `data::bookings::hold_nights` checks). Its advance
//! notice and availability window are compared with bounds the domain computes
//! ([`ListingFilter::notice_at_most`], [`ListingFilter::window_at_least`]), which are safe for
//! every time zone: they never drop a listing that takes the stay, and the domain applies the
//! exact rule to the rows returned.

use chrono::NaiveDate;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{ListingRecord, COLUMNS};
use crate::data::bookings::ACTIVE_STATUSES;
use crate::data::{dispatch, DataError, Exec};
use crate::model::time::MAX_PREPARATION_NIGHTS;

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
    /// With a stay: only listings whose `advance_notice_hours` is at most this.
    pub notice_at_most: Option<i64>,
    /// With a stay: only listings with no window of their own or one of at least this many days.
    pub window_at_least: Option<i64>,
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
    i32: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    NaiveDate: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
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
        // Free around the stay: no active booking overlaps [check_in - n, check_out + n) for
        // the row's n, each widened date bound from here (no date arithmetic in SQL).
        // The active set spelled as `bookings_active_idx`'s predicate, so the index serves it.
        qb.push(
            " AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.listing_id = l.id AND b.status IN ",
        )
        .push(ACTIVE_STATUSES);
        let margin = |n: u32| chrono::Duration::days(i64::from(n));
        qb.push(" AND b.check_in < CASE l.preparation_nights");
        for n in 1..=MAX_PREPARATION_NIGHTS {
            qb.push(" WHEN ")
                .push_bind(n as i32)
                .push(" THEN ")
                .push_bind(check_out + margin(n));
        }
        qb.push(" ELSE ").push_bind(check_out).push(" END");
        qb.push(" AND b.check_out > CASE l.preparation_nights");
        for n in 1..=MAX_PREPARATION_NIGHTS {
            qb.push(" WHEN ")
                .push_bind(n as i32)
                .push(" THEN ")
                .push_bind(check_in - margin(n));
        }
        qb.push(" ELSE ").push_bind(check_in).push(" END)");
        if let Some(hours) = f.notice_at_most {
            qb.push(" AND l.advance_notice_hours <= ").push_bind(hours);
        }
        if let Some(days) = f.window_at_least {
            qb.push(" AND (l.availability_window_days IS NULL OR l.availability_window_days >= ")
                .push_bind(days)
                .push(")");
        }
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
    use crate::model::ListingStatus;

    #[test]
    fn published_literal_is_the_enum() {
        assert_eq!(ListingStatus::Published.as_str(), "published");
    }
}
