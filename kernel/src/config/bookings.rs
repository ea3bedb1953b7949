//! `[bookings]` and `[payments]`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `[bookings]`: the booking timers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookingsConfig {
    /// `hold_minutes = 15`: a booking waiting for its payment (`pending_payment`) expires after
    /// this long and its nights are free again.
    pub hold_minutes: u32,
    /// `request_hours = 24`: a request the host has not answered expires after this long.
    pub request_hours: u32,
}

impl Default for BookingsConfig {
    fn default() -> Self {
        Self {
            hold_minutes: 15,
            request_hours: 24,
        }
    }
}

/// `[payments]`: which payments plugin moves money for which currency.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    /// `default_provider = "payments-sandbox"`: the payments plugin for currencies not listed in
    /// `providers`.
    pub default_provider: Option<String>,
    /// `[payments.providers]`: a payments plugin per currency, e.g. `EUR = "payments-invoice"`.
    pub providers: BTreeMap<String, String>,
    /// `reconcile_after_secs = 60`: a provider call whose outcome was not recorded this long
    /// after it started (a crash or a failing provider) is settled by the reconciliation job.
    pub reconcile_after_secs: u64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            default_provider: None,
            providers: BTreeMap::new(),
            reconcile_after_secs: 60,
        }
    }
}

impl PaymentsConfig {
    /// The plugin id for `currency`.
    pub fn provider_for(&self, currency: &str) -> Option<&str> {
        self.providers
            .get(currency)
            .or(self.default_provider.as_ref())
            .map(String::as_str)
    }
}
