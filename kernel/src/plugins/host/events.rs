//! `events`: plugins publish JSON events onto the kernel's in-process plugin event channel
//! (`PluginHost::subscribe_events`).

use serde_json::Value;

use crate::config::{Capability, PluginId};
use crate::plugins::bindings::pricing::hearth::plugins::events::Host;
use crate::plugins::call::CallState;

/// An event a plugin published.
#[derive(Debug, Clone)]
pub struct PublishedEvent {
    /// The publishing plugin.
    pub plugin: PluginId,
    /// The topic it chose.
    pub topic: String,
    /// The payload, parsed.
    pub payload: Value,
}

impl Host for CallState {
    async fn publish(
        &mut self,
        topic: String,
        payload_json: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::Events)?;
        if topic.is_empty() || topic.len() > 128 {
            return Ok(Err("topic must be 1-128 characters".into()));
        }
        let payload: Value = match serde_json::from_str(&payload_json) {
            Ok(v) => v,
            Err(e) => return Ok(Err(format!("payload is not JSON: {e}"))),
        };
        // No subscriber is not an error: nobody is interested yet.
        let _ = self.plugin.services.events.send(PublishedEvent {
            plugin: self.plugin.id.clone(),
            topic,
            payload,
        });
        Ok(Ok(()))
    }
}
