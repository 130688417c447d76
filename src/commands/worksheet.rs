//! `standby worksheet`: the guide's backup and restoration worksheets, filled in from the
//! desired state, the saved observation and the journal. It observes nothing itself, so it
//! is as quick and as offline as reading three files.

use std::process::ExitCode;

use super::common::{self, Failure};
use crate::cli::{GlobalArgs, WorksheetArgs, WorksheetFormat};
use crate::observe::Observed;
use crate::report::worksheet as render;
use crate::state::{self, journal};
use crate::worksheet::build;

pub(super) fn run(global: &GlobalArgs, args: &WorksheetArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    let result = (|| -> Result<(), Failure> {
        let observed = observation(global, args)?;
        let journal = journal::read(&global.state).map_err(|e| {
            Failure(format!(
                "cannot read {}: {e}",
                global.state.join("journal.jsonl").display()
            ))
        })?;
        let now = args.now.unwrap_or_else(jiff::Timestamp::now);
        let sheet = build(&desired, observed.as_ref(), &journal, now);
        let text = match args.format {
            WorksheetFormat::Markdown => render::markdown(&sheet),
            WorksheetFormat::Html => render::html(&sheet),
        };
        common::emit(args.out.as_ref(), &text)
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// The chosen observation, or the state directory's. Only a missing default is forgiven:
/// before the first `discover` the worksheet can still be printed, with every backup unknown.
fn observation(global: &GlobalArgs, args: &WorksheetArgs) -> Result<Option<Observed>, Failure> {
    if let Some(path) = &args.observed {
        return common::read_observed(path).map(Some);
    }
    let path = state::observed_path(&global.state);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !global.quiet {
                eprintln!(
                    "note: no observation at {}: backups and verifications are shown as \
                     unknown; run `standby discover` first",
                    path.display()
                );
            }
            Ok(None)
        }
        _ => common::read_observed(&path).map(Some),
    }
}
