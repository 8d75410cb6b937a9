//! One log line per request: method, path, status and latency. The query string is
//! left out, because it can carry codes (the OpenID callback), and so are headers;
//! a path that is itself a secret (a route with a `:token`, such as a password
//! reset link) is logged as its route.
//!
//! The metrics are labelled with the route that answered (`/chat/:room`), as poem's
//! router records it on the response, so the labels stay few whatever paths
//! clients make up; a path no route matched is `other`.

use std::time::Instant;

use poem::{Endpoint, PathPattern, Request, Response};

use super::Next;

pub async fn requests(next: Next, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let result = next.call(req).await;
    let (status, pattern) = match &result {
        Ok(resp) => (resp.status(), resp.data::<PathPattern>()),
        Err(err) => (err.status(), err.data::<PathPattern>()),
    };
    let route = pattern.map_or_else(|| "other".to_owned(), |p| p.0.to_string());
    let elapsed = started.elapsed();
    let labels = [("route", route.clone()), ("status", status.as_u16().to_string())];
    metrics::counter!("hearth_http_requests_total", &labels).increment(1);
    metrics::histogram!("hearth_http_request_duration_seconds", &labels[..1])
        .record(elapsed.as_secs_f64());
    let path = if route.contains(":token") { route.clone() } else { path };
    tracing::info!(
        %method,
        path,
        status = status.as_u16(),
        ms = format_args!("{:.1}", elapsed.as_secs_f64() * 1000.0),
        "request"
    );
    result
}
