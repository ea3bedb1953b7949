//! Operational routes: liveness, readiness, metrics, the OpenAPI document and its docs UI.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, Problem};
use crate::http::responses::{NotFound, ServiceUnavailable, Unauthorized, PROBLEM_JSON};
use crate::http::AppState;

/// The generated OpenAPI document, rendered once at startup.
#[derive(Debug, Clone)]
pub(crate) struct ApiSpec {
    pub(crate) json: Arc<String>,
    pub(crate) docs_html: Arc<String>,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
        .routes(routes!(docs_script))
}

/// The docs page's viewer: Scalar's standalone script, vendored (see `kernel/assets/scalar`) and
/// served by Hearth, so the page works with no internet.
const SCALAR_JS: &[u8] = include_bytes!("../../../assets/scalar/standalone.js");
/// The docs page, with `$spec` and `$integrity` to fill in.
const DOCS_TEMPLATE: &str = include_str!("../../../assets/docs.html");

/// The docs page for `openapi`: the document inline, the viewer loaded from `/docs/scalar.js`
/// with subresource integrity.
pub(crate) fn docs_page(openapi: &utoipa::openapi::OpenApi) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    // Inside a <script> element, `</` could end it early.
    let spec = openapi.to_json().unwrap_or_default().replace("</", "<\\/");
    let integrity = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(SCALAR_JS))
    );
    DOCS_TEMPLATE
        .replace("$integrity", &integrity)
        .replace("$spec", &spec)
}

/// Health or readiness status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses(
        (status = 200, description = "Alive", body = Status),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the database answers, and Redis too when it is the cache.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses(
        (status = 200, description = "Ready to serve", body = Status),
        (status = 503, description = "A dependency is down", body = Problem, content_type = PROBLEM_JSON),
    ))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let mut down = Vec::new();
    if state.db.ping().await.is_err() {
        down.push("database");
    }
    if state.cache.is_shared() && state.cache.ping().await.is_err() {
        down.push("redis");
    }
    if down.is_empty() {
        Ok(Json(Status { status: "ready" }))
    } else {
        Err(
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "Not ready")
                .detail(format!("Unreachable: {}", down.join(", "))),
        )
    }
}

/// The media type `/metrics` answers with: OpenMetrics 1.0 text, which Prometheus scrapes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus metrics in the OpenMetrics text exposition format. With `telemetry.metrics_token`
/// set, only for that bearer token; without it, only on a server bound to loopback (404
/// elsewhere).
#[utoipa::path(get, path = "/metrics", tag = "meta",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Metrics", content_type = OPENMETRICS, body = String),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    match &state.config.telemetry.metrics_token {
        Some(token) => {
            use secrecy::ExposeSecret as _;
            use sha2::{Digest as _, Sha256};
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            // Compared as digests, so the time taken says nothing about the token.
            if Sha256::digest(given) != Sha256::digest(token.expose_secret()) {
                return Err(ApiError::unauthenticated(
                    "unauthenticated",
                    "/metrics needs the metrics token as a bearer token.",
                ));
            }
        }
        None if !state.config.server.bind.ip().is_loopback() => {
            return Err(
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found")
                    .detail("No route for GET /metrics."),
            );
        }
        None => {}
    }
    Ok((
        [(header::CONTENT_TYPE, OPENMETRICS)],
        state.metrics.render(),
    ))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn openapi_json(Extension(spec): Extension<ApiSpec>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        spec.json.as_str().to_owned(),
    )
}

/// The script of the documentation page (Scalar's viewer), served by Hearth itself.
#[utoipa::path(get, path = "/docs/scalar.js", tag = "meta",
    responses(
        (status = 200, description = "JavaScript", content_type = "text/javascript", body = String),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn docs_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        SCALAR_JS,
    )
}

/// Interactive API documentation (Scalar), with the OpenAPI document inline.
#[utoipa::path(get, path = "/docs", tag = "meta",
    responses(
        (status = 200, description = "HTML documentation", content_type = "text/html", body = String),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn docs(Extension(spec): Extension<ApiSpec>) -> Html<String> {
    Html(spec.docs_html.as_str().to_owned())
}
