//! MLLP over TLS, as an option (`[mllp] tls_cert` and `tls_key`): every MLLP port then speaks
//! TLS (rustls with ring, as HTTPS does), and plain MLLP is refused on it. With
//! `[mllp] tls_client_ca` a sender must also present a client certificate issued by that CA;
//! a source's sender list may then pin the certificates that may send for it (`sha256:…`
//! entries, see `route::Allow`).

use super::MllpConfig;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

fn refuse(what: &str, path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Invalid(format!(
        "[mllp] {what} {}: {why}; give PEM files the service can read",
        path.display()
    ))
}

fn certificates(what: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|i| i.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| refuse(what, path, e))?;
    if certs.is_empty() {
        return Err(refuse(what, path, "it holds no certificate"));
    }
    Ok(certs)
}

/// The acceptor the MLLP ports use, or `None` when TLS is off. A missing or unreadable file
/// stops the start-up rather than falling back to plain MLLP.
pub fn acceptor(config: &MllpConfig) -> Result<Option<TlsAcceptor>> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let chain = certificates("tls_cert", cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| refuse("tls_key", key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Invalid(format!("[mllp] TLS: {e}")))?;
    let builder = match &config.tls_client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certificates("tls_client_ca", ca)? {
                roots.add(c).map_err(|e| refuse("tls_client_ca", ca, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| refuse("tls_client_ca", ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let server = builder
        .with_single_cert(chain, key)
        .map_err(|e| refuse("tls_cert", cert, e))?;
    Ok(Some(TlsAcceptor::from(Arc::new(server))))
}

/// The SHA-256 fingerprint (lower-case hex) of a certificate, as sender lists name them.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    hex::encode(Sha256::digest(cert.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_off_without_files_and_a_missing_or_empty_file_stops_the_start() {
        assert!(acceptor(&MllpConfig::default()).unwrap().is_none());
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for cert in [dir.path().join("missing.pem"), empty] {
            let config = MllpConfig {
                tls_cert: Some(cert.clone()),
                tls_key: Some(cert),
                ..MllpConfig::default()
            };
            let Err(e) = acceptor(&config) else {
                panic!("TLS started without its certificate");
            };
            let e = e.to_string();
            assert!(e.contains("[mllp] tls_cert"), "{e}");
        }
    }
}
