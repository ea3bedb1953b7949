//! Reviews: the review and response bodies, the page query, and reviews as clients see them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::reviews::{self as domain, Rating, SUB_RATINGS};
use crate::domain::PageRequest;
use crate::model::{AuthorRole, Invalid, Problems, ReviewStatus};

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
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(complex)]
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
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct HeldReview {
    /// The review.
    #[serde(flatten)]
    pub review: Review,
    /// Why the policy held it.
    pub note: Option<String>,
}

impl From<domain::Review> for Review {
    fn from(r: domain::Review) -> Self {
        Self {
            id: r.id,
            booking_id: r.booking_id,
            listing_id: r.listing_id,
            author_id: r.author_id,
            subject_id: r.subject_id,
            author_role: r.author_role,
            rating: r.rating,
            text: r.text,
            sub_ratings: r.sub_ratings,
            status: r.status,
            response: r.response,
            created_at: r.created_at,
            published_at: r.published_at,
        }
    }
}

impl From<domain::HeldReview> for HeldReview {
    fn from(h: domain::HeldReview) -> Self {
        Self {
            review: h.review.into(),
            note: h.note,
        }
    }
}

impl NewReview {
    /// The review, each bad field named.
    pub fn parse(self) -> Result<domain::NewReview, Vec<Invalid>> {
        let mut p = Problems::default();
        let rating = p.parsed("rating", Rating::new(self.rating));
        p.check(!self.text.trim().is_empty(), "text", "must not be empty");
        p.check(
            self.text.chars().count() <= 10_000,
            "text",
            "must be at most 10000 characters",
        );
        let mut sub_ratings = BTreeMap::new();
        for (name, value) in self.sub_ratings {
            let field = format!("sub_ratings.{name}");
            if !SUB_RATINGS.contains(&name.as_str()) {
                p.add(&field, format!("is not one of: {}", SUB_RATINGS.join(", ")));
            } else if let Some(value) = p.parsed(&field, Rating::new(value)) {
                sub_ratings.insert(name, value);
            }
        }
        match rating {
            Some(rating) if p.is_empty() => Ok(domain::NewReview {
                rating,
                text: self.text,
                sub_ratings,
            }),
            // A bad rating was recorded in `p`.
            _ => Err(p.into_vec()),
        }
    }
}

impl ReviewResponse {
    /// The response text, trimmed: 1 to 2000 characters.
    pub fn parse(&self) -> Result<&str, Vec<Invalid>> {
        let text = self.text.trim();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(vec![Invalid::new("text", "must be 1 to 2000 characters")]);
        }
        Ok(text)
    }
}

/// Paging of published reviews.
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

impl ReviewListParams {
    /// The page asked for.
    pub fn parse(&self) -> Result<PageRequest, Vec<Invalid>> {
        let mut p = Problems::default();
        let page = PageRequest::parse(&mut p, self.limit, self.cursor.as_deref());
        p.finish()?;
        Ok(page)
    }
}

/// One page of published reviews, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewPage {
    /// Reviews.
    pub reviews: Vec<Review>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<domain::ReviewPage> for ReviewPage {
    fn from(p: domain::ReviewPage) -> Self {
        Self {
            reviews: p.reviews.into_iter().map(Review::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}
