//! # hearth-sdk: write Hearth plugins in Rust
//!
//! A Hearth plugin is a WebAssembly component implementing one world of the WIT contract in
//! `sdk/wit/hearth.wit` (package `hearth:plugins@0.1.0`). This crate wraps that contract:
//!
//! - one name per plugin kind, the `kind = "..."` an operator writes (`pricing`, `payments`,
//!   `review-policy`, `notifier`): kind `k` is WIT world `k` exporting `k-plugin` and
//!   `config`, crate feature and module `k`, trait `kPlugin`, macro `export_k!`;
//! - a trait per plugin kind ([`pricing::PricingPlugin`], [`payments::PaymentsPlugin`],
//!   [`review_policy::ReviewPolicyPlugin`], [`notifier::NotifierPlugin`]), enabled by the
//!   crate feature of the same name (enable exactly one per plugin crate);
//! - an export macro per kind ([`export_pricing!`] …) that turns your type into the component's
//!   exports;
//! - typed configuration: your `Config` type derives `serde::Deserialize` and
//!   `schemars::JsonSchema`; the schema is exported for the kernel to validate the operator's
//!   TOML against, and each call hands you the parsed value;
//! - the host capabilities ([`host`]): log, clock, cache, events, http, mail;
//! - a native test harness ([`testing`]) so `cargo test` runs your plugin without the kernel,
//!   with a fixture for every input (`testing::stay()`, `testing::event(kind)`, ...).
//!
//! See `sdk/README.md` for a ten-minute walkthrough.

#![deny(missing_docs)]

#[doc(hidden)]
pub mod bindings;
pub mod host;
#[cfg(feature = "notifier")]
pub mod notifier;
#[cfg(feature = "payments")]
pub mod payments;
#[cfg(feature = "pricing")]
pub mod pricing;
#[cfg(feature = "review-policy")]
pub mod review_policy;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod types;

pub use schemars;
pub use serde;
pub use serde_json;

/// The version of the WIT contract this SDK builds plugins against.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Parses a plugin's JSON configuration into its typed form; a mismatch is a
/// [`types::PluginError::Config`] naming the field.
#[doc(hidden)]
pub fn __parse_config<C: serde::de::DeserializeOwned>(json: &str) -> Result<C, types::PluginError> {
    serde_json::from_str(json).map_err(|e| types::PluginError::Config(e.to_string()))
}

/// The JSON Schema of a configuration type, as a string.
#[doc(hidden)]
pub fn __config_schema<C: schemars::JsonSchema>() -> String {
    serde_json::to_string(&schemars::schema_for!(C)).unwrap_or_else(|_| "{}".to_owned())
}
