//! Accounts: sign-up, sign-in, sign-out, passwords and signed-in sessions.

pub mod fields;
pub mod hashing;
pub mod invites;
pub mod operator;
pub mod passwords;
pub mod sessions;
mod signin;
mod signup;
pub mod tokens;
pub mod users;

use poem::{Route, get, post};

pub use users::User;

pub fn routes(route: Route) -> Route {
    route
        .at("/signup", get(signup::form).post(signup::submit))
        .at("/login", get(signin::form).post(signin::submit))
        .at("/logout", post(signin::sign_out))
}
