//! API tests: the real application on port 0, on SQLite and on PostgreSQL + Redis.

mod auth;
mod bookings;
mod bus;
mod cli;
mod data;
mod errors;
mod helpers;
mod jobs;
mod listings;
mod notifications;
mod openapi;
mod payments;
mod plugins;
mod redis_outage;
mod reviews;
mod shutdown;
mod sinks;
