//! Test guest: a payment provider that traps whenever it is asked to authorize (and to parse a
//! webhook), and answers everything else. The kernel must leave no booking confirmed without a
//! payment and no payment without a booking.

use hearth_sdk::payments::{
    AuthorizeRequest, PaymentResult, PaymentStatus, PaymentsPlugin, PluginError, Webhook,
    WebhookEvent,
};
use hearth_sdk::types::Money;

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct Trap;

fn ok(provider_ref: &str, status: PaymentStatus) -> Result<PaymentResult, PluginError> {
    Ok(PaymentResult {
        provider_ref: provider_ref.to_owned(),
        status,
    })
}

impl PaymentsPlugin for Trap {
    type Config = Config;

    fn authorize(_: &Config, request: AuthorizeRequest) -> Result<PaymentResult, PluginError> {
        panic!("the provider crashed authorizing {}", request.payment_id);
    }

    fn capture(_: &Config, provider_ref: &str, _: Money) -> Result<PaymentResult, PluginError> {
        ok(provider_ref, PaymentStatus::Captured)
    }

    fn refund(_: &Config, provider_ref: &str, _: Money) -> Result<PaymentResult, PluginError> {
        ok(provider_ref, PaymentStatus::Refunded)
    }

    fn cancel(_: &Config, provider_ref: &str) -> Result<PaymentResult, PluginError> {
        ok(provider_ref, PaymentStatus::Voided)
    }

    fn parse_webhook(_: &Config, _: Webhook) -> Result<WebhookEvent, PluginError> {
        panic!("the provider crashed parsing a webhook");
    }
}

hearth_sdk::export_payments!(Trap);
