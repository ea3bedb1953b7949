//! One adapter per plugin kind: kernel types in, kernel types out. Each call goes through
//! `super::call::invoke` and so runs in a fresh store under the plugin's limits.

pub mod notifier;
pub mod payments;
pub mod pricing;
pub mod review_policy;

use chrono::{Datelike, NaiveDate};

use super::bindings::common::hearth::plugins::types as wit;
use super::call::invoke;
use super::{KindPre, Plugin, PluginCallError, PluginFailure};

use crate::model::Currency;
pub use crate::model::Money;

impl TryFrom<wit::Money> for Money {
    type Error = PluginFailure;

    /// A plugin's amount, refused as invalid output if its currency is not ISO 4217.
    fn try_from(m: wit::Money) -> Result<Self, PluginFailure> {
        let currency = Currency::parse(&m.currency)
            .map_err(|e| PluginFailure::InvalidOutput(format!("amount {}: {e}", m.minor)))?;
        Ok(Money::new(m.minor, currency))
    }
}

impl From<&Money> for wit::Money {
    fn from(m: &Money) -> Self {
        Self {
            minor: m.minor,
            currency: m.currency.as_str().to_owned(),
        }
    }
}

fn to_wit_date(d: NaiveDate) -> wit::Date {
    wit::Date {
        year: d.year(),
        month: u8::try_from(d.month()).unwrap_or(1),
        day: u8::try_from(d.day()).unwrap_or(1),
    }
}

fn from_wit_date(d: &wit::Date) -> Result<NaiveDate, PluginFailure> {
    NaiveDate::from_ymd_opt(d.year, d.month.into(), d.day.into()).ok_or_else(|| {
        PluginFailure::InvalidOutput(format!("{}-{}-{} is not a date", d.year, d.month, d.day))
    })
}

/// The plugin's exported JSON Schema for its configuration (called at load).
pub(super) async fn config_schema(plugin: &Plugin) -> Result<String, PluginCallError> {
    let pre = plugin.pre.clone();
    invoke(plugin, String::len, false, move |store| {
        Box::pin(async move {
            Ok(Ok(match pre {
                KindPre::Pricing(pre) => {
                    let i = pre.instantiate_async(&mut *store).await?;
                    i.hearth_plugins_config()
                        .call_config_schema(&mut *store)
                        .await?
                }
                KindPre::Payments(pre) => {
                    let i = pre.instantiate_async(&mut *store).await?;
                    i.hearth_plugins_config()
                        .call_config_schema(&mut *store)
                        .await?
                }
                KindPre::ReviewPolicy(pre) => {
                    let i = pre.instantiate_async(&mut *store).await?;
                    i.hearth_plugins_config()
                        .call_config_schema(&mut *store)
                        .await?
                }
                KindPre::Notifier(pre) => {
                    let i = pre.instantiate_async(&mut *store).await?;
                    i.hearth_plugins_config()
                        .call_config_schema(&mut *store)
                        .await?
                }
            }))
        })
    })
    .await
    .0
}

/// The error for a call to a plugin of the wrong kind (a kernel bug, not an operator's).
fn wrong_kind(plugin: &Plugin, wanted: &str) -> PluginCallError {
    PluginCallError::Trap {
        plugin: plugin.info.id.clone(),
        message: format!(
            "called as a {wanted} plugin but it is a {} plugin",
            plugin.info.kind
        ),
    }
}
