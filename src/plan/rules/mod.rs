//! One rule per finding code, each in its own file with its tests. `check_item` runs the
//! item rules in a fixed order; `unmanaged` looks at whole stores.

mod backup_corrupt;
mod backup_future;
mod backup_missing;
mod backup_stale;
mod backup_unverified;
mod chain_broken;
mod copy_mismatch;
mod copy_missing;
mod database_missing;
mod log_volume_shared;
mod recovery_model_drift;
mod recovery_point_lag;
mod restore_test_overdue;
mod restore_too_slow;
mod retention_excess;
mod source_unreachable;
pub(super) mod store_missing;
pub(super) mod unmanaged;

#[cfg(test)]
pub(super) mod fixture;

pub(crate) use source_unreachable::item_store_problem;

use super::Out;
use super::action::{Action, ActionKind, Operation};
use super::database::DatabaseState;
use super::finding::FindingCode;
use super::item::ItemState;
use crate::desired::{Choice, ItemKind};
use crate::observe::Backup;
use crate::observe::Observed;

/// The rules about a database itself (not its backups), before its items are planned:
/// their fixes (a recovery model switch) come first.
pub(super) fn check_database(db: &DatabaseState<'_>, out: &mut Out) {
    if !source_unreachable::check_database(db, out) || !database_missing::check(db, out) {
        return;
    }
    recovery_model_drift::check(db, out);
    log_volume_shared::check(db, out);
}

/// The test-restore rules, after the items: a restore test uses a backup planned for them.
pub(super) fn check_restores(db: &DatabaseState<'_>, observed: &Observed, out: &mut Out) {
    if !db.known() || db.observed.is_none_or(|o| !o.is_online()) {
        return;
    }
    restore_test_overdue::check(db, observed, out);
    restore_too_slow::check(db, out);
}

/// The recoverability rules, after the items: a planned full backup also mends a chain.
pub(super) fn check_recovery(
    db: &DatabaseState<'_>,
    recovery: &super::recovery::Recovery<'_>,
    out: &mut Out,
) {
    chain_broken::check(db, recovery, out);
    recovery_point_lag::check(db, recovery, out);
}

pub(super) fn check_item(item: &ItemState<'_>, out: &mut Out) {
    let known = source_unreachable::check(item, out);
    if !known.store {
        return;
    }
    recovery_model_drift::check_item(item, out);
    backup_missing::check(item, out);
    backup_stale::check(item, out);
    backup_future::check(item, out);
    backup_corrupt::check(item, out);
    backup_unverified::check(item, out);
    if known.copy {
        copy_missing::check(item, out);
        copy_mismatch::check(item, out);
    }
    retention_excess::check(item, out, known.copy);
}

/// The copy rules alone, for `audit`: `copy-missing` and `copy-mismatch` of the item, or
/// `source-unreachable` when its store or copy store is unknown. Actions are not kept.
pub(crate) fn copy_parity(item: &ItemState<'_>) -> Vec<super::Finding> {
    let mut out = Out::default();
    let known = source_unreachable::check(item, &mut out);
    if !(known.store && known.copy) {
        return out.findings;
    }
    // The item's other problems (an unreadable fileset source, say) are check's business.
    let mut out = Out::default();
    copy_missing::check(item, &mut out);
    copy_mismatch::check(item, &mut out);
    out.findings
}

/// Plans one new backup of the item (and its copy), or adds `code` to the one already
/// planned. What "a new backup" is depends on the item: a BACKUP statement, an export
/// command, a fileset snapshot, or a person running the tool that `pattern` adopts.
pub(super) fn new_backup(item: &ItemState<'_>, code: FindingCode, out: &mut Out) {
    if let Some(id) = out.new_backup_id(&item.item.address).cloned() {
        out.also_resolves(&id, code);
        return;
    }
    let address = &item.item.address;
    let relative = item.layout.path_at(item.now);
    let local = item.store.path.value.join(&relative);
    let action = if let Some(pattern) = &item.item.policy.pattern {
        Action::manual(
            address,
            &[code],
            format!(
                "Run the job that writes {:?} into store `{}`: its newest file is not fresh",
                pattern.value, item.store.name.value
            ),
            item.owner,
        )
    } else {
        match item.item.kind {
            ItemKind::Database(db, backup) => database_backup(
                item,
                &db.name,
                backup.kind.value.name(),
                &relative,
                local,
                code,
                out,
            ),
            ItemKind::Settings(settings) => match &settings.export {
                Some(argv) => {
                    let file = local.display().to_string();
                    let preview: Vec<String> = argv
                        .value
                        .iter()
                        .map(|a| a.replace("{file}", &file))
                        .collect();
                    Action::new(
                        address,
                        ActionKind::ExportSettings,
                        &[code],
                        preview.join(" "),
                        Operation::Export {
                            argv: argv.value.clone(),
                            file: local,
                        },
                    )
                }
                None => Action::manual(address, &[code], "Export the settings by hand", item.owner),
            },
            ItemKind::Fileset(fileset) => {
                let previous = item
                    .backups
                    .iter()
                    .find(|b| b.is_verified())
                    .map(|b| item.store.path.value.join(&b.entry.path));
                Action::new(
                    address,
                    ActionKind::SnapshotFileset,
                    &[code],
                    format!(
                        "snapshot {} into `{}` as {relative}",
                        fileset.path.value.display(),
                        item.store.name.value
                    ),
                    Operation::Snapshot {
                        source: fileset.path.value.clone(),
                        snapshot: local,
                        previous,
                    },
                )
            }
        }
    };
    let manual = action.manual;
    // A new SQL backup is checked by SQL Server before anything relies on it.
    let verify = match &action.operation {
        Operation::BackupDatabase {
            site,
            instance,
            sql_path,
            ..
        } => Some(verify_only(address, site, instance, sql_path, code)),
        _ => None,
    };
    let mut id = out.action(action);
    out.remember_new_backup(address, id.clone());
    if let Some(mut verify) = verify {
        verify.depends_on.push(id);
        id = out.action(verify);
    }
    if !manual && item.copy_store.is_some() {
        let mut copy = copy_action(item, &relative, None, FindingCode::CopyMissing);
        copy.depends_on.push(id);
        copy.resolves = vec![code];
        out.action(copy);
    }
}

fn database_backup(
    item: &ItemState<'_>,
    database: &str,
    kind: &str,
    relative: &str,
    local: std::path::PathBuf,
    code: FindingCode,
    out: &Out,
) -> Action {
    let address = &item.item.address;
    let Some(sql_path) = &item.store.sql_path else {
        return Action::manual(
            address,
            &[code],
            format!(
                "Back up {database} ({kind}) into {}: store `{}` has no sql-path, so standby cannot ask SQL Server to write there",
                local.display(),
                item.store.name.value
            ),
            item.owner,
        );
    };
    let mut depends_on = Vec::new();
    if let Some(db) = item.database.filter(|db| db.known()) {
        let Some(observed) = db.observed.filter(|o| o.is_online()) else {
            // database-missing says why and what to do.
            return Action::manual(
                address,
                &[code],
                format!("Back up {database} ({kind}) once the database is back online"),
                item.owner,
            );
        };
        let full = db.address.detail("full");
        let full_planned = out.new_backup_id(&full).cloned();
        // What dbatools and Ola Hallengren's scripts refuse: SQL Server would fail these.
        let refusal = if kind == "log" && observed.effective_recovery_model() == "SIMPLE" {
            Some(format!(
                "a log backup needs the FULL recovery model with an unbroken log chain; {database} is {}{}",
                observed.recovery_model,
                if observed.log_chain {
                    ""
                } else {
                    " without a log chain"
                }
            ))
        } else if kind != "full" && !db.has_full() {
            Some(format!(
                "a {kind} backup needs a full backup first, and SQL Server has none of {database}"
            ))
        } else {
            None
        };
        match (refusal, full_planned) {
            (None, _) => {}
            (Some(_), Some(full_id)) => depends_on.push(full_id),
            (Some(why), None) => {
                return Action::manual(
                    address,
                    &[code],
                    format!("Take a full backup of {database} before its {kind} backups: {why}"),
                    item.owner,
                );
            }
        }
        if let Some(fix) = out.recovery_fix(&db.address) {
            depends_on.push(fix.clone());
        }
    }
    let disk = crate::plan::database::sql_disk(&sql_path.value, relative);
    let quoted = quote_name(database);
    let statement = match kind {
        "log" => format!(
            "BACKUP LOG [{quoted}] TO DISK = N'{}' WITH CHECKSUM, INIT",
            quote_text(&disk)
        ),
        "diff" => format!(
            "BACKUP DATABASE [{quoted}] TO DISK = N'{}' WITH DIFFERENTIAL, CHECKSUM, INIT",
            quote_text(&disk)
        ),
        _ => format!(
            "BACKUP DATABASE [{quoted}] TO DISK = N'{}' WITH CHECKSUM, INIT",
            quote_text(&disk)
        ),
    };
    let instance = match item.item.kind {
        ItemKind::Database(db, _) => db.instance.value.clone(),
        _ => String::new(),
    };
    let mut action = Action::new(
        address,
        ActionKind::BackupDatabase,
        &[code],
        statement,
        Operation::BackupDatabase {
            site: item.item.site.name.value.clone(),
            instance,
            database: database.to_owned(),
            backup_type: kind.to_owned(),
            sql_path: disk,
            local_path: local,
        },
    );
    action.depends_on = depends_on;
    action
}

/// `RESTORE VERIFYONLY` of a backup file through SQL Server.
pub(super) fn verify_only(
    address: &crate::address::Address,
    site: &str,
    instance: &str,
    disk: &str,
    code: FindingCode,
) -> Action {
    Action::new(
        address,
        ActionKind::VerifyBackup,
        &[code],
        format!(
            "RESTORE VERIFYONLY FROM DISK = N'{}' WITH CHECKSUM",
            quote_text(disk)
        ),
        Operation::VerifyOnly {
            site: site.to_owned(),
            instance: instance.to_owned(),
            disk: disk.to_owned(),
        },
    )
}

/// A name inside `[...]`.
pub(super) fn quote_name(name: &str) -> String {
    name.replace(']', "]]")
}

/// Text inside `N'...'`.
pub(super) fn quote_text(text: &str) -> String {
    text.replace('\'', "''")
}

/// A copy of one backup into the copy store.
pub(super) fn copy_action(
    item: &ItemState<'_>,
    relative: &str,
    sha256: Option<String>,
    code: FindingCode,
) -> Action {
    let copy_store = item.copy_store.unwrap_or(item.store);
    let from = item.store.path.value.join(relative);
    let to = copy_store.path.value.join(relative);
    Action::new(
        &item.item.address,
        ActionKind::CopyBackup,
        &[code],
        format!(
            "copy {relative} from `{}` to `{}`",
            item.store.name.value, copy_store.name.value
        ),
        Operation::Copy { from, to, sha256 },
    )
}

/// The store-relative paths of some backups, for messages.
pub(super) fn list(backups: &[&Backup<'_>]) -> String {
    const SHOWN: usize = 3;
    let mut names: Vec<&str> = backups
        .iter()
        .take(SHOWN)
        .map(|b| b.entry.path.rsplit('/').next().unwrap_or_default())
        .collect();
    if backups.len() > SHOWN {
        names.push("…");
    }
    names.join(", ")
}
