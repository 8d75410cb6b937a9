//! Two-factor codes (TOTP, RFC 6238) for password sign-ins: the secret an
//! authenticator app shares with Hearth, ten single-use recovery codes, and the
//! step between the right password and the code, when nothing is signed in yet.
//!
//! A code is accepted once: the time step it belongs to is recorded, and a code of
//! that step or an earlier one is refused (RFC 6238 §5.2). One step (30 s) of clock
//! drift either way is allowed. Google sign-ins are not asked for a code: Google
//! has its own second factor.

use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, TOTP};
use tower_sessions::Session;

use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// Seconds a code lasts.
const STEP: u64 = 30;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// Seconds the code step waits after the right password.
const PENDING_FOR: i64 = 5 * 60;

/// The shared secret, in base32 as authenticator apps take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret(String);

impl Secret {
    /// 160 random bits, as RFC 4226 recommends.
    pub fn generate() -> Self {
        let raw = totp_rs::Secret::Raw(rand::random::<[u8; 20]>().to_vec());
        Secret(raw.to_encoded().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn totp(&self) -> Option<TOTP> {
        let bytes = totp_rs::Secret::Encoded(self.0.clone()).to_bytes().ok()?;
        TOTP::new(Algorithm::SHA1, 6, 1, STEP, bytes).ok()
    }

    /// The code for the step `at` (Unix seconds) falls in.
    pub fn code_at(&self, at: u64) -> Option<String> {
        Some(self.totp()?.generate(at))
    }

    /// The time step `code` is right for, within a step of `now` (Unix seconds).
    pub fn step_of(&self, code: &str, now: u64) -> Option<i64> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = self.totp()?;
        let now = now / STEP;
        (now.saturating_sub(1)..=now + 1)
            .find(|step| same(totp.generate(step * STEP).as_bytes(), code.as_bytes()))
            .and_then(|step| i64::try_from(step).ok())
    }

    /// The `otpauth://` URI an app or password manager reads (also in the QR code).
    pub fn uri(&self, account: &str) -> String {
        let label =
            percent_encoding::utf8_percent_encode(account, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "otpauth://totp/Hearth:{label}?secret={}&issuer=Hearth&algorithm=SHA1&digits=6&period={STEP}",
            self.0
        )
    }

    /// The URI as a QR code, an SVG drawn here (no outside service sees the secret).
    pub fn qr_svg(&self, account: &str) -> Option<String> {
        let code = qrcode::QrCode::new(self.uri(account).as_bytes()).ok()?;
        Some(
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build(),
        )
    }
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `user_id` has turned two-factor codes on.
pub async fn is_on(db: &Db, user_id: i64) -> Result<bool> {
    let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM two_factor WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)?;
    Ok(found.is_some())
}

/// In transaction `tx`, `user_id`'s recovery codes become `hashes` (a macro, as
/// the transaction is of either database).
macro_rules! replace_recovery_codes {
    ($tx:ident, $user_id:expr, $hashes:expr) => {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind($user_id)
            .execute(&mut *$tx)
            .await?;
        for hash in $hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind($user_id)
                .bind(hash)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// Turns codes on with `secret`, confirmed by a code of `step` (which is then used),
/// replacing any earlier secret; returns new recovery codes, to be shown once.
pub async fn turn_on(db: &Db, user_id: i64, secret: &Secret, step: i64) -> Result<Vec<String>> {
    let codes = recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| digest(c)).collect();
    on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM two_factor WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO two_factor (user_id, secret, last_step, enabled_at) VALUES ($1, $2, $3, $4)")
            .bind(user_id)
            .bind(secret.as_str())
            .bind(step)
            .bind(db::now())
            .execute(&mut *tx)
            .await?;
        replace_recovery_codes!(tx, user_id, &hashes);
        tx.commit().await
    }.await)?;
    Ok(codes)
}

/// Makes new recovery codes, the old ones no longer working; `None` when codes are off.
pub async fn new_recovery_codes(db: &Db, user_id: i64) -> Result<Option<Vec<String>>> {
    let codes = recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| digest(c)).collect();
    let on = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let on: Option<i64> = sqlx::query_scalar("SELECT user_id FROM two_factor WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if on.is_none() {
            return Ok(false);
        }
        replace_recovery_codes!(tx, user_id, &hashes);
        tx.commit().await.map(|()| true)
    }.await)?;
    Ok(on.then_some(codes))
}

/// Turns codes off: the secret and the recovery codes are gone.
pub async fn turn_off(db: &Db, user_id: i64) -> Result<()> {
    on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM two_factor WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await
    }.await)?;
    Ok(())
}

/// Recovery codes not yet used.
pub async fn recovery_codes_left(db: &Db, user_id: i64) -> Result<i64> {
    Ok(on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await)?)
}

/// What a code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// A current code from the app, not used before.
    Code,
    /// One of the recovery codes, now used up.
    RecoveryCode,
    /// A right code that was already used (its step or a later one was).
    Replayed,
    Wrong,
}

/// Checks `code` (a six-digit code or a recovery code) for `user_id`, using it up.
pub async fn check(db: &Db, user_id: i64, code: &str) -> Result<Checked> {
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let code = code.to_ascii_lowercase();
    if code.len() == 6 {
        let secret: Option<String> = on_db!(db, pool => sqlx::query_scalar(
            "SELECT secret FROM two_factor WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await)?;
        let Some(step) = secret.and_then(|s| Secret(s).step_of(&code, db::now().max(0) as u64))
        else {
            return Ok(Checked::Wrong);
        };
        // The step is recorded only if it is newer than the last one used: of two
        // sign-ins racing with one code, one wins.
        let used = on_db!(db, pool => sqlx::query(
            "UPDATE two_factor SET last_step = $2 WHERE user_id = $1 AND last_step < $2",
        )
        .bind(user_id)
        .bind(step)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        return Ok(if used == 1 { Checked::Code } else { Checked::Replayed });
    }
    let used = on_db!(db, pool => sqlx::query(
        "UPDATE recovery_codes SET used_at = $3
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(digest(&code))
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(if used == 1 { Checked::RecoveryCode } else { Checked::Wrong })
}

/// Ten codes of ten letters and digits (50 random bits each), shown as `abcde-fghij`.
fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..RECOVERY_CODES)
        .map(|_| {
            let letters: String =
                (0..10).map(|_| ALPHABET[rand::random::<usize>() % 32] as char).collect();
            format!("{}-{}", &letters[..5], &letters[5..])
        })
        .collect()
}

/// What is stored of a recovery code, written without its dash.
fn digest(code: &str) -> String {
    let code: String = code.chars().filter(|c| *c != '-').collect();
    super::kept_of(&code)
}

/// The sign-in waiting for its code: in the session that gave the right password,
/// which is signed in to nothing until the code is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub user_id: i64,
    /// When the password was right.
    pub since: i64,
    /// The account's credential generation then: a password changed meanwhile
    /// ends the wait.
    pub generation: i64,
    /// Where to go once signed in.
    pub next: String,
}

const PENDING: &str = "two_factor.pending";

impl Pending {
    pub fn expired(&self, now: i64) -> bool {
        now - self.since > PENDING_FOR
    }
}

/// Starts waiting for a code in `session`.
pub async fn await_code(session: &Session, pending: Pending) -> Result<()> {
    session.insert(PENDING, pending).await?;
    Ok(())
}

/// The sign-in waiting for a code, unless it expired.
pub async fn pending(session: &Session) -> Result<Option<Pending>> {
    let pending: Option<Pending> = session.get(PENDING).await?;
    Ok(pending.filter(|p| !p.expired(db::now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238_and_allow_a_step_of_drift() {
        // RFC 6238, appendix B: the SHA-1 key "12345678901234567890" at 59 s.
        let secret =
            Secret(totp_rs::Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string());
        assert_eq!(secret.code_at(59).as_deref(), Some("287082"));
        assert_eq!(secret.step_of("287082", 59), Some(1));
        assert_eq!(secret.step_of("287082", 59 + 30), Some(1), "a step late");
        assert_eq!(secret.step_of("287082", 59 - 30), Some(1), "a step early");
        assert_eq!(secret.step_of("287082", 59 + 60), None, "two steps late");
        assert_eq!(secret.step_of("28708", 59), None);
        assert_eq!(secret.step_of("abcdef", 59), None);
    }

    #[test]
    fn a_pending_sign_in_lasts_five_minutes() {
        let pending = Pending { user_id: 1, since: 1_000, generation: 0, next: String::new() };
        assert!(!pending.expired(1_000 + 300));
        assert!(pending.expired(1_000 + 301));
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_read_without_the_dash() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        assert_eq!(digest(&codes[0]), digest(&codes[0].replace('-', "")));
    }
}
