//! Acknowledged MLLP throughput: `cargo bench --bench mllp -- [--messages N] [--senders 1,4,16]`.
//!
//! Starts the real server on a fresh data directory with one HL7 v2 source heard on a port of
//! its own, then for each sender count opens that many connections, each sending N admissions
//! (a new person each) one at a time and waiting for each `AA` before the next, as MLLP
//! senders do. Reports acknowledged messages per second and the ACK latency (p50, p99): every
//! acknowledgement follows the durable commit of its message (see `sources::mllp::writer`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn admission(run: &str, n: usize) -> String {
    let letters: String = (0..4)
        .map(|i| (b'a' + (n / 26usize.pow(i) % 26) as u8) as char)
        .collect();
    let dob = 19300101 + (n % 28) + 100 * (n / 28 % 12) + 10_000 * (n / 336 % 80);
    format!(
        "MSH|^~\\&|PAS|RWF|SHAREDCARE|REGION|20260301101500||ADT^A01|{run}-{n}|P|2.4\r\
         EVN|A01|20260301101500\r\
         PID|1||{run}M{n}^^^RWF^MR||Ben{letters}^Sam^^^Mx||{dob}|U|||{n} Mill Road^^Maidstone^^\
         ME{} {}AB\r\
         PV1|1|I|WARD1^BED1^^RWF||||||||||||||||V{run}{n}\r",
        n % 20 + 1,
        n % 9 + 1
    )
}

fn send(stream: &mut TcpStream, message: &str) -> String {
    let mut frame = vec![0x0b];
    frame.extend_from_slice(message.as_bytes());
    frame.extend_from_slice(&[0x1c, 0x0d]);
    stream.write_all(&frame).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.ends_with(&[0x1c, 0x0d]) {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed the connection");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let per_sender: usize = arg("--messages").map_or(2_000, |n| n.parse().unwrap());
    let senders: Vec<usize> = arg("--senders")
        .unwrap_or_else(|| "1,4,16".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_sharedcare");
    let run = |args: &[&str]| {
        let ok = Command::new(bin)
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "sharedcare {args:?} failed");
    };
    run(&[
        "source",
        "add",
        "BENCH",
        "--name",
        "Bench PAS",
        "--org",
        "RWF",
        "--kind",
        "acute",
        "--format",
        "hl7v2",
        "--mllp",
        "127.0.0.1:0",
    ]);
    let mut server = Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--sftp-listen", ""])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(server.stdout.take().unwrap());
    let mut port = 0u16;
    let mut line = String::new();
    while !line.contains("sharedcare listening on") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "server exited");
        if let Some(rest) = line.trim().strip_prefix("mllp listening on ") {
            let addr = rest.split(' ').next().unwrap();
            port = addr.rsplit(':').next().unwrap().parse().unwrap();
        }
    }
    std::thread::spawn(move || for _ in reader.lines() {});
    println!("senders  messages  acknowledged msg/s  p50 ACK ms  p99 ACK ms");
    for (round, &k) in senders.iter().enumerate() {
        let started = Instant::now();
        let threads: Vec<_> = (0..k)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut latencies = Vec::with_capacity(per_sender);
                    for n in 0..per_sender {
                        let message = admission(&format!("R{round}T{t}"), n);
                        let sent = Instant::now();
                        let ack = send(&mut stream, &message);
                        latencies.push(sent.elapsed());
                        assert!(ack.contains("\rMSA|AA|"), "not acknowledged AA: {ack}");
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies: Vec<Duration> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let took = started.elapsed();
        latencies.sort();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q) as usize).min(latencies.len() - 1);
            latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "{k:>7}  {:>8}  {:>18.0}  {:>10.1}  {:>10.1}",
            latencies.len(),
            latencies.len() as f64 / took.as_secs_f64(),
            at(0.50),
            at(0.99)
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}
