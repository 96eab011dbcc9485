//! Log lines as text (the default) or as one JSON object per line, for a log shipper:
//! `[log] format = "json"` in config.toml, or `SHAREDCARE_LOG_FORMAT=json` (which wins).

use serde::Deserialize;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The environment variable that chooses the format over config.toml.
pub const FORMAT_VAR: &str = "SHAREDCARE_LOG_FORMAT";

static JSON: AtomicBool = AtomicBool::new(false);

/// The format from the environment, when it names one.
fn from_env() -> Option<LogFormat> {
    match std::env::var(FORMAT_VAR).ok()?.trim() {
        "json" => Some(LogFormat::Json),
        "text" => Some(LogFormat::Text),
        _ => None,
    }
}

/// Installs the process's logger (once, first thing in `main`): `RUST_LOG` filters as usual,
/// `warn` by default.
pub fn init() {
    if let Some(format) = from_env() {
        JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        // Rocket's own records carry request URIs (search terms: names, NHS numbers) from
        // `info`, and whole requests with session cookies and API tokens at `debug`. Errors
        // only, as `log_level = "critical"` in `app` intends (Rocket's setting does not apply
        // once this logger is installed); a RUST_LOG naming a module of Rocket's still wins.
        .filter_module("rocket", ::log::LevelFilter::Error)
        .format(|buf, record| {
            if JSON.load(Ordering::Relaxed) {
                writeln!(buf, "{}", json_line(record))
            } else {
                writeln!(
                    buf,
                    "[{} {:<5} {}] {}",
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    record.level(),
                    record.target(),
                    record.args()
                )
            }
        })
        .init();
}

/// Applies config.toml's `[log] format`, unless the environment chose already.
pub fn configure(format: LogFormat) {
    if from_env().is_none() {
        JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    }
}

fn json_line(record: &::log::Record<'_>) -> String {
    serde_json::json!({
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "level": record.level().as_str(),
        "target": record.target(),
        "message": record.args().to_string(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_json_log_line_is_one_object_whatever_the_message_holds() {
        let args = format_args!("line one\nline \"two\"");
        let record = ::log::Record::builder()
            .args(args)
            .level(::log::Level::Warn)
            .target("sharedcare::jobs")
            .build();
        let line = super::json_line(&record);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["target"], "sharedcare::jobs");
        assert_eq!(v["message"], "line one\nline \"two\"");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }
}
