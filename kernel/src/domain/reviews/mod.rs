//! Reviews of completed stays, decided by the review-policy plugin (the first by `order`):
//! it accepts (perhaps masking the text), rejects with a reason for the author, or holds the
//! review for a moderator; and it says when an accepted review may be shown (double-blind:
//! when both sides wrote theirs, or the window closed). Only published reviews are ever read;
//! a listing's rating is recomputed from its published guest reviews whenever one is revealed.
//!
//! `submit` holds writing a review and its reveal, `moderation` the host's response and the
//! moderators' decisions; this file is the service, its commands and views, and reading.

mod moderation;
mod submit;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::listings::Listings;
use super::{cursor, now, DomainError, PageRequest};
use crate::auth::Principal;
use crate::config::PluginKind;
use crate::data::bookings::BookingRecord;
use crate::data::reviews::{self as store, About, ReviewRecord};
use crate::data::Database;
use crate::jobs::{JobError, JobHandler, JobRun};
use crate::model::ReviewStatus;
use crate::plugins::kinds::review_policy::AuthorRole;
use crate::plugins::{Plugin, PluginHost};

/// Sub-ratings a guest may give besides the overall rating.
pub const SUB_RATINGS: &[&str] = &[
    "cleanliness",
    "accuracy",
    "communication",
    "location",
    "check_in",
    "value",
];

/// A rating: 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Rating(u8);

impl Rating {
    /// Parses a rating; anything outside 1-5 is refused.
    pub fn new(n: u8) -> Result<Self, &'static str> {
        if (1..=5).contains(&n) {
            Ok(Self(n))
        } else {
            Err("must be 1 to 5")
        }
    }

    /// The rating.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// A review to submit, parsed: a rating, non-empty text of at most 10000 characters, and
/// sub-ratings named from [`SUB_RATINGS`]. Whether the author may give sub-ratings (guests
/// only) depends on the booking, so the service decides that.
#[derive(Debug, Clone)]
pub struct NewReview {
    /// Overall.
    pub rating: Rating,
    /// What the author wants to say.
    pub text: String,
    /// Sub-ratings by name.
    pub sub_ratings: BTreeMap<String, Rating>,
}

/// A review.
#[derive(Debug, Clone)]
pub struct Review {
    /// Id.
    pub id: Uuid,
    /// The stay.
    pub booking_id: Uuid,
    /// The listing.
    pub listing_id: Uuid,
    /// Who wrote it.
    pub author_id: Uuid,
    /// Who it is about.
    pub subject_id: Uuid,
    /// `guest` (about the stay) or `host` (about the guest).
    pub author_role: AuthorRole,
    /// 1-5.
    pub rating: u8,
    /// As published (contact details may be masked).
    pub text: String,
    /// The guest's sub-ratings.
    pub sub_ratings: BTreeMap<String, u8>,
    /// `held` (waiting for a moderator), `hidden` (waiting for the reveal), `published` or
    /// `rejected`.
    pub status: ReviewStatus,
    /// The host's public response.
    pub response: Option<String>,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Revealed.
    pub published_at: Option<DateTime<Utc>>,
}

/// A review as a moderator sees it (with why it was held).
#[derive(Debug, Clone)]
pub struct HeldReview {
    /// The review.
    pub review: Review,
    /// Why the policy held it.
    pub note: Option<String>,
}

fn to_review(r: ReviewRecord) -> Review {
    Review {
        id: r.id,
        booking_id: r.booking_id,
        listing_id: r.listing_id,
        author_id: r.author_id,
        subject_id: r.subject_id,
        author_role: r.author_role,
        rating: u8::try_from(r.rating).unwrap_or(0),
        text: r.text,
        sub_ratings: r
            .sub_ratings
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
        status: r.status,
        response: r.response,
        created_at: r.created_at,
        published_at: r.published_at,
    }
}

/// One page of published reviews, newest first.
#[derive(Debug, Clone)]
pub struct ReviewPage {
    /// Reviews.
    pub reviews: Vec<Review>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The reviews service. Cheap to clone.
#[derive(Clone)]
pub struct Reviews {
    db: Database,
    listings: Listings,
    plugins: Arc<PluginHost>,
}

impl std::fmt::Debug for Reviews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reviews").finish_non_exhaustive()
    }
}

fn days_since_checkout(b: &BookingRecord) -> u32 {
    u32::try_from((now().date_naive() - b.check_out).num_days().max(0)).unwrap_or(u32::MAX)
}

impl Reviews {
    /// The service.
    pub fn new(db: Database, listings: Listings, plugins: Arc<PluginHost>) -> Self {
        Self {
            db,
            listings,
            plugins,
        }
    }

    /// The review policy in force: the first review-policy plugin by order.
    fn policy(&self) -> Result<Arc<Plugin>, DomainError> {
        self.plugins
            .current()
            .of_kind(PluginKind::ReviewPolicy)
            .next()
            .cloned()
            .ok_or_else(|| {
                DomainError::PolicyUnavailable("no review-policy plugin is loaded".into())
            })
    }

    /// Published reviews of a listing (by its guests), newest first.
    pub async fn of_listing(
        &self,
        viewer: Option<&Principal>,
        listing: Uuid,
        page: PageRequest,
    ) -> Result<ReviewPage, DomainError> {
        self.listings.get(viewer, listing).await?;
        self.page(About::Listing(listing), page).await
    }

    /// The first page (newest `per_listing`) of published reviews of each of `listings`, in
    /// one query (GraphQL's loader). The caller has already been shown the listings.
    pub async fn newest_of_listings(
        &self,
        listings: &[Uuid],
        per_listing: u32,
    ) -> Result<Vec<(Uuid, ReviewPage)>, DomainError> {
        let mut conn = self.db.acquire().await?;
        // One more per listing than the page, to know whether there is a next page.
        let rows = store::newest_of_listings(conn.exec(), listings, per_listing + 1).await?;
        let mut pages = Vec::with_capacity(listings.len());
        for id in listings {
            let of: Vec<ReviewRecord> = rows
                .iter()
                .filter(|r| r.listing_id == *id)
                .cloned()
                .collect();
            let (of, next_cursor) =
                cursor::page(of, per_listing, |r| r.published_at.map(|t| (t, r.id)));
            pages.push((
                *id,
                ReviewPage {
                    reviews: of.into_iter().map(to_review).collect(),
                    next_cursor,
                },
            ));
        }
        Ok(pages)
    }

    /// Published reviews of a person, newest first.
    pub async fn of_person(
        &self,
        person: Uuid,
        page: PageRequest,
    ) -> Result<ReviewPage, DomainError> {
        self.page(About::Person(person), page).await
    }

    async fn page(&self, about: About, page: PageRequest) -> Result<ReviewPage, DomainError> {
        let mut conn = self.db.acquire().await?;
        let rows = store::published(conn.exec(), about, page.after, page.limit + 1).await?;
        let (rows, next_cursor) =
            cursor::page(rows, page.limit, |r| r.published_at.map(|t| (t, r.id)));
        Ok(ReviewPage {
            reviews: rows.into_iter().map(to_review).collect(),
            next_cursor,
        })
    }
}

fn review_exists() -> DomainError {
    DomainError::Conflict {
        code: "review_exists",
        detail: "you already reviewed this stay".into(),
    }
}

fn not_held() -> DomainError {
    DomainError::Conflict {
        code: "review_not_held",
        detail: "only a held review can be moderated".into(),
    }
}

/// `reveal_reviews`: see [`Reviews::reveal_due`].
#[derive(Debug, Clone)]
pub struct RevealReviews(pub Reviews);

impl JobHandler for RevealReviews {
    fn kind(&self) -> &'static str {
        "reveal_reviews"
    }

    fn run<'a>(&'a self, _run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let n = self.0.reveal_due().await?;
            if n > 0 {
                tracing::info!(n, "reviews revealed");
            }
            Ok(())
        })
    }
}
