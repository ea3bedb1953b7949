//! The notifier adapter.

use serde::{Deserialize, Serialize};

use super::{invoke, wrong_kind};
use crate::plugins::bindings::notifier::exports::hearth::plugins::notifications as wit;
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

/// Renders an event into deliveries.
pub async fn notify(plugin: &Plugin, event: &Event) -> Result<Vec<Delivery>, PluginCallError> {
    let KindPre::Notifier(pre) = &plugin.pre else {
        return Err(wrong_kind(plugin, "notifier"));
    };
    let wit_event = wit::Event {
        id: event.id.clone(),
        kind: event.kind.clone(),
        occurred_at_ms: event.occurred_at_ms,
        payload_json: event.payload.to_string(),
    };
    let size = |ds: &Vec<Delivery>| ds.iter().map(|d| d.subject.len() + d.body.len() + 64).sum();
    let (pre, config) = (pre.clone(), plugin.config_json.clone());
    invoke(plugin, size, true, move |store| {
        Box::pin(async move {
            let instance = pre.instantiate_async(&mut *store).await?;
            let out = instance
                .hearth_plugins_notifications()
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
