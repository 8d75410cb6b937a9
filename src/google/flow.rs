//! `GET /auth/google` sends the person to the provider; `GET /auth/google/callback`
//! brings them back. The state, nonce and PKCE verifier wait in the server-side
//! session, are used once, and expire after ten minutes.

use maud::html;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AccessTokenHash, AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, Scope, TokenResponse,
};
use poem::http::StatusCode;
use poem::web::{Data, Query, Redirect};
use poem::{IntoResponse, Response, handler};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::identities::{self, Claims, Outcome};
use crate::AppState;
use crate::accounts::{invites, sessions};
use crate::db;
use crate::error::Result;
use crate::web::flash::{self, Flash};
use crate::web::layout::page;
use crate::web::redirect::safe_next;
use crate::web::{ClientAddr, UserAgent};

/// Session key of a sign-in under way.
const PENDING: &str = "google_pending";
/// How long a sign-in may take at the provider before its pending state expires.
const PENDING_FOR_SECS: i64 = 10 * 60;

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    /// The invite code the sign-in started with, for creating an account.
    invite: Option<String>,
    started_at: i64,
}

#[derive(Debug, Deserialize)]
pub struct Start {
    next: Option<String>,
    invite: Option<String>,
}

#[handler]
pub async fn start(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    ClientAddr(addr): ClientAddr,
    Query(q): Query<Start>,
) -> Result<Redirect> {
    // Each start stores a pending sign-in: limited like sign-in, so no one can
    // fill the session store.
    state.limits.attempt_from(addr)?;
    let client = state.google.client().await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: safe_next(q.next.as_deref(), &state.config.forward_auth_hosts).to_owned(),
        invite: q.invite,
        started_at: db::now(),
    };
    session.insert(PENDING, pending).await?;
    Ok(Redirect::see_other(url.as_str()))
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[handler]
pub async fn callback(
    state: Data<&AppState>,
    Data(session): Data<&Session>,
    UserAgent(agent): UserAgent,
    Query(q): Query<Callback>,
) -> Result<Response> {
    let pending: Option<Pending> = session.get(PENDING).await?;
    let pending = pending.filter(|p| Some(&p.state) == q.state.as_ref());
    let Some(pending) = pending else {
        // Missing, wrong or already used: change nothing.
        tracing::warn!(target: "audit", "Google sign-in refused: unknown state");
        return Ok(problem(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid any more. Please start again.",
        ));
    };
    session.remove_value(PENDING).await?;
    if q.error.is_some() {
        return Ok(Redirect::see_other("/login?google=cancelled").into_response());
    }
    if db::now() - pending.started_at > PENDING_FOR_SECS {
        return Ok(problem(
            StatusCode::BAD_REQUEST,
            "This sign-in took too long. Please start again.",
        ));
    }
    let Some(code) = q.code else {
        return Ok(problem(
            StatusCode::BAD_REQUEST,
            "Google did not send a sign-in code. Please start again.",
        ));
    };
    let claims = match verified_claims(&state, code, &pending).await {
        Ok(claims) => claims,
        Err(why) => {
            metrics::counter!("hearth_signins_total", "method" => "google", "result" => "failure")
                .increment(1);
            tracing::warn!(target: "audit", why, "Google sign-in refused");
            return Ok(problem(
                StatusCode::BAD_REQUEST,
                "Hearth could not verify this sign-in with Google. Please try again.",
            ));
        }
    };

    let may_create = invites::may_sign_up(&state, pending.invite.as_deref()).await?;
    let (user, notice) = match identities::resolve(&state, &claims, may_create).await? {
        Outcome::Deactivated => {
            return Ok(problem(
                StatusCode::FORBIDDEN,
                "This account has been deactivated. Ask the person who runs this Hearth.",
            ));
        }
        Outcome::Known(user) | Outcome::Created(user) => (user, None),
        Outcome::Added(user) => {
            tracing::info!(target: "audit", user_id = user.id, "Google identity linked beside the password");
            let notice = "Your Google account is now linked: you can sign in with it or with \
                          your password.";
            (user, Some(notice))
        }
        Outcome::Linked(user) => {
            let ended = sessions::end_others(&state, user.id, None).await?;
            tracing::info!(target: "audit", user_id = user.id, ended, "Google identity linked; password turned off");
            let notice = "Your Google account is now linked. Your old password was turned off and \
                          other sessions were signed out, because anyone could have set it; \
                          you can set a new password below.";
            (user, Some(notice))
        }
        Outcome::LinkedToAnother { user_id } => {
            tracing::warn!(target: "audit", user_id, "Google sign-in refused: the account has another identity from this provider");
            return Ok(problem(
                StatusCode::CONFLICT,
                "The Hearth account with this email is already linked to a different Google \
                 account. Sign in with that one instead.",
            ));
        }
        Outcome::DomainNotAllowed => {
            tracing::warn!(target: "audit", "Google sign-in refused: domain not allowed");
            return Ok(problem(
                StatusCode::FORBIDDEN,
                "This Hearth takes Google sign-in only for accounts of its organisation. \
                 Sign in with your organisation's Google account.",
            ));
        }
        Outcome::UnverifiedEmailTaken => {
            return Ok(problem(
                StatusCode::CONFLICT,
                "An account with this email already exists, and Google has not verified that \
                 the address is yours. Sign in with your password instead, or verify the \
                 address with Google and try again.",
            ));
        }
        Outcome::NotInvited(refusal) => return Ok(problem(StatusCode::FORBIDDEN, refusal)),
        Outcome::UnverifiedEmail => {
            return Ok(problem(
                StatusCode::FORBIDDEN,
                "Google has not verified this email address, so Hearth cannot make an account \
                 with it. Verify the address with Google and try again.",
            ));
        }
        Outcome::NoEmail => {
            return Ok(problem(
                StatusCode::BAD_REQUEST,
                "Google did not share an email address, which Hearth needs for an account.",
            ));
        }
    };
    sessions::begin(&state, session, &user, &agent).await?;
    sessions::note_google_sign_in(session).await?;
    if let Some(notice) = notice {
        flash::set(session, Flash::Dashboard, notice).await?;
    }
    metrics::counter!("hearth_signins_total", "method" => "google", "result" => "success")
        .increment(1);
    tracing::info!(target: "audit", user_id = user.id, "signed in with Google");
    let hosts = &state.config.forward_auth_hosts;
    Ok(Redirect::see_other(safe_next(Some(&pending.next), hosts)).into_response())
}

/// Exchanges the code (with the PKCE verifier) and verifies the ID token: signature
/// against the provider's published keys, issuer, audience, expiry and nonce.
async fn verified_claims(
    state: &AppState,
    code: String,
    pending: &Pending,
) -> Result<Claims, &'static str> {
    let client = state.google.client().await.map_err(|_| "provider unavailable")?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| "no token endpoint")?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&state.google.http)
        .await
        .map_err(|_| "code exchange refused")?;
    let id_token = tokens.id_token().ok_or("no ID token")?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .inspect_err(|err| tracing::warn!(target: "audit", error = ?err, "Google ID token refused"))
        .map_err(|_| "ID token invalid")?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|_| "ID token algorithm")?;
        let key = id_token.signing_key(&verifier).map_err(|_| "ID token key")?;
        let actual =
            AccessTokenHash::from_token(tokens.access_token(), alg, key).map_err(|_| "at_hash")?;
        if actual != *expected {
            return Err("access token does not match the ID token");
        }
    }
    Ok(Claims {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified() == Some(true),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
        picture: claims.picture().and_then(|p| p.get(None)).and_then(|p| p.as_str().parse().ok()),
        hosted_domain: claims.additional_claims().hd.clone(),
    })
}

fn problem(status: StatusCode, message: &str) -> Response {
    let title = "Google sign-in";
    page(
        title,
        None,
        html! {
            section.card.narrow {
                h1 { (title) }
                p { (message) }
                p { a href="/login" { "Back to sign-in" } }
            }
        },
    )
    .with_status(status)
    .into_response()
}
