//! `sharedcare lab-codes show`: the lab code table in force (see `record::results::codes`).

use super::text::say;
use super::Ctx;
use crate::error::Result;
use crate::record::results::LabCodes;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum LabCodesCommand {
    /// Check the table in force (the shipped one or the file named by `[results] lab_codes`)
    /// and say how many tests and panels it maps.
    Show {
        /// Print the shipped table itself, to copy and edit.
        #[arg(long)]
        shipped: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: LabCodesCommand) -> Result<u8> {
    let LabCodesCommand::Show { shipped } = cmd;
    if shipped {
        print!("{}", super::text::inert(LabCodes::shipped_text()));
        return Ok(0);
    }
    let file = ctx.config.results.lab_codes.as_deref();
    let table = LabCodes::load(file)?;
    let origin = file.map_or("the shipped table".to_owned(), |p| p.display().to_string());
    say!(
        "{} tests in {} panels, from {}",
        table.test_count(),
        table.panel_count(),
        origin
    );
    Ok(0)
}
