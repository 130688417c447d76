//! `standby` keeps a multi-site server deployment recoverable: it reads the desired
//! protected state (KDL), observes reality, plans what is wrong and applies fixes.
//!
//! Data flows `desired` → (`observe`) → `plan` → `apply`/`report`; see SPEC §1.

pub mod address;
pub mod apply;
pub mod audit;
pub mod cli;
mod commands;
pub mod desired;
pub mod io;
pub mod layout;
pub mod observe;
pub mod plan;
pub mod platform;
pub mod profile;
pub mod report;
pub mod state;
pub mod units;
pub mod worksheet;

use std::process::ExitCode;

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = cli::Cli::parse_args();
    commands::dispatch(cli)
}
