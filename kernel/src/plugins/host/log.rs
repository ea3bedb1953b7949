//! `log`: a plugin's lines in the kernel log, tagged with `plugin.id`.

use crate::config::Capability;
use crate::plugins::bindings::common::hearth::plugins::log::{Host, Level};
use crate::plugins::call::CallState;

/// Longest line kept; the rest is cut so a plugin cannot flood the log with one call.
const MAX_LINE: usize = 4096;

impl Host for CallState {
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.require(Capability::Log)?;
        let id = &self.plugin.id;
        let message = match message.char_indices().nth(MAX_LINE) {
            Some((cut, _)) => &message[..cut],
            None => message.as_str(),
        };
        match level {
            Level::Trace => tracing::trace!(plugin.id = %id, "{message}"),
            Level::Debug => tracing::debug!(plugin.id = %id, "{message}"),
            Level::Info => tracing::info!(plugin.id = %id, "{message}"),
            Level::Warn => tracing::warn!(plugin.id = %id, "{message}"),
            Level::Error => tracing::error!(plugin.id = %id, "{message}"),
        }
        Ok(())
    }
}
