//! Turns errors into what the person sees: a page, or JSON under `/api/`.

use maud::html;
use poem::http::{StatusCode, header};
use poem::web::Json;
use poem::{Endpoint, IntoResponse, Request, Response};

use super::Next;
use super::layout;
use crate::error::AppError;

/// Renders every error raised further in, including poem's own (unknown route).
pub async fn render(next: Next, req: Request) -> poem::Result<Response> {
    let api = req.uri().path().starts_with("/api/");
    Ok(match next.call(req).await {
        Ok(resp) => resp,
        Err(err) => respond(AppError::from_poem(err), api),
    })
}

pub fn respond(err: AppError, api: bool) -> Response {
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
        (_, false) => page(status, &err.message()).with_status(status).into_response(),
    };
    if let AppError::RateLimited { retry_after } = err
        && let Ok(value) = retry_after.as_secs().max(1).to_string().parse()
    {
        resp.headers_mut().insert(header::RETRY_AFTER, value);
    }
    resp
}

fn page(status: StatusCode, message: &str) -> maud::Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    layout::page(
        title,
        None,
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
