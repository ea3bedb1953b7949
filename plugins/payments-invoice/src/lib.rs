//! A bank-transfer / invoice payment provider. Unlike a card, nothing is paid when a booking is
//! authorized: the provider issues an invoice and the payment stays `pending` until the
//! provider's webhook says the transfer arrived (or the invoice expired).
//!
//! | call | outcome |
//! | --- | --- |
//! | `authorize` (`payment_method` = `bank_transfer` or `invoice`) | `pending`, ref `inv_<payment_id>` |
//! | `capture` | `captured` (the kernel captures only after the `paid` webhook) |
//! | `refund` | `refunded` |
//! | `cancel` | `voided` (the invoice is withdrawn) |
//!
//! Webhooks carry `invoice-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//! and a JSON body `{"id": "...", "reference": "inv_...", "status": "paid"}`; statuses: `paid`
//! (captured), `expired` (declined: `invoice_expired`), `refunded`.

use hearth_sdk::payments::{
    AuthorizeRequest, PaymentResult, PaymentStatus, PaymentsPlugin, PluginError, Webhook,
    WebhookEvent,
};
use hearth_sdk::types::Money;
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::Deserialize;
use sha2::Sha256;

/// The signature header (header names reach the plugin lower-cased).
pub const SIGNATURE_HEADER: &str = "invoice-signature";

/// The prefix of every provider reference this plugin hands out.
pub const REF_PREFIX: &str = "inv_";

/// The JSON Schema pattern of [`Config::reference_prefix`]: 1-8 upper-case ASCII letters.
pub const REFERENCE_PREFIX_PATTERN: &str = r"^[A-Z]{1,8}$";

/// The payment methods this provider accepts.
pub const PAYMENT_METHODS: [&str; 2] = ["bank_transfer", "invoice"];

/// The shortest webhook secret accepted, in characters.
pub const MIN_SECRET_LEN: usize = 16;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The secret webhooks are signed with (at least 16 characters).
    #[schemars(length(min = 16))]
    pub webhook_secret: String,
    /// How old (or far in the future) a webhook's timestamp may be, in seconds.
    #[serde(default = "default_tolerance")]
    pub webhook_tolerance_secs: u64,
    /// The prefix of the transfer reference printed on invoices, 1-8 upper-case letters.
    #[serde(default = "default_reference_prefix")]
    #[schemars(pattern(REFERENCE_PREFIX_PATTERN))]
    pub reference_prefix: String,
}

fn default_tolerance() -> u64 {
    300
}

fn default_reference_prefix() -> String {
    "INV".to_owned()
}

impl Config {
    /// Applies the rules the schema states (the kernel validates against the schema at load;
    /// this keeps direct callers, e.g. native tests, to the same rules).
    pub fn check(&self) -> Result<(), PluginError> {
        if self.webhook_secret.chars().count() < MIN_SECRET_LEN {
            return Err(PluginError::Config(format!(
                "webhook_secret must be at least {MIN_SECRET_LEN} characters"
            )));
        }
        let prefix = &self.reference_prefix;
        if !(1..=8).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(PluginError::Config(format!(
                "reference_prefix must be 1-8 upper-case letters, got {prefix:?}"
            )));
        }
        Ok(())
    }
}

/// The transfer reference printed on the invoice for the payer to quote, e.g. `INV-<payment id>`.
pub fn transfer_reference(config: &Config, payment_id: &str) -> String {
    format!("{}-{payment_id}", config.reference_prefix)
}

/// The plugin.
pub struct Invoice;

fn result(provider_ref: &str, status: PaymentStatus) -> Result<PaymentResult, PluginError> {
    Ok(PaymentResult {
        provider_ref: provider_ref.to_owned(),
        status,
    })
}

fn is_known_ref(provider_ref: &str) -> bool {
    provider_ref
        .strip_prefix(REF_PREFIX)
        .is_some_and(|id| !id.is_empty())
}

fn known_ref(provider_ref: &str) -> Result<(), PluginError> {
    if is_known_ref(provider_ref) {
        Ok(())
    } else {
        Err(PluginError::InvalidInput(format!(
            "unknown payment `{provider_ref}`: invoice references start with `{REF_PREFIX}`"
        )))
    }
}

/// The MAC of a webhook: HMAC-SHA256 over `"<timestamp>.<body>"`.
fn mac(secret: &str, timestamp: u64, body: &[u8]) -> Option<Hmac<Sha256>> {
    // HMAC accepts keys of any length, so this never fails; no panic path regardless.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    Some(mac)
}

/// Signs a webhook body the way the provider does, giving the [`SIGNATURE_HEADER`] value (for
/// tests and for tools that simulate the provider).
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let signature = mac(secret, timestamp, body)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={timestamp},v1={signature}")
}

#[derive(Deserialize)]
struct WebhookBody {
    id: String,
    reference: String,
    status: String,
}

fn parse_status(s: &str) -> Option<PaymentStatus> {
    Some(match s {
        "paid" => PaymentStatus::Captured,
        "expired" => PaymentStatus::Declined("invoice_expired".into()),
        "refunded" => PaymentStatus::Refunded,
        _ => return None,
    })
}

fn reject<T>(why: String) -> Result<T, PluginError> {
    Err(PluginError::InvalidInput(why))
}

impl PaymentsPlugin for Invoice {
    type Config = Config;

    fn authorize(config: &Config, request: AuthorizeRequest) -> Result<PaymentResult, PluginError> {
        config.check()?;
        if request.amount.minor <= 0 {
            return reject("the amount must be positive".into());
        }
        if !PAYMENT_METHODS.contains(&request.payment_method.as_str()) {
            return reject(format!(
                "payment method `{}` is not supported: use `bank_transfer` or `invoice`",
                request.payment_method
            ));
        }
        if request.payment_id.is_empty() {
            return reject("the payment id is empty".into());
        }
        // An invoice is issued; nothing is paid until the transfer arrives.
        result(
            &format!("{REF_PREFIX}{}", request.payment_id),
            PaymentStatus::Pending,
        )
    }

    fn capture(
        config: &Config,
        provider_ref: &str,
        _: Money,
    ) -> Result<PaymentResult, PluginError> {
        config.check()?;
        known_ref(provider_ref)?;
        // The money arrived with the transfer: the kernel captures only after the paid webhook.
        result(provider_ref, PaymentStatus::Captured)
    }

    fn refund(
        config: &Config,
        provider_ref: &str,
        amount: Money,
    ) -> Result<PaymentResult, PluginError> {
        config.check()?;
        known_ref(provider_ref)?;
        if amount.minor <= 0 {
            return reject("the refund must be positive".into());
        }
        result(provider_ref, PaymentStatus::Refunded)
    }

    fn cancel(config: &Config, provider_ref: &str) -> Result<PaymentResult, PluginError> {
        config.check()?;
        known_ref(provider_ref)?;
        // The invoice is withdrawn.
        result(provider_ref, PaymentStatus::Voided)
    }

    fn parse_webhook(config: &Config, webhook: Webhook) -> Result<WebhookEvent, PluginError> {
        config.check()?;
        let Some(header) = webhook.header(SIGNATURE_HEADER) else {
            return reject(format!("missing `{SIGNATURE_HEADER}` header"));
        };
        let mut timestamp = None;
        let mut signature = None;
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => timestamp = v.parse::<u64>().ok(),
                Some(("v1", v)) => signature = hex::decode(v).ok(),
                _ => {}
            }
        }
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return reject(format!(
                "malformed `{SIGNATURE_HEADER}` header: expected t=<unix seconds>,v1=<hex>"
            ));
        };
        let Some(mac) = mac(&config.webhook_secret, timestamp, &webhook.body) else {
            return Err(PluginError::Config("unusable webhook_secret".into()));
        };
        if mac.verify_slice(&signature).is_err() {
            return reject("bad signature: it does not match the body and webhook_secret".into());
        }
        let now = webhook.received_at_ms / 1000;
        let tolerance = config.webhook_tolerance_secs;
        if now > timestamp && now - timestamp > tolerance {
            return reject(format!(
                "stale timestamp: signed {}s before receipt, more than the {tolerance}s tolerance",
                now - timestamp
            ));
        }
        if timestamp > now && timestamp - now > tolerance {
            return reject(format!(
                "timestamp in the future: signed {}s after receipt, more than the {tolerance}s tolerance",
                timestamp - now
            ));
        }
        let body: WebhookBody = serde_json::from_slice(&webhook.body)
            .map_err(|e| PluginError::InvalidInput(format!("bad body: {e}")))?;
        if body.id.trim().is_empty() {
            return reject("bad body: `id` is empty".into());
        }
        known_ref(&body.reference)?;
        let Some(status) = parse_status(&body.status) else {
            return reject(format!(
                "unknown status `{}`: expected `paid`, `expired` or `refunded`",
                body.status
            ));
        };
        Ok(WebhookEvent {
            event_id: body.id,
            provider_ref: body.reference,
            status,
        })
    }
}

hearth_sdk::export_payments!(Invoice);

#[cfg(test)]
mod tests {
    use hearth_sdk::payments::{run, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "whsec_test_0123456789";

    fn config() -> serde_json::Value {
        json!({ "webhook_secret": SECRET })
    }

    fn invalid_input(err: PluginError) -> String {
        match err {
            PluginError::InvalidInput(m) => m,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    fn config_error(err: PluginError) -> String {
        match err {
            PluginError::Config(m) => m,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    fn request(method: &str, minor: i64) -> AuthorizeRequest {
        AuthorizeRequest {
            payment_id: "p1".into(),
            booking_id: "b1".into(),
            amount: Money::new(minor, "EUR"),
            payment_method: method.into(),
        }
    }

    fn authorize(method: &str, minor: i64) -> Result<PaymentResult, PluginError> {
        run::authorize::<Invoice>(config(), request(method, minor))
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, "EUR")
    }

    // --- authorize ---

    #[test]
    fn a_bank_transfer_or_invoice_is_issued_and_stays_pending() {
        for method in ["bank_transfer", "invoice"] {
            let out = authorize(method, 10_000).expect("issued");
            assert_eq!(out.provider_ref, "inv_p1", "{method}");
            assert_eq!(out.status, PaymentStatus::Pending, "{method}");
        }
    }

    #[test]
    fn other_payment_methods_are_refused_by_name() {
        for method in ["4242424242424242", "tok_visa", "card", "", "Bank_Transfer"] {
            let message = invalid_input(authorize(method, 10_000).expect_err("refused"));
            assert!(message.contains(&format!("`{method}`")), "{message}");
        }
    }

    #[test]
    fn the_amount_must_be_positive() {
        for minor in [0, -1, -10_000] {
            let message = invalid_input(authorize("invoice", minor).expect_err("refused"));
            assert!(message.contains("positive"), "{message}");
        }
    }

    // --- capture, refund, cancel ---

    #[test]
    fn an_invoice_is_captured_once_paid() {
        let out = run::capture::<Invoice>(config(), "inv_p1", eur(10_000)).expect("captured");
        assert_eq!(out.provider_ref, "inv_p1");
        assert_eq!(out.status, PaymentStatus::Captured);
    }

    #[test]
    fn a_refund_of_a_positive_amount_is_issued() {
        let out = run::refund::<Invoice>(config(), "inv_p1", eur(2_500)).expect("refunded");
        assert_eq!(out.provider_ref, "inv_p1");
        assert_eq!(out.status, PaymentStatus::Refunded);
        for minor in [0, -1] {
            let message = invalid_input(
                run::refund::<Invoice>(config(), "inv_p1", eur(minor)).expect_err("refused"),
            );
            assert!(message.contains("positive"), "{message}");
        }
    }

    #[test]
    fn cancelling_withdraws_the_invoice() {
        let out = run::cancel::<Invoice>(config(), "inv_p1").expect("voided");
        assert_eq!(out.provider_ref, "inv_p1");
        assert_eq!(out.status, PaymentStatus::Voided);
    }

    #[test]
    fn references_of_other_providers_are_unknown() {
        for reference in ["sbx_p1", "p1", "inv_", "INV_p1", ""] {
            let errors = [
                run::capture::<Invoice>(config(), reference, eur(100)).expect_err("capture"),
                run::refund::<Invoice>(config(), reference, eur(100)).expect_err("refund"),
                run::cancel::<Invoice>(config(), reference).expect_err("cancel"),
            ];
            for err in errors {
                let message = invalid_input(err);
                assert!(
                    message.contains("unknown payment"),
                    "{reference}: {message}"
                );
            }
        }
    }

    // --- webhooks ---

    fn webhook(body: &str, header: Option<String>, received_secs: u64) -> Webhook {
        Webhook {
            headers: header
                .map(|h| vec![Header::new(SIGNATURE_HEADER, h)])
                .unwrap_or_default(),
            body: body.as_bytes().to_vec(),
            received_at_ms: received_secs * 1000,
        }
    }

    fn body(status: &str) -> String {
        json!({ "id": "evt_1", "reference": "inv_p1", "status": status }).to_string()
    }

    /// A webhook signed with [`SECRET`] at second 1 000 000 and received `delay` seconds later.
    fn signed(body: &str, delay: i64) -> Webhook {
        let t = 1_000_000;
        webhook(
            body,
            Some(sign(SECRET, t, body.as_bytes())),
            t.saturating_add_signed(delay),
        )
    }

    fn parse(hook: Webhook) -> Result<WebhookEvent, PluginError> {
        run::parse_webhook::<Invoice>(config(), hook)
    }

    #[test]
    fn webhook_statuses_map_to_payment_statuses() {
        for (status, expected) in [
            ("paid", PaymentStatus::Captured),
            ("expired", PaymentStatus::Declined("invoice_expired".into())),
            ("refunded", PaymentStatus::Refunded),
        ] {
            let event = parse(signed(&body(status), 10)).expect(status);
            assert_eq!(event.event_id, "evt_1");
            assert_eq!(event.provider_ref, "inv_p1");
            assert_eq!(event.status, expected, "{status}");
        }
    }

    #[test]
    fn an_unknown_webhook_status_is_refused() {
        for status in ["captured", "pending", "PAID", ""] {
            let message = invalid_input(parse(signed(&body(status), 0)).expect_err(status));
            assert!(message.contains("unknown status"), "{message}");
        }
    }

    #[test]
    fn a_webhook_about_another_providers_payment_is_refused() {
        let body = json!({ "id": "evt_1", "reference": "sbx_p1", "status": "paid" }).to_string();
        let message = invalid_input(parse(signed(&body, 0)).expect_err("refused"));
        assert!(message.contains("unknown payment"), "{message}");
    }

    #[test]
    fn a_signed_body_that_is_not_the_expected_json_is_refused() {
        for body in [
            "not json",
            r#"{"id":"evt_1","status":"paid"}"#,
            r#"{"id":"","reference":"inv_p1","status":"paid"}"#,
        ] {
            let message = invalid_input(parse(signed(body, 0)).expect_err(body));
            assert!(message.contains("bad body"), "{body}: {message}");
        }
    }

    #[test]
    fn a_valid_webhook_is_accepted_anywhere_within_the_tolerance() {
        for delay in [0, 1, 299, 300, -1, -300] {
            let event = parse(signed(&body("paid"), delay)).expect("accepted");
            assert_eq!(event.status, PaymentStatus::Captured, "delay {delay}");
        }
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let good = body("expired");
        let header = sign(SECRET, 1_000, good.as_bytes());
        let tampered = good.replace("expired", "paid");
        let message =
            invalid_input(parse(webhook(&tampered, Some(header), 1_000)).expect_err("tampered"));
        assert!(message.contains("bad signature"), "{message}");
    }

    #[test]
    fn a_webhook_signed_with_another_secret_is_refused() {
        let body = body("paid");
        let header = sign("another_secret_value", 1_000, body.as_bytes());
        let message =
            invalid_input(parse(webhook(&body, Some(header), 1_000)).expect_err("wrong secret"));
        assert!(message.contains("bad signature"), "{message}");
    }

    #[test]
    fn a_webhook_without_the_signature_header_is_refused() {
        let body = body("paid");
        let message = invalid_input(parse(webhook(&body, None, 1_000)).expect_err("unsigned"));
        assert!(message.contains("missing `invoice-signature`"), "{message}");
        // The sandbox's header is not this provider's.
        let mut hook = signed(&body, 0);
        hook.headers[0].name = "sandbox-signature".into();
        assert!(invalid_input(parse(hook).expect_err("other header")).contains("missing"));
    }

    #[test]
    fn a_malformed_signature_header_is_refused() {
        let body = body("paid");
        let v1 = sign(SECRET, 1_000, body.as_bytes());
        let v1 = v1.split_once(",v1=").map(|(_, v)| v).unwrap_or_default();
        for header in [
            String::new(),
            "garbage".to_owned(),
            "t=1000".to_owned(),
            format!("v1={v1}"),
            format!("t=soon,v1={v1}"),
            "t=1000,v1=not-hex".to_owned(),
        ] {
            let message = invalid_input(
                parse(webhook(&body, Some(header.clone()), 1_000)).expect_err("malformed"),
            );
            assert!(message.contains("malformed"), "{header}: {message}");
        }
    }

    #[test]
    fn a_stale_webhook_is_refused() {
        let message = invalid_input(parse(signed(&body("paid"), 301)).expect_err("stale"));
        assert!(message.contains("stale"), "{message}");
        assert!(message.contains("301s"), "{message}");
    }

    #[test]
    fn a_webhook_from_the_future_is_refused() {
        let message = invalid_input(parse(signed(&body("paid"), -301)).expect_err("future"));
        assert!(message.contains("future"), "{message}");
        assert!(message.contains("301s"), "{message}");
    }

    #[test]
    fn the_tolerance_is_configurable() {
        let config = json!({ "webhook_secret": SECRET, "webhook_tolerance_secs": 10 });
        let ok = run::parse_webhook::<Invoice>(config.clone(), signed(&body("paid"), 10));
        assert_eq!(ok.expect("within").status, PaymentStatus::Captured);
        for delay in [11, -11] {
            assert!(
                run::parse_webhook::<Invoice>(config.clone(), signed(&body("paid"), delay))
                    .is_err()
            );
        }
    }

    #[test]
    fn sign_gives_the_header_value() {
        let header = sign(SECRET, 1_700_000_000, b"{}");
        let (t, v1) = header.split_once(',').expect("two parts");
        assert_eq!(t, "t=1700000000");
        let hex = v1.strip_prefix("v1=").expect("v1");
        assert_eq!(hex.len(), 64);
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(header, sign("another_secret_value", 1_700_000_000, b"{}"));
        assert_ne!(header, sign(SECRET, 1_700_000_001, b"{}"));
    }

    // --- configuration ---

    #[test]
    fn the_configuration_has_defaults_and_rules() {
        let config: Config = serde_json::from_value(config()).expect("parsed");
        assert_eq!(config.webhook_tolerance_secs, 300);
        assert_eq!(config.reference_prefix, "INV");
        assert_eq!(transfer_reference(&config, "p1"), "INV-p1");
        config.check().expect("valid");

        for bad in [
            json!({}),
            json!({ "webhook_secret": "too_short" }),
            json!({ "webhook_secret": SECRET, "reference_prefix": "" }),
            json!({ "webhook_secret": SECRET, "reference_prefix": "inv" }),
            json!({ "webhook_secret": SECRET, "reference_prefix": "TOOLONGXX" }),
            json!({ "webhook_secret": SECRET, "reference_prefix": "IN1" }),
            json!({ "webhook_secret": SECRET, "api_key": "x" }),
        ] {
            let err = run::cancel::<Invoice>(bad.clone(), "inv_p1").expect_err("refused");
            config_error(err);
        }
        let ok = json!({ "webhook_secret": SECRET, "reference_prefix": "HEARTHAB" });
        run::cancel::<Invoice>(ok, "inv_p1").expect("eight letters are fine");
    }

    #[test]
    fn the_exported_schema_states_the_rules() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema["required"], json!(["webhook_secret"]), "{schema}");
        assert_eq!(schema["additionalProperties"], json!(false));
        let properties = &schema["properties"];
        assert_eq!(properties["webhook_secret"]["minLength"], json!(16));
        assert_eq!(properties["webhook_tolerance_secs"]["default"], json!(300));
        assert_eq!(properties["reference_prefix"]["default"], json!("INV"));
        assert_eq!(
            properties["reference_prefix"]["pattern"],
            json!(REFERENCE_PREFIX_PATTERN)
        );
    }
}
