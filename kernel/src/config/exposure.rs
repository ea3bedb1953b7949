//! What a server reachable beyond this machine (a `server.bind` that is not loopback) may not keep
//! from the shipped configuration, which exists to try Hearth out: its development secrets, and
//! real currencies routed to the sandbox provider, which moves no money.

use secrecy::ExposeSecret;

use super::error::Checks;
use super::Config;

/// Every development secret Hearth ships carries this marker, and no real one should.
pub const DEV_SECRET_MARKER: &str = "change_me";

/// The component file of the bundled sandbox payments provider.
const SANDBOX_COMPONENT: &str = "hearth_plugin_payments_sandbox.wasm";

/// ISO 4217's code for testing: the one currency the sandbox may serve on a public bind.
const TEST_CURRENCY: &str = "XTS";

fn is_dev_secret(value: &str) -> bool {
    value.to_ascii_lowercase().contains(DEV_SECRET_MARKER)
}

/// The dotted keys, under `prefix`, of every string in `value` that is a development secret.
fn dev_secrets_in(value: &serde_json::Value, prefix: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if is_dev_secret(s) => found.push(prefix.to_owned()),
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                dev_secrets_in(v, &format!("{prefix}.{key}"), found);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                dev_secrets_in(v, &format!("{prefix}[{i}]"), found);
            }
        }
        _ => {}
    }
}

pub(super) fn check(config: &Config, checks: &mut Checks) {
    let bind = config.server.bind;
    if bind.ip().is_loopback() {
        return;
    }
    let own_secret = |how: &str| {
        format!("your own secret ({how}), not the shipped development one, when serving on {bind}")
    };
    if let Some(secret) = &config.notifications.webhook_secret {
        if is_dev_secret(secret.expose_secret()) {
            checks.invalid(
                "notifications.webhook_secret",
                own_secret("HEARTH_NOTIFICATIONS__WEBHOOK_SECRET"),
            );
        }
    }
    for (i, plugin) in config.plugins.iter().enumerate() {
        let mut found = Vec::new();
        dev_secrets_in(&plugin.config, &format!("plugins[{i}].config"), &mut found);
        for key in found {
            checks.invalid(key, own_secret(&format!("plugin `{}`", plugin.id)));
        }
    }
    if config.payments.allow_sandbox_payments {
        return;
    }
    let sandbox = |id: &str| {
        config.plugins.iter().any(|p| {
            p.id.as_str() == id
                && p.path.file_name().and_then(|n| n.to_str()) == Some(SANDBOX_COMPONENT)
        })
    };
    let real_provider = format!(
        "a real payments provider, or payments.allow_sandbox_payments = true, when serving on \
         {bind}: the sandbox moves no money"
    );
    if config
        .payments
        .default_provider
        .as_deref()
        .is_some_and(sandbox)
    {
        checks.invalid("payments.default_provider", real_provider.clone());
    }
    for (currency, id) in &config.payments.providers {
        if currency != TEST_CURRENCY && sandbox(id) {
            checks.invalid(
                format!("payments.providers.{currency}"),
                real_provider.clone(),
            );
        }
    }
}
