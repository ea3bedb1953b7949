//! `[telemetry]`: how the kernel logs.

use serde::Deserialize;

use super::error::Checks;

/// `[telemetry]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// `log_format = "human"` or `"json"`.
    pub log_format: LogFormat,
    /// `log_level = "info"`: a tracing filter (`RUST_LOG` wins when set).
    pub log_level: String,
    /// `metrics_token`: the bearer token `GET /metrics` asks for (`HEARTH_TELEMETRY__METRICS_TOKEN`).
    /// Unset, `/metrics` is served only when `server.bind` is loopback (404 otherwise), so a
    /// public listener never shows it to anyone.
    pub metrics_token: Option<secrecy::SecretString>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Human,
            log_level: "info".into(),
            metrics_token: None,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

impl TelemetryConfig {
    /// The level must parse now: a filter that fails at startup would leave the process mute.
    pub(super) fn check(&self, checks: &mut Checks) {
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            checks.invalid(
                "telemetry.log_level",
                "a tracing filter such as `info` or `hearth=debug,sqlx=warn`",
            );
        }
    }
}
