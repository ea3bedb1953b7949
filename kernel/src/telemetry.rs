//! Telemetry: `tracing` to stdout, human-readable by default or JSON lines by config. `RUST_LOG`
//! overrides `telemetry.log_level`. Spans carry dotted fields (`request.id`, `account.id`);
//! passwords, tokens and emails are never recorded.
//!
//! Lines are formatted on the thread that logs and written by a dedicated thread
//! (`tracing-appender`'s non-blocking writer), so a request never waits on stdout. The buffer
//! holds 128k lines; when a slow reader fills it, writers wait rather than lose lines. Colours
//! only go to a terminal.

use std::io::IsTerminal;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, TelemetryConfig};

/// Keeps the log writer running; dropping it flushes what is buffered.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
}

/// Installs the global subscriber; a second call is a no-op (its guard holds nothing).
pub fn init(config: &TelemetryConfig) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stdout().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("hearth-log")
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    let installed = match config.log_format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    LogGuard {
        _writer: installed.is_ok().then_some(guard),
    }
}
