//! `[graphql]`: the cost limits of `/graphql`, each checked before a query runs, and the bounds
//! of its subscriptions (`/graphql/ws`).

use std::num::NonZeroUsize;

use serde::Deserialize;

use super::error::Checks;

/// `[graphql]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphqlConfig {
    /// `introspection = true`: whether `__schema` / `__type` queries are answered (the GraphiQL
    /// page needs them). Switch off to keep the schema to those who read the SDL.
    pub introspection: bool,
    /// `max_query_bytes = 16384`: the longest query document (bytes).
    pub max_query_bytes: NonZeroUsize,
    /// `max_depth = 10`: the deepest nesting of selections.
    pub max_depth: NonZeroUsize,
    /// `max_complexity = 1000`: the most a query may cost, counting 1 per field and each list
    /// field times the page it asks for.
    pub max_complexity: NonZeroUsize,
    /// `max_aliases = 30`: the most aliased fields in one document (an alias repeats a field's
    /// work).
    pub max_aliases: NonZeroUsize,
    /// `max_subscriptions = 10`: the most operations one `/graphql/ws` connection runs at once.
    pub max_subscriptions: NonZeroUsize,
    /// `max_connections = 1000`: the most `/graphql/ws` connections one node holds open.
    pub max_connections: NonZeroUsize,
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        let n = |v: usize| NonZeroUsize::new(v).expect("the defaults are not zero");
        Self {
            introspection: true,
            max_query_bytes: n(16 * 1024),
            max_depth: n(10),
            max_complexity: n(1000),
            max_aliases: n(30),
            max_subscriptions: n(10),
            max_connections: n(1000),
        }
    }
}

impl GraphqlConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        if self.max_query_bytes.get() > 1024 * 1024 {
            checks.invalid("graphql.max_query_bytes", "1 to 1048576 bytes");
        }
        if self.max_depth.get() > 64 {
            checks.invalid("graphql.max_depth", "1 to 64");
        }
        if self.max_complexity.get() > 100_000 {
            checks.invalid("graphql.max_complexity", "1 to 100000");
        }
        if self.max_aliases.get() > 1000 {
            checks.invalid("graphql.max_aliases", "1 to 1000");
        }
        if self.max_subscriptions.get() > 1000 {
            checks.invalid("graphql.max_subscriptions", "1 to 1000");
        }
        if self.max_connections.get() > 100_000 {
            checks.invalid("graphql.max_connections", "1 to 100000");
        }
    }
}
