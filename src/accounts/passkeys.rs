//! Passkeys (WebAuthn): a key kept by a device or a password manager, proven with
//! the device's lock (fingerprint, face, PIN), that signs in with no password and
//! counts as two factors on its own.
//!
//! webauthn-rs does the verifying: the signature, the challenge, the origin and
//! relying-party id (both from `BASE_URL`), user verification, and the sign counter.
//! This module keeps the passkeys and the ceremonies. A ceremony is two requests,
//! the challenge and the browser's answer; its state waits in the server-side
//! session between them and is taken out when the answer comes, so an answer is
//! accepted once.
//!
//! Each person's passkeys carry a random handle as their WebAuthn user id, so that
//! a passkey alone (no email typed) names its account, and says nothing else.

use serde::de::DeserializeOwned;
use tower_sessions::Session;
use url::Url;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, Webauthn,
    WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::User;
use crate::db::{self, Db};
use crate::error::Result;
use crate::{AppState, on_db};

/// The session key of a passkey being added, until the browser answers.
const ADDING: &str = "passkeys.adding";
/// The session key of a challenge for a passkey to answer (sign-in, confirmation).
const PROVING: &str = "passkeys.proving";

/// Hearth as a WebAuthn relying party: `None` when `BASE_URL`'s host is not a
/// domain name (an IP address), which browsers refuse as a relying-party id.
pub struct RelyingParty(Option<Webauthn>);

impl RelyingParty {
    pub fn new(base_url: &Url) -> Self {
        let built = base_url.domain().and_then(|domain| {
            WebauthnBuilder::new(domain, base_url).and_then(|b| b.rp_name("Hearth").build()).ok()
        });
        if built.is_none() {
            tracing::info!(
                "passkeys are off: BASE_URL ({base_url}) must name a host, such as \
                 https://hearth.example.org or http://localhost:3000, not an IP address"
            );
        }
        RelyingParty(built)
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn> {
        self.0.as_ref().ok_or(crate::error::AppError::NotFound)
    }
}

/// One of a person's passkeys, as the dashboard lists them.
#[derive(Debug, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Whether the last sign-in said the key is synced to the owner's other
    /// devices (a password manager); unknown until it is first used.
    pub backed_up: Option<bool>,
}

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<Listed>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, backed_up FROM passkeys
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?)
}

pub async fn count(db: &Db, user_id: i64) -> Result<i64> {
    Ok(on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await)?)
}

/// Removes `user_id`'s passkey `id`; false when they have none by that id.
pub async fn remove(db: &Db, user_id: i64, id: i64) -> Result<bool> {
    let done = on_db!(db, pool => sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done > 0)
}

/// The user id `user_id`'s passkeys carry, made on first use.
async fn handle_of(db: &Db, user_id: i64) -> Result<Uuid> {
    let made = Uuid::new_v4().to_string();
    let handle: String = on_db!(db, pool => async {
        sqlx::query("INSERT INTO passkey_handles (user_id, handle) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
            .bind(user_id)
            .bind(&made)
            .execute(pool)
            .await?;
        sqlx::query_scalar("SELECT handle FROM passkey_handles WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await
    }.await)?;
    Uuid::parse_str(&handle).map_err(|err| anyhow::anyhow!("stored passkey handle: {err}").into())
}

/// `user_id`'s passkeys as webauthn-rs verifies with them, with their row ids.
async fn credentials(db: &Db, user_id: i64) -> Result<Vec<(i64, Passkey)>> {
    let rows: Vec<(i64, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, credential FROM passkeys WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?;
    rows.into_iter()
        .map(|(id, json)| {
            let key = serde_json::from_str(&json).map_err(anyhow::Error::from)?;
            Ok((id, key))
        })
        .collect()
}

/// Why a browser's answer was not accepted; each says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No challenge waits for it: never asked, answered already, or the session is new.
    NoChallenge,
    /// Not a WebAuthn answer at all.
    Unreadable,
    /// The signature, origin, challenge or user verification did not check out,
    /// or the key is not (or no longer) one of this Hearth's.
    NotVerified,
    /// The passkey is already on this account.
    AlreadyAdded,
}

impl Refused {
    pub fn message(self) -> &'static str {
        match self {
            Refused::NoChallenge => "That passkey request has expired. Please try again.",
            Refused::Unreadable => "Your browser did not send a passkey. Please try again.",
            Refused::NotVerified => {
                "That passkey could not be verified. It may have been removed from your \
                 account; use your password, or another passkey."
            }
            Refused::AlreadyAdded => "That passkey is already on your account.",
        }
    }
}

/// Starts adding a passkey to `user`'s account: the options for the browser's
/// `navigator.credentials.create`. Keys already on the account are excluded, so
/// a device is not added twice.
pub async fn begin_adding(
    state: &AppState,
    session: &Session,
    user: &User,
) -> Result<CreationChallengeResponse> {
    let webauthn = state.passkey_rp.webauthn()?;
    let handle = handle_of(&state.db, user.id).await?;
    let existing = credentials(&state.db, user.id).await?;
    let exclude = existing.iter().map(|(_, key)| key.cred_id().clone()).collect();
    let (mut options, registration) = webauthn
        .start_passkey_registration(handle, &user.email, &user.name, Some(exclude))
        .map_err(anyhow::Error::from)?;
    // A passkey that can be found without typing an email: the key is kept on the
    // device (discoverable), which sign-in by passkey alone needs.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    session.insert(ADDING, registration).await?;
    Ok(options)
}

/// Finishes adding: `answer` is the browser's credential as JSON. Kept under `name`.
pub async fn finish_adding(
    state: &AppState,
    session: &Session,
    user: &User,
    name: &str,
    answer: &str,
) -> Result<std::result::Result<(), Refused>> {
    let webauthn = state.passkey_rp.webauthn()?;
    let Some(registration) = session.remove::<PasskeyRegistration>(ADDING).await? else {
        return Ok(Err(Refused::NoChallenge));
    };
    let Some(answer) = parse::<RegisterPublicKeyCredential>(answer) else {
        return Ok(Err(Refused::Unreadable));
    };
    let key = match webauthn.finish_passkey_registration(&answer, &registration) {
        Ok(key) => key,
        Err(err) => {
            tracing::info!(user_id = user.id, error = %err, "passkey not added");
            return Ok(Err(Refused::NotVerified));
        }
    };
    let json = serde_json::to_string(&key).map_err(anyhow::Error::from)?;
    let added = on_db!(&state.db, pool => sqlx::query(
        "INSERT INTO passkeys (user_id, credential_id, name, credential, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user.id)
    .bind(credential_id(key.cred_id()))
    .bind(name)
    .bind(json)
    .bind(db::now())
    .execute(pool)
    .await
    .map(|_| ()));
    match added {
        Ok(_) => Ok(Ok(())),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            Ok(Err(Refused::AlreadyAdded))
        }
        Err(err) => Err(err.into()),
    }
}

/// A challenge any of this Hearth's passkeys can answer, for the browser's
/// `navigator.credentials.get` (the passkey names its account). Asking again
/// replaces the challenge waiting in this session.
pub async fn challenge(state: &AppState, session: &Session) -> Result<RequestChallengeResponse> {
    let webauthn = state.passkey_rp.webauthn()?;
    let (options, proving) =
        webauthn.start_discoverable_authentication().map_err(anyhow::Error::from)?;
    session.insert(PROVING, proving).await?;
    Ok(options)
}

/// Checks `answer` (the browser's assertion, as JSON) against the challenge this
/// session was given, using the challenge up: the id of the active account whose
/// passkey signed it. The key's sign counter and backup flags are kept, and its
/// last use noted.
pub async fn prove(
    state: &AppState,
    session: &Session,
    answer: &str,
) -> Result<std::result::Result<User, Refused>> {
    let webauthn = state.passkey_rp.webauthn()?;
    let Some(proving) = session.remove::<DiscoverableAuthentication>(PROVING).await? else {
        return Ok(Err(Refused::NoChallenge));
    };
    let Some(answer) = parse::<PublicKeyCredential>(answer) else {
        return Ok(Err(Refused::Unreadable));
    };
    let Ok((handle, cred_id)) = webauthn.identify_discoverable_authentication(&answer) else {
        return Ok(Err(Refused::NotVerified));
    };
    let row: Option<(i64, i64, String)> = on_db!(&state.db, pool => sqlx::query_as(
        "SELECT p.id, p.user_id, p.credential FROM passkeys p
         JOIN passkey_handles h ON h.user_id = p.user_id
         WHERE p.credential_id = $1 AND h.handle = $2",
    )
    .bind(credential_id(cred_id))
    .bind(handle.to_string())
    .fetch_optional(pool)
    .await)?;
    let Some((id, user_id, json)) = row else {
        return Ok(Err(Refused::NotVerified));
    };
    let mut key: Passkey = serde_json::from_str(&json).map_err(anyhow::Error::from)?;
    let result = match webauthn.finish_discoverable_authentication_v2(&answer, proving, &key) {
        Ok(result) => result,
        Err(err) => {
            tracing::info!(user_id, error = %err, "passkey answer refused");
            return Ok(Err(Refused::NotVerified));
        }
    };
    key.update_credential(&result);
    let json = serde_json::to_string(&key).map_err(anyhow::Error::from)?;
    on_db!(&state.db, pool => sqlx::query(
        "UPDATE passkeys SET credential = $1, backed_up = $2, last_used_at = $3 WHERE id = $4",
    )
    .bind(json)
    .bind(result.backup_state())
    .bind(db::now())
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    let user = super::users::find_by_id(&state.db, user_id).await?;
    Ok(user.filter(|u| u.deactivated_at.is_none()).ok_or(Refused::NotVerified))
}

/// How a credential id is stored and looked up: base64url, as browsers show it.
fn credential_id(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn parse<T: DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}
