//! The citizen's second factor: RFC 6238 one-time codes (30-second steps, six digits, SHA-1,
//! one step of clock drift either way), as every authenticator app makes them. A code is
//! accepted once: the step it matched is stored and no code of that step or an earlier one is
//! accepted again (RFC 6238 section 5.2).

use totp_rs::{Builder, Secret, Totp};

/// A new random secret, base32 (what an authenticator app is given).
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(Secret::new_stack(bytes).to_base32())
}

fn totp(secret: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Builder::new().with_secret(secret).build().ok()
}

/// The step `code` matches at `unix_seconds`, if any. Spaces in the code are ignored.
pub fn check(secret: &str, code: &str, unix_seconds: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(unix_seconds).ok()?;
    totp(secret)?
        .check(&code, now)
        .and_then(|step| i64::try_from(step).ok())
}

/// The code for `unix_seconds` (tests, and the set-up page's own check).
pub fn code_at(secret: &str, unix_seconds: i64) -> Option<String> {
    let now = u64::try_from(unix_seconds).ok()?;
    Some(totp(secret)?.generate(now).to_string())
}

/// The `otpauth://` link an authenticator app reads (also shown as text to type in).
pub fn setup_link(secret: &str, account: &str) -> String {
    let label: String = account
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
        .collect();
    format!(
        "otpauth://totp/sharedcare:{label}?secret={secret}&issuer=sharedcare&digits=6&period=30"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vector_and_one_use_per_step_window() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", time 59 -> 94287082
        // (eight digits); its last six are what a six-digit code is.
        let secret = Secret::new_stack(*b"12345678901234567890").to_base32();
        assert_eq!(code_at(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(check(&secret, "287 082", 59), Some(1));
        assert_eq!(
            check(&secret, "287082", 59 + 30),
            Some(1),
            "one step of drift"
        );
        assert_eq!(check(&secret, "287082", 59 + 90), None);
        assert_eq!(check(&secret, "28708", 59), None);
        assert_eq!(check(&secret, "abcdef", 59), None);
        assert_eq!(check("not base32!", "287082", 59), None);
        let fresh = new_secret().unwrap();
        assert_ne!(fresh, new_secret().unwrap());
        assert!(setup_link(&fresh, "ann smith").contains("annsmith"));
    }
}
