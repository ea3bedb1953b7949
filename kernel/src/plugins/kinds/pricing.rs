//! The pricing adapter: a stay and the line items so far in, the plugin's added items out; and
//! the ordered chain with its `on_error` policy.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{from_wit_date, invoke, to_wit_date, wit, wrong_kind, Money};
use crate::config::{OnError, PluginKind};
use crate::model::Currency;
use crate::plugins::{KindPre, Plugin, PluginCallError, PluginFailure, PluginSet};

/// A stay being priced: nights `[check_in, check_out)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stay {
    /// The listing (a UUID string).
    pub listing_id: String,
    /// First night.
    pub check_in: NaiveDate,
    /// Departure day (not a night).
    pub check_out: NaiveDate,
    /// Guests.
    pub guests: u32,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// City.
    pub city: String,
    /// Currency of every amount.
    pub currency: Currency,
}

impl Stay {
    /// Nights in the stay.
    pub fn nights(&self) -> u32 {
        u32::try_from((self.check_out - self.check_in).num_days()).unwrap_or(0)
    }

    fn to_wit(&self) -> wit::Stay {
        wit::Stay {
            listing_id: self.listing_id.clone(),
            check_in: to_wit_date(self.check_in),
            check_out: to_wit_date(self.check_out),
            nights: self.nights(),
            guests: self.guests,
            country: self.country.clone(),
            city: self.city.clone(),
            currency: self.currency.as_str().to_owned(),
        }
    }
}

/// One line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// Stable code, e.g. `nightly`, `cleaning-fee`.
    pub code: String,
    /// Shown to the guest.
    pub description: String,
    /// Amount (negative for discounts).
    pub amount: Money,
    /// The night it prices, if per night.
    #[serde(default)]
    pub night: Option<NaiveDate>,
    /// Who produced it: `kernel` or a plugin id.
    #[serde(default)]
    pub source: String,
}

impl LineItem {
    fn to_wit(&self) -> wit::LineItem {
        wit::LineItem {
            code: self.code.clone(),
            description: self.description.clone(),
            amount: (&self.amount).into(),
            night: self.night.map(to_wit_date),
            source: self.source.clone(),
        }
    }

    fn from_wit(item: wit::LineItem, source: &str) -> Result<Self, PluginFailure> {
        Ok(Self {
            night: item.night.as_ref().map(from_wit_date).transpose()?,
            code: item.code,
            description: item.description,
            amount: item.amount.try_into()?,
            source: source.to_owned(),
        })
    }

    fn size(&self) -> usize {
        self.code.len() + self.description.len() + self.source.len() + 3 + 32
    }
}

/// Calls one pricing plugin: the items it adds, each tagged with its id, all in the stay's
/// currency (anything else is refused as invalid output).
pub async fn price(
    plugin: &Plugin,
    stay: &Stay,
    items: &[LineItem],
) -> Result<Vec<LineItem>, PluginCallError> {
    let KindPre::Pricing(pre) = &plugin.pre else {
        return Err(wrong_kind(plugin, "pricing"));
    };
    let wit_stay = stay.to_wit();
    let wit_items: Vec<wit::LineItem> = items.iter().map(LineItem::to_wit).collect();
    let (pre, config, id) = (
        pre.clone(),
        plugin.config_json.clone(),
        plugin.info.id.clone(),
    );
    let size = |items: &Vec<LineItem>| items.iter().map(LineItem::size).sum();
    invoke(plugin, size, true, move |store| {
        Box::pin(async move {
            let instance = pre.instantiate_async(&mut *store).await?;
            let out = instance
                .hearth_plugins_pricing_plugin()
                .call_price(&mut *store, &config, &wit_stay, &wit_items)
                .await?;
            Ok(out.map_err(PluginFailure::from).and_then(|items| {
                items
                    .into_iter()
                    .map(|item| {
                        if item.amount.currency != wit_stay.currency {
                            return Err(PluginFailure::InvalidOutput(format!(
                                "item `{}` is in {}, the stay is in {}",
                                item.code, item.amount.currency, wit_stay.currency
                            )));
                        }
                        LineItem::from_wit(item, id.as_str())
                    })
                    .collect()
            }))
        })
    })
    .await
    .0
}

/// The result of running the pricing chain.
#[derive(Debug, Clone)]
pub struct Priced {
    /// Every item: the base items followed by each plugin's, in chain order.
    pub items: Vec<LineItem>,
    /// Fail-open plugins that failed and were skipped.
    pub skipped: Vec<PluginCallError>,
}

/// Runs every pricing plugin of `set` in order, each seeing the items so far. A failing
/// `fail-closed` plugin fails the chain; a failing `fail-open` one is skipped.
pub async fn run_chain(
    set: &PluginSet,
    stay: &Stay,
    base: Vec<LineItem>,
) -> Result<Priced, PluginCallError> {
    let mut items = base;
    let mut skipped = Vec::new();
    for plugin in set.of_kind(PluginKind::Pricing) {
        match price(plugin, stay, &items).await {
            Ok(added) => items.extend(added),
            Err(e) if plugin.info.on_error == OnError::FailOpen => skipped.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok(Priced { items, skipped })
}
