//! Notifier plugins (`kind = "notifier"`): turn a kernel event into deliveries (inbox, email,
//! webhook). The kernel hands over the people an event concerns as typed
//! [`Event::recipients`]; the plugin renders, the kernel delivers.
//!
//! ```
//! use hearth_sdk::notifier::{Channel, Delivery, Event, NotifierPlugin, PluginError, Recipient};
//! use hearth_sdk::testing;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Config {}
//!
//! /// One inbox message per recipient with an account.
//! struct Hello;
//!
//! impl NotifierPlugin for Hello {
//!     type Config = Config;
//!
//!     fn notify(_: &Config, event: &Event) -> Result<Vec<Delivery>, PluginError> {
//!         Ok(event
//!             .recipients
//!             .iter()
//!             .filter(|r| r.account_id.is_some())
//!             .map(|r| Delivery {
//!                 recipient: r.account_id.clone(),
//!                 channel: Channel::Inbox,
//!                 subject: event.kind.replace('_', " "),
//!                 body: format!("Hi {}!", r.display_name.as_deref().unwrap_or("there")),
//!             })
//!             .collect())
//!     }
//! }
//!
//! hearth_sdk::export_notifier!(Hello);
//!
//! let event = testing::event("booking_confirmed")
//!     .with_recipient(Recipient::account("a1").named("Ada"))
//!     .with_recipient(Recipient::address("grace@example.com"));
//! let out = hearth_sdk::notifier::run::<Hello>(serde_json::json!({}), &event)?;
//! assert_eq!(out.len(), 1);
//! assert_eq!(out[0].body, "Hi Ada!");
//! # Ok::<(), PluginError>(())
//! ```

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use crate::bindings::notifier::exports::hearth::plugins::notifier_plugin::{
    Channel, Delivery, Event, Recipient,
};
pub use crate::types::PluginError;

impl Event {
    /// The same event with one more recipient (for tests; the kernel fills them in).
    pub fn with_recipient(mut self, recipient: Recipient) -> Self {
        self.recipients.push(recipient);
        self
    }

    /// The same event with `payload` as its data.
    pub fn with_payload(mut self, payload: serde_json::Value) -> Self {
        self.payload_json = payload.to_string();
        self
    }

    /// The event's payload parsed as JSON; an error is [`PluginError::InvalidInput`].
    pub fn payload(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::from_str(&self.payload_json)
            .map_err(|e| PluginError::InvalidInput(format!("payload is not JSON: {e}")))
    }
}

impl Recipient {
    /// Someone with an account (a UUID string), with no address or name known yet.
    pub fn account(id: impl Into<String>) -> Self {
        Self {
            account_id: Some(id.into()),
            email: None,
            display_name: None,
        }
    }

    /// Someone known only by an email address.
    pub fn address(email: impl Into<String>) -> Self {
        Self {
            account_id: None,
            email: Some(email.into()),
            display_name: None,
        }
    }

    /// The same recipient, with an email address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// The same recipient, with a display name.
    pub fn named(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }
}

/// A notifier.
pub trait NotifierPlugin {
    /// The `[plugins.config]` table, typed.
    type Config: DeserializeOwned + JsonSchema;

    /// Renders an event into deliveries (possibly none).
    fn notify(config: &Self::Config, event: &Event) -> Result<Vec<Delivery>, PluginError>;
}

/// Runs a notifier natively, through the same glue as the component (for tests).
pub fn run<P: NotifierPlugin>(
    config: serde_json::Value,
    event: &Event,
) -> Result<Vec<Delivery>, PluginError> {
    P::notify(&crate::__parse_config(&config.to_string())?, event)
}

/// Exports a [`NotifierPlugin`] as the component's `notifier` world (its `notifier-plugin`
/// and `config` interfaces).
#[macro_export]
macro_rules! export_notifier {
    ($plugin:ty) => {
        // Exports exist only in the component; native builds (unit tests) have none.
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            use $crate::bindings::notifier::exports::hearth::plugins::notifier_plugin as __nt;
            use $crate::notifier::NotifierPlugin as _;
            struct __HearthExport;
            impl $crate::bindings::config::exports::hearth::plugins::config::Guest for __HearthExport {
                fn config_schema() -> ::std::string::String {
                    $crate::__config_schema::<<$plugin as $crate::notifier::NotifierPlugin>::Config>()
                }
            }
            impl __nt::Guest for __HearthExport {
                fn notify(config: ::std::string::String, event: __nt::Event) -> ::std::result::Result<::std::vec::Vec<__nt::Delivery>, $crate::types::PluginError> {
                    <$plugin>::notify(&$crate::__parse_config(&config)?, &event)
                }
            }
            $crate::bindings::notifier::export!(__HearthExport with_types_in $crate::bindings::notifier);
            $crate::bindings::config::export!(__HearthExport with_types_in $crate::bindings::config);
        };
    };
}
