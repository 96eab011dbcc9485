//! Citizens beside clinicians (`--citizens N`, region mode): N residents, each a registered
//! patient of one client's GP practice, sign up through the real path — an invitation code
//! from `sharedcare citizen invite`, redeemed over HTTPS, a password, and a TOTP second factor
//! whose codes the benchmark computes as an authenticator app would. Each practice's clinician
//! first looks at its citizen's record (so "who has looked" has rows to list); then, in one
//! phase, the N citizens read their record page and their "who has looked" page in turn while
//! the clinicians read their practices' records.

use super::{login, Client, Phase, Target};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CITIZEN_PASSWORD: &str = "benchmark citizen passphrase";
/// How often each practice's clinician looks at its citizen's record before the phase.
const LOOKS_BEFORE: usize = 25;

/// One resident: their person and the code that lets them sign up.
pub struct Resident {
    pub person_id: i64,
    pub username: String,
    code: String,
}

/// Issues an invitation code for the first patient of each clinician's practice, with the
/// command staff run (`sharedcare citizen invite ID`: the code alone on its last line).
pub fn invite(data: &Path, clinicians: &[Client]) -> Vec<Resident> {
    clinicians
        .iter()
        .enumerate()
        .map(|(t, c)| {
            let person_id = c.targets[0].id;
            let out = Command::new(env!("CARGO_BIN_EXE_sharedcare"))
                .arg("--data-dir")
                .arg(data)
                .args(["citizen", "invite", &person_id.to_string()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "citizen invite failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8(out.stdout).unwrap();
            Resident {
                person_id,
                username: format!("bench-citizen-{}", t + 1),
                code: stdout.lines().last().unwrap().trim().to_owned(),
            }
        })
        .collect()
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap() + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Redeems the resident's code, chooses a password and sets up the second factor: the client,
/// signed in.
fn sign_up(base: &str, r: &Resident) -> reqwest::blocking::Client {
    let c = super::client();
    let form = c
        .get(format!("{base}/citizen/start"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let answer = c
        .post(format!("{base}/citizen/start"))
        .form(&[
            ("code", r.code.as_str()),
            ("username", &r.username),
            ("password", CITIZEN_PASSWORD),
            ("password2", CITIZEN_PASSWORD),
            ("csrf", &hidden(&form, "csrf")),
        ])
        .send()
        .unwrap();
    assert_eq!(answer.status(), 303, "redeeming the invitation code failed");
    let setup = c
        .get(format!("{base}/citizen/second-factor"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let marker = "id=\"totp-secret\">";
    let at = setup.find(marker).unwrap() + marker.len();
    let secret = setup[at..].split('<').next().unwrap().trim().to_owned();
    let now = chrono::Utc::now().timestamp();
    let code = sharedcare::citizen::totp::code_at(&secret, now).unwrap();
    let answer = c
        .post(format!("{base}/citizen/second-factor"))
        .form(&[("code", code.as_str()), ("csrf", &hidden(&setup, "csrf"))])
        .send()
        .unwrap();
    assert_eq!(answer.status(), 303, "setting up the second factor failed");
    c
}

/// The phase's figures: the citizens' record page, their "who has looked" page, and the
/// clinicians' record page beside them.
pub struct Mixed {
    pub citizen_record: Phase,
    pub citizen_looked: Phase,
    pub clinician_record: Phase,
    /// Rows on the first citizen's "who has looked" page at the end.
    pub looked_rows: usize,
}

type Timed = (Vec<Duration>, usize);

fn timed(c: &reqwest::blocking::Client, url: &str, out: &mut Timed) -> Option<String> {
    let t0 = Instant::now();
    match c
        .get(url)
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.text())
    {
        Ok(body) => {
            out.0.push(t0.elapsed());
            Some(body)
        }
        Err(_) => {
            out.1 += 1;
            None
        }
    }
}

fn phase(name: &'static str, mut parts: Vec<Timed>, elapsed: Duration) -> Phase {
    let mut latencies: Vec<Duration> = parts.iter_mut().flat_map(|p| p.0.drain(..)).collect();
    latencies.sort();
    Phase {
        name,
        latencies,
        elapsed,
        errors: parts.iter().map(|p| p.1).sum(),
    }
}

pub fn run(
    base: &Arc<String>,
    clinicians: &[Client],
    residents: &[Resident],
    seconds: u64,
) -> Mixed {
    let citizens: Vec<reqwest::blocking::Client> =
        residents.iter().map(|r| sign_up(base, r)).collect();
    for (c, r) in clinicians.iter().zip(residents) {
        let staff = login(base, &c.username);
        for _ in 0..LOOKS_BEFORE {
            let page = staff
                .get(format!("{base}/person/{}", r.person_id))
                .send()
                .unwrap();
            assert_eq!(
                page.status(),
                200,
                "the clinician cannot open their patient"
            );
        }
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let staff: Vec<_> = clinicians
        .iter()
        .enumerate()
        .map(|(t, who)| {
            let (base, username) = (Arc::clone(base), who.username.clone());
            let targets: Arc<Vec<Target>> = Arc::clone(&who.targets);
            std::thread::spawn(move || {
                let c = login(&base, &username);
                let mut rng = super::common::Rng(t as u64 + 101);
                let mut out: Timed = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let target = &targets[(rng.next() % targets.len() as u64) as usize];
                    timed(&c, &format!("{base}/person/{}", target.id), &mut out);
                }
                out
            })
        })
        .collect();
    let people: Vec<_> = citizens
        .into_iter()
        .map(|c| {
            let base = Arc::clone(base);
            std::thread::spawn(move || {
                let (mut record, mut looked): (Timed, Timed) = Default::default();
                let mut rows = 0;
                while Instant::now() < deadline {
                    timed(&c, &format!("{base}/citizen"), &mut record);
                    if let Some(page) = timed(&c, &format!("{base}/citizen/looked"), &mut looked) {
                        rows = page.matches("<li class=\"item").count();
                    }
                }
                (record, looked, rows)
            })
        })
        .collect();
    let staff: Vec<Timed> = staff.into_iter().map(|h| h.join().unwrap()).collect();
    let (mut records, mut looks, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for h in people {
        let (r, l, n) = h.join().unwrap();
        records.push(r);
        looks.push(l);
        rows.push(n);
    }
    let elapsed = started.elapsed();
    Mixed {
        citizen_record: phase("citizen: record page", records, elapsed),
        citizen_looked: phase("citizen: who looked", looks, elapsed),
        clinician_record: phase("clinician: record page", staff, elapsed),
        looked_rows: rows.first().copied().unwrap_or(0),
    }
}
