//! Host-side bindings generated from `sdk/wit`. They never leave `plugins/`: the kind adapters
//! translate to and from kernel types.
//!
//! The shared types and the contract's `host` world (every host import) are generated once, in
//! `common`; each kind's world maps those interfaces onto `common` with `with:`, so every host
//! import is implemented once and the adapters reach shared types through `common`, never
//! through another kind's bindings.

#![allow(missing_docs, clippy::all)]

/// The shared types and every host import.
pub mod common {
    wasmtime::component::bindgen!({
        inline: "
            package hearth:kernel;
            world common {
                include hearth:plugins/host@0.1.0;
                import hearth:plugins/types@0.1.0;
            }
        ",
        path: "../sdk/wit",
        world: "hearth:kernel/common",
        imports: { default: async | trappable },
    });
}

macro_rules! world {
    ($module:ident, $world:literal) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../sdk/wit",
                world: $world,
                with: {
                    "hearth:plugins/types": super::common::hearth::plugins::types,
                    "hearth:plugins/log": super::common::hearth::plugins::log,
                    "hearth:plugins/clock": super::common::hearth::plugins::clock,
                    "hearth:plugins/cache": super::common::hearth::plugins::cache,
                    "hearth:plugins/events": super::common::hearth::plugins::events,
                    "hearth:plugins/http": super::common::hearth::plugins::http,
                    "hearth:plugins/mail": super::common::hearth::plugins::mail,
                },
                imports: { default: async | trappable },
                exports: { default: async },
            });
        }
    };
}

world!(pricing, "hearth:plugins/pricing");
world!(payments, "hearth:plugins/payments");
world!(review_policy, "hearth:plugins/review-policy");
world!(notifier, "hearth:plugins/notifier");
