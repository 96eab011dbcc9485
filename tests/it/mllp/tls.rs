//! MLLP over TLS with client certificates: a sender with a certificate from the configured CA
//! and pinned on the source is heard and acknowledged; plain MLLP, a certificate from another
//! issuer, and a certificate of the right CA that the source did not pin are cut off with no
//! acknowledgement, and nothing of theirs is applied. OpenSSL's `s_client`, a TLS client not
//! written here, is heard and cut off the same way.

use super::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{self, pki_types};

struct Made {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &CertifiedIssuer<'_, KeyPair>,
) -> Made {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![usage];
    // A name of its own: with rcgen's default, the same as its issuer's, OpenSSL takes the
    // certificate for a self-signed one.
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0]);
    let cert = params.signed_by(&key, issuer).unwrap();
    Made {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
    }
}

fn ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sharedcare test senders' CA");
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// Sends one message over TLS as `client` (trusting `server_ca`); returns the acknowledgement,
/// or `None` when the connection was cut off without one.
fn send_tls(port: u16, server_ca: &str, client: &Made, message: &str) -> Option<String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in pki_types::CertificateDer::pem_slice_iter(server_ca.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let chain = vec![pki_types::CertificateDer::from(client.der.clone())];
    let key = pki_types::PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let name = pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    exchange(&mut tls, message)
}

/// Sends one message with OpenSSL's own client (`openssl s_client`), a TLS client not written
/// here, presenting the certificate and key in the files given and checking the server's
/// certificate against `ca_file`; returns the acknowledgement, or `None` without one.
fn send_openssl(
    port: u16,
    ca_file: &str,
    (cert, key): (&str, &str),
    message: &str,
) -> Option<String> {
    let mut client = std::process::Command::new("openssl")
        .args(["s_client", "-quiet", "-verify_return_error"])
        .args(["-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "localhost", "-verify_hostname", "localhost"])
        .args(["-CAfile", ca_file, "-cert", cert, "-key", key])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl (scripts/test installs it)");
    let mut frame = vec![0x0b];
    frame.extend_from_slice(message.as_bytes());
    frame.extend_from_slice(&[0x1c, 0x0d]);
    if let Some(mut stdin) = client.stdin.take() {
        // A refused handshake may close the pipe first: what was answered is what counts.
        let _ = stdin.write_all(&frame);
    }
    let mut out = client.stdout.take().expect("openssl's output");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(&[0x1c, 0x0d]) {
            match out.read(&mut byte) {
                Ok(1) => got.push(byte[0]),
                _ => break,
            }
        }
        let _ = tx.send(got);
    });
    let got = rx.recv_timeout(Duration::from_secs(20)).ok();
    let _ = client.kill();
    let _ = client.wait();
    let got = got.filter(|g| g.ends_with(&[0x1c, 0x0d]))?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

fn exchange(stream: &mut impl ReadWrite, message: &str) -> Option<String> {
    let mut frame = vec![0x0b];
    frame.extend_from_slice(message.as_bytes());
    frame.extend_from_slice(&[0x1c, 0x0d]);
    stream.write_all(&frame).ok()?;
    stream.flush().ok()?;
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(&[0x1c, 0x0d]) {
        match stream.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

#[test]
fn mllp_over_tls_hears_only_senders_with_a_pinned_certificate_from_the_configured_ca() {
    let env = Env::new();
    let ca = ca();
    let server = leaf(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth, &ca);
    let pinned = leaf(&["lab-sender"], ExtendedKeyUsagePurpose::ClientAuth, &ca);
    let unpinned = leaf(&["other-sender"], ExtendedKeyUsagePurpose::ClientAuth, &ca);
    let stranger = leaf(
        &["stranger"],
        ExtendedKeyUsagePurpose::ClientAuth,
        &ca_other(),
    );
    let dir = env.data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let config = format!(
        "[mllp]\ntls_cert = {:?}\ntls_key = {:?}\ntls_client_ca = {:?}\n",
        write("mllp-cert.pem", &server.cert_pem),
        write("mllp-key.pem", &server.key_pem),
        write("mllp-ca.pem", &ca.pem()),
    );
    std::fs::write(dir.join("config.toml"), config).unwrap();
    live_source(&env, "TLS-LAB");
    let pin = hex::encode(Sha256::digest(&pinned.der));
    env.ok(&[
        "source",
        "edit",
        "TLS-LAB",
        "--mllp-allow",
        &format!("127.0.0.1, sha256:{pin}"),
    ]);
    let s = Server::start_in(env);
    let port = mllp_port(&s, "TLS-LAB");
    let ack = send_tls(port, &ca.pem(), &pinned, &admission("tls", 1)).expect("no ACK");
    assert!(ack.contains("MSA|AA|tls-00001"), "{ack}");
    // Plain MLLP on a TLS port: no answer.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    assert_eq!(exchange(&mut plain, &admission("tls", 2)), None);
    // A certificate of another issuer, and one of the CA's that the source did not pin.
    assert_eq!(
        send_tls(port, &ca.pem(), &stranger, &admission("tls", 3)),
        None
    );
    assert_eq!(
        send_tls(port, &ca.pem(), &unpinned, &admission("tls", 4)),
        None
    );
    // OpenSSL's client: heard with the pinned certificate, cut off with the stranger's.
    let ca_file = write("sender-ca.pem", &ca.pem());
    let pinned_files = (
        write("pinned.pem", &pinned.cert_pem),
        write("pinned.key", &pinned.key_pem),
    );
    let stranger_files = (
        write("stranger.pem", &stranger.cert_pem),
        write("stranger.key", &stranger.key_pem),
    );
    let ack = send_openssl(
        port,
        &ca_file,
        (&pinned_files.0, &pinned_files.1),
        &admission("tls", 5),
    )
    .expect("no ACK to openssl s_client");
    assert!(ack.contains("MSA|AA|tls-00005"), "{ack}");
    assert_eq!(
        send_openssl(
            port,
            &ca_file,
            (&stranger_files.0, &stranger_files.1),
            &admission("tls", 6)
        ),
        None
    );
    // Only the pinned sender's two messages were applied.
    assert_eq!(
        s.env.count("SELECT count(*) FROM feed_file f JOIN source s ON s.id = f.source_id WHERE s.code = 'TLS-LAB'"),
        2
    );
    assert!(
        s.banner
            .iter()
            .any(|l| l.starts_with("mllp listening on ") && l.ends_with(" for TLS-LAB (TLS)")),
        "{:?}",
        s.banner
    );
}

fn ca_other() -> CertifiedIssuer<'static, KeyPair> {
    ca()
}
