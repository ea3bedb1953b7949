//! Counting the SQL statements one request makes: the request is sent with an `x-request-id`
//! tag, and a tracing layer (installed once for this test binary) counts sqlx's per-statement
//! events (`sqlx::query`) inside the request span carrying that tag. Only tagged requests'
//! statements are even enabled, so other tests pay nothing. On PostgreSQL sqlx logs in the
//! caller's task, so every statement is seen; SQLite logs on its worker thread, outside any
//! request span, so counts there would be zero (callers check they are not).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::DynFilterFn;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

const PREFIX: &str = "count-";

/// The statements counted per tag.
static COUNTS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();

fn counts() -> &'static Mutex<HashMap<String, usize>> {
    COUNTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A span of a tagged request.
struct Tag(String);

struct RequestId(Option<String>);

impl Visit for RequestId {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request.id" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

struct CountStatements;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CountStatements {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut found = RequestId(None);
        attrs.record(&mut found);
        if let (Some(tag), Some(span)) = (found.0, ctx.span(id)) {
            if tag.starts_with(PREFIX) {
                span.extensions_mut().insert(Tag(tag));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };

        for span in scope {
            if let Some(Tag(tag)) = span.extensions().get::<Tag>() {
                if let Ok(mut counts) = counts().lock() {
                    *counts.entry(tag.clone()).or_default() += 1;
                }
                return;
            }
        }
    }
}

fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let filter = DynFilterFn::new(|meta, cx| {
            meta.is_span()
                || (meta.target() == "sqlx::query"
                    && cx.lookup_current().is_some_and(|span| {
                        span.scope().any(|s| s.extensions().get::<Tag>().is_some())
                    }))
        });
        let subscriber = tracing_subscriber::registry().with(CountStatements.with_filter(filter));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber (unset HEARTH_TEST_LOG to count statements)");
    });
}

/// Adds the tag to a request (as its `x-request-id`).
pub fn tagged(req: reqwest::RequestBuilder, tag: &str) -> reqwest::RequestBuilder {
    req.header("x-request-id", tag)
}

/// Runs `work` (which sends requests tagged `tag`, a fresh `count-…` string) and returns its
/// output with the number of SQL statements the tagged requests made.
pub async fn count_statements<T>(tag: &str, work: impl Future<Output = T>) -> (T, usize) {
    assert!(tag.starts_with(PREFIX), "tags start with {PREFIX}");
    install();
    let out = work.await;
    let n = counts()
        .lock()
        .map(|c| c.get(tag).copied().unwrap_or(0))
        .unwrap_or(0);
    (out, n)
}
