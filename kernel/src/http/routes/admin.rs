//! `/v1/admin`: operator actions (admin role only).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Account, Role};
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{AdminUser, ApiJson, ApiPath};
use crate::http::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_account_role))
}

/// A role to give an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// `guest`, `host` or `admin`.
    #[schema(value_type = String, example = "host")]
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
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
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
