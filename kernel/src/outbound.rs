//! Outbound HTTP: the one way the kernel connects out for someone else (a plugin's `http`
//! capability, a webhook delivery). Such a request never reaches the kernel's own network unless
//! the operator lists it (`[outbound] allow_private`): loopback, private, link-local, shared
//! (CGNAT), unique-local, multicast, unspecified and cloud-metadata addresses are refused.
//!
//! The check is on the address actually connected to: names are resolved by `GuardedResolver`,
//! which hands the HTTP client only the permitted addresses, so a name cannot resolve to a public
//! address when checked and a private one when connected (DNS rebinding). Address literals, which
//! the client does not resolve, are checked by [`Outbound::request`]. Redirects are never followed
//! and no proxy from the environment is used.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::config::OutboundConfig;

/// Why an outbound request was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not an `http`/`https` URL with a host.
    #[error("`{0}` is not an http(s) URL")]
    NotHttp(String),
    /// The host is, or resolves only to, addresses outbound requests may not reach.
    #[error(
        "`{host}` is {address}, a {class} address outbound requests may not reach \
         (an operator can allow it in outbound.allow_private)"
    )]
    Address {
        /// The URL's host.
        host: String,
        /// The first refused address.
        address: IpAddr,
        /// What kind of address it is.
        class: &'static str,
    },
}

/// The kind of address `ip` is, when it is one outbound requests must not reach by default.
pub fn restricted_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => {
            // An IPv4 address in IPv6 clothing is judged as itself.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_class(v4);
            }
            let [a, b, ..] = v6.segments();
            if a == 0x64 && b == 0xff9b {
                // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
                let [.., w, x, y, z] = v6.octets();
                return v4_class(Ipv4Addr::new(w, x, y, z));
            }
            v6_class(v6)
        }
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some("cloud metadata")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (CGNAT)")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("multicast or reserved")
    } else {
        None
    }
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xfe00 == 0xfc00 {
        // fc00::/7, which holds AWS's metadata address fd00:ec2::254.
        Some("unique-local")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast or reserved")
    } else {
        None
    }
}

/// Which addresses outbound connections may reach.
#[derive(Debug, Clone, Default)]
struct AddressPolicy {
    allow_private: Vec<IpNet>,
}

impl AddressPolicy {
    /// `Err(class)` when `ip` is restricted and not allowed by the operator.
    fn judge(&self, ip: IpAddr) -> Result<(), &'static str> {
        let ip = ip.to_canonical();
        match restricted_class(ip) {
            Some(class) if !self.allow_private.iter().any(|net| net.contains(&ip)) => Err(class),
            _ => Ok(()),
        }
    }
}

/// Resolves names for the outbound client and keeps only the addresses the policy permits: the
/// client connects to nothing else.
#[derive(Debug, Clone)]
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let lookup = host.clone();
            let found: Vec<SocketAddr> =
                tokio::task::spawn_blocking(move || (lookup.as_str(), 0).to_socket_addrs())
                    .await??
                    .collect();
            let mut refused = None;
            let permitted: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.judge(a.ip()) {
                    Ok(()) => true,
                    Err(class) => {
                        refused.get_or_insert((a.ip(), class));
                        false
                    }
                })
                .collect();
            match (permitted.is_empty(), refused) {
                (true, Some((address, class))) => Err(Box::new(Refused::Address {
                    host,
                    address,
                    class,
                })
                    as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(permitted.into_iter()) as Addrs),
            }
        })
    }
}

/// The outbound HTTP client: cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

/// The client could not be built (TLS backend initialisation).
#[derive(Debug, thiserror::Error)]
#[error("outbound http client: {0}")]
pub struct BuildError(#[from] reqwest::Error);

impl Outbound {
    /// A client whose every request gives up after `timeout` and says `user_agent`.
    pub fn new(
        config: &OutboundConfig,
        timeout: Duration,
        user_agent: &str,
    ) -> Result<Self, BuildError> {
        let policy = Arc::new(AddressPolicy {
            allow_private: config.allow_private.clone(),
        });
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .build()?;
        Ok(Self { client, policy })
    }

    /// A request to `url`, or why it may not be sent. Send it with
    /// [`reqwest::RequestBuilder::send`] and describe a failure with [`Outbound::describe`].
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, Refused> {
        let parsed = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| Refused::NotHttp(url.to_owned()))?;
        let literal = match parsed.host() {
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(Host::Domain(_)) => None,
            None => return Err(Refused::NotHttp(url.to_owned())),
        };
        if let Some(address) = literal {
            self.policy
                .judge(address)
                .map_err(|class| Refused::Address {
                    host: address.to_string(),
                    address,
                    class,
                })?;
        }
        Ok(self.client.request(method, parsed))
    }

    /// The address policy's refusal behind `error`, when the resolver refused every address.
    fn refusal(error: &reqwest::Error) -> Option<&Refused> {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = cause {
            if let Some(refused) = e.downcast_ref::<Refused>() {
                return Some(refused);
            }
            cause = e.source();
        }
        None
    }

    /// What went wrong with a sent request, in one line: the refusal when the resolver refused
    /// every address, else the client's error with its causes.
    pub fn describe(error: &reqwest::Error) -> String {
        if let Some(refused) = Self::refusal(error) {
            return refused.to_string();
        }
        let mut chain = Vec::new();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = cause {
            chain.push(e.to_string());
            cause = e.source();
        }
        chain.dedup();
        chain.join(": ")
    }

    /// Whether `error` is a refusal by the address policy (no retry can help).
    pub fn is_refusal(error: &reqwest::Error) -> bool {
        Self::refusal(error).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn the_kernels_own_networks_are_restricted_and_the_internet_is_not() {
        for (address, class) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("0.0.0.0", "unspecified"),
            ("255.255.255.255", "multicast or reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00:ec2::254", "unique-local"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
        ] {
            assert_eq!(restricted_class(ip(address)), Some(class), "{address}");
        }
        for address in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(restricted_class(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn an_operator_can_allow_a_private_network() {
        let policy = AddressPolicy {
            allow_private: vec!["10.1.2.0/24".parse().expect("a CIDR")],
        };
        assert_eq!(policy.judge(ip("10.1.2.3")), Ok(()));
        assert_eq!(policy.judge(ip("10.1.3.3")), Err("private"));
        assert_eq!(policy.judge(ip("127.0.0.1")), Err("loopback"));
    }

    #[tokio::test]
    async fn literals_and_names_of_restricted_addresses_are_refused_before_connecting() {
        let outbound = Outbound::new(&OutboundConfig::default(), Duration::from_secs(5), "test")
            .expect("client");
        for url in [
            "http://127.0.0.1:9/",
            "http://[::1]:9/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            // Other spellings of 127.0.0.1 that URL parsing normalises.
            "http://2130706433/",
            "http://0x7f.0.0.1/",
        ] {
            let refused = outbound.request(reqwest::Method::GET, url).err();
            assert!(
                matches!(refused, Some(Refused::Address { .. })),
                "{url}: {refused:?}"
            );
        }
        assert!(matches!(
            outbound.request(reqwest::Method::GET, "file:///etc/passwd"),
            Err(Refused::NotHttp(_))
        ));
        // `localhost` is a name: the resolver refuses what it resolves to.
        let sent = outbound
            .request(reqwest::Method::GET, "http://localhost:9/")
            .expect("a name is resolved when sent")
            .send()
            .await
            .expect_err("refused");
        assert!(Outbound::is_refusal(&sent), "{sent:?}");
        let described = Outbound::describe(&sent);
        assert!(
            described.contains("`localhost` is ") && described.contains("loopback"),
            "{described}"
        );
    }
}
