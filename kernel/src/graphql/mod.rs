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
//! One file per concern: `query` and `mutation` (the roots), `types` (relations and paging),
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
mod types;

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{EmptySubscription, Schema};
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
use crate::config::GraphqlConfig;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, ClientAddr, MaybeAuthUser};
use crate::http::limits::Limiter;
use crate::http::AppState;

/// Hearth's schema.
pub(crate) type HearthSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema as SDL (`hearth graphql schema`).
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .finish()
        .sdl()
}

/// What the handlers share: the schema (with the kernel in it) and the GraphiQL page.
#[derive(Clone)]
struct Served {
    schema: HearthSchema,
    page: Arc<String>,
}

/// The routes of `/graphql`, under the same middleware (body limit, budgets, headers) as REST.
pub(crate) fn routes(app: AppState, limiter: Arc<Limiter>) -> Router<AppState> {
    let config: &GraphqlConfig = &app.config.graphql;
    let mut schema = Schema::build(Query, Mutation, EmptySubscription)
        .extension(limits::CostLimits(config.clone()))
        .data(Shared {
            app: app.clone(),
            limiter,
        });
    if !config.introspection {
        schema = schema.disable_introspection();
    }
    let served = Served {
        schema: schema.finish(),
        page: Arc::new(page::html()),
    };
    Router::new()
        .route("/graphql", get(query_by_get).post(query_by_post))
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
    if changes_something(&request) {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutation_over_get",
            "Mutations need POST",
        )
        .detail("GET /graphql runs queries only; send mutations with POST.")
        .into_response();
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
    execute(&app, &served, viewer, client, request).await
}

/// Whether the operation a request would run is not a query (so it may not come by GET). A
/// document that does not parse is left for the executor to refuse.
fn changes_something(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let wanted = request.operation_name.as_deref();
    document.operations.iter().any(|(name, op)| {
        let selected = match (wanted, name) {
            (Some(w), Some(n)) => w == n.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        };
        selected && op.node.ty != OperationType::Query
    })
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
