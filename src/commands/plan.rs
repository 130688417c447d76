//! `standby plan` and `standby check`: findings (and actions) for the desired state against
//! an observation.

use std::process::ExitCode;

use super::common::{self, Failure};
use crate::cli::{CheckArgs, CheckFormat, GlobalArgs, PlanArgs, ReportFormat, SelectArgs};
use crate::desired::Desired;
use crate::observe::Observed;
use crate::plan::{Plan, SavedPlan, plan};
use crate::report::layout::Terminal;
use crate::report::nagios::{self, Status};
use crate::report::plan::{self as render, Report};
use crate::report::{junit, prometheus};

pub(super) struct Planned {
    pub(super) plan: Plan,
    pub(super) now: jiff::Timestamp,
    pub(super) observed_at: jiff::Timestamp,
    pub(super) desired: Desired,
    pub(super) observed: Observed,
}

/// Why there is no plan. It has been reported on stderr already; `reason` is its one-line
/// summary for the outputs that must say it themselves (nagios, junit).
pub(super) struct Unplanned {
    pub(super) reason: String,
}

impl From<Unplanned> for ExitCode {
    fn from(_: Unplanned) -> Self {
        ExitCode::FAILURE
    }
}

pub(super) fn make(global: &GlobalArgs, select: &SelectArgs) -> Result<Planned, Unplanned> {
    let desired = common::desired(global).map_err(|_| Unplanned {
        reason: format!(
            "the desired state in {} is invalid; run `standby validate`",
            global.desired.display()
        ),
    })?;
    let prepared = (|| -> Result<Planned, Failure> {
        let ignore = common::ignore_rules(global)?;
        let targets = common::targets(select, &desired)?;
        let (observed, backend) = common::observation(global, &desired, select)?;
        let now = common::now(&select.observe);
        let plan = plan(&desired, &observed, now).select(&targets, &ignore);
        if let Some(mut backend) = backend {
            common::record_findings(backend.as_mut(), "check", select, now, &plan.findings)?;
        }
        Ok(Planned {
            plan,
            now,
            observed_at: observed.taken_at,
            desired: desired.clone(),
            observed,
        })
    })();
    prepared.map_err(|failure| {
        let reason = failure.0.clone();
        failure.report();
        Unplanned { reason }
    })
}

fn render(
    planned: &Planned,
    report: Report,
    format: ReportFormat,
    terminal: Terminal,
) -> Result<String, Failure> {
    Ok(match format {
        ReportFormat::Table => render::table(&planned.plan, report, terminal),
        ReportFormat::Json => render::json(&planned.plan, report, planned.now, planned.observed_at)
            .map_err(|e| Failure(e.to_string()))?,
        ReportFormat::Markdown => render::markdown(&planned.plan, report),
    })
}

pub(super) fn run_plan(global: &GlobalArgs, args: &PlanArgs) -> ExitCode {
    let planned = match make(global, &args.select) {
        Ok(planned) => planned,
        Err(unplanned) => return unplanned.into(),
    };
    if let Some(path) = &args.out {
        let saved = SavedPlan::new(
            &planned.plan,
            &planned.desired,
            &planned.observed,
            planned.now,
            jiff::Timestamp::now(),
        );
        let written = serde_json::to_vec_pretty(&saved)
            .map_err(|e| Failure(e.to_string()))
            .and_then(|bytes| {
                crate::io::atomic::write(path, &bytes)
                    .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
            });
        if let Err(failure) = written {
            return failure.report();
        }
        if !global.quiet {
            eprintln!(
                "saved the plan to {}; apply it with: {}",
                path.display(),
                apply_command(global, path)
            );
        }
    }
    if let Err(failure) = render(
        &planned,
        Report::Plan,
        args.format,
        super::stdout_terminal(global),
    )
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

/// The command that applies a saved plan, with the global options it needs to find the same
/// desired state and state directory.
fn apply_command(global: &GlobalArgs, path: &std::path::Path) -> String {
    let quote = |p: &std::path::Path| {
        let text = p.display().to_string();
        if text.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
            format!("'{}'", text.replace('\'', r"'\''"))
        } else {
            text
        }
    };
    let mut command = "standby".to_owned();
    if global.desired != std::path::Path::new("desired") {
        command = format!("{command} --desired {}", quote(&global.desired));
    }
    if let Some(state) = &global.state {
        command = format!("{command} --state {}", quote(state));
    }
    format!("{command} apply {}", quote(path))
}

pub(super) fn run_check(global: &GlobalArgs, args: &CheckArgs) -> ExitCode {
    let planned = match make(global, &args.select) {
        Ok(planned) => planned,
        Err(unplanned) => return cannot_check(args, &unplanned.reason),
    };
    // A report written to a file is neither coloured nor wrapped.
    let terminal = if args.out.is_none() {
        super::stdout_terminal(global)
    } else {
        Terminal::default()
    };
    if let Err(failure) = check_report(&planned, args.format, terminal)
        .and_then(|text| common::emit(args.out.as_ref(), &text))
    {
        let reason = failure.0.clone();
        failure.report();
        return cannot_check(args, &reason);
    }
    let plan = &planned.plan;
    if args.format == CheckFormat::Nagios {
        ExitCode::from(Status::of(plan).exit_code())
    } else if plan.has_drift() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn check_report(
    planned: &Planned,
    format: CheckFormat,
    terminal: Terminal,
) -> Result<String, Failure> {
    let (plan, now, observed_at) = (&planned.plan, planned.now, planned.observed_at);
    let uncoloured = Terminal::default();
    Ok(match format {
        CheckFormat::Table => render(planned, Report::Check, ReportFormat::Table, terminal)?,
        CheckFormat::Json => render(planned, Report::Check, ReportFormat::Json, uncoloured)?,
        CheckFormat::Markdown => {
            render(planned, Report::Check, ReportFormat::Markdown, uncoloured)?
        }
        CheckFormat::Junit => junit::junit(plan, now, observed_at),
        CheckFormat::Nagios => nagios::nagios(plan),
        CheckFormat::Prometheus => prometheus::prometheus(plan, now, observed_at),
    })
}

/// Check could not run (the reason is on stderr already). The formats machines read still
/// say so in their own terms: nagios UNKNOWN (exit 3), a `JUnit` error, `standby_check_success
/// 0`; the others only exit 1.
fn cannot_check(args: &CheckArgs, reason: &str) -> ExitCode {
    let now = common::now(&args.select.observe);
    let (text, code) = match args.format {
        CheckFormat::Nagios => (
            nagios::unknown(reason),
            ExitCode::from(Status::Unknown.exit_code()),
        ),
        CheckFormat::Junit => (junit::junit_error(reason, now), ExitCode::FAILURE),
        CheckFormat::Prometheus => (prometheus::prometheus_failed(now), ExitCode::FAILURE),
        CheckFormat::Table | CheckFormat::Json | CheckFormat::Markdown => {
            return ExitCode::FAILURE;
        }
    };
    if let Err(failure) = common::emit(args.out.as_ref(), &text) {
        failure.report();
    }
    code
}
