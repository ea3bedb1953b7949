//! Rate limits: the `[limits]` budgets, applied by one layer (see `middleware.rs`) to every route.
//!
//! Every request but `/healthz` and `/readyz` spends from the `general` budget; some routes also
//! spend from their own, tighter one (`register`, `login`, `password`, `quotes`, `bookings`).
//! Each budget is counted per client address ([`ClientKey`]: IPv6 per /64) and, for a request
//! with a valid session, per account as well, so neither many accounts from one address nor one
//! account from many addresses gets more than its share. A request over a budget is answered 429
//! with `Retry-After`, `RateLimit-Policy` and `RateLimit` without reaching its handler; every
//! other answer carries the same two headers for the budgets it spent from
//! (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "login";q=30;w=60`,
//! `RateLimit: "login";r=12;t=36`).
//!
//! The layer also settles who the client is ([`client_address`]) and who the caller is, once,
//! and leaves both in the request's extensions for the `ClientAddr` and `AuthUser` extractors.

mod client;
mod store;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub(crate) use self::client::client_address;
use self::store::Store;
use super::error::{ApiError, RateLimited};
use super::extract::{bearer_token, Authenticated, ClientAddr};
use super::AppState;
use crate::config::{LimitsConfig, TrustedProxies};
use crate::metrics::BudgetLabels;
use crate::model::ClientKey;

/// Paths no budget applies to: orchestrators must always be able to ask whether we are alive.
pub(super) const EXEMPT: [&str; 2] = ["/healthz", "/readyz"];

/// Every budget's limiter, built once per server.
#[derive(Debug)]
pub(crate) struct Limiter {
    general: Option<Store>,
    register: Option<Store>,
    login: Option<Store>,
    password: Option<Store>,
    quotes: Option<Store>,
    bookings: Option<Store>,
    trusted: TrustedProxies,
}

impl Limiter {
    /// The configured budgets, in Redis when the cache is shared.
    pub(crate) fn new(state: &AppState) -> Self {
        let config: &LimitsConfig = &state.config.limits;
        let shared = state
            .cache
            .is_shared()
            .then(|| state.cache.namespace("limits"));
        let store = |name: &'static str, budget: crate::config::Budget| {
            (config.enabled && budget.enabled).then(|| Store::new(name, budget, shared.clone()))
        };
        Self {
            general: store("general", config.general),
            register: store("register", config.register),
            login: store("login", config.login),
            password: store("password", config.password),
            quotes: store("quotes", config.quotes),
            bookings: store("bookings", config.bookings),
            trusted: state.config.server.trusted_proxies.clone(),
        }
    }

    /// The route's own budget, by its matched path (`{id}` and all).
    fn specific(&self, method: &Method, path: Option<&str>) -> Option<&Store> {
        match (method, path?) {
            (&Method::POST, "/v1/auth/register") => self.register.as_ref(),
            (&Method::POST, "/v1/auth/login") => self.login.as_ref(),
            (&Method::PATCH, "/v1/me") => self.password.as_ref(),
            (&Method::GET, "/v1/listings/{id}/quote") => self.quotes.as_ref(),
            (&Method::POST, "/v1/bookings") => self.bookings.as_ref(),
            _ => None,
        }
    }
}

/// A route's own budget, named, for the operations GraphQL offers as well as REST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteBudget {
    /// `general`: what every request spends (an operation over `/graphql/ws` is one).
    General,
    /// `quotes`: pricing a stay.
    Quotes,
    /// `bookings`: creating a booking.
    Bookings,
}

impl Limiter {
    /// Spends from `budget` for the caller, as the layer does for its REST route: GraphQL's
    /// resolvers call this, so an operation costs the same budget through either surface
    /// (and each aliased copy of it spends again). `Err` is the 429 to answer with.
    pub(crate) async fn spend_route(
        &self,
        app: &AppState,
        budget: RouteBudget,
        client: Option<IpAddr>,
        account: Option<&crate::auth::Principal>,
    ) -> Result<(), ApiError> {
        let store = match budget {
            RouteBudget::General => self.general.as_ref(),
            RouteBudget::Quotes => self.quotes.as_ref(),
            RouteBudget::Bookings => self.bookings.as_ref(),
        };
        match store {
            Some(store) => spend(app, &[store], &keys_of(client, account))
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    }
}

/// The keys a request is counted under: its client address and, with a valid session, its
/// account.
fn keys_of(client: Option<IpAddr>, account: Option<&crate::auth::Principal>) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(ip) = client {
        keys.push(format!("addr:{}", ClientKey::of(ip)));
    }
    if let Some(principal) = account {
        keys.push(format!("acct:{}", principal.account_id));
    }
    keys
}

/// Spends one request from each of `budgets` under every key: per budget, where the client
/// stands afterwards (its tightest key's remaining and reset), or the 429 of the first budget
/// it is over.
async fn spend<'a>(
    app: &AppState,
    budgets: &[&'a Store],
    keys: &[String],
) -> Result<Vec<(&'a Store, u64, u64)>, ApiError> {
    let mut standing = Vec::with_capacity(budgets.len());
    for store in budgets {
        let mut remaining = u64::from(store.budget.requests.get());
        let mut reset = 0;
        for key in keys {
            let decision = store.check(key).await;
            remaining = remaining.min(decision.remaining);
            reset = reset.max(decision.wait.as_secs_f64().ceil() as u64);
            if !decision.allowed {
                app.metrics
                    .rate_limited
                    .get_or_create(&BudgetLabels { budget: store.name })
                    .inc();
                tracing::info!(limits.budget = store.name, "request over budget");
                let reset_secs = decision.wait.as_secs_f64().ceil().max(1.0) as u64;
                return Err(ApiError::too_many_requests(
                    "rate_limited",
                    "Too many requests",
                    RateLimited {
                        policy: store.name,
                        quota: store.budget.requests.get().into(),
                        window_secs: store.budget.window_secs.get(),
                        reset_secs,
                    },
                ));
            }
        }
        standing.push((*store, remaining, reset));
    }
    Ok(standing)
}

/// What the layer needs: the kernel (for sessions and metrics) and the limiter.
#[derive(Clone, Debug)]
pub(crate) struct LimitState {
    pub(crate) app: AppState,
    pub(crate) limiter: Arc<Limiter>,
}

/// The layer's body (`axum::middleware::from_fn_with_state`).
pub(crate) async fn limit(
    State(LimitState { app, limiter }): State<LimitState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let client: Option<IpAddr> =
        peer.map(|peer| client_address(peer, req.headers(), &limiter.trusted));
    if let Some(ip) = client {
        req.extensions_mut().insert(ClientAddr(ip));
    }
    if EXEMPT.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let budgets: Vec<&Store> = limiter
        .general
        .iter()
        .chain(limiter.specific(req.method(), path))
        .collect();
    if budgets.is_empty() {
        return next.run(req).await;
    }
    // The account, when a valid session is sent; an invalid one is the extractor's to refuse.
    let account = match bearer_token(req.headers()) {
        Some(token) => app.auth.authenticate(token).await.ok(),
        None => None,
    };
    let keys = keys_of(client, account.as_ref());
    let standing = match spend(&app, &budgets, &keys).await {
        Ok(standing) => standing,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some(principal) = account {
        req.extensions_mut().insert(Authenticated(principal));
    }
    let mut response = next.run(req).await;
    // Every answer says where the client stands, so well-behaved clients can pace themselves.
    let policies: Vec<String> = standing
        .iter()
        .map(|(s, _, _)| {
            format!(
                "\"{}\";q={};w={}",
                s.name, s.budget.requests, s.budget.window_secs
            )
        })
        .collect();
    let states: Vec<String> = standing
        .iter()
        .map(|(s, r, t)| format!("\"{}\";r={r};t={t}", s.name))
        .collect();
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-policy", policies.join(", ")),
        ("ratelimit", states.join(", ")),
    ] {
        // A handler's own refusal (the login throttle) names its own policy.
        if headers.contains_key(name) {
            continue;
        }
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}
