//! A sandbox payment provider: no money moves, outcomes are chosen by deterministic test cards,
//! and webhooks are signed with a shared secret exactly like a real provider's.
//!
//! | payment method | outcome |
//! | --- | --- |
//! | `4242424242424242` or `tok_visa` | authorized at once |
//! | `4000000000000002` | declined: `card_declined` |
//! | `4000000000009995` | declined: `insufficient_funds` |
//! | `4000000000003220` | pending; a webhook confirms it later |
//!
//! Webhooks carry `sandbox-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//! and a JSON body `{"id": "...", "provider_ref": "...", "status": "captured"}` (statuses:
//! `authorized`, `pending`, `captured`, `refunded`, `voided`, `declined:<reason>`).

use hearth_sdk::payments::{
    AuthorizeRequest, PaymentResult, PaymentStatus, PaymentsPlugin, PluginError, Webhook,
    WebhookEvent,
};
use hearth_sdk::types::Money;
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::Deserialize;
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "sandbox-signature";

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The secret webhooks are signed with.
    #[schemars(length(min = 16))]
    pub webhook_secret: String,
    /// How old (or far in the future) a webhook's timestamp may be, in seconds.
    #[serde(default = "default_tolerance")]
    pub webhook_tolerance_secs: u64,
}

fn default_tolerance() -> u64 {
    300
}

/// The plugin.
pub struct Sandbox;

fn result(provider_ref: &str, status: PaymentStatus) -> Result<PaymentResult, PluginError> {
    Ok(PaymentResult {
        provider_ref: provider_ref.to_owned(),
        status,
    })
}

fn known_ref(provider_ref: &str) -> Result<(), PluginError> {
    if provider_ref.starts_with("sbx_") {
        Ok(())
    } else {
        Err(PluginError::InvalidInput(format!(
            "unknown payment `{provider_ref}`"
        )))
    }
}

/// Signs a webhook body the way the sandbox does (for tests and for tools that simulate it).
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[derive(Deserialize)]
struct WebhookBody {
    id: String,
    provider_ref: String,
    status: String,
}

fn parse_status(s: &str) -> Option<PaymentStatus> {
    Some(match s {
        "authorized" => PaymentStatus::Authorized,
        "pending" => PaymentStatus::Pending,
        "captured" => PaymentStatus::Captured,
        "refunded" => PaymentStatus::Refunded,
        "voided" => PaymentStatus::Voided,
        other => PaymentStatus::Declined(other.strip_prefix("declined:")?.to_owned()),
    })
}

impl PaymentsPlugin for Sandbox {
    type Config = Config;

    fn authorize(_: &Config, request: AuthorizeRequest) -> Result<PaymentResult, PluginError> {
        if request.amount.minor <= 0 {
            return Err(PluginError::InvalidInput(
                "the amount must be positive".into(),
            ));
        }
        let provider_ref = format!("sbx_{}", request.payment_id);
        let status = match request.payment_method.as_str() {
            "4242424242424242" | "tok_visa" => PaymentStatus::Authorized,
            "4000000000000002" => PaymentStatus::Declined("card_declined".into()),
            "4000000000009995" => PaymentStatus::Declined("insufficient_funds".into()),
            "4000000000003220" => PaymentStatus::Pending,
            other => {
                return Err(PluginError::InvalidInput(format!(
                    "`{other}` is not a sandbox test card"
                )))
            }
        };
        result(&provider_ref, status)
    }

    fn capture(_: &Config, provider_ref: &str, _: Money) -> Result<PaymentResult, PluginError> {
        known_ref(provider_ref)?;
        result(provider_ref, PaymentStatus::Captured)
    }

    fn refund(_: &Config, provider_ref: &str, amount: Money) -> Result<PaymentResult, PluginError> {
        known_ref(provider_ref)?;
        if amount.minor <= 0 {
            return Err(PluginError::InvalidInput(
                "the refund must be positive".into(),
            ));
        }
        result(provider_ref, PaymentStatus::Refunded)
    }

    fn cancel(_: &Config, provider_ref: &str) -> Result<PaymentResult, PluginError> {
        known_ref(provider_ref)?;
        result(provider_ref, PaymentStatus::Voided)
    }

    fn parse_webhook(config: &Config, webhook: Webhook) -> Result<WebhookEvent, PluginError> {
        let reject = |why: &str| Err(PluginError::InvalidInput(why.to_owned()));
        let Some(header) = webhook.header(SIGNATURE_HEADER) else {
            return reject("missing signature header");
        };
        let mut timestamp = None;
        let mut signature = None;
        for part in header.split(',') {
            match part.split_once('=') {
                Some(("t", v)) => timestamp = v.parse::<u64>().ok(),
                Some(("v1", v)) => signature = hex::decode(v).ok(),
                _ => {}
            }
        }
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return reject("malformed signature header");
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(config.webhook_secret.as_bytes())
            .map_err(|e| PluginError::Config(e.to_string()))?;
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&webhook.body);
        if mac.verify_slice(&signature).is_err() {
            return reject("bad signature");
        }
        let now = webhook.received_at_ms / 1000;
        if now.abs_diff(timestamp) > config.webhook_tolerance_secs {
            return reject("stale timestamp");
        }
        let body: WebhookBody = serde_json::from_slice(&webhook.body)
            .map_err(|e| PluginError::InvalidInput(format!("bad body: {e}")))?;
        let Some(status) = parse_status(&body.status) else {
            return reject("unknown status");
        };
        Ok(WebhookEvent {
            event_id: body.id,
            provider_ref: body.provider_ref,
            status,
        })
    }
}

hearth_sdk::export_payments!(Sandbox);

#[cfg(test)]
mod tests {
    use hearth_sdk::payments::{run, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "whsec_test_0123456789";

    fn config() -> serde_json::Value {
        json!({ "webhook_secret": SECRET })
    }

    fn authorize(card: &str) -> Result<PaymentResult, PluginError> {
        run::authorize::<Sandbox>(
            config(),
            AuthorizeRequest {
                payment_id: "p1".into(),
                booking_id: "b1".into(),
                amount: Money::new(10_000, "EUR"),
                payment_method: card.into(),
            },
        )
    }

    #[test]
    fn test_cards_decide_the_outcome() {
        assert_eq!(
            authorize("4242424242424242").expect("ok").status,
            PaymentStatus::Authorized
        );
        assert_eq!(
            authorize("4000000000000002").expect("ok").status,
            PaymentStatus::Declined("card_declined".into())
        );
        assert_eq!(
            authorize("4000000000009995").expect("ok").status,
            PaymentStatus::Declined("insufficient_funds".into())
        );
        assert_eq!(
            authorize("4000000000003220").expect("ok").status,
            PaymentStatus::Pending
        );
        assert!(authorize("1111").is_err());
    }

    fn webhook(body: &str, header: Option<String>, received_secs: u64) -> Webhook {
        Webhook {
            headers: header
                .map(|h| vec![Header::new(SIGNATURE_HEADER, h)])
                .unwrap_or_default(),
            body: body.as_bytes().to_vec(),
            received_at_ms: received_secs * 1000,
        }
    }

    #[test]
    fn a_correctly_signed_fresh_webhook_is_parsed() {
        let body = r#"{"id":"evt_1","provider_ref":"sbx_p1","status":"captured"}"#;
        let event = run::parse_webhook::<Sandbox>(
            config(),
            webhook(body, Some(sign(SECRET, 1_000, body.as_bytes())), 1_010),
        )
        .expect("valid");
        assert_eq!(event.status, PaymentStatus::Captured);
        assert_eq!(event.event_id, "evt_1");
    }

    #[test]
    fn tampered_unsigned_wrongly_signed_or_stale_webhooks_are_rejected() {
        let body = r#"{"id":"evt_1","provider_ref":"sbx_p1","status":"captured"}"#;
        let good = sign(SECRET, 1_000, body.as_bytes());
        let tampered = body.replace("captured", "refunded");
        for hook in [
            webhook(&tampered, Some(good.clone()), 1_000),
            webhook(body, None, 1_000),
            webhook(
                body,
                Some(sign("another_secret_value", 1_000, body.as_bytes())),
                1_000,
            ),
            webhook(body, Some(good), 1_000 + 301),
        ] {
            assert!(run::parse_webhook::<Sandbox>(config(), hook).is_err());
        }
    }
}
