//! Malformed, oversized and non-HL7 input: answered AE/AR or cut off, never disturbing another
//! connection; senders not allowed are not heard.

use super::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A raw MLLP connection, for the input no well-behaved client sends.
struct Raw(TcpStream);

impl Raw {
    fn open(port: u16) -> Self {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Self(s)
    }

    fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).unwrap();
    }

    fn message(&mut self, text: &str) -> String {
        let mut frame = vec![0x0b];
        frame.extend_from_slice(text.as_bytes());
        frame.extend_from_slice(&[0x1c, 0x0d]);
        self.send(&frame);
        self.ack()
    }

    /// The next acknowledgement's text, without its frame.
    fn ack(&mut self) -> String {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(&[0x1c, 0x0d]) {
            assert_eq!(
                self.0.read(&mut byte).unwrap(),
                1,
                "closed before acknowledging"
            );
            got.push(byte[0]);
        }
        String::from_utf8(got[1..got.len() - 2].to_vec()).unwrap()
    }

    /// Whether the server closed the connection (reads end), within the timeout.
    fn closed(&mut self) -> bool {
        let mut buf = [0u8; 256];
        loop {
            match self.0.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        }
    }
}

fn msa(ack: &str) -> String {
    ack.split('\r')
        .find(|s| s.starts_with("MSA|"))
        .unwrap()
        .to_owned()
}

#[test]
fn mllp_bad_input_gets_ae_ar_or_a_closed_connection_and_never_disturbs_another_connection() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[mllp]\nlisten = \"127.0.0.1:0\"\nmax_message_bytes = 65536\n",
    )
    .unwrap();
    live_source(&env, "LIVE-PAS");
    live_source(&env, "FAR-PAS");
    env.ok(&["source", "edit", "FAR-PAS", "--mllp-allow", "192.0.2.10"]);
    let server = Server::start_in(env);
    let port = mllp_port(&server, "LIVE-PAS");

    // A healthy connection stays open throughout.
    let mut good = Raw::open(port);
    assert_eq!(msa(&good.message(&admission("G", 1))), "MSA|AA|G-00001");

    // Not HL7 at all, inside a proper frame: AR, and the connection carries on.
    let mut bad = Raw::open(port);
    let ar = bad.message("hello, this is not HL7");
    assert!(msa(&ar).starts_with("MSA|AR||"), "{ar}");
    // HL7 that does not hold together: AE naming the problem, kept for replay.
    let broken = admission("B", 1).replace("EVN|", "this line is no segment\rEVN|");
    let ae = bad.message(&broken);
    assert!(msa(&ae).starts_with("MSA|AE|B-00001|"), "{ae}");
    assert!(
        ae.contains("\rERR|") && ae.contains("not an HL7 segment"),
        "{ae}"
    );
    // A patient with no identifier: understood, rejected.
    let no_id = admission("B", 2).replace("PID|1||BM00002^^^RWF^MR~", "PID|1||");
    let no_id = no_id.replace(&format!("{}^^^NHS^NH", nhs_number(2 + 17)), "");
    let ae = bad.message(&no_id);
    assert!(msa(&ae).starts_with("MSA|AE|B-00002|"), "{ae}");
    // The rejected message sent again is rejected again, not taken for a stored one.
    assert!(msa(&bad.message(&broken)).starts_with("MSA|AE|B-00001|"));
    // Enhanced mode: MSH-15 AL, MSH-16 NE asks for the accept acknowledgement only.
    let enhanced = admission("E", 1).replace("|P|2.4\r", "|P|2.5|||AL|NE\r");
    assert_eq!(msa(&bad.message(&enhanced)), "MSA|CA|E-00001");

    // Not MLLP: the connection is closed.
    let mut http = Raw::open(port);
    http.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(http.closed());
    // A frame over the limit: closed.
    let mut huge = Raw::open(port);
    let mut frame = vec![0x0b];
    frame.extend(admission("H", 1).bytes().cycle().take(70_000));
    let _ = huge.0.write_all(&frame);
    assert!(huge.closed());
    // Half a message, then silence: the good connection is not held up meanwhile.
    let mut half = Raw::open(port);
    half.send(&[0x0b]);
    half.send(&admission("HALF", 1).as_bytes()[..80]);
    assert_eq!(msa(&good.message(&admission("G", 2))), "MSA|AA|G-00002");
    drop(half);

    // The shared port: routed by MSH-3/MSH-4; a message naming no source is refused.
    let shared = mllp_port(&server, "every HL7 v2 source");
    let mut routed = Raw::open(shared);
    let unknown = admission("U", 1).replace("|PAS|RWF|", "|NOBODY|XYZ|");
    assert!(msa(&routed.message(&unknown)).starts_with("MSA|AR|U-00001|"));
    let by_code = admission("R", 1).replace("|PAS|RWF|", "|LIVE-PAS|RWF|");
    assert_eq!(msa(&routed.message(&by_code)), "MSA|AA|R-00001");
    // ... and a source whose senders do not include loopback is refused there too.
    let far = admission("F", 1).replace("|PAS|RWF|", "|FAR-PAS|RWF|");
    let refused = routed.message(&far);
    assert!(msa(&refused).starts_with("MSA|AR|F-00001|"), "{refused}");
    assert!(refused.contains("not allowed to send for source FAR-PAS"));
    // Its own port closes a connection from loopback before reading anything.
    let mut not_allowed = Raw::open(mllp_port(&server, "FAR-PAS"));
    assert!(not_allowed.closed());

    // Still the good connection works, and the store holds exactly what was acknowledged.
    assert_eq!(msa(&good.message(&admission("G", 3))), "MSA|AA|G-00003");
    let stored: Vec<String> = {
        let conn = server.env.sql();
        let mut st = conn
            .prepare(
                "SELECT s.code || ' ' || f.name || ' ' || f.accepted || '/' || f.rejected
                 FROM feed_file f JOIN source s ON s.id = f.source_id ORDER BY f.id",
            )
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        stored,
        [
            "LIVE-PAS MLLP G-00001 1/0",
            "LIVE-PAS MLLP B-00001 0/1",
            "LIVE-PAS MLLP B-00002 0/1",
            "LIVE-PAS MLLP E-00001 1/0",
            "LIVE-PAS MLLP G-00002 1/0",
            "LIVE-PAS MLLP R-00001 1/0",
            "LIVE-PAS MLLP G-00003 1/0",
        ]
    );
    // The rejects keep their raw bytes, for replay from the feed page.
    assert_eq!(
        server
            .env
            .count("SELECT count(*) FROM feed_reject WHERE length(raw) > 100"),
        2
    );
}
