//! `standby apply` and `standby force-unlock`.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use jiff::Timestamp;

use super::common::{self, Failure};
use crate::apply::{self, Options, Outcome, Progress, Status};
use crate::cli::{ApplyArgs, ApplyFormat, ForceUnlockArgs, GlobalArgs, ObserveArgs};
use crate::desired::Desired;
use crate::io::meter::Meter;
use crate::plan::{Action, Plan, SavedPlan, Targets, plan};
use crate::report::apply::Run as ApplyRun;
use crate::report::layout::Terminal;
use crate::report::plan::{Report, table};
use crate::state::Backend;

/// Prints each action as it starts and ends, on stderr, and how a long one is getting on:
/// a live line per running action on a terminal, else a "still running" line every
/// `--progress-every`.
struct Lines {
    quiet: bool,
    /// The live lines, when stderr is a terminal.
    live: Option<MultiProgress>,
    bars: HashMap<String, ProgressBar>,
    every: Duration,
    /// Per running action, how long it had run when it last said so.
    said: HashMap<String, Duration>,
}

impl Lines {
    fn new(quiet: bool, every: Duration) -> Self {
        Self {
            quiet,
            live: (!quiet && super::stderr_is_terminal()).then(MultiProgress::new),
            bars: HashMap::new(),
            every,
            said: HashMap::new(),
        }
    }

    /// A line on stderr that does not tear the live lines.
    fn say(&self, line: &str) {
        match &self.live {
            Some(bars) => bars.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Progress for Lines {
    fn started(&mut self, action: &Action) {
        if self.quiet {
            return;
        }
        let line = format!("{} {} {} …", action.id, action.kind, action.address);
        self.say(&line);
        if let Some(live) = &self.live {
            let bar = live.add(ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                bar.set_style(style);
            }
            bar.set_message(line);
            self.bars.insert(action.id.clone(), bar);
        }
    }

    fn running(&mut self, action: &Action, meter: &Meter, elapsed: Duration) {
        if self.quiet {
            return;
        }
        let name = format!("{} {} {}", action.id, action.kind, action.address);
        let got = crate::report::apply::progress(meter.reading(), elapsed);
        if let Some(bar) = self.bars.get(&action.id) {
            bar.set_message(match got {
                Some(got) => format!("{name} {got}"),
                None => name,
            });
            bar.tick();
            return;
        }
        let said = self.said.get(&action.id).copied().unwrap_or_default();
        if !self.every.is_zero() && elapsed >= said + self.every {
            self.said.insert(action.id.clone(), elapsed);
            let got = got.map_or_else(String::new, |got| format!(": {got}"));
            eprintln!(
                "{name} still running{got} [{} elapsed]",
                crate::units::age(i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
            );
        }
    }

    fn finished(&mut self, action: &Action, outcome: &Outcome) {
        let took = format!("{:.1}s", outcome.duration.as_secs_f64());
        let line = match &outcome.status {
            Status::Ok => format!(
                "ok ({took}{})",
                outcome
                    .detail
                    .as_ref()
                    .map_or(String::new(), |d| format!(", {d}"))
            ),
            Status::Failed(message) => format!("FAILED after {took}: {message}"),
            Status::Skipped(reason) => format!("skipped: {reason}"),
            Status::Manual => return,
        };
        if let Some(bar) = self.bars.remove(&action.id) {
            bar.finish_and_clear();
        }
        self.said.remove(&action.id);
        if !self.quiet || !matches!(outcome.status, Status::Ok) {
            self.say(&format!(
                "{} {} {} {line}",
                action.id, action.kind, action.address
            ));
        }
        if let (Status::Failed(_), Some(output)) = (&outcome.status, &outcome.output) {
            for l in output.lines() {
                self.say(&format!("    | {l}"));
            }
        }
    }
}

fn read_saved(path: &std::path::Path) -> Result<SavedPlan, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
    let saved: SavedPlan = serde_json::from_str(&text).map_err(|e| {
        Failure(format!(
            "{}:{}:{}: not a saved plan: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if saved.format_version != "1" {
        return Err(Failure(format!(
            "{} has plan format {}; this standby reads format 1",
            path.display(),
            saved.format_version
        )));
    }
    Ok(saved)
}

/// Asks for `yes` on a terminal; refuses without one.
fn approve(count: usize) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure(
            "stdin is not a terminal: pass --auto-approve, or apply a saved plan".into(),
        ));
    }
    if count == 1 {
        print!("\nApply this action? Only 'yes' is accepted: ");
    } else {
        print!("\nApply these {count} actions? Only 'yes' is accepted: ");
    }
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Failure("apply cancelled".into()))
    }
}

fn observe_args(args: &ApplyArgs) -> ObserveArgs {
    ObserveArgs {
        verify: args.observe.verify,
        now: args.observe.now,
        sql_timeout: args.observe.sql_timeout,
    }
}

/// The actions to run: the saved plan's (refused if stale) or a fresh plan's.
fn actions(
    global: &GlobalArgs,
    desired: &Desired,
    args: &ApplyArgs,
    targets: &Targets,
    backend: &mut dyn Backend,
) -> Result<(Plan, Timestamp), Failure> {
    let observed = common::discover(global, desired, &observe_args(args), backend)?;
    if let Some(path) = &args.plan {
        let saved = read_saved(path)?;
        if let Some(why) = saved.staleness(desired, &observed) {
            return Err(Failure(format!(
                "saved plan is stale: {why} since {} was made; run `standby plan` again",
                path.display()
            )));
        }
        saved
            .check_dependencies()
            .map_err(|why| Failure(format!("{} is refused: {why}", path.display())))?;
        // The fingerprints cover the inputs, not the actions: derive the actions again
        // from those inputs and run only what they give.
        let derived = plan(desired, &observed, saved.now);
        if let Some(why) = saved.edited_action(&derived) {
            return Err(Failure(format!(
                "saved plan does not match what the desired state produces: {why}; {} was edited, run `standby plan` again",
                path.display()
            )));
        }
        let now = saved.now;
        let clock = args.observe.now.unwrap_or_else(Timestamp::now);
        // New backups are named after the plan's time: a plan from the future would name
        // them younger than they are.
        if now.as_second() > clock.as_second() + 300 {
            return Err(Failure(format!(
                "{} was planned for {now}, which is after now ({clock}); plan again",
                path.display()
            )));
        }
        let mut plan = saved.into_plan();
        plan.actions.retain(|a| targets.selects(&a.address));
        return Ok((plan, now));
    }
    let now = common::now(&args.observe);
    let ignore = common::ignore_rules(global)?;
    let plan = plan(desired, &observed, now).select(targets, &ignore);
    // The plan to approve; with --format json stdout is the run's result alone.
    match args.format {
        ApplyFormat::Table => print!(
            "{}",
            table(&plan, Report::Plan, super::stdout_terminal(global))
        ),
        ApplyFormat::Json => eprint!(
            "{}",
            table(&plan, Report::Plan, super::stderr_terminal(global))
        ),
    }
    if !plan.actions.iter().all(|a| a.manual) && !args.auto_approve {
        approve(plan.actions.iter().filter(|a| !a.manual).count())?;
    }
    Ok((plan, now))
}

pub(super) fn run(global: &GlobalArgs, args: &ApplyArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    let result = (|| -> Result<ExitCode, Failure> {
        let select = crate::cli::SelectArgs {
            observed: None,
            target: args.target.clone(),
            observe: observe_args(args),
        };
        let targets = common::targets(&select, &desired)?;
        let mut backend = common::open_state(global, &desired)?;
        let lock = backend
            .lock("apply", args.lock_timeout)
            .map_err(|e| Failure(e.to_string()))?;
        // Another state directory may drive the same stores: their own locks keep it out.
        let store_locks = apply::lock_stores(
            desired
                .sites
                .iter()
                .flat_map(|s| s.stores.iter().map(|store| store.path.value.as_path())),
            &lock.info.describe(),
            args.lock_timeout,
        )
        .map_err(Failure)?;
        let (plan, _planned_for) = actions(global, &desired, args, &targets, backend.as_mut())?;
        let mut catalog = backend.load_catalog().map_err(|e| Failure(e.to_string()))?;
        let options = Options {
            parallelism: args.parallelism,
            continue_on_error: args.continue_on_error,
            ignore_window: args.ignore_window,
            export_timeout: args.export_timeout,
            sql_command_timeout: args.sql_command_timeout,
            // The window and the catalog go by the clock, not by when the plan was made.
            now: args.observe.now.unwrap_or_else(Timestamp::now),
        };
        // From here on SIGTERM and SIGINT wind the run down in order (see apply::interrupt).
        apply::interrupt::install(|| {})
            .map_err(|e| Failure(format!("cannot listen for SIGTERM and SIGINT: {e}")))?;
        apply::interrupt::executing();
        let outcomes = apply::apply(
            &desired,
            &plan.actions,
            &mut catalog,
            backend.as_mut(),
            &lock.info.id,
            &options,
            &mut Lines::new(global.quiet, args.progress_every),
        );
        backend
            .save_catalog(&mut catalog)
            .map_err(|e| Failure(e.to_string()))?;
        drop(store_locks);
        drop(lock);
        if apply::interrupt::requested() {
            let run = ApplyRun::new(&plan.actions, &outcomes, None);
            emit_run(
                &run,
                args.format,
                options.now,
                super::stdout_terminal(global),
            )?;
            return Err(Failure(
                "apply was interrupted (SIGTERM or SIGINT): no further action was started, the lock is released".into(),
            ));
        }
        // What remains, from a fresh look.
        let observed = common::discover(
            global,
            &desired,
            &ObserveArgs {
                verify: crate::observe::VerifyMode::Changed,
                now: args.observe.now,
                sql_timeout: args.observe.sql_timeout,
            },
            backend.as_mut(),
        )?;
        let ignore = common::ignore_rules(global)?;
        // Judged as of now, after the run: a test restore it journaled a second ago is not
        // in the future.
        let after_now = args.observe.now.unwrap_or_else(Timestamp::now);
        let after = crate::plan::plan(&desired, &observed, after_now).select(&targets, &ignore);
        common::record_findings(
            backend.as_mut(),
            "check",
            &select,
            after_now,
            &after.findings,
        )?;
        let run = ApplyRun::new(&plan.actions, &outcomes, Some(&after));
        emit_run(
            &run,
            args.format,
            options.now,
            super::stdout_terminal(global),
        )?;
        Ok(ExitCode::from(run.verdict.exit_code()))
    })();
    result.unwrap_or_else(Failure::report)
}

pub(super) fn force_unlock(global: &GlobalArgs, args: &ForceUnlockArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    let unlocked = common::open_state(global, &desired).and_then(|mut backend| {
        backend
            .force_unlock(&args.id)
            .map_err(|e| Failure(e.to_string()))
    });
    match unlocked {
        Ok(holder) => {
            println!("removed {holder}");
            ExitCode::SUCCESS
        }
        Err(failure) => failure.report(),
    }
}

/// Prints the run's result in the chosen format.
fn emit_run(
    run: &ApplyRun<'_>,
    format: ApplyFormat,
    now: Timestamp,
    terminal: Terminal,
) -> Result<(), Failure> {
    let text = match format {
        ApplyFormat::Table => run.table(terminal),
        ApplyFormat::Json => run.json(now).map_err(|e| Failure(e.to_string()))?,
    };
    common::emit(None, &text)
}
