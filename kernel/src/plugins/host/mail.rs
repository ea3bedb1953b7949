//! `mail`: email through the kernel's mail transport. The kernel has no transport configured
//! yet (SMTP arrives with the notifications work), so a granted plugin gets a clear error
//! rather than a silent drop.

use crate::config::Capability;
use crate::plugins::bindings::pricing::hearth::plugins::mail::{Host, Message};
use crate::plugins::call::CallState;

impl Host for CallState {
    async fn send(&mut self, message: Message) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::Mail)?;
        tracing::warn!(plugin.id = %self.plugin.id, "mail requested but no mail transport is configured");
        let _ = message;
        Ok(Err("no mail transport is configured on this kernel".into()))
    }
}
