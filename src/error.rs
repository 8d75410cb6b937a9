//! One error type for everything a handler can fail with, and how each kind is shown.
//!
//! Handlers return `Result<_, AppError>`; [`crate::web::errors`] turns the error into
//! a page, or JSON under `/api/`. Only [`AppError::Internal`] is logged in full: the
//! person sees a calm page, never a stack trace or SQL.

use std::time::Duration;

use poem::error::ResponseError;
use poem::http::StatusCode;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No signed-in session; `next` is where to come back to after signing in.
    #[error("sign-in required")]
    SignInRequired { next: String },
    /// Signed in with a password, but `REQUIRE_TWO_FACTOR` says this person must
    /// turn two-factor codes on first.
    #[error("two-factor codes required")]
    TwoFactorRequired,
    /// What was asked needs a recent sign-in: the page asks for the password and
    /// then does it (see `accounts::reauth`).
    #[error("a recent sign-in is required")]
    ConfirmIdentity(Box<crate::accounts::reauth::Ask>),
    #[error("not found")]
    NotFound,
    #[error("this request came from another site")]
    CrossSite,
    /// Signed in, and the thing exists, but it is not this person's to change; the
    /// text says why.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request is fine but the thing is in a state that refuses it (a message
    /// with as many reactions as it may have); the text says what to do instead.
    #[error("{0}")]
    Conflict(&'static str),
    /// The request named a host this Hearth is not served as (DNS rebinding).
    #[error("unknown host")]
    UnknownHost,
    #[error("too many attempts")]
    RateLimited { retry_after: Duration },
    /// Too much work is waiting (password hashes): try again after `retry_after`.
    #[error("busy")]
    Busy { retry_after: Duration },
    #[error("the request is too large")]
    PayloadTooLarge,
    /// Files sent with a message came to more than ATTACHMENT_MAX_MB.
    #[error("files too large")]
    FilesTooLarge { max_mb: u32 },
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Well-formed input that breaks a rule; the text says which.
    #[error("{0}")]
    Unprocessable(&'static str),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Something Hearth depends on is down; the text says what.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// What the person is told: short, and free of internals.
    pub fn message(&self) -> String {
        match self {
            AppError::SignInRequired { .. } => "Please sign in to continue.".into(),
            AppError::TwoFactorRequired => {
                "Turn on two-factor codes (on the dashboard) before going on.".into()
            }
            AppError::ConfirmIdentity(_) => {
                "This needs a recent sign-in: sign in again (in a browser) and retry.".into()
            }
            AppError::NotFound => "There is nothing at this address.".into(),
            AppError::CrossSite => "This request came from another site, so Hearth refused it. \
                 Go back to Hearth and try again from there."
                .into(),
            AppError::Forbidden(why) | AppError::Conflict(why) => (*why).into(),
            AppError::UnknownHost => "This Hearth is not served at this address. Use the \
                 address its administrator gave you."
                .into(),
            AppError::RateLimited { retry_after } => {
                format!("Too many attempts. Please wait {} and try again.", seconds(*retry_after))
            }
            AppError::Busy { retry_after } => format!(
                "Hearth is busy checking other passwords. Please try again in {}.",
                seconds(*retry_after)
            ),
            AppError::PayloadTooLarge => "That was more than Hearth accepts in one request.".into(),
            AppError::FilesTooLarge { max_mb } => files_too_large(*max_mb),
            AppError::BadRequest(what) => format!("Hearth could not read that request: {what}."),
            AppError::MethodNotAllowed => "That action is not available here.".into(),
            AppError::Unprocessable(what) => (*what).into(),
            AppError::UnsupportedMediaType => {
                "Send JSON, with Content-Type: application/json.".into()
            }
            AppError::Unavailable(what) => format!("{what}. Please try again in a few minutes."),
            AppError::Internal(_) => {
                "Something went wrong on our side. Please try again in a moment.".into()
            }
        }
    }

    /// A short machine-readable name for JSON clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::SignInRequired { .. } => "unauthorized",
            AppError::TwoFactorRequired => "two_factor_required",
            AppError::ConfirmIdentity(_) => "recent_sign_in_required",
            AppError::NotFound => "not_found",
            AppError::CrossSite => "cross_site",
            AppError::Forbidden(_) => "forbidden",
            AppError::Conflict(_) => "conflict",
            AppError::UnknownHost => "unknown_host",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Busy { .. } => "busy",
            AppError::PayloadTooLarge | AppError::FilesTooLarge { .. } => "payload_too_large",
            AppError::BadRequest(_) => "bad_request",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Unprocessable(_) => "unprocessable",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// When to try again, for the `Retry-After` header: whole seconds, at least one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after } | AppError::Busy { retry_after } => {
                Some(whole_seconds(*retry_after).max(1))
            }
            _ => None,
        }
    }

    /// Maps errors poem raises itself (unknown route, bad path) onto ours.
    pub fn from_poem(err: poem::Error) -> Self {
        match err.downcast::<AppError>() {
            Ok(app) => app,
            Err(err) => match err.status() {
                StatusCode::NOT_FOUND => AppError::NotFound,
                StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
                StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
                status if status.is_client_error() => AppError::BadRequest("malformed request"),
                _ => AppError::Internal(anyhow::anyhow!("{err}")),
            },
        }
    }
}

/// What someone who sent too much with one message is told.
pub fn files_too_large(max_mb: u32) -> String {
    format!(
        "Files sent with one message can be at most {max_mb} MB together. Send fewer or \
         smaller files, or share a link instead."
    )
}

/// Rounded up, so that a client waiting that long is not early.
fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn seconds(wait: Duration) -> String {
    match whole_seconds(wait).max(1) {
        1 => "1 second".into(),
        n => format!("{n} seconds"),
    }
}

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::SignInRequired { .. } => StatusCode::UNAUTHORIZED,
            AppError::TwoFactorRequired => StatusCode::FORBIDDEN,
            AppError::ConfirmIdentity(_) => StatusCode::UNAUTHORIZED,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::CrossSite | AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::UnknownHost => StatusCode::MISDIRECTED_REQUEST,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::PayloadTooLarge | AppError::FilesTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        AppError::Internal(err.into())
    }
}
