//! The error responses operations share, each an RFC 9457 [`Problem`] as
//! `application/problem+json`, written once and referenced from every `#[utoipa::path]` as
//! `(status = 401, response = Unauthorized)`. An operation whose status has a specific meaning
//! (e.g. which conflict a 409 is) documents its own description with `body = Problem,
//! content_type = PROBLEM_JSON` instead.
//!
//! Which operation can answer what follows from its extractors and the layers around it:
//! - every operation: 503 from the timeout layer (and from a failing dependency), 414 and 431
//!   from the request-head bounds (`server.max_uri_bytes`, `server.max_header_bytes`); every one
//!   but `/healthz` and `/readyz`: 429 from the `general` budget (414, 431 and 429 are added to
//!   each operation in `http::document_shared_responses`, not written per route);
//! - an `AuthUser`/`AdminUser`/`MaybeAuthUser` (with a token sent): 401; `AdminUser`: 403;
//! - an `ApiJson` body: 400 (not JSON), 413 (over `server.body_limit_bytes`), 415 (not sent as
//!   JSON) and 422 (a field of the wrong type, missing or unknown);
//! - an `ApiPath` id: 404 for an id that cannot exist; an `ApiQuery`: 422;
//! - an `IdempotencyKey`: 400 for a malformed key, 409 while its first request runs, 422 when
//!   reused for another request.
//!
//! `kernel/tests/api/openapi.rs` walks the document and fails if one of these is missing.

use utoipa::ToResponse;

use super::error::Problem;

/// The media type of every error body, for `content_type = ...` in `#[utoipa::path]`.
pub use super::error::PROBLEM_JSON;

/// 400: the body is not valid JSON, or a header is malformed.
#[derive(ToResponse)]
#[response(
    description = "Malformed request: the body is not valid JSON, or a header is malformed",
    content_type = "application/problem+json"
)]
pub struct BadRequest(pub Problem);

/// 401: no session token, or an expired or revoked one.
#[derive(ToResponse)]
#[response(
    description = "Not authenticated: the session token is missing, expired or revoked",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "Always `Bearer`"))
)]
pub struct Unauthorized(pub Problem);

/// 403: authenticated, but the caller's role or relation to the resource does not allow it.
#[derive(ToResponse)]
#[response(
    description = "Forbidden: the caller's role or relation to the resource does not allow this",
    content_type = "application/problem+json"
)]
pub struct Forbidden(pub Problem);

/// 404: no such resource (or none the caller may see; a malformed id cannot exist either).
#[derive(ToResponse)]
#[response(
    description = "Not found: no such resource visible to the caller",
    content_type = "application/problem+json"
)]
pub struct NotFound(pub Problem);

/// 409: the resource's state does not allow the change; `code` says which conflict.
#[derive(ToResponse)]
#[response(
    description = "Conflict with the resource's current state; `code` says which",
    content_type = "application/problem+json"
)]
pub struct Conflict(pub Problem);

/// 413: the body is larger than `server.body_limit_bytes`.
#[derive(ToResponse)]
#[response(
    description = "The body is larger than the server accepts",
    content_type = "application/problem+json"
)]
pub struct PayloadTooLarge(pub Problem);

/// 415: a JSON body sent without a JSON `Content-Type`.
#[derive(ToResponse)]
#[response(
    description = "Send the body as JSON with `Content-Type: application/json`",
    content_type = "application/problem+json"
)]
pub struct UnsupportedMediaType(pub Problem);

/// 422: a field or parameter is invalid; `errors` names each one.
#[derive(ToResponse)]
#[response(
    description = "Invalid input; `errors` names each bad field or parameter",
    content_type = "application/problem+json"
)]
pub struct Unprocessable(pub Problem);

/// 414: the path and query string are longer than `server.max_uri_bytes` (every operation).
#[derive(ToResponse)]
#[response(
    description = "URI too long: the path and query string exceed `server.max_uri_bytes`",
    content_type = "application/problem+json"
)]
pub struct UriTooLong(pub Problem);

/// 431: the request headers are larger than `server.max_header_bytes` (every operation).
#[derive(ToResponse)]
#[response(
    description = "Request headers too large: they exceed `server.max_header_bytes` in all",
    content_type = "application/problem+json"
)]
pub struct HeadersTooLarge(pub Problem);

/// 429: over a `[limits]` budget (every operation but the health checks) or the login
/// throttle; `Retry-After` says when to try again.
#[derive(ToResponse)]
#[response(
    description = "Too many requests: over a rate-limit budget or too many failed logins; wait `Retry-After` seconds",
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait before trying again"),
        ("RateLimit-Policy" = String, description = "The policy that refused, as in draft-ietf-httpapi-ratelimit-headers: `\"login\";q=30;w=60` (quota per window in seconds)"),
        ("RateLimit" = String, description = "Where the client stands: `\"login\";r=0;t=37` (none remaining, reset in 37 seconds)"),
    )
)]
pub struct TooManyRequests(pub Problem);

/// 503: the request timed out (`server.request_timeout_ms`), a dependency is down, or (for
/// operations that check a password) every password-hashing slot is taken.
#[derive(ToResponse)]
#[response(
    description = "Unavailable: the request timed out, a dependency is down, or the server is saturated; retry later",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait, when the server is saturated (`password_hashing_busy`)"))
)]
pub struct ServiceUnavailable(pub Problem);
