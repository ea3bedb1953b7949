//! Reviews: writing one for a completed stay, reading published ones, the host's response, and
//! moderation of held reviews (admins).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::http::dto::reviews::{
    HeldReview, NewReview, Review, ReviewListParams, ReviewPage, ReviewResponse,
};
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{AdminUser, ApiJson, ApiPath, ApiQuery, AuthUser, MaybeAuthUser};
use crate::http::responses::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized,
    Unprocessable, UnsupportedMediaType, PROBLEM_JSON,
};
use crate::http::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_review))
        .routes(routes!(listing_reviews))
        .routes(routes!(user_reviews))
        .routes(routes!(respond_to_review))
        .routes(routes!(held_reviews))
        .routes(routes!(approve_review))
        .routes(routes!(reject_review))
}

/// Review a completed stay: the guest reviews the stay, the host the guest. The review policy
/// accepts it (shown once both sides wrote theirs or the window closed), holds it for a
/// moderator, or rejects it with a reason.
#[utoipa::path(
    post, path = "/v1/bookings/{id}/reviews", tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = NewReview,
    responses(
        (status = 201, description = "Submitted: `hidden` until revealed, `held` for a moderator, or `published`", body = Review),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, description = "No such booking of yours", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "Not completed (`booking_not_completed`), or already reviewed (`review_exists`)", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "Invalid input, or rejected by the policy (`review_rejected`, with its reason)", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, description = "No review policy could decide", body = Problem, content_type = PROBLEM_JSON),
    )
)]
pub(crate) async fn submit_review(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewReview>,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    let review = body.parse()?;
    Ok((
        StatusCode::CREATED,
        Json(state.reviews.submit(&who, id, review).await?.into()),
    ))
}

/// A listing's published reviews (by its guests), newest first.
#[utoipa::path(
    get, path = "/v1/listings/{id}/reviews", tag = "reviews",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ReviewListParams),
    responses(
        (status = 200, description = "One page", body = ReviewPage),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn listing_reviews(
    State(state): State<AppState>,
    MaybeAuthUser(viewer): MaybeAuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<ReviewListParams>,
) -> Result<Json<ReviewPage>, ApiError> {
    let page = params.parse()?;
    Ok(Json(
        state
            .reviews
            .of_listing(viewer.as_ref(), id, page)
            .await?
            .into(),
    ))
}

/// Published reviews about a person (as host or as guest), newest first.
#[utoipa::path(
    get, path = "/v1/users/{id}/reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Account id"), ReviewListParams),
    responses(
        (status = 200, description = "One page", body = ReviewPage),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn user_reviews(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<ReviewListParams>,
) -> Result<Json<ReviewPage>, ApiError> {
    let page = params.parse()?;
    Ok(Json(state.reviews.of_person(id, page).await?.into()))
}

/// The listing's host answers a published guest review, once.
#[utoipa::path(
    post, path = "/v1/reviews/{id}/response", tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = ReviewResponse,
    responses(
        (status = 200, description = "The review with its response", body = Review),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not the listing's host", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "No such published review", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "Already answered", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn respond_to_review(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReviewResponse>,
) -> Result<Json<Review>, ApiError> {
    let text = body.parse()?;
    Ok(Json(state.reviews.respond(&who, id, text).await?.into()))
}

/// Reviews the policy held for a moderator, oldest first.
#[utoipa::path(
    get, path = "/v1/admin/reviews", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Held reviews", body = Vec<HeldReview>),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn held_reviews(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<Vec<HeldReview>>, ApiError> {
    let held = state.reviews.held().await?;
    Ok(Json(held.into_iter().map(HeldReview::from).collect()))
}

/// Approve a held review: it is revealed like any accepted review.
#[utoipa::path(
    post, path = "/v1/admin/reviews/{id}/approve", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "Approved", body = Review),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not held", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn approve_review(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(state.reviews.approve(id).await?.into()))
}

/// Why a moderator rejects a review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Kept with the review.
    pub reason: String,
}

/// Reject a held review: it is never shown.
#[utoipa::path(
    post, path = "/v1/admin/reviews/{id}/reject", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = Rejection,
    responses(
        (status = 200, description = "Rejected", body = Review),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not held", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn reject_review(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Rejection>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(state.reviews.reject(id, &body.reason).await?.into()))
}
