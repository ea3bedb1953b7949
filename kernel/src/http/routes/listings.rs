//! `/v1/listings`: listings, search, calendars and quotes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::http::dto::calendar::{Calendar, CalendarRange, CalendarUpdate};
use crate::http::dto::listing_input::{ListingInput, ListingPatch};
use crate::http::dto::listings::Listing;
use crate::http::dto::quotes::{Quote, QuoteParams};
use crate::http::dto::search::{SearchPage, SearchParams};
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, MaybeAuthUser};
use crate::http::responses::{
    BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, Unprocessable,
    UnsupportedMediaType, PROBLEM_JSON,
};
use crate::http::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_listings, create_listing))
        .routes(routes!(get_listing, update_listing, delete_listing))
        .routes(routes!(get_calendar, update_calendar))
        .routes(routes!(quote_stay))
}

/// Search published listings. Filters combine (AND); results come in a stable order, one page
/// at a time; pass `next_cursor` back as `cursor` for the next page.
#[utoipa::path(get, path = "/v1/listings", tag = "listings",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of listings", body = SearchPage),
        (status = 422, description = "Invalid filters", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn search_listings(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SearchPage>, ApiError> {
    let query = params.parse()?;
    Ok(Json(state.listings.search(&query).await?.into()))
}

/// Create a listing (hosts). It starts as a `draft` unless `status` says otherwise.
#[utoipa::path(post, path = "/v1/listings", tag = "listings",
    security(("bearer" = [])),
    request_body = ListingInput,
    responses(
        (status = 201, description = "Created", body = Listing),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not a host", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn create_listing(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(input): ApiJson<ListingInput>,
) -> Result<(StatusCode, Json<Listing>), ApiError> {
    let input = input.parse()?;
    Ok((
        StatusCode::CREATED,
        Json(state.listings.create(&who, input).await?.into()),
    ))
}

/// A listing. Drafts are visible to their owner and admins only (404 for anyone else).
#[utoipa::path(get, path = "/v1/listings/{id}", tag = "listings",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, description = "The listing", body = Listing),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn get_listing(
    State(state): State<AppState>,
    MaybeAuthUser(viewer): MaybeAuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Listing>, ApiError> {
    Ok(Json(
        state.listings.shown_to(viewer.as_ref(), id).await?.into(),
    ))
}

/// Change a listing (its owner or an admin).
#[utoipa::path(patch, path = "/v1/listings/{id}", tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = ListingPatch,
    responses(
        (status = 200, description = "Updated", body = Listing),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not the owner", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn update_listing(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ListingPatch>,
) -> Result<Json<Listing>, ApiError> {
    let patch = patch.parse()?;
    Ok(Json(state.listings.update(&who, id, patch).await?.into()))
}

/// Delete a listing (soft; its owner or an admin).
#[utoipa::path(delete, path = "/v1/listings/{id}", tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not the owner", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn delete_listing(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.listings.delete(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Per-night status and price of `[from, to)`.
#[utoipa::path(get, path = "/v1/listings/{id}/calendar", tag = "listings",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), CalendarRange),
    responses(
        (status = 200, description = "The calendar", body = Calendar),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, description = "Invalid range", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn get_calendar(
    State(state): State<AppState>,
    MaybeAuthUser(viewer): MaybeAuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(range): ApiQuery<CalendarRange>,
) -> Result<Json<Calendar>, ApiError> {
    let nights = range.parse()?;
    Ok(Json(
        state
            .listings
            .calendar(viewer.as_ref(), id, nights)
            .await?
            .into(),
    ))
}

/// Block or unblock nights and set or clear per-night prices (the owner or an admin).
#[utoipa::path(put, path = "/v1/listings/{id}/calendar", tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = CalendarUpdate,
    responses(
        (status = 200, description = "The calendar over the changed span", body = Calendar),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not the owner", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "Invalid changes", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn update_calendar(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(update): ApiJson<CalendarUpdate>,
) -> Result<Json<Calendar>, ApiError> {
    let changes = update.parse()?;
    Ok(Json(
        state
            .listings
            .update_calendar(&who, id, changes)
            .await?
            .into(),
    ))
}

/// Price a stay: base nightly rates, then the pricing-plugin chain. The quote holds until
/// `expires_at`.
#[utoipa::path(get, path = "/v1/listings/{id}/quote", tag = "listings",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), QuoteParams),
    responses(
        (status = 200, description = "The quote", body = Quote),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, description = "Dates unavailable", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid stay", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, description = "Pricing failed", body = Problem, content_type = PROBLEM_JSON),
    ))]
pub(crate) async fn quote_stay(
    State(state): State<AppState>,
    MaybeAuthUser(viewer): MaybeAuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<QuoteParams>,
) -> Result<Json<Quote>, ApiError> {
    let stay = params.parse()?;
    Ok(Json(
        state
            .quotes
            .quote(viewer.as_ref(), id.into(), &stay)
            .await?
            .into(),
    ))
}
