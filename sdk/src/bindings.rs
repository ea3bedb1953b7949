//! Generated bindings. Not part of the public API: use the re-exports in [`crate::types`] and
//! the kind modules.
//!
//! The shared types and host imports are generated once (`common`), and so is the `config`
//! export every kind shares (`config`). Each kind's own export is generated behind its feature
//! from a world holding just that export, pointing at the shared modules. Two reasons for the
//! split: wit-bindgen names an exported interface's glue macro after the interface, at the
//! crate root, so `config` generated in four worlds would clash when a workspace build enables
//! several kind features at once; and a plugin's component must describe one kind only. A
//! plugin's export macro invokes its kind's glue and the `config` glue; wit-component merges
//! the two descriptions into the kind's world of the contract.

#![allow(missing_docs, unsafe_code, clippy::all)]

/// Shared types and every host import (the contract's `host` world).
pub mod common {
    wit_bindgen::generate!({
        inline: "
            package hearth:sdk;
            world common {
                include hearth:plugins/host@0.1.0;
                import hearth:plugins/types@0.1.0;
            }
        ",
        path: "wit",
        world: "hearth:sdk/common",
        generate_all,
        additional_derives: [PartialEq],
    });
}

/// The `config` export, shared by every kind.
pub mod config {
    wit_bindgen::generate!({
        inline: "
            package hearth:sdk;
            world config {
                export hearth:plugins/config@0.1.0;
            }
        ",
        path: "wit",
        world: "hearth:sdk/config",
        pub_export_macro: true,
        default_bindings_module: "hearth_sdk::bindings::config",
    });
}

// `inline` must be a string literal (the proc macro reads tokens, not `concat!`), so each kind
// spells its one-export world out.
macro_rules! kind_world {
    ($feature:literal, $module:ident, $inline:literal, $world:literal, $bindings:literal) => {
        #[cfg(feature = $feature)]
        pub mod $module {
            wit_bindgen::generate!({
                inline: $inline,
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
    "package hearth:sdk;
     world pricing { include hearth:plugins/host@0.1.0; export hearth:plugins/pricing-plugin@0.1.0; }",
    "hearth:sdk/pricing",
    "hearth_sdk::bindings::pricing"
);
kind_world!(
    "payments",
    payments,
    "package hearth:sdk;
     world payments { include hearth:plugins/host@0.1.0; export hearth:plugins/payments-plugin@0.1.0; }",
    "hearth:sdk/payments",
    "hearth_sdk::bindings::payments"
);
kind_world!(
    "review-policy",
    review_policy,
    "package hearth:sdk;
     world review-policy { include hearth:plugins/host@0.1.0; export hearth:plugins/review-policy-plugin@0.1.0; }",
    "hearth:sdk/review-policy",
    "hearth_sdk::bindings::review_policy"
);
kind_world!(
    "notifier",
    notifier,
    "package hearth:sdk;
     world notifier { include hearth:plugins/host@0.1.0; export hearth:plugins/notifier-plugin@0.1.0; }",
    "hearth:sdk/notifier",
    "hearth_sdk::bindings::notifier"
);
