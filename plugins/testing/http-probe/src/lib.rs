//! Test guest: fetches `config.url` with the `http` capability and reports the answer as a
//! zero-amount line item (`description` = "<status> <body>", or the error).

use hearth_sdk::host::{http, Request};
use hearth_sdk::pricing::{LineItem, Money, PluginError, PricingPlugin, Stay};

/// `[plugins.config]`
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Config {
    /// What to fetch.
    pub url: String,
}

/// The plugin.
pub struct HttpProbe;

impl PricingPlugin for HttpProbe {
    type Config = Config;

    fn price(config: &Config, stay: &Stay, _: &[LineItem]) -> Result<Vec<LineItem>, PluginError> {
        let request = Request {
            method: "GET".into(),
            url: config.url.clone(),
            headers: vec![],
            body: vec![],
        };
        let description = match http::send(&request) {
            Ok(r) => format!("{} {}", r.status, String::from_utf8_lossy(&r.body)),
            Err(e) => format!("error: {e}"),
        };
        Ok(vec![LineItem::new(
            "probe",
            description,
            Money::new(0, stay.currency.clone()),
        )])
    }
}

hearth_sdk::export_pricing!(HttpProbe);
