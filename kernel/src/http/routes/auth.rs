//! `/v1/auth`: register, login, logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::AccountView;
use crate::auth::{DisplayName, Email, Password};
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
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Unique, compared case-insensitively.
    #[schema(example = "ada@example.com")]
    #[schema(
        max_length = 254,
        pattern = r"^[!-?A-~]+@[!-\x2d/-?A-~]+(\.[!-\x2d/-?A-~]+)+$"
    )]
    pub email: String,
    /// 8 to 128 characters.
    #[schema(example = "correct horse battery staple")]
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Shown to other users.
    #[schema(example = "Ada")]
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub display_name: String,
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email, in any case.
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Shown only once.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// Whose session it is.
    pub account: AccountView,
}

/// Create an account (role `guest`).
#[utoipa::path(
    post, path = "/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = AccountView),
        (status = 400, response = BadRequest),
        (status = 409, description = "Email already registered", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let mut errors = Problems::default();
    let email = errors.parsed("email", Email::parse(&body.email));
    let password = errors.parsed("password", Password::parse(&body.password));
    let display_name = errors.parsed("display_name", DisplayName::parse(&body.display_name));
    let (Some(email), Some(password), Some(display_name)) = (email, password, display_name) else {
        return Err(errors.into_vec().into());
    };
    let account = state.auth.register(email, &password, display_name).await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

/// Log in and get a session token. Wrong email and wrong password give the same answer; repeated
/// failures per account or per client address are refused with 429 and `Retry-After`.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, response = BadRequest),
        (status = 401, description = "Invalid email or password", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let session = state
        .auth
        .login(&body.email, &body.password, client)
        .await?;
    Ok(Json(LoginResponse {
        token: session.token.expose().to_owned(),
        token_type: "Bearer",
        expires_at: session.expires_at,
        account: session.account.into(),
    }))
}

/// End the current session; the token stops working at once.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, response = Unauthorized),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    AuthUser(principal): AuthUser,
) -> Result<StatusCode, ApiError> {
    state.auth.logout(&principal).await?;
    Ok(StatusCode::NO_CONTENT)
}
