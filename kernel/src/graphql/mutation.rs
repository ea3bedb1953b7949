//! `Mutation`: every change a client makes, each the same domain call as its REST twin (noted
//! on each field), with the same rules, budgets and errors. `createBooking` and the booking
//! actions honour `idempotencyKey` exactly as REST honours `Idempotency-Key`: the same key
//! names the same request on both surfaces (the fingerprint is REST's), and a replay answers
//! with what was answered first.

use async_graphql::{Context, Object};
use axum::http::StatusCode;
use uuid::Uuid;

use super::context::{app, signed_in, spend};
use super::error::{replayed, GqlResult, IntoGql};
use super::inputs::{
    calendar_update, BookingInput, CalendarChangeInput, ChangedListing, NewListing,
};
use crate::domain::bookings::Booking as DomainBooking;
use crate::domain::idempotency::{Claim, SavedResponse};
use crate::domain::DomainError;
use crate::http::dto::bookings::Booking;
use crate::http::dto::calendar::Calendar;
use crate::http::dto::listings::Listing;
use crate::http::dto::notifications::InboxMessage;
use crate::http::dto::reviews::{NewReview, Review, ReviewResponse};
use crate::http::idempotency::{self, Keyed};
use crate::http::limits::RouteBudget;
use crate::http::routes::accounts::AccountView;
use crate::model::ListingStatus;

/// A booking action's REST route, for its fingerprint.
#[derive(Clone, Copy)]
enum Action {
    Accept,
    Decline,
    Cancel,
}

/// The root of every change.
pub(crate) struct Mutation;

#[Object]
impl Mutation {
    /// Creates a listing (hosts; `POST /v1/listings`). It starts as a draft unless `status`
    /// says otherwise.
    async fn create_listing(&self, ctx: &Context<'_>, input: NewListing) -> GqlResult<Listing> {
        let who = signed_in(ctx)?;
        let input = input.rest()?.parse().gql()?;
        Ok(app(ctx).listings.create(who, input).await.gql()?.into())
    }

    /// Changes a listing (its owner or an admin; `PATCH /v1/listings/{id}`).
    async fn update_listing(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        patch: ChangedListing,
    ) -> GqlResult<Listing> {
        update(ctx, id, patch).await
    }

    /// Publishes a listing: `updateListing` with `status: "published"`.
    async fn publish_listing(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Listing> {
        update(ctx, id, ChangedListing::status(ListingStatus::Published)).await
    }

    /// Deletes a listing (soft; its owner or an admin; `DELETE /v1/listings/{id}`). Returns the
    /// id.
    async fn delete_listing(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Uuid> {
        let who = signed_in(ctx)?;
        app(ctx).listings.delete(who, id).await.gql()?;
        Ok(id)
    }

    /// Blocks or unblocks nights and sets or clears per-night prices (the owner or an admin;
    /// `PUT /v1/listings/{id}/calendar`); returns the calendar over the changed span.
    async fn update_calendar(
        &self,
        ctx: &Context<'_>,
        listing_id: Uuid,
        changes: Vec<CalendarChangeInput>,
    ) -> GqlResult<Calendar> {
        let who = signed_in(ctx)?;
        let changes = calendar_update(changes).parse().gql()?;
        let calendar = app(ctx)
            .listings
            .update_calendar(who, listing_id, changes)
            .await
            .gql()?;
        Ok(calendar.into())
    }

    /// Books a stay (`POST /v1/bookings`, under the same `bookings` budget).
    async fn create_booking(
        &self,
        ctx: &Context<'_>,
        input: BookingInput,
        idempotency_key: Option<String>,
    ) -> GqlResult<Booking> {
        let who = signed_in(ctx)?;
        spend(ctx, RouteBudget::Bookings).await?;
        let body = input.rest();
        let fingerprint = idempotency::fingerprint("POST /v1/bookings", &body);
        let claim = match begin(ctx, idempotency_key, fingerprint, StatusCode::CREATED).await? {
            Begun::Run(claim) => claim,
            Begun::Replayed(saved) => return replayed(&saved),
        };
        let outcome = match body.parse() {
            Ok(booking) => app(ctx).bookings.create(who, booking, claim.as_ref()).await,
            Err(problems) => Err(DomainError::Invalid(problems)),
        };
        finish(claim, outcome).await
    }

    /// Accepts a requested booking (its host; `POST /v1/bookings/{id}/accept`).
    async fn accept_booking(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        idempotency_key: Option<String>,
    ) -> GqlResult<Booking> {
        act(ctx, Action::Accept, id, idempotency_key).await
    }

    /// Declines a requested booking (its host; `POST /v1/bookings/{id}/decline`).
    async fn decline_booking(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        idempotency_key: Option<String>,
    ) -> GqlResult<Booking> {
        act(ctx, Action::Decline, id, idempotency_key).await
    }

    /// Cancels a booking, refunding per its policy (`POST /v1/bookings/{id}/cancel`).
    async fn cancel_booking(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        idempotency_key: Option<String>,
    ) -> GqlResult<Booking> {
        act(ctx, Action::Cancel, id, idempotency_key).await
    }

    /// Reviews a completed stay (`POST /v1/bookings/{id}/reviews`). `subRatings` is an object
    /// of names to 1-5.
    async fn submit_review(
        &self,
        ctx: &Context<'_>,
        booking_id: Uuid,
        rating: u8,
        text: String,
        sub_ratings: Option<async_graphql::Json<std::collections::BTreeMap<String, u8>>>,
    ) -> GqlResult<Review> {
        let who = signed_in(ctx)?;
        let review = NewReview {
            rating,
            text,
            sub_ratings: sub_ratings.map(|j| j.0).unwrap_or_default(),
        }
        .parse()
        .gql()?;
        let review = app(ctx)
            .reviews
            .submit(who, booking_id, review)
            .await
            .gql()?;
        Ok(review.into())
    }

    /// Answers a review about you, once (`POST /v1/reviews/{id}/response`).
    async fn respond_to_review(
        &self,
        ctx: &Context<'_>,
        review_id: Uuid,
        text: String,
    ) -> GqlResult<Review> {
        let who = signed_in(ctx)?;
        let response = ReviewResponse { text };
        let text = response.parse().gql()?;
        Ok(app(ctx)
            .reviews
            .respond(who, review_id, text)
            .await
            .gql()?
            .into())
    }

    /// Marks one of your notifications read (`POST /v1/notifications/{id}/read`).
    async fn mark_notification_read(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<InboxMessage> {
        let who = signed_in(ctx)?;
        Ok(app(ctx)
            .notifications
            .mark_read(who, id)
            .await
            .gql()?
            .into())
    }

    /// Makes the caller a host (`POST /v1/me/host`).
    async fn become_host(&self, ctx: &Context<'_>) -> GqlResult<AccountView> {
        let who = signed_in(ctx)?;
        Ok(app(ctx).auth.become_host(who).await.gql()?.into())
    }
}

async fn update(ctx: &Context<'_>, id: Uuid, patch: ChangedListing) -> GqlResult<Listing> {
    let who = signed_in(ctx)?;
    let patch = patch.rest()?.parse().gql()?;
    Ok(app(ctx).listings.update(who, id, patch).await.gql()?.into())
}

/// A booking action, keyed as REST keys `POST /v1/bookings/{id}/<action>`.
async fn act(
    ctx: &Context<'_>,
    action: Action,
    id: Uuid,
    key: Option<String>,
) -> GqlResult<Booking> {
    let who = signed_in(ctx)?;
    let path = match action {
        Action::Accept => "/v1/bookings/{id}/accept",
        Action::Decline => "/v1/bookings/{id}/decline",
        Action::Cancel => "/v1/bookings/{id}/cancel",
    };
    let fingerprint = idempotency::fingerprint(&format!("POST {path} {id}"), &());
    let claim = match begin(ctx, key, fingerprint, StatusCode::OK).await? {
        Begun::Run(claim) => claim,
        Begun::Replayed(saved) => return replayed(&saved),
    };
    let bookings = &app(ctx).bookings;
    let outcome = match action {
        Action::Accept => bookings.accept(who, id, claim.as_ref()).await,
        Action::Decline => bookings.decline(who, id, claim.as_ref()).await,
        Action::Cancel => bookings.cancel(who, id, claim.as_ref()).await,
    };
    finish(claim, outcome).await
}

/// How a keyed booking command starts.
enum Begun {
    /// Run the command with this claim (`None` without a key).
    Run(Option<Claim<DomainBooking>>),
    /// The key's first request was answered: this is what was answered.
    Replayed(SavedResponse),
}

/// Looks at the key before any work, as REST does: the claim to hand the command, or the
/// saved answer of a replay; a reused key or one in use is the same error as over REST.
async fn begin(
    ctx: &Context<'_>,
    key: Option<String>,
    fingerprint: String,
    status: StatusCode,
) -> GqlResult<Begun> {
    let who = signed_in(ctx)?;
    let key = key
        .as_deref()
        .map(idempotency::parse_key)
        .transpose()
        .gql()?;
    let keyed =
        idempotency::claim::<DomainBooking, Booking>(app(ctx), who, key, fingerprint, status)
            .await
            .gql()?;
    Ok(match keyed {
        Keyed::Run(claim) => Begun::Run(claim),
        Keyed::Saved(saved) => Begun::Replayed(saved),
    })
}

/// After the command: settles its claim and answers with its outcome.
async fn finish(
    claim: Option<Claim<DomainBooking>>,
    outcome: Result<DomainBooking, DomainError>,
) -> GqlResult<Booking> {
    if let Some(claim) = claim {
        claim.settle().await;
    }
    outcome.map(Booking::from).gql()
}
