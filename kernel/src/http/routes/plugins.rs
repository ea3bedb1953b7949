//! `/v1/admin/plugins`: what is loaded, how it is doing, and reloading (admin role only).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, FieldError, Problem};
use crate::http::extract::{AdminUser, ApiPath};
use crate::http::responses::{Forbidden, NotFound, ServiceUnavailable, Unauthorized, PROBLEM_JSON};
use crate::http::AppState;
use crate::plugins::Plugin;
use crate::startup::ReloadError;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(get_plugin))
        .routes(routes!(reload_plugins))
}

/// A loaded plugin and its counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    /// Id.
    pub id: String,
    /// `pricing`, `payments`, `review-policy` or `notifier`.
    pub kind: String,
    /// The component file as configured.
    pub path: String,
    /// The component's SHA-256.
    pub sha256: String,
    /// The WIT contract version it implements.
    pub contract_version: String,
    /// Position in its kind's chain.
    pub order: i32,
    /// `fail-closed` or `fail-open`.
    pub on_error: String,
    /// Granted host capabilities.
    pub capabilities: Vec<String>,
    /// Per-call limits.
    pub limits: LimitsView,
    /// Counters since the kernel started.
    pub stats: StatsView,
}

/// Per-call limits.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsView {
    /// Fuel per call.
    pub fuel: u64,
    /// Memory cap, MiB.
    pub memory_mib: u64,
    /// Wall-clock limit, ms.
    pub timeout_ms: u64,
    /// Output cap, KiB.
    pub output_kib: u64,
}

/// Call counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    /// Calls made.
    pub calls: u64,
    /// Failed calls by kind: `trap`, `timeout`, `fuel`, `memory`, `output`, `plugin`.
    pub errors: BTreeMap<String, u64>,
    /// Mean latency per call, ms.
    pub mean_ms: f64,
    /// Fuel consumed in total.
    pub fuel: u64,
}

/// The loaded plugins.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    /// Every plugin, by kind and chain order.
    pub plugins: Vec<PluginView>,
}

impl From<&Plugin> for PluginView {
    fn from(plugin: &Plugin) -> Self {
        let info = plugin.info();
        let stats = plugin.stats();
        Self {
            id: info.id.to_string(),
            kind: info.kind.to_string(),
            path: info.path.clone(),
            sha256: info.sha256.clone(),
            contract_version: info.contract_version.clone(),
            order: info.order,
            on_error: match info.on_error {
                crate::config::OnError::FailClosed => "fail-closed".into(),
                crate::config::OnError::FailOpen => "fail-open".into(),
            },
            capabilities: info
                .capabilities
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            limits: LimitsView {
                fuel: info.limits.fuel.get(),
                memory_mib: info.limits.memory_mib.get(),
                timeout_ms: info.limits.timeout_ms.get(),
                output_kib: info.limits.output_kib.get(),
            },
            stats: StatsView {
                calls: stats.calls,
                errors: stats
                    .errors
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                mean_ms: stats.mean_ms,
                fuel: stats.fuel,
            },
        }
    }
}

/// List the loaded plugins with their counters.
#[utoipa::path(get, path = "/v1/admin/plugins", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Loaded plugins", body = PluginList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn list_plugins(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Json<PluginList> {
    let set = state.plugins.current();
    Json(PluginList {
        plugins: set.iter().map(|p| PluginView::from(p.as_ref())).collect(),
    })
}

/// One loaded plugin with its counters.
#[utoipa::path(get, path = "/v1/admin/plugins/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn get_plugin(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PluginView>, ApiError> {
    let set = state.plugins.current();
    set.get(&id)
        .map(|p| Json(PluginView::from(p.as_ref())))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "plugin_not_found",
                "Plugin not found",
            )
            .detail(format!("No plugin `{id}` is loaded."))
        })
}

/// Re-read the configuration file and swap in its plugin set, all or nothing. Calls in flight
/// finish on the old set. On failure nothing changes and `errors` names each problem.
#[utoipa::path(post, path = "/v1/admin/plugins/reload", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new set is live", body = PluginList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, description = "The new set was refused; the old one stays", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    ))]
pub(crate) async fn reload_plugins(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<Json<PluginList>, ApiError> {
    match state.reload_plugins().await {
        Ok(set) => {
            tracing::info!(account.id = %admin.account_id, plugins = set.len(), "plugins reloaded");
            Ok(Json(PluginList {
                plugins: set.iter().map(|p| PluginView::from(p.as_ref())).collect(),
            }))
        }
        Err(e) => {
            let errors = match &e {
                ReloadError::NoSource => vec![],
                ReloadError::Config(c) => c
                    .problems()
                    .iter()
                    .map(|p| FieldError {
                        field: p.key.clone(),
                        message: p.to_string(),
                    })
                    .collect(),
                ReloadError::Plugins(p) => {
                    p.0.iter()
                        .map(|p| FieldError {
                            field: format!("plugins.{}", p.plugin),
                            message: p.message.clone(),
                        })
                        .collect()
                }
            };
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reload_failed",
                "Reload refused",
            )
            .detail(format!("The running plugin set is unchanged. {e}"))
            .with_errors(errors))
        }
    }
}
