//! Generated bindings. Not part of the public API: use the re-exports in [`crate::types`] and
//! the kind modules.
//!
//! The shared types and host imports are generated once (`common`); each kind's world is
//! generated behind its feature and points at those shared modules, so a plugin's component
//! describes exactly one world.

#![allow(missing_docs, unsafe_code, clippy::all)]

/// Shared types and every host import.
pub mod common {
    wit_bindgen::generate!({
        inline: "
            package hearth:sdk;
            world common {
                import hearth:plugins/types@0.1.0;
                import hearth:plugins/log@0.1.0;
                import hearth:plugins/clock@0.1.0;
                import hearth:plugins/cache@0.1.0;
                import hearth:plugins/events@0.1.0;
                import hearth:plugins/http@0.1.0;
                import hearth:plugins/mail@0.1.0;
            }
        ",
        path: "wit",
        world: "hearth:sdk/common",
        generate_all,
        additional_derives: [PartialEq],
    });
}

macro_rules! kind_world {
    ($feature:literal, $module:ident, $world:literal, $bindings:literal) => {
        #[cfg(feature = $feature)]
        pub mod $module {
            wit_bindgen::generate!({
                path: "wit",
                world: $world,
                with: {
                    "hearth:plugins/types@0.1.0": crate::bindings::common::hearth::plugins::types,
                    "hearth:plugins/log@0.1.0": crate::bindings::common::hearth::plugins::log,
                    "hearth:plugins/clock@0.1.0": crate::bindings::common::hearth::plugins::clock,
                    "hearth:plugins/cache@0.1.0": crate::bindings::common::hearth::plugins::cache,
                    "hearth:plugins/events@0.1.0": crate::bindings::common::hearth::plugins::events,
                    "hearth:plugins/http@0.1.0": crate::bindings::common::hearth::plugins::http,
                    "hearth:plugins/mail@0.1.0": crate::bindings::common::hearth::plugins::mail,
                },
                additional_derives: [PartialEq],
                pub_export_macro: true,
                default_bindings_module: $bindings,
            });
        }
    };
}

kind_world!(
    "pricing",
    pricing,
    "hearth:plugins/pricing@0.1.0",
    "hearth_sdk::bindings::pricing"
);
kind_world!(
    "payments",
    payments,
    "hearth:plugins/payments@0.1.0",
    "hearth_sdk::bindings::payments"
);
kind_world!(
    "review-policy",
    review_policy,
    "hearth:plugins/review-policy@0.1.0",
    "hearth_sdk::bindings::review_policy"
);
kind_world!(
    "notifier",
    notifier,
    "hearth:plugins/notifier@0.1.0",
    "hearth_sdk::bindings::notifier"
);
