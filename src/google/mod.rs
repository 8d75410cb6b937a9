//! "Sign in with Google": OpenID Connect's authorization code flow with PKCE, state
//! and nonce, through the `openidconnect` crate (which verifies the ID token's
//! signature, issuer, audience, expiry and nonce), and account linking.
//!
//! Any OpenID provider works: `OIDC_ISSUER_URL` points elsewhere (the tests use a
//! local one).

mod flow;
pub mod identities;

use std::sync::Arc;
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
use tokio::sync::Mutex;
use url::Url;

use crate::config::Config;
use crate::error::AppError;

pub fn routes(route: Route) -> Route {
    route.at("/auth/google", get(flow::start)).at("/auth/google/callback", get(flow::callback))
}

/// Discovery (and with it the provider's signing keys) is refreshed this often, so
/// a key rotation at the provider is picked up.
const REDISCOVER_AFTER: Duration = Duration::from_secs(3600);

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

/// The provider, discovered on first use and again after a failure, so a provider
/// that is down when Hearth starts does not stop Hearth.
pub struct Google {
    credentials: Option<Credentials>,
    client: Mutex<Option<(Instant, Arc<Client>)>>,
    http: openidconnect::reqwest::Client,
}

impl Google {
    pub fn new(config: &Config, base_url: &Url) -> anyhow::Result<Self> {
        let credentials = match (&config.google_client_id, &config.google_client_secret) {
            (Some(id), Some(secret)) => Some(Credentials {
                id: ClientId::new(id.clone()),
                secret: ClientSecret::new(secret.clone()),
                issuer: IssuerUrl::new(config.oidc_issuer_url.clone())?,
                redirect: RedirectUrl::from_url(base_url.join("/auth/google/callback")?),
            }),
            _ => None,
        };
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider response point Hearth anywhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { credentials, client: Mutex::new(None), http })
    }

    /// Whether Google sign-in is configured (the button is shown).
    pub fn enabled(&self) -> bool {
        self.credentials.is_some()
    }

    async fn client(&self) -> Result<Arc<Client>, AppError> {
        let Some(credentials) = &self.credentials else { return Err(AppError::NotFound) };
        let mut cached = self.client.lock().await;
        if let Some((at, client)) = cached.as_ref()
            && at.elapsed() < REDISCOVER_AFTER
        {
            return Ok(client.clone());
        }
        let metadata = CoreProviderMetadata::discover_async(credentials.issuer.clone(), &self.http)
            .await
            .map_err(|err| {
                tracing::error!(
                    "OpenID discovery at {} failed: {err}",
                    credentials.issuer.as_str()
                );
                AppError::Unavailable("Google sign-in is not reachable right now")
            })?;
        let client = Arc::new(
            Client::from_provider_metadata(
                metadata,
                credentials.id.clone(),
                Some(credentials.secret.clone()),
            )
            .set_redirect_uri(credentials.redirect.clone()),
        );
        *cached = Some((Instant::now(), client.clone()));
        Ok(client)
    }
}
