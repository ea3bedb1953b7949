//! `POST /v1/webhooks/payments/{plugin_id}`: provider webhooks. The raw body and headers go to
//! the provider plugin to verify and parse; a rejected webhook changes nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::payments::WebhookOutcome;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::ApiPath;
use crate::http::responses::{PayloadTooLarge, PROBLEM_JSON};
use crate::http::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(payment_webhook))
}

/// The answer to a provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReceipt {
    /// `applied`, `duplicate` (already applied) or `ignored` (nothing open to change).
    pub outcome: WebhookOutcome,
}

/// A payment provider's webhook, verified and parsed by its plugin.
#[utoipa::path(
    post, path = "/v1/webhooks/payments/{plugin_id}", tag = "webhooks",
    params(("plugin_id" = String, Path, description = "The payments plugin's id")),
    request_body(content = String, description = "The provider's raw body, signed", content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted", body = WebhookReceipt),
        (status = 400, description = "Signature, freshness or body rejected; nothing changed", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "No such payments plugin", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, response = PayloadTooLarge),
        (status = 503, description = "Not recorded: the plugin failed (`payment_unavailable`), or the webhook may be about a payment whose answer is not recorded yet (`webhook_early`, with `Retry-After`); the provider should send it again", body = Problem, content_type = PROBLEM_JSON, headers(("Retry-After" = u64, description = "Seconds to wait, with `webhook_early`"))),
    )
)]
pub(crate) async fn payment_webhook(
    State(state): State<AppState>,
    ApiPath(plugin_id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookReceipt>, ApiError> {
    let headers = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_owned(),
            ))
        })
        .collect();
    let outcome = state
        .bookings
        .webhook(&plugin_id, headers, body.to_vec())
        .await?;
    Ok(Json(WebhookReceipt {
        outcome: outcome.into(),
    }))
}
