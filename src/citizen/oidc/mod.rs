//! Signing in with an OpenID Connect provider, the way NHS login works: the authorisation code
//! flow with PKCE (S256), `state` and `nonce`; the client authenticates at the token endpoint
//! with `private_key_jwt` (`key`); the ID token is checked (issuer, audience, signature against
//! the provider's published keys, nonce, expiry) and its NHS number, with an identity proofing
//! level at or above the configured one, leads to the citizen's person (`link`).
//!
//! A citizen signed in this way gets the same citizen session as one signed in with password
//! and one-time code. Tokens, codes and NHS numbers are never logged.

pub mod flow;
pub mod key;
pub mod link;

use serde::Deserialize;

/// `[citizen.oidc]` in config.toml. Off until `issuer` and `client_id` are both set; every other
/// setting defaults to what NHS login uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// The provider's issuer identifier, e.g. `https://auth.login.nhs.uk`. Its discovery
    /// document is read from `ISSUER/.well-known/openid-configuration`. HTTPS, except for a
    /// loopback address (127.0.0.1, ::1, localhost), where plain HTTP is allowed for testing.
    pub issuer: String,
    /// The client id the provider registered this service under.
    pub client_id: String,
    /// The scopes asked for. `openid` is always asked for.
    pub scopes: Vec<String>,
    /// The lowest identity proofing level accepted: `P0`, `P5` or `P9` (P0 < P5 < P9).
    pub required_level: String,
    /// The claim carrying the person's NHS number.
    pub nhs_number_claim: String,
    /// The claim carrying the identity proofing level.
    pub level_claim: String,
    /// Where the provider sends the citizen back to: `https://HOST/citizen/oidc/callback`. When
    /// empty, it is made from the host the citizen's browser asked for.
    pub redirect_url: String,
    /// NHS login's vector of trust request (`vtr`), sent as it is when set, e.g.
    /// `["P9.Cp.Cd","P9.Cp.Ck","P9.Cm"]`.
    pub vtr: String,
    /// The sign-in button's words.
    pub button_label: String,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            scopes: vec!["openid".into(), "profile".into()],
            required_level: "P9".into(),
            nhs_number_claim: "nhs_number".into(),
            level_claim: "identity_proofing_level".into(),
            redirect_url: String::new(),
            vtr: String::new(),
            button_label: "Sign in with NHS login".into(),
        }
    }
}

/// The identity proofing levels in order: P0 < P5 < P9.
const LEVELS: [&str; 3] = ["P0", "P5", "P9"];

/// A level's rank; None for anything that is not a known level.
pub fn level_rank(level: &str) -> Option<usize> {
    LEVELS
        .iter()
        .position(|l| l.eq_ignore_ascii_case(level.trim()))
}

impl OidcConfig {
    /// Whether sign-in by OpenID Connect is offered.
    pub fn enabled(&self) -> bool {
        !self.issuer.trim().is_empty() && !self.client_id.trim().is_empty()
    }

    pub fn check(&self) -> Result<(), String> {
        if level_rank(&self.required_level).is_none() {
            return Err(format!(
                "[citizen.oidc] required_level must be one of {}, not {:?}",
                LEVELS.join(", "),
                self.required_level
            ));
        }
        if self.nhs_number_claim.trim().is_empty() || self.level_claim.trim().is_empty() {
            return Err("[citizen.oidc] claim names must not be empty".into());
        }
        if self.enabled() {
            allowed_url(&self.issuer).map_err(|why| format!("[citizen.oidc] issuer: {why}"))?;
        }
        if !self.redirect_url.is_empty() {
            let url = reqwest::Url::parse(&self.redirect_url)
                .map_err(|e| format!("[citizen.oidc] redirect_url: {e}"))?;
            if url.scheme() != "https" {
                return Err("[citizen.oidc] redirect_url must be an https:// address".into());
            }
        }
        Ok(())
    }
}

/// Whether the service may talk to `url`: HTTPS anywhere, plain HTTP only to this machine (a
/// provider run for testing), so tokens never cross a network in the clear.
pub fn allowed_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("{url:?}: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        _ => Err(format!(
            "{url:?} must be an https:// address (plain http only on a loopback address)"
        )),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_unknown_ones_are_none() {
        assert!(level_rank("P0") < level_rank("P5"));
        assert!(level_rank("P5") < level_rank("p9"));
        assert_eq!(level_rank("P7"), None);
        assert_eq!(level_rank(""), None);
    }

    #[test]
    fn plain_http_is_allowed_only_to_this_machine() {
        assert!(allowed_url("https://auth.login.nhs.uk").is_ok());
        assert!(allowed_url("http://127.0.0.1:4000").is_ok());
        assert!(allowed_url("http://[::1]:4000/x").is_ok());
        assert!(allowed_url("http://localhost:4000").is_ok());
        assert!(allowed_url("http://auth.login.nhs.uk").is_err());
        assert!(allowed_url("http://10.0.0.1").is_err());
        assert!(allowed_url("ftp://127.0.0.1").is_err());
    }

    #[test]
    fn off_by_default_with_nhs_login_defaults() {
        let c = OidcConfig::default();
        assert!(!c.enabled());
        assert!(c.check().is_ok());
        assert_eq!(c.required_level, "P9");
        assert_eq!(c.level_claim, "identity_proofing_level");
        let bad = OidcConfig {
            required_level: "P7".into(),
            ..OidcConfig::default()
        };
        assert!(bad.check().is_err());
    }
}
