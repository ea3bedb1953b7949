//! Errors as GraphQL sees them: every error is first the REST problem ([`ApiError`], mapped
//! once from each layer's error), then a GraphQL error whose `extensions` carry the same
//! `code` and `status`, the per-field `errors`, and `retryAfter` for 429 and 503. A 5xx is
//! logged here, once, and its message says nothing internal.

use async_graphql::{ErrorExtensions, Value};

use crate::http::error::ApiError;

/// What a resolver returns.
pub(crate) type GqlResult<T> = Result<T, async_graphql::Error>;

/// GraphQL's names for the REST parameters a field error may name (`limit` is `first` here,
/// `cursor` is `after`).
const RENAMED: [(&str, &str); 2] = [("limit", "first"), ("cursor", "after")];

/// The GraphQL error of a REST problem.
pub(crate) fn from_api(e: ApiError) -> async_graphql::Error {
    e.log_if_server_error();
    let problem = e.problem();
    let message = problem
        .detail
        .clone()
        .unwrap_or_else(|| problem.title.clone());
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", problem.code.clone());
        ext.set("status", i32::from(problem.status));
        if let Some(secs) = e.retry_after_secs() {
            ext.set("retryAfter", Value::from(secs));
        }
        if !problem.errors.is_empty() {
            let errors = problem.errors.iter().map(|f| {
                let field = RENAMED
                    .iter()
                    .find(|(rest, _)| *rest == f.field)
                    .map_or(f.field.as_str(), |(_, gql)| gql);
                let mut entry = async_graphql::indexmap::IndexMap::new();
                entry.insert(async_graphql::Name::new("field"), Value::from(field));
                entry.insert(
                    async_graphql::Name::new("message"),
                    Value::from(f.message.as_str()),
                );
                Value::Object(entry)
            });
            ext.set("errors", Value::List(errors.collect()));
        }
    })
}

/// `.gql()?` on any result whose error the REST surface knows how to show.
pub(crate) trait IntoGql<T> {
    /// The value, or the GraphQL error of its REST problem.
    fn gql(self) -> GqlResult<T>;
}

impl<T, E: Into<ApiError>> IntoGql<T> for Result<T, E> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(|e| from_api(e.into()))
    }
}

/// The answer saved under an idempotency key, given again: the booking it created, or the
/// error it was refused with (same `code`, `status` and field `errors`).
pub(crate) fn replayed<T: serde::de::DeserializeOwned>(
    saved: &crate::domain::idempotency::SavedResponse,
) -> GqlResult<T> {
    if saved.status < 400 {
        return serde_json::from_str(&saved.body).map_err(|e| {
            from_api(ApiError::internal(format!(
                "the response saved under an idempotency key does not read back: {e}"
            )))
        });
    }
    let problem: serde_json::Value = serde_json::from_str(&saved.body).unwrap_or_default();
    let text = |key: &str| problem.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let message = text("detail")
        .or_else(|| text("title"))
        .unwrap_or_else(|| "Request failed".to_owned());
    Err(async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", text("code").unwrap_or_else(|| "error".to_owned()));
        ext.set("status", i32::from(saved.status));
        ext.set("replayed", true);
        if let Some(errors) = problem
            .get("errors")
            .and_then(|e| Value::from_json(e.clone()).ok())
        {
            ext.set("errors", errors);
        }
    }))
}
