//! `[notifications]`: delivery of what notifier plugins render.

use std::num::NonZeroU64;

use secrecy::SecretString;
use serde::Deserialize;

/// `[notifications]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// `webhook_secret`: the HMAC-SHA256 key outgoing webhooks are signed with (header
    /// `Hearth-Signature: t=<unix seconds>,v1=<hex>` over `"<t>.<body>"`). Required for webhook
    /// deliveries; set it from the environment (`HEARTH_NOTIFICATIONS__WEBHOOK_SECRET`).
    pub webhook_secret: Option<SecretString>,
    /// `webhook_timeout_ms = 5000`: one delivery attempt.
    pub webhook_timeout_ms: NonZeroU64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            webhook_secret: None,
            webhook_timeout_ms: NonZeroU64::new(5000).expect("5000 is not zero"),
        }
    }
}
