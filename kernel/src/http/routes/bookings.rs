//! `/v1/bookings`: booking, the host's answer, cancellation with its refund preview, and the
//! payments ledger. Creation and the money-moving actions honour `Idempotency-Key`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain::DomainError;
use crate::http::dto::bookings::{
    Booking, BookingListParams, BookingPage, CancellationPreview, NewBooking,
};
use crate::http::dto::payments::PaymentView;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::responses::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized,
    UnsupportedMediaType, PROBLEM_JSON,
};
use crate::http::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_booking, list_bookings))
        .routes(routes!(get_booking))
        .routes(routes!(accept_booking))
        .routes(routes!(decline_booking))
        .routes(routes!(cancellation_preview))
        .routes(routes!(cancel_booking))
        .routes(routes!(booking_payments))
}

/// Book a stay (from a `quote_id`, or a listing and dates): the nights are held and the payment
/// authorized; the booking is `requested` (or `confirmed` for instant book, or
/// `pending_payment` while an asynchronous payment completes).
#[utoipa::path(
    post, path = "/v1/bookings", tag = "bookings",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = NewBooking,
    responses(
        (status = 201, description = "Booked", body = Booking),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 402, description = "The payment was declined; the booking is cancelled", body = Problem, content_type = PROBLEM_JSON),
        (status = 403, description = "Your own listing", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, response = NotFound),
        (status = 409, description = "Dates unavailable (`dates_unavailable`), or the Idempotency-Key's first request is still running", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "Invalid input, or an Idempotency-Key reused for another request", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, description = "The payment provider is unavailable; nothing was charged", body = Problem, content_type = PROBLEM_JSON),
    )
)]
pub(crate) async fn create_booking(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    key: IdempotencyKey,
    ApiJson(body): ApiJson<NewBooking>,
) -> Response {
    let fingerprint = idempotency::fingerprint("POST /v1/bookings", &body);
    let status = StatusCode::CREATED;
    let claim =
        match idempotency::try_processing::<_, Booking>(&state, &who, key, fingerprint, status)
            .await
        {
            Ok(claim) => claim,
            Err(answer) => return answer,
        };
    let outcome = match body.parse() {
        Ok(booking) => state.bookings.create(&who, booking, claim.as_ref()).await,
        Err(problems) => Err(DomainError::Invalid(problems)),
    };
    idempotency::respond::<_, Booking>(claim, status, outcome).await
}

/// My bookings as guest, or (`?role=host`) the bookings of my listings; newest first.
#[utoipa::path(
    get, path = "/v1/bookings", tag = "bookings",
    security(("bearer" = [])),
    params(BookingListParams),
    responses(
        (status = 200, description = "One page", body = BookingPage),
        (status = 401, response = Unauthorized),
        (status = 422, description = "Bad role, limit or cursor", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn list_bookings(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(params): ApiQuery<BookingListParams>,
) -> Result<Json<BookingPage>, ApiError> {
    let (side, page) = params.parse()?;
    Ok(Json(state.bookings.list(&who, side, page).await?.into()))
}

/// One booking (its guest, its host, or an admin; 404 for anyone else).
#[utoipa::path(
    get, path = "/v1/bookings/{id}", tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, description = "The booking", body = Booking),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn get_booking(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Booking>, ApiError> {
    Ok(Json(state.bookings.get(&who, id).await?.into()))
}

macro_rules! action {
    ($(#[$meta:meta])* $name:ident, $path:literal, $method:ident) => {
        $(#[$meta])*
        pub(crate) async fn $name(
            State(state): State<AppState>,
            AuthUser(who): AuthUser,
            key: IdempotencyKey,
            ApiPath(id): ApiPath<Uuid>,
        ) -> Response {
            let fingerprint = idempotency::fingerprint(&format!("POST {} {id}", $path), &());
            let status = StatusCode::OK;
            let claim =
                match idempotency::try_processing::<_, Booking>(&state, &who, key, fingerprint, status).await {
                    Ok(claim) => claim,
                    Err(answer) => return answer,
                };
            let outcome = state.bookings.$method(&who, id, claim.as_ref()).await;
            idempotency::respond::<_, Booking>(claim, status, outcome).await
        }
    };
}

action!(
    /// The host accepts a request: the payment is captured and the booking confirmed.
    #[utoipa::path(
        post, path = "/v1/bookings/{id}/accept", tag = "bookings",
        security(("bearer" = [])),
        params(("id" = Uuid, Path, description = "Booking id"),
               ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
        responses(
            (status = 200, description = "Confirmed", body = Booking),
            (status = 400, description = "A malformed `Idempotency-Key`", body = Problem, content_type = PROBLEM_JSON),
            (status = 401, response = Unauthorized),
            (status = 402, description = "The capture was declined; the booking is cancelled", body = Problem, content_type = PROBLEM_JSON),
            (status = 403, description = "Not the host", body = Problem, content_type = PROBLEM_JSON),
            (status = 404, response = NotFound),
            (status = 409, description = "Not a pending request, or the `Idempotency-Key`'s first request is still running", body = Problem, content_type = PROBLEM_JSON),
            (status = 422, description = "The `Idempotency-Key` was used for another request", body = Problem, content_type = PROBLEM_JSON),
            (status = 503, response = ServiceUnavailable),
        )
    )]
    accept_booking,
    "/v1/bookings/{id}/accept",
    accept
);

action!(
    /// The host declines a request: the authorization is released.
    #[utoipa::path(
        post, path = "/v1/bookings/{id}/decline", tag = "bookings",
        security(("bearer" = [])),
        params(("id" = Uuid, Path, description = "Booking id"),
               ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
        responses(
            (status = 200, description = "Declined", body = Booking),
            (status = 400, description = "A malformed `Idempotency-Key`", body = Problem, content_type = PROBLEM_JSON),
            (status = 401, response = Unauthorized),
            (status = 403, description = "Not the host", body = Problem, content_type = PROBLEM_JSON),
            (status = 404, response = NotFound),
            (status = 409, description = "Not a pending request, or the `Idempotency-Key`'s first request is still running", body = Problem, content_type = PROBLEM_JSON),
            (status = 422, description = "The `Idempotency-Key` was used for another request", body = Problem, content_type = PROBLEM_JSON),
            (status = 503, response = ServiceUnavailable),
        )
    )]
    decline_booking,
    "/v1/bookings/{id}/decline",
    decline
);

action!(
    /// The guest or the host cancels. See `GET /v1/bookings/{id}/cancellation` for the refund
    /// first.
    #[utoipa::path(
        post, path = "/v1/bookings/{id}/cancel", tag = "bookings",
        security(("bearer" = [])),
        params(("id" = Uuid, Path, description = "Booking id"),
               ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
        responses(
            (status = 200, description = "Cancelled; `refund_minor` says what is refunded", body = Booking),
            (status = 400, description = "A malformed `Idempotency-Key`", body = Problem, content_type = PROBLEM_JSON),
            (status = 401, response = Unauthorized),
            (status = 403, response = Forbidden),
            (status = 404, response = NotFound),
            (status = 409, description = "Already ended, or the `Idempotency-Key`'s first request is still running", body = Problem, content_type = PROBLEM_JSON),
            (status = 422, description = "The `Idempotency-Key` was used for another request", body = Problem, content_type = PROBLEM_JSON),
            (status = 503, response = ServiceUnavailable),
        )
    )]
    cancel_booking,
    "/v1/bookings/{id}/cancel",
    cancel
);

/// What cancelling now would refund, by the booking's cancellation policy.
#[utoipa::path(
    get, path = "/v1/bookings/{id}/cancellation", tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, description = "The refund a cancellation would give now", body = CancellationPreview),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn cancellation_preview(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CancellationPreview>, ApiError> {
    Ok(Json(state.bookings.cancellation(&who, id).await?.into()))
}

/// The booking's payments ledger: every operation with the provider, oldest first.
#[utoipa::path(
    get, path = "/v1/bookings/{id}/payments", tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, description = "Operations", body = Vec<PaymentView>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn booking_payments(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<PaymentView>>, ApiError> {
    let ledger = state.bookings.payments(&who, id).await?;
    Ok(Json(ledger.into_iter().map(PaymentView::from).collect()))
}
