//! Protections every request gets: a body-size cap, refusal of cross-site writes, and
//! security headers on every response.

use poem::http::{HeaderValue, Method, header};
use poem::{Endpoint, Request, Response};

use super::Next;
use super::form::BODY_LIMIT;
use crate::AppState;
use crate::error::AppError;

/// Scripts and styles only from Hearth itself (no inline script anywhere), no
/// framing, forms only to Hearth, and the WebSocket back to the same origin. Images
/// may also come from the profile-picture origins the operator allows.
pub fn content_security_policy(avatar_origins: &[url::Url]) -> HeaderValue {
    let images: String = avatar_origins
        .iter()
        .map(|url| format!(" {}", url.origin().ascii_serialization()))
        .collect();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'{images}; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// Refuses bodies over the limit up front, and state-changing requests that a
/// browser says came from another site.
///
/// Browsers send `Sec-Fetch-Site` on every request; older ones send `Origin` on
/// POST. A request with neither did not come from a browser page, so no victim's
/// cookies can be riding on it without their knowledge.
pub async fn check(next: Next, req: Request) -> poem::Result<Response> {
    // Fly's health checks (and other probes) ask by the machine's own address.
    if req.uri().path() != "/healthz" {
        let state = AppState::of(&req)?;
        if !state.hosts.allow(&req) {
            tracing::warn!(
                host = req.header(header::HOST),
                "refused a request for another host (set BASE_URL, or add it to ALLOWED_HOSTS)"
            );
            return Err(AppError::UnknownHost.into());
        }
    }
    // Forms with files may be larger (`files::upload` counts what they carry).
    let with_files = crate::files::upload::is_multipart(&req);
    let limit = if with_files {
        let config = &AppState::of(&req)?.config;
        config.attachment_max_bytes() + crate::files::upload::SLACK
    } else {
        BODY_LIMIT as u64
    };
    let too_large = req
        .header(header::CONTENT_LENGTH)
        .and_then(|len| len.parse::<u64>().ok())
        .is_some_and(|len| len > limit);
    if too_large && with_files {
        let max_mb = AppState::of(&req)?.config.attachment_max_mb;
        return Err(AppError::FilesTooLarge { max_mb }.into());
    }
    if too_large {
        return Err(AppError::PayloadTooLarge.into());
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let state = AppState::of(&req)?;
        if !is_same_site(&req, &state.origin) {
            tracing::warn!(path = req.uri().path(), "refused a cross-site request");
            return Err(AppError::CrossSite.into());
        }
    }
    next.call(req).await
}

/// The host names requests may be addressed to: `BASE_URL`'s, those in
/// `ALLOWED_HOSTS`, and, when no `BASE_URL` is set (a local install), the loopback
/// names. A DNS-rebinding page reaches Hearth under its own name, and is refused.
#[derive(Debug)]
pub struct Hosts(Vec<String>);

impl Hosts {
    pub fn new(base_url: &url::Url, configured: bool, extra: &[String]) -> Self {
        let mut names: Vec<String> = extra.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        names.extend(base_url.host_str().map(str::to_ascii_lowercase));
        if !configured {
            names.extend(["localhost", "127.0.0.1", "[::1]"].map(String::from));
        }
        Hosts(names)
    }

    /// Whether `req` names one of these hosts (any port: the port is the listener's).
    pub fn allow(&self, req: &Request) -> bool {
        let authority = req.uri().authority().map(|a| a.as_str()).or(req.header(header::HOST));
        let Some(authority) = authority else { return false };
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        };
        self.0.iter().any(|name| name.eq_ignore_ascii_case(host))
    }
}

/// Whether a browser-made request comes from Hearth's own pages.
pub fn is_same_site(req: &Request, origin: &str) -> bool {
    match req.header("sec-fetch-site") {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => req.header(header::ORIGIN).is_none_or(|o| o == origin),
    }
}

/// Whether a WebSocket handshake comes from Hearth's own pages. Browsers send
/// `Origin` on every handshake (RFC 6455), so when there is one it decides, whatever
/// `Sec-Fetch-Site` says; without one, the rule is [`is_same_site`]'s.
pub fn is_same_origin_socket(req: &Request, origin: &str) -> bool {
    match req.header(header::ORIGIN) {
        Some(sent) => sent == origin,
        None => is_same_site(req, origin),
    }
}

/// Adds the security headers to every response, and keeps pages out of caches
/// (they show who is signed in).
pub async fn headers(next: Next, req: Request) -> poem::Result<Response> {
    let state = AppState::of(&req)?;
    let (csp, https) = (state.csp.clone(), state.cookie.secure);
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.call(req).await?;
    let h = resp.headers_mut();
    // A response with its own policy keeps it (uploaded files: `sandbox`).
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(csp);
    if https {
        // Browsers then refuse plain http to this host for a year.
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // Pages show who is signed in, and API answers are theirs alone.
    if is_html || api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use poem::Request;

    use super::is_same_origin_socket;

    const HEARTH: &str = "https://hearth.example";

    fn handshake(headers: &[(&'static str, &'static str)]) -> Request {
        headers
            .iter()
            .fold(Request::builder(), |req, (name, value)| req.header(*name, *value))
            .finish()
    }

    #[test]
    fn a_socket_opens_only_from_hearths_own_pages() {
        let own = handshake(&[("origin", HEARTH), ("sec-fetch-site", "same-origin")]);
        assert!(is_same_origin_socket(&own, HEARTH));
        let not_a_browser = handshake(&[]);
        assert!(is_same_origin_socket(&not_a_browser, HEARTH));
        for refused in [
            handshake(&[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")]),
            handshake(&[
                ("origin", "https://chat.hearth.example"),
                ("sec-fetch-site", "same-site"),
            ]),
            handshake(&[("origin", "https://evil.example")]),
            // Whatever Sec-Fetch-Site claims, the Origin a browser sends decides.
            handshake(&[("origin", "https://evil.example"), ("sec-fetch-site", "same-origin")]),
            handshake(&[("sec-fetch-site", "cross-site")]),
        ] {
            assert!(!is_same_origin_socket(&refused, HEARTH), "{:?}", refused.headers());
        }
    }
}
