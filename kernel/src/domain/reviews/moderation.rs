//! The host's public response to a guest review, and moderators' decisions on held reviews.

use uuid::Uuid;

use super::{not_held, to_review, HeldReview, Review, Reviews};
use crate::auth::Principal;
use crate::data::bookings as booking_store;
use crate::data::reviews as store;
use crate::domain::{now, DomainError, Resource};
use crate::model::ReviewStatus;
use crate::plugins::kinds::review_policy::AuthorRole;

impl Reviews {
    /// The listing's host answers a published guest review, once.
    pub async fn respond(
        &self,
        who: &Principal,
        id: Uuid,
        text: &str,
    ) -> Result<Review, DomainError> {
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
            let mut conn = self.db.write().await?;
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
        let mut conn = self.db.write().await?;
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
