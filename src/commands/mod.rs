//! One module per subcommand: each takes the parsed arguments, does the work through the
//! engine modules, and returns the process exit code.

mod apply;
mod audit;
mod common;
mod completions;
mod discover;
mod history;
mod init;
mod plan;
mod restore;
mod validate;
mod worksheet;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{Cli, ColorChoice, Command};

/// Whether to colour a stream, from `--color`, `NO_COLOR` and whether it is a terminal.
pub(crate) fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

pub(crate) fn stderr_color(choice: ColorChoice) -> bool {
    use_color(choice, stderr_is_terminal())
}

pub(crate) fn stdout_color(choice: ColorChoice) -> bool {
    use_color(choice, std::io::stdout().is_terminal())
}

pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

pub(crate) fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(args) => validate::run(&cli.global, &args),
        Command::Init(args) => init::run(&cli.global, &args),
        Command::Discover(args) => discover::run(&cli.global, &args),
        Command::Plan(args) => plan::run_plan(&cli.global, &args),
        Command::Check(args) => plan::run_check(&cli.global, &args),
        Command::Audit(args) => audit::run(&cli.global, &args),
        Command::Worksheet(args) => worksheet::run(&cli.global, &args),
        Command::Completions(args) => completions::run_completions(&args),
        Command::Man(args) => completions::run_man(&args),
        Command::Apply(args) => apply::run(&cli.global, &args),
        Command::ForceUnlock(args) => apply::force_unlock(&cli.global, &args),
        Command::Restore(args) => restore::run(&cli.global, &args),
        Command::History(args) => history::run(&cli.global, &args),
    }
}
