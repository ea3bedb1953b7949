//! Test guest: a pricing plugin built against `hearth:plugins@0.9.0`, a contract version this
//! kernel does not support. The loader must refuse it and name both versions.

#![allow(missing_docs, unsafe_code)] // wit-bindgen glue

wit_bindgen::generate!({
    inline: "
        package hearth:plugins@0.9.0;
        interface pricing-plugin {
            config-schema: func() -> string;
        }
        world pricing {
            export pricing-plugin;
        }
    ",
    world: "pricing",
});

struct Future;

impl exports::hearth::plugins::pricing_plugin::Guest for Future {
    fn config_schema() -> String {
        "{}".into()
    }
}

#[cfg(target_arch = "wasm32")]
export!(Future);
