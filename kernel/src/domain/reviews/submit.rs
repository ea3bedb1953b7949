//! Writing a review of a completed stay, and revealing accepted reviews (at once when the
//! policy allows, else by the reveal timer).

use serde::Serialize;
use uuid::Uuid;

use super::{days_since_checkout, review_exists, to_review, NewReview, Review, Reviews};
use crate::auth::Principal;
use crate::bus::{self, DomainEvent};
use crate::data::bookings::{self as booking_store, BookingRecord};
use crate::data::reviews::{self as store, ReviewRecord};
use crate::data::{DataError, Exec};
use crate::domain::{now, DomainError, Invalid, Resource};
use crate::model::{BookingStatus, ReviewStatus};
use crate::plugins::kinds::review_policy::{
    self as policy, AuthorRole, Decision, RevealState, Submission,
};
use crate::plugins::Plugin;

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

pub(super) async fn record_event(
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

impl Reviews {
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
        if role == AuthorRole::Host && !input.sub_ratings.is_empty() {
            return Err(DomainError::Invalid(vec![Invalid::new(
                "sub_ratings",
                "only guests give sub-ratings",
            )]));
        }
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
            rating: input.rating.get(),
            text: input.text.clone(),
            days_since_checkout: days_since_checkout(&booking),
        };
        let decision = policy::evaluate(&plugin, &submission)
            .await
            .map_err(|e| DomainError::PolicyUnavailable(e.redacted().to_string()))?;
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
            rating: i32::from(input.rating.get()),
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
    pub(super) async fn reveal_booking(
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
            .map_err(|e| DomainError::PolicyUnavailable(e.redacted().to_string()))?;
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
}
