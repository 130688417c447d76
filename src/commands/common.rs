//! Steps several commands share: loading the desired state, the ignore file and an
//! observation, and writing reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;

use crate::cli::{GlobalArgs, ObserveArgs, SelectArgs};
use crate::desired::{Desired, load_dir};
use crate::observe::{self, Observed, Progress};
use crate::plan::{IgnoreRules, Targets};
use crate::report::diagnostics::render_human;
use crate::state::{self, catalog::Catalog};

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
                "error: {} is invalid ({} errors); run `standby validate`",
                global.desired.display(),
                errors.len()
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

pub(crate) fn targets(select: &SelectArgs) -> Result<Targets, Failure> {
    Ok(Targets::new(&select.target)?)
}

/// Reads a snapshot written by `discover`.
pub(crate) fn read_observed(path: &Path) -> Result<Observed, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
    let observed: Observed = serde_json::from_str(&text).map_err(|e| {
        Failure(format!(
            "{}:{}:{}: not an observation: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if observed.format_version != observe::FORMAT_VERSION {
        return Err(Failure(format!(
            "{} has observation format {}; this standby reads format {}",
            path.display(),
            observed.format_version,
            observe::FORMAT_VERSION
        )));
    }
    Ok(observed)
}

pub(crate) fn now(args: &ObserveArgs) -> Timestamp {
    args.now.unwrap_or_else(Timestamp::now)
}

/// Observes live, with the catalog of the state directory as hash cache (saved back).
pub(crate) fn discover(
    global: &GlobalArgs,
    desired: &Desired,
    args: &ObserveArgs,
) -> Result<Observed, Failure> {
    let catalog_path = state::catalog_path(&global.state);
    // Listing needs no catalog, and on a large store takes about as long as loading it:
    // do both at once.
    let timeouts = crate::io::sql::Timeouts {
        connect: args.sql_timeout,
        command: args.sql_timeout,
    };
    let ((catalog, mut observed), sql) = rayon::join(
        || {
            rayon::join(
                || Catalog::load(&catalog_path),
                || observe::list(desired, now(args)),
            )
        },
        || observe::sql::observe(desired, timeouts),
    );
    observed.sql = sql;
    observed.restore_tests = observe::restore_tests(&global.state);
    let mut catalog = catalog.map_err(|e| Failure(e.to_string()))?;
    let progress = Progress::new(super::stderr_is_terminal() && !global.quiet);
    observe::hash_content(&mut observed, &mut catalog, args.verify, &progress);
    // Re-discovery of unchanged stores leaves the catalog as it was: rewriting it would be
    // most of the run's work.
    if catalog.is_changed() {
        catalog
            .save(&catalog_path)
            .map_err(|e| Failure(e.to_string()))?;
    }
    Ok(observed)
}

/// The observation a plan or check works from: the saved one, or a live one.
pub(crate) fn observation(
    global: &GlobalArgs,
    desired: &Desired,
    select: &SelectArgs,
) -> Result<Observed, Failure> {
    match &select.observed {
        Some(path) => read_observed(path),
        None => discover(global, desired, &select.observe),
    }
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
