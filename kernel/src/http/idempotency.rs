//! `Idempotency-Key` for booking creation and money-moving actions: scoped per account and
//! kept at least 24 hours (`prune_history` removes keys after 48). The first request's response
//! is stored; a replay with the same key and the same request gets it back (with
//! `Idempotent-Replayed: true`) and changes nothing; the same key with a different request is
//! 422 `idempotency_key_reused`; a replay while the first is still running is 409
//! `idempotency_key_in_use`. A 5xx is not stored, so the client may retry with the same key.
//! The key is claimed and the response saved inside the command's own transactions (see
//! [`crate::domain::idempotency`]); here the edge reads the header, fingerprints the request,
//! renders the response to store and replays a stored one. A request refused before its effect
//! (bad input, dates taken, a booking not in the right state) stores nothing: its transaction,
//! and the claim in it, rolled back, so the same key may be sent again once the refusal no longer
//! holds.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AppState;
use crate::auth::Principal;
use crate::domain::idempotency::{Claim, KeyedRequest, NextAction, Render, SavedResponse};
use crate::domain::DomainError;

/// The header.
pub const HEADER: &str = "idempotency-key";
/// Stored responses larger than this are not kept (the key is released instead).
const MAX_BODY: usize = 256 * 1024;

/// The request's `Idempotency-Key`, if it sent one: 1-255 visible ASCII characters.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(HEADER) {
            None => Ok(Self(None)),
            Some(value) => match value.to_str() {
                Ok(key) => parse_key(key).map(|key| Self(Some(key))),
                Err(_) => Err(invalid_key()),
            },
        }
    }
}

/// An idempotency key as sent (header or GraphQL argument): 1-255 visible ASCII characters.
// The edge's one error type, made once per refused request; not worth a box.
#[allow(clippy::result_large_err)]
pub fn parse_key(key: &str) -> Result<String, ApiError> {
    if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(key.to_owned())
    } else {
        Err(invalid_key())
    }
}

fn invalid_key() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_idempotency_key",
        "Invalid Idempotency-Key",
    )
    .detail("An Idempotency-Key is 1 to 255 visible ASCII characters.")
}

/// What identifies "the same request" for a key: the route and the parsed body.
pub fn fingerprint(route: &str, body: &impl serde::Serialize) -> String {
    let mut hash = Sha256::new();
    hash.update(route.as_bytes());
    hash.update(b"\n");
    hash.update(serde_json::to_vec(body).unwrap_or_default());
    hex::encode(hash.finalize())
}

/// What to do with a keyed request: run the command with the claim (`None` without a key), or
/// answer with the response saved for an earlier request with the same key.
pub enum Keyed<T> {
    /// Run it; the claim commits with its effect.
    Run(Option<Claim<T>>),
    /// Already answered: this is what was answered.
    Saved(SavedResponse),
}

/// Looks at the request's key before any work (zero-to-production's `try_processing`), for
/// every surface that honours keys (REST's header, GraphQL's argument): the claim to hand the
/// command, the saved response of a replay, or the 409/422 refusal. `W` is the outcome's wire
/// form (a response DTO), which is what is saved.
pub async fn claim<T, W>(
    state: &AppState,
    who: &Principal,
    key: Option<String>,
    fingerprint: String,
    status: StatusCode,
) -> Result<Keyed<T>, ApiError>
where
    T: Clone + 'static,
    W: Serialize + From<T> + 'static,
{
    let Some(key) = key else {
        return Ok(Keyed::Run(None));
    };
    let request = KeyedRequest {
        account: who.account_id.as_uuid(),
        key,
        fingerprint,
    };
    match state
        .idempotency
        .try_processing(request, render::<T, W>(status))
        .await?
    {
        NextAction::StartProcessing(claim) => Ok(Keyed::Run(Some(claim))),
        NextAction::ReturnSavedResponse(saved) => Ok(Keyed::Saved(saved)),
    }
}

/// [`claim`] for a REST handler: `Ok` with the claim to hand the command, or the response to
/// send at once (a replay, or the refusal).
pub async fn try_processing<T, W>(
    state: &AppState,
    who: &Principal,
    key: IdempotencyKey,
    fingerprint: String,
    status: StatusCode,
) -> Result<Option<Claim<T>>, Response>
where
    T: Clone + 'static,
    W: Serialize + From<T> + 'static,
{
    match claim::<T, W>(state, who, key.0, fingerprint, status).await {
        Ok(Keyed::Run(claim)) => Ok(claim),
        Ok(Keyed::Saved(saved)) => Err(replay(saved)),
        Err(e) => Err(e.into_response()),
    }
}

/// After the command: settles its claim (see [`Claim::settle`]) and answers with its outcome,
/// the same response the command saved under the key.
pub async fn respond<T, W>(
    claim: Option<Claim<T>>,
    status: StatusCode,
    outcome: Result<T, DomainError>,
) -> Response
where
    W: Serialize + From<T>,
{
    if let Some(claim) = claim {
        claim.settle().await;
    }
    match outcome {
        Ok(value) => (status, Json(W::from(value))).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The response stored for an outcome: the bytes [`respond`] sends. Not stored: a 5xx, a
/// storage or auth failure, or a body over [`MAX_BODY`].
fn render<T, W>(status: StatusCode) -> Render<T>
where
    T: Clone + 'static,
    W: Serialize + From<T> + 'static,
{
    Box::new(move |outcome| {
        let (status, body) = match outcome {
            Ok(value) => (status, serde_json::to_string(&W::from(value.clone())).ok()?),
            Err(e) => {
                let e = ApiError::from(e.try_clone()?);
                (e.status(), serde_json::to_string(&e.problem()).ok()?)
            }
        };
        (!status.is_server_error() && body.len() <= MAX_BODY).then(|| SavedResponse {
            status: status.as_u16(),
            body,
        })
    })
}

fn replay(saved: SavedResponse) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_client_error() || status.is_server_error() {
        "application/problem+json"
    } else {
        "application/json"
    };
    let mut response = (status, saved.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
