//! Listings: what hosts offer. Hosts create and manage their own; anyone reads published (and,
//! by link, unlisted) ones; drafts are private: to anyone but the owner or an admin they do not
//! exist (404, never 403).
//!
//! One file per concern: `model` (the listing and its stored form), `input` (the parsed
//! commands hosts send, and the rule across fields), `search`, `events`, and the host's
//! [`calendar`]; this file is the service. Request bodies and queries are parsed into these
//! commands by `http::dto`.

pub mod calendar;
mod events;
mod input;
mod model;
mod search;

pub use input::{
    check_stay_lengths, ListingInput, ListingPatch, MAX_PHOTOS, MAX_PHOTO_URL_BYTES,
    MAX_STORED_TEXT_BYTES,
};
pub(crate) use model::city_key;
pub use model::Listing;
use search::PageIds;
pub use search::{ListingQuery, SearchArea, SearchCursor, SearchPage, Sort};

use std::time::Duration;

use uuid::Uuid;

use crate::auth::{AccountId, Principal, Role};
use crate::cache::{Cache, Namespace};
use crate::data::bookings as store_bookings;
use crate::data::listings::{self as store, ListingFilter};
use crate::data::Database;
use crate::domain::{now, DomainError, Resource};
use crate::model::{DateWindow, ListingStatus};
use events::ListingEvent;
use input::validate;
use model::{from_record, to_input, to_record};

/// How long a listing or a search page may be served from the cache. Writes invalidate at once;
/// this only bounds staleness while the cache is unreachable.
pub(super) const CACHE_TTL: Duration = Duration::from_secs(60);

/// The most results one search page returns.
pub const MAX_PAGE: u32 = 100;

/// Whether `viewer` may see a listing in this state.
pub(super) fn visible(listing: &Listing, viewer: Option<&Principal>) -> bool {
    listing.status != ListingStatus::Draft || viewer.is_some_and(|v| may_manage(listing, v))
}

pub(super) fn may_manage(listing: &Listing, who: &Principal) -> bool {
    who.role == Role::Admin || who.account_id.as_uuid() == listing.host_id
}

/// The listings service.
#[derive(Clone, Debug)]
pub struct Listings {
    db: Database,
    cached: Namespace,
    searches: Namespace,
    window: DateWindow,
}

impl Listings {
    /// Builds the service.
    pub fn new(db: Database, cache: &Cache, window: DateWindow) -> Self {
        Self {
            db,
            cached: cache.namespace("listing"),
            searches: cache.namespace("search"),
            window,
        }
    }

    /// The dates requests may name.
    pub(crate) fn window(&self) -> DateWindow {
        self.window
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
        validate(&mut input)?;
        let now = now();
        let record = to_record(Uuid::now_v7(), who.account_id, &input, now, now, None, 0);
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
            Err(DomainError::NotFound(Resource::Listing))
        }
    }

    /// A listing as `viewer` may see it: with its street address and exact coordinates for its
    /// host, admins and guests with a confirmed booking of it; without the street and with the
    /// coordinates rounded to about 500 m for everyone else.
    pub async fn shown_to(
        &self,
        viewer: Option<&Principal>,
        id: Uuid,
    ) -> Result<Listing, DomainError> {
        let listing = self.get(viewer, id).await?;
        let exact = match viewer {
            None => false,
            Some(who) if may_manage(&listing, who) => true,
            Some(who) => {
                let mut conn = self.db.acquire().await?;
                store_bookings::has_confirmed_stay(conn.exec(), who.account_id.as_uuid(), id)
                    .await?
            }
        };
        Ok(if exact {
            listing
        } else {
            listing.approximately_located()
        })
    }

    /// [`Listings::shown_to`] for many listings at once (GraphQL's loader): from the cache,
    /// the rest in one query, and who booked which in one more. Listings `viewer` may not see,
    /// or that do not exist, are left out.
    pub async fn shown_many(
        &self,
        viewer: Option<&Principal>,
        ids: &[Uuid],
    ) -> Result<Vec<Listing>, DomainError> {
        let keys: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let cached = self.cached.get_many::<Listing>(&keys).await;
        let missing: Vec<Uuid> = ids
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(id, _)| *id)
            .collect();
        let mut listings: Vec<Listing> = cached.into_iter().flatten().collect();
        if !missing.is_empty() {
            let mut conn = self.db.acquire().await?;
            for record in store::find_many(conn.exec(), &missing).await? {
                if record.deleted_at.is_some() {
                    continue;
                }
                let listing = from_record(record)?;
                self.cached
                    .set(&listing.id.to_string(), &listing, CACHE_TTL)
                    .await;
                listings.push(listing);
            }
        }
        listings.retain(|l| visible(l, viewer));
        let Some(who) = viewer else {
            return Ok(listings
                .into_iter()
                .map(Listing::approximately_located)
                .collect());
        };
        let others: Vec<Uuid> = listings
            .iter()
            .filter(|l| !may_manage(l, who))
            .map(|l| l.id)
            .collect();
        let stayed = if others.is_empty() {
            Vec::new()
        } else {
            let mut conn = self.db.acquire().await?;
            store_bookings::confirmed_stays_among(conn.exec(), who.account_id.as_uuid(), &others)
                .await?
        };
        Ok(listings
            .into_iter()
            .map(|l| {
                if may_manage(&l, who) || stayed.contains(&l.id) {
                    l
                } else {
                    l.approximately_located()
                }
            })
            .collect())
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
            .ok_or(DomainError::NotFound(Resource::Listing))?;
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
        validate(&mut input)?;
        let record = to_record(
            id,
            AccountId::from(current.host_id),
            &input,
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

    /// Published listings matching the criteria, one page at a time, in a stable order. With a
    /// stay, only listings that take it now: the data layer drops most others by safe bounds,
    /// and the exact rule ([`Listing::stay_rules`]) drops the rest from the page, so a page may
    /// hold fewer than `limit` listings and still have a `next_cursor`. A cached page holds the
    /// ids of the rows read (the exact rule runs on every answer, as time moves on); their
    /// bodies come from the listing cache (one `MGET` on Redis), so a listing is cached once
    /// however many pages show it.
    pub async fn search(&self, query: &ListingQuery) -> Result<SearchPage, DomainError> {
        let now = now();
        if let Some(stay) = &query.stay {
            self.window.check_stay(stay, now.date_naive())?;
        }
        let filter = query.filter(now);
        // The generations and the page in one round trip: a page made in an earlier generation
        // is a miss, and is overwritten.
        let key = cache_key(&filter);
        let counters = generations(&filter);
        let (generations, cached) = self
            .searches
            .counts_and_get::<PageIds>(&counters, &key)
            .await;
        let mut page = match cached.filter(|p| p.generations == generations) {
            Some(ids) => self.page_of(ids).await?,
            None => self.read_page(query, &filter, &key, generations).await?,
        };
        if let Some(stay) = &query.stay {
            page.listings
                .retain(|l| l.stay_rules().check(stay, now).is_ok());
        }
        // Search answers anyone: nobody's exact location is in it.
        page.listings = page
            .listings
            .into_iter()
            .map(Listing::approximately_located)
            .collect();
        Ok(page)
    }

    /// Reads a page from the database and caches it (its ids, and each listing on its own).
    async fn read_page(
        &self,
        query: &ListingQuery,
        filter: &ListingFilter,
        key: &str,
        generations: Vec<u64>,
    ) -> Result<SearchPage, DomainError> {
        let mut conn = self.db.acquire().await?;
        let mut records = store::search(conn.exec(), filter).await?;
        drop(conn);
        let limit = query.limit as usize;
        let more = records.len() > limit;
        records.truncate(limit);
        let listings = records
            .into_iter()
            .map(from_record)
            .collect::<Result<Vec<_>, _>>()?;
        // The cursor is the last row read, whether or not the exact rule keeps it.
        let next_cursor = match (more, listings.last()) {
            (true, Some(last)) => Some(SearchCursor::after(query.sort, last).encode()),
            _ => None,
        };
        for listing in &listings {
            self.cached
                .set(&listing.id.to_string(), listing, CACHE_TTL)
                .await;
        }
        let ids = PageIds {
            generations,
            ids: listings.iter().map(|l| l.id).collect(),
            next_cursor: next_cursor.clone(),
        };
        self.searches.set(key, &ids, CACHE_TTL).await;
        Ok(SearchPage {
            listings,
            next_cursor,
        })
    }

    /// A cached page's listings, from the listing cache or, for the few it no longer holds,
    /// the database. One removed or unpublished since (the page outlived an invalidation while
    /// the cache was unreachable) is left out.
    async fn page_of(&self, page: PageIds) -> Result<SearchPage, DomainError> {
        let keys: Vec<String> = page.ids.iter().map(Uuid::to_string).collect();
        let cached = self.cached.get_many::<Listing>(&keys).await;
        let mut listings = Vec::with_capacity(page.ids.len());
        for (id, cached) in page.ids.into_iter().zip(cached) {
            let listing = match cached {
                Some(listing) => listing,
                None => match self.load(id).await {
                    Ok(listing) => listing,
                    Err(DomainError::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                },
            };
            if listing.status == ListingStatus::Published {
                listings.push(listing);
            }
        }
        Ok(SearchPage {
            listings,
            next_cursor: page.next_cursor,
        })
    }

    /// The listing itself changed: drops its cached copy and every cached search page (by
    /// moving to a new content generation).
    pub(crate) async fn invalidate(&self, id: Uuid) {
        self.cached.delete(&id.to_string()).await;
        self.searches.incr(CONTENT, GENERATION_TTL).await;
    }

    /// Only which nights of the listing are free changed (a booking took or gave back nights):
    /// the listing's cached copy stays, and so does every search without dates; searches with
    /// dates in its city, and those with dates and no city, move to a new generation.
    pub(crate) async fn availability_changed(&self, id: Uuid) {
        let city = match self.load(id).await {
            Ok(listing) => city_key(&listing.city),
            // Not knowing its city: every cached search goes, as for a listing change.
            Err(_) => {
                self.searches.incr(CONTENT, GENERATION_TTL).await;
                return;
            }
        };
        self.searches.incr(DATES, GENERATION_TTL).await;
        self.searches
            .incr(&format!("{DATES}:{city}"), GENERATION_TTL)
            .await;
    }
}

/// The search generation every listing change moves on.
const CONTENT: &str = "generation";
/// The generation of searches with dates and no city; `dates:<city>` is a city's.
const DATES: &str = "dates";
const GENERATION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The generations a cached page of `filter` is stamped with: the content generation, and for a
/// search with dates, the availability generation of its city (or of all cities).
fn generations(filter: &ListingFilter) -> Vec<String> {
    let mut counters = vec![CONTENT.to_owned()];
    if filter.stay.is_some() {
        counters.push(match &filter.city {
            Some(city) => format!("{DATES}:{city}"),
            None => DATES.to_owned(),
        });
    }
    counters
}

pub(super) fn cache_key(filter: &ListingFilter) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("{filter:?}").as_bytes()))
}
