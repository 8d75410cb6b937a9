//! Requests Hearth makes to URLs that people hand it (a bot's webhook). Such a URL
//! is a request-forgery risk: whoever sets it could point Hearth at a service that
//! only trusts its own network (a database's admin port, a cloud metadata endpoint).
//!
//! So a destination must be `https`, and every address it resolves to must be a
//! public one: never loopback, private, link-local, shared (CGNAT), multicast or
//! reserved. The check is made on the addresses actually connected to (a resolver
//! that refuses such names, so a name cannot resolve one way when checked and
//! another when used), and redirects are not followed, nor any proxy used. Tests,
//! whose receivers run on 127.0.0.1, may allow `http` (to any host that passes)
//! and loopback addresses; no other private range.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a URL is not somewhere Hearth will send requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum Refusal {
    NotHttps,
    Unusable,
    Private,
    Unresolved,
}

impl Refusal {
    /// What the person who gave the URL is told.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NotHttps => "The address must start with https://.",
            Refusal::Unusable => "That is not a web address Hearth can reach.",
            Refusal::Private => {
                "That address is on a private, local or reserved network, which Hearth does \
                 not send to."
            }
            Refusal::Unresolved => "That name does not resolve to any address.",
        }
    }
}

/// A client for such requests: time-bounded, no redirects, public addresses only.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_loopback: bool,
}

impl Outbound {
    /// `allow_loopback` lets `http` and loopback addresses through (for tests).
    pub fn new(allow_loopback: bool, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from HTTP(S)_PROXY would resolve the name itself, past the
            // resolver below: these requests never go through one.
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .dns_resolver(Arc::new(PublicOnly { allow_loopback }))
            .user_agent(concat!("Hearth/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Outbound { client, allow_loopback })
    }

    /// Parses `input` as a destination, resolving its name now so that a person
    /// setting it learns at once when it cannot be used. (It is checked again on
    /// every request: what a name resolves to can change.)
    pub async fn destination(&self, input: &str) -> Result<Url, Refusal> {
        let url = Url::parse(input.trim()).map_err(|_| Refusal::Unusable)?;
        let host = self.check(&url)?;
        if let Host::Domain(name) = host {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs = resolve(name, port).await?;
            check_all(&addrs, self.allow_loopback)?;
        }
        Ok(url)
    }

    /// A POST to `url`, checked first; send it with [`reqwest::RequestBuilder::send`].
    pub fn post(&self, url: &Url) -> Result<reqwest::RequestBuilder, Refusal> {
        self.check(url)?;
        Ok(self.client.post(url.clone()))
    }

    /// What can be checked without resolving: the scheme, and an address written
    /// in the URL itself (the resolver never sees those).
    fn check<'u>(&self, url: &'u Url) -> Result<Host<&'u str>, Refusal> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback => {}
            "http" => return Err(Refusal::NotHttps),
            _ => return Err(Refusal::NotHttps),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Unusable);
        }
        let host = url.host().ok_or(Refusal::Unusable)?;
        match host {
            Host::Ipv4(ip) => check_ip(IpAddr::V4(ip), self.allow_loopback)?,
            Host::Ipv6(ip) => check_ip(IpAddr::V6(ip), self.allow_loopback)?,
            Host::Domain(_) => {}
        }
        Ok(host)
    }
}

/// The resolver the client connects through: it answers only with public
/// addresses, and refuses a name if any of its addresses is not one.
struct PublicOnly {
    allow_loopback: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let addrs = resolve(name.as_str(), 0).await?;
            check_all(&addrs, allow_loopback)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

async fn resolve(name: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((name, port)).await.map_err(|_| Refusal::Unresolved)?.collect();
    if addrs.is_empty() {
        return Err(Refusal::Unresolved);
    }
    Ok(addrs)
}

fn check_all(addrs: &[SocketAddr], allow_loopback: bool) -> Result<(), Refusal> {
    addrs.iter().try_for_each(|addr| check_ip(addr.ip(), allow_loopback))
}

fn check_ip(ip: IpAddr, allow_loopback: bool) -> Result<(), Refusal> {
    if allow_loopback && ip.to_canonical().is_loopback() {
        return Ok(());
    }
    if is_public(ip) { Ok(()) } else { Err(Refusal::Private) }
}

/// Whether `ip` is an address on the public internet (as far as the IANA special-
/// purpose registries tell).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // An IPv4 address written as IPv6 (::ffff:a.b.c.d, or NAT64's 64:ff9b::/96)
    // reaches that IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo: tunnels to IPv4
        || segments[0] == 0x2002 // 6to4: embeds an IPv4 address, private ones too
        || segments[..3] == [0x64, 0xff9b, 1] // local-use NAT64 (RFC 8215)
        || segments[..4] == [0x100, 0, 0, 0] // discard-only
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
            "2001:db8::1",
            "2002:0a00:0001::1",
            "2001:0:4136:e378::1",
            "64:ff9b:1::a00:1",
            "100::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} passed as public");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public} refused");
        }
    }

    #[tokio::test]
    async fn a_destination_must_be_https_and_public() {
        let strict = Outbound::new(false, Duration::from_secs(1)).unwrap();
        let refused = |input: &'static str| {
            let strict = strict.clone();
            async move { strict.destination(input).await.err() }
        };
        assert_eq!(refused("http://93.184.216.34/hook").await, Some(Refusal::NotHttps));
        assert_eq!(refused("ftp://93.184.216.34/").await, Some(Refusal::NotHttps));
        assert_eq!(refused("https://127.0.0.1/hook").await, Some(Refusal::Private));
        assert_eq!(refused("https://[::1]:8443/").await, Some(Refusal::Private));
        assert_eq!(refused("https://10.0.0.7/").await, Some(Refusal::Private));
        assert_eq!(refused("https://2130706433/").await, Some(Refusal::Private), "127.0.0.1");
        assert_eq!(refused("https://localhost/").await, Some(Refusal::Private), "resolved");
        assert_eq!(refused("https://user:pw@93.184.216.34/").await, Some(Refusal::Unusable));
        assert_eq!(refused("not a url").await, Some(Refusal::Unusable));
        assert_eq!(refused("https://93.184.216.34/hook").await, None);

        let testing = Outbound::new(true, Duration::from_secs(1)).unwrap();
        assert!(testing.destination("http://127.0.0.1:9/hook").await.is_ok());
        assert_eq!(testing.destination("http://10.0.0.7/").await.err(), Some(Refusal::Private));
    }
}
