//! The MLLP listener, driven by a third-party client: `mllp_send` from PyPI's `hl7` package,
//! installed into a virtualenv under `target/` on first use (`.ci/run` installs it ahead).
//! Streams of admissions are acknowledged and applied exactly once, a server killed mid-stream
//! loses and duplicates nothing once the unacknowledged rest is re-sent, and bad input is
//! answered or cut off without disturbing other connections.

mod bad_input;
mod stream;
mod tls;

use super::server::Server;
use super::support::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Messages per stream: 2,000 keeps the suite quick in a debug build; set
/// `SHAREDCARE_MLLP_MESSAGES=10000` for the full acceptance run.
pub fn stream_length() -> usize {
    std::env::var("SHAREDCARE_MLLP_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// The `mllp_send` command of PyPI `hl7` 0.4.5, installed once into `target/test-tools/`.
pub fn mllp_send() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let venv = repo().join("target/test-tools/hl7-venv");
        let bin = venv.join("bin/mllp_send");
        if !bin.exists() {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap();
            assert!(
                made.success(),
                "python3 -m venv failed (Debian: apt install python3-venv)"
            );
            let pip = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "hl7==0.4.5"])
                .status()
                .unwrap();
            assert!(
                pip.success(),
                "pip install hl7==0.4.5 failed: PyPI must be reachable"
            );
        }
        bin
    })
    .clone()
}

/// A source `code` heard on a port of its own (any free one), from loopback.
pub fn live_source(env: &Env, code: &str) {
    env.add_source(code, "acute", "hl7v2");
    env.ok(&["source", "edit", code, "--mllp", "127.0.0.1:0"]);
}

/// The port `serve` printed for `what` (a source's code, or "every HL7 v2 source").
pub fn mllp_port(server: &Server, what: &str) -> u16 {
    let line = server
        .banner
        .iter()
        .find(|l| {
            l.starts_with("mllp listening on ")
                && l.trim_end_matches(" (TLS)")
                    .ends_with(&format!(" for {what}"))
        })
        .unwrap_or_else(|| panic!("no MLLP port for {what} in {:?}", server.banner));
    let addr = line.split(' ').nth(3).unwrap();
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

/// Admission `n` of stream `run`: a person of their own (local id, NHS number, name, date of
/// birth and postcode all differ), control id `{run}-{n}`.
pub fn admission(run: &str, n: usize) -> String {
    let letters = |mut k: usize| {
        let mut s = String::new();
        for _ in 0..3 {
            s.push((b'a' + (k % 26) as u8) as char);
            k /= 26;
        }
        s
    };
    let family = format!("Tes{}", letters(n));
    let dob = 19300101 + (n % 28) + 100 * (n / 28 % 12) + 10_000 * (n / 336 % 80);
    let postcode = format!(
        "ME{} {}A{}",
        n % 20 + 1,
        n % 9 + 1,
        (b'A' + (n / 9 % 26) as u8) as char
    );
    format!(
        "MSH|^~\\&|PAS|RWF|SHAREDCARE|REGION|20260301101500||ADT^A01|{run}-{n:05}|P|2.4\r\
         EVN|A01|20260301101500\r\
         PID|1||{run}M{n:05}^^^RWF^MR~{nhs}^^^NHS^NH||{family}^Sam^^^Mx||{dob}|U|||{n} Mill \
         Road^^Maidstone^^{postcode}\r\
         PV1|1|I|WARD1^BED{b}^^RWF||||||||||||||||V{run}{n:05}\r",
        nhs = nhs_number(n as u32 + 17),
        b = n % 30,
    )
}

/// Messages written as `mllp_send` reads them: each in its MLLP frame.
pub fn stream_file(env: &Env, name: &str, messages: &[String]) -> PathBuf {
    let mut bytes = Vec::new();
    for m in messages {
        bytes.push(0x0b);
        bytes.extend_from_slice(m.as_bytes());
        bytes.extend_from_slice(&[0x1c, 0x0d]);
    }
    env.write(name, bytes)
}

/// Runs `mllp_send` over a file to `port`; returns (its exit status, what it printed).
pub fn send_file(port: u16, file: &Path) -> (bool, Vec<u8>) {
    let out = Command::new(mllp_send())
        .args(["--port", &port.to_string(), "-f"])
        .arg(file)
        .arg("127.0.0.1")
        .output()
        .unwrap();
    (out.status.success(), out.stdout)
}

/// The (MSA-1, MSA-2) of every acknowledgement in a client's output.
pub fn acks(output: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(output)
        .split(['\r', '\n', '\x0b', '\x1c'])
        .filter_map(|seg| seg.strip_prefix("MSA|"))
        .map(|msa| {
            let mut f = msa.split('|');
            (
                f.next().unwrap_or_default().to_owned(),
                f.next().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Control ids acknowledged `AA`.
pub fn accepted(output: &[u8]) -> HashSet<String> {
    acks(output)
        .into_iter()
        .filter(|(code, _)| code == "AA")
        .map(|(_, id)| id)
        .collect()
}

/// (feed files, distinct feed-file names, source records) of a source: each message applied
/// once is one of each.
pub fn applied(env: &Env, code: &str) -> (i64, i64, i64) {
    let q = |sql: &str| {
        env.sql()
            .query_row(sql, [code], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    (
        q(
            "SELECT count(*) FROM feed_file f JOIN source s ON s.id = f.source_id
           WHERE s.code = ?1 AND f.state = 'imported'",
        ),
        q(
            "SELECT count(DISTINCT f.name) FROM feed_file f JOIN source s ON s.id = f.source_id
           WHERE s.code = ?1",
        ),
        q(
            "SELECT count(*) FROM source_person p JOIN source s ON s.id = p.source_id
           WHERE s.code = ?1",
        ),
    )
}
