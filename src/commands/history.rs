//! `standby history`: the findings recorded by past runs, when each appeared and when it
//! was resolved.

use std::process::ExitCode;

use super::common::{self, Failure};
use crate::address::Address;
use crate::cli::{GlobalArgs, HistoryArgs, HistoryFormat};
use crate::plan::Targets;
use crate::report::history as render;

pub(super) fn run(global: &GlobalArgs, args: &HistoryArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    let result = (|| -> Result<(), Failure> {
        let targets = Targets::new(args.address.as_slice())?;
        let now = args.now.unwrap_or_else(jiff::Timestamp::now);
        let since = now
            .checked_sub(
                jiff::SignedDuration::try_from(args.since).map_err(|e| Failure(e.to_string()))?,
            )
            .map_err(|e| Failure(format!("--since reaches before the calendar: {e}")))?;
        let mut backend = common::open_state(global, &desired)?;
        let mut spans = backend.history(since).map_err(|e| Failure(e.to_string()))?;
        spans.retain(|s| Address::parse(&s.address).is_ok_and(|a| targets.selects(&a)));
        let text = match args.format {
            HistoryFormat::Table => render::table(&spans, since, now),
            HistoryFormat::Json => {
                render::json(&spans, since, now).map_err(|e| Failure(e.to_string()))?
            }
        };
        common::emit(None, &text)
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
