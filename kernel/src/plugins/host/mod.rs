//! The host imports, one module per capability. Each checks the plugin's grant again at call
//! time (the loader already refused components importing what they were not granted).

mod cache;
mod clock;
mod events;
mod http;
mod log;
mod mail;

use super::bindings::common::hearth::plugins::types;
use super::call::CallState;

impl types::Host for CallState {}
