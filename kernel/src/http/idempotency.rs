//! `Idempotency-Key` for booking creation and money-moving actions: scoped per account and
//! kept at least 24 hours (`prune_history` removes keys after 48). The first request's response
//! is stored; a replay with the same key and the same request gets it back (with
//! `Idempotent-Replayed: true`) and changes nothing; the same key with a different request is
//! 422 `idempotency_key_reused`; a replay while the first is still running is 409
//! `idempotency_key_in_use`. A 5xx is not stored, so the client may retry with the same key.

use std::future::Future;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AppState;
use crate::auth::Principal;
use crate::data::{idempotency as store, now};

/// The header.
pub const HEADER: &str = "idempotency-key";
/// A first request still `running` after this long is taken to have died with its process.
const ABANDONED_AFTER_SECS: i64 = 60;
/// Stored responses larger than this are not kept (the key is released instead).
const MAX_BODY: usize = 256 * 1024;

/// The request's `Idempotency-Key`, if it sent one: 1-255 visible ASCII characters.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(Self(None));
        };
        match value.to_str() {
            Ok(key)
                if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(Self(Some(key.to_owned())))
            }
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Invalid Idempotency-Key",
            )
            .detail("An Idempotency-Key is 1 to 255 visible ASCII characters.")),
        }
    }
}

/// What identifies "the same request" for a key: the route and the parsed body.
pub fn fingerprint(route: &str, body: &impl serde::Serialize) -> String {
    let mut hash = Sha256::new();
    hash.update(route.as_bytes());
    hash.update(b"\n");
    hash.update(serde_json::to_vec(body).unwrap_or_default());
    hex::encode(hash.finalize())
}

/// Runs `handle` at most once per key (see the module docs).
pub async fn once<F, Fut>(
    state: &AppState,
    who: &Principal,
    key: IdempotencyKey,
    fingerprint: String,
    handle: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(key) = key.0 else {
        return handle().await;
    };
    match guarded(state, who, &key, &fingerprint, handle).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn guarded<F, Fut>(
    state: &AppState,
    who: &Principal,
    key: &str,
    fingerprint: &str,
    handle: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let account = who.account_id.as_uuid();
    let existing = {
        let mut conn = state.db.acquire().await?;
        store::claim(conn.exec(), account, key, fingerprint, now()).await?
    };
    if let Some(record) = existing {
        if record.fingerprint != fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency-Key reused",
            )
            .detail("This Idempotency-Key was used for a different request."));
        }
        if record.state == "done" {
            return Ok(replay(record.status_code, record.body));
        }
        let stale = now() - chrono::Duration::seconds(ABANDONED_AFTER_SECS);
        let taken = record.updated_at < stale && {
            let mut conn = state.db.acquire().await?;
            store::take_over(conn.exec(), account, key, stale, now()).await?
        };
        if !taken {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "Request in progress",
            )
            .detail("A request with this Idempotency-Key is still running; retry shortly."));
        }
    }
    let response = handle().await;
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(ApiError::internal)?;
    let mut conn = state.db.acquire().await?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if !parts.status.is_server_error() => {
            store::finish(
                conn.exec(),
                account,
                key,
                i32::from(parts.status.as_u16()),
                text,
                now(),
            )
            .await?
        }
        _ => store::release(conn.exec(), account, key).await?,
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Ok(Response::from_parts(parts, axum::body::Body::from(bytes)))
}

fn replay(status: Option<i32>, body: Option<String>) -> Response {
    let status = status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let content_type = if status.is_client_error() || status.is_server_error() {
        "application/problem+json"
    } else {
        "application/json"
    };
    let mut response = (status, body.unwrap_or_default()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
