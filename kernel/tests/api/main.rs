//! API tests: the real application on port 0, on SQLite and on PostgreSQL + Redis. Shared support
//! lives in `helpers/`; each other file tests one area and imports only from `helpers`.

mod auth;
mod bookings;
mod bus;
mod calendar;
mod cli;
mod data;
mod errors;
mod graphql;
mod graphql_ws;
mod helpers;
mod hostile;
mod idempotency;
mod jobs;
mod listings;
mod notifications;
mod openapi;
mod payment_races;
mod payments;
mod plugins;
mod quotes;
mod redis_outage;
mod reviews;
mod search;
mod shutdown;

/// Kept for `plugins.rs` (owned elsewhere), which imports the SMTP sink as `crate::sinks`.
use helpers::sinks;
