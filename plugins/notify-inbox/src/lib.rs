//! In-app inbox notifications: one inbox message to the account an event concerns
//! (`payload.recipient_id`, else `payload.account_id`), for the event kinds configured.

use hearth_sdk::notifier::{Channel, Delivery, Event, Notifier, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Event kinds to notify about; omit for every kind.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

/// The plugin.
pub struct Inbox;

fn subject(kind: &str) -> String {
    match kind {
        "user_registered" => "Welcome to Hearth".into(),
        "booking_requested" => "New booking request".into(),
        "booking_confirmed" => "Your booking is confirmed".into(),
        "booking_cancelled" => "A booking was cancelled".into(),
        "listing_published" => "Your listing is live".into(),
        other => other.replace('_', " "),
    }
}

impl Notifier for Inbox {
    type Config = Config;

    fn notify(config: &Config, event: &Event) -> Result<Vec<Delivery>, PluginError> {
        if config
            .kinds
            .as_ref()
            .is_some_and(|k| !k.contains(&event.kind))
        {
            return Ok(Vec::new());
        }
        let payload: serde_json::Value = serde_json::from_str(&event.payload_json)
            .map_err(|e| PluginError::InvalidInput(format!("payload is not JSON: {e}")))?;
        let recipient = payload
            .get("recipient_id")
            .or_else(|| payload.get("account_id"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let Some(recipient) = recipient else {
            return Ok(Vec::new());
        };
        let name = payload
            .get("display_name")
            .and_then(|v| v.as_str())
            .unwrap_or("there");
        Ok(vec![Delivery {
            recipient: Some(recipient),
            channel: Channel::Inbox,
            subject: subject(&event.kind),
            body: format!("Hi {name}, {}.", subject(&event.kind).to_lowercase()),
        }])
    }
}

hearth_sdk::export_notifier!(Inbox);

#[cfg(test)]
mod tests {
    use hearth_sdk::notifier::run;
    use serde_json::json;

    use super::*;

    fn event(kind: &str, payload: serde_json::Value) -> Event {
        Event {
            id: "e1".into(),
            kind: kind.into(),
            occurred_at_ms: 0,
            payload_json: payload.to_string(),
        }
    }

    #[test]
    fn a_registration_becomes_a_welcome_in_the_new_accounts_inbox() {
        let out = run::<Inbox>(
            json!({}),
            &event(
                "user_registered",
                json!({ "account_id": "a1", "display_name": "Ada" }),
            ),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient.as_deref(), Some("a1"));
        assert_eq!(out[0].channel, Channel::Inbox);
        assert_eq!(out[0].subject, "Welcome to Hearth");
    }

    #[test]
    fn a_published_listing_tells_its_host_it_is_live() {
        let out = run::<Inbox>(
            json!({}),
            &event(
                "listing_published",
                json!({ "recipient_id": "h1", "display_name": "Grace", "title": "Loft" }),
            ),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient.as_deref(), Some("h1"));
        assert_eq!(out[0].subject, "Your listing is live");
        assert_eq!(out[0].body, "Hi Grace, your listing is live.");
    }

    #[test]
    fn kinds_not_configured_are_ignored() {
        let out = run::<Inbox>(
            json!({ "kinds": ["booking_confirmed"] }),
            &event("user_registered", json!({ "account_id": "a1" })),
        )
        .expect("ok");
        assert!(out.is_empty());
    }
}
