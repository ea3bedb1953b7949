//! A parsed search turned into a `data::listings::ListingFilter`, with keyset cursors over
//! (sort key, id) so pages never repeat or skip.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{city_key, Listing};
use crate::data::listings::{Area, ListingFilter, SortKey};
use crate::domain::cursor;
use crate::model::{Amenity, Currency, StayRange};

/// Where listings must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SearchArea {
    /// Inside a bounding box (`min_lat <= max_lat`, `min_lng <= max_lng`).
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
    /// Within `km` (0-500) of a point.
    Radius {
        /// Centre latitude.
        lat: f64,
        /// Centre longitude.
        lng: f64,
        /// Radius, km.
        km: f64,
    },
}

/// A search, parsed: every filter is optional and they combine (AND).
#[derive(Debug, Clone, Default)]
pub struct ListingQuery {
    /// City, case-insensitive.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country, any case.
    pub country: Option<String>,
    /// Where.
    pub area: Option<SearchArea>,
    /// Lowest nightly price, minor units.
    pub min_price: Option<i64>,
    /// Highest nightly price, minor units (at least `min_price`).
    pub max_price: Option<i64>,
    /// Only listings priced in this currency.
    pub currency: Option<Currency>,
    /// Guests who must fit.
    pub guests: Option<u32>,
    /// Amenities the listings must all have.
    pub amenities: Vec<Amenity>,
    /// Only listings free for every night of this stay (and the preparation nights around it)
    /// that take it now: not in the past where they are, not inside their notice, not beyond
    /// their window.
    pub stay: Option<StayRange>,
    /// The order.
    pub sort: Sort,
    /// Page size, 1 to [`super::MAX_PAGE`].
    pub limit: u32,
    /// Where the previous page of this search ended.
    pub after: Option<SearchCursor>,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// The listings, in the requested order.
    pub listings: Vec<Listing>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A search page as cached: the listings' ids, in order, and the cursor, stamped with the
/// generations it was read in (see [`super::Listings::search`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PageIds {
    pub(super) generations: Vec<u64>,
    pub(super) ids: Vec<Uuid>,
    pub(super) next_cursor: Option<String>,
}

/// The order of search results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    /// Cheapest first (the default).
    #[default]
    Price,
    /// Dearest first.
    PriceDesc,
    /// Best rated first.
    Rating,
    /// Newest first.
    Newest,
}

/// A cursor: the sort key and id of the last listing on the page, opaque to clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchCursor {
    pub(super) s: Sort,
    pub(super) k: Option<f64>,
    pub(super) id: Uuid,
}

impl SearchCursor {
    /// The cursor after `last`, the last listing of a page in the order `sort`.
    pub(super) fn after(sort: Sort, last: &Listing) -> Self {
        Self {
            s: sort,
            k: match sort {
                Sort::Price | Sort::PriceDesc => Some(last.nightly_price_minor as f64),
                Sort::Rating => last.rating_avg,
                Sort::Newest => None,
            },
            id: last.id,
        }
    }

    pub(super) fn encode(&self) -> String {
        cursor::encode(self)
    }

    /// The opaque cursor of the position right after `listing` in a search in the order `sort`
    /// (a GraphQL edge's cursor; the same form as `next_cursor`).
    pub fn of(sort: Sort, listing: &Listing) -> String {
        Self::after(sort, listing).encode()
    }

    /// Parses a `next_cursor` of a search in the order `sort`; `None` for anything else.
    pub fn parse(s: &str, sort: Sort) -> Option<Self> {
        cursor::decode::<Self>(s).filter(|c| c.s == sort)
    }
}

impl ListingQuery {
    /// The data layer's filter for this search at `now`. A listing's notice and window are
    /// rules in its own time zone, which SQL here does not know; the bounds below hold in every
    /// zone (UTC-12 to UTC+14), so they drop only listings that cannot take the stay, and the
    /// service applies the exact rule to what comes back.
    pub(super) fn filter(&self, now: DateTime<Utc>) -> ListingFilter {
        // Check-in opens at the latest at 23:59 local at UTC-12: within 36 hours of the check-in
        // day's start in UTC. A notice longer than the time until then cannot be met.
        let notice_at_most = self.stay.map(|stay| {
            let latest = stay.check_in().and_time(NaiveTime::MIN).and_utc() + Duration::hours(36);
            (latest - now).num_hours().max(0)
        });
        // Today is at the latest tomorrow in UTC (at UTC+14): a window shorter than from then to
        // check-out cannot reach it.
        let window_at_least = self
            .stay
            .map(|stay| (stay.check_out() - (now.date_naive() + Duration::days(1))).num_days());
        ListingFilter {
            city: self.city.as_ref().map(|c| city_key(c)),
            country: self.country.as_ref().map(|c| c.trim().to_ascii_uppercase()),
            area: self.area.map(|area| match area {
                SearchArea::BBox {
                    min_lat,
                    min_lng,
                    max_lat,
                    max_lng,
                } => Area::BBox {
                    min_lat,
                    min_lng,
                    max_lat,
                    max_lng,
                },
                SearchArea::Radius { lat, lng, km } => Area::Radius { lat, lng, km },
            }),
            min_price: self.min_price,
            max_price: self.max_price,
            currency: self.currency.map(|c| c.as_str().to_owned()),
            guests: self.guests,
            amenities: self
                .amenities
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            stay: self
                .stay
                .map(|stay| (stay.check_in(), stay.check_out(), stay.nights())),
            notice_at_most,
            window_at_least,
            sort: match self.sort {
                Sort::Price => SortKey::PriceAsc,
                Sort::PriceDesc => SortKey::PriceDesc,
                Sort::Rating => SortKey::RatingDesc,
                Sort::Newest => SortKey::Newest,
            },
            after: self.after.as_ref().map(|c| (c.k, c.id)),
            limit: self.limit,
        }
    }
}
