//! "Sign in with Google": OpenID Connect's authorization code flow with PKCE, state
//! and nonce, through the `openidconnect` crate (which verifies the ID token's
//! signature, issuer, audience, expiry and nonce), and account linking.
//!
//! Any OpenID provider works: `OIDC_ISSUER_URL` points elsewhere (the tests use a
//! local one).

mod flow;
pub mod identities;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, ClientId, ClientSecret, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, RedirectUrl, StandardErrorResponse,
    StandardTokenResponse,
};
use poem::{Route, get};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use url::Url;

use crate::config::Config;
use crate::error::AppError;

pub fn routes(route: Route) -> Route {
    route.at("/auth/google", get(flow::start)).at("/auth/google/callback", get(flow::callback))
}

/// Discovery (and with it the provider's signing keys) is refreshed this often, so
/// a key rotation at the provider is picked up.
const REDISCOVER_AFTER: Duration = Duration::from_secs(3600);

/// After a failed discovery, no new one starts for this long: sign-ins are answered
/// "unavailable" at once instead of each waiting on the provider again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The ID token's claims beyond the standard ones that Hearth reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExtraClaims {
    /// Google's hosted domain: the Google Workspace the account belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hd: Option<String>,
}

impl AdditionalClaims for ExtraClaims {}

type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// `openidconnect::core::CoreClient` with [`ExtraClaims`], as discovery makes it:
/// authorization endpoint known, token and user-info endpoints as the provider's
/// metadata says.
type Client = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Credentials {
    id: ClientId,
    secret: ClientSecret,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
}

/// A discovery's result, once it has one: the client, or `None` if it failed.
type Finished = Option<Option<Arc<Client>>>;

/// What is known of the provider. Its mutex is held only to read or change these
/// fields, never across a request to the provider.
#[derive(Default)]
struct Discovery {
    /// The client the last successful discovery made, and when.
    client: Option<(Instant, Arc<Client>)>,
    /// When the last discovery failed.
    failed_at: Option<Instant>,
    /// The discovery under way: callers wait for this one instead of starting another.
    under_way: Option<watch::Receiver<Finished>>,
}

/// The provider, discovered on first use and again after a failure, so a provider
/// that is down when Hearth starts does not stop Hearth.
pub struct Google {
    credentials: Option<Arc<Credentials>>,
    discovery: Arc<Mutex<Discovery>>,
    http: openidconnect::reqwest::Client,
}

impl Google {
    pub fn new(config: &Config, base_url: &Url) -> anyhow::Result<Self> {
        let credentials = match (&config.google_client_id, &config.google_client_secret) {
            (Some(id), Some(secret)) => Some(Arc::new(Credentials {
                id: ClientId::new(id.clone()),
                secret: ClientSecret::new(secret.clone()),
                issuer: IssuerUrl::new(config.oidc_issuer_url.clone())?,
                redirect: RedirectUrl::from_url(base_url.join("/auth/google/callback")?),
            })),
            _ => None,
        };
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider response point Hearth anywhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { credentials, discovery: Arc::default(), http })
    }

    /// Whether Google sign-in is configured (the button is shown).
    pub fn enabled(&self) -> bool {
        self.credentials.is_some()
    }

    /// The client. Until a discovery has succeeded, callers wait for the one under
    /// way, all for the same one. After that no one waits: a client past its age is
    /// still handed out while its successor is discovered, so a provider that is down
    /// then does not stop sign-in with the keys known so far.
    async fn client(&self) -> Result<Arc<Client>, AppError> {
        let Some(credentials) = &self.credentials else { return Err(AppError::NotFound) };
        let mut finished = {
            let mut known = lock(&self.discovery);
            if let Some((at, client)) = &known.client {
                let (stale, client) = (at.elapsed() >= REDISCOVER_AFTER, client.clone());
                if stale {
                    self.join_or_start(&mut known, credentials);
                }
                return Ok(client);
            }
            match self.join_or_start(&mut known, credentials) {
                Some(finished) => finished,
                None => return Err(unavailable()),
            }
        };
        match finished.wait_for(Option::is_some).await {
            Ok(done) => done.clone().flatten().ok_or_else(unavailable),
            // The discovery's task ended without an answer.
            Err(_) => Err(unavailable()),
        }
    }

    /// The discovery under way, or a new one; `None` for a while after a failure.
    fn join_or_start(
        &self,
        known: &mut Discovery,
        credentials: &Arc<Credentials>,
    ) -> Option<watch::Receiver<Finished>> {
        // A closed channel would be a task that died without answering: start anew.
        if let Some(under_way) = known.under_way.as_ref().filter(|rx| rx.has_changed().is_ok()) {
            return Some(under_way.clone());
        }
        if known.failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
            return None;
        }
        let (tell, finished) = watch::channel(None);
        known.under_way = Some(finished.clone());
        let (discovery, credentials, http) =
            (self.discovery.clone(), credentials.clone(), self.http.clone());
        // A task of its own, so that the discovery finishes, and is kept, even if the
        // request that started it goes away.
        tokio::spawn(async move {
            let client = discover(&credentials, &http).await;
            {
                let mut known = lock(&discovery);
                known.under_way = None;
                match &client {
                    Some(client) => {
                        known.client = Some((Instant::now(), client.clone()));
                        known.failed_at = None;
                    }
                    None => known.failed_at = Some(Instant::now()),
                }
            }
            let _ = tell.send(Some(client));
        });
        Some(finished)
    }
}

/// The state behind `mutex`; nothing panics while holding it, but should something
/// ever, the fields are still each valid on their own.
fn lock(mutex: &Mutex<Discovery>) -> MutexGuard<'_, Discovery> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unavailable() -> AppError {
    AppError::Unavailable("Google sign-in is not reachable right now")
}

/// Reads the provider's metadata and keys; `None` (logged) if that fails.
async fn discover(
    credentials: &Credentials,
    http: &openidconnect::reqwest::Client,
) -> Option<Arc<Client>> {
    let metadata = CoreProviderMetadata::discover_async(credentials.issuer.clone(), http)
        .await
        .inspect_err(|err| {
            tracing::error!("OpenID discovery at {} failed: {err}", credentials.issuer.as_str());
        })
        .ok()?;
    let client = Client::from_provider_metadata(
        metadata,
        credentials.id.clone(),
        Some(credentials.secret.clone()),
    )
    .set_redirect_uri(credentials.redirect.clone());
    Some(Arc::new(client))
}
