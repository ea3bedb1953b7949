//! The payments adapter.

use serde::{Deserialize, Serialize};

use super::{invoke, wrong_kind, Money};
use crate::plugins::bindings::payments::exports::hearth::plugins::payments_plugin as wit;
use crate::plugins::{KindPre, Plugin, PluginCallError, PluginFailure};

/// A payment's state at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Funds held.
    Authorized,
    /// Awaiting the provider's decision (a webhook follows).
    Pending,
    /// Funds taken.
    Captured,
    /// Funds returned.
    Refunded,
    /// Authorization released.
    Voided,
    /// Declined, with the provider's reason.
    Declined(String),
}

impl From<wit::PaymentStatus> for PaymentStatus {
    fn from(s: wit::PaymentStatus) -> Self {
        match s {
            wit::PaymentStatus::Authorized => Self::Authorized,
            wit::PaymentStatus::Pending => Self::Pending,
            wit::PaymentStatus::Captured => Self::Captured,
            wit::PaymentStatus::Refunded => Self::Refunded,
            wit::PaymentStatus::Voided => Self::Voided,
            wit::PaymentStatus::Declined(r) => Self::Declined(r),
        }
    }
}

/// What the provider answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentResult {
    /// The provider's reference.
    pub provider_ref: String,
    /// The state after the call.
    #[serde(flatten)]
    pub status: PaymentStatus,
}

impl From<wit::PaymentResult> for PaymentResult {
    fn from(r: wit::PaymentResult) -> Self {
        Self {
            provider_ref: r.provider_ref,
            status: r.status.into(),
        }
    }
}

/// A request to hold funds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The kernel's payment id (the provider's idempotency key).
    pub payment_id: String,
    /// The booking.
    pub booking_id: String,
    /// The amount.
    pub amount: Money,
    /// The client's payment method token.
    pub payment_method: String,
}

/// An incoming webhook as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Receipt time, ms since the epoch.
    pub received_at_ms: u64,
}

/// What a verified webhook says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The delivery's id.
    pub event_id: String,
    /// The payment.
    pub provider_ref: String,
    /// The new state.
    #[serde(flatten)]
    pub status: PaymentStatus,
}

/// One payment operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentCall {
    /// Hold funds.
    Authorize {
        /// The request.
        request: AuthorizeRequest,
    },
    /// Take funds.
    Capture {
        /// The provider's reference.
        provider_ref: String,
        /// How much.
        amount: Money,
    },
    /// Return funds.
    Refund {
        /// The provider's reference.
        provider_ref: String,
        /// How much.
        amount: Money,
    },
    /// Release an authorization.
    Cancel {
        /// The provider's reference.
        provider_ref: String,
    },
}

/// Makes one payment call.
pub async fn call(
    plugin: &Plugin,
    request: &PaymentCall,
) -> Result<PaymentResult, PluginCallError> {
    let KindPre::Payments(pre) = &plugin.pre else {
        return Err(wrong_kind(plugin, "payments"));
    };
    let (pre, config, request) = (pre.clone(), plugin.config_json.clone(), request.clone());
    let size = |r: &PaymentResult| r.provider_ref.len() + 64;
    invoke(plugin, size, true, move |store| {
        Box::pin(async move {
            let instance = pre.instantiate_async(&mut *store).await?;
            let provider = instance.hearth_plugins_payments_plugin();
            let config = &*config;
            let out = match &request {
                PaymentCall::Authorize { request } => {
                    let wit_request = wit::AuthorizeRequest {
                        payment_id: request.payment_id.clone(),
                        booking_id: request.booking_id.clone(),
                        amount: (&request.amount).into(),
                        payment_method: request.payment_method.clone(),
                    };
                    provider
                        .call_authorize(&mut *store, config, &wit_request)
                        .await?
                }
                PaymentCall::Capture {
                    provider_ref,
                    amount,
                } => {
                    provider
                        .call_capture(&mut *store, config, provider_ref, &amount.into())
                        .await?
                }
                PaymentCall::Refund {
                    provider_ref,
                    amount,
                } => {
                    provider
                        .call_refund(&mut *store, config, provider_ref, &amount.into())
                        .await?
                }
                PaymentCall::Cancel { provider_ref } => {
                    provider
                        .call_cancel(&mut *store, config, provider_ref)
                        .await?
                }
            };
            Ok(out.map(PaymentResult::from).map_err(PluginFailure::from))
        })
    })
    .await
    .0
}

/// Verifies and parses a webhook; an error means reject it.
pub async fn parse_webhook(
    plugin: &Plugin,
    webhook: &Webhook,
) -> Result<WebhookEvent, PluginCallError> {
    let KindPre::Payments(pre) = &plugin.pre else {
        return Err(wrong_kind(plugin, "payments"));
    };
    let wit_webhook = wit::Webhook {
        headers: webhook
            .headers
            .iter()
            .map(|(name, value)| wit::Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        body: webhook.body.clone(),
        received_at_ms: webhook.received_at_ms,
    };
    let (pre, config) = (pre.clone(), plugin.config_json.clone());
    let size = |e: &WebhookEvent| e.event_id.len() + e.provider_ref.len() + 64;
    invoke(plugin, size, true, move |store| {
        Box::pin(async move {
            let instance = pre.instantiate_async(&mut *store).await?;
            let out = instance
                .hearth_plugins_payments_plugin()
                .call_parse_webhook(&mut *store, &config, &wit_webhook)
                .await?;
            Ok(out
                .map(|e| WebhookEvent {
                    event_id: e.event_id,
                    provider_ref: e.provider_ref,
                    status: e.status.into(),
                })
                .map_err(PluginFailure::from))
        })
    })
    .await
    .0
}
