//! Turns errors into what the person sees: a page, or JSON under `/api/`.

use maud::html;
use poem::http::{StatusCode, header};
use poem::web::Json;
use poem::{Endpoint, IntoResponse, PathPattern, Request, Response};

use tower_sessions::Session;

use super::Next;
use super::layout;
use crate::AppState;
use crate::accounts::{User, sessions};
use crate::error::AppError;

/// Renders every error raised further in, including poem's own (unknown route).
pub async fn render(next: Next, req: Request) -> poem::Result<Response> {
    let api = req.uri().path().starts_with("/api/");
    // Inside the session middleware the error page knows who is asking, so a
    // signed-in person's 404 keeps their navigation instead of "Sign in".
    let asking =
        (!api).then(|| AppState::of(&req).ok().zip(req.extensions().get::<Session>().cloned()));
    Ok(match next.call(req).await {
        Ok(resp) => resp,
        Err(err) => {
            // The route that raised it, for the request metrics (see `web::log`); an
            // error no route raised (none matched, or a middleware refused) is
            // labelled as such here, before an enclosing `nest` labels it as its own.
            let pattern = err.data::<PathPattern>().cloned().unwrap_or_else(unrouted);
            let err = AppError::from_poem(err);
            let viewer = match (&err, asking.flatten()) {
                (AppError::SignInRequired { .. } | AppError::Internal(_), _) | (_, None) => None,
                (_, Some((state, session))) => {
                    sessions::current(&state, &session).await.ok().flatten()
                }
            };
            let mut resp = respond_to(err, api, viewer.as_ref());
            resp.set_data(pattern);
            resp
        }
    })
}

/// The route label of a response that no route gave.
fn unrouted() -> PathPattern {
    PathPattern("other".into())
}

pub fn respond(err: AppError, api: bool) -> Response {
    respond_to(err, api, None)
}

/// The error as a response; `viewer`, when known, decides the page's navigation.
fn respond_to(err: AppError, api: bool, viewer: Option<&User>) -> Response {
    use poem::error::ResponseError;
    if let AppError::Internal(cause) = &err {
        tracing::error!("request failed: {cause:#}");
    }
    let status = err.status();
    let mut resp = match (&err, api) {
        (_, true) => {
            let body = serde_json::json!({ "error": err.code(), "detail": err.message() });
            Json(body).with_status(status).into_response()
        }
        (AppError::SignInRequired { next }, false) => {
            let location = format!("/login?next={}", encode(next));
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, location)
                .finish()
        }
        (AppError::ConfirmIdentity(ask), false) => {
            crate::accounts::reauth::view(ask, viewer).with_status(status).into_response()
        }
        (AppError::TwoFactorRequired, false) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, crate::dashboard::TWO_FACTOR)
            .finish(),
        (_, false) => page(status, &err.message(), viewer).with_status(status).into_response(),
    };
    set_retry_after(&mut resp, &err);
    resp
}

/// `Retry-After` on `resp` when `err` says when to try again.
pub fn set_retry_after(resp: &mut Response, err: &AppError) {
    if let Some(secs) = err.retry_after() {
        resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
}

fn page(status: StatusCode, message: &str, viewer: Option<&User>) -> maud::Markup {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    layout::page(
        title,
        viewer,
        html! {
            section.card.narrow {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Back to Hearth" } }
            }
        },
    )
}

fn encode(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::respond;
    use crate::error::AppError;

    #[tokio::test]
    async fn a_busy_api_request_gets_json_503_with_retry_after() {
        let busy = AppError::Busy { retry_after: Duration::from_millis(1500) };
        let resp = respond(busy, true);
        assert_eq!(resp.status().as_u16(), 503);
        assert_eq!(resp.headers()["retry-after"], "2");
        let body = resp.into_body().into_string().await.expect("body");
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(json["error"], "busy");
    }
}
