//! The network edge, as an attacker meets it (issue 10, findings 4, 5, 11, 12, 14, 15, 16):
//! whose address the server believes, how password guessing is slowed without locking out the
//! innocent, how long an unauthenticated connection may stay, what a removed cookie says, where
//! FHIR links point, and where a login goes next.

use super::server::*;
use super::support::*;
use reqwest::blocking::Client;
use serde_json::Value;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A server over a data directory with users `clin` (clinician) and `er` (acute-clinician),
/// one person from an A08 (returned as their id), and `config` as its config.toml.
fn start(config: &str) -> (Server, i64) {
    let env = Env::new();
    add_user(&env, "clin", "clinician");
    add_user(&env, "er", "acute-clinician");
    env.add_source("ACUTE", "acute", "hl7v2");
    let nhs = nhs_number(41);
    let file = env.write(
        "a08.hl7",
        a08(
            "EDGE1",
            "20240501120000",
            "E100",
            &nhs,
            "Edgeworth",
            "Ada",
            "19700101",
        ),
    );
    let r = env.import("ACUTE", &file);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    std::fs::write(env.data_dir().join("config.toml"), config).unwrap();
    let person = person_with_nhs(&env, &nhs);
    (Server::start_in(env), person)
}

/// Posts the login form as `user`, with extra headers; the response.
fn login_as(
    s: &Server,
    c: &Client,
    user: &str,
    password: &str,
    next: &str,
    headers: &[(&str, &str)],
) -> reqwest::blocking::Response {
    let form = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let csrf = hidden(&form, "csrf");
    let mut req = c.post(s.url("/login")).form(&[
        ("username", user),
        ("password", password),
        ("csrf", &csrf),
        ("next", next),
    ]);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().unwrap()
}

/// The addresses recorded for `actor`'s login events, oldest first.
fn login_ips(s: &Server, actor: &str) -> Vec<Option<String>> {
    let conn = s.env.sql();
    let mut st = conn
        .prepare("SELECT ip FROM audit_event WHERE action = 'login' AND actor = ?1 ORDER BY seq")
        .unwrap();
    st.query_map([actor], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

const THROTTLED: &str = "Too many failed sign-ins";

/// The wait a throttled page asks for, in seconds.
fn wait_asked(page: &str) -> Option<u64> {
    let rest = &page[page.find("Please wait ")? + "Please wait ".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Repeats a wrong guess until the page asks for a wait of at least 3 seconds (5 failures wait
/// 1 s, a 6th after that 2 s, a 7th 4 s), so that the next request is sure to fall inside it
/// however slow this machine is.
fn guess_until_waiting(mut guess: impl FnMut() -> String) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if wait_asked(&guess()).is_some_and(|s| s >= 3) {
            return;
        }
    }
    panic!("guessing was never slowed down");
}

#[test]
fn regression_x_real_ip_is_not_trusted_by_default() {
    let (s, _) = start("");
    let c = s.client();
    let r = login_as(
        &s,
        &c,
        "clin",
        PASSWORD,
        "/",
        &[("X-Real-IP", "203.0.113.9")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(login_ips(&s, "clin"), [Some("127.0.0.1".to_owned())]);

    // Spraying one guess at each of many accounts, with a new forged address each time, is
    // still one address guessing: it is slowed down.
    let mut throttled = false;
    for i in 0..40 {
        let forged = format!("198.51.100.{i}");
        let r = login_as(
            &s,
            &c,
            &format!("nobody{i}"),
            "guess",
            "/",
            &[("X-Real-IP", &forged)],
        );
        if r.text().unwrap().contains(THROTTLED) {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "forged addresses escaped the throttle");
    assert!(login_ips(&s, "nobody0")
        .iter()
        .all(|ip| ip.as_deref() == Some("127.0.0.1")));
}

#[test]
fn a_forwarded_address_is_believed_only_from_the_configured_proxy() {
    let (s, _) =
        start("[web]\ntrusted_proxy = \"127.0.0.1\"\nproxy_header = \"X-Forwarded-For\"\n");
    let c = s.client();
    let r = login_as(
        &s,
        &c,
        "clin",
        PASSWORD,
        "/",
        &[("X-Forwarded-For", "192.0.2.1, 203.0.113.9")],
    );
    assert_eq!(r.status(), 303);
    // The proxy appends the address it saw: the last one is the only one it vouches for.
    assert_eq!(login_ips(&s, "clin"), [Some("203.0.113.9".to_owned())]);
    drop(s);

    let (s, _) = start("[web]\ntrusted_proxy = \"192.0.2.254\"\n");
    let c = s.client();
    let r = login_as(
        &s,
        &c,
        "clin",
        PASSWORD,
        "/",
        &[("X-Real-IP", "203.0.113.9")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(login_ips(&s, "clin"), [Some("127.0.0.1".to_owned())]);
}

#[test]
fn regression_web_login_failures_from_elsewhere_never_block_a_correct_password() {
    let (s, _) = start("[web]\ntrusted_proxy = \"127.0.0.1\"\n");
    let attacker = s.client();
    guess_until_waiting(|| {
        let r = login_as(
            &s,
            &attacker,
            "clin",
            "guess",
            "/",
            &[("X-Real-IP", "10.0.0.66")],
        );
        r.text().unwrap()
    });
    // Even the right password waits at the guessing address...
    let r = login_as(
        &s,
        &attacker,
        "clin",
        PASSWORD,
        "/",
        &[("X-Real-IP", "10.0.0.66")],
    );
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains(THROTTLED));
    // ...but the real user, elsewhere, signs in at once.
    let user = s.client();
    let r = login_as(
        &s,
        &user,
        "clin",
        PASSWORD,
        "/",
        &[("X-Real-IP", "10.0.0.1")],
    );
    assert_eq!(r.status(), 303, "{}", r.text().unwrap_or_default());
}

#[test]
fn regression_break_glass_password_check_is_throttled() {
    let (s, person) = start("");
    let c = s.client();
    assert_eq!(login_as(&s, &c, "er", PASSWORD, "/", &[]).status(), 303);
    let attempt = |password: &str| {
        let page = c.get(s.url(&format!("/person/{person}"))).send().unwrap();
        assert_eq!(page.status(), 403);
        let csrf = hidden(&page.text().unwrap(), "csrf");
        c.post(s.url(&format!("/person/{person}/break-glass")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("reason_code", "emergency-care"),
                ("reason", "Collapsed in the waiting room"),
                ("password", password),
            ])
            .send()
            .unwrap()
    };
    guess_until_waiting(|| {
        let r = attempt("guess");
        assert_eq!(r.status(), 403);
        r.text().unwrap()
    });
    let r = attempt(PASSWORD);
    assert_eq!(r.status(), 403, "guessing went unchecked");
    assert!(r.text().unwrap().contains("Please wait"));
    assert_eq!(
        s.env
            .count("SELECT count(*) FROM access_grant WHERE kind = 'break-glass'"),
        0
    );
}

#[test]
fn regression_logout_and_login_cookie_removals_are_secure() {
    let (s, _) = start("");
    let c = s.client();
    let r = login_as(&s, &c, "clin", PASSWORD, "/", &[]);
    assert_eq!(r.status(), 303);
    let removal = set_cookie(&r, "__Host-sharedcare-login=");
    assert!(is_secure_removal(&removal), "{removal}");

    let home = c.get(s.url("/")).send().unwrap().text().unwrap();
    let out = c
        .post(s.url("/logout"))
        .form(&[("csrf", &hidden(&home, "csrf"))])
        .send()
        .unwrap();
    assert_eq!(out.status(), 303);
    let removal = set_cookie(&out, "__Host-sharedcare=");
    assert!(is_secure_removal(&removal), "{removal}");
}

fn set_cookie(r: &reqwest::blocking::Response, prefix: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(prefix))
        .unwrap_or_else(|| panic!("no Set-Cookie {prefix} in {:?}", r.headers()))
}

/// A `__Host-` cookie removal a browser obeys: Secure, path /, already expired.
fn is_secure_removal(header: &str) -> bool {
    let parts: Vec<String> = header
        .split(';')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    parts.iter().any(|p| p == "secure")
        && parts.iter().any(|p| p == "path=/")
        && parts
            .iter()
            .any(|p| p == "max-age=0" || p.starts_with("expires="))
}

fn fhir_search(s: &Server, host: &str) -> Value {
    let token = token(&s.env, "clin");
    let r = s
        .client()
        .get(s.url("/fhir/Patient?family=Edgeworth"))
        .bearer_auth(token)
        .header("Host", host)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

fn bundle_links(bundle: &Value) -> Vec<String> {
    let mut out: Vec<String> = bundle["link"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["url"].as_str().unwrap().to_owned())
        .collect();
    for e in bundle["entry"].as_array().unwrap() {
        out.push(e["fullUrl"].as_str().unwrap().to_owned());
    }
    out
}

#[test]
fn regression_fhir_links_ignore_a_forged_host_header() {
    let (s, person) = start("");
    let c = s.login("clin");
    claim(&s, &c, person);
    let bundle = fhir_search(&s, "evil.example");
    let links = bundle_links(&bundle);
    assert!(links.len() >= 2, "{bundle}");
    let base = format!("{}/fhir/", s.base);
    for link in &links {
        assert!(link.starts_with(&base), "{link} is not under {base}");
    }
    drop(s);

    let (s, person) = start("[web]\npublic_url = \"https://care.example.org/\"\n");
    let c = s.login("clin");
    claim(&s, &c, person);
    let bundle = fhir_search(&s, "evil.example");
    for link in bundle_links(&bundle) {
        assert!(link.starts_with("https://care.example.org/fhir/"), "{link}");
    }
}

#[test]
fn regression_a_bad_next_on_login_goes_home_without_a_server_error() {
    let (s, _) = start("");
    for next in [
        "/a b",
        "/%zz",
        "//evil.example/",
        "/\u{1b}[2J",
        "https://evil.example/",
    ] {
        let c = s.client();
        let r = login_as(&s, &c, "clin", PASSWORD, next, &[]);
        assert_eq!(r.status(), 303, "next {next:?}");
        assert_eq!(r.headers()["location"], "/", "next {next:?}");
    }
    // A good one is followed.
    let c = s.client();
    let r = login_as(&s, &c, "clin", PASSWORD, "/search?q=ada", &[]);
    assert_eq!(r.headers()["location"], "/search?q=ada");
}

// ---- SFTP ---------------------------------------------------------------------------------

/// A key pair for ACUTE (authorised), in a folder of the data directory's parent.
fn acute_key(env: &Env) -> PathBuf {
    let key = env.dir.path().join("acute-key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    env.ok(&[
        "sftp",
        "key",
        "add",
        "ACUTE",
        key.with_extension("pub").to_str().unwrap(),
    ]);
    key
}

fn ssh(s: &Server, extra: &[&str]) -> Command {
    let mut c = Command::new("ssh");
    c.args([
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=10",
        "-p",
    ])
    .arg(s.sftp_port.to_string())
    .args(extra)
    .stdin(Stdio::null());
    c
}

/// One password login attempt as ACUTE with a wrong password (given by an askpass script).
fn wrong_password(s: &Server, askpass: &Path) -> std::process::Output {
    ssh(
        s,
        &[
            "-o",
            "BatchMode=no",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password",
            "-o",
            "NumberOfPasswordPrompts=1",
            "ACUTE@127.0.0.1",
            "true",
        ],
    )
    .env("SSH_ASKPASS", askpass)
    .env("SSH_ASKPASS_REQUIRE", "force")
    .env("DISPLAY", ":0")
    .output()
    .unwrap()
}

/// Whether ACUTE's key opens an SFTP session (`sftp -b` with one `ls`).
fn key_login_works(s: &Server, key: &Path) -> bool {
    let batch = s.env.write("ls.batch", "ls\n");
    let out = Command::new("sftp")
        .arg("-i")
        .arg(key)
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
            "-P",
        ])
        .arg(s.sftp_port.to_string())
        .arg("-b")
        .arg(&batch)
        .arg("ACUTE@127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    out.status.success()
}

#[test]
fn regression_sftp_password_failures_never_block_a_key_login() {
    let env = Env::new();
    env.add_source("ACUTE", "acute", "hl7v2");
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[jobs]\ninbox_scan = \"\"\n",
    )
    .unwrap();
    let key = acute_key(&env);
    let askpass = env.write("askpass.sh", "#!/bin/sh\necho not-the-password\n");
    std::fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let s = Server::start_in(env);
    for _ in 0..8 {
        let out = wrong_password(&s, &askpass);
        assert!(!out.status.success(), "{out:?}");
    }
    assert!(
        key_login_works(&s, &key),
        "password guesses locked the source's key out"
    );
}

/// Reads what the server sends within `limit`: (bytes, whether it closed the connection).
fn read_for(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

#[test]
fn regression_idle_sftp_connections_are_closed_and_capped() {
    let env = Env::new();
    env.add_source("ACUTE", "acute", "hl7v2");
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[jobs]\ninbox_scan = \"\"\n[sftp]\nauth_timeout_seconds = 3\nmax_unauthenticated = 3\n",
    )
    .unwrap();
    let key = acute_key(&env);
    let s = Server::start_in(env);
    let addr = format!("127.0.0.1:{}", s.sftp_port);
    let opened = Instant::now();
    // Three idle connections: one says nothing, two say hello and then nothing.
    let mut idle: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    for stream in &mut idle {
        let (hello, closed) = read_for(stream, Duration::from_millis(500));
        assert!(hello.starts_with(b"SSH-2.0-"), "{hello:?}");
        assert!(!closed);
    }
    for stream in &mut idle[1..] {
        std::io::Write::write_all(stream, b"SSH-2.0-idle\r\n").unwrap();
    }
    // The fourth is refused at once, without a greeting.
    let mut fourth = TcpStream::connect(&addr).unwrap();
    let (hello, closed) = read_for(&mut fourth, Duration::from_secs(2));
    assert!(closed && !hello.starts_with(b"SSH-"), "{hello:?}");
    // The idle ones are closed once their time to authenticate is up, and not long before.
    for stream in &mut idle {
        let (_, closed) = read_for(stream, Duration::from_secs(8));
        assert!(closed, "an idle connection stayed open");
    }
    let took = opened.elapsed();
    assert!(took >= Duration::from_secs(2), "closed after {took:?}");
    // With the slots free again, a real login works.
    assert!(key_login_works(&s, &key));
}

/// A raw connection to the web server (from 127.0.0.1).
fn connect_raw(s: &Server) -> TcpStream {
    TcpStream::connect(s.base.trim_start_matches("https://")).unwrap()
}

#[test]
fn regression_idle_and_dribbling_web_connections_are_closed_and_capped() {
    let (s, _) = start(
        "[jobs]\ninbox_scan = \"\"\n[web]\nmax_connections_per_address = 4\n\
         silent_connection_seconds = 2\nrequest_seconds = 3\n",
    );
    let opened = Instant::now();
    let mut silent: Vec<TcpStream> = (0..4).map(|_| connect_raw(&s)).collect();
    // A fifth from the same address is closed at once.
    let mut fifth = connect_raw(&s);
    let (_, closed) = read_for(&mut fifth, Duration::from_secs(1));
    assert!(closed, "a fifth connection from one address was kept");
    // Another address is not held to the first one's share, and is audited as itself.
    let elsewhere = Client::builder()
        .danger_accept_invalid_certs(true)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let r = login_as(&s, &elsewhere, "clin", PASSWORD, "/", &[]);
    assert_eq!(r.status(), 303);
    assert_eq!(login_ips(&s, "clin"), [Some("127.0.0.2".to_owned())]);
    // The silent ones are closed once their time is up, and not long before.
    for stream in &mut silent {
        let (_, closed) = read_for(stream, Duration::from_secs(8));
        assert!(closed, "a silent connection stayed open");
    }
    let took = opened.elapsed();
    assert!(took >= Duration::from_millis(1500), "closed after {took:?}");

    // A handshake dribbled a byte at a time is closed when the request time is up.
    let mut dribble = connect_raw(&s);
    dribble
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // A TLS handshake record header announcing 512 bytes, then the bytes, slowly.
    let began = Instant::now();
    let mut bytes = vec![0x16u8, 0x03, 0x01, 0x02, 0x00];
    bytes.extend(std::iter::repeat_n(0u8, 512));
    let mut closed_after = None;
    for byte in bytes {
        if std::io::Write::write_all(&mut dribble, &[byte]).is_err() {
            closed_after = Some(began.elapsed());
            break;
        }
        let mut buf = [0u8; 64];
        match dribble.read(&mut buf) {
            Ok(0) => {
                closed_after = Some(began.elapsed());
                break;
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                closed_after = Some(began.elapsed());
                break;
            }
        }
        if began.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let closed_after = closed_after.expect("a dribbled handshake held its connection open");
    assert!(
        closed_after >= Duration::from_millis(2500) && closed_after < Duration::from_secs(10),
        "closed after {closed_after:?}"
    );

    // Ordinary requests still work.
    assert_eq!(
        s.client().get(s.url("/login")).send().unwrap().status(),
        200
    );
}
