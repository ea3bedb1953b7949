//! `/v1/me`: the caller's own account.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Account, DisplayName, Email, Password, ProfileChange, Role};
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiJson, AuthUser, ClientAddr};
use crate::http::responses::{
    BadRequest, PayloadTooLarge, ServiceUnavailable, TooManyRequests, Unauthorized, Unprocessable,
    UnsupportedMediaType, PROBLEM_JSON,
};
use crate::http::AppState;
use crate::model::Problems;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me))
        .routes(routes!(become_host))
}

/// The caller's own account. Only ever returned to its owner: it carries the email.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Account")]
pub struct AccountView {
    /// Account id (UUIDv7).
    pub id: Uuid,
    /// The email, as typed at registration.
    pub email: String,
    /// Shown to other users.
    pub display_name: String,
    /// `guest`, `host` or `admin`.
    #[schema(value_type = String, example = "guest")]
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.as_uuid(),
            email: a.email.as_str().to_owned(),
            display_name: a.display_name.as_str().to_owned(),
            role: a.role,
            created_at: a.created_at,
        }
    }
}

/// Changes to the caller's profile; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// A new email (must not belong to another account); requires `current_password`.
    #[schema(
        max_length = 254,
        pattern = r"^[!-?A-~]+@[!-\x2d/-?A-~]+(\.[!-\x2d/-?A-~]+)+$"
    )]
    pub email: Option<String>,
    /// A new display name.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub display_name: Option<String>,
    /// A new password (8 to 128 characters); requires `current_password` and signs out every
    /// other session.
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// The current password, required to set `email` or `password`. Wrong ones count as failed
    /// logins (429 with `Retry-After` once there are too many).
    pub current_password: Option<String>,
}

/// The caller's account.
#[utoipa::path(
    get, path = "/v1/me", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = AccountView),
        (status = 401, response = Unauthorized),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn get_me(
    State(state): State<AppState>,
    AuthUser(principal): AuthUser,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(state.auth.account(principal.account_id).await?.into()))
}

/// Change the caller's email, display name or password.
///
/// A new email or password needs `current_password`, checked and throttled like a login.
#[utoipa::path(
    patch, path = "/v1/me", tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated account", body = AccountView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 409, description = "Email already registered", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn update_me(
    State(state): State<AppState>,
    AuthUser(principal): AuthUser,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> Result<Json<AccountView>, ApiError> {
    let mut errors = Problems::default();
    let email = body
        .email
        .as_deref()
        .and_then(|e| errors.parsed("email", Email::parse(e)));
    let display_name = body
        .display_name
        .as_deref()
        .and_then(|n| errors.parsed("display_name", DisplayName::parse(n)));
    let password = body
        .password
        .as_deref()
        .and_then(|p| errors.parsed("password", Password::parse(p)));
    if (body.email.is_some() || body.password.is_some()) && body.current_password.is_none() {
        errors.add(
            "current_password",
            "is required to change the email or the password",
        );
    }
    if !errors.is_empty() {
        return Err(errors.into_vec().into());
    }
    let change = ProfileChange {
        email,
        display_name,
        password,
        current_password: body.current_password,
    };
    Ok(Json(
        state
            .auth
            .update_profile(&principal, change, client)
            .await?
            .into(),
    ))
}

/// Become a host (able to list homes). Idempotent.
#[utoipa::path(
    post, path = "/v1/me/host", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, now a host", body = AccountView),
        (status = 401, response = Unauthorized),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn become_host(
    State(state): State<AppState>,
    AuthUser(principal): AuthUser,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(state.auth.become_host(&principal).await?.into()))
}
