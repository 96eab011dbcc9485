//! The `sharedcare` command.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // First, before anything is created: whatever this process or its libraries make (SQLite
    // makes the -wal and -shm files itself) is private to the service account.
    sharedcare::data_dir::restrict_umask();
    // Text log lines, or JSON with SHAREDCARE_LOG_FORMAT=json or `[log] format = "json"`.
    sharedcare::ops::log::init();
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
