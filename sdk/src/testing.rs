//! A native test harness: run your plugin with plain `cargo test`, no kernel and no wasm.
//!
//! - Fixtures: [`stay`], and for the kind you build [`event`], [`submission`],
//!   [`reveal_state`], [`authorize_request`], [`webhook`]: plausible inputs to change with the
//!   types' `with_*` methods, so a test spells out only what it is about.
//! - Host capabilities are served from thread-local state you can set up and inspect:
//!   [`set_now_ms`], [`logs`], [`published`], [`mails`], [`on_http`].
//! - Each kind module has a runner that goes through the same glue the exported component
//!   uses (configuration as JSON, parsed into your `Config` type), e.g.
//!   `hearth_sdk::pricing::run::<MyPlugin>(config, &stay, &items)`.
//!
//! ```
//! # #[cfg(feature = "pricing")] {
//! use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};
//! use hearth_sdk::testing;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Config {
//!     amount_minor: i64,
//! }
//!
//! struct CleaningFee;
//!
//! impl PricingPlugin for CleaningFee {
//!     type Config = Config;
//!
//!     fn price(config: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
//!         let fee = Money::new(config.amount_minor, stay.currency.clone());
//!         Ok(vec![LineItem::new("cleaning-fee", "Cleaning fee", fee)])
//!     }
//! }
//!
//! let config = serde_json::json!({ "amount_minor": 5000 });
//! let items = hearth_sdk::pricing::run::<CleaningFee>(config, &testing::stay(), &[])?;
//! assert_eq!(items[0].amount, Money::new(5000, "EUR"));
//! # }
//! # Ok::<(), hearth_sdk::types::PluginError>(())
//! ```

use std::cell::RefCell;
use std::collections::HashMap;

use crate::host::{Level, Message, Request, Response};
use crate::types::{Date, Stay};

/// A stay fixture: 3 nights from 2026-07-01 (a Wednesday) to 2026-07-04, 2 guests, listing
/// `listing-1` in Paris, FR, priced in EUR. Change what a test is about with
/// [`Stay::new`] or the `Stay::with_*` methods.
pub fn stay() -> Stay {
    Stay::new(Date::new(2026, 7, 1), Date::new(2026, 7, 4), "EUR")
        .for_listing("listing-1")
        .with_guests(2)
        .in_city("FR", "Paris")
}

/// An event fixture of `kind` (e.g. `"booking_confirmed"`): id `event-1`, at 2026-07-01
/// 00:00 UTC, with no recipients and an empty JSON object as payload. Add them with
/// [`crate::notifier::Event::with_recipient`] and [`crate::notifier::Event::with_payload`].
#[cfg(feature = "notifier")]
pub fn event(kind: &str) -> crate::notifier::Event {
    crate::notifier::Event {
        id: "event-1".into(),
        kind: kind.into(),
        occurred_at_ms: 1_782_864_000_000,
        recipients: Vec::new(),
        payload_json: "{}".into(),
    }
}

/// A submission fixture: a guest's 5-star review "Lovely stay.", written on the day of
/// check-out. Change fields directly; it is a plain struct.
#[cfg(feature = "review-policy")]
pub fn submission() -> crate::review_policy::Submission {
    crate::review_policy::Submission {
        author_role: crate::review_policy::AuthorRole::Guest,
        rating: 5,
        text: "Lovely stay.".into(),
        days_since_checkout: 0,
    }
}

/// A reveal-state fixture: only one side has written, on the day of check-out.
#[cfg(feature = "review-policy")]
pub fn reveal_state() -> crate::review_policy::RevealState {
    crate::review_policy::RevealState {
        both_submitted: false,
        days_since_checkout: 0,
    }
}

/// An authorize-request fixture for `amount`: payment `payment-1` of booking `booking-1`,
/// paid with the method token `tok_test`.
#[cfg(feature = "payments")]
pub fn authorize_request(amount: crate::types::Money) -> crate::payments::AuthorizeRequest {
    crate::payments::AuthorizeRequest {
        payment_id: "payment-1".into(),
        booking_id: "booking-1".into(),
        amount,
        payment_method: "tok_test".into(),
    }
}

/// A webhook fixture with `body`, no headers, received at 2026-07-01 00:00 UTC. Add headers
/// with [`crate::payments::Webhook::with_header`].
#[cfg(feature = "payments")]
pub fn webhook(body: &str) -> crate::payments::Webhook {
    crate::payments::Webhook {
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
        received_at_ms: 1_782_864_000_000,
    }
}

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
