//! Email notifications: one short plain-text email per event, for the event kinds configured, to
//! the address in the event (`payload.recipient_email`, else `payload.email`). Events without
//! an address are skipped. The kernel sends the mail; the plugin only renders it.

use hearth_sdk::notifier::{Channel, Delivery, Event, Notifier, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// The product name used in subjects and bodies when [`Config::product_name`] is omitted.
pub const DEFAULT_PRODUCT_NAME: &str = "Hearth";

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Event kinds to email about; omit for every kind.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// The product name in subjects and bodies, e.g. "Welcome to Hearth"; "Hearth" if omitted.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub product_name: Option<String>,
}

/// The plugin.
pub struct Email;

/// A string field of the payload, if present, a string, and not blank.
fn text<'a>(payload: &'a Value, key: &str) -> Option<&'a str> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// `kind` as a sentence-case title: `booking_confirmed` is "Booking confirmed".
fn humanise(kind: &str) -> String {
    let spaced = kind.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// The subject and plain-text body of the email for `kind`.
fn render(kind: &str, payload: &Value, product: &str) -> (String, String) {
    let name = text(payload, "display_name").unwrap_or("there");
    match kind {
        "user_registered" => (
            format!("Welcome to {product}"),
            format!("Hi {name},\n\nWelcome to {product}! Your account is ready.\n"),
        ),
        "listing_published" => {
            let listing = match text(payload, "title") {
                Some(title) => format!("Your listing \"{title}\""),
                None => "Your listing".to_owned(),
            };
            (
                "Your listing is live".to_owned(),
                format!("Hi {name},\n\n{listing} is now live on {product}.\n"),
            )
        }
        other => {
            let subject = humanise(other);
            let body = format!(
                "Hi {name},\n\nThere is an update on your {product} account: {}.\n",
                subject.to_lowercase()
            );
            (subject, body)
        }
    }
}

impl Notifier for Email {
    type Config = Config;

    fn notify(config: &Config, event: &Event) -> Result<Vec<Delivery>, PluginError> {
        if config
            .kinds
            .as_ref()
            .is_some_and(|k| !k.contains(&event.kind))
        {
            return Ok(Vec::new());
        }
        let payload: Value = serde_json::from_str(&event.payload_json)
            .map_err(|e| PluginError::InvalidInput(format!("payload is not JSON: {e}")))?;
        let Some(address) = text(&payload, "recipient_email").or_else(|| text(&payload, "email"))
        else {
            return Ok(Vec::new());
        };
        let recipient = text(&payload, "recipient_id")
            .or_else(|| text(&payload, "account_id"))
            .map(str::to_owned);
        let product = config
            .product_name
            .as_deref()
            .unwrap_or(DEFAULT_PRODUCT_NAME);
        let (subject, body) = render(&event.kind, &payload, product);
        Ok(vec![Delivery {
            recipient,
            channel: Channel::Email(address.to_owned()),
            subject,
            body,
        }])
    }
}

hearth_sdk::export_notifier!(Email);

#[cfg(test)]
mod tests {
    use hearth_sdk::notifier::run;
    use serde_json::json;

    use super::*;

    fn event(kind: &str, payload: Value) -> Event {
        Event {
            id: "e1".into(),
            kind: kind.into(),
            occurred_at_ms: 0,
            payload_json: payload.to_string(),
        }
    }

    #[test]
    fn a_registration_becomes_a_welcome_email_to_the_new_account() {
        let out = run::<Email>(
            json!({}),
            &event(
                "user_registered",
                json!({ "account_id": "a1", "email": "ada@example.com", "display_name": "Ada" }),
            ),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient.as_deref(), Some("a1"));
        assert_eq!(out[0].channel, Channel::Email("ada@example.com".into()));
        assert_eq!(out[0].subject, "Welcome to Hearth");
        assert_eq!(
            out[0].body,
            "Hi Ada,\n\nWelcome to Hearth! Your account is ready.\n"
        );
    }

    #[test]
    fn the_product_name_is_configurable_and_the_greeting_falls_back_to_there() {
        let out = run::<Email>(
            json!({ "product_name": "Cosy Stays" }),
            &event("user_registered", json!({ "email": "ada@example.com" })),
        )
        .expect("ok");
        assert_eq!(out[0].subject, "Welcome to Cosy Stays");
        assert!(out[0].body.starts_with("Hi there,\n"), "{}", out[0].body);
        assert!(out[0].body.contains("Welcome to Cosy Stays!"));
        assert_eq!(out[0].recipient, None);
    }

    #[test]
    fn a_published_listing_is_announced_by_title() {
        let out = run::<Email>(
            json!({}),
            &event(
                "listing_published",
                json!({
                    "recipient_id": "host-1",
                    "account_id": "other",
                    "recipient_email": "host@example.com",
                    "email": "other@example.com",
                    "title": "Loft by the canal",
                }),
            ),
        )
        .expect("ok");
        assert_eq!(out[0].recipient.as_deref(), Some("host-1"));
        assert_eq!(out[0].channel, Channel::Email("host@example.com".into()));
        assert_eq!(out[0].subject, "Your listing is live");
        assert_eq!(
            out[0].body,
            "Hi there,\n\nYour listing \"Loft by the canal\" is now live on Hearth.\n"
        );
    }

    #[test]
    fn a_published_listing_without_a_title_still_reads_well() {
        let out = run::<Email>(
            json!({}),
            &event("listing_published", json!({ "email": "host@example.com" })),
        )
        .expect("ok");
        assert_eq!(
            out[0].body,
            "Hi there,\n\nYour listing is now live on Hearth.\n"
        );
    }

    #[test]
    fn other_kinds_get_a_humanised_subject_and_a_generic_body() {
        let out = run::<Email>(
            json!({}),
            &event(
                "booking_confirmed",
                json!({ "email": "guest@example.com", "display_name": "Grace" }),
            ),
        )
        .expect("ok");
        assert_eq!(out[0].subject, "Booking confirmed");
        assert_eq!(
            out[0].body,
            "Hi Grace,\n\nThere is an update on your Hearth account: booking confirmed.\n"
        );
    }

    #[test]
    fn kinds_not_configured_are_ignored() {
        let config = json!({ "kinds": ["user_registered", "listing_published"] });
        let payload = json!({ "email": "ada@example.com" });
        let skipped =
            run::<Email>(config.clone(), &event("booking_confirmed", payload.clone())).expect("ok");
        assert!(skipped.is_empty());
        let sent = run::<Email>(config, &event("listing_published", payload)).expect("ok");
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn an_event_without_an_address_sends_nothing() {
        for payload in [
            json!({ "account_id": "a1", "display_name": "Ada" }),
            json!({ "account_id": "a1", "email": 42 }),
            json!({ "account_id": "a1", "recipient_email": null, "email": ["a@example.com"] }),
            json!({ "account_id": "a1", "email": "  " }),
            json!("just a string"),
        ] {
            let out =
                run::<Email>(json!({}), &event("user_registered", payload.clone())).expect("ok");
            assert!(out.is_empty(), "{payload}: {out:?}");
        }
    }

    #[test]
    fn a_non_string_recipient_email_falls_back_to_email() {
        let out = run::<Email>(
            json!({}),
            &event(
                "user_registered",
                json!({ "recipient_email": 1, "email": "ada@example.com", "recipient_id": 7, "account_id": "a1" }),
            ),
        )
        .expect("ok");
        assert_eq!(out[0].channel, Channel::Email("ada@example.com".into()));
        assert_eq!(out[0].recipient.as_deref(), Some("a1"));
    }

    #[test]
    fn a_payload_that_is_not_json_is_invalid_input() {
        let mut e = event("user_registered", json!({}));
        e.payload_json = "{".into();
        let err = run::<Email>(json!({}), &e).expect_err("refused");
        assert!(matches!(err, PluginError::InvalidInput(m) if m.contains("payload")));
    }

    #[test]
    fn unknown_config_fields_are_refused() {
        let err = run::<Email>(json!({ "from": "x@example.com" }), &event("x", json!({})))
            .expect_err("refused");
        assert!(matches!(err, PluginError::Config(m) if m.contains("from")));
    }

    #[test]
    fn the_exported_schema_requires_nothing_and_refuses_a_blank_product_name() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema.get("required"), None, "{schema}");
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["product_name"]["minLength"], json!(1));
    }

    #[test]
    fn humanise_spaces_and_capitalises() {
        assert_eq!(humanise("booking_cancelled"), "Booking cancelled");
        assert_eq!(humanise("payout_sent_late"), "Payout sent late");
        assert_eq!(humanise(""), "");
    }
}
