//! The executor of `apply`: runs a plan's actions in dependency order, independent ones in
//! parallel, each crash-safe and journaled; stops scheduling after a failure unless told to
//! go on. Never writes outside a declared store root.

mod export;
mod guard;
pub mod interrupt;
mod prune;
mod snapshot;
mod sql;
mod store_lock;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use jiff::Timestamp;

pub use guard::Roots;
pub use store_lock::{StoreLocks, lock_stores};

use crate::desired::{Choice, DatabaseBackupKind, Desired, ItemKind};
use crate::io::hash;
use crate::io::meter::{self, Meter};
use crate::io::{copy, handle};
use crate::layout::Layout;
use crate::observe::Selection;
use crate::plan::{Action, ActionKind, Operation};
use crate::state::Backend;
use crate::state::catalog::{Catalog, CatalogEntry};
use crate::state::journal::JournalLine;

#[derive(Debug, Clone)]
pub struct Options {
    pub parallelism: usize,
    pub continue_on_error: bool,
    pub ignore_window: bool,
    pub export_timeout: Duration,
    /// The longest silence from SQL Server during a BACKUP, RESTORE or DBCC CHECKDB.
    pub sql_command_timeout: Duration,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed(String),
    Skipped(String),
    /// A manual action: listed for a person, never run.
    Manual,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub status: Status,
    pub duration: Duration,
    /// What the action did, for the report ("4.2 MiB copied", "12 files, 11 linked").
    pub detail: Option<String>,
    pub sha256: Option<String>,
    pub output: Option<String>,
    /// Files written or verified, for the catalog.
    catalog: Vec<(std::path::PathBuf, String)>,
    /// A snapshot written, for the catalog: its directory, how many files and bytes it
    /// holds (its manifest's hash is `sha256`).
    snapshot: Option<(PathBuf, u64, u64)>,
}

impl Outcome {
    fn new(id: &str, status: Status) -> Self {
        Self {
            id: id.to_owned(),
            status,
            duration: Duration::ZERO,
            detail: None,
            sha256: None,
            output: None,
            catalog: Vec::new(),
            snapshot: None,
        }
    }
}

/// Heavy actions wait for the backup window (SPEC §2 `backup-window`). A log backup (and
/// its `RESTORE VERIFYONLY`) is small and only useful on time, so it runs at any hour.
fn is_heavy(action: &Action) -> bool {
    let any_hour = matches!(
        action.kind,
        ActionKind::BackupDatabase | ActionKind::VerifyBackup
    ) && DatabaseBackupKind::ALL.iter().any(|(name, kind)| {
        kind.runs_any_hour() && action.address.as_str().ends_with(&format!("/{name}"))
    });
    !any_hour
        && matches!(
            action.kind,
            ActionKind::BackupDatabase
                | ActionKind::CopyBackup
                | ActionKind::SnapshotFileset
                | ActionKind::ExportSettings
                | ActionKind::VerifyBackup
                | ActionKind::RestoreTest
        )
}

/// Whether `now` falls inside the deployment's backup window (always, without one).
pub fn in_window(desired: &Desired, now: Timestamp) -> bool {
    let Some(window) = &desired.deployment.backup_window else {
        return true;
    };
    let minute = u16::try_from(now.as_second().rem_euclid(86_400) / 60).unwrap_or(0);
    let (start, end) = (window.start.minutes(), window.end.minutes());
    if start <= end {
        (start..end).contains(&minute)
    } else {
        minute >= start || minute < end
    }
}

/// The environment variables the desired state names for secrets (SQL Server passwords, the
/// PostgreSQL state's URL): an export command never inherits them.
fn secrets(desired: &Desired) -> Vec<String> {
    let passwords = desired
        .sites
        .iter()
        .flat_map(|s| &s.sql_instances)
        .filter_map(|i| i.password_env.as_ref().map(|v| v.value.clone()));
    let state = match &desired.state {
        Some(crate::desired::StateDecl::Postgres { url_env }) => Some(url_env.clone()),
        _ => None,
    };
    passwords.chain(state).collect()
}

/// Everything a worker needs, shared read-only.
struct Context<'a> {
    desired: &'a Desired,
    roots: Roots,
    catalog: &'a Catalog,
    export_timeout: Duration,
    sql: sql::SqlActions<'a>,
    listings: prune::Listings,
}

impl Context<'_> {
    fn selection(&self, action: &Action) -> Option<Selection> {
        self.desired
            .backup_items()
            .find(|i| i.address == action.address)
            .and_then(|i| match i.kind {
                ItemKind::Fileset(f) => Some(Selection::of(f)),
                _ => None,
            })
    }

    /// The `keep` and `min` of the item an action acts on.
    fn retention_of(&self, action: &Action) -> (usize, usize) {
        self.desired
            .backup_items()
            .find(|i| i.address == action.address)
            .map_or((1, 1), |i| {
                (i.policy.keep.value as usize, i.policy.min as usize)
            })
    }

    /// Opens the directory holding `path` inside its store root through handles (making it
    /// with `create`); `path` must pass the [`Roots`] fence.
    fn in_store(&self, path: &Path, create: bool) -> Result<copy::InStore, String> {
        let root = self.roots.check(path)?;
        let relative = path.strip_prefix(root).map_err(|e| e.to_string())?;
        copy::InStore::open(root, relative, create)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))
    }

    /// Runs one action; `Err` is the failure message (and any command output).
    fn run(&self, action: &Action, outcome: &mut Outcome) -> Result<(), String> {
        match &action.operation {
            Operation::Copy { from, to, sha256 } => {
                let source = self.in_store(from, false)?;
                let target = self.in_store(to, true)?;
                let previous = from.is_dir().then(|| previous_snapshot(&target)).flatten();
                let copied = copy::copy(&source, &target, sha256.as_deref(), previous.as_ref())?;
                outcome.detail = Some(if copied.linked > 0 {
                    format!(
                        "{} copied, {} file(s) linked to the previous copy",
                        crate::units::bytes(copied.bytes),
                        copied.linked
                    )
                } else {
                    format!("{} copied", crate::units::bytes(copied.bytes))
                });
                outcome.sha256 = Some(copied.sha256.clone());
                if !from.is_dir() {
                    outcome.catalog.push((to.clone(), copied.sha256));
                }
                Ok(())
            }
            Operation::Snapshot {
                source,
                snapshot,
                previous,
            } => {
                let target = self.in_store(snapshot, true)?;
                let selection = self
                    .selection(action)
                    .ok_or_else(|| format!("{} is not a declared fileset", action.address))?;
                let previous = previous
                    .as_deref()
                    .and_then(|p| self.in_store(p, false).ok());
                let made = snapshot::snapshot(source, &selection, &target, previous.as_ref())?;
                let mut detail = format!(
                    "{} files, {} linked to the previous snapshot, {}",
                    made.files,
                    made.linked,
                    crate::units::bytes(made.bytes)
                );
                if !made.skipped.is_empty() {
                    let listed: Vec<String> = made
                        .skipped
                        .iter()
                        .map(|(path, why)| format!("{path} ({why})"))
                        .collect();
                    detail = format!(
                        "{detail}; INCOMPLETE: {} entr(ies) skipped: {}",
                        made.skipped.len(),
                        listed.join(", ")
                    );
                }
                outcome.detail = Some(detail);
                outcome.sha256 = Some(made.sha256);
                outcome.snapshot = Some((snapshot.clone(), made.files, made.bytes));
                Ok(())
            }
            Operation::Export { argv, file } => {
                let at = self.in_store(file, true)?;
                match export::export(argv, &at, self.export_timeout, &secrets(self.desired)) {
                    Ok(done) => {
                        outcome.detail =
                            Some(format!("{} written", crate::units::bytes(done.bytes)));
                        outcome.output = Some(done.output).filter(|o| !o.is_empty());
                        outcome.sha256 = Some(done.sha256.clone());
                        outcome.catalog.push((file.clone(), done.sha256));
                        Ok(())
                    }
                    Err((message, output)) => {
                        outcome.output = Some(output).filter(|o| !o.is_empty());
                        Err(message)
                    }
                }
            }
            Operation::Verify { path } => {
                self.roots.check(path)?;
                let sha256 = hash::sha256_file(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                if let Some(recorded) = self.catalog.get(path).filter(|e| e.sha256 != sha256) {
                    return Err(format!(
                        "{} hashes to {sha256}, but {} was recorded when first seen",
                        path.display(),
                        recorded.sha256
                    ));
                }
                outcome.sha256 = Some(sha256.clone());
                outcome.catalog.push((path.clone(), sha256));
                Ok(())
            }
            Operation::Prune { path, store_root } => prune::prune(
                path,
                store_root,
                &self.roots,
                self.catalog,
                self.retention_of(action),
                &self.listings,
            ),
            Operation::BackupDatabase {
                site,
                instance,
                database,
                backup_type,
                sql_path,
                local_path,
            } => {
                self.roots.check(local_path)?;
                let written =
                    self.sql
                        .backup(site, instance, database, backup_type, sql_path, local_path)?;
                outcome.detail = Some(format!("{} written", crate::units::bytes(written.bytes)));
                outcome.sha256 = Some(written.sha256.clone());
                outcome.catalog.push((local_path.clone(), written.sha256));
                Ok(())
            }
            Operation::VerifyOnly {
                site,
                instance,
                disk,
            } => {
                self.sql.verify_only(site, instance, disk)?;
                outcome.detail =
                    Some("the backup set is complete and its checksums are valid".into());
                Ok(())
            }
            Operation::SetRecoveryModel {
                site,
                instance,
                database,
                model,
            } => {
                self.sql
                    .set_recovery_model(site, instance, database, model)?;
                outcome.detail = Some(format!("{database} now uses the {model} recovery model"));
                Ok(())
            }
            Operation::RestoreTest {
                site,
                instance,
                database,
                test_database,
                chain,
                moves,
            } => {
                let restored =
                    self.sql
                        .restore_test(site, instance, database, test_database, chain, moves)?;
                outcome.detail = Some(format!(
                    "{} backup(s) restored in {:.1}s as [{test_database}], DBCC CHECKDB clean, dropped",
                    chain.len(),
                    restored.as_secs_f64()
                ));
                Ok(())
            }
            Operation::Manual => Ok(()),
        }
    }
}

/// The newest snapshot beside `target` that is older than it: what a copy of `target` links
/// its unchanged files to.
fn previous_snapshot(target: &copy::InStore) -> Option<copy::InStore> {
    let name = target.name.to_str()?;
    let (prefix, stamp) = crate::layout::split_name(name)?;
    let previous = target
        .parent
        .entries()
        .ok()?
        .into_iter()
        .filter(|(_, kind)| *kind == handle::Kind::Dir)
        .filter_map(|(n, _)| {
            let (p, t) = crate::layout::split_name(n.to_str()?)?;
            (p == prefix && t < stamp).then_some((t, n))
        })
        .max()?;
    Some(copy::InStore {
        parent: target.parent.try_clone().ok()?,
        name: previous.1,
        created: Vec::new(),
    })
}

/// What the executor reports as it goes.
pub trait Progress {
    fn started(&mut self, action: &Action);
    /// Every [`TICK`] while `action` runs: how far its meter says it got, and how long it
    /// has been running.
    fn running(&mut self, action: &Action, meter: &Meter, elapsed: Duration);
    fn finished(&mut self, action: &Action, outcome: &Outcome);
}

/// How often [`Progress::running`] hears of each running action.
pub const TICK: Duration = Duration::from_millis(250);

fn journal_line(run: &str, action: &Action, step: &str) -> JournalLine {
    JournalLine {
        at: Timestamp::now(),
        run: run.to_owned(),
        action: action.id.clone(),
        kind: action.kind.to_string(),
        address: action.address.to_string(),
        step: step.to_owned(),
        outcome: None,
        message: None,
        duration_ms: None,
        sha256: None,
        output: None,
    }
}

/// Runs `actions`; returns one outcome per action, in plan order.
pub fn apply(
    desired: &Desired,
    actions: &[Action],
    catalog: &mut Catalog,
    journal: &mut dyn Backend,
    run: &str,
    options: &Options,
    progress: &mut dyn Progress,
) -> Vec<Outcome> {
    remove_stale_temps(desired, actions);
    let window_open = options.ignore_window || in_window(desired, options.now);
    let mut outcomes: HashMap<String, Outcome> = HashMap::new();
    // Manual actions are listed, never run; heavy ones outside the window wait for it.
    for action in actions {
        if action.manual {
            outcomes.insert(action.id.clone(), Outcome::new(&action.id, Status::Manual));
        } else if !window_open && is_heavy(action) {
            outcomes.insert(
                action.id.clone(),
                Outcome::new(
                    &action.id,
                    Status::Skipped(
                        "outside the backup window (pass --ignore-window to run it now)".into(),
                    ),
                ),
            );
        }
    }
    let by_id: HashMap<&str, &Action> = actions.iter().map(|a| (a.id.as_str(), a)).collect();
    // Prunes run last: after every copy and backup of this run succeeded or failed.
    let phases: [Vec<&Action>; 2] = [
        actions
            .iter()
            .filter(|a| !outcomes.contains_key(&a.id) && a.kind != ActionKind::PruneBackup)
            .collect(),
        actions
            .iter()
            .filter(|a| !outcomes.contains_key(&a.id) && a.kind == ActionKind::PruneBackup)
            .collect(),
    ];
    let mut stopped = false;
    for phase in phases {
        let snapshot = catalog.clone();
        let context = Context {
            desired,
            roots: Roots::of(desired),
            catalog: &snapshot,
            export_timeout: options.export_timeout,
            sql: sql::SqlActions {
                desired,
                timeouts: crate::io::sql::Timeouts::maintenance(options.sql_command_timeout),
            },
            listings: prune::Listings::default(),
        };
        let mut pending: std::collections::VecDeque<&Action> = phase.into();
        // What runs, with its meter and since when.
        let mut running: HashMap<String, (Arc<Meter>, Instant)> = HashMap::new();
        // Settling looks at every pending action: only worth it after something did not
        // succeed (thousands of prunes would otherwise cost a pass each, quadratic in all).
        let mut unsettled = true;
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = mpsc::channel::<Outcome>();
            loop {
                // Settle what can no longer run.
                if unsettled || stopped || interrupt::requested() {
                    pending.retain(|action| {
                        let failed_dependency = action
                            .depends_on
                            .iter()
                            .find(|d| outcomes.get(*d).is_some_and(|o| o.status != Status::Ok));
                        if let Some(dependency) = failed_dependency {
                            outcomes.insert(
                                action.id.clone(),
                                Outcome::new(
                                    &action.id,
                                    Status::Skipped(format!("{dependency} did not succeed")),
                                ),
                            );
                            return false;
                        }
                        if interrupt::requested() {
                            let mut line = journal_line(run, action, "end");
                            line.outcome = Some("interrupted".into());
                            line.message = Some(INTERRUPTED.into());
                            let reason = match journal.append_journal(&line) {
                                Ok(()) => INTERRUPTED.to_owned(),
                                Err(e) => {
                                    format!("{INTERRUPTED} (and the journal could not record it: {e})")
                                }
                            };
                            outcomes.insert(
                                action.id.clone(),
                                Outcome::new(&action.id, Status::Skipped(reason)),
                            );
                            return false;
                        }
                        if stopped {
                            outcomes.insert(
                                action.id.clone(),
                                Outcome::new(
                                    &action.id,
                                    Status::Skipped(
                                        "an earlier action failed (pass --continue-on-error to go on)"
                                            .into(),
                                    ),
                                ),
                            );
                            return false;
                        }
                        true
                    });
                }
                unsettled = false;
                // Start what is ready, up to the parallelism.
                while running.len() < options.parallelism.max(1) {
                    let Some(index) = pending.iter().position(|a| {
                        a.depends_on.iter().all(|d| {
                            outcomes.get(d).is_some_and(|o| o.status == Status::Ok)
                                || !by_id.contains_key(d.as_str())
                        })
                    }) else {
                        break;
                    };
                    let Some(action) = pending.remove(index) else {
                        break;
                    };
                    progress.started(action);
                    // An action the journal cannot record does not run, nor does any after it.
                    if let Err(e) = journal.append_journal(&journal_line(run, action, "start")) {
                        stopped = true;
                        let outcome = Outcome::new(
                            &action.id,
                            Status::Failed(format!("not started: cannot write the journal: {e}")),
                        );
                        progress.finished(action, &outcome);
                        outcomes.insert(action.id.clone(), outcome);
                        continue;
                    }
                    let meter = Arc::new(Meter::default());
                    running.insert(action.id.clone(), (Arc::clone(&meter), Instant::now()));
                    let tx = done_tx.clone();
                    let context = &context;
                    scope.spawn(move || {
                        let _attached = meter::attach(meter);
                        let started = Instant::now();
                        let mut outcome = Outcome::new(&action.id, Status::Ok);
                        if let Err(message) = context.run(action, &mut outcome) {
                            outcome.status = Status::Failed(message);
                        }
                        outcome.duration = started.elapsed();
                        let _ = tx.send(outcome);
                    });
                }
                if running.is_empty() {
                    break;
                }
                let outcome = match done_rx.recv_timeout(TICK) {
                    Ok(outcome) => outcome,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        for (id, (meter, since)) in &running {
                            if let Some(action) = by_id.get(id.as_str()) {
                                progress.running(action, meter, since.elapsed());
                            }
                        }
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                running.remove(&outcome.id);
                if matches!(outcome.status, Status::Failed(_)) && !options.continue_on_error {
                    stopped = true;
                }
                unsettled |= outcome.status != Status::Ok;
                let Some(action) = by_id.get(outcome.id.as_str()).copied() else {
                    continue;
                };
                let mut line = journal_line(run, action, "end");
                let (result, message) = match &outcome.status {
                    Status::Ok => ("ok", outcome.detail.clone()),
                    Status::Failed(m) if interrupt::requested() => ("interrupted", Some(m.clone())),
                    Status::Failed(m) => ("failed", Some(m.clone())),
                    Status::Skipped(m) => ("skipped", Some(m.clone())),
                    Status::Manual => ("manual", None),
                };
                line.outcome = Some(result.to_owned());
                line.message = message;
                line.duration_ms = u64::try_from(outcome.duration.as_millis()).ok();
                line.sha256.clone_from(&outcome.sha256);
                line.output.clone_from(&outcome.output);
                let mut outcome = outcome;
                if let Err(e) = journal.append_journal(&line) {
                    stopped = true;
                    let ran = match &outcome.status {
                        Status::Failed(m) => format!("failed ({m})"),
                        _ => "ran".to_owned(),
                    };
                    outcome.status =
                        Status::Failed(format!("{ran}, but the journal could not record it: {e}"));
                }
                for (path, sha256) in &outcome.catalog {
                    record(catalog, path, sha256, options.now);
                }
                if let (Some((dir, files, bytes)), Some(sha256)) =
                    (&outcome.snapshot, &outcome.sha256)
                {
                    record_snapshot(catalog, dir, sha256, (*files, *bytes), options.now);
                }
                progress.finished(action, &outcome);
                outcomes.insert(outcome.id.clone(), outcome);
            }
        });
        // What is still pending waits on something that never ran (a cycle a plan loaded
        // from a file slipped past): it is not run, and says so.
        for action in pending {
            let waits: Vec<&str> = action
                .depends_on
                .iter()
                .filter(|d| outcomes.get(*d).is_none_or(|o| o.status != Status::Ok))
                .map(String::as_str)
                .collect();
            outcomes.insert(
                action.id.clone(),
                Outcome::new(
                    &action.id,
                    Status::Skipped(format!("waits on {}, which never ran", waits.join(", "))),
                ),
            );
        }
    }
    for action in actions {
        if let Some(outcome) = outcomes.get(&action.id)
            && matches!(outcome.status, Status::Skipped(_) | Status::Manual)
            && !matches!(outcome.status, Status::Ok)
        {
            progress.finished(action, outcome);
        }
    }
    actions
        .iter()
        .filter_map(|a| outcomes.remove(&a.id))
        .collect()
}

/// Why an action did not run after SIGTERM or SIGINT.
pub const INTERRUPTED: &str = "interrupted: apply received SIGTERM or SIGINT";

/// Clears what an apply that was killed left under temporary names (a half-copied file, a
/// half-built or half-deleted snapshot): in every declared item's backup directory of every
/// store, and in the directory of every action's target. Only temporaries whose process is
/// gone, only inside a store root; the caller holds the lock, so no other apply is writing.
fn remove_stale_temps(desired: &Desired, actions: &[Action]) {
    let roots = Roots::of(desired);
    let stores: Vec<&Path> = desired
        .sites
        .iter()
        .flat_map(|s| s.stores.iter().map(|store| store.path.value.as_path()))
        .collect();
    let mut dirs: BTreeSet<PathBuf> = desired
        .backup_items()
        .flat_map(|item| {
            let dir = Layout::of(&item).dir;
            stores.iter().map(move |root| root.join(&dir))
        })
        .collect();
    for action in actions {
        let target = match &action.operation {
            Operation::Copy { to, .. } => to,
            Operation::Snapshot { snapshot, .. } => snapshot,
            Operation::Export { file, .. } => file,
            Operation::Prune { path, .. } => path,
            _ => continue,
        };
        dirs.extend(target.parent().map(Path::to_path_buf));
    }
    for dir in dirs {
        let Ok(root) = roots.check(&dir) else {
            continue;
        };
        // Through handles from the store root, like every other write: a directory swapped
        // for a link cannot turn this clean-up on files outside the store.
        let Ok(relative) = dir.strip_prefix(root) else {
            continue;
        };
        let Ok((dir, _)) = handle::Dir::open(root).and_then(|r| r.open_below(relative, false))
        else {
            continue;
        };
        let _ = remove_stale_temps_in(&dir);
    }
}

/// Removes what standby processes that no longer run left in `dir` under temporary names.
fn remove_stale_temps_in(dir: &handle::Dir) -> std::io::Result<()> {
    let mut removed = false;
    for (name, _) in dir.entries()? {
        let Some(pid) = name.to_str().and_then(crate::layout::temp_owner) else {
            continue;
        };
        if pid == std::process::id() || crate::platform::process_alive(pid) {
            continue;
        }
        dir.remove_tree(&name)?;
        removed = true;
    }
    if removed {
        dir.sync()?;
    }
    Ok(())
}

/// Records a file standby wrote or verified, with the hash it has now.
fn record(catalog: &mut Catalog, path: &Path, sha256: &str, now: Timestamp) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or(now);
    let first_seen = catalog.get(path).map_or(now, |e| e.first_seen);
    catalog.insert(CatalogEntry {
        address: None,
        path: path.to_owned(),
        size: meta.len(),
        mtime,
        sha256: sha256.to_owned(),
        mismatch: None,
        files: None,
        first_seen,
        last_verified: now,
        origin: crate::state::catalog::HashOrigin::VerifiedAt,
    });
}

/// Records a snapshot standby just wrote as verified: every file in it was hashed as it was
/// copied, or hard-linked to a verified snapshot whose manifest gave its hash. Keyed like
/// discovery keys a snapshot (its manifest's mtime), so the look after `apply` does not read
/// all of it again.
fn record_snapshot(
    catalog: &mut Catalog,
    dir: &Path,
    sha256: &str,
    (files, bytes): (u64, u64),
    now: Timestamp,
) {
    let Some(mtime) = std::fs::metadata(dir.join(crate::layout::MANIFEST))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
    else {
        return;
    };
    let first_seen = catalog.get(dir).map_or(now, |e| e.first_seen);
    catalog.insert(CatalogEntry {
        address: None,
        path: dir.to_owned(),
        size: bytes,
        mtime,
        sha256: sha256.to_owned(),
        mismatch: None,
        files: Some(files),
        first_seen,
        last_verified: now,
        origin: crate::state::catalog::HashOrigin::VerifiedAt,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_backups_run_outside_the_window_and_full_backups_wait() {
        let action = |detail: &str, kind: ActionKind| {
            let address = crate::address::Address::new("s", "database", "rtc").detail(detail);
            Action::new(&address, kind, &[], "", Operation::Manual)
        };
        assert!(!is_heavy(&action("log", ActionKind::BackupDatabase)));
        assert!(!is_heavy(&action("log", ActionKind::VerifyBackup)));
        assert!(is_heavy(&action("log", ActionKind::CopyBackup)));
        assert!(is_heavy(&action("full", ActionKind::BackupDatabase)));
        assert!(is_heavy(&action("diff", ActionKind::VerifyBackup)));
    }

    #[test]
    fn the_window_wraps_around_midnight() {
        let desired = |window: &str| {
            let text = format!("deployment \"t\" {{\n backup-window {window}\n}}\n");
            crate::profile::apply(crate::desired::load_texts(vec![("/d/t.kdl".into(), text)]))
                .desired
                .expect("valid")
        };
        let at = |t: &str| t.parse::<Timestamp>().expect("time");
        let night = desired("start=\"01:00\" end=\"05:00\"");
        assert!(in_window(&night, at("2026-11-22T01:00:00Z")));
        assert!(in_window(&night, at("2026-11-22T04:59:00Z")));
        assert!(!in_window(&night, at("2026-11-22T05:00:00Z")));
        let wraps = desired("start=\"22:00\" end=\"02:00\"");
        assert!(in_window(&wraps, at("2026-11-22T23:30:00Z")));
        assert!(in_window(&wraps, at("2026-11-22T01:30:00Z")));
        assert!(!in_window(&wraps, at("2026-11-22T12:00:00Z")));
    }
}
