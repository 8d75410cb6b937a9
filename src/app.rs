//! Putting Hearth together: shared state, the route tree and its middleware, and the
//! server with its background chores.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use poem::listener::TcpAcceptor;
use poem::{Endpoint, EndpointExt, Request, Route, Server};
use url::Url;

use crate::accounts::hashing::Passwords;
use crate::chat::feed::Feed;
use crate::chat::hub::{CloseReason, Hub};
use crate::chat::limits::ChatLimits;
use crate::chat::read_marks::ReadMarks;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::events::Events;
use crate::google::Google;
use crate::web::client::{Connections, Watching};
use crate::web::limits::Limits;
use crate::web::session::{CookieSettings, Store};
use crate::web::{assets, boost, errors, log, protect, session};
use crate::{
    accounts, admin, api, bots, chat, dashboard, export, files, forward_auth, google, home, search,
    telemetry,
};

/// What every handler can reach. Cloning is cheap: it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Config,
    pub db: Db,
    pub sessions: Arc<Store>,
    pub passwords: Passwords,
    /// Which clients are still connected (see [`crate::web::client::Connections`]).
    pub connections: Arc<Connections>,
    pub limits: Limits,
    /// Sockets opened, rooms and conversations started, per person.
    pub chat_limits: ChatLimits,
    /// What capabilities announce to each other (see [`crate::events`]).
    pub events: Events,
    pub hub: Arc<Hub>,
    pub feed: Feed,
    pub read_marks: ReadMarks,
    /// Web Push: the VAPID key, the client pushes go through, the worker's wake-up.
    pub push: crate::push::Push,
    /// Email, if `SMTP_URL` is set: the transport and the outbox worker's wake-up.
    pub mailer: crate::mail::Mailer,
    /// Bots' deliveries: the worker's wake-up and the client they go through.
    pub bots: Arc<crate::bots::Bots>,
    /// Uploaded pictures being made ready, a few at a time.
    pub pictures: crate::files::pictures::Pictures,
    pub google: Google,
    /// Passkeys' relying party, from `BASE_URL` (off when that is an IP address).
    pub passkey_rp: crate::accounts::passkeys::RelyingParty,
    /// The Content-Security-Policy header, built once from the settings.
    pub csp: poem::http::HeaderValue,
    pub cookie: CookieSettings,
    /// The names requests may be addressed to (see [`protect::Hosts`]).
    pub hosts: protect::Hosts,
    /// Hearth's public URL, and its origin (`scheme://host[:port]`) for Origin checks.
    pub base_url: Url,
    pub origin: String,
}

impl From<Arc<Shared>> for AppState {
    fn from(shared: Arc<Shared>) -> Self {
        AppState(shared)
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Opens and migrates the database and prepares everything a request needs.
    /// `local` is where this process listens (the default public URL).
    pub async fn open(config: Config, local: SocketAddr) -> anyhow::Result<Self> {
        let base_url = match &config.base_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{local}"))?,
        };
        let origin = base_url.origin().ascii_serialization();
        let db = Db::connect(&config.database_url).await?;
        let sessions = Arc::new(Store::open(&db).await?);
        let cookie = CookieSettings::new(base_url.scheme() == "https", config.session_idle());
        let hub = Arc::new(Hub::new(
            config.chat_socket_queue as usize,
            config.chat_sockets_per_person as usize,
        ));
        let events = Events::default();
        chat::listen(&events, &hub);
        let bots = Arc::new(bots::Bots::new(&config)?);
        bots::listen(&events, &bots);
        let push = crate::push::Push::open(&config, &db, &base_url).await?;
        let state = AppState(Arc::new(Shared {
            push,
            passwords: Passwords::new(config.bcrypt_cost, config.signin_queue.map(|n| n as usize))?,
            connections: Arc::default(),
            limits: Limits::new(&config),
            chat_limits: ChatLimits::new(&config),
            feed: Feed::start(db.clone(), hub.clone()),
            read_marks: ReadMarks::default(),
            pictures: Default::default(),
            bots,
            mailer: crate::mail::Mailer::new(&config, &base_url)?,
            events,
            hub,
            google: Google::new(&config, &base_url)?,
            passkey_rp: crate::accounts::passkeys::RelyingParty::new(&base_url),
            csp: protect::content_security_policy(&config.avatar_origins),
            hosts: protect::Hosts::new(&base_url, config.base_url.is_some(), &config.allowed_hosts),
            config,
            db,
            sessions,
            cookie,
            base_url,
            origin,
        }));
        crate::push::listen(&state.events, Arc::downgrade(&state.0));
        Ok(state)
    }

    /// The state attached to every request by [`App::endpoint`].
    pub fn of(req: &Request) -> poem::Result<AppState> {
        req.data::<AppState>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state on request")).into())
    }
}

pub struct App {
    state: AppState,
    acceptor: Watching<TcpAcceptor>,
    local: SocketAddr,
    metrics: Option<tokio::net::TcpListener>,
}

impl App {
    /// Opens and migrates the database and prepares to serve on `listener`.
    pub async fn build(config: Config, listener: tokio::net::TcpListener) -> anyhow::Result<Self> {
        let local = listener.local_addr()?;
        let state = AppState::open(config, local).await?;
        let acceptor = Watching::new(TcpAcceptor::from_tokio(listener)?, state.connections.clone());
        let metrics = match state.config.metrics_bind {
            Some(addr) => {
                telemetry::install();
                let listener = tokio::net::TcpListener::bind(addr).await.map_err(|err| {
                    anyhow::anyhow!("cannot listen on METRICS_BIND={addr}: {err}")
                })?;
                Some(listener)
            }
            None => None,
        };
        Ok(Self { state, acceptor, local, metrics })
    }

    pub fn base_url(&self) -> &Url {
        &self.state.base_url
    }

    /// Where this process listens (the base URL may name a proxy in front of it).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Where metrics are served, when `METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` resolves; then closes chat sockets with 1012 (so browsers
    /// reconnect, to this machine's successor), lets requests in flight finish, and
    /// closes the database.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let state = self.state.clone();
        let chores = tokio::spawn(chores(state.clone()));
        let metrics = self
            .metrics
            .map(|listener| tokio::spawn(telemetry::serve(listener, state.hub.clone())));
        let ticks = tokio::spawn(hub_ticks(state.hub.clone()));
        let ended = tokio::spawn(accounts::sessions::announce_ended_elsewhere(state.clone()));
        let read_marks = tokio::spawn(chat::read_marks::keep_saving(state.clone()));
        let deliveries = tokio::spawn(bots::delivery::keep_delivering(state.clone()));
        let mail = tokio::spawn(crate::mail::keep_sending(state.clone()));
        let missed = tokio::spawn(chat::missed::keep_telling(state.clone()));
        let pushes = tokio::spawn(crate::push::sending::keep_pushing(state.clone()));
        // With PostgreSQL, other instances may share the database: listen to them.
        let bus = match &state.db {
            Db::Postgres(pool) => {
                Some(tokio::spawn(chat::bus::listen(state.clone(), pool.clone())))
            }
            Db::Sqlite(_) => None,
        };
        let warm = state.passwords.clone();
        tokio::spawn(async move { warm.warm_up().await });
        let hub = state.hub.clone();
        let signal = async move {
            signal.await;
            hub.close_all(CloseReason::Restarting);
        };
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(endpoint(self.state), signal, Some(Duration::from_secs(10)))
            .await;
        // Sockets are upgraded connections the server no longer tracks: give them a
        // moment to send their close frames.
        for _ in 0..50 {
            if state.hub.connections() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        chores.abort();
        ticks.abort();
        ended.abort();
        read_marks.abort();
        // A delivery cut short is due again once its lease runs out.
        deliveries.abort();
        mail.abort();
        missed.abort();
        pushes.abort();
        if let Err(err) = state.read_marks.save(&state.db).await {
            tracing::warn!("could not save read positions: {err:#}");
        }
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        if let Some(bus) = bus {
            bus.abort();
        }
        state.db.close().await;
        result
    }
}

/// The whole application as one poem endpoint.
///
/// Errors are rendered twice on purpose: inside the session middleware, so a handler's
/// error is a response by the time the session is saved (its changes are kept), and
/// outermost, for errors the middleware itself raises (cross-site, too large).
pub fn endpoint(state: AppState) -> impl Endpoint + 'static {
    let pages = [
        accounts::routes,
        admin::routes,
        bots::routes,
        crate::push::routes,
        google::routes,
        chat::routes,
        dashboard::routes,
        export::routes,
        api::routes,
        search::routes,
        files::routes,
        forward_auth::routes,
        home::routes,
    ]
    .into_iter()
    .fold(Route::new(), |route, add| add(route));
    let pages = pages.boxed().around(errors::render).boxed().around(session::attach);

    home::health_routes(Route::new())
        .at("/assets/:name", assets::serve)
        .nest("/", pages)
        .boxed()
        .around(protect::check)
        .boxed()
        .around(errors::render)
        .boxed()
        .around(protect::headers)
        .boxed()
        .around(boost::history)
        .boxed()
        .around(log::requests)
        .data(state)
}

/// Batched presence and typing updates, once a second.
async fn hub_ticks(hub: Arc<Hub>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        hub.tick();
    }
}

/// Periodic housekeeping: expired sessions and idle rate-limit keys.
async fn chores(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(15 * 60));
    loop {
        tick.tick().await;
        if let Err(err) = accounts::sessions::delete_expired(&state).await {
            tracing::warn!("could not delete expired sessions: {err}");
        }
        state.limits.forget_idle();
        state.chat_limits.forget_idle();
        match files::sweep(&state.db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("deleted {n} uploads no message claimed within a day"),
            Err(err) => tracing::warn!("could not delete unclaimed uploads: {err}"),
        }
    }
}
