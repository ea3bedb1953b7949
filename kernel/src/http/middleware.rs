//! The middleware stack, in one place, outermost first: hide sensitive headers → request id →
//! trace → security headers → compression → CORS → problem bodies for bare errors → request-head bounds (URI and
//! header sizes) → rate limits → catch panic → body limit → timeout → run to completion. Rate
//! limits sit outside the timeout and body limit, so a refused request costs no body read, and
//! inside CORS, so a browser can read its 429. Compression sits outside the problem rewrite so a
//! rewritten body is never mislabelled as compressed.
//!
//! The handler runs in a task of its own ([`run_to_completion`]): a client that hangs up, or the
//! request timeout, stops the waiting, never the work. Dropping a handler halfway would cancel
//! whatever it was awaiting, and with sqlx 0.8.6 a `begin` cancelled between sending `BEGIN` and
//! reading its answer returns the connection to the pool inside a transaction nobody owns
//! (launchbadge/sqlx#4393, fixed upstream after 0.9.0): the next borrower's statements then run
//! in it. A write that began finishes, and its events and jobs with it.

use std::any::Any;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, REFERRER_POLICY, SET_COOKIE,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::error::{ApiError, PROBLEM_JSON};
use super::limits::LimitState;
use crate::config::ServerConfig;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(super) fn stack(router: Router, config: &ServerConfig, limits: LimitState) -> Router {
    let router = router.layer(middleware::from_fn(run_to_completion));
    // Innermost group: what can fail a request without reaching a handler.
    let router = router.layer(
        ServiceBuilder::new()
            .layer(CatchPanicLayer::custom(panic_problem))
            .layer(RequestBodyLimitLayer::new(config.body_limit_bytes.get()))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                config.request_timeout(),
            ))
            .layer(DefaultBodyLimit::max(config.body_limit_bytes.get())),
    );
    let router = router.layer(middleware::from_fn_with_state(limits, super::limits::limit));
    let head = HeadBounds {
        uri_bytes: config.max_uri_bytes.get(),
        header_bytes: config.max_header_bytes.get(),
    };
    let router = router.layer(middleware::from_fn_with_state(head, bound_head));
    let router = router.layer(middleware::from_fn(problem_for_bare_errors));
    // Outermost group, outermost first.
    router.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveHeadersLayer::new([
                AUTHORIZATION,
                COOKIE,
                SET_COOKIE,
            ]))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &Request| {
                        let request_id = req
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        // The path only: query strings may carry things that do not belong in logs.
                        tracing::info_span!(
                            "request",
                            request.id = %request_id,
                            http.method = %req.method(),
                            http.path = %req.uri().path(),
                        )
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(SetResponseHeaderLayer::overriding(
                X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ))
            // Answers carry tokens and personal data: no shared or browser cache keeps them,
            // unless a handler says otherwise.
            .layer(SetResponseHeaderLayer::if_not_present(
                CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            ))
            .option_layer(hsts(config))
            .layer(CompressionLayer::new())
            .option_layer(cors(config)),
    )
}

/// `Strict-Transport-Security` when `server.hsts_max_age_secs` is set.
fn hsts(config: &ServerConfig) -> Option<SetResponseHeaderLayer<HeaderValue>> {
    let max_age = config.hsts_max_age_secs?;
    let value = HeaderValue::from_str(&format!("max-age={max_age}; includeSubDomains")).ok()?;
    Some(SetResponseHeaderLayer::overriding(
        STRICT_TRANSPORT_SECURITY,
        value,
    ))
}

fn cors(config: &ServerConfig) -> Option<CorsLayer> {
    if config.cors_allowed_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = config
        .cors_allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([REQUEST_ID]),
    )
}

/// Errors made outside our handlers (unknown route, wrong method, body too large, timeout) come
/// without a problem body; give them one, keeping their status and headers (e.g. `Allow`).
async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = ApiError::for_status(status).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    for (name, value) in &problem_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, Body::new(body))
}

/// `server.max_uri_bytes` and `server.max_header_bytes`.
#[derive(Debug, Clone, Copy)]
struct HeadBounds {
    uri_bytes: usize,
    header_bytes: usize,
}

/// Refuses a request whose target or headers are larger than configured (414, 431), before the
/// rate limits, extractors or handlers look at them. hyper's own bounds (its read buffer and
/// header count) still cap what a connection may send at all; these keep what reaches the
/// application small.
async fn bound_head(
    axum::extract::State(bounds): axum::extract::State<HeadBounds>,
    req: Request,
    next: Next,
) -> Response {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > bounds.uri_bytes {
        return ApiError::for_status(StatusCode::URI_TOO_LONG)
            .detail(format!(
                "the path and query string are {target} bytes; at most {} are accepted",
                bounds.uri_bytes
            ))
            .into_response();
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers > bounds.header_bytes {
        return ApiError::for_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .detail(format!(
                "the request headers are {headers} bytes; at most {} are accepted",
                bounds.header_bytes
            ))
            .into_response();
    }
    next.run(req).await
}

/// Runs the rest of the request in its own task and waits for it. If this future is dropped (the
/// client went away, the timeout fired), the task carries on to the end. A panic in the handler
/// is raised again here, for the panic layer outside.
async fn run_to_completion(req: Request, next: Next) -> Response {
    // The handler's task stays in the request's span, so what it logs carries the request id.
    let handler = tracing::Instrument::in_current_span(next.run(req));
    match tokio::spawn(handler).await {
        Ok(response) => response,
        Err(joined) => match joined.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels a task nobody aborted.
            Err(cancelled) => ApiError::internal(cancelled).into_response(),
        },
    }
}

fn panic_problem(_: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}
