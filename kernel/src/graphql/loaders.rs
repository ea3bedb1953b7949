//! DataLoaders, one per relation, made per request (some answers depend on who asks): every
//! `host`, `author`, `guest`, `listing`, `payments` and first page of `reviews` asked for while
//! a query resolves is collected and loaded in one call into the domain (one SQL query, or one
//! per distinct page size), so a page of 20 listings with their hosts and reviews costs the same
//! number of queries as a page of one.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use tracing::Instrument;
use uuid::Uuid;

use super::error::{GqlResult, IntoGql};
use super::types::Profile;
use crate::auth::{AccountId, Principal};
use crate::http::dto::listings::Listing;
use crate::http::dto::payments::PaymentView;
use crate::http::dto::reviews::Review;
use crate::http::AppState;

/// The loaders of one request.
pub(crate) struct Loaders {
    pub(crate) profiles: DataLoader<Profiles>,
    pub(crate) listings: DataLoader<Listings>,
    pub(crate) ledgers: DataLoader<Ledgers>,
    pub(crate) reviews: DataLoader<NewestReviews>,
}

impl Loaders {
    /// Loaders answering as `viewer` would be answered. Their batches run in the request's
    /// tracing span, so what they do is logged with the request.
    pub(crate) fn new(app: &AppState, viewer: Option<Principal>) -> Self {
        fn loader<T: Loader<K>, K>(loader: T) -> DataLoader<T>
        where
            K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        {
            let span = tracing::Span::current();
            DataLoader::new(loader, move |batch| {
                tokio::spawn(batch.instrument(span.clone()))
            })
        }
        Self {
            profiles: loader(Profiles(app.clone())),
            listings: loader(Listings {
                app: app.clone(),
                viewer: viewer.clone(),
            }),
            ledgers: loader(Ledgers {
                app: app.clone(),
                viewer,
            }),
            reviews: loader(NewestReviews(app.clone())),
        }
    }
}

/// Public profiles by account id.
pub(crate) struct Profiles(AppState);

impl Loader<Uuid> for Profiles {
    type Value = Profile;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> GqlResult<HashMap<Uuid, Profile>> {
        let ids: Vec<AccountId> = keys.iter().map(|id| AccountId::from(*id)).collect();
        let profiles = self.0.auth.profiles(&ids).await.gql()?;
        Ok(profiles
            .into_iter()
            .map(|p| (p.id.as_uuid(), Profile::from(p)))
            .collect())
    }
}

/// Listings by id, as the viewer may see them (drafts only for their host and admins; the
/// exact address only for the host, admins and confirmed guests).
pub(crate) struct Listings {
    app: AppState,
    viewer: Option<Principal>,
}

impl Loader<Uuid> for Listings {
    type Value = Listing;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> GqlResult<HashMap<Uuid, Listing>> {
        let listings = self
            .app
            .listings
            .shown_many(self.viewer.as_ref(), keys)
            .await
            .gql()?;
        Ok(listings
            .into_iter()
            .map(|l| (l.id, Listing::from(l)))
            .collect())
    }
}

/// Payments ledgers by booking id, for a caller who takes part in the booking.
pub(crate) struct Ledgers {
    app: AppState,
    viewer: Option<Principal>,
}

impl Loader<Uuid> for Ledgers {
    type Value = Vec<PaymentView>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> GqlResult<HashMap<Uuid, Vec<PaymentView>>> {
        let Some(who) = &self.viewer else {
            return Ok(HashMap::new());
        };
        let ledgers = self.app.bookings.ledgers(who, keys).await.gql()?;
        Ok(ledgers
            .into_iter()
            .map(|(id, views)| (id, views.into_iter().map(PaymentView::from).collect()))
            .collect())
    }
}

/// The first page of a listing's published reviews, by (listing, page size).
pub(crate) struct NewestReviews(AppState);

/// A first page of reviews: the reviews and whether more follow.
#[derive(Clone)]
pub(crate) struct FirstPage {
    pub(crate) reviews: Vec<Review>,
    pub(crate) more: bool,
}

impl Loader<(Uuid, u32)> for NewestReviews {
    type Value = FirstPage;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[(Uuid, u32)]) -> GqlResult<HashMap<(Uuid, u32), FirstPage>> {
        let mut by_size: HashMap<u32, Vec<Uuid>> = HashMap::new();
        for (listing, size) in keys {
            by_size.entry(*size).or_default().push(*listing);
        }
        let mut pages = HashMap::with_capacity(keys.len());
        for (size, listings) in by_size {
            for (listing, page) in self
                .0
                .reviews
                .newest_of_listings(&listings, size)
                .await
                .gql()?
            {
                pages.insert(
                    (listing, size),
                    FirstPage {
                        more: page.next_cursor.is_some(),
                        reviews: page.reviews.into_iter().map(Review::from).collect(),
                    },
                );
            }
        }
        Ok(pages)
    }
}
