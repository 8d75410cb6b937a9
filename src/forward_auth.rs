//! Hearth as the sign-in of other services: `GET /auth/verify`, for reverse proxies
//! that ask before forwarding a request (nginx `auth_request`, Caddy
//! `forward_auth`, Traefik `ForwardAuth`).
//!
//! The proxy passes on the request's cookie (or `Authorization: Bearer` token);
//! Hearth answers 200 with who it is, in headers the proxy copies to the service
//! behind it, or 401. It is the same session check as every page's, so a signed-out
//! or ended session (from the dashboard, by an administrator deactivating someone,
//! on any instance) is refused on its very next request: no shared secret, no token
//! that outlives its session. For a browser, the proxy turns a 401 into a redirect to
//! `/login?next=<the URL wanted>`, which comes back only to hosts in
//! `FORWARD_AUTH_HOSTS` (see `web::redirect`).

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response, Route, get, handler};

use crate::web::MaybeUser;

/// Its path; the session cookie or a personal access token both work there.
pub const VERIFY: &str = "/auth/verify";

pub fn routes(route: Route) -> Route {
    route.at(VERIFY, get(verify))
}

/// 200 with `X-Hearth-User-Id`, `-Email`, `-Name` and, for administrators,
/// `X-Hearth-Admin: true`; otherwise 401. Text is UTF-8 with `%` and every byte
/// outside printable ASCII percent-encoded (`Bo Ekstr%C3%B6m`), so an ASCII name
/// or email reads as itself and no value can break a header line. Never cached:
/// the answer is only as good as the session, now.
#[handler]
async fn verify(MaybeUser(viewer): MaybeUser) -> Response {
    let Some(user) = viewer else {
        return StatusCode::UNAUTHORIZED
            .with_header(header::CACHE_CONTROL, "no-store")
            .into_response();
    };
    let mut resp = StatusCode::OK.with_header(header::CACHE_CONTROL, "no-store").into_response();
    let headers = resp.headers_mut();
    for (name, value) in [
        ("x-hearth-user-id", user.id.to_string()),
        ("x-hearth-user-email", encoded(&user.email)),
        ("x-hearth-user-name", encoded(&user.name)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    if user.is_admin {
        headers.insert("x-hearth-admin", HeaderValue::from_static("true"));
    }
    resp
}

/// `text` with `%` and every byte outside printable ASCII percent-encoded.
fn encoded(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encoded;

    #[test]
    fn names_are_one_ascii_line() {
        assert_eq!(encoded("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(encoded("Bo Ekström"), "Bo Ekstr%C3%B6m");
        assert_eq!(encoded("ada@example.org"), "ada@example.org");
        assert_eq!(encoded("100% a\r\nX-Admin: true"), "100%25 a%0D%0AX-Admin: true");
    }
}
