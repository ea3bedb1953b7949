//! `clock`: wall-clock time in milliseconds since the Unix epoch.

use crate::config::Capability;
use crate::plugins::bindings::common::hearth::plugins::clock::Host;
use crate::plugins::call::CallState;

impl Host for CallState {
    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        self.require(Capability::Clock)?;
        Ok(u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0))
    }
}
