//! Review-policy plugins (`kind = "review-policy"`): accept, reject or hold a submitted review, and decide when an accepted
//! review becomes visible.
//!
//! ```
//! use hearth_sdk::review_policy::{Decision, PluginError, ReviewPolicyPlugin, Submission};
//! use hearth_sdk::testing;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Config {
//!     /// Reviews written later than this many days after check-out are refused.
//!     window_days: u32,
//! }
//!
//! struct Window;
//!
//! impl ReviewPolicyPlugin for Window {
//!     type Config = Config;
//!
//!     fn evaluate(config: &Config, s: &Submission) -> Result<Decision, PluginError> {
//!         Ok(if s.days_since_checkout > config.window_days {
//!             Decision::Reject(format!("reviews close {} days after check-out", config.window_days))
//!         } else {
//!             Decision::Accept(s.text.clone())
//!         })
//!     }
//!     // `reveal` keeps its default: visible once both sides have written.
//! }
//!
//! hearth_sdk::export_review_policy!(Window);
//!
//! use hearth_sdk::review_policy::run;
//! let config = serde_json::json!({ "window_days": 14 });
//! let late = Submission { days_since_checkout: 15, ..testing::submission() };
//! assert!(matches!(run::evaluate::<Window>(config.clone(), &late)?, Decision::Reject(_)));
//! assert!(!run::reveal::<Window>(config, &testing::reveal_state())?);
//! # Ok::<(), PluginError>(())
//! ```

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use crate::bindings::review_policy::exports::hearth::plugins::review_policy_plugin::{
    AuthorRole, Decision, RevealState, Submission,
};
pub use crate::types::PluginError;

/// A review policy.
pub trait ReviewPolicyPlugin {
    /// The `[plugins.config]` table, typed.
    type Config: DeserializeOwned + JsonSchema;

    /// Decides on a submission.
    fn evaluate(config: &Self::Config, submission: &Submission) -> Result<Decision, PluginError>;
    /// Whether an accepted review may be shown now. By default, once both sides have written
    /// theirs (a double-blind reveal without a deadline); override it to add one.
    fn reveal(config: &Self::Config, state: &RevealState) -> Result<bool, PluginError> {
        let _ = config;
        Ok(state.both_submitted)
    }
}

/// Native runners for tests, through the same glue as the component.
pub mod run {
    use super::*;

    /// Runs `evaluate`.
    pub fn evaluate<P: ReviewPolicyPlugin>(
        config: serde_json::Value,
        submission: &Submission,
    ) -> Result<Decision, PluginError> {
        P::evaluate(&crate::__parse_config(&config.to_string())?, submission)
    }
    /// Runs `reveal`.
    pub fn reveal<P: ReviewPolicyPlugin>(
        config: serde_json::Value,
        state: &RevealState,
    ) -> Result<bool, PluginError> {
        P::reveal(&crate::__parse_config(&config.to_string())?, state)
    }
}

/// Exports a [`ReviewPolicyPlugin`] as the component's `review-policy` world (its
/// `review-policy-plugin` and `config` interfaces).
#[macro_export]
macro_rules! export_review_policy {
    ($plugin:ty) => {
        // Exports exist only in the component; native builds (unit tests) have none.
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            use $crate::bindings::review_policy::exports::hearth::plugins::review_policy_plugin as __rv;
            use $crate::review_policy::ReviewPolicyPlugin as _;
            struct __HearthExport;
            impl $crate::bindings::config::exports::hearth::plugins::config::Guest for __HearthExport {
                fn config_schema() -> ::std::string::String {
                    $crate::__config_schema::<<$plugin as $crate::review_policy::ReviewPolicyPlugin>::Config>()
                }
            }
            impl __rv::Guest for __HearthExport {
                fn evaluate(config: ::std::string::String, submission: __rv::Submission) -> ::std::result::Result<__rv::Decision, $crate::types::PluginError> {
                    <$plugin>::evaluate(&$crate::__parse_config(&config)?, &submission)
                }
                fn reveal(config: ::std::string::String, state: __rv::RevealState) -> ::std::result::Result<bool, $crate::types::PluginError> {
                    <$plugin>::reveal(&$crate::__parse_config(&config)?, &state)
                }
            }
            $crate::bindings::review_policy::export!(__HearthExport with_types_in $crate::bindings::review_policy);
            $crate::bindings::config::export!(__HearthExport with_types_in $crate::bindings::config);
        };
    };
}
