//! `[outbound]`: where the kernel's outbound HTTP (plugins' `http`, webhook deliveries) may
//! connect.

use ipnet::IpNet;
use serde::{de, Deserialize, Deserializer};

/// `[outbound]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    /// `allow_private = []`: networks outbound connections may reach although they are loopback,
    /// private, link-local, shared or cloud-metadata addresses (refused otherwise), as CIDRs or
    /// bare addresses, e.g. `["10.1.2.0/24"]` for a receiver inside the operator's network.
    #[serde(deserialize_with = "networks")]
    pub allow_private: Vec<IpNet>,
}

/// CIDRs, or bare addresses meaning a /32 (or /128).
fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .into_iter()
        .map(|raw| {
            raw.parse::<IpNet>()
                .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    de::Error::custom(format!(
                        "`{raw}` is not a CIDR like \"10.0.0.0/8\" or an address"
                    ))
                })
        })
        .collect()
}
