//! `[payments]`: which payments plugin moves money for which currency.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::Checks;
use super::plugins::{PluginConfig, PluginKind};

/// `[payments]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    /// `default_provider = "payments-sandbox"`: the payments plugin for currencies not listed in
    /// `providers`.
    pub default_provider: Option<String>,
    /// `[payments.providers]`: a payments plugin per currency, e.g. `EUR = "payments-invoice"`.
    pub providers: BTreeMap<String, String>,
    /// `reconcile_after_secs = 60`: a provider call whose outcome was not recorded this long
    /// after it started (a crash or a failing provider) is settled by the reconciliation job
    /// (0: at its next run).
    pub reconcile_after_secs: u64,
    /// `allow_sandbox_payments = false`: let the sandbox provider serve real currencies on a
    /// server bound beyond loopback (a public demo); refused otherwise, naming the key.
    pub allow_sandbox_payments: bool,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            default_provider: None,
            providers: BTreeMap::new(),
            reconcile_after_secs: 60,
            allow_sandbox_payments: false,
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

    /// Every provider named is a `kind = "payments"` plugin of `plugins`, and every currency is
    /// an ISO 4217 code.
    pub(super) fn check(&self, plugins: &[PluginConfig], checks: &mut Checks) {
        let payments: Vec<&str> = plugins
            .iter()
            .filter(|p| p.kind == PluginKind::Payments)
            .map(|p| p.id.as_str())
            .collect();
        let named = self
            .default_provider
            .iter()
            .map(|id| ("payments.default_provider".to_owned(), id))
            .chain(
                self.providers
                    .iter()
                    .map(|(currency, id)| (format!("payments.providers.{currency}"), id)),
            );
        for (key, id) in named {
            if !payments.contains(&id.as_str()) {
                let known = if payments.is_empty() {
                    "there is none".to_owned()
                } else {
                    payments.join(", ")
                };
                checks.invalid(
                    key,
                    format!("the id of a `kind = \"payments\"` plugin in [[plugins]] ({known})"),
                );
            }
        }
        for currency in self.providers.keys() {
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                checks.invalid(
                    format!("payments.providers.{currency}"),
                    "an ISO 4217 currency code such as `EUR`",
                );
            }
        }
    }
}
