//! `standby audit`: standby-site parity for the desired state against an observation.

use std::process::ExitCode;

use super::common::{self, Failure};
use crate::audit::audit;
use crate::cli::{AuditArgs, GlobalArgs, ReportFormat};
use crate::observe::{self, Observed};
use crate::report::audit as render;

pub(super) fn run(global: &GlobalArgs, args: &AuditArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    let result = (|| -> Result<ExitCode, Failure> {
        let ignore = common::ignore_rules(global)?;
        let targets = common::targets(&args.select, &desired)?;
        let (observed, backend): (Observed, _) = if let Some(path) = &args.select.observed {
            (common::read_observed(path)?, None)
        } else {
            let mut backend = common::open_state(global, &desired)?;
            let mut observed =
                common::discover(global, &desired, &args.select.observe, backend.as_mut())?;
            observe::observe_standby(&desired, &mut observed);
            (observed, Some(backend))
        };
        let now = common::now(&args.select.observe);
        let audit = audit(&desired, &observed, now).select(&targets, &ignore);
        if let Some(mut backend) = backend {
            common::record_findings(
                backend.as_mut(),
                "audit",
                &args.select,
                now,
                &audit.findings,
            )?;
        }
        let text = match args.format {
            ReportFormat::Table => render::table(&audit, super::stdout_terminal(global)),
            ReportFormat::Json => {
                render::json(&audit, now, observed.taken_at).map_err(|e| Failure(e.to_string()))?
            }
            ReportFormat::Markdown => render::markdown(&audit),
        };
        common::emit(None, &text)?;
        Ok(if audit.has_drift() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        })
    })();
    result.unwrap_or_else(Failure::report)
}
