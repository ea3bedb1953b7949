//! Plugin settings from the environment, so secrets need not sit in the configuration file:
//! `HEARTH_PLUGINS__<ID>__<KEY>` by plugin id, or a `{ secret_env = "NAME" }` value.

use std::path::Path;

use super::error::{ConfigError, Problem};
use super::plugins::{PluginConfig, PluginId};

/// The environment variable prefix of plugin settings: `HEARTH_PLUGINS__<ID>__<KEY>`.
const PLUGIN_ENV_PREFIX: &str = "HEARTH_PLUGINS__";

/// A plugin id as it is spelled in an environment variable: upper case, `-` as `_`.
fn env_spelling(id: &PluginId) -> String {
    id.as_str().to_ascii_uppercase().replace('-', "_")
}

/// Fills plugin settings in from `vars` (the environment), so secrets need not sit in the file:
/// `HEARTH_PLUGINS__<ID>__<KEY>=value` sets `<key>` (lower case) of that plugin's
/// `[plugins.config]`, and a value written `{ secret_env = "NAME" }` is replaced by the variable
/// `NAME`. Both give strings. An unknown id or an unset variable is a problem naming it.
pub(super) fn settings_from_env(
    plugins: &mut [PluginConfig],
    vars: &[(String, String)],
    file: Option<&Path>,
) -> Result<(), ConfigError> {
    let origin = file.map_or_else(|| "configuration".into(), |p| p.display().to_string());
    let mut problems = Vec::new();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix(PLUGIN_ENV_PREFIX) else {
            continue;
        };
        let target = rest.split_once("__").and_then(|(id, key)| {
            let plugin = plugins.iter_mut().find(|p| env_spelling(&p.id) == id)?;
            Some((plugin, key.to_ascii_lowercase()))
        });
        match target {
            Some((plugin, key)) if !key.is_empty() => {
                if let Some(config) = plugin.config.as_object_mut() {
                    config.insert(key, serde_json::Value::String(value.clone()));
                }
            }
            _ => {
                problems.push(Problem {
                    origin: format!("environment variable {name}"),
                    key: "plugins".into(),
                    message: format!(
                    "expected {PLUGIN_ENV_PREFIX}<ID>__<KEY> naming a [[plugins]] entry by its \
                     id in upper case with `-` as `_` ({})",
                    plugins.iter().map(|p| env_spelling(&p.id)).collect::<Vec<_>>().join(", ")
                ),
                })
            }
        }
    }
    let lookup = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    for (i, plugin) in plugins.iter_mut().enumerate() {
        resolve_secret_env(
            &mut plugin.config,
            &format!("plugins[{i}].config"),
            &lookup,
            &mut |key, name| {
                problems.push(Problem {
                    origin: origin.clone(),
                    key,
                    message: format!(
                        "expected the environment variable {name} (its secret_env) to be set"
                    ),
                });
            },
        );
    }
    ConfigError::of(problems)
}

/// Replaces every `{ secret_env = "NAME" }` under `value` by the variable's value; `missing` is
/// told the key and the name of each one that is not set.
fn resolve_secret_env(
    value: &mut serde_json::Value,
    at: &str,
    lookup: &impl Fn(&str) -> Option<String>,
    missing: &mut impl FnMut(String, &str),
) {
    match value {
        serde_json::Value::Object(map) => {
            let reference = match (map.len(), map.get("secret_env")) {
                (1, Some(serde_json::Value::String(name))) => Some(name.clone()),
                _ => None,
            };
            if let Some(name) = reference {
                match lookup(&name) {
                    Some(secret) => *value = serde_json::Value::String(secret),
                    None => missing(at.to_owned(), &name),
                }
                return;
            }
            for (key, v) in map.iter_mut() {
                resolve_secret_env(v, &format!("{at}.{key}"), lookup, missing);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                resolve_secret_env(v, &format!("{at}[{i}]"), lookup, missing);
            }
        }
        _ => {}
    }
}
