//! Webhook notifications: one POST per event to the operator's `url`, for the event kinds
//! configured. The plugin only renders the body, a compact JSON document
//! `{"id", "kind", "occurred_at_ms", "data"}` where `data` is the event's payload; the kernel
//! signs and posts it.

use hearth_sdk::notifier::{Channel, Delivery, Event, NotifierPlugin, PluginError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON Schema pattern of [`Config::url`]: an `http://` or `https://` URL without whitespace.
/// [`Webhook`] applies the same rule when called (see [`check_url`]).
pub const URL_PATTERN: &str = r"^https?://\S+$";

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the kernel posts the events: an `http://` or `https://` URL.
    #[schemars(pattern(URL_PATTERN))]
    pub url: String,
    /// Event kinds to post; omit for every kind.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

/// The plugin.
pub struct Webhook;

/// Checks that `url` is an `http://` or `https://` URL with something after the scheme and no
/// whitespace, the rule [`URL_PATTERN`] states in the schema.
pub fn check_url(url: &str) -> Result<(), PluginError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(PluginError::InvalidInput(format!(
            "url {url:?} is not an http:// or https:// URL"
        ))),
    }
}

/// The body of a webhook post. Field order is the order in the document.
#[derive(Serialize)]
struct Body<'a> {
    id: &'a str,
    kind: &'a str,
    occurred_at_ms: u64,
    data: serde_json::Value,
}

impl NotifierPlugin for Webhook {
    type Config = Config;

    fn notify(config: &Config, event: &Event) -> Result<Vec<Delivery>, PluginError> {
        // Checked on every call, so a bad URL fails loudly even for kinds it would skip.
        check_url(&config.url)?;
        if config
            .kinds
            .as_ref()
            .is_some_and(|k| !k.contains(&event.kind))
        {
            return Ok(Vec::new());
        }
        let data: serde_json::Value = serde_json::from_str(&event.payload_json)
            .map_err(|e| PluginError::InvalidInput(format!("payload is not JSON: {e}")))?;
        let body = serde_json::to_string(&Body {
            id: &event.id,
            kind: &event.kind,
            occurred_at_ms: event.occurred_at_ms,
            data,
        })
        .map_err(|e| PluginError::Internal(format!("cannot render the body: {e}")))?;
        Ok(vec![Delivery {
            recipient: None,
            channel: Channel::Webhook(config.url.clone()),
            subject: event.kind.clone(),
            body,
        }])
    }
}

hearth_sdk::export_notifier!(Webhook);

#[cfg(test)]
mod tests {
    use hearth_sdk::notifier::run;
    use serde_json::json;

    use super::*;

    const URL: &str = "https://hooks.example.com/hearth";

    fn event(kind: &str, payload: serde_json::Value) -> Event {
        Event {
            id: "e1".into(),
            kind: kind.into(),
            occurred_at_ms: 1_767_225_600_000,
            recipients: Vec::new(),
            payload_json: payload.to_string(),
        }
    }

    #[test]
    fn every_event_is_posted_to_the_url_when_no_kinds_are_configured() {
        let out = run::<Webhook>(
            json!({ "url": URL }),
            &event(
                "booking_confirmed",
                json!({ "booking_id": "b1", "nights": 3 }),
            ),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient, None);
        assert_eq!(out[0].channel, Channel::Webhook(URL.into()));
        assert_eq!(out[0].subject, "booking_confirmed");
    }

    #[test]
    fn the_body_is_compact_json_with_the_event_and_its_payload_as_data() {
        let out = run::<Webhook>(
            json!({ "url": URL }),
            &event(
                "user_registered",
                json!({ "account_id": "a1", "tags": ["host"] }),
            ),
        )
        .expect("ok");
        assert_eq!(
            out[0].body,
            r#"{"id":"e1","kind":"user_registered","occurred_at_ms":1767225600000,"data":{"account_id":"a1","tags":["host"]}}"#
        );
        let body: serde_json::Value = serde_json::from_str(&out[0].body).expect("JSON");
        assert_eq!(
            body,
            json!({
                "id": "e1",
                "kind": "user_registered",
                "occurred_at_ms": 1_767_225_600_000_u64,
                "data": { "account_id": "a1", "tags": ["host"] },
            })
        );
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_still_posted_as_data() {
        let mut e = event("ping", json!(null));
        e.payload_json = "[1, 2]".into();
        let out = run::<Webhook>(json!({ "url": URL }), &e).expect("ok");
        let body: serde_json::Value = serde_json::from_str(&out[0].body).expect("JSON");
        assert_eq!(body["data"], json!([1, 2]));
    }

    #[test]
    fn only_the_configured_kinds_are_posted() {
        let config = json!({ "url": URL, "kinds": ["booking_confirmed", "booking_cancelled"] });
        let skipped =
            run::<Webhook>(config.clone(), &event("user_registered", json!({}))).expect("ok");
        assert!(skipped.is_empty());
        let posted = run::<Webhook>(config, &event("booking_cancelled", json!({}))).expect("ok");
        assert_eq!(posted.len(), 1);
        assert_eq!(posted[0].subject, "booking_cancelled");
    }

    #[test]
    fn a_plain_http_url_is_accepted() {
        let url = "http://localhost:9000/hook";
        let out = run::<Webhook>(json!({ "url": url }), &event("x", json!({}))).expect("ok");
        assert_eq!(out[0].channel, Channel::Webhook(url.into()));
    }

    #[test]
    fn a_url_that_is_not_http_or_https_is_refused_naming_url() {
        for url in [
            "ftp://hooks.example.com/hearth",
            "hooks.example.com/hearth",
            "HTTPS://hooks.example.com",
            "https://",
            "https://hooks.example.com/a b",
            "",
        ] {
            let err = run::<Webhook>(json!({ "url": url }), &event("user_registered", json!({})))
                .expect_err(url);
            assert!(
                matches!(&err, PluginError::InvalidInput(m) if m.contains("url")),
                "{url}: {err:?}"
            );
        }
    }

    #[test]
    fn a_bad_url_is_refused_even_for_kinds_that_are_not_posted() {
        let err = run::<Webhook>(
            json!({ "url": "mailto:ops@example.com", "kinds": ["booking_confirmed"] }),
            &event("user_registered", json!({})),
        )
        .expect_err("refused");
        assert!(matches!(err, PluginError::InvalidInput(m) if m.contains("url")));
    }

    #[test]
    fn a_payload_that_is_not_json_is_invalid_input() {
        let mut e = event("user_registered", json!({}));
        e.payload_json = "not json".into();
        let err = run::<Webhook>(json!({ "url": URL }), &e).expect_err("refused");
        assert!(matches!(err, PluginError::InvalidInput(m) if m.contains("payload")));
    }

    #[test]
    fn the_config_needs_a_url_and_knows_no_other_fields() {
        let err = run::<Webhook>(json!({}), &event("x", json!({}))).expect_err("refused");
        assert!(matches!(err, PluginError::Config(m) if m.contains("url")));
        let err = run::<Webhook>(json!({ "url": URL, "secret": "s" }), &event("x", json!({})))
            .expect_err("refused");
        assert!(matches!(err, PluginError::Config(m) if m.contains("secret")));
    }

    #[test]
    fn the_exported_schema_requires_an_http_url() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema["required"], json!(["url"]));
        assert_eq!(schema["properties"]["url"]["pattern"], json!(URL_PATTERN));
        assert_eq!(schema["additionalProperties"], json!(false));
    }
}
