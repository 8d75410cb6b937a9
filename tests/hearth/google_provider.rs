//! OpenID providers for the Google sign-in tests: the real one (panva's
//! oidc-provider, run with Node from tests/oidc), and a fake one in Rust that hands
//! out ID tokens broken in exactly one way.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use poem::web::{Data, Json, Query, Redirect};
use poem::{EndpointExt, Route, get, handler, post};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};

pub const CLIENT_ID: &str = "hearth-test";
pub const CLIENT_SECRET: &str = "hearth-test-secret";

/// The local oidc-provider, stopped when dropped.
pub struct OidcProvider {
    pub issuer: String,
    _node: tokio::process::Child,
}

impl OidcProvider {
    pub async fn start(redirect_uri: &str, accounts: &serde_json::Value) -> Self {
        if let Err(why) = PACKAGES.get_or_init(install_packages).await {
            panic!("{why}");
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/provider.mjs");
        let mut node = tokio::process::Command::new("node")
            .arg(script)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", redirect_uri)
            .env("ACCOUNTS", accounts.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("node runs tests/oidc/provider.mjs: {err}\n{NEEDS_NODE}"));
        // Its warnings (development keys, the Node version) are noise in a passing run:
        // they are shown only if it does not start.
        let mut stderr = node.stderr.take().expect("stderr");
        let warnings = tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
            text
        });
        let stdout = node.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next_line().await.expect("provider starts").unwrap_or_default();
        // Keep reading, so a later write by the provider never meets a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let Ok(ready) = serde_json::from_str::<serde_json::Value>(&line) else {
            let _ = node.start_kill();
            let wait = std::time::Duration::from_secs(5);
            let said = tokio::time::timeout(wait, warnings).await.ok().and_then(Result::ok);
            panic!("the provider did not start: it said {line:?}\n{}", said.unwrap_or_default());
        };
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        OidcProvider { issuer, _node: node }
    }
}

const OIDC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
const NEEDS_NODE: &str = "The Google sign-in tests run a local OpenID provider (tests/oidc) \
     with Node.js 20 or later and npm: install them (https://nodejs.org/, or your system's \
     `nodejs` and `npm` packages) and run `cargo test` again.";

/// Whether tests/oidc/node_modules is in place, installed by the first test that needs it.
static PACKAGES: tokio::sync::OnceCell<Result<(), String>> = tokio::sync::OnceCell::const_new();

/// Installs the provider's locked packages if they are missing, so that `cargo test` on
/// a fresh clone needs no set-up step. `npm ci` runs in a folder of its own, moved into
/// place when done: another `cargo test` doing the same at the same time cannot see a
/// half-made node_modules, and whichever finishes second keeps the first one's.
async fn install_packages() -> Result<(), String> {
    let oidc = std::path::Path::new(OIDC);
    let installed = oidc.join("node_modules");
    if installed.join("oidc-provider/package.json").exists() {
        return Ok(());
    }
    let work = oidc.join(format!(".install-{}-{:08x}", std::process::id(), rand::random::<u32>()));
    let result = npm_ci(oidc, &work).await.and_then(|()| {
        match std::fs::rename(work.join("node_modules"), &installed) {
            Ok(()) => Ok(()),
            Err(_) if installed.join("oidc-provider/package.json").exists() => Ok(()),
            Err(err) => {
                Err(format!("could not move the packages into {}: {err}", installed.display()))
            }
        }
    });
    let _ = std::fs::remove_dir_all(&work);
    result
}

async fn npm_ci(oidc: &std::path::Path, work: &std::path::Path) -> Result<(), String> {
    let copy = |name: &str| std::fs::copy(oidc.join(name), work.join(name)).map(|_| ());
    std::fs::create_dir_all(work)
        .and_then(|()| copy("package.json"))
        .and_then(|()| copy("package-lock.json"))
        .map_err(|err| format!("could not prepare {}: {err}", work.display()))?;
    let out = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(work)
        .output()
        .await
        .map_err(|err| format!("npm could not be run ({err}). {NEEDS_NODE}"))?;
    if !out.status.success() {
        return Err(format!(
            "`npm ci --prefix tests/oidc` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// How the fake provider's ID token is wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token {
    Valid,
    /// Signed with a key the provider does not publish.
    Forged,
    /// `alg: none`, no signature.
    Unsigned,
    WrongAudience,
    WrongIssuer,
    Expired,
    WrongNonce,
}

struct Fake {
    issuer: String,
    token: Token,
    nonce: Mutex<String>,
}

/// Starts the fake provider; returns its issuer and the server task to keep alive.
pub async fn fake_provider(token: Token) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fake = Arc::new(Fake { issuer: issuer.clone(), token, nonce: Mutex::new(String::new()) });
    let app = Route::new()
        .at("/.well-known/openid-configuration", get(discovery))
        .at("/jwks", get(jwks))
        .at("/authorize", get(authorize))
        .at("/token", post(token_endpoint))
        .data(fake);
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    (issuer, server)
}

fn key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("k1".into()))).unwrap()
}

const PROVIDER_KEY: &str = include_str!("keys/provider.pem");
const FORGER_KEY: &str = include_str!("keys/forger.pem");

#[handler]
fn discovery(fake: Data<&Arc<Fake>>) -> Json<serde_json::Value> {
    Json(discovery_document(&fake.issuer))
}

/// The smallest OpenID discovery document openidconnect accepts, for a provider at
/// `issuer` that serves `/authorize`, `/token` and `/jwks`.
pub fn discovery_document(issuer: &str) -> serde_json::Value {
    let i = issuer;
    serde_json::json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

#[handler]
fn jwks() -> Json<CoreJsonWebKeySet> {
    Json(CoreJsonWebKeySet::new(vec![key(PROVIDER_KEY).as_verification_key()]))
}

#[derive(Deserialize)]
struct Authorize {
    state: String,
    nonce: String,
    redirect_uri: String,
}

#[handler]
fn authorize(fake: Data<&Arc<Fake>>, Query(q): Query<Authorize>) -> Redirect {
    *fake.nonce.lock().unwrap() = q.nonce;
    Redirect::see_other(format!("{}?code=fake-code&state={}", q.redirect_uri, q.state))
}

#[handler]
fn token_endpoint(fake: Data<&Arc<Fake>>) -> Json<serde_json::Value> {
    let nonce = fake.nonce.lock().unwrap().clone();
    let now = chrono::Utc::now();
    let (issuer, audience, expires, nonce) = match fake.token {
        Token::WrongIssuer => {
            ("http://127.0.0.1:1".to_owned(), CLIENT_ID, now + chrono::Duration::minutes(5), nonce)
        }
        Token::WrongAudience => {
            (fake.issuer.clone(), "someone-else", now + chrono::Duration::minutes(5), nonce)
        }
        Token::Expired => {
            (fake.issuer.clone(), CLIENT_ID, now - chrono::Duration::minutes(5), nonce)
        }
        Token::WrongNonce => {
            (fake.issuer.clone(), CLIENT_ID, now + chrono::Duration::minutes(5), "not-it".into())
        }
        _ => (fake.issuer.clone(), CLIENT_ID, now + chrono::Duration::minutes(5), nonce),
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer).unwrap(),
        vec![Audience::new(audience.into())],
        expires,
        now - chrono::Duration::minutes(6),
        StandardClaims::new(SubjectIdentifier::new("fake-subject".into()))
            .set_email(Some(EndUserEmail::new("eve@example.org".into())))
            .set_email_verified(Some(true)),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let id_token = match fake.token {
        Token::Unsigned => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
            format!("{header}.{payload}.")
        }
        Token::Forged => sign(claims, FORGER_KEY),
        _ => sign(claims, PROVIDER_KEY),
    };
    Json(serde_json::json!({
        "access_token": "fake-access-token",
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
    }))
}

fn sign(claims: CoreIdTokenClaims, pem: &str) -> String {
    let token = CoreIdToken::new(
        claims,
        &key(pem),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap();
    serde_json::to_value(&token).unwrap().as_str().unwrap().to_owned()
}
