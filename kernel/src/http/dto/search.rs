//! Listing search: the query parameters, parsed here into the domain's query, and the page of
//! results.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::listings::Listing;
use crate::domain::listings::{
    self as domain, ListingQuery, SearchArea, SearchCursor, Sort, MAX_PAGE,
};
use crate::model::{Amenity, Currency, Invalid, Problems, StayRange};

/// The longest `amenities` list accepted: room for every known amenity, once each, and spaces.
const MAX_AMENITIES_BYTES: usize = 1024;

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
    /// Comma-separated amenities; listings must have all of them (each counts once).
    #[param(max_length = 1024)]
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

impl SearchParams {
    /// The search, every bad parameter named.
    pub fn parse(&self) -> Result<ListingQuery, Vec<Invalid>> {
        let mut p = Problems::default();
        let mut query = ListingQuery {
            city: self.city.clone(),
            country: self.country.clone(),
            min_price: self.min_price,
            max_price: self.max_price,
            guests: self.guests,
            ..ListingQuery::default()
        };
        if let Some(c) = &self.currency {
            query.currency = p.parsed("currency", Currency::parse(c));
        }
        if let Some(bbox) = &self.bbox {
            // Every part must be a number: a bad one is an error, not silently dropped.
            let v: Option<Vec<f64>> = bbox
                .split(',')
                .map(|x| x.trim().parse().ok().filter(|f: &f64| f.is_finite()))
                .collect();
            match v.as_deref() {
                Some([a, b, c, d]) if a <= c && b <= d => {
                    query.area = Some(SearchArea::BBox {
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
                if query.area.is_some() {
                    p.add(
                        "radius_km",
                        "use either bbox or lat/lng/radius_km, not both",
                    );
                }
                query.area = Some(SearchArea::Radius { lat, lng, km });
            }
            _ => p.add("radius_km", "lat, lng and radius_km (0-500) go together"),
        }
        if let (Some(lo), Some(hi)) = (self.min_price, self.max_price) {
            p.check(lo <= hi, "max_price", "must be at least min_price");
        }
        if let Some(list) = &self.amenities {
            if list.len() > MAX_AMENITIES_BYTES {
                p.add(
                    "amenities",
                    format!("must be at most {MAX_AMENITIES_BYTES} bytes"),
                );
            } else {
                for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match Amenity::parse(name) {
                        Some(a) => query.amenities.push(a),
                        None => p.add("amenities", format!("unknown amenity `{name}`")),
                    }
                }
                // Each amenity is one more condition in the query: at most one per kind.
                query.amenities.sort_unstable();
                query.amenities.dedup();
            }
        }
        if self.check_in.is_some() || self.check_out.is_some() {
            match StayRange::parse(self.check_in.as_deref(), self.check_out.as_deref()) {
                Ok(stay) => query.stay = Some(stay),
                Err(problems) => p.extend(problems),
            }
        }
        query.sort = match self.sort.as_deref() {
            None | Some("price") => Sort::Price,
            Some("price_desc") => Sort::PriceDesc,
            Some("rating") => Sort::Rating,
            Some("newest") => Sort::Newest,
            Some(_) => {
                p.add("sort", "must be price, price_desc, rating or newest");
                Sort::Price
            }
        };
        query.limit = self.limit.unwrap_or(20);
        p.check(
            (1..=MAX_PAGE).contains(&query.limit),
            "limit",
            "must be 1-100",
        );
        if let Some(c) = &self.cursor {
            query.after = SearchCursor::parse(c, query.sort);
            if query.after.is_none() {
                p.add("cursor", "is not a cursor from this search");
            }
        }
        p.finish()?;
        Ok(query)
    }
}

/// One page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchPage {
    /// The listings, in the requested order.
    pub listings: Vec<Listing>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<domain::SearchPage> for SearchPage {
    fn from(p: domain::SearchPage) -> Self {
        Self {
            listings: p.listings.into_iter().map(Listing::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_amenity_fits_in_one_list() {
        let all: Vec<&str> = Amenity::ALL.iter().map(|a| a.as_str()).collect();
        assert!(all.join(", ").len() <= MAX_AMENITIES_BYTES);
    }
}
