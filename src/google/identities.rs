//! Who a provider's sign-in is: a known identity, a new account, or an existing
//! account to link. The decision is here, apart from the HTTP flow.

use url::Url;

use crate::AppState;
use crate::accounts::User;
use crate::accounts::fields::{Email, Name};
use crate::accounts::{addresses, invites, users};
use crate::db::{self, Db};
use crate::error::Result;
use crate::on_db;

/// Google's issuer, as its ID tokens may spell it.
const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

/// What the verified ID token says about the person.
#[derive(Debug, Clone)]
pub struct Claims {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub picture: Option<Url>,
    /// Google's `hd`: the Google Workspace domain the account belongs to, if any.
    pub hosted_domain: Option<String>,
}

#[derive(Debug)]
pub enum Outcome {
    /// This identity has signed in before.
    Known(User),
    /// A new account, made from the claims.
    Created(User),
    /// An existing account with the same, verified, email and no identity from this
    /// provider, whose address was never confirmed: now linked. Its password was
    /// turned off and its other sessions must end, because whoever set that password
    /// never proved they own the address.
    Linked(User),
    /// As `Linked`, but the account's address was confirmed (a link sent to it was
    /// opened): its owner set the password, which stays, and so do its sessions.
    Added(User),
    /// The account is deactivated; nothing was changed.
    Deactivated,
    /// The account with this email already has an identity from this provider, and it
    /// is not this one: the address has changed hands there (a recycled Workspace
    /// address, a re-registered domain), or the provider lets people claim addresses.
    /// Nothing was changed.
    LinkedToAnother { user_id: i64 },
    /// `GOOGLE_ALLOWED_DOMAINS` does not let this sign-in in.
    DomainNotAllowed,
    /// An existing account has this email, but the provider has not verified it.
    UnverifiedEmailTaken,
    /// The provider gave no usable email.
    NoEmail,
    /// No account has this email, and the provider has not verified it.
    UnverifiedEmail,
    /// A new account would be needed, and sign-up is not open to this person.
    NotInvited(invites::Refusal),
}

/// `may_create` says whether a new account may be made (see `accounts::invites`).
pub async fn resolve(
    state: &AppState,
    claims: &Claims,
    may_create: Result<invites::Admission, invites::Refusal>,
) -> Result<Outcome> {
    if !domain_allowed(&state.config.google_allowed_domains, claims) {
        return Ok(Outcome::DomainNotAllowed);
    }
    if let Some(user) = user_of(&state.db, &claims.issuer, &claims.subject).await? {
        if user.deactivated_at.is_some() {
            return Ok(Outcome::Deactivated);
        }
        return Ok(Outcome::Known(user));
    }
    let Some(email) = claims.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Ok(Outcome::NoEmail);
    };
    let picture = allowed_picture(state, claims.picture.as_ref());
    if let Some(existing) = users::find_by_email(state, &email).await? {
        if !claims.email_verified {
            return Ok(Outcome::UnverifiedEmailTaken);
        }
        let confirmed = existing.email_confirmed_at.is_some();
        return Ok(
            match link(&state.db, &existing, claims, picture.as_deref(), confirmed).await? {
                Linking::Done => {
                    addresses::vouched_for(&state.db, existing.id).await?;
                    let linked =
                        users::find_by_id(&state.db, existing.id).await?.unwrap_or(existing);
                    if confirmed { Outcome::Added(linked) } else { Outcome::Linked(linked) }
                }
                Linking::Deactivated => Outcome::Deactivated,
                Linking::HasOne => Outcome::LinkedToAnother { user_id: existing.id },
            },
        );
    }
    let admission = match may_create {
        Ok(admission) => admission,
        Err(refusal) => return Ok(Outcome::NotInvited(refusal)),
    };
    // An address the provider has not verified may be someone else's: an account
    // made from it could later be linked to the real owner's sign-in.
    if !claims.email_verified {
        return Ok(Outcome::UnverifiedEmail);
    }
    // The provider's name passes the rules a typed one does, cleaned if need be;
    // a name with nothing left is no reason to refuse the sign-in.
    let name =
        claims.name.as_deref().and_then(Name::cleaned).unwrap_or_else(|| Name::from_email(&email));
    match users::create(state, &name, &email, None, picture.as_deref(), admission).await? {
        Ok(user) => {
            add(&state.db, user.id, claims).await?;
            addresses::vouched_for(&state.db, user.id).await?;
            Ok(Outcome::Created(user))
        }
        // Someone signed up with this email a moment ago: treat it as linking.
        Err(users::NotCreated::EmailTaken) => Ok(Outcome::UnverifiedEmailTaken),
        Err(users::NotCreated::NotFirst) => Ok(Outcome::NotInvited(invites::NOT_FIRST)),
    }
}

/// Whether `GOOGLE_ALLOWED_DOMAINS` (`allowed`; empty lets anyone in) lets this
/// sign-in in. An `hd` claim names the Google Workspace the account belongs to, and
/// must be allowed whatever the email says. A Google account without one is a
/// personal account, which can carry a verified address at any domain (a former
/// colleague's, say), so it is refused; from another provider, a token without `hd`
/// needs a verified email at an allowed domain. Domains match exactly, in any case:
/// a subdomain is another domain.
fn domain_allowed(allowed: &[String], claims: &Claims) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let is_allowed = |domain: &str| allowed.iter().any(|a| a.eq_ignore_ascii_case(domain));
    if let Some(hosted) = &claims.hosted_domain {
        return is_allowed(hosted);
    }
    if GOOGLE_ISSUERS.contains(&claims.issuer.as_str()) {
        return false;
    }
    let email = claims.email.as_deref().and_then(|e| Email::parse(e).ok());
    claims.email_verified && email.is_some_and(|email| is_allowed(email.domain()))
}

/// The provider's picture, if its origin is one the CSP allows; otherwise none
/// (the initials are shown).
fn allowed_picture(state: &AppState, picture: Option<&Url>) -> Option<String> {
    let picture = picture?;
    let allowed =
        state.config.avatar_origins.iter().any(|origin| origin.origin() == picture.origin());
    allowed.then(|| picture.to_string())
}

async fn user_of(db: &Db, issuer: &str, subject: &str) -> Result<Option<User>> {
    let sql = format!(
        "SELECT {} FROM identities i JOIN users u ON u.id = i.user_id
         WHERE i.issuer = $1 AND i.subject = $2",
        users::COLUMNS
    );
    let user = on_db!(db, pool => sqlx::query_as(&sql)
    .bind(issuer)
    .bind(subject)
    .fetch_optional(pool)
    .await)?;
    Ok(user)
}

async fn add(db: &Db, user_id: i64, claims: &Claims) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO identities (issuer, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .bind(user_id)
    .bind(&claims.email)
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// What [`link`] did.
enum Linking {
    Done,
    /// The account was deactivated; nothing changed.
    Deactivated,
    /// The account already has an identity from this issuer; nothing changed.
    HasOne,
}

/// Links the identity to `user` unless the account is deactivated or already has an
/// identity from this issuer; unless the account's address was `confirmed`, turns
/// the password off and revokes the account's tokens; takes the picture if the
/// account had none. All in one transaction, or none.
/// The account's other identities (from other issuers) stay: only their owner
/// removes a way to sign in.
async fn link(
    db: &Db,
    user: &User,
    claims: &Claims,
    picture: Option<&str>,
    confirmed: bool,
) -> Result<Linking> {
    let linking = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        // The account's row first: from here to the commit, PostgreSQL holds its lock
        // (SQLite the whole database), so of two sign-ins linking to one account the
        // second waits, then finds the first one's identity below.
        // A new credential generation too: a sign-in with the old password that is
        // under way gets a session that is refused.
        let updated = sqlx::query(
            "UPDATE users SET avatar_url = COALESCE(avatar_url, $2),
                    password_hash = CASE WHEN $3 THEN password_hash ELSE NULL END,
                    credential_generation = credential_generation + CASE WHEN $3 THEN 0 ELSE 1 END
             WHERE id = $1 AND deactivated_at IS NULL",
        )
        .bind(user.id)
        .bind(picture)
        .bind(confirmed)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            // Dropped uncommitted, the transaction rolls back.
            return Ok(Linking::Deactivated);
        }
        let inserted = sqlx::query(
            "INSERT INTO identities (issuer, subject, user_id, email, created_at)
             SELECT $1, $2, $3, $4, $5
             WHERE NOT EXISTS (SELECT 1 FROM identities WHERE user_id = $3 AND issuer = $1)",
        )
        .bind(&claims.issuer)
        .bind(&claims.subject)
        .bind(user.id)
        .bind(&claims.email)
        .bind(db::now())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Linking::HasOne);
        }
        // Whatever the earlier holder of an unconfirmed address set up is theirs,
        // not the owner's: their tokens go too.
        if !confirmed {
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Linking::Done)
    }.await)?;
    Ok(linking)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(issuer: &str, email: &str, verified: bool, hd: Option<&str>) -> Claims {
        Claims {
            issuer: issuer.into(),
            subject: "s".into(),
            email: Some(email.into()),
            email_verified: verified,
            name: None,
            picture: None,
            hosted_domain: hd.map(Into::into),
        }
    }

    #[test]
    fn allowed_domains_are_judged_by_hd_and_else_by_the_verified_email() {
        let allowed = ["example.org".to_owned()];
        let google = "https://accounts.google.com";
        let other = "https://id.example.net";
        let cases = [
            (google, "ada@example.org", true, Some("example.org"), true),
            (google, "ada@EXAMPLE.org", true, Some("Example.ORG"), true),
            (google, "ada@example.org", true, Some("elsewhere.org"), false),
            // A personal Google account with an address at the domain is not a member.
            (google, "ada@example.org", true, None, false),
            ("accounts.google.com", "ada@example.org", true, None, false),
            (other, "ada@example.org", true, None, true),
            (other, "ada@example.org", false, None, false),
            (other, "ada@mail.example.org", true, None, false),
            (other, "ada@example.org.evil.test", true, None, false),
        ];
        for (issuer, email, verified, hd, expected) in cases {
            let claims = claims(issuer, email, verified, hd);
            assert_eq!(domain_allowed(&allowed, &claims), expected, "{claims:?}");
            assert!(domain_allowed(&[], &claims), "no setting lets anyone in");
        }
    }
}
