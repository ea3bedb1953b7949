//! API tests: the real application on port 0, on SQLite and on PostgreSQL + Redis.

mod auth;
mod cli;
mod errors;
mod helpers;
mod listings;
mod openapi;
mod plugins;
mod redis_outage;
mod shutdown;
