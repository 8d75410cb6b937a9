//! Facts about the client: its address (for rate limits) and its user agent (for the
//! session list).

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use poem::http::header;
use poem::{FromRequest, Request, RequestBody};

use crate::AppState;

/// The client's address, for rate limits: the socket peer; or, behind a proxy the
/// operator named, the address that proxy saw. Anywhere else a forwarding header is
/// whatever the client wants it to be, so it is read only from trusted peers.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl<'a> FromRequest<'a> for ClientAddr {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = AppState::of(req)?;
        let peer = req
            .remote_addr()
            .as_socket_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip().to_canonical());
        if state.config.trust_fly_client_ip
            && let Some(fly) = req.header("fly-client-ip").and_then(|v| v.trim().parse().ok())
        {
            return Ok(ClientAddr(fly));
        }
        let proxies = &state.config.trusted_proxies;
        let forwarded = req.headers().get_all("x-forwarded-for");
        let hops = forwarded.iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
        Ok(ClientAddr(through_proxies(peer, hops, proxies)))
    }
}

/// The first address, walking back from `peer` through the `X-Forwarded-For` hops
/// (nearest last), that is not one of `proxies`: the leftmost hops are the client's
/// to write, so only what trusted proxies appended counts. A hop that does not parse
/// ends the walk at the proxy that passed it on.
fn through_proxies<'h>(
    peer: IpAddr,
    hops: impl DoubleEndedIterator<Item = &'h str>,
    proxies: &[IpNet],
) -> IpAddr {
    let trusted = |addr: &IpAddr| proxies.iter().any(|net| net.contains(addr));
    let mut client = peer;
    for hop in hops.rev() {
        if !trusted(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(addr) => client = addr.to_canonical(),
            Err(_) => break,
        }
    }
    client
}

/// The `User-Agent`, cut to a length worth storing.
pub struct UserAgent(pub String);

impl<'a> FromRequest<'a> for UserAgent {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let agent = req.header(header::USER_AGENT).unwrap_or("").trim();
        Ok(UserAgent(agent.chars().take(300).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(peer: &str, header: &str, proxies: &[&str]) -> String {
        let proxies: Vec<IpNet> = proxies.iter().map(|p| p.parse().unwrap()).collect();
        through_proxies(peer.parse().unwrap(), header.split(','), &proxies).to_string()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = ["10.0.0.0/8"];
        assert_eq!(walk("10.0.0.1", "203.0.113.5", &proxies), "203.0.113.5");
        // What the client wrote itself (the leftmost hops) does not count.
        assert_eq!(walk("10.0.0.1", "1.2.3.4, 203.0.113.5, 10.0.0.2", &proxies), "203.0.113.5");
        // From an untrusted peer the header is ignored.
        assert_eq!(walk("198.51.100.7", "203.0.113.5", &proxies), "198.51.100.7");
        assert_eq!(walk("10.0.0.1", "203.0.113.5", &[]), "10.0.0.1");
        // A hop that is not an address stops the walk at the proxy that passed it.
        assert_eq!(walk("10.0.0.1", "203.0.113.5, junk", &proxies), "10.0.0.1");
        assert_eq!(walk("10.0.0.1", "", &proxies), "10.0.0.1");
    }
}
