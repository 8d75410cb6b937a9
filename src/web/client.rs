//! Facts about the client: its address (for rate limits) and its user agent (for the
//! session list).

use std::net::{IpAddr, Ipv4Addr};

use poem::http::header;
use poem::{FromRequest, Request, RequestBody};

use crate::AppState;

/// The client's address: the socket peer, or `Fly-Client-IP` when the operator says
/// Hearth runs behind Fly's proxy (anywhere else that header is whatever the client
/// wants it to be). An IPv4 client reached over IPv6 (`::ffff:a.b.c.d`, as a
/// dual-stack socket reports it) is given as the IPv4 address it is.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl<'a> FromRequest<'a> for ClientAddr {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = AppState::of(req)?;
        let forwarded = state
            .config
            .trust_fly_client_ip
            .then(|| req.header("fly-client-ip"))
            .flatten()
            .and_then(|value| value.trim().parse().ok());
        let peer = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
        let addr = forwarded.or(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddr(addr.to_canonical()))
    }
}

/// The `User-Agent`, cut to a length worth storing.
pub struct UserAgent(pub String);

impl<'a> FromRequest<'a> for UserAgent {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let agent = req.header(header::USER_AGENT).unwrap_or("").trim();
        Ok(UserAgent(agent.chars().take(300).collect()))
    }
}
