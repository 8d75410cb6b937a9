//! Metrics for Prometheus (Fly.io scrapes them): requests by route and status with
//! latency, chat sockets, messages stored and delivered, slow clients dropped,
//! sign-ins and rate-limit hits, and password hashes (done, refused because the
//! queue was full, abandoned by their client). Served on their own address
//! (`METRICS_BIND`), so they never face the public internet.

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{EndpointExt, Route, Server, get, handler};

use crate::chat::hub::Hub;

/// The process-wide recorder, installed on first use.
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Starts recording (idempotent). Without this, metric calls are no-ops.
pub fn install() {
    let _ = handle();
}

/// Serves `GET /metrics` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, hub: Arc<Hub>) -> std::io::Result<()> {
    let app = Route::new().at("/metrics", get(render)).data(hub);
    Server::new_with_acceptor(TcpAcceptor::from_tokio(listener)?).run(app).await
}

#[handler]
fn render(hub: Data<&Arc<Hub>>) -> String {
    metrics::gauge!("hearth_chat_sockets").set(hub.connections() as f64);
    handle().map(PrometheusHandle::render).unwrap_or_default()
}
