//! Test guest: a payment provider whose every answer comes from a controller the test runs,
//! so a test can delay answers and put them in the order a race needs. Each operation is a
//! `POST <controller>/<operation>` (`authorize`, `capture`, `refund`, `cancel`) with the
//! payment id (authorize) or the provider reference (the rest) as its body; the controller's
//! answer body is the status to report: `authorized`, `captured`, `pending`, `refunded`,
//! `voided` or `declined:<reason>`. References are `gated_<payment id>`.
//!
//! Webhooks are unsigned JSON `{"id": "...", "reference": "gated_...", "status": "<status>"}`
//! (this guest only ever runs in the tests).

use hearth_sdk::host::{http, Request};
use hearth_sdk::payments::{
    AuthorizeRequest, PaymentResult, PaymentStatus, PaymentsPlugin, PluginError, Webhook,
    WebhookEvent,
};
use hearth_sdk::types::Money;

/// `[plugins.config]`
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {
    /// The controller's base URL, e.g. `http://127.0.0.1:4000`.
    pub controller: String,
}

/// The plugin.
pub struct Gated;

fn status(word: &str) -> Option<PaymentStatus> {
    Some(match word {
        "authorized" => PaymentStatus::Authorized,
        "captured" => PaymentStatus::Captured,
        "pending" => PaymentStatus::Pending,
        "refunded" => PaymentStatus::Refunded,
        "voided" => PaymentStatus::Voided,
        other => PaymentStatus::Declined(other.strip_prefix("declined:")?.to_owned()),
    })
}

fn ask(config: &Config, operation: &str, subject: &str) -> Result<PaymentStatus, PluginError> {
    let request = Request {
        method: "POST".into(),
        url: format!("{}/{operation}", config.controller.trim_end_matches('/')),
        headers: vec![],
        body: subject.as_bytes().to_vec(),
    };
    let answer = http::send(&request).map_err(PluginError::Unavailable)?;
    let word = String::from_utf8_lossy(&answer.body).trim().to_owned();
    status(&word).ok_or_else(|| PluginError::Unavailable(format!("the controller said {word:?}")))
}

fn answer(
    config: &Config,
    operation: &str,
    provider_ref: &str,
) -> Result<PaymentResult, PluginError> {
    Ok(PaymentResult {
        provider_ref: provider_ref.to_owned(),
        status: ask(config, operation, provider_ref)?,
    })
}

#[derive(serde::Deserialize)]
struct Body {
    id: String,
    reference: String,
    status: String,
}

impl PaymentsPlugin for Gated {
    type Config = Config;

    fn authorize(config: &Config, request: AuthorizeRequest) -> Result<PaymentResult, PluginError> {
        Ok(PaymentResult {
            provider_ref: format!("gated_{}", request.payment_id),
            status: ask(config, "authorize", &request.payment_id)?,
        })
    }

    fn capture(
        config: &Config,
        provider_ref: &str,
        _: Money,
    ) -> Result<PaymentResult, PluginError> {
        answer(config, "capture", provider_ref)
    }

    fn refund(config: &Config, provider_ref: &str, _: Money) -> Result<PaymentResult, PluginError> {
        answer(config, "refund", provider_ref)
    }

    fn cancel(config: &Config, provider_ref: &str) -> Result<PaymentResult, PluginError> {
        answer(config, "cancel", provider_ref)
    }

    fn parse_webhook(_: &Config, webhook: Webhook) -> Result<WebhookEvent, PluginError> {
        let body: Body = serde_json::from_slice(&webhook.body)
            .map_err(|e| PluginError::InvalidInput(format!("not a webhook body: {e}")))?;
        Ok(WebhookEvent {
            event_id: body.id,
            provider_ref: body.reference,
            status: status(&body.status)
                .ok_or_else(|| PluginError::InvalidInput(format!("status {:?}", body.status)))?,
        })
    }
}

hearth_sdk::export_payments!(Gated);
