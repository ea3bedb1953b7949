//! Extractors for cross-cutting request concerns, so a handler reads as: convert input → one
//! call → response. Every rejection is an [`ApiError`] problem.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};
use super::AppState;
use crate::auth::{Principal, Role};

/// A JSON body whose every rejection is a problem: 415 without a JSON content type, 400 for
/// malformed JSON, 413 when too large, 422 naming the field for wrong types, missing or unknown
/// fields.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                .detail("Send the body as JSON with `Content-Type: application/json`."));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| ApiError::for_status(e.status()).detail(e.body_text()))?;
        from_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON document into `T` with [`ApiJson`]'s errors: 400 for malformed JSON, 422
/// naming the field for wrong types, missing or unknown fields. GraphQL's inputs that mirror a
/// REST body go through it too, so both surfaces refuse the same input the same way.
// The edge's one error type, made once per refused request; not worth a box.
#[allow(clippy::result_large_err)]
pub(crate) fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_data() {
                let field = if path == "." { String::new() } else { path };
                let message = inner.to_string();
                // serde's messages end with " at line X column Y"; the field path says where.
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_owned();
                let field = if field.is_empty() {
                    missing_or_unknown_field(&message).unwrap_or_default()
                } else {
                    field
                };
                Err(ApiError::validation(vec![FieldError { field, message }]))
            } else {
                Err(
                    ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", "Malformed JSON")
                        .detail(format!("The body is not valid JSON: {inner}")),
                )
            }
        }
    }
}

/// serde reports a missing or unknown field at the enclosing path; name the field itself.
fn missing_or_unknown_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// The authenticated caller (`Authorization: Bearer <token>`); 401 otherwise.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Principal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The limits layer already resolved this request's session.
        if let Some(Authenticated(principal)) = parts.extensions.get::<Authenticated>() {
            return Ok(AuthUser(principal.clone()));
        }
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::unauthenticated(
                "unauthenticated",
                "Send a session token as `Authorization: Bearer <token>`; get one from POST /v1/auth/login.",
            )
        })?;
        Ok(AuthUser(state.auth.authenticate(token).await?))
    }
}

/// The caller of this request as resolved once by the limits layer (so a request looks its
/// session up once).
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Principal);

/// The token of `Authorization: Bearer <token>`, if one is sent.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
}

/// The token of an `Authorization` value `Bearer <token>` (a header's, or one sent another
/// way, as `/graphql/ws`'s `connection_init` does).
pub(crate) fn bearer(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The caller if a session token is sent, `None` without one; an invalid token is still 401.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(AUTHORIZATION) {
            let AuthUser(principal) = AuthUser::from_request_parts(parts, state).await?;
            Ok(MaybeAuthUser(Some(principal)))
        } else {
            Ok(MaybeAuthUser(None))
        }
    }
}

/// An authenticated caller with the admin role; 401 without a session, 403 with another role.
#[derive(Debug, Clone)]
pub struct AdminUser(pub Principal);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(principal) = AuthUser::from_request_parts(parts, state).await?;
        principal.require(Role::Admin).map_err(ApiError::from)?;
        Ok(AdminUser(principal))
    }
}

impl From<AuthUser> for Principal {
    fn from(user: AuthUser) -> Self {
        user.0
    }
}

/// The client's address: the peer's, or behind `server.trusted_proxies` the right-most
/// `X-Forwarded-For` hop that is not a trusted proxy (see `limits::client_address`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(addr) = parts.extensions.get::<ClientAddr>() {
            return Ok(*addr);
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| {
                ClientAddr(super::limits::client_address(
                    addr.ip(),
                    &parts.headers,
                    &state.config.server.trusted_proxies,
                ))
            })
            .ok_or_else(|| ApiError::internal("the server was started without connect info"))
    }
}

/// Path parameters whose rejection (e.g. a malformed id) is a 404 problem: a resource that
/// cannot exist is simply not found.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| ApiError::for_status(StatusCode::NOT_FOUND).detail(e.body_text()))
    }
}

/// Query parameters whose rejection (a letter where a number goes, a missing required
/// parameter) is a 422 problem naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => {
                // serde_urlencoded says "missing field `from`" or "<name>: <problem>".
                let text = e.body_text();
                let detail = text.split(": ").nth(1).unwrap_or_default();
                let field = match detail.strip_prefix("missing field `") {
                    Some(rest) => rest.split('`').next().unwrap_or_default(),
                    None => detail.split_whitespace().next().unwrap_or_default(),
                }
                .to_owned();
                Err(ApiError::validation(vec![FieldError {
                    field,
                    message: text,
                }]))
            }
        }
    }
}
