//! `[server]`: the HTTP listener and request limits.

use std::net::SocketAddr;
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::error::Checks;

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `bind = "127.0.0.1:8080"`: the address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// `request_timeout_secs = 30`: a request still running after this is answered 503.
    pub request_timeout_secs: NonZeroU64,
    /// `body_limit_bytes = 1048576`: larger request bodies are refused with 413.
    pub body_limit_bytes: NonZeroUsize,
    /// `max_uri_bytes = 8192`: a longer request target (path and query string) is refused with
    /// 414, before any other work.
    pub max_uri_bytes: NonZeroUsize,
    /// `max_header_bytes = 16384`: request headers larger than this in all (names and values)
    /// are refused with 431, before any other work.
    pub max_header_bytes: NonZeroUsize,
    /// `shutdown_grace_secs = 30`: on SIGINT/SIGTERM, requests in flight get this long to finish
    /// (0: stop at once).
    pub shutdown_grace_secs: u64,
    /// `trusted_proxies = []`: the proxies in front of the server whose `X-Forwarded-For` is
    /// believed, as CIDRs (`["10.0.0.0/8", "::1"]`) or as a count of hops (`1`: one load balancer
    /// you control). The client is the right-most hop that is not a trusted proxy; with none
    /// (the default) it is the peer address and `X-Forwarded-For` is ignored, so clients cannot
    /// spoof it to dodge rate limits and login throttling.
    pub trusted_proxies: TrustedProxies,
    /// `cors_allowed_origins = ["https://app.example.com"]`: origins allowed to call the API from
    /// a browser; empty disables CORS headers.
    pub cors_allowed_origins: Vec<String>,
    /// `hsts_max_age_secs = 31536000`: send `Strict-Transport-Security` with this max-age (set it
    /// when clients reach Hearth over HTTPS only, e.g. behind a TLS-terminating proxy); unset
    /// sends none.
    pub hsts_max_age_secs: Option<NonZeroU64>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_secs: NonZeroU64::new(30).expect("30 is not zero"),
            body_limit_bytes: NonZeroUsize::new(1024 * 1024).expect("1 MiB is not zero"),
            max_uri_bytes: NonZeroUsize::new(8 * 1024).expect("8 KiB is not zero"),
            max_header_bytes: NonZeroUsize::new(16 * 1024).expect("16 KiB is not zero"),
            shutdown_grace_secs: 30,
            trusted_proxies: TrustedProxies::None,
            cors_allowed_origins: Vec::new(),
            hsts_max_age_secs: None,
        }
    }
}

impl ServerConfig {
    /// The request timeout as a [`Duration`].
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.get())
    }

    /// The shutdown grace period as a [`Duration`].
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Every origin is a scheme and a host (and port): the form browsers send in `Origin`, so an
    /// origin with a path or a trailing slash would never match and is a mistake.
    pub(super) fn check(&self, checks: &mut Checks) {
        for (i, origin) in self.cors_allowed_origins.iter().enumerate() {
            let ok = url::Url::parse(origin)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.path() == "/")
                .unwrap_or(false);
            if !ok || origin.ends_with('/') {
                checks.invalid(
                    format!("server.cors_allowed_origins[{i}]"),
                    "an origin like `https://app.example.com` (scheme and host, no path)",
                );
            }
        }
    }
}

/// `server.trusted_proxies`: whose `X-Forwarded-For` to believe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedProxies {
    /// Nobody's: the client is the peer.
    None,
    /// This many proxies (hops) in front of the server, whatever their addresses.
    Count(NonZeroUsize),
    /// Proxies at these addresses.
    Cidrs(Vec<IpNet>),
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Expecting;
        impl<'de> Visitor<'de> for Expecting {
            type Value = TrustedProxies;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a count of proxy hops or a list of CIDRs like [\"10.0.0.0/8\"]")
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(usize::try_from(n)
                    .ok()
                    .and_then(NonZeroUsize::new)
                    .map_or(TrustedProxies::None, TrustedProxies::Count))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom("expected a count of 0 or more"))
                    .and_then(|n| self.visit_u64(n))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut cidrs = Vec::new();
                while let Some(raw) = seq.next_element::<String>()? {
                    // A bare address is a /32 (or /128).
                    let net = raw
                        .parse::<IpNet>()
                        .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            de::Error::custom(format!(
                                "`{raw}` is not a CIDR like \"10.0.0.0/8\" or an address"
                            ))
                        })?;
                    cidrs.push(net);
                }
                Ok(if cidrs.is_empty() {
                    TrustedProxies::None
                } else {
                    TrustedProxies::Cidrs(cidrs)
                })
            }
        }
        d.deserialize_any(Expecting)
    }
}
