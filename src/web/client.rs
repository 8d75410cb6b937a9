//! Facts about the client: its address (for rate limits), its user agent (for the
//! session list), and whether it is still connected (for work done on its behalf).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use poem::http::uri::Scheme;
use poem::http::{StatusCode, header};
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, FromRequest, IntoResponse, Request, RequestBody, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

use super::Next;
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
