//! The cost limits of a query, checked after it is parsed and validated and before anything
//! runs (`[graphql]`): aliases (counted through fragments), depth and complexity. A refused
//! query is one error whose `extensions` name the limit (`code`, `limit`, `found`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, ServerError, ServerResult, ValidationResult, Variables};

use crate::config::GraphqlConfig;

/// How many selections the alias count walks before it refuses the document outright (a
/// fragment spread many times over multiplies the walk).
const MAX_WALK: usize = 10_000;

/// The introspection fields that are lists of schema objects: nested, each multiplies the
/// answer by the schema's size (`types { fields { type { fields … } } }`).
const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "enumValues",
    "possibleTypes",
    "directives",
];

/// How deeply introspection lists may nest: GraphiQL's query nests `types { fields { args } }`.
const MAX_INTROSPECTION_LISTS: usize = 3;

/// The limits, as a schema extension.
pub(super) struct CostLimits(pub(super) GraphqlConfig);

impl ExtensionFactory for CostLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Limits {
            config: self.0.clone(),
            introspection: AtomicBool::new(false),
        })
    }
}

/// One request's limits (an extension is made per request).
struct Limits {
    config: GraphqlConfig,
    /// The document asks only for `__schema` / `__type`: the schema's own description, whose
    /// size is fixed by the schema (GraphiQL's introspection is 15 deep), so depth and
    /// complexity do not apply to it. `introspection = false` refuses it instead.
    introspection: AtomicBool,
}

/// A refusal naming `key` of `[graphql]`.
fn refused(code: &str, key: &str, limit: usize, found: usize, what: &str) -> ServerError {
    let mut error = ServerError::new(
        format!("{what} ({found}) is over graphql.{key} = {limit}; the query was not run."),
        None,
    );
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    ext.set("limit", limit as u64);
    ext.set("found", found as u64);
    error.extensions = Some(ext);
    error
}

#[async_trait::async_trait]
impl Extension for Limits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let limit = self.config.max_query_bytes.get();
        if query.len() > limit {
            return Err(refused(
                "query_too_large",
                "max_query_bytes",
                limit,
                query.len(),
                "The query document's size in bytes",
            ));
        }
        let document = next.run(ctx, query, variables).await?;
        let limit = self.config.max_aliases.get();
        let mut walk = Walk {
            document: &document,
            aliases: 0,
            visited: 0,
            lists: 0,
        };
        let mut introspection = true;
        for (_, operation) in document.operations.iter() {
            walk.selections(&operation.node.selection_set, 0, 0);
            introspection &= operation.node.selection_set.node.items.iter().all(|item| {
                matches!(&item.node, Selection::Field(f) if f.node.name.node.starts_with("__"))
            });
        }
        self.introspection.store(introspection, Ordering::Relaxed);
        if introspection && walk.lists > MAX_INTROSPECTION_LISTS {
            return Err(refused(
                "query_too_deep",
                "introspection",
                MAX_INTROSPECTION_LISTS,
                walk.lists,
                "The nesting of introspection lists",
            ));
        }
        if walk.visited > MAX_WALK {
            return Err(refused(
                "query_too_large",
                "max_aliases",
                limit,
                walk.aliases,
                "The query expands to too many selections to count its aliases",
            ));
        }
        if walk.aliases > limit {
            return Err(refused(
                "too_many_aliases",
                "max_aliases",
                limit,
                walk.aliases,
                "The number of aliased fields",
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if self.introspection.load(Ordering::Relaxed) {
            return Ok(result);
        }
        let depth = self.config.max_depth.get();
        if result.depth > depth {
            return Err(vec![refused(
                "query_too_deep",
                "max_depth",
                depth,
                result.depth,
                "The query's depth",
            )]);
        }
        let complexity = self.config.max_complexity.get();
        if result.complexity > complexity {
            return Err(vec![refused(
                "query_too_complex",
                "max_complexity",
                complexity,
                result.complexity,
                "The query's complexity",
            )]);
        }
        Ok(result)
    }
}

/// Counts aliased fields, following fragment spreads (before validation, so a cycle of
/// fragments is cut off by the walk's bound).
struct Walk<'a> {
    document: &'a ExecutableDocument,
    aliases: usize,
    visited: usize,
    /// The deepest nesting of introspection lists seen.
    lists: usize,
}

impl Walk<'_> {
    fn selections(&mut self, set: &Positioned<SelectionSet>, depth: usize, lists: usize) {
        self.lists = self.lists.max(lists);
        for item in &set.node.items {
            self.visited += 1;
            if self.visited > MAX_WALK || depth > 64 {
                return;
            }
            match &item.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    let list = INTROSPECTION_LISTS.contains(&field.node.name.node.as_str());
                    self.selections(
                        &field.node.selection_set,
                        depth + 1,
                        lists + usize::from(list),
                    );
                }
                Selection::InlineFragment(fragment) => {
                    self.selections(&fragment.node.selection_set, depth + 1, lists);
                }
                Selection::FragmentSpread(spread) => {
                    let document = self.document;
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.selections(&fragment.node.selection_set, depth + 1, lists);
                    }
                }
            }
        }
    }
}
