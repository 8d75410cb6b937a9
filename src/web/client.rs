//! Facts about the client: its address (for rate limits), its user agent (for the
//! session list), and whether it is still connected (for work done on its behalf).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use ipnet::IpNet;
use poem::http::uri::Scheme;
use poem::http::{StatusCode, header};
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, FromRequest, IntoResponse, Request, RequestBody, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

use super::Next;
use crate::AppState;

/// The client's address, for rate limits: the socket peer; or, behind a proxy the
/// operator named, the address that proxy saw. Anywhere else a forwarding header is
/// whatever the client wants it to be, so it is read only from trusted peers. An
/// IPv4 client reached over IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket reports
/// it) is given as the IPv4 address it is.
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

/// Open connections by the client's socket address, each with a flag that turns true
/// once the client has closed its end.
///
/// poem keeps serving a request whose connection has closed (it lets the handler
/// run to the end, then finds nowhere to write), so a request cannot tell by being
/// dropped; [`while_connected`] asks here instead.
#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<SocketAddr, watch::Receiver<bool>>>,
}

impl Connections {
    /// The closed flag of the connection from `peer`, if it is open.
    fn watch(&self, peer: &SocketAddr) -> Option<watch::Receiver<bool>> {
        self.open.lock().ok()?.get(peer).cloned()
    }
}

/// Accepts as `inner` does, and enters each connection in [`Connections`].
pub struct Watching<A> {
    inner: A,
    connections: Arc<Connections>,
}

impl<A> Watching<A> {
    pub fn new(inner: A, connections: Arc<Connections>) -> Self {
        Self { inner, connections }
    }
}

impl<A: Acceptor> Acceptor for Watching<A> {
    type Io = Watched<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        let (closed, flag) = watch::channel(false);
        let peer = remote.as_socket_addr().copied();
        if let (Some(peer), Ok(mut open)) = (peer, self.connections.open.lock()) {
            open.insert(peer, flag);
        }
        let io = Watched { io, closed, peer, connections: self.connections.clone() };
        Ok((io, local, remote, scheme))
    }
}

/// A connection that raises its closed flag when a read finds the client's end
/// closed (or failing), and leaves [`Connections`] when dropped.
pub struct Watched<Io> {
    io: Io,
    closed: watch::Sender<bool>,
    peer: Option<SocketAddr>,
    connections: Arc<Connections>,
}

impl<Io: AsyncRead + Unpin> AsyncRead for Watched<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let (room, before) = (buf.remaining() > 0, buf.filled().len());
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        // Nothing read into room for something is the end of the stream.
        let ended = match &read {
            Poll::Ready(Ok(())) => room && buf.filled().len() == before,
            Poll::Ready(Err(_)) => true,
            Poll::Pending => false,
        };
        if ended {
            this.closed.send_replace(true);
        }
        read
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Watched<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

impl<Io> Drop for Watched<Io> {
    fn drop(&mut self) {
        // Only this connection's entry: a later one from the same address replaced it.
        if let (Some(peer), Ok(mut open)) = (self.peer, self.connections.open.lock())
            && open.get(&peer).is_some_and(|flag| flag.same_channel(&self.closed.subscribe()))
        {
            open.remove(&peer);
        }
    }
}

/// `ep`, given up as soon as its client has gone away: work done on the client's
/// behalf (a password hash waiting in the queue) is then dropped rather than done
/// for nobody.
pub fn while_connected(ep: impl Endpoint + 'static) -> impl Endpoint {
    ep.map_to_response().boxed().around(give_up_when_gone)
}

async fn give_up_when_gone(next: Next, req: Request) -> poem::Result<Response> {
    let state = AppState::of(&req)?;
    let flag = req.remote_addr().as_socket_addr().and_then(|peer| state.connections.watch(peer));
    let Some(mut flag) = flag else {
        return next.call(req).await;
    };
    tokio::select! {
        answer = next.call(req) => answer,
        // Also when the connection itself is gone (its sender dropped).
        _ = flag.wait_for(|closed| *closed) => {
            // Nobody reads this; the request log shows it as nginx's "client closed".
            let gone = StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST);
            Ok(gone.into_response())
        }
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
