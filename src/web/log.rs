//! One log line per request: method, path, status and latency. The query string is
//! left out, because it can carry codes (the OpenID callback), and so are headers.

use std::time::Instant;

use poem::{Endpoint, Request, Response};

use super::Next;

pub async fn requests(next: Next, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let result = next.call(req).await;
    let status = match &result {
        Ok(resp) => resp.status(),
        Err(err) => err.status(),
    };
    tracing::info!(
        %method,
        path,
        status = status.as_u16(),
        ms = format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    result
}
