//! `standby worksheet`: the guide's backup and restoration worksheets, filled in from the
//! desired state, the saved observation and the journal. It observes nothing itself, so it
//! is as quick and as offline as reading three files.

use std::process::ExitCode;

use super::common::{self, Failure};
use crate::cli::{GlobalArgs, WorksheetArgs, WorksheetFormat};
use crate::observe::Observed;
use crate::report::worksheet as render;
use crate::state::Backend;
use crate::worksheet::build;

pub(super) fn run(global: &GlobalArgs, args: &WorksheetArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    let result = (|| -> Result<(), Failure> {
        let mut backend = common::open_state(global, &desired)?;
        let observed = observation(global, args, backend.as_mut())?;
        let journal = backend.journal().map_err(|e| Failure(e.to_string()))?;
        let now = args.now.unwrap_or_else(jiff::Timestamp::now);
        let mut sheet = build(&desired, observed.as_ref(), &journal, now);
        // The last 30 days of findings, for the history chart.
        sheet.history_since = now
            .checked_sub(jiff::SignedDuration::from_hours(30 * 24))
            .unwrap_or(now);
        sheet.history = backend
            .history(sheet.history_since)
            .map_err(|e| Failure(e.to_string()))?;
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

/// The chosen observation, or the last one saved in the state. Only a missing one is
/// forgiven: before the first `discover` the worksheet can still be printed, with every
/// backup unknown.
fn observation(
    global: &GlobalArgs,
    args: &WorksheetArgs,
    backend: &mut dyn Backend,
) -> Result<Option<Observed>, Failure> {
    if let Some(path) = &args.observed {
        return common::read_observed(path).map(Some);
    }
    let place = format!("the observation saved in {}", backend.place());
    let saved = match backend
        .last_observation()
        .map_err(|e| Failure(e.to_string()))?
    {
        Some((taken_at, json)) => {
            let mut observed = common::parse_observed(&json, &place)?;
            observed.taken_at = taken_at;
            Some(observed)
        }
        None => None,
    };
    if saved.is_none() && !global.quiet {
        eprintln!(
            "note: no observation saved in {}: backups and verifications are shown as \
             unknown; run `standby discover` first",
            backend.place()
        );
    }
    Ok(saved)
}
