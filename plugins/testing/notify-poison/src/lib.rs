//! Test guest: a notifier that fails on every event whose payload has `"poison": true`, and
//! otherwise sends each recipient with an account one inbox message. The kernel must keep one
//! event's failure from holding up the others it was handed with.

use hearth_sdk::notifier::{Channel, Delivery, Event, NotifierPlugin, PluginError};

/// No configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {}

/// The plugin.
pub struct Poisoned;

impl NotifierPlugin for Poisoned {
    type Config = Config;

    fn notify(_: &Config, event: &Event) -> Result<Vec<Delivery>, PluginError> {
        let payload: serde_json::Value = serde_json::from_str(&event.payload_json)
            .map_err(|e| PluginError::InvalidInput(format!("payload is not JSON: {e}")))?;
        if payload["poison"] == true {
            return Err(PluginError::InvalidInput(format!(
                "event {} is poisoned",
                event.id
            )));
        }
        Ok(event
            .recipients
            .iter()
            .filter(|r| r.account_id.is_some())
            .map(|r| Delivery {
                recipient: r.account_id.clone(),
                channel: Channel::Inbox,
                subject: event.kind.clone(),
                body: format!("event {}", event.id),
            })
            .collect())
    }
}

hearth_sdk::export_notifier!(Poisoned);
