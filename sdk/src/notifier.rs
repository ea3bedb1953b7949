//! NotifierPlugin plugins: turn a kernel event into deliveries (inbox, email, webhook).

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use crate::bindings::notifier::exports::hearth::plugins::notifier_plugin::{
    Channel, Delivery, Event, Recipient,
};
pub use crate::types::PluginError;

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

/// Exports a [`NotifierPlugin`] as the component's `notifier` world.
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
