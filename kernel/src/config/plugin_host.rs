//! `[plugin_host]`: the WebAssembly engine that runs every plugin.

use std::num::NonZeroU32;
use std::path::PathBuf;

use serde::Deserialize;

/// `[plugin_host]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginHostConfig {
    /// `cache_dir = "../data/plugin-cache"`: where compiled plugin code is cached (keyed by the
    /// component's content and the engine's version and settings), so restarts do not recompile.
    pub cache_dir: PathBuf,
    /// `max_instances = 128`: plugin calls that may run at the same time (instance pool size).
    pub max_instances: NonZeroU32,
}

impl Default for PluginHostConfig {
    fn default() -> Self {
        Self {
            cache_dir: PathBuf::from("../data/plugin-cache"),
            max_instances: NonZeroU32::new(128).expect("128 is not zero"),
        }
    }
}
