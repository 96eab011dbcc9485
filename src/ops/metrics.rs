//! Request figures, counted as requests are answered, and the Prometheus text exposition
//! (format 0.0.4) of them and of the database's queue and feed figures.
//!
//! Labels are bounded: a route class is the first segment of the matched route's template
//! (`person`, `fhir`, `admin` …, `home` for `/`, `unmatched` when no route matched), never the
//! request's own path, which could hold a name or an NHS number.

use crate::store::OpsFigures;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Latency {
    /// Observations at or under each bound of [`BUCKETS`] (cumulative when written out).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug)]
struct Figures {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Latency>,
}

/// The server's request figures since it started.
#[derive(Debug)]
pub struct Requests {
    figures: Mutex<Figures>,
}

/// This process's request figures: the web server counts into it, `/metrics` reads it.
pub static REQUESTS: Requests = Requests::new();

impl Default for Requests {
    fn default() -> Self {
        Self::new()
    }
}

impl Requests {
    pub const fn new() -> Self {
        Self {
            figures: Mutex::new(Figures {
                requests: BTreeMap::new(),
                latency: BTreeMap::new(),
            }),
        }
    }

    pub fn observe(&self, route_class: &str, status: u16, took: Duration) {
        let Ok(mut f) = self.figures.lock() else {
            return;
        };
        *f.requests
            .entry((route_class.to_owned(), status))
            .or_default() += 1;
        let l = f.latency.entry(route_class.to_owned()).or_default();
        let seconds = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| seconds <= b) {
            l.buckets[i] += 1;
        }
        l.count += 1;
        l.sum += seconds;
    }

    fn snapshot(&self) -> (BTreeMap<(String, u16), u64>, BTreeMap<String, Latency>) {
        match self.figures.lock() {
            Ok(f) => (f.requests.clone(), f.latency.clone()),
            Err(_) => Default::default(),
        }
    }
}

/// The route class of a route template such as `/person/<id>/results` (its mount point
/// included).
pub fn route_class(template: Option<&str>) -> String {
    let Some(template) = template else {
        return "unmatched".into();
    };
    let first = template
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    if first.is_empty() {
        "home".into()
    } else if first.starts_with('<') {
        "param".into()
    } else {
        first.to_owned()
    }
}

/// The whole exposition: request figures, then what the database says at `now`.
pub fn render(requests: &Requests, ops: Option<&OpsFigures>, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let (counts, latency) = requests.snapshot();
    header(
        &mut out,
        "sharedcare_http_requests_total",
        "counter",
        "HTTP requests answered, by route class and status.",
    );
    for ((class, status), n) in &counts {
        let _ = writeln!(
            out,
            "sharedcare_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
            escape(class)
        );
    }
    header(
        &mut out,
        "sharedcare_http_request_duration_seconds",
        "histogram",
        "Time from a request's arrival at the web server to its answer, by route class.",
    );
    for (class, l) in &latency {
        let class = escape(class);
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(l.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "sharedcare_http_request_duration_seconds_bucket{{route=\"{class}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "sharedcare_http_request_duration_seconds_bucket{{route=\"{class}\",le=\"+Inf\"}} {}",
            l.count
        );
        let _ = writeln!(
            out,
            "sharedcare_http_request_duration_seconds_sum{{route=\"{class}\"}} {}",
            l.sum
        );
        let _ = writeln!(
            out,
            "sharedcare_http_request_duration_seconds_count{{route=\"{class}\"}} {}",
            l.count
        );
    }
    let up = ops.is_some();
    header(
        &mut out,
        "sharedcare_database_readable",
        "gauge",
        "1 when the figures below could be read from the database, else 0.",
    );
    let _ = writeln!(out, "sharedcare_database_readable {}", u8::from(up));
    if let Some(ops) = ops {
        render_ops(&mut out, ops, now);
    }
    out
}

fn render_ops(out: &mut String, ops: &OpsFigures, now: DateTime<Utc>) {
    header(
        out,
        "sharedcare_import_messages_total",
        "counter",
        "Messages and rows imported and kept, by source (rate() gives messages per second).",
    );
    for s in &ops.sources {
        let _ = writeln!(
            out,
            "sharedcare_import_messages_total{{source=\"{}\"}} {}",
            escape(&s.code),
            s.messages_accepted
        );
    }
    header(
        out,
        "sharedcare_import_rejects_total",
        "counter",
        "Messages and rows rejected with a reason, by source.",
    );
    for s in &ops.sources {
        let _ = writeln!(
            out,
            "sharedcare_import_rejects_total{{source=\"{}\"}} {}",
            escape(&s.code),
            s.messages_rejected
        );
    }
    header(
        out,
        "sharedcare_feed_lag_seconds",
        "gauge",
        "Seconds since each source's last file finished importing (sources that have had one).",
    );
    for s in &ops.sources {
        let last = s
            .last_success
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        if let Some(last) = last {
            let lag = (now - last.with_timezone(&Utc)).num_milliseconds().max(0) as f64 / 1000.0;
            let _ = writeln!(
                out,
                "sharedcare_feed_lag_seconds{{source=\"{}\"}} {lag}",
                escape(&s.code)
            );
        }
    }
    header(
        out,
        "sharedcare_quarantined_files",
        "gauge",
        "Files in quarantine awaiting a decision.",
    );
    let _ = writeln!(
        out,
        "sharedcare_quarantined_files {}",
        ops.quarantined_files
    );
    header(
        out,
        "sharedcare_review_queue",
        "gauge",
        "Possible matches waiting for a person to decide.",
    );
    let _ = writeln!(out, "sharedcare_review_queue {}", ops.review_queue);
    let verified = ops
        .audit_last_verified
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    header(
        out,
        "sharedcare_audit_chain_last_verified_timestamp_seconds",
        "gauge",
        "When the audit_verify job last found the audit chain whole (absent until it has).",
    );
    if let Some(t) = verified {
        let _ = writeln!(
            out,
            "sharedcare_audit_chain_last_verified_timestamp_seconds {}",
            t.timestamp()
        );
    }
    render_backups(out, ops);
}

/// The backup job's and the restore drill's last outcomes.
fn render_backups(out: &mut String, ops: &OpsFigures) {
    let seconds = |t: Option<&str>| {
        t.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
    };
    header(
        out,
        "sharedcare_backup_last_success_timestamp_seconds",
        "gauge",
        "When the last backup that passed its checks was finished (absent until one has).",
    );
    if let Some(t) = seconds(ops.backup.as_ref().and_then(|b| b.last_ok.as_deref())) {
        let _ = writeln!(out, "sharedcare_backup_last_success_timestamp_seconds {t}");
    }
    header(
        out,
        "sharedcare_restore_drill_passed",
        "gauge",
        "1 when the last restore drill restored the newest backup and it passed its checks, 0 \
         when it failed (absent until a drill has run).",
    );
    if let Some(d) = &ops.restore_drill {
        let _ = writeln!(out, "sharedcare_restore_drill_passed {}", u8::from(d.ok));
    }
    header(
        out,
        "sharedcare_restore_drill_last_run_timestamp_seconds",
        "gauge",
        "When the last restore drill finished, passed or failed.",
    );
    if let Some(t) = seconds(ops.restore_drill.as_ref().map(|d| d.finished_at.as_str())) {
        let _ = writeln!(
            out,
            "sharedcare_restore_drill_last_run_timestamp_seconds {t}"
        );
    }
}

/// How far behind each replicated database's replica is, where that is known.
pub fn render_replication(lags: &[crate::replica_lag::ReplicaLag]) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "sharedcare_replication_lag_seconds",
        "gauge",
        "Seconds the Litestream replica is behind the database's last write, by database (file \
         replicas only).",
    );
    for l in lags {
        if let Some(s) = l.seconds {
            let _ = writeln!(
                out,
                "sharedcare_replication_lag_seconds{{database=\"{}\"}} {s}",
                escape(l.database)
            );
        }
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_classes_come_from_the_template_never_the_path() {
        assert_eq!(route_class(Some("/person/<id>/results")), "person");
        assert_eq!(route_class(Some("/")), "home");
        assert_eq!(route_class(Some("/fhir/Patient?<q..>")), "fhir");
        assert_eq!(route_class(None), "unmatched");
    }

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_request() {
        let r = Requests::default();
        r.observe("person", 200, Duration::from_millis(3));
        r.observe("person", 200, Duration::from_millis(30));
        r.observe("person", 403, Duration::from_secs(20));
        let text = render(&r, None, Utc::now());
        assert!(text.contains("sharedcare_http_requests_total{route=\"person\",status=\"200\"} 2"));
        assert!(text.contains("sharedcare_http_requests_total{route=\"person\",status=\"403\"} 1"));
        assert!(text.contains(
            "sharedcare_http_request_duration_seconds_bucket{route=\"person\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "sharedcare_http_request_duration_seconds_bucket{route=\"person\",le=\"0.05\"} 2"
        ));
        assert!(text.contains(
            "sharedcare_http_request_duration_seconds_bucket{route=\"person\",le=\"10\"} 2"
        ));
        assert!(text.contains(
            "sharedcare_http_request_duration_seconds_bucket{route=\"person\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("sharedcare_database_readable 0"));
    }

    #[test]
    fn replication_lag_is_written_only_where_it_is_known() {
        let lag = |database, seconds| crate::replica_lag::ReplicaLag {
            database,
            seconds,
            replica_newest: None,
            detail: String::new(),
        };
        let text =
            render_replication(&[lag("sharedcare", Some(42)), lag("sharedcare-audit", None)]);
        assert!(text.contains("sharedcare_replication_lag_seconds{database=\"sharedcare\"} 42\n"));
        assert!(!text.contains("database=\"sharedcare-audit\""));
        assert!(text.contains("# TYPE sharedcare_replication_lag_seconds gauge"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
