//! `standby restore`: the T-SQL that restores a declared database from the backups at one
//! site, onto a declared SQL Server instance. The chain comes from the recovery model of
//! the plan (the verified files at that site); every file is hashed again before the script
//! is written, so what an operator runs on the worst day is what the checks approved.

use std::collections::BTreeMap;
use std::process::ExitCode;

use jiff::Timestamp;

use super::common::{self, Failure};
use crate::address::Address;
use crate::cli::{GlobalArgs, RestoreArgs};
use crate::desired::{Desired, Site, SqlInstance};
use crate::observe::sql::{SqlFile, SqlInstanceObservation};
use crate::plan::chain::{self, Chain};
use crate::plan::database::{DatabaseState, SqlIndex};
use crate::plan::recovery::{Recovery, SiteRecovery};
use crate::plan::{RestoreFile, RestoreOptions, restore_statements};

pub(crate) fn run(global: &GlobalArgs, args: &RestoreArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    match script(global, &desired, args).and_then(|s| common::emit(args.out.as_ref(), &s)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

fn script(global: &GlobalArgs, desired: &Desired, args: &RestoreArgs) -> Result<String, Failure> {
    let address = Address::parse(&args.address).map_err(Failure)?;
    let (site, database) = desired
        .site(address.site())
        .and_then(|s| {
            s.databases
                .iter()
                .find(|d| s.address("database", &d.name) == address)
                .map(|d| (s, d))
        })
        .ok_or_else(|| Failure(format!("{address} is not a declared database")))?;
    if desired.site(&args.site).is_none() {
        return Err(Failure(format!("no site `{}` is declared", args.site)));
    }
    let (target_site, target) = instance(desired, &args.site, &args.to)?;
    let observed = if let Some(path) = &args.observed {
        common::read_observed(path)?
    } else {
        let mut backend = common::open_state(global, desired)?;
        common::discover(global, desired, &args.observe, backend.as_mut())?
    };
    let now = common::now(&args.observe);
    let index = SqlIndex::new(&observed);
    let db = DatabaseState::new(desired, &index, site, database, now);
    let name = &database.name.value;
    let recovery = Recovery::of(&db, &observed).ok_or_else(|| {
        Failure(format!(
            "SQL Server's backup history of {name} is unknown or empty: run `standby discover` where its instance is reachable"
        ))
    })?;
    let at = recovery.site(&args.site).ok_or_else(|| {
        Failure(format!(
            "no store at site `{}` holds backups of {name}",
            args.site
        ))
    })?;
    let sets = recovery.backup_sets();
    let chain = match args.stop_at {
        Some(t) => chain::to(&sets, &at.held(), t).ok_or_else(|| {
            Failure(format!(
                "the backups at {} cannot restore {name} to {t}: {}",
                args.site,
                reach(at)
            ))
        })?,
        None => at.chain.clone().ok_or_else(|| {
            Failure(format!(
                "no full backup of {name} at {} is there and verified",
                args.site
            ))
        })?,
    };
    let files = chain_files(&recovery, at, &chain)?;
    let target_seen = observed
        .sql_instance(target_site, &target.id.value)
        .filter(|o| o.error.is_none())
        .ok_or_else(|| {
            Failure(format!(
                "sql-instance `{target_site}/{}` was not observed: its data and log directories are unknown",
                target.id.value
            ))
        })?;
    let new_name = args.as_name.clone().unwrap_or_else(|| name.clone());
    if target_seen
        .databases
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(&new_name))
    {
        return Err(Failure(format!(
            "a database [{new_name}] exists on `{target_site}/{}`: restore under another name with --as",
            target.id.value
        )));
    }
    let source_files = db.observed.map(|d| d.files.as_slice()).unwrap_or_default();
    if source_files.is_empty() {
        return Err(Failure(format!(
            "the files of {name} are unknown (its instance was not observed): cannot write MOVE clauses"
        )));
    }
    let moves = moves(source_files, name, &new_name, target_seen)?;
    let stop_at = args.stop_at.map(|t| local_text(t, target_seen));
    let statements = restore_statements(
        &new_name,
        &files,
        &RestoreOptions {
            moves: &moves,
            replace: false,
            stop_at: stop_at.as_deref(),
        },
    );
    let reaches = args.stop_at.unwrap_or(chain.reaches);
    let mut text = format!(
        "-- standby restore {address} from the backups at {} onto {target_site}/{} as [{new_name}]\n\
         -- restores to {reaches}: {} backup set(s), each file hashed again at {now}\n",
        args.site,
        target.id.value,
        chain.len(),
    );
    for statement in statements {
        text.push_str(&statement);
        text.push_str(";\nGO\n");
    }
    Ok(text)
}

/// How far the site can restore, for an error message.
fn reach(at: &SiteRecovery<'_>) -> String {
    at.reaches().map_or_else(
        || "no chain of them can be restored".to_owned(),
        |t| format!("they reach {t} at the newest"),
    )
}

/// The declared instance `to` names: `SITE/ID`, or an ID of `site`.
fn instance<'a>(
    desired: &'a Desired,
    site: &'a str,
    to: &'a str,
) -> Result<(&'a str, &'a SqlInstance), Failure> {
    let (site_name, id) = to.split_once('/').unwrap_or((site, to));
    desired
        .site(site_name)
        .and_then(|s: &Site| s.sql_instance(id))
        .map(|i| (site_name, i))
        .ok_or_else(|| {
            Failure(format!(
                "no sql-instance `{id}` is declared at site `{site_name}`"
            ))
        })
}

/// The chain's files as the target reads them, after hashing each again.
fn chain_files(
    recovery: &Recovery<'_>,
    at: &SiteRecovery<'_>,
    chain: &Chain,
) -> Result<Vec<RestoreFile>, Failure> {
    chain
        .sets()
        .map(|i| {
            let set = &recovery.sets[i];
            let files = at.files[i]
                .as_ref()
                .map_err(|why| Failure(format!("{} {why}", set.name())))?;
            for file in files {
                let path = file.store.path.value.join(&file.relative);
                let sha256 = crate::io::hash::sha256_file(&path)
                    .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
                if file.entry.sha256.as_deref() != Some(sha256.as_str()) {
                    return Err(Failure(format!(
                        "{} changed since it was verified: refusing to restore from it",
                        path.display()
                    )));
                }
            }
            set.restore_file(files).ok_or_else(|| {
                Failure(format!(
                    "store `{}` has no sql-path: declare how SQL Server sees it to restore from it",
                    files.first().map_or("", |f| f.store.name.value.as_str())
                ))
            })
        })
        .collect()
}

/// The directory of a Windows path.
fn directory(path: &str) -> &str {
    path.rsplit_once('\\').map_or("", |(d, _)| d)
}

/// The directory most of the target's files of `kind` live in: its data or log directory.
fn usual_directory(target: &SqlInstanceObservation, log: bool) -> Option<String> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for file in target
        .databases
        .iter()
        .flat_map(|d| &d.files)
        .filter(|f| f.is_log() == log)
    {
        *count
            .entry(directory(&file.physical_name).to_owned())
            .or_default() += 1;
    }
    count
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d)
        .filter(|d| !d.is_empty())
}

/// Where each file of the database goes on the target: its data or log directory, named
/// after the restored database.
fn moves(
    files: &[SqlFile],
    name: &str,
    new_name: &str,
    target: &SqlInstanceObservation,
) -> Result<Vec<(String, String)>, Failure> {
    files
        .iter()
        .map(|f| {
            let dir = usual_directory(target, f.is_log()).ok_or_else(|| {
                Failure(format!(
                    "the {} directory of the target instance is unknown: it reported no such file",
                    if f.is_log() { "log" } else { "data" }
                ))
            })?;
            let ext = f.physical_name.rsplit_once('.').map_or("", |(_, e)| e);
            let stem = match f.logical_name.get(..name.len()) {
                Some(head) if head.eq_ignore_ascii_case(name) => {
                    format!("{new_name}{}", &f.logical_name[name.len()..])
                }
                _ => format!("{new_name}_{}", f.logical_name),
            };
            Ok((f.logical_name.clone(), format!("{dir}\\{stem}.{ext}")))
        })
        .collect()
}

/// `at` in the server's local time, as STOPAT reads it.
fn local_text(at: Timestamp, target: &SqlInstanceObservation) -> String {
    let local = at
        .checked_add(jiff::SignedDuration::from_mins(i64::from(
            target.utc_offset_minutes,
        )))
        .unwrap_or(at);
    local.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}
