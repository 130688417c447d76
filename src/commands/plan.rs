//! `standby plan` and `standby check`: findings (and actions) for the desired state against
//! an observation.

use std::process::ExitCode;

use super::common::{self, Failure};
use crate::cli::{CheckArgs, GlobalArgs, PlanArgs, ReportFormat, SelectArgs};
use crate::plan::{Plan, plan};
use crate::report::plan::{self as render, Report};

struct Planned {
    plan: Plan,
    now: jiff::Timestamp,
    observed_at: jiff::Timestamp,
}

fn make(global: &GlobalArgs, select: &SelectArgs) -> Result<Planned, ExitCode> {
    let desired = common::desired(global)?;
    let prepared = (|| -> Result<Planned, Failure> {
        let ignore = common::ignore_rules(global)?;
        let targets = common::targets(select)?;
        let observed = common::observation(global, &desired, select)?;
        let now = common::now(&select.observe);
        let plan = plan(&desired, &observed, now).select(&targets, &ignore);
        Ok(Planned {
            plan,
            now,
            observed_at: observed.taken_at,
        })
    })();
    prepared.map_err(Failure::report)
}

fn render(
    planned: &Planned,
    report: Report,
    format: ReportFormat,
    color: bool,
) -> Result<String, Failure> {
    Ok(match format {
        ReportFormat::Table => render::table(&planned.plan, report, color),
        ReportFormat::Json => render::json(&planned.plan, report, planned.now, planned.observed_at)
            .map_err(|e| Failure(e.to_string()))?,
        ReportFormat::Markdown => render::markdown(&planned.plan, report),
    })
}

pub(super) fn run_plan(global: &GlobalArgs, args: &PlanArgs) -> ExitCode {
    let planned = match make(global, &args.select) {
        Ok(planned) => planned,
        Err(code) => return code,
    };
    let color = super::stdout_color(global.color);
    if let Err(failure) = render(&planned, Report::Plan, args.format, color)
        .and_then(|text| common::emit(None, &text))
    {
        return failure.report();
    }
    let changes = planned.plan.has_drift() || !planned.plan.actions.is_empty();
    if args.detailed_exitcode && changes {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

pub(super) fn run_check(global: &GlobalArgs, args: &CheckArgs) -> ExitCode {
    let planned = match make(global, &args.select) {
        Ok(planned) => planned,
        Err(code) => return code,
    };
    let color = args.out.is_none() && super::stdout_color(global.color);
    if let Err(failure) = render(&planned, Report::Check, args.format, color)
        .and_then(|text| common::emit(args.out.as_ref(), &text))
    {
        return failure.report();
    }
    if planned.plan.has_drift() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
