//! `[[plugins]]`: which WebAssembly plugins to load, pinned how, limited how, allowed what, and
//! configured how. Paths are relative to the configuration file's folder.

use std::collections::HashSet;
use std::fmt;
use std::num::NonZeroU64;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

use super::error::Checks;

/// The largest memory a plugin may be given. The engine's pooling allocator reserves slots of
/// this size, so it is a hard ceiling rather than a default.
pub const MAX_PLUGIN_MEMORY_MIB: u64 = 64;

/// One `[[plugins]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// `id = "cleaning-fee"`: unique; lower-case letters, digits and `-`.
    pub id: PluginId,
    /// `kind = "pricing"`: `pricing`, `payments`, `review-policy` or `notifier`; the component
    /// must implement that world.
    pub kind: PluginKind,
    /// `path = "../plugins/dist/x.wasm"`: the component file.
    pub path: PathBuf,
    /// `sha256 = "<64 hex digits>"`: the file's pinned digest.
    #[serde(default)]
    pub sha256: Option<Sha256Pin>,
    /// `sha256_from = "../plugins/dist/SHA256SUMS"`: take the pin from a `sha256sum`-format file
    /// written by the build, by the component's file name (instead of `sha256`).
    #[serde(default)]
    pub sha256_from: Option<PathBuf>,
    /// `order = 10`: position in its kind's chain, lowest first (ties by id).
    #[serde(default)]
    pub order: i32,
    /// `on_error = "fail-closed"`: on a trap, timeout, limit breach or plugin error, fail the
    /// caller (`fail-closed`) or carry on without this plugin (`fail-open`).
    #[serde(default)]
    pub on_error: OnError,
    /// `capabilities = ["log", "clock"]`: host imports this plugin may use.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// `http_allow = ["https://api.example.com"]`: origins (scheme, host and port; the port
    /// defaults to the scheme's) the `http` capability, and a notifier's webhooks, may reach.
    #[serde(default)]
    pub http_allow: Vec<HttpOrigin>,
    /// `events = ["booking_requested", "booking_confirmed"]`: for a notifier, the event kinds
    /// it is given (every kind when absent). The kernel filters before it queues any work, so
    /// an event no notifier wants costs no job.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// `[plugins.limits]`
    #[serde(default)]
    pub limits: PluginLimits,
    /// `[plugins.config]`: handed to the plugin as JSON, validated against its own schema.
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// `[plugins.limits]`: what one call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimits {
    /// `fuel = 11000000`: WebAssembly instructions (roughly) per call.
    pub fuel: NonZeroU64,
    /// `memory_mib = 16`: linear memory per call (at most 64).
    pub memory_mib: NonZeroU64,
    /// `timeout_ms = 50`: wall-clock time per call.
    pub timeout_ms: NonZeroU64,
    /// `output_kib = 256`: size of what a call may return.
    pub output_kib: NonZeroU64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            fuel: NonZeroU64::new(11_000_000).expect("11000000 is not zero"),
            memory_mib: NonZeroU64::new(16).expect("16 is not zero"),
            timeout_ms: NonZeroU64::new(50).expect("50 is not zero"),
            output_kib: NonZeroU64::new(256).expect("256 is not zero"),
        }
    }
}

impl PluginConfig {
    /// Checks one entry, the `i`th of `[[plugins]]`; `seen` holds the ids of the entries before
    /// it.
    fn check<'a>(&'a self, i: usize, seen: &mut HashSet<&'a str>, checks: &mut Checks) {
        let at = |key: &str| format!("plugins[{i}].{key}");
        if !seen.insert(self.id.as_str()) {
            checks.invalid(at("id"), "an id not used by another plugin");
        }
        match (&self.sha256, &self.sha256_from) {
            (None, None) => checks.invalid(
                at("sha256"),
                "a pin: `sha256 = \"<64 hex digits>\"` or `sha256_from = \"SHA256SUMS\"`",
            ),
            (Some(_), Some(_)) => checks.invalid(
                at("sha256_from"),
                "either `sha256` or `sha256_from`, not both",
            ),
            _ => {}
        }
        if self.limits.memory_mib.get() > MAX_PLUGIN_MEMORY_MIB {
            checks.invalid(at("limits.memory_mib"), "1 to 64 (MiB)");
        }
        if !self.config.is_object() {
            checks.invalid(at("config"), "a table");
        }
        if !self.http_allow.is_empty() && !self.capabilities.contains(&Capability::Http) {
            checks.invalid(at("http_allow"), "the `http` capability to be granted too");
        }
        if let Some(events) = &self.events {
            if self.kind != PluginKind::Notifier {
                checks.invalid(
                    at("events"),
                    "no `events` key: only notifiers receive events",
                );
            }
            if let Some(unknown) = events.iter().find(|e| !crate::model::is_event_kind(e)) {
                checks.invalid(
                    at("events"),
                    format!(
                        "event kinds among {}, or `plugin.<plugin id>.<topic>` (`{unknown}` is \
                         not one)",
                        crate::model::EVENT_KINDS.join(", ")
                    ),
                );
            }
        }
    }
}

/// Checks every `[[plugins]]` entry, and that no two share an id.
pub(super) fn check_all(plugins: &[PluginConfig], checks: &mut Checks) {
    let mut seen = HashSet::new();
    for (i, plugin) in plugins.iter().enumerate() {
        plugin.check(i, &mut seen, checks);
    }
}

/// A plugin id: 1-64 characters of `a-z`, `0-9` and `-`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct PluginId(String);

impl PluginId {
    /// Parses an id.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid plugin id `{s}`: expected 1-64 characters of a-z, 0-9 and `-`"
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl<'de> Deserialize<'de> for PluginId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PluginId::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A pinned SHA-256 digest: 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Sha256Pin(String);

impl Sha256Pin {
    /// Parses 64 hex digits (either case).
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(format!("invalid sha256 `{s}`: expected 64 hex digits"))
        }
    }

    /// The digest as lower-case hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Sha256Pin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Sha256Pin::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One `http_allow` entry: a scheme, a host and a port, written as an origin
/// (`https://api.example.com`, `http://10.1.2.3:8080`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOrigin {
    scheme: String,
    host: String,
    port: u16,
}

impl HttpOrigin {
    /// Parses an `http://` or `https://` origin: no path, query, fragment or credentials.
    pub fn parse(s: &str) -> Result<Self, String> {
        let expected = || {
            format!(
                "`{s}` is not an origin like \"https://api.example.com\" (a scheme, a host \
                 and an optional port; nothing else)"
            )
        };
        let url = url::Url::parse(s).map_err(|_| expected())?;
        let plain = matches!(url.scheme(), "http" | "https")
            && url.path() == "/"
            && !s.ends_with('/')
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        match (plain, url.host_str(), url.port_or_known_default()) {
            (true, Some(host), Some(port)) => Ok(Self {
                scheme: url.scheme().to_owned(),
                host: host.to_owned(),
                port,
            }),
            _ => Err(expected()),
        }
    }

    /// Whether `url` is on this origin (same scheme, host and port).
    pub fn matches(&self, url: &url::Url) -> bool {
        url.scheme() == self.scheme
            && url.host_str() == Some(self.host.as_str())
            && url.port_or_known_default() == Some(self.port)
    }

    /// The origin of `url`, written as an entry would be (`https://host:443`).
    pub fn describe(url: &url::Url) -> String {
        format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        )
    }
}

impl fmt::Display for HttpOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

impl<'de> Deserialize<'de> for HttpOrigin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        HttpOrigin::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The plugin kinds, one WIT world each.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// Prices stays (world `pricing`).
    Pricing,
    /// Moves money (world `payments`).
    Payments,
    /// Judges reviews (world `review-policy`).
    ReviewPolicy,
    /// Sends notifications (world `notifier`).
    Notifier,
}

impl PluginKind {
    /// Every kind.
    pub const ALL: [PluginKind; 4] = [
        PluginKind::Pricing,
        PluginKind::Payments,
        PluginKind::ReviewPolicy,
        PluginKind::Notifier,
    ];

    /// The name used in TOML and in the WIT world.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Pricing => "pricing",
            PluginKind::Payments => "payments",
            PluginKind::ReviewPolicy => "review-policy",
            PluginKind::Notifier => "notifier",
        }
    }

    /// Parses the TOML name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What to do when a plugin call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// The caller gets the error.
    #[default]
    FailClosed,
    /// The caller proceeds without this plugin's contribution.
    FailOpen,
}

/// A host capability a plugin may be granted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// Write to the kernel log.
    Log,
    /// Read the time.
    Clock,
    /// A private cache namespace.
    Cache,
    /// Publish events.
    Events,
    /// Outbound HTTP to `http_allow` hosts.
    Http,
    /// Send email.
    Mail,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 6] = [
        Capability::Log,
        Capability::Clock,
        Capability::Cache,
        Capability::Events,
        Capability::Http,
        Capability::Mail,
    ];

    /// The TOML name, which is also the WIT interface name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Log => "log",
            Capability::Clock => "clock",
            Capability::Cache => "cache",
            Capability::Events => "events",
            Capability::Http => "http",
            Capability::Mail => "mail",
        }
    }

    /// Parses a WIT interface name.
    pub fn from_interface(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}
