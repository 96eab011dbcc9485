//! The service's own key for `private_key_jwt`: an RSA key (2048 bits, RS512 as NHS login asks)
//! made on first need at `DATA_DIR/citizen/oidc-client-key.pem` (PKCS#8, 0600) and kept, since
//! its public half is registered with the provider (`sharedcare citizen oidc-jwk` prints it).
//! With it the service signs a short-lived client assertion for each token request.

use crate::error::{Error, Result};
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::sha2::{Digest, Sha256, Sha512};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use std::path::{Path, PathBuf};

const BITS: usize = 2048;
/// The signing algorithm of the client assertion.
pub const ALG: &str = "RS512";
/// How long a client assertion is good for.
const ASSERTION_SECONDS: i64 = 300;

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("citizen").join("oidc-client-key.pem")
}

/// The client key, made on first need.
pub struct ClientKey {
    key: RsaPrivateKey,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl ClientKey {
    /// Reads the key, or makes and stores it when there is none yet.
    pub fn load_or_create(data_dir: &Path) -> Result<Self> {
        let path = key_path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => RsaPrivateKey::from_pkcs8_pem(&text)
                .map(|key| Self { key })
                .map_err(|e| {
                    Error::Invalid(format!(
                        "the OpenID Connect client key {} cannot be read ({e}); restore it from a \
                         backup, or move it away to have a new one made (its public key must \
                         then be registered with the provider again)",
                        path.display()
                    ))
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(&path),
            Err(source) => Err(Error::Io {
                doing: "read",
                path,
                source,
            }),
        }
    }

    fn create(path: &Path) -> Result<Self> {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, BITS)
            .map_err(|e| Error::Invalid(format!("could not make a client key: {e}")))?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Invalid(format!("could not encode the client key: {e}")))?;
        if let Some(dir) = path.parent() {
            crate::data_dir::create_private_dir(dir).map_err(|source| Error::Io {
                doing: "create",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // create_new: when two processes make a key at once, the second reads the first's.
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .and_then(|mut f| f.write_all(pem.as_bytes()).and_then(|()| f.sync_all()));
        match written {
            Ok(()) => Ok(Self { key }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let data_dir = path
                    .parent()
                    .and_then(Path::parent)
                    .unwrap_or_else(|| Path::new("."));
                Self::load_or_create(data_dir)
            }
            Err(source) => Err(Error::Io {
                doing: "write",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn public_members(&self) -> (String, String) {
        (
            b64(&self.key.n().to_bytes_be()),
            b64(&self.key.e().to_bytes_be()),
        )
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> String {
        let (n, e) = self.public_members();
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    /// The public key as a JWK, for registration with the provider.
    pub fn public_jwk(&self) -> serde_json::Value {
        let (n, e) = self.public_members();
        serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "alg": ALG,
            "kid": self.kid(),
            "n": n,
            "e": e,
        })
    }

    /// A signed client assertion (RFC 7523) for `client_id` at `token_url`.
    pub fn client_assertion(
        &self,
        client_id: &str,
        token_url: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String> {
        let jti = crate::access::secret::new_token().map_err(Error::Invalid)?;
        let header = serde_json::json!({"alg": ALG, "typ": "JWT", "kid": self.kid()});
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "jti": jti,
            "iat": now.timestamp(),
            "exp": now.timestamp() + ASSERTION_SECONDS,
        });
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signer = rsa::pkcs1v15::SigningKey::<Sha512>::new(self.key.clone());
        let signature = signer
            .try_sign(signing_input.as_bytes())
            .map_err(|e| Error::Invalid(format!("could not sign the client assertion: {e}")))?;
        Ok(format!("{signing_input}.{}", b64(&signature.to_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_made_once_private_and_signs_assertions_its_jwk_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let key = ClientKey::load_or_create(dir.path()).unwrap();
        let path = key_path(dir.path());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = ClientKey::load_or_create(dir.path()).unwrap();
        assert_eq!(key.public_jwk(), again.public_jwk(), "kept, not made again");
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["alg"], "RS512");
        assert!(jwk.get("d").is_none(), "no private part in the JWK");

        let now = chrono::Utc::now();
        let jwt = key
            .client_assertion("sharedcare", "https://p.example/token", now)
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value =
            serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "sharedcare");
        assert_eq!(claims["sub"], "sharedcare");
        assert_eq!(claims["aud"], "https://p.example/token");
        assert!(claims["exp"].as_i64().unwrap() > now.timestamp());
        let n = rsa::BigUint::from_bytes_be(&engine.decode(jwk["n"].as_str().unwrap()).unwrap());
        let e = rsa::BigUint::from_bytes_be(&engine.decode(jwk["e"].as_str().unwrap()).unwrap());
        let public = rsa::RsaPublicKey::new(n, e).unwrap();
        let verifier = rsa::pkcs1v15::VerifyingKey::<Sha512>::new(public);
        let signature =
            rsa::pkcs1v15::Signature::try_from(engine.decode(parts[2]).unwrap().as_slice())
                .unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(verifier.verify(input.as_bytes(), &signature).is_ok());
        assert!(verifier.verify(b"something else", &signature).is_err());
    }
}
