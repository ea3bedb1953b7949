//! Reviews of completed stays, decided by the review-policy plugin (the first by `order`):
//! it accepts (perhaps masking the text), rejects with a reason for the author, or holds the
//! review for a moderator; and it says when an accepted review may be shown (double-blind:
//! when both sides wrote theirs, or the window closed). Only published reviews are ever read;
//! a listing's rating is recomputed from its published guest reviews whenever one is revealed.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::listings::Listings;
use super::{cursor, now, DomainError, Invalid, Problems, Resource};
use crate::auth::Principal;
use crate::bus::{self, DomainEvent};
use crate::config::PluginKind;
use crate::data::bookings::{self as booking_store, BookingRecord};
use crate::data::reviews::{self as store, About, ReviewRecord};
use crate::data::{DataError, Database, Exec};
use crate::jobs::{JobError, JobHandler, JobRun};
use crate::model::{BookingStatus, ReviewStatus};
use crate::plugins::kinds::review_policy::{
    self as policy, AuthorRole, Decision, RevealState, Submission,
};
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

/// `POST /v1/bookings/{id}/reviews`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// Overall, 1-5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    /// What you want to say.
    #[schema(min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub text: String,
    /// Guests only: 1-5 each for `cleanliness`, `accuracy`, `communication`, `location`,
    /// `check_in`, `value`.
    #[serde(default)]
    #[schema(schema_with = crate::http::schemas::sub_ratings)]
    pub sub_ratings: BTreeMap<String, u8>,
}

/// `POST /v1/reviews/{id}/response`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewResponse {
    /// The host's public answer.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub text: String,
}

/// A review.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldReview {
    /// The review.
    #[serde(flatten)]
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

/// Paging of published reviews.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReviewListParams {
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// One page of published reviews, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewPage {
    /// Reviews.
    pub reviews: Vec<Review>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `review_submitted` (to the person reviewed) and `review_published` (to both).
#[derive(Debug, Serialize)]
struct ReviewEvent {
    #[serde(skip)]
    kind: &'static str,
    review_id: Uuid,
    booking_id: Uuid,
    listing_id: Uuid,
    author_role: AuthorRole,
    rating: i32,
    recipients: Vec<Recipient>,
}

#[derive(Debug, Serialize)]
struct Recipient {
    id: Uuid,
}

impl DomainEvent for ReviewEvent {
    fn kind(&self) -> &str {
        self.kind
    }
}

async fn record_event(
    exec: Exec<'_>,
    kind: &'static str,
    r: &ReviewRecord,
) -> Result<(), DataError> {
    let mut recipients = vec![Recipient { id: r.subject_id }];
    if kind == "review_published" {
        recipients.push(Recipient { id: r.author_id });
    }
    let event = ReviewEvent {
        kind,
        review_id: r.id,
        booking_id: r.booking_id,
        listing_id: r.listing_id,
        author_role: r.author_role,
        rating: r.rating,
        recipients,
    };
    bus::record(exec, &event).await.map(|_| ())
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

    /// The guest or the host of a completed stay reviews the other side.
    pub async fn submit(
        &self,
        who: &Principal,
        booking_id: Uuid,
        input: NewReview,
    ) -> Result<Review, DomainError> {
        let booking = {
            let mut conn = self.db.acquire().await?;
            booking_store::find(conn.exec(), booking_id).await?
        };
        let me = who.account_id.as_uuid();
        let Some(booking) = booking.filter(|b| b.guest_id == me || b.host_id == me) else {
            return Err(DomainError::NotFound(Resource::Booking));
        };
        let (role, subject) = if booking.guest_id == me {
            (AuthorRole::Guest, booking.host_id)
        } else {
            (AuthorRole::Host, booking.guest_id)
        };
        let mut p = Problems::default();
        p.check((1..=5).contains(&input.rating), "rating", "must be 1 to 5");
        p.check(!input.text.trim().is_empty(), "text", "must not be empty");
        p.check(
            input.text.chars().count() <= 10_000,
            "text",
            "must be at most 10000 characters",
        );
        if role == AuthorRole::Host && !input.sub_ratings.is_empty() {
            p.add("sub_ratings", "only guests give sub-ratings");
        }
        for (name, value) in &input.sub_ratings {
            let field = format!("sub_ratings.{name}");
            if !SUB_RATINGS.contains(&name.as_str()) {
                p.add(&field, format!("is not one of: {}", SUB_RATINGS.join(", ")));
            } else if !(1..=5).contains(value) {
                p.add(&field, "must be 1 to 5");
            }
        }
        p.finish()?;
        if booking.status != BookingStatus::Completed {
            return Err(DomainError::Conflict {
                code: "booking_not_completed",
                detail: format!(
                    "only completed stays can be reviewed; this one is {}",
                    booking.status
                ),
            });
        }
        let existing = {
            let mut conn = self.db.acquire().await?;
            store::of_booking(conn.exec(), booking.id).await?
        };
        if existing.iter().any(|r| r.author_role == role) {
            return Err(review_exists());
        }
        let plugin = self.policy()?;
        let submission = Submission {
            author_role: role,
            rating: input.rating,
            text: input.text.clone(),
            days_since_checkout: days_since_checkout(&booking),
        };
        let decision = policy::evaluate(&plugin, &submission)
            .await
            .map_err(|e| DomainError::PolicyUnavailable(e.to_string()))?;
        let (status, text, note) = match decision {
            Decision::Reject(reason) => return Err(DomainError::ReviewRejected(reason)),
            Decision::Hold(reason) => (ReviewStatus::Held, input.text, Some(reason)),
            Decision::Accept(text) => (ReviewStatus::Hidden, text, None),
        };
        let now = now();
        let record = ReviewRecord {
            id: Uuid::now_v7(),
            booking_id: booking.id,
            listing_id: booking.listing_id,
            author_id: me,
            subject_id: subject,
            author_role: role,
            rating: i32::from(input.rating),
            text,
            sub_ratings: (!input.sub_ratings.is_empty())
                .then(|| serde_json::to_string(&input.sub_ratings).unwrap_or_default()),
            status,
            note,
            response: None,
            responded_at: None,
            created_at: now,
            updated_at: now,
            published_at: None,
        };
        let mut tx = self.db.begin().await?;
        match store::insert(tx.exec(), &record).await {
            Err(DataError::UniqueViolation) => return Err(review_exists()),
            other => other?,
        }
        record_event(tx.exec(), "review_submitted", &record).await?;
        tx.commit().await?;
        if status == ReviewStatus::Hidden {
            self.reveal_booking(&plugin, &booking).await?;
        }
        let mut conn = self.db.acquire().await?;
        Ok(to_review(
            store::find(conn.exec(), record.id).await?.unwrap_or(record),
        ))
    }

    /// Asks the policy whether the booking's accepted reviews may be shown, and publishes them
    /// if so; how many were published.
    async fn reveal_booking(
        &self,
        plugin: &Plugin,
        booking: &BookingRecord,
    ) -> Result<usize, DomainError> {
        let reviews = {
            let mut conn = self.db.acquire().await?;
            store::of_booking(conn.exec(), booking.id).await?
        };
        let accepted = |r: &&ReviewRecord| {
            r.status == ReviewStatus::Hidden || r.status == ReviewStatus::Published
        };
        let state = RevealState {
            both_submitted: reviews.iter().filter(accepted).count() == 2,
            days_since_checkout: days_since_checkout(booking),
        };
        let hidden: Vec<&ReviewRecord> = reviews
            .iter()
            .filter(|r| r.status == ReviewStatus::Hidden)
            .collect();
        if hidden.is_empty() {
            return Ok(0);
        }
        let show = policy::reveal(plugin, state)
            .await
            .map_err(|e| DomainError::PolicyUnavailable(e.to_string()))?;
        if !show {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        let mut published = 0;
        for r in hidden {
            if let Some(done) = store::set_status(
                tx.exec(),
                r.id,
                ReviewStatus::Hidden,
                ReviewStatus::Published,
                None,
                now(),
            )
            .await?
            {
                record_event(tx.exec(), "review_published", &done).await?;
                published += 1;
            }
        }
        store::refresh_rating(tx.exec(), booking.listing_id).await?;
        tx.commit().await?;
        self.listings.invalidate(booking.listing_id).await;
        Ok(published)
    }

    /// Reveals every hidden review the policy now allows (the reveal timer).
    pub async fn reveal_due(&self) -> Result<usize, DomainError> {
        let plugin = self.policy()?;
        let hidden = {
            let mut conn = self.db.acquire().await?;
            store::in_status(conn.exec(), ReviewStatus::Hidden, 500).await?
        };
        let mut seen = std::collections::HashSet::new();
        let mut published = 0;
        for r in hidden {
            if !seen.insert(r.booking_id) {
                continue;
            }
            let booking = {
                let mut conn = self.db.acquire().await?;
                booking_store::find(conn.exec(), r.booking_id).await?
            };
            if let Some(booking) = booking {
                published += self.reveal_booking(&plugin, &booking).await?;
            }
        }
        Ok(published)
    }

    /// Published reviews of a listing (by its guests), newest first.
    pub async fn of_listing(
        &self,
        viewer: Option<&Principal>,
        listing: Uuid,
        params: &ReviewListParams,
    ) -> Result<ReviewPage, DomainError> {
        self.listings.get(viewer, listing).await?;
        self.page(About::Listing(listing), params).await
    }

    /// Published reviews of a person, newest first.
    pub async fn of_person(
        &self,
        person: Uuid,
        params: &ReviewListParams,
    ) -> Result<ReviewPage, DomainError> {
        self.page(About::Person(person), params).await
    }

    async fn page(
        &self,
        about: About,
        params: &ReviewListParams,
    ) -> Result<ReviewPage, DomainError> {
        let mut p = Problems::default();
        let page = cursor::page_request(&mut p, params.limit, params.cursor.as_deref());
        p.finish()?;
        let mut conn = self.db.acquire().await?;
        let rows = store::published(conn.exec(), about, page.after, page.limit + 1).await?;
        let (rows, next_cursor) =
            cursor::page(rows, page.limit, |r| r.published_at.map(|t| (t, r.id)));
        Ok(ReviewPage {
            reviews: rows.into_iter().map(to_review).collect(),
            next_cursor,
        })
    }

    /// The listing's host answers a published guest review, once.
    pub async fn respond(
        &self,
        who: &Principal,
        id: Uuid,
        input: ReviewResponse,
    ) -> Result<Review, DomainError> {
        let text = input.text.trim();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(DomainError::Invalid(vec![Invalid::new(
                "text",
                "must be 1 to 2000 characters",
            )]));
        }
        let mut tx = self.db.begin().await?;
        let review = store::find(tx.exec(), id)
            .await?
            .filter(|r| r.status == ReviewStatus::Published)
            .ok_or(DomainError::NotFound(Resource::Review))?;
        let booking = booking_store::find(tx.exec(), review.booking_id)
            .await?
            .ok_or(DomainError::NotFound(Resource::Review))?;
        if review.author_role != AuthorRole::Guest || booking.host_id != who.account_id.as_uuid() {
            return Err(DomainError::Forbidden);
        }
        if !store::respond(tx.exec(), id, text, now()).await? {
            return Err(DomainError::Conflict {
                code: "response_exists",
                detail: "this review already has a response".into(),
            });
        }
        let updated = store::find(tx.exec(), id).await?.unwrap_or(review);
        tx.commit().await?;
        Ok(to_review(updated))
    }

    /// Reviews waiting for a moderator, oldest first.
    pub async fn held(&self) -> Result<Vec<HeldReview>, DomainError> {
        let mut conn = self.db.acquire().await?;
        Ok(store::in_status(conn.exec(), ReviewStatus::Held, 500)
            .await?
            .into_iter()
            .map(|r| HeldReview {
                note: r.note.clone(),
                review: to_review(r),
            })
            .collect())
    }

    /// A moderator approves a held review: it joins the reveal (and may show at once).
    pub async fn approve(&self, id: Uuid) -> Result<Review, DomainError> {
        let moved = {
            let mut conn = self.db.acquire().await?;
            store::set_status(
                conn.exec(),
                id,
                ReviewStatus::Held,
                ReviewStatus::Hidden,
                None,
                now(),
            )
            .await?
        };
        let moved = moved.ok_or_else(not_held)?;
        let booking = {
            let mut conn = self.db.acquire().await?;
            booking_store::find(conn.exec(), moved.booking_id).await?
        };
        if let Some(booking) = booking {
            self.reveal_booking(&*self.policy()?, &booking).await?;
        }
        let mut conn = self.db.acquire().await?;
        Ok(to_review(
            store::find(conn.exec(), id).await?.unwrap_or(moved),
        ))
    }

    /// A moderator rejects a held review: it is never shown.
    pub async fn reject(&self, id: Uuid, reason: &str) -> Result<Review, DomainError> {
        let mut conn = self.db.acquire().await?;
        store::set_status(
            conn.exec(),
            id,
            ReviewStatus::Held,
            ReviewStatus::Rejected,
            Some(reason),
            now(),
        )
        .await?
        .map(to_review)
        .ok_or_else(not_held)
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
