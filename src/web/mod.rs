//! What every request passes through: the session, the signed-in person, cross-site
//! and size checks, security headers, error pages, the page layout and static assets.

pub mod assets;
pub mod auth;
pub mod boost;
pub mod client;
pub mod errors;
pub mod flash;
pub mod form;
pub mod layout;
pub mod limits;
pub mod log;
pub mod protect;
pub mod redirect;
pub mod session;
pub mod time;

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;

/// The rest of the stack, as a middleware sees it.
pub type Next = Arc<BoxEndpoint<'static>>;

pub use auth::{CurrentUser, MaybeUser};
pub use client::{ClientAddr, UserAgent};
pub use form::Form;
