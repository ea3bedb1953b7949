//! `[bus]`, `[jobs]`, `[mail]` and `[notifications]`: the asynchronous side of the kernel.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// `[bus]`: the outbox relay and its subscribers. The transport follows `[cache]`: in-process on
/// the memory cache, Redis Streams consumer groups when `cache.backend = "redis"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `poll_interval_ms = 100`: how often the relay looks for newly committed events.
    pub poll_interval_ms: u64,
    /// `batch_size = 256`: events the relay moves per round.
    pub batch_size: u32,
    /// `max_attempts = 5`: a subscriber that fails an event this many times in a row gives up on
    /// it (recorded as a dead receipt and counted in `hearth_bus_events_total`).
    pub max_attempts: u32,
    /// `retry_base_ms = 50`: the first retry delay; it doubles each attempt.
    pub retry_base_ms: u64,
    /// `reclaim_idle_secs = 30` (Redis): an event a consumer took but did not acknowledge for this
    /// long (its process died) is taken over by another consumer of the group.
    pub reclaim_idle_secs: u64,
    /// `stream_max_len = 100000` (Redis): the stream is trimmed to about this many entries.
    pub stream_max_len: u64,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 100,
            batch_size: 256,
            max_attempts: 5,
            retry_base_ms: 50,
            reclaim_idle_secs: 30,
            stream_max_len: 100_000,
        }
    }
}

/// `[jobs]`: durable background jobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// `concurrency = 4`: jobs one process runs at once.
    pub concurrency: u32,
    /// `poll_interval_ms = 250`: how often an idle worker looks for due jobs.
    pub poll_interval_ms: u64,
    /// `lease_secs = 60`: a claimed job belongs to its worker this long, renewed while it runs; a
    /// job whose worker died is claimed again once the lease runs out.
    pub lease_secs: u64,
    /// `max_attempts = 8`: attempts before a job is dead-lettered.
    pub max_attempts: u32,
    /// `backoff_base_ms = 1000`: the delay before the first retry; it doubles each attempt, with
    /// jitter, up to `backoff_max_secs`.
    pub backoff_base_ms: u64,
    /// `backoff_max_secs = 3600`
    pub backoff_max_secs: u64,
    /// `shutdown_grace_secs = 10`: on shutdown, running jobs get this long to finish; the rest
    /// are released back to the queue.
    pub shutdown_grace_secs: u64,
    /// `retention_days = 7`: succeeded jobs, and events published with their receipts, are
    /// deleted after this long by the `prune_history` timer (dead jobs stay).
    pub retention_days: u32,
    /// `[jobs.schedules]`: cron expressions (with seconds) for the kernel's timers, by name,
    /// e.g. `purge_expired_quotes = "0 */15 * * * *"`.
    pub schedules: BTreeMap<String, CronSchedule>,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            poll_interval_ms: 250,
            lease_secs: 60,
            max_attempts: 8,
            backoff_base_ms: 1000,
            backoff_max_secs: 3600,
            shutdown_grace_secs: 10,
            retention_days: 7,
            schedules: BTreeMap::new(),
        }
    }
}

impl JobsConfig {
    /// The lease as a [`Duration`].
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
}

/// A parsed cron expression (`sec min hour day-of-month month day-of-week [year]`).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    schedule: cron::Schedule,
}

impl CronSchedule {
    /// The parsed schedule.
    pub fn schedule(&self) -> &cron::Schedule {
        &self.schedule
    }
}

impl FromStr for CronSchedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        cron::Schedule::from_str(s)
            .map(|schedule| Self { schedule })
            .map_err(|e| format!("a cron expression with seconds, e.g. \"0 */15 * * * *\" ({e})"))
    }
}

impl<'de> Deserialize<'de> for CronSchedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// The kernel's timers and their default schedules; `[jobs.schedules]` may override these and
/// only these.
pub const DEFAULT_SCHEDULES: &[(&str, &str)] = &[
    ("purge_expired_quotes", "0 */15 * * * *"),
    ("prune_history", "0 30 3 * * *"),
    ("expire_bookings", "0 * * * * *"),
    ("complete_stays", "0 */10 * * * *"),
    ("reconcile_payments", "30 * * * * *"),
    ("reveal_reviews", "0 */5 * * * *"),
];

/// `[mail]`: how the kernel sends email (the `mail` capability and email notifications).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `transport = "none"` (sending fails with a clear error), `"log"` (written to the log, for
    /// development) or `"smtp"`.
    pub transport: MailTransportKind,
    /// `from = "Hearth <no-reply@localhost>"`
    pub from: String,
    /// `smtp_host = "127.0.0.1"`
    pub smtp_host: String,
    /// `smtp_port = 25`
    pub smtp_port: u16,
    /// `smtp_tls = "none"`, `"starttls"` or `"tls"` (implicit TLS, usually port 465).
    pub smtp_tls: SmtpTls,
    /// `smtp_username`: with `smtp_password`, enables authentication.
    pub smtp_username: Option<String>,
    /// `smtp_password`
    pub smtp_password: Option<SecretString>,
    /// `timeout_ms = 10000`: one SMTP conversation.
    pub timeout_ms: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransportKind::None,
            from: "Hearth <no-reply@localhost>".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password: None,
            timeout_ms: 10_000,
        }
    }
}

/// Mail transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// No mail: sending fails.
    None,
    /// Messages are logged, not sent.
    Log,
    /// An SMTP server.
    Smtp,
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a local relay or test sink).
    None,
    /// Upgrade with STARTTLS (required).
    Starttls,
    /// Implicit TLS.
    Tls,
}

/// `[notifications]`: delivery of what notifier plugins render.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// `webhook_secret`: the HMAC-SHA256 key outgoing webhooks are signed with (header
    /// `Hearth-Signature: t=<unix seconds>,v1=<hex>` over `"<t>.<body>"`). Required for webhook
    /// deliveries; set it from the environment (`HEARTH_NOTIFICATIONS__WEBHOOK_SECRET`).
    pub webhook_secret: Option<SecretString>,
    /// `webhook_timeout_ms = 5000`: one delivery attempt.
    pub webhook_timeout_ms: u64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            webhook_secret: None,
            webhook_timeout_ms: 5000,
        }
    }
}
