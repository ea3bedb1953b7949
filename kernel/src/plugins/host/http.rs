//! `http`: outbound requests, only to the origins in the plugin's `http_allow` list and, through
//! [`Outbound`], never to the kernel's own networks unless `[outbound]` allows them. Bodies are
//! capped both ways; the call's own timeout bounds the wait.

use crate::config::{Capability, HttpOrigin};
use crate::outbound::Outbound;
use crate::plugins::bindings::common::hearth::plugins::http::{Header, Host, Request, Response};
use crate::plugins::call::CallState;

/// Largest response body handed back to a plugin.
const MAX_RESPONSE: usize = 1024 * 1024;

impl Host for CallState {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, String>> {
        self.require(Capability::Http)?;
        let url = match url::Url::parse(&request.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => return Ok(Err(format!("`{}` is not an http(s) URL", request.url))),
        };
        if !self
            .plugin
            .http_allow
            .iter()
            .any(|allowed| allowed.matches(&url))
        {
            return Ok(Err(format!(
                "`{}` is not in this plugin's http_allow list",
                HttpOrigin::describe(&url)
            )));
        }
        let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
            return Ok(Err(format!("`{}` is not an HTTP method", request.method)));
        };
        let mut builder = match self.plugin.services.http.request(method, url.as_str()) {
            Ok(b) => b,
            Err(refused) => return Ok(Err(refused.to_string())),
        };
        for Header { name, value } in request.headers {
            builder = builder.header(name, value);
        }
        let mut response = match builder.body(request.body).send().await {
            Ok(r) => r,
            Err(e) => return Ok(Err(format!("request failed: {}", Outbound::describe(&e)))),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| {
                v.to_str().ok().map(|v| Header {
                    name: n.as_str().to_owned(),
                    value: v.to_owned(),
                })
            })
            .collect();
        // Read at most the cap: a hostile upstream must not make the host buffer gigabytes.
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_RESPONSE {
                        return Ok(Err("response body is over the 1 MiB cap".into()));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Ok(Err(format!("reading the response failed: {e}"))),
            }
        }
        Ok(Ok(Response {
            status,
            headers,
            body,
        }))
    }
}
