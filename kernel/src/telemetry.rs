//! Telemetry: `tracing` to stdout, human-readable by default or JSON lines by config. `RUST_LOG`
//! overrides `telemetry.log_level`. Spans carry dotted fields (`request.id`, `account.id`);
//! passwords, tokens and emails are never recorded.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, TelemetryConfig};

/// Installs the global subscriber; a second call (as in tests) is a no-op.
pub fn init(config: &TelemetryConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.log_format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
