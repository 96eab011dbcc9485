//! The OpenID Connect exchange itself: the authorisation request (PKCE S256, `state`, `nonce`)
//! and, when the provider sends the citizen back, the code exchange with a `private_key_jwt`
//! client assertion and the ID token's checks. The provider's discovery document and published
//! keys are read afresh for each sign-in, so a key the provider rotates is picked up at once.

use super::key::ClientKey;
use super::{allowed_url, OidcConfig};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError,
    ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Why a sign-in was refused before anyone was identified. The words are for the audit trail
/// and never carry a token, a code or an NHS number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The provider could not be reached or answered something unusable.
    Provider(&'static str),
    /// The token request was refused (a code used before, a client not accepted).
    TokenRequest,
    /// The ID token failed a check: which one.
    IdToken(&'static str),
}

impl Refused {
    pub fn audit_text(&self) -> String {
        match self {
            Self::Provider(why) => format!("provider: {why}"),
            Self::TokenRequest => "the provider refused the code exchange".into(),
            Self::IdToken(why) => format!("ID token refused: {why}"),
        }
    }
}

/// What the provider vouches for, from a checked ID token (and its user-info endpoint for a
/// claim the token does not carry).
#[derive(Clone)]
pub struct Identity {
    pub subject: String,
    pub nhs_number: Option<String>,
    pub level: Option<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity(level {:?}, ***)", self.level)
    }
}

/// A sign-in under way: kept by the server between sending the citizen to the provider and
/// their return, never sent to the browser.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

fn http() -> Result<reqwest::Client, Refused> {
    reqwest::Client::builder()
        // Following redirects would let a provider's answer steer requests elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|_| Refused::Provider("no HTTP client"))
}

async fn discover(
    config: &OidcConfig,
    http: &reqwest::Client,
) -> Result<CoreProviderMetadata, Refused> {
    let issuer = IssuerUrl::new(config.issuer.trim().to_owned())
        .map_err(|_| Refused::Provider("issuer is not a URL"))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| {
            log::warn!("OpenID Connect discovery failed: {e}");
            Refused::Provider("discovery failed")
        })?;
    let endpoints = [
        Some(metadata.authorization_endpoint().as_str()),
        metadata.token_endpoint().map(|u| u.as_str()),
        metadata.userinfo_endpoint().map(|u| u.as_str()),
        Some(metadata.jwks_uri().as_str()),
    ];
    if endpoints
        .into_iter()
        .flatten()
        .any(|u| allowed_url(u).is_err())
    {
        return Err(Refused::Provider(
            "an endpoint is not https (or plain http on loopback)",
        ));
    }
    Ok(metadata)
}

fn redirect(url: &str) -> Result<RedirectUrl, Refused> {
    RedirectUrl::new(url.to_owned()).map_err(|_| Refused::Provider("redirect URL is not a URL"))
}

/// Starts a sign-in: the provider's authorisation URL to send the citizen to, with what the
/// callback needs to finish it.
pub async fn begin(config: &OidcConfig, redirect_url: &str) -> Result<Started, Refused> {
    let http = http()?;
    let metadata = discover(config, &http).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.trim().to_owned()),
        None,
    )
    .set_redirect_uri(redirect(redirect_url)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in config.scopes.iter().filter(|s| s.trim() != "openid") {
        request = request.add_scope(Scope::new(scope.trim().to_owned()));
    }
    if !config.vtr.trim().is_empty() {
        request = request.add_extra_param("vtr", config.vtr.trim().to_owned());
    }
    let (url, state, nonce) = request.url();
    Ok(Started {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    })
}

/// Claims beyond the standard ones, by name (the names are configured).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

impl OtherClaims {
    fn text(&self, name: &str) -> Option<String> {
        match self.claims.get(name)? {
            serde_json::Value::String(s) => Some(s.trim().to_owned()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
        .filter(|s| !s.is_empty())
    }
}

type IdTokenWithClaims = openidconnect::IdToken<
    OtherClaims,
    CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

fn claims_refusal(e: &ClaimsVerificationError) -> Refused {
    Refused::IdToken(match e {
        ClaimsVerificationError::Expired(_) => "expired",
        ClaimsVerificationError::InvalidAudience(_) => "wrong audience",
        ClaimsVerificationError::InvalidIssuer(_) => "wrong issuer",
        ClaimsVerificationError::InvalidNonce(_) => "nonce does not match",
        ClaimsVerificationError::SignatureVerification(_) => "bad signature",
        ClaimsVerificationError::InvalidSubject(_) => "bad subject",
        ClaimsVerificationError::Unsupported(_) => "unsupported",
        _ => "not valid",
    })
}

/// Finishes a sign-in: exchanges `code` (with the PKCE verifier and a client assertion),
/// checks the ID token against `nonce` and reads the configured claims.
pub async fn finish(
    config: &OidcConfig,
    data_dir: &Path,
    redirect_url: &str,
    code: &str,
    nonce: &str,
    pkce_verifier: &str,
) -> Result<Identity, Refused> {
    let key = ClientKey::load_or_create(data_dir).map_err(|e| {
        log::error!("OpenID Connect client key: {}", e.operator_summary());
        Refused::Provider("no client key")
    })?;
    let http = http()?;
    let metadata = discover(config, &http).await?;
    let token_url = metadata
        .token_endpoint()
        .map(|u| u.as_str().to_owned())
        .ok_or(Refused::Provider("no token endpoint"))?;
    let client_id = config.client_id.trim().to_owned();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.clone()), None)
            .set_redirect_uri(redirect(redirect_url)?)
            .set_auth_type(AuthType::RequestBody);
    let assertion = key
        .client_assertion(&client_id, &token_url, chrono::Utc::now())
        .map_err(|_| Refused::Provider("could not sign the client assertion"))?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|_| Refused::Provider("no token endpoint"))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .add_extra_param(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .add_extra_param("client_assertion", assertion)
        .request_async(&http)
        .await
        .map_err(|e| {
            log::warn!(
                "OpenID Connect token request refused: {}",
                token_error_kind(&e)
            );
            Refused::TokenRequest
        })?;
    let id_token: IdTokenWithClaims = response
        .id_token()
        .ok_or(Refused::IdToken("none in the token response"))?
        .to_string()
        .parse()
        .map_err(|_| Refused::IdToken("not a JWT"))?;
    let verifier = client.id_token_verifier().set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha512,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    ]);
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| claims_refusal(&e))?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(|_| Refused::IdToken("unsupported"))?;
        let signing_key = id_token
            .signing_key(&verifier)
            .map_err(|_| Refused::IdToken("bad signature"))?;
        let actual = AccessTokenHash::from_token(response.access_token(), alg, signing_key)
            .map_err(|_| Refused::IdToken("unsupported"))?;
        if actual != *expected {
            return Err(Refused::IdToken("access token hash does not match"));
        }
    }
    let subject = claims.subject().as_str().to_owned();
    let mut identity = Identity {
        subject: subject.clone(),
        nhs_number: claims.additional_claims().text(&config.nhs_number_claim),
        level: claims.additional_claims().text(&config.level_claim),
    };
    if identity.nhs_number.is_none() || identity.level.is_none() {
        let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = client
            .user_info(
                response.access_token().to_owned(),
                Some(openidconnect::SubjectIdentifier::new(subject)),
            )
            .map_err(|_| Refused::Provider("no user-info endpoint"))?
            .request_async(&http)
            .await
            .map_err(|e| {
                log::warn!(
                    "OpenID Connect user-info request failed: {}",
                    userinfo_kind(&e)
                );
                Refused::Provider("user-info request failed")
            })?;
        let extra = info.additional_claims();
        identity.nhs_number = identity
            .nhs_number
            .or_else(|| extra.text(&config.nhs_number_claim));
        identity.level = identity.level.or_else(|| extra.text(&config.level_claim));
    }
    Ok(identity)
}

/// What kind of failure a token request met, without its body (which may echo the code).
fn token_error_kind<RE: std::error::Error + 'static, T: openidconnect::ErrorResponse>(
    e: &openidconnect::RequestTokenError<RE, T>,
) -> &'static str {
    match e {
        openidconnect::RequestTokenError::ServerResponse(_) => "the provider said no",
        openidconnect::RequestTokenError::Request(_) => "the request failed",
        openidconnect::RequestTokenError::Parse(_, _) => "an answer that does not parse",
        openidconnect::RequestTokenError::Other(_) => "an unexpected answer",
    }
}

fn userinfo_kind<RE: std::error::Error + 'static>(
    e: &openidconnect::UserInfoError<RE>,
) -> &'static str {
    match e {
        openidconnect::UserInfoError::ClaimsVerification(_) => "its claims failed their checks",
        openidconnect::UserInfoError::Response(_, _, _) => "the provider said no",
        openidconnect::UserInfoError::Request(_) => "the request failed",
        _ => "an unexpected answer",
    }
}
