//! The citizens' side: a resident signs in and sees their own record, who has looked at it,
//! and can object to sharing or report an error.
//!
//! Signing in here is by an invitation code that staff issue for one person (`invite`): the
//! citizen redeems it once, chooses a password (Argon2id, as staff passwords are) and sets up
//! a time-based one-time code (`totp`) as their second factor. A lost device is handled by
//! staff issuing a new code: redeeming it replaces the password and the second factor.
//! What a citizen sees of their record is the access gate's decision (`access::citizen`),
//! never this module's; the pages are in `web::citizen`.

pub mod invite;
pub mod oidc;
pub mod secret_key;
pub mod signin;
pub mod totp;

use serde::Deserialize;

/// `[citizen]` in config.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitizenConfig {
    /// An invitation code may be redeemed for this many hours after it is issued. Default 72.
    pub invite_valid_hours: i64,
    /// A citizen's session ends after this many minutes without a request (shorter than
    /// staff sessions: citizens use shared and personal devices alike). Default 15.
    pub session_idle_minutes: i64,
    /// A citizen's session ends this many hours after sign-in, however active. Default 4.
    pub session_max_hours: i64,
    /// `[citizen.oidc]`: signing in with an OpenID Connect provider such as NHS login.
    pub oidc: oidc::OidcConfig,
}

impl Default for CitizenConfig {
    fn default() -> Self {
        Self {
            invite_valid_hours: 72,
            session_idle_minutes: 15,
            session_max_hours: 4,
            oidc: oidc::OidcConfig::default(),
        }
    }
}

impl CitizenConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.invite_valid_hours < 1
            || self.session_idle_minutes < 1
            || self.session_max_hours < 1
        {
            return Err("[citizen] durations must be at least 1".into());
        }
        self.oidc.check()
    }
}
