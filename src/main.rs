//! The `sharedcare` command.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // First, before anything is created: whatever this process or its libraries make (SQLite
    // makes the -wal and -shm files itself) is private to the service account.
    sharedcare::data_dir::restrict_umask();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        // Rocket's own records carry request URIs (search terms: names, NHS numbers) from
        // `info`, and whole requests with session cookies and API tokens at `debug`. Errors
        // only, as `log_level = "critical"` in `app` intends (Rocket's setting does not apply
        // once this logger is installed); a RUST_LOG naming a module of Rocket's still wins.
        .filter_module("rocket", log::LevelFilter::Error)
        .init();
    let cli = sharedcare::cli::Cli::parse();
    match sharedcare::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // An error can quote what a feed or the operator sent: shown, never obeyed.
            eprintln!("error: {}", sharedcare::cli::text::inert(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
