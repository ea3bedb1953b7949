//! The notifier adapter. The people an event concerns are read from its payload here, once,
//! and handed to every notifier as typed recipients, so no plugin parses them from JSON.

use serde::{Deserialize, Serialize};

use super::{invoke, wrong_kind};
use crate::config::{Capability, HttpOrigin};
use crate::plugins::bindings::notifier::exports::hearth::plugins::notifier_plugin as wit;
use crate::plugins::{KindPre, Plugin, PluginCallError, PluginFailure};

/// A kernel event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Unique id.
    pub id: String,
    /// Kind, e.g. `user_registered`.
    pub kind: String,
    /// When, ms since the epoch.
    pub occurred_at_ms: u64,
    /// Data.
    pub payload: serde_json::Value,
}

/// Where a delivery goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", content = "to", rename_all = "snake_case")]
pub enum Channel {
    /// The recipient's inbox.
    Inbox,
    /// An email address.
    Email(String),
    /// A webhook URL.
    Webhook(String),
}

/// One delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The account it is for.
    pub recipient: Option<String>,
    /// How.
    #[serde(flatten)]
    pub channel: Channel,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
}

/// A delivery the plugin chose but may not make: it is recorded as failed with this reason and
/// never sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryRefused {
    /// The channel needs a capability the operator did not grant.
    #[error("capability_not_granted: notifier `{plugin}` needs the `{capability}` capability for {channel} deliveries")]
    NotGranted {
        /// The notifier.
        plugin: String,
        /// What is missing.
        capability: &'static str,
        /// `email` or `webhook`.
        channel: &'static str,
    },
    /// The webhook's URL is not on one of the plugin's `http_allow` origins.
    #[error("target_not_allowed: `{target}` is not on an origin in notifier `{plugin}`'s http_allow list")]
    NotAllowed {
        /// The notifier.
        plugin: String,
        /// The URL's origin, or the URL when it is not one.
        target: String,
    },
}

impl Delivery {
    /// Whether `plugin` may make this delivery: email needs `mail`; a webhook needs `http` and a
    /// URL on one of the plugin's `http_allow` origins; the inbox needs nothing.
    pub fn permitted(&self, plugin: &Plugin) -> Result<(), DeliveryRefused> {
        let context = &plugin.context;
        let needs = |capability: Capability, channel: &'static str| {
            if context.grants.contains(&capability) {
                Ok(())
            } else {
                Err(DeliveryRefused::NotGranted {
                    plugin: context.id.to_string(),
                    capability: capability.as_str(),
                    channel,
                })
            }
        };
        match &self.channel {
            Channel::Inbox => Ok(()),
            Channel::Email(_) => needs(Capability::Mail, "email"),
            Channel::Webhook(target) => {
                needs(Capability::Http, "webhook")?;
                let url = url::Url::parse(target).ok();
                match url {
                    Some(u) if context.http_allow.iter().any(|o| o.matches(&u)) => Ok(()),
                    _ => Err(DeliveryRefused::NotAllowed {
                        plugin: context.id.to_string(),
                        target: url.map_or_else(|| target.clone(), |u| HttpOrigin::describe(&u)),
                    }),
                }
            }
        }
    }
}

/// A string field of `value`, if present, a string, and not blank.
fn text(value: &serde_json::Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

/// The people `payload` concerns. An event about several people lists them in `recipients`
/// (`[{"id": "<account uuid>", "email": "a@b.c", "display_name": "Ada"}, ...]`; an empty list
/// means nobody); an event about one person names them with `recipient_id` (else `account_id`),
/// `recipient_email` (else `email`) and `display_name`. Entries with neither an account nor an
/// address are dropped.
fn recipients(payload: &serde_json::Value) -> Vec<wit::Recipient> {
    let one = |r: &serde_json::Value, id: Option<String>, email: Option<String>| {
        (id.is_some() || email.is_some()).then(|| wit::Recipient {
            account_id: id,
            email,
            display_name: text(r, "display_name"),
        })
    };
    if let Some(list) = payload
        .get("recipients")
        .and_then(serde_json::Value::as_array)
    {
        return list
            .iter()
            .filter_map(|r| one(r, text(r, "id"), text(r, "email")))
            .collect();
    }
    let id = text(payload, "recipient_id").or_else(|| text(payload, "account_id"));
    let email = text(payload, "recipient_email").or_else(|| text(payload, "email"));
    one(payload, id, email).into_iter().collect()
}

/// Renders an event into deliveries.
pub async fn notify(plugin: &Plugin, event: &Event) -> Result<Vec<Delivery>, PluginCallError> {
    let KindPre::Notifier(pre) = &plugin.pre else {
        return Err(wrong_kind(plugin, "notifier"));
    };
    let wit_event = wit::Event {
        id: event.id.clone(),
        kind: event.kind.clone(),
        occurred_at_ms: event.occurred_at_ms,
        recipients: recipients(&event.payload),
        payload_json: event.payload.to_string(),
    };
    let size = |ds: &Vec<Delivery>| ds.iter().map(|d| d.subject.len() + d.body.len() + 64).sum();
    let (pre, config) = (pre.clone(), plugin.config_json.clone());
    invoke(plugin, size, true, move |store| {
        Box::pin(async move {
            let instance = pre.instantiate_async(&mut *store).await?;
            let out = instance
                .hearth_plugins_notifier_plugin()
                .call_notify(&mut *store, &config, &wit_event)
                .await?;
            Ok(out
                .map(|ds| {
                    ds.into_iter()
                        .map(|d| Delivery {
                            recipient: d.recipient,
                            channel: match d.channel {
                                wit::Channel::Inbox => Channel::Inbox,
                                wit::Channel::Email(a) => Channel::Email(a),
                                wit::Channel::Webhook(u) => Channel::Webhook(u),
                            },
                            subject: d.subject,
                            body: d.body,
                        })
                        .collect()
                })
                .map_err(PluginFailure::from))
        })
    })
    .await
    .0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn who(payload: serde_json::Value) -> Vec<(Option<String>, Option<String>, Option<String>)> {
        recipients(&payload)
            .into_iter()
            .map(|r| (r.account_id, r.email, r.display_name))
            .collect()
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn a_recipients_list_names_everyone_in_order_and_drops_entries_naming_nobody() {
        let payload = json!({
            "account_id": "fallback-not-used",
            "email": "fallback-not-used@example.com",
            "recipients": [
                { "id": "guest-1", "email": "ada@example.com", "display_name": "Ada" },
                { "email": "no-id@example.com" },
                { "id": "host-1", "email": "  ", "display_name": "Grace" },
                { "id": 7, "email": 42, "display_name": "Nobody" },
                { "id": "  " },
            ],
        });
        assert_eq!(
            who(payload),
            vec![
                (some("guest-1"), some("ada@example.com"), some("Ada")),
                (None, some("no-id@example.com"), None),
                (some("host-1"), None, some("Grace")),
            ]
        );
    }

    #[test]
    fn an_empty_recipients_list_means_nobody() {
        assert_eq!(
            who(json!({ "account_id": "a1", "email": "a@example.com", "recipients": [] })),
            vec![]
        );
    }

    #[test]
    fn a_single_recipient_is_named_by_recipient_fields_first() {
        let payload = json!({
            "recipient_id": "host-1",
            "account_id": "other",
            "recipient_email": "host@example.com",
            "email": "other@example.com",
            "display_name": "Grace",
        });
        assert_eq!(
            who(payload),
            vec![(some("host-1"), some("host@example.com"), some("Grace"))]
        );
        assert_eq!(
            who(json!({ "account_id": "a1", "email": "ada@example.com" })),
            vec![(some("a1"), some("ada@example.com"), None)]
        );
    }

    #[test]
    fn blank_or_non_string_recipient_fields_fall_back_to_the_plain_ones() {
        let payload = json!({
            "recipient_id": 7,
            "account_id": "a1",
            "recipient_email": "  ",
            "email": "ada@example.com",
        });
        assert_eq!(
            who(payload),
            vec![(some("a1"), some("ada@example.com"), None)]
        );
    }

    #[test]
    fn an_event_about_nobody_has_no_recipients() {
        for payload in [
            json!({}),
            json!({ "display_name": "Ada", "email": 42 }),
            json!({ "account_id": "  " }),
            json!("just a string"),
            json!([1, 2]),
        ] {
            assert_eq!(who(payload.clone()), vec![], "{payload}");
        }
    }
}
