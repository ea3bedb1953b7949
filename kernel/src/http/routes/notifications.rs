//! `/v1/notifications`: the caller's in-app inbox. Nobody sees anyone else's messages.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::http::dto::notifications::{InboxMessage, InboxPage, InboxParams};
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiPath, ApiQuery, AuthUser};
use crate::http::responses::{ServiceUnavailable, Unauthorized, Unprocessable, PROBLEM_JSON};
use crate::http::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
}

/// The caller's notifications, newest first.
#[utoipa::path(
    get, path = "/v1/notifications", tag = "notifications",
    security(("bearer" = [])),
    params(InboxParams),
    responses(
        (status = 200, description = "One page of the inbox", body = InboxPage),
        (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn list_notifications(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(params): ApiQuery<InboxParams>,
) -> Result<Json<InboxPage>, ApiError> {
    let (unread, page) = params.parse()?;
    Ok(Json(
        state.notifications.inbox(&who, unread, page).await?.into(),
    ))
}

/// Mark one of the caller's notifications read (repeating it changes nothing).
#[utoipa::path(
    post, path = "/v1/notifications/{id}/read", tag = "notifications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 200, description = "The notification, read", body = InboxMessage),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No such notification in the caller's inbox", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<InboxMessage>, ApiError> {
    Ok(Json(state.notifications.mark_read(&who, id).await?.into()))
}
