//! `cache`: the kernel cache, in a namespace private to the plugin (`plugin:<id>:`).

use std::time::Duration;

use crate::config::Capability;
use crate::plugins::bindings::common::hearth::plugins::cache::Host;
use crate::plugins::call::CallState;

/// Largest value a plugin may store.
const MAX_VALUE: usize = 256 * 1024;
/// Longest a plugin's entry may live.
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

impl Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        self.require(Capability::Cache)?;
        Ok(self.plugin.cache.get_bytes(&key).await)
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: u64) -> wasmtime::Result<()> {
        self.require(Capability::Cache)?;
        if value.len() <= MAX_VALUE {
            let ttl = Duration::from_millis(ttl_ms).min(MAX_TTL);
            self.plugin.cache.set_bytes(&key, value, ttl).await;
        }
        Ok(())
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.require(Capability::Cache)?;
        self.plugin.cache.delete(&key).await;
        Ok(())
    }
}
