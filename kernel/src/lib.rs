//! Hearth: the kernel of a plugin-extensible home-sharing marketplace backend.
//!
//! Code tour: `model` is the shared vocabulary (money, stays, ids, statuses); `config` loads `hearth.toml`; `startup` builds the [`startup::Kernel`] and serves
//! it; `http` is the REST surface; `auth`, `data`, `cache`, `bus` (events), `jobs`, `mail` and
//! `plugins` are the primitives `domain` stands on (`outbound` is the one HTTP client that
//! connects out for plugins and webhooks); `cli` is the `hearth` command.

#![forbid(unsafe_code)]

pub mod auth;
pub mod bus;
pub mod cache;
pub mod cli;
pub mod config;
pub mod data;
pub mod domain;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod outbound;
pub mod plugins;
pub mod seed;
pub mod startup;
pub mod telemetry;

#[cfg(test)]
mod testing;
