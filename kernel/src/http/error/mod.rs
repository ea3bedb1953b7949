//! [`ApiError`]: every error a client sees, as RFC 9457 `application/problem+json` with a stable
//! `code` and, for bad input, per-field `errors`. Each lower-layer error is mapped here, once.
//! A 5xx is logged here, once, and its body says nothing internal. The mapping of each
//! lower-layer error is in `from`.

mod from;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:hearth:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:hearth:problem:validation_failed")]
    pub type_uri: String,
    /// A short, human-readable summary of the problem type.
    #[schema(example = "Invalid request")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What happened in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A stable, machine-readable code; clients branch on this, not on `title`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Per-field problems with the request (empty when not about input).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One field's problem.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path in the request, e.g. `email` or `address.city`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Which budget refused a request, for the 429's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited {
    /// The policy's name (`login`, `general`, `login-failures`, …).
    pub policy: &'static str,
    /// Requests allowed per window.
    pub quota: u64,
    /// The window in seconds.
    pub window_secs: u64,
    /// Seconds until a request is allowed again (at least 1).
    pub reset_secs: u64,
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
    rate_limit: Option<RateLimited>,
    bearer_challenge: bool,
    /// Logged for 5xx, never sent.
    internal: Option<String>,
}

impl ApiError {
    /// A problem with a status, stable code and title.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Self {
            status,
            code,
            title,
            detail: None,
            errors: Vec::new(),
            retry_after_secs: None,
            rate_limit: None,
            bearer_challenge: false,
            internal: None,
        }
    }

    /// Adds a human-readable detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Attaches per-field errors.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// 422 `validation_failed` with per-field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Invalid request",
        )
        .detail("One or more fields are invalid; see `errors`.")
        .with_errors(errors)
    }

    /// 500, with the cause kept for the log only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error",
        )
        .detail("Something went wrong on our side; it has been logged.");
        e.internal = Some(cause.to_string());
        e
    }

    /// 401 asking for a bearer token.
    pub fn unauthenticated(code: &'static str, detail: &str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, code, "Not authenticated").detail(detail);
        e.bearer_challenge = true;
        e
    }

    /// 429 `code` for a request over a budget, with `Retry-After` and the IETF `RateLimit` and
    /// `RateLimit-Policy` headers naming the policy.
    pub fn too_many_requests(code: &'static str, title: &'static str, limit: RateLimited) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, title).detail(format!(
            "Over the `{}` budget of {} requests per {} seconds; try again in {} seconds.",
            limit.policy, limit.quota, limit.window_secs, limit.reset_secs
        ));
        e.retry_after_secs = Some(limit.reset_secs);
        e.rate_limit = Some(limit);
        e
    }

    /// 503 `code` with `Retry-After`: the server is saturated, not broken.
    pub fn overloaded(code: &'static str, detail: &str, retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, "Service busy").detail(detail);
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The problem body.
    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:hearth:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            errors: self.errors.clone(),
        }
    }

    /// The generic problem for a bare status produced outside our handlers (router fallbacks,
    /// body limits, timeouts), so no error ever leaves without a problem body.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, title) = match status {
            StatusCode::BAD_REQUEST => ("bad_request", "Bad request"),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "Not authenticated"),
            StatusCode::FORBIDDEN => ("forbidden", "Forbidden"),
            StatusCode::NOT_FOUND => ("not_found", "Not found"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed"),
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "Request timeout"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "Payload too large"),
            StatusCode::URI_TOO_LONG => ("uri_too_long", "URI too long"),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                ("headers_too_large", "Request headers too large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "Unsupported media type")
            }
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "Service unavailable"),
            s if s.is_server_error() => ("internal_error", "Internal server error"),
            _ => ("error", "Request failed"),
        };
        Self::new(status, code, title)
    }

    /// Seconds the client should wait before trying again (429 and 503), if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// Logs a 5xx with its internal cause; every surface that answers with this error calls
    /// it exactly once (REST in `into_response`, GraphQL when it makes the error).
    pub fn log_if_server_error(&self) {
        if self.status.is_server_error() {
            tracing::error!(
                http.status = self.status.as_u16(),
                error.code = self.code,
                error.cause = self.internal.as_deref().unwrap_or("-"),
                "request failed"
            );
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_if_server_error();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(limit) = &self.rate_limit {
            // draft-ietf-httpapi-ratelimit-headers: the policy (quota `q` per window `w`
            // seconds) and where the client stands (`r` remaining, reset in `t` seconds).
            let policy = format!(
                "\"{}\";q={};w={}",
                limit.policy, limit.quota, limit.window_secs
            );
            let state = format!("\"{}\";r=0;t={}", limit.policy, limit.reset_secs);
            for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
        }
        if self.bearer_challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
