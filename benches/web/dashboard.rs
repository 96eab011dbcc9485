//! The population dashboard at a region's size: `--dashboard --region-data DATA` times the
//! figures job (`sharedcare population refresh`, the nightly recompute) over the loaded region,
//! then N analysts read the dashboard over HTTPS for S seconds each phase: the front page, each
//! condition's page (trend, map, tables and SVGs) and its CSV downloads.

use super::{joined, login, percentile, rss_mib, start_server, timed_requests, Phase};
use sharedcare::access::password;
use sharedcare::config::Config;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

const NOW: &str = "2024-01-01T00:00:00Z";

/// Signs up the analysts (again on a rerun) and returns their names.
fn analysts(data: &Path, n: u64, secret: &str) -> Vec<String> {
    let config = Config::load(data).unwrap();
    let mut store = sharedcare::audit::open_store(&config).unwrap();
    (0..n)
        .map(|t| {
            let username = format!("bench-analyst-{}", t + 1);
            if store.user_by_name(&username).unwrap().is_none() {
                let tx = store.begin().unwrap();
                let hash = password::hash(secret).unwrap();
                tx.add_user(&username, "analyst", "PH001", None, &hash, NOW)
                    .unwrap();
                tx.commit().unwrap();
            }
            username
        })
        .collect()
}

fn condition_keys(data: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_sharedcare"))
        .arg("--data-dir")
        .arg(data)
        .args(["--json", "population", "conditions"])
        .output()
        .unwrap();
    // One JSON object after another.
    let keys: Vec<String> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .filter_map(Result::ok)
        .filter_map(|c| c["key"].as_str().map(str::to_owned))
        .collect();
    assert!(!keys.is_empty(), "no conditions listed");
    keys
}

fn phase(
    name: &'static str,
    users: &[String],
    base: &Arc<String>,
    paths: &[String],
    seconds: u64,
) -> Phase {
    let started = Instant::now();
    let handles: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(t, user)| {
            let (base, user, paths) = (Arc::clone(base), user.clone(), paths.to_vec());
            std::thread::spawn(move || {
                let c = login(&base, &user);
                let mut i = t;
                timed_requests(seconds, || {
                    i += 1;
                    c.get(format!("{base}{}", paths[(i - 1) % paths.len()]))
                })
            })
        })
        .collect();
    joined(name, started, handles)
}

pub fn run(data: &Path, clients: u64, seconds: u64, secret: &str) {
    let started = Instant::now();
    let refresh = Command::new(env!("CARGO_BIN_EXE_sharedcare"))
        .arg("--data-dir")
        .arg(data)
        .args(["population", "refresh"])
        .output()
        .unwrap();
    let recompute = started.elapsed();
    assert!(
        refresh.status.success(),
        "population refresh failed: {}",
        String::from_utf8_lossy(&refresh.stderr)
    );
    let keys = condition_keys(data);
    let users = analysts(data, clients, secret);
    let (mut server, base) = start_server(data);
    let pages: Vec<String> = keys.iter().map(|k| format!("/dashboard/{k}")).collect();
    let csvs: Vec<String> = keys
        .iter()
        .flat_map(|k| {
            ["trend", "areas", "areas-current", "age-sex", "ethnicity"]
                .map(|f| format!("/dashboard/{k}/{f}.csv"))
        })
        .collect();
    let phases = [
        phase(
            "front page",
            &users,
            &base,
            &["/dashboard".to_owned()],
            seconds,
        ),
        phase("condition pages", &users, &base, &pages, seconds),
        phase("CSV downloads", &users, &base, &csvs, seconds),
    ];
    println!(
        "\nsharedcare dashboard benchmark: {} ({} conditions), {clients} analysts over HTTPS, {seconds} s a phase",
        data.display(),
        keys.len()
    );
    println!(
        "figures job (`population refresh`): {:.1} s wall; {}",
        recompute.as_secs_f64(),
        String::from_utf8_lossy(&refresh.stdout).trim()
    );
    println!(
        "{:<18} {:>9} {:>9} {:>10} {:>8}",
        "phase", "p50 ms", "p99 ms", "pages/s", "errors"
    );
    for p in &phases {
        println!(
            "{:<18} {:>9.2} {:>9.2} {:>10.0} {:>8}",
            p.name,
            percentile(&p.latencies, 0.5),
            percentile(&p.latencies, 0.99),
            p.latencies.len() as f64 / p.elapsed.as_secs_f64(),
            p.errors
        );
    }
    println!("server RSS peak {:.0} MiB", rss_mib(server.id(), "VmHWM:"));
    let _ = server.kill();
    let _ = server.wait();
}
