//! `events`: plugins publish onto the kernel's bus. The event goes through the outbox like a
//! domain event, under the kind `plugin.<plugin id>.<topic>`, so a plugin can never pass its
//! events off as the kernel's (`booking_confirmed`) or another plugin's.

use serde::Serialize;
use serde_json::Value;

use crate::bus::{self, DomainEvent};
use crate::config::Capability;
use crate::plugins::bindings::common::hearth::plugins::events::Host;
use crate::plugins::call::CallState;

/// An event a plugin published: its payload, under its namespaced kind.
#[derive(Serialize)]
#[serde(transparent)]
struct PluginEvent {
    #[serde(skip)]
    kind: String,
    payload: Value,
}

impl DomainEvent for PluginEvent {
    fn kind(&self) -> &str {
        &self.kind
    }
}

fn valid_topic(topic: &str) -> bool {
    (1..=128).contains(&topic.len())
        && topic
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

impl Host for CallState {
    async fn publish(
        &mut self,
        topic: String,
        payload_json: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::Events)?;
        if !valid_topic(&topic) {
            return Ok(Err(
                "topic must be 1-128 characters of a-z, 0-9, `.`, `_` and `-`".into(),
            ));
        }
        let payload: Value = match serde_json::from_str(&payload_json) {
            Ok(v) => v,
            Err(e) => return Ok(Err(format!("payload is not JSON: {e}"))),
        };
        let Some(jobs) = &self.plugin.services.jobs else {
            return Ok(Err("no event bus is available to this command".into()));
        };
        let event = PluginEvent {
            kind: format!("plugin.{}.{topic}", self.plugin.id),
            payload,
        };
        let recorded = async {
            let mut conn = jobs.db().write().await?;
            bus::record(conn.exec(), &event).await?;
            // Committed on its own, so the relay is told here.
            jobs.db().commits().notify_one();
            Ok::<_, crate::data::DataError>(())
        }
        .await;
        Ok(recorded.map_err(|e| format!("cannot publish: {e}")))
    }
}
