//! Payments plugins (`kind = "payments"`): authorize, capture, refund and cancel through an external service,
//! and verify + parse its webhooks.
//!
//! ```
//! use hearth_sdk::payments::{
//!     AuthorizeRequest, Money, PaymentResult, PaymentStatus, PaymentsPlugin, PluginError,
//! };
//! use hearth_sdk::testing;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Config {}
//!
//! /// Pays on the spot, so it needs no webhooks (`parse_webhook` keeps its default).
//! struct Cash;
//!
//! fn done(provider_ref: &str, status: PaymentStatus) -> Result<PaymentResult, PluginError> {
//!     Ok(PaymentResult { provider_ref: provider_ref.to_owned(), status })
//! }
//!
//! impl PaymentsPlugin for Cash {
//!     type Config = Config;
//!
//!     fn authorize(_: &Config, r: AuthorizeRequest) -> Result<PaymentResult, PluginError> {
//!         done(&format!("cash-{}", r.payment_id), PaymentStatus::Authorized)
//!     }
//!     fn capture(_: &Config, provider_ref: &str, _: Money) -> Result<PaymentResult, PluginError> {
//!         done(provider_ref, PaymentStatus::Captured)
//!     }
//!     fn refund(_: &Config, provider_ref: &str, _: Money) -> Result<PaymentResult, PluginError> {
//!         done(provider_ref, PaymentStatus::Refunded)
//!     }
//!     fn cancel(_: &Config, provider_ref: &str) -> Result<PaymentResult, PluginError> {
//!         done(provider_ref, PaymentStatus::Voided)
//!     }
//! }
//!
//! hearth_sdk::export_payments!(Cash);
//!
//! use hearth_sdk::payments::run;
//! let held = run::authorize::<Cash>(serde_json::json!({}), testing::authorize_request(Money::new(9000, "EUR")))?;
//! assert_eq!(held.provider_ref, "cash-payment-1");
//! let hook = testing::webhook("{}").with_header("cash-signature", "x");
//! assert!(run::parse_webhook::<Cash>(serde_json::json!({}), hook).is_err());
//! # Ok::<(), PluginError>(())
//! ```

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use crate::bindings::payments::exports::hearth::plugins::payments_plugin::{
    AuthorizeRequest, PaymentResult, PaymentStatus, Webhook, WebhookEvent,
};
pub use crate::types::{Header, Money, PluginError};

impl Webhook {
    /// The value of the header called `name` (compared case-insensitively), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::types::find_header(&self.headers, name)
    }

    /// The same webhook with one more header (for tests; the kernel lower-cases names).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }

    /// The same webhook, received at `ms` (milliseconds since the Unix epoch).
    pub fn received_at(mut self, ms: u64) -> Self {
        self.received_at_ms = ms;
        self
    }
}

/// A payment provider.
pub trait PaymentsPlugin {
    /// The `[plugins.config]` table, typed (API keys, webhook secret, ...).
    type Config: DeserializeOwned + JsonSchema;

    /// Holds the amount.
    fn authorize(
        config: &Self::Config,
        request: AuthorizeRequest,
    ) -> Result<PaymentResult, PluginError>;
    /// Takes (part of) an authorized amount.
    fn capture(
        config: &Self::Config,
        provider_ref: &str,
        amount: Money,
    ) -> Result<PaymentResult, PluginError>;
    /// Returns (part of) a captured amount.
    fn refund(
        config: &Self::Config,
        provider_ref: &str,
        amount: Money,
    ) -> Result<PaymentResult, PluginError>;
    /// Releases an authorization.
    fn cancel(config: &Self::Config, provider_ref: &str) -> Result<PaymentResult, PluginError>;
    /// Verifies (signature, freshness) and parses a webhook; an error means reject it. By
    /// default every webhook is rejected: right for a provider that answers every call at once
    /// and never reports later.
    fn parse_webhook(config: &Self::Config, webhook: Webhook) -> Result<WebhookEvent, PluginError> {
        let _ = (config, webhook);
        Err(PluginError::InvalidInput(
            "this payment provider takes no webhooks".into(),
        ))
    }
}

/// Native runners for tests, through the same glue as the component.
pub mod run {
    use super::*;

    /// Runs `authorize`.
    pub fn authorize<P: PaymentsPlugin>(
        config: serde_json::Value,
        request: AuthorizeRequest,
    ) -> Result<PaymentResult, PluginError> {
        P::authorize(&crate::__parse_config(&config.to_string())?, request)
    }
    /// Runs `capture`.
    pub fn capture<P: PaymentsPlugin>(
        config: serde_json::Value,
        provider_ref: &str,
        amount: Money,
    ) -> Result<PaymentResult, PluginError> {
        P::capture(
            &crate::__parse_config(&config.to_string())?,
            provider_ref,
            amount,
        )
    }
    /// Runs `refund`.
    pub fn refund<P: PaymentsPlugin>(
        config: serde_json::Value,
        provider_ref: &str,
        amount: Money,
    ) -> Result<PaymentResult, PluginError> {
        P::refund(
            &crate::__parse_config(&config.to_string())?,
            provider_ref,
            amount,
        )
    }
    /// Runs `cancel`.
    pub fn cancel<P: PaymentsPlugin>(
        config: serde_json::Value,
        provider_ref: &str,
    ) -> Result<PaymentResult, PluginError> {
        P::cancel(&crate::__parse_config(&config.to_string())?, provider_ref)
    }
    /// Runs `parse_webhook`.
    pub fn parse_webhook<P: PaymentsPlugin>(
        config: serde_json::Value,
        webhook: Webhook,
    ) -> Result<WebhookEvent, PluginError> {
        P::parse_webhook(&crate::__parse_config(&config.to_string())?, webhook)
    }
}

/// Exports a [`PaymentsPlugin`] as the component's `payments` world (its `payments-plugin`
/// and `config` interfaces).
#[macro_export]
macro_rules! export_payments {
    ($plugin:ty) => {
        // Exports exist only in the component; native builds (unit tests) have none.
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            use $crate::bindings::payments::exports::hearth::plugins::payments_plugin as __pp;
            use $crate::payments::PaymentsPlugin as _;
            struct __HearthExport;
            impl $crate::bindings::config::exports::hearth::plugins::config::Guest for __HearthExport {
                fn config_schema() -> ::std::string::String {
                    $crate::__config_schema::<<$plugin as $crate::payments::PaymentsPlugin>::Config>()
                }
            }
            impl __pp::Guest for __HearthExport {
                fn authorize(config: ::std::string::String, request: __pp::AuthorizeRequest) -> ::std::result::Result<__pp::PaymentResult, $crate::types::PluginError> {
                    <$plugin>::authorize(&$crate::__parse_config(&config)?, request)
                }
                fn capture(config: ::std::string::String, provider_ref: ::std::string::String, amount: $crate::types::Money) -> ::std::result::Result<__pp::PaymentResult, $crate::types::PluginError> {
                    <$plugin>::capture(&$crate::__parse_config(&config)?, &provider_ref, amount)
                }
                fn refund(config: ::std::string::String, provider_ref: ::std::string::String, amount: $crate::types::Money) -> ::std::result::Result<__pp::PaymentResult, $crate::types::PluginError> {
                    <$plugin>::refund(&$crate::__parse_config(&config)?, &provider_ref, amount)
                }
                fn cancel(config: ::std::string::String, provider_ref: ::std::string::String) -> ::std::result::Result<__pp::PaymentResult, $crate::types::PluginError> {
                    <$plugin>::cancel(&$crate::__parse_config(&config)?, &provider_ref)
                }
                fn parse_webhook(config: ::std::string::String, webhook: __pp::Webhook) -> ::std::result::Result<__pp::WebhookEvent, $crate::types::PluginError> {
                    <$plugin>::parse_webhook(&$crate::__parse_config(&config)?, webhook)
                }
            }
            $crate::bindings::payments::export!(__HearthExport with_types_in $crate::bindings::payments);
            $crate::bindings::config::export!(__HearthExport with_types_in $crate::bindings::config);
        };
    };
}
