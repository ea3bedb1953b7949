//! Host capabilities: what a plugin may ask of the kernel. Each must be granted to the plugin in
//! the operator's TOML (`capabilities = ["log", "cache"]`); a component that imports one it was
//! not granted is refused at load, naming the capability. Only the functions you call end up
//! imported by your component.
//!
//! In native tests (`cargo test`) these talk to the [`crate::testing`] harness instead.

#[cfg(target_arch = "wasm32")]
use crate::bindings::common::hearth::plugins as wit;

pub use crate::bindings::common::hearth::plugins::http::{Request, Response};
pub use crate::bindings::common::hearth::plugins::log::Level;
pub use crate::bindings::common::hearth::plugins::mail::Message;
pub use crate::types::Header;

/// `log`: lines in the kernel's log, tagged with the plugin's id.
pub mod log {
    use super::Level;

    /// Writes one line at `level`.
    pub fn write(level: Level, message: &str) {
        #[cfg(target_arch = "wasm32")]
        super::wit::log::log(level, message);
        #[cfg(not(target_arch = "wasm32"))]
        crate::testing::record_log(level, message);
    }

    /// Debug-level line.
    pub fn debug(message: &str) {
        write(Level::Debug, message);
    }

    /// Info-level line.
    pub fn info(message: &str) {
        write(Level::Info, message);
    }

    /// Warn-level line.
    pub fn warn(message: &str) {
        write(Level::Warn, message);
    }

    /// Error-level line.
    pub fn error(message: &str) {
        write(Level::Error, message);
    }
}

/// `clock`: the current time.
pub mod clock {
    /// Milliseconds since the Unix epoch, UTC.
    pub fn now_ms() -> u64 {
        #[cfg(target_arch = "wasm32")]
        return super::wit::clock::now_ms();
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::now_ms();
    }
}

/// `cache`: a key-value cache private to the plugin; entries may vanish at any time.
pub mod cache {
    /// Reads a value.
    pub fn get(key: &str) -> Option<Vec<u8>> {
        #[cfg(target_arch = "wasm32")]
        return super::wit::cache::get(key);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::cache_get(key);
    }

    /// Stores a value for `ttl_ms` milliseconds.
    pub fn set(key: &str, value: &[u8], ttl_ms: u64) {
        #[cfg(target_arch = "wasm32")]
        super::wit::cache::set(key, value, ttl_ms);
        #[cfg(not(target_arch = "wasm32"))]
        crate::testing::cache_set(key, value, ttl_ms);
    }

    /// Removes a value.
    pub fn delete(key: &str) {
        #[cfg(target_arch = "wasm32")]
        super::wit::cache::delete(key);
        #[cfg(not(target_arch = "wasm32"))]
        crate::testing::cache_delete(key);
    }
}

/// `events`: publish on the kernel's bus.
pub mod events {
    /// Publishes a JSON payload under `topic`.
    pub fn publish(topic: &str, payload_json: &str) -> Result<(), String> {
        #[cfg(target_arch = "wasm32")]
        return super::wit::events::publish(topic, payload_json);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::publish(topic, payload_json);
    }
}

/// `http`: outbound requests to the hosts the operator allowed.
pub mod http {
    use super::{Request, Response};

    /// Sends a request.
    pub fn send(request: &Request) -> Result<Response, String> {
        #[cfg(target_arch = "wasm32")]
        return super::wit::http::send(request);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::http_send(request);
    }
}

/// `mail`: email through the kernel's transport.
pub mod mail {
    use super::Message;

    /// Queues a message.
    pub fn send(message: &Message) -> Result<(), String> {
        #[cfg(target_arch = "wasm32")]
        return super::wit::mail::send(message);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::mail_send(message);
    }
}
