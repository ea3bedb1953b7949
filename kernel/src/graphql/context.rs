//! What a resolver knows about its request: the kernel, the caller (same bearer token and
//! roles as REST), the client's address for budgets, and the request's DataLoaders.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::Context;

use super::error::{from_api, GqlResult};
use crate::auth::{Principal, Role};
use crate::http::error::ApiError;
use crate::http::limits::{Limiter, RouteBudget};
use crate::http::AppState;

/// The caller of one GraphQL request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The signed-in account, if a session token was sent.
    pub(crate) viewer: Option<Principal>,
    /// The client's address, as the limits layer settled it.
    pub(crate) client: Option<IpAddr>,
}

/// The kernel and the budgets, shared by every request (schema data).
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) app: AppState,
    pub(crate) limiter: Arc<Limiter>,
}

/// The kernel.
pub(crate) fn app<'a>(ctx: &Context<'a>) -> &'a AppState {
    &ctx.data_unchecked::<Shared>().app
}

/// The caller.
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data_unchecked::<Caller>()
}

/// The signed-in caller, if any.
pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> Option<&'a Principal> {
    caller(ctx).viewer.as_ref()
}

/// The signed-in caller; the same `unauthenticated` error as REST's 401 otherwise.
pub(crate) fn signed_in<'a>(ctx: &Context<'a>) -> GqlResult<&'a Principal> {
    viewer(ctx).ok_or_else(|| {
        from_api(ApiError::unauthenticated(
            "unauthenticated",
            "Send a session token as `Authorization: Bearer <token>`; get one from POST /v1/auth/login.",
        ))
    })
}

/// The signed-in caller with the admin role; `forbidden` for any other role.
pub(crate) fn admin<'a>(ctx: &Context<'a>) -> GqlResult<&'a Principal> {
    let who = signed_in(ctx)?;
    who.require(Role::Admin)
        .map_err(|e| from_api(ApiError::from(e)))?;
    Ok(who)
}

/// Spends from a route budget for this caller, as its REST twin does.
pub(crate) async fn spend(ctx: &Context<'_>, budget: RouteBudget) -> GqlResult<()> {
    let shared = ctx.data_unchecked::<Shared>();
    let caller = caller(ctx);
    shared
        .limiter
        .spend_route(&shared.app, budget, caller.client, caller.viewer.as_ref())
        .await
        .map_err(from_api)
}
