//! Accounts: sign-up, sign-in (password, code, passkey), sign-out, passwords and
//! signed-in sessions.

pub mod addresses;
mod code_step;
pub mod fields;
pub mod hashing;
pub mod invites;
pub mod operator;
pub mod passkeys;
pub mod passwords;
pub mod reauth;
pub mod resets;
pub mod sessions;
mod signin;
mod signup;
pub mod tokens;
pub mod two_factor;
pub mod users;

use poem::{Route, get, post};

use crate::web::client::while_connected;

pub use users::User;

/// A new secret for a link or a token: 256 random bits, as URL-safe text.
pub fn new_secret() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What is kept of a secret Hearth makes and later looks up by its value (an API
/// token, a recovery code, a reset link): its SHA-256, in hex. The secrets are
/// random, not chosen by people, so a fast hash is enough for lookups by value.
pub fn kept_of(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn routes(route: Route) -> Route {
    route
        // The posts that wait for a password hash stop waiting when the client leaves.
        .at("/signup", get(signup::form).post(while_connected(signup::submit)))
        .at("/login", get(signin::form).post(while_connected(signin::submit)))
        .at("/login/two-factor", get(code_step::form).post(code_step::submit))
        .at("/login/passkey", post(signin::with_passkey))
        .at("/passkeys/challenge", post(passkey_challenge))
        .at("/logout", post(signin::sign_out))
        .at("/email/confirm/:token", get(addresses::show).post(addresses::accept))
        .at("/password/forgot", get(resets::forgot).post(resets::send_link))
        // Setting the new password waits for its hash, as sign-in does.
        .at("/password/reset/:token", get(resets::reset_form).post(while_connected(resets::reset)))
        // It waits for a password hash, as sign-in does.
        .at("/confirm", post(while_connected(reauth::confirm_for_page)))
}

/// `POST /passkeys/challenge`: a challenge for the browser to have a passkey sign,
/// kept in this session for the answer (sign-in, or confirming it is you).
#[poem::handler]
async fn passkey_challenge(
    state: poem::web::Data<&crate::AppState>,
    poem::web::Data(session): poem::web::Data<&tower_sessions::Session>,
    crate::web::ClientAddr(addr): crate::web::ClientAddr,
) -> crate::error::Result<poem::web::Json<serde_json::Value>> {
    state.limits.challenge_from(addr)?;
    let options = passkeys::challenge(&state, session).await?;
    Ok(poem::web::Json(serde_json::to_value(options).map_err(anyhow::Error::from)?))
}
