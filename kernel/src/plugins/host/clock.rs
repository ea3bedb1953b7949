//! `clock`: the call's instant in milliseconds since the Unix epoch, the same one
//! `wasi:clocks/wall-clock` reads (see [`crate::plugins::call::CallEnv`]).

use crate::config::Capability;
use crate::plugins::bindings::common::hearth::plugins::clock::Host;
use crate::plugins::call::CallState;

impl Host for CallState {
    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        self.require(Capability::Clock)?;
        Ok(self.env.now_ms)
    }
}
