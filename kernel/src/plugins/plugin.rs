//! One loaded, pre-instantiated plugin: what an operator sees of it, its call counters and the
//! kind-specific pre-instance its calls start from.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use serde::Serialize;
use wasmtime::Engine;

use super::call::{CallState, PluginContext};
use super::{bindings, CallCost, PluginCallError, OUTCOMES};
use crate::config::{Capability, OnError, PluginId, PluginKind, PluginLimits};
use crate::metrics::{Metrics, PluginCallLabels, PluginLabels};

/// What an operator sees of a loaded plugin.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Id.
    pub id: PluginId,
    /// Kind.
    pub kind: PluginKind,
    /// The component file.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
    /// The contract version it implements.
    pub contract_version: String,
    /// Position in its kind's chain.
    pub order: i32,
    /// Failure policy.
    pub on_error: OnError,
    /// Granted capabilities.
    pub capabilities: Vec<Capability>,
    /// Per-call limits.
    pub limits: PluginLimits,
    /// A notifier's event kinds (all when none).
    pub events: Option<Vec<String>>,
}

impl PluginInfo {
    /// Whether this plugin is given events of `kind` (a notifier without `events` takes all).
    pub fn receives(&self, kind: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.iter().any(|e| e == kind))
    }
}

/// Counters of a plugin's calls since the kernel started (they survive reloads).
#[derive(Debug, Clone, Serialize)]
pub struct PluginStats {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed, by outcome (`trap`, `timeout`, `fuel`, `memory`, `output`, `plugin`).
    pub errors: std::collections::BTreeMap<&'static str, u64>,
    /// Mean wall-clock time per call, in milliseconds.
    pub mean_ms: f64,
    /// Fuel consumed in total.
    pub fuel: u64,
}

#[derive(Clone)]
pub(super) enum KindPre {
    Pricing(bindings::pricing::PricingPre<CallState>),
    Payments(bindings::payments::PaymentsPre<CallState>),
    ReviewPolicy(bindings::review_policy::ReviewPolicyPre<CallState>),
    Notifier(bindings::notifier::NotifierPre<CallState>),
}

/// A plugin's counters, resolved from the metric families once at load so recording a call is
/// a few atomic adds.
pub(super) struct PluginCounters {
    /// One per entry of [`OUTCOMES`], same order.
    outcomes: Vec<Counter>,
    seconds: Counter<f64, AtomicU64>,
    fuel: Counter,
}

impl PluginCounters {
    pub(super) fn new(metrics: &Metrics, id: &PluginId) -> Self {
        let plugin = id.to_string();
        let outcomes = OUTCOMES
            .iter()
            .map(|&outcome| {
                metrics
                    .plugin_calls
                    .get_or_create(&PluginCallLabels {
                        plugin: plugin.clone(),
                        outcome,
                    })
                    .clone()
            })
            .collect();
        let labels = PluginLabels { plugin };
        Self {
            outcomes,
            seconds: metrics.plugin_seconds.get_or_create(&labels).clone(),
            fuel: metrics.plugin_fuel.get_or_create(&labels).clone(),
        }
    }
}

/// A loaded, pre-instantiated plugin.
pub struct Plugin {
    pub(super) info: PluginInfo,
    pub(super) engine: Engine,
    pub(super) pre: KindPre,
    pub(super) config_json: Arc<str>,
    pub(super) context: Arc<PluginContext>,
    pub(super) counters: PluginCounters,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// What the operator configured and what the loader found.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Its counters.
    pub fn stats(&self) -> PluginStats {
        let mut errors = std::collections::BTreeMap::new();
        let mut calls = 0;
        for (outcome, counter) in OUTCOMES.iter().zip(&self.counters.outcomes) {
            let n = counter.get();
            calls += n;
            if *outcome != "ok" {
                errors.insert(*outcome, n);
            }
        }
        let seconds = self.counters.seconds.get();
        PluginStats {
            calls,
            errors,
            mean_ms: if calls == 0 {
                0.0
            } else {
                seconds * 1000.0 / calls as f64
            },
            fuel: self.counters.fuel.get(),
        }
    }

    pub(super) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(super) fn record(&self, result: &Result<impl Sized, PluginCallError>, cost: CallCost) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.counters.outcomes[i].inc();
        }
        self.counters.seconds.inc_by(cost.elapsed.as_secs_f64());
        self.counters.fuel.inc_by(cost.fuel);
        if let Err(e) = result {
            tracing::warn!(plugin.id = %self.info.id, error.kind = e.kind(), error = %e.redacted(), "plugin call failed");
        }
    }
}
