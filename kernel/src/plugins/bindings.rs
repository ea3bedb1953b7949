//! Host-side bindings generated from `sdk/wit`. They never leave `plugins/`: the kind adapters
//! translate to and from kernel types.
//!
//! The pricing world is generated first with every shared interface; the other worlds reuse
//! those modules, so each host import is implemented once.

#![allow(missing_docs, clippy::all)]

pub mod pricing {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "hearth:plugins/pricing",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

macro_rules! world {
    ($module:ident, $world:literal) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../sdk/wit",
                world: $world,
                with: {
                    "hearth:plugins/types": super::pricing::hearth::plugins::types,
                    "hearth:plugins/log": super::pricing::hearth::plugins::log,
                    "hearth:plugins/clock": super::pricing::hearth::plugins::clock,
                    "hearth:plugins/cache": super::pricing::hearth::plugins::cache,
                    "hearth:plugins/events": super::pricing::hearth::plugins::events,
                    "hearth:plugins/http": super::pricing::hearth::plugins::http,
                    "hearth:plugins/mail": super::pricing::hearth::plugins::mail,
                },
                imports: { default: async | trappable },
                exports: { default: async },
            });
        }
    };
}

world!(payments, "hearth:plugins/payments");
world!(review_policy, "hearth:plugins/review-policy");
world!(notifier, "hearth:plugins/notifier");
