//! Who the client is: the peer address, or, behind trusted proxies, the right-most
//! `X-Forwarded-For` hop that is not one of them. Every proxy appends the address it got the
//! request from, so only the hops our own proxies appended can be believed; anything left of the
//! first untrusted hop was written by the client and may be forged.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::config::TrustedProxies;

/// The client's address for a request from `peer` with these headers.
pub(crate) fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| match trusted {
        TrustedProxies::None => false,
        TrustedProxies::Count(_) => true,
        TrustedProxies::Cidrs(nets) => nets.iter().any(|n| n.contains(ip)),
    };
    if !is_trusted(&peer) {
        return peer;
    }
    // Hops nearest first: the peer, then `X-Forwarded-For` from right to left (several headers
    // are one list, in order).
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut hops = std::iter::once(Some(peer)).chain(
        forwarded
            .iter()
            .rev()
            .map(|h| h.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())),
    );
    match trusted {
        TrustedProxies::None => peer,
        // The peer and the `n - 1` hops before it are our proxies: the client is the hop after
        // them, or the farthest one there is.
        TrustedProxies::Count(n) => {
            let mut client = peer;
            for hop in hops.take(n.get() + 1) {
                match hop {
                    Some(ip) => client = ip,
                    // Garbage where an address belongs: stop at the last hop we could read.
                    None => break,
                }
            }
            client
        }
        TrustedProxies::Cidrs(_) => {
            let mut client = peer;
            for hop in hops.by_ref().skip(1) {
                let Some(ip) = hop else { break };
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            client
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use axum::http::HeaderValue;

    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("ascii"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn cidrs(list: &[&str]) -> TrustedProxies {
        TrustedProxies::Cidrs(list.iter().map(|c| c.parse().expect("a CIDR")).collect())
    }

    #[test]
    fn without_trusted_proxies_forwarded_for_is_ignored() {
        let h = headers(&["198.51.100.1"]);
        assert_eq!(
            client_address(ip("203.0.113.9"), &h, &TrustedProxies::None),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        // The client forged the first entry; our proxy appended the real address.
        let h = headers(&["1.2.3.4, 198.51.100.7"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &h, &trusted),
            ip("198.51.100.7")
        );
        // Two trusted proxies in a row, the list split over two headers.
        let h = headers(&["1.2.3.4, 198.51.100.7", "10.1.1.1"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &h, &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_forge_forwarded_for() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let h = headers(&["10.0.0.5"]);
        assert_eq!(
            client_address(ip("198.51.100.7"), &h, &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_hop_count_trusts_that_many_proxies_whatever_their_addresses() {
        let one = TrustedProxies::Count(NonZeroUsize::MIN);
        let h = headers(&["1.2.3.4, 198.51.100.7"]);
        assert_eq!(
            client_address(ip("192.0.2.1"), &h, &one),
            ip("198.51.100.7")
        );
        let two = TrustedProxies::Count(NonZeroUsize::new(2).expect("not zero"));
        assert_eq!(client_address(ip("192.0.2.1"), &h, &two), ip("1.2.3.4"));
        // Fewer hops than proxies: the farthest one.
        let h = headers(&[]);
        assert_eq!(client_address(ip("192.0.2.1"), &h, &two), ip("192.0.2.1"));
    }

    #[test]
    fn garbage_in_forwarded_for_stops_at_the_last_readable_hop() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let h = headers(&["not-an-ip, 10.0.0.9"]);
        assert_eq!(client_address(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.9"));
        let h = headers(&["198.51.100.7, junk"]);
        assert_eq!(client_address(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_hops_are_matched_against_ipv6_proxies() {
        let trusted = cidrs(&["fd00::/8"]);
        let h = headers(&["2001:db8:1:2::99"]);
        assert_eq!(
            client_address(ip("fd00::1"), &h, &trusted),
            ip("2001:db8:1:2::99")
        );
    }
}
