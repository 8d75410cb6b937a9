//! One-time notices ("Your password was changed"): set by whatever did the thing,
//! shown once by the page the person lands on next, then gone. They live in the
//! server-side session, so they survive the redirect and never reach a URL.

use tower_sessions::Session;

use crate::error::Result;

/// The page that shows a notice. Each has its own slot, so a notice meant for the
/// dashboard waits there even if the person visits the administrator's page first.
#[derive(Debug, Clone, Copy)]
pub enum Flash {
    Dashboard,
    Admin,
}

impl Flash {
    fn key(self) -> &'static str {
        match self {
            Flash::Dashboard => "dashboard_notice",
            Flash::Admin => "admin_notice",
        }
    }
}

/// Shows `text` once, on the next visit to `page`.
pub async fn set(session: &Session, page: Flash, text: impl Into<String>) -> Result<()> {
    session.insert(page.key(), text.into()).await?;
    Ok(())
}

/// The notice waiting for `page`, removed as it is read.
pub async fn take(session: &Session, page: Flash) -> Result<Option<String>> {
    Ok(super::session::take(session, page.key()).await?)
}
