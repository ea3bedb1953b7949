//! GraphQL: the second edge over the same domain as REST (async-graphql), at `POST /graphql`
//! and `GET /graphql` (queries only; without a `query` parameter a browser gets the GraphiQL
//! page, served with its files by Hearth).
//!
//! It is an edge like `http` and shares what makes an edge: the request DTOs and their
//! parsers, the response DTOs (which derive `SimpleObject` beside `ToSchema`), the one mapping
//! of every error to a problem `code` (`extensions.code` here), the idempotency keys and the
//! route budgets. So a rule cannot differ between the two surfaces: there is one of each. It
//! never touches `data`, and the domain never sees async-graphql.
//!
//! Subscriptions run over a WebSocket at `/graphql/ws` (`ws`: `graphql-transport-ws`, signed
//! in by the `connection_init` payload), fed by the domain's live updates.
//!
//! One file per concern: `query`, `mutation` and `subscription` (the roots), `types` (relations and paging),
//! `inputs`, `loaders` (DataLoaders against N+1), `limits` (cost limits before anything runs),
//! `context` (the caller), `error`, `scalars`, `page` (GraphiQL).

mod context;
mod error;
mod inputs;
mod limits;
mod loaders;
mod mutation;
mod page;
mod query;
mod scalars;
mod subscription;
mod types;
mod ws;

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::Schema;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;

use self::context::{Caller, Shared};
use self::loaders::Loaders;
use self::mutation::Mutation;
use self::query::Query;
use self::subscription::Subscription;
use crate::config::GraphqlConfig;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, ClientAddr, MaybeAuthUser};
use crate::http::limits::Limiter;
use crate::http::AppState;

/// Hearth's schema.
pub(crate) type HearthSchema = Schema<Query, Mutation, Subscription>;

/// The schema as SDL (`hearth graphql schema`).
pub fn sdl() -> String {
    Schema::build(Query, Mutation, Subscription).finish().sdl()
}

/// What the handlers share: the schema (with the kernel in it), the GraphiQL page, the
/// budgets, and the places left for WebSocket connections.
#[derive(Clone)]
struct Served {
    schema: HearthSchema,
    page: Arc<String>,
    limiter: Arc<Limiter>,
    connections: Arc<tokio::sync::Semaphore>,
}

/// The routes of `/graphql`, under the same middleware (body limit, budgets, headers) as REST.
pub(crate) fn routes(app: AppState, limiter: Arc<Limiter>) -> Router<AppState> {
    let config: &GraphqlConfig = &app.config.graphql;
    let mut schema = Schema::build(Query, Mutation, Subscription)
        .extension(limits::CostLimits(config.clone()))
        .data(Shared {
            app: app.clone(),
            limiter: limiter.clone(),
        });
    if !config.introspection {
        schema = schema.disable_introspection();
    }
    let served = Served {
        schema: schema.finish(),
        page: Arc::new(page::html()),
        limiter,
        connections: Arc::new(tokio::sync::Semaphore::new(config.max_connections.get())),
    };
    Router::new()
        .route("/graphql", get(query_by_get).post(query_by_post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphql/assets/{name}", get(page::asset))
        .layer(Extension(served))
}

/// A query sent as `GET /graphql?query=…&operationName=…&variables=…`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    /// JSON.
    variables: Option<String>,
}

async fn query_by_get(
    State(app): State<AppState>,
    Extension(served): Extension<Served>,
    viewer: MaybeAuthUser,
    client: ClientAddr,
    ApiQuery(params): ApiQuery<GetParams>,
) -> Response {
    let Some(query) = params.query else {
        return page::page(&served.page).into_response();
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        match serde_json::from_str(&variables) {
            Ok(v) => request = request.variables(async_graphql::Variables::from_json(v)),
            Err(e) => {
                return ApiError::validation(vec![crate::http::error::FieldError {
                    field: "variables".into(),
                    message: format!("is not a JSON object: {e}"),
                }])
                .into_response()
            }
        }
    }
    if let Some(refusal) = wrong_transport(&request, true) {
        return refusal.into_response();
    }
    execute(&app, &served, viewer, client, request).await
}

async fn query_by_post(
    State(app): State<AppState>,
    Extension(served): Extension<Served>,
    viewer: MaybeAuthUser,
    client: ClientAddr,
    ApiJson(request): ApiJson<async_graphql::Request>,
) -> Response {
    if let Some(refusal) = wrong_transport(&request, false) {
        return refusal.into_response();
    }
    execute(&app, &served, viewer, client, request).await
}

/// The refusal of an operation this request's transport does not run: a mutation by GET, a
/// subscription by GET or POST.
fn wrong_transport(request: &async_graphql::Request, by_get: bool) -> Option<ApiError> {
    match operation_of(request)? {
        OperationType::Mutation if by_get => Some(
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "mutation_over_get",
                "Mutations need POST",
            )
            .detail("GET /graphql runs queries only; send mutations with POST."),
        ),
        OperationType::Subscription => Some(
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "subscription_over_http",
                "Subscriptions need the WebSocket",
            )
            .detail("Subscriptions run over the WebSocket at /graphql/ws (graphql-transport-ws)."),
        ),
        _ => None,
    }
}

/// The kind of operation a request would run, if it names one the document holds: a mutation
/// may not come by GET, a subscription only over `/graphql/ws`. A document that does not
/// parse, or an operation it lacks, is left for the executor to refuse.
fn operation_of(request: &async_graphql::Request) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    let wanted = request.operation_name.as_deref();
    let mut ops = document
        .operations
        .iter()
        .filter(|(name, _)| match (wanted, name) {
            (Some(w), Some(n)) => w == n.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        });
    match (ops.next(), ops.next()) {
        (Some((_, op)), None) => Some(op.node.ty),
        _ => None,
    }
}

async fn execute(
    app: &AppState,
    served: &Served,
    MaybeAuthUser(viewer): MaybeAuthUser,
    ClientAddr(client): ClientAddr,
    request: async_graphql::Request,
) -> Response {
    let loaders = Loaders::new(app, viewer.clone());
    let request = request
        .data(Caller {
            viewer,
            client: Some(client),
        })
        .data(loaders);
    let response = served.schema.execute(request).await;
    let mut answer = Json(response).into_response();
    // Answers depend on the caller: never stored by shared caches.
    answer
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}
