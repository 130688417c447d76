//! `standby completions SHELL` and `standby man`: generated from the clap definition, so
//! they cannot drift from the command line they describe.

use std::process::ExitCode;

use clap::CommandFactory as _;

use super::common::{self, Failure};
use crate::cli::{Cli, CompletionsArgs, ManArgs, Shell};

pub(super) fn run_completions(args: &CompletionsArgs) -> ExitCode {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    // Generated into memory: clap_complete panics on a failed write, a closed pipe included.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "standby", &mut script);
    match common::emit(None, &String::from_utf8_lossy(&script)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

pub(super) fn run_man(args: &ManArgs) -> ExitCode {
    let command = Cli::command();
    let written = if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(command, dir))
            .map_err(|e| {
                Failure(format!(
                    "cannot write manual pages to {}: {e}",
                    dir.display()
                ))
            })
    } else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Failure(format!("cannot render the manual page: {e}")))
            .and_then(|()| common::emit(None, &String::from_utf8_lossy(&page)))
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
