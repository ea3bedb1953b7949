//! `/v1/admin`: operator actions (admin role only).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use axum::http::StatusCode;

use crate::auth::{Account, Role};
use crate::http::error::FieldError;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{AdminUser, ApiJson, ApiPath, ApiQuery};
use crate::http::responses::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized,
    Unprocessable, UnsupportedMediaType, PROBLEM_JSON,
};
use crate::http::AppState;
use crate::jobs::{JobView, Overview, Retried};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_account_role))
        .routes(routes!(jobs_overview))
        .routes(routes!(retry_job))
}

/// A role to give an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// `guest`, `host` or `admin`.
    #[schema(value_type = String, pattern = "^(guest|host|admin)$", example = "host")]
    pub role: Role,
}

/// Another user's account as an admin sees it: no email (nobody else's email ever leaves the API).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummary {
    /// Account id.
    pub id: Uuid,
    /// Display name.
    pub display_name: String,
    /// Role.
    #[schema(value_type = String, example = "host")]
    pub role: Role,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Account> for AccountSummary {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.as_uuid(),
            display_name: a.display_name.as_str().to_owned(),
            role: a.role,
            created_at: a.created_at,
        }
    }
}

/// Set an account's role. Takes effect on the account's next request.
#[utoipa::path(
    put, path = "/v1/admin/accounts/{id}/role", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = SetRoleRequest,
    responses(
        (status = 200, description = "The account with its new role", body = AccountSummary),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn set_account_role(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SetRoleRequest>,
) -> Result<Json<AccountSummary>, ApiError> {
    Ok(Json(
        state.auth.set_role(id.into(), body.role).await?.into(),
    ))
}

/// `GET /v1/admin/jobs` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsParams {
    /// How many dead letters to list, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub dead_limit: Option<u32>,
}

/// Job counts by state and the latest dead-lettered jobs with their last error.
#[utoipa::path(
    get, path = "/v1/admin/jobs", tag = "admin",
    security(("bearer" = [])),
    params(JobsParams),
    responses(
        (status = 200, description = "Counts and dead letters", body = Overview),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, description = "Bad dead_limit", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn jobs_overview(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiQuery(params): ApiQuery<JobsParams>,
) -> Result<Json<Overview>, ApiError> {
    let limit = params.dead_limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::validation(vec![FieldError {
            field: "dead_limit".into(),
            message: "must be 1 to 500".into(),
        }]));
    }
    Ok(Json(state.jobs.overview(limit).await?))
}

/// Put a dead-lettered job back in the queue with a fresh set of attempts.
#[utoipa::path(
    post, path = "/v1/admin/jobs/{id}/retry", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job, queued again", body = JobView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "The job is not dead", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, response = ServiceUnavailable),
    )
)]
pub(crate) async fn retry_job(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<JobView>, ApiError> {
    match state.jobs.retry(id).await? {
        Retried::Queued(job) => Ok(Json(job)),
        Retried::NotFound => {
            Err(
                ApiError::new(StatusCode::NOT_FOUND, "job_not_found", "Not found")
                    .detail("No such job."),
            )
        }
        Retried::NotDead(job_state) => {
            Err(
                ApiError::new(StatusCode::CONFLICT, "job_not_dead", "Job is not dead").detail(
                    format!("Only dead jobs can be retried; this one is {job_state}."),
                ),
            )
        }
    }
}
