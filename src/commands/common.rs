//! Steps several commands share: loading the desired state, the ignore file and an
//! observation, and writing reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;

use crate::cli::{GlobalArgs, ObserveArgs, SelectArgs};
use crate::desired::StateDecl;
use crate::desired::{Desired, load_dir};
use crate::observe::{self, Observed, Progress};
use crate::plan::Finding;
use crate::plan::{IgnoreRules, Targets};
use crate::report::diagnostics::render_human;
use crate::state::{self, Backend, FindingSeen, Location};

/// A command that cannot go on: what to print and how to exit.
pub(crate) struct Failure(pub String);

impl Failure {
    pub(crate) fn report(self) -> ExitCode {
        eprintln!("error: {}", self.0);
        ExitCode::FAILURE
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self(message)
    }
}

/// Loads and validates the desired state; on errors prints them and fails.
pub(crate) fn desired(global: &GlobalArgs) -> Result<Desired, ExitCode> {
    let loaded = crate::profile::apply(load_dir(&global.desired));
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    match loaded.desired {
        Some(desired) if errors.is_empty() => Ok(desired),
        _ => {
            eprint!(
                "{}",
                render_human(&loaded.sources, &errors, super::stderr_color(global.color))
            );
            eprintln!(
                "error: {} is invalid ({} error{}); run `standby validate`",
                global.desired.display(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            Err(ExitCode::FAILURE)
        }
    }
}

/// `desired/.standbyignore`, when there is one.
pub(crate) fn ignore_rules(global: &GlobalArgs) -> Result<IgnoreRules, Failure> {
    let path = global.desired.join(".standbyignore");
    match std::fs::read_to_string(&path) {
        Ok(text) => IgnoreRules::parse(&path.display().to_string(), &text)
            .map_err(|e| Failure(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IgnoreRules::default()),
        Err(e) => Err(Failure(format!("cannot read {}: {e}", path.display()))),
    }
}

/// The `--target` globs, each of which must select something `desired` declares.
pub(crate) fn targets(select: &SelectArgs, desired: &Desired) -> Result<Targets, Failure> {
    let targets = Targets::new(&select.target)?;
    let declared: Vec<_> = desired.addresses().into_iter().map(|(a, _)| a).collect();
    targets.check_against(&declared)?;
    Ok(targets)
}

/// Reads a snapshot written by `discover --out`.
pub(crate) fn read_observed(path: &Path) -> Result<Observed, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
    parse_observed(&text, &path.display().to_string())
}

/// An observation from its JSON document; `place` names where it came from in errors.
pub(crate) fn parse_observed(text: &str, place: &str) -> Result<Observed, Failure> {
    let observed: Observed = serde_json::from_str(text).map_err(|e| {
        Failure(format!(
            "{place}:{}:{}: not an observation: {e}",
            e.line(),
            e.column()
        ))
    })?;
    if observed.format_version != observe::FORMAT_VERSION {
        return Err(Failure(format!(
            "{place} has observation format {}; this standby reads format {}",
            observed.format_version,
            observe::FORMAT_VERSION
        )));
    }
    Ok(observed)
}

pub(crate) fn now(args: &ObserveArgs) -> Timestamp {
    args.now.unwrap_or_else(Timestamp::now)
}

/// Where the desired state says state lives; `--state DIR` overrides a local path.
pub(crate) fn state_location(global: &GlobalArgs, desired: &Desired) -> Location {
    match (&desired.state, &global.state) {
        (Some(StateDecl::Postgres { url_env }), _) => Location::Postgres {
            url_env: url_env.clone(),
        },
        (Some(StateDecl::Local { .. }) | None, Some(dir)) => Location::Local { dir: dir.clone() },
        (Some(StateDecl::Local { path }), None) => Location::Local { dir: path.clone() },
        (None, None) => Location::Local {
            dir: global.state_dir(),
        },
    }
}

/// Opens the state the desired state declares (importing an old JSON state directory the
/// first time).
pub(crate) fn open_state(
    global: &GlobalArgs,
    desired: &Desired,
) -> Result<Box<dyn Backend>, Failure> {
    let location = state_location(global, desired);
    let import_from = match &location {
        Location::Local { dir } => dir.clone(),
        Location::Postgres { .. } => global.state_dir(),
    };
    state::open(&location, &import_from, global.quiet).map_err(|e| Failure(e.to_string()))
}

/// Observes live, with the state's catalog as hash cache (what changed is saved back).
pub(crate) fn discover(
    global: &GlobalArgs,
    desired: &Desired,
    args: &ObserveArgs,
    backend: &mut dyn Backend,
) -> Result<Observed, Failure> {
    // Listing needs no catalog, and on a large store takes about as long as loading it:
    // do both at once.
    let timeouts = crate::io::sql::Timeouts {
        connect: args.sql_timeout,
        command: args.sql_timeout,
    };
    let ((catalog, mut observed), sql) = rayon::join(
        || {
            rayon::join(
                || {
                    let catalog = backend.load_catalog()?;
                    Ok((catalog, backend.restore_test_lines()?))
                },
                || observe::list(desired, now(args)),
            )
        },
        || observe::sql::observe(desired, timeouts),
    );
    observed.sql = sql;
    let (mut catalog, restore_tests) =
        catalog.map_err(|e: state::StateError| Failure(e.to_string()))?;
    observed.restore_tests = observe::restore_tests(restore_tests);
    let progress = Progress::new(super::stderr_is_terminal() && !global.quiet);
    observe::hash_content(&mut observed, &mut catalog, args.verify, &progress);
    // Only what changed is written: re-discovery of unchanged stores writes nothing.
    backend
        .save_catalog(&mut catalog)
        .map_err(|e| Failure(e.to_string()))?;
    Ok(observed)
}

/// The observation a plan or check works from: the saved one, or a live one (then the
/// state is returned too, to record the run's findings in).
pub(crate) fn observation(
    global: &GlobalArgs,
    desired: &Desired,
    select: &SelectArgs,
) -> Result<(Observed, Option<Box<dyn Backend>>), Failure> {
    if let Some(path) = &select.observed {
        return Ok((read_observed(path)?, None));
    }
    let mut backend = open_state(global, desired)?;
    let observed = discover(global, desired, &select.observe, backend.as_mut())?;
    Ok((observed, Some(backend)))
}

/// Records the findings of a complete run in the state's history. A run narrowed by
/// `--target` saw only part of the deployment, so it records nothing: what it did not look
/// at is not resolved.
pub(crate) fn record_findings(
    backend: &mut dyn Backend,
    source: &str,
    select: &SelectArgs,
    now: Timestamp,
    findings: &[Finding],
) -> Result<(), Failure> {
    if !select.target.is_empty() {
        return Ok(());
    }
    let seen: Vec<FindingSeen> = findings
        .iter()
        .map(|f| FindingSeen {
            address: f.address.to_string(),
            code: f.code.as_str().to_owned(),
            severity: f.severity.as_str().to_owned(),
            message: f.message.clone(),
        })
        .collect();
    backend
        .record_findings(source, now, &seen)
        .map_err(|e| Failure(e.to_string()))
}

/// Writes a report to `out` atomically, or to stdout.
pub(crate) fn emit(out: Option<&PathBuf>, text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    if let Some(path) = out {
        return crate::io::atomic::write(path, text.as_bytes())
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())));
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure(format!("cannot write to stdout: {e}")))
}
