//! Route handlers, one module per resource. Each returns its routes as an `OpenApiRouter` so the
//! OpenAPI document is generated from the same code that serves.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod bookings;
pub mod listings;
pub mod meta;
pub mod notifications;
pub mod plugins;
pub mod reviews;
pub mod webhooks;
