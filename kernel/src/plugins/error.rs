//! What can go wrong: setting the host up, loading a set (every problem, by plugin), and one
//! call (typed, so callers and counters can tell a trap from a timeout from a plugin's own
//! refusal).

use serde::Serialize;

use super::bindings;
use crate::config::PluginId;

/// The host could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PluginHostError {
    /// The engine, cache or linker failed to initialise.
    #[error("plugin engine: {0}")]
    Engine(String),
}

/// Why a set of plugins was refused: every problem found, by plugin.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct LoadErrors(pub Vec<LoadProblem>);

impl LoadErrors {
    fn render(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One plugin that could not be loaded.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("plugin `{plugin}` ({path}): {message}")]
pub struct LoadProblem {
    /// The plugin's id.
    pub plugin: PluginId,
    /// Its component file as configured.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A plugin's own error, as the WIT `plugin-error` says, or output the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum PluginFailure {
    /// The input cannot be handled.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The configuration is unusable for this call.
    #[error("configuration: {0}")]
    Config(String),
    /// A dependency is unavailable.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else the plugin reported.
    #[error("internal: {0}")]
    Internal(String),
    /// The plugin answered, but with something the kernel refuses (e.g. a foreign currency).
    #[error("invalid output: {0}")]
    InvalidOutput(String),
}

impl From<bindings::common::hearth::plugins::types::PluginError> for PluginFailure {
    fn from(e: bindings::common::hearth::plugins::types::PluginError) -> Self {
        use bindings::common::hearth::plugins::types::PluginError as E;
        match e {
            E::InvalidInput(m) => PluginFailure::InvalidInput(m),
            E::Config(m) => PluginFailure::Config(m),
            E::Unavailable(m) => PluginFailure::Unavailable(m),
            E::Internal(m) => PluginFailure::Internal(m),
        }
    }
}

/// A failed plugin call. Only this call failed; the plugin and the kernel carry on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginCallError {
    /// The guest trapped (panic, unreachable, stack overflow, bad memory access, failed host
    /// call) or could not be instantiated.
    #[error("plugin `{plugin}` trapped: {message}")]
    Trap {
        /// Which plugin.
        plugin: PluginId,
        /// What happened.
        message: String,
    },
    /// The call ran past its wall-clock limit.
    #[error("plugin `{plugin}` timed out after {limit_ms} ms")]
    Timeout {
        /// Which plugin.
        plugin: PluginId,
        /// The limit.
        limit_ms: u64,
    },
    /// The call used all its fuel.
    #[error("plugin `{plugin}` ran out of fuel ({limit} units)")]
    Fuel {
        /// Which plugin.
        plugin: PluginId,
        /// The limit.
        limit: u64,
    },
    /// The call tried to grow memory past its cap.
    #[error("plugin `{plugin}` exceeded its memory limit of {limit_mib} MiB")]
    Memory {
        /// Which plugin.
        plugin: PluginId,
        /// The limit.
        limit_mib: u64,
    },
    /// The call returned more than its output cap.
    #[error("plugin `{plugin}` returned {size} bytes, over its output limit of {limit}")]
    Output {
        /// Which plugin.
        plugin: PluginId,
        /// What it returned.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The plugin reported an error of its own, or its output was refused.
    #[error("plugin `{plugin}` failed: {failure}")]
    Plugin {
        /// Which plugin.
        plugin: PluginId,
        /// Its error.
        failure: PluginFailure,
    },
}

impl PluginCallError {
    /// The outcome label: `trap`, `timeout`, `fuel`, `memory`, `output` or `plugin`.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginCallError::Trap { .. } => "trap",
            PluginCallError::Timeout { .. } => "timeout",
            PluginCallError::Fuel { .. } => "fuel",
            PluginCallError::Memory { .. } => "memory",
            PluginCallError::Output { .. } => "output",
            PluginCallError::Plugin { .. } => "plugin",
        }
    }
}

impl PluginFailure {
    /// The label of this kind of failure (`invalid_input`, `config`, ...), without its words.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginFailure::InvalidInput(_) => "invalid_input",
            PluginFailure::Config(_) => "config",
            PluginFailure::Unavailable(_) => "unavailable",
            PluginFailure::Internal(_) => "internal",
            PluginFailure::InvalidOutput(_) => "invalid_output",
        }
    }
}

impl PluginCallError {
    /// This error for the log and for error causes: what the plugin itself wrote (its error's
    /// message, a panic message) is left out, since it may carry a provider's words or personal
    /// data. The full error (its `Display`) goes only where admins read it, e.g. the payments
    /// ledger's detail.
    pub fn redacted(&self) -> Redacted<'_> {
        Redacted(self)
    }
}

/// See [`PluginCallError::redacted`].
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'a>(&'a PluginCallError);

impl std::fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            PluginCallError::Trap { plugin, .. } => write!(f, "plugin `{plugin}` trapped"),
            PluginCallError::Plugin { plugin, failure } => {
                write!(f, "plugin `{plugin}` failed: {}", failure.kind())
            }
            // The rest are the kernel's own words.
            other => write!(f, "{other}"),
        }
    }
}

/// Every outcome label, for counters.
pub const OUTCOMES: [&str; 7] = [
    "ok", "trap", "timeout", "fuel", "memory", "output", "plugin",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redacted_form_leaves_out_what_the_plugin_wrote() {
        let plugin = PluginId::parse("payments-x").expect("an id");
        let refused = PluginCallError::Plugin {
            plugin: plugin.clone(),
            failure: PluginFailure::InvalidInput("card 4242424242424242 of ada@example.com".into()),
        };
        assert_eq!(
            refused.redacted().to_string(),
            "plugin `payments-x` failed: invalid_input"
        );
        assert!(
            refused.to_string().contains("ada@example.com"),
            "kept for admins"
        );
        let trapped = PluginCallError::Trap {
            plugin: plugin.clone(),
            message: "panicked: no funds for ada@example.com".into(),
        };
        assert_eq!(
            trapped.redacted().to_string(),
            "plugin `payments-x` trapped"
        );
        let timeout = PluginCallError::Timeout {
            plugin,
            limit_ms: 50,
        };
        assert_eq!(timeout.redacted().to_string(), timeout.to_string());
    }
}
