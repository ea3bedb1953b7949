//! A native test harness: run your plugin with plain `cargo test`, no kernel and no wasm.
//!
//! The host capabilities are served from thread-local state you can set up and inspect:
//! [`set_now_ms`], [`logs`], [`published`], [`mails`], [`on_http`]. Each kind module has a
//! runner that goes through the same glue the exported component uses (configuration as JSON,
//! parsed into your `Config` type): e.g. `hearth_sdk::pricing::run::<MyPlugin>(config, &stay,
//! &items)`.
//!
//! ```text
//! let items = hearth_sdk::pricing::run::<CleaningFee>(json!({"amount_minor": 5000}), &stay, &[])?;
//! assert_eq!(items[0].amount.minor, 5000);
//! ```

use std::cell::RefCell;
use std::collections::HashMap;

use crate::host::{Level, Message, Request, Response};

type HttpHandler = Box<dyn Fn(&Request) -> Result<Response, String>>;

#[derive(Default)]
struct TestHost {
    now_ms: Option<u64>,
    logs: Vec<(Level, String)>,
    cache: HashMap<String, Vec<u8>>,
    published: Vec<(String, String)>,
    mails: Vec<Message>,
    http: Option<HttpHandler>,
}

thread_local! {
    static HOST: RefCell<TestHost> = RefCell::new(TestHost::default());
}

/// Clears every recorded call and setting (tests on one thread share the harness).
pub fn reset() {
    HOST.with(|h| *h.borrow_mut() = TestHost::default());
}

/// Fixes the clock (otherwise it reads the system time).
pub fn set_now_ms(ms: u64) {
    HOST.with(|h| h.borrow_mut().now_ms = Some(ms));
}

/// The log lines written so far.
pub fn logs() -> Vec<(Level, String)> {
    HOST.with(|h| h.borrow().logs.clone())
}

/// The events published so far, as (topic, payload).
pub fn published() -> Vec<(String, String)> {
    HOST.with(|h| h.borrow().published.clone())
}

/// The emails sent so far.
pub fn mails() -> Vec<Message> {
    HOST.with(|h| h.borrow().mails.clone())
}

/// Answers outbound HTTP requests with `handler` (otherwise they fail).
pub fn on_http(handler: impl Fn(&Request) -> Result<Response, String> + 'static) {
    HOST.with(|h| h.borrow_mut().http = Some(Box::new(handler)));
}

/// The JSON Schema the plugin exports for a configuration type.
pub fn config_schema<C: schemars::JsonSchema>() -> serde_json::Value {
    serde_json::from_str(&crate::__config_schema::<C>()).unwrap_or_default()
}

pub(crate) fn record_log(level: Level, message: &str) {
    HOST.with(|h| h.borrow_mut().logs.push((level, message.to_owned())));
}

pub(crate) fn now_ms() -> u64 {
    HOST.with(|h| h.borrow().now_ms).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    })
}

pub(crate) fn cache_get(key: &str) -> Option<Vec<u8>> {
    HOST.with(|h| h.borrow().cache.get(key).cloned())
}

pub(crate) fn cache_set(key: &str, value: &[u8], _ttl_ms: u64) {
    HOST.with(|h| h.borrow_mut().cache.insert(key.to_owned(), value.to_vec()));
}

pub(crate) fn cache_delete(key: &str) {
    HOST.with(|h| h.borrow_mut().cache.remove(key));
}

pub(crate) fn publish(topic: &str, payload: &str) -> Result<(), String> {
    HOST.with(|h| {
        h.borrow_mut()
            .published
            .push((topic.to_owned(), payload.to_owned()))
    });
    Ok(())
}

pub(crate) fn http_send(request: &Request) -> Result<Response, String> {
    HOST.with(|h| match &h.borrow().http {
        Some(handler) => handler(request),
        None => Err("no HTTP handler set in the test harness (testing::on_http)".into()),
    })
}

pub(crate) fn mail_send(message: &Message) -> Result<(), String> {
    HOST.with(|h| h.borrow_mut().mails.push(message.clone()));
    Ok(())
}
