//! Forms marked `hx-boost` are sent by htmx and their answer swapped into the page
//! without a reload; without JavaScript they are plain forms. The one thing the server
//! adds is the history entry htmx should (not) make.

use poem::http::{HeaderValue, Method};
use poem::{Endpoint, Request, Response};

use super::Next;

/// A boosted form's answer that is not a redirect (a form shown again with its
/// problems) keeps the address the browser had: htmx would otherwise push the form's
/// action, a URL that only takes POST. After a redirect, htmx pushes where it landed,
/// as a plain form would.
pub async fn history(next: Next, req: Request) -> poem::Result<Response> {
    let posted_by_htmx = req.method() != Method::GET && req.header("hx-boosted").is_some();
    let mut resp = next.call(req).await?;
    if posted_by_htmx && !resp.status().is_redirection() {
        resp.headers_mut().insert("hx-push-url", HeaderValue::from_static("false"));
    }
    Ok(resp)
}
