//! HTTP: the REST surface. Routes live in `routes/` (one module per resource), cross-cutting
//! request concerns in `extract`, the middleware stack in `middleware`, every error's
//! problem+json mapping in `error`, and the error responses the OpenAPI document shares in
//! `responses`. Handlers convert input, make one call into the kernel and shape the response.

pub mod dto;
pub mod error;
pub mod extract;
pub mod idempotency;
pub(crate) mod limits;
mod middleware;
pub mod responses;
pub mod routes;
pub mod schemas;

use std::ops::Deref;
use std::sync::Arc;

use axum::{Extension, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::startup::Kernel;
use routes::meta::ApiSpec;

/// The state every handler gets: the kernel, shared.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<Kernel>);

impl Deref for AppState {
    type Target = Kernel;

    fn deref(&self) -> &Kernel {
        &self.0
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearth API",
        description = "The REST surface of Hearth, a plugin-extensible home-sharing marketplace \
                       backend. Errors are RFC 9457 `application/problem+json` with a stable `code`.",
    ),
    modifiers(&BearerAuth),
    components(responses(
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::UriTooLong,
        responses::HeadersTooLarge,
        responses::TooManyRequests,
        responses::ServiceUnavailable,
    )),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "accounts", description = "The caller's own account"),
        (name = "listings", description = "Listings, search, calendars and quotes"),
        (name = "bookings", description = "Bookings, their payments and cancellations"),
        (name = "webhooks", description = "Payment providers' webhooks"),
        (name = "reviews", description = "Reviews of completed stays"),
        (name = "notifications", description = "The caller's in-app inbox"),
        (name = "admin", description = "Operator actions (admin role)"),
        (name = "meta", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A session token from POST /v1/auth/login"))
                    .build(),
            ),
        );
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::auth::routes())
        .merge(routes::accounts::routes())
        .merge(routes::listings::routes())
        .merge(routes::bookings::routes())
        .merge(routes::webhooks::routes())
        .merge(routes::reviews::routes())
        .merge(routes::notifications::routes())
        .merge(routes::admin::routes())
        .merge(routes::plugins::routes())
        .merge(routes::meta::routes())
}

/// Responses every operation shares, said once here rather than in every route: 414 and 431
/// from the request-head bounds, and (for all but the health checks, which spend from no
/// budget) 429 from the `general` budget.
fn document_shared_responses(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Ref, RefOr};
    for (path, item) in openapi.paths.paths.iter_mut() {
        let limited = !limits::EXEMPT.contains(&path.as_str());
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            let shared = [
                ("414", "UriTooLong", true),
                ("431", "HeadersTooLarge", true),
                ("429", "TooManyRequests", limited),
            ];
            for (status, name, applies) in shared {
                if applies {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
    }
}

/// The whole HTTP application: routes, OpenAPI, middleware.
pub fn app(state: AppState) -> Router {
    let (router, mut openapi) = api().split_for_parts();
    document_shared_responses(&mut openapi);
    let spec = ApiSpec {
        json: Arc::new(openapi.to_json().unwrap_or_default()),
        docs_html: Arc::new(routes::meta::docs_page(&openapi)),
    };
    let server = state.config.server.clone();
    let limits = limits::LimitState {
        limiter: Arc::new(limits::Limiter::new(&state)),
        app: state.clone(),
    };
    let router = router
        .merge(crate::graphql::routes(
            state.clone(),
            limits.limiter.clone(),
        ))
        .layer(Extension(spec))
        .with_state(state);
    middleware::stack(router, &server, limits)
}
