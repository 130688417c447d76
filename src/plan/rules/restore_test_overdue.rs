//! `restore-test-overdue`: a database has not been restored successfully from its backups
//! within `objectives restore-test`. Plans a `restore-test` of its newest chain: a planned
//! new full backup, else the newest full in its store with the differential and log backups
//! that follow it.

use super::super::Out;
use super::super::action::{Action, ActionKind, Operation, RestoreFile};
use super::super::database::DatabaseState;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::recovery::Recovery;
use crate::desired::DatabaseBackupKind;
use crate::observe::Observed;
use crate::units::age;

pub(super) fn check(db: &DatabaseState<'_>, observed: &Observed, out: &mut Out) {
    let Some(every) = &db.desired.deployment.objectives.restore_test else {
        return;
    };
    let declares_full = db
        .database
        .backups
        .iter()
        .any(|b| b.kind.value == DatabaseBackupKind::Full);
    if !declares_full || db.observed.is_none() {
        return;
    }
    let last = db.last_restore();
    let since = last.map(|t| db.now.as_second() - t.as_second());
    if since.is_some_and(|s| s >= 0 && s.unsigned_abs() <= every.value.as_secs()) {
        return;
    }
    let name = &db.database.name.value;
    let message = match since {
        None => format!("{name} has never been restored from its backups in a test"),
        Some(s) => format!("{name} was last restored from its backups {} ago", age(s)),
    };
    out.finding(
        Finding::new(
            &db.address,
            FindingCode::RestoreTestOverdue,
            Severity::Warning,
            message,
        )
        .desired(format!("a test restore every {}", every.value))
        .observed(since.map_or_else(|| "never".to_owned(), |s| format!("{} ago", age(s))))
        .hint("a backup nobody has restored is a hope, not a backup"),
    );
    out.action(restore_test(db, observed, out));
}

fn restore_test(db: &DatabaseState<'_>, observed: &Observed, out: &Out) -> Action {
    let name = &db.database.name.value;
    let manual = |why: String| {
        Action::manual(
            &db.address,
            &[FindingCode::RestoreTestOverdue],
            format!("Restore {name} on a test server and check it: {why}"),
            db.owner,
        )
    };
    let Some(database) = db.observed else {
        return manual("its files are unknown".into());
    };
    let (chain, depends_on) = match out.new_backup_id(&db.address.detail("full")) {
        Some(id) => match out.operation(id) {
            Some(Operation::BackupDatabase { sql_path, .. }) => (
                vec![RestoreFile {
                    disk: sql_path.clone(),
                    backup_type: "full".into(),
                    stripes: Vec::new(),
                    position: 1,
                }],
                vec![id.clone()],
            ),
            _ => return manual("its next full backup is taken by hand".into()),
        },
        None => match stored_chain(db, observed) {
            Some(chain) => (chain, Vec::new()),
            None => {
                return manual(
                    "no full backup that SQL Server remembers is present in its store".into(),
                );
            }
        },
    };
    let test = db.test_name();
    let moves: Vec<(String, String)> = database
        .files
        .iter()
        .map(|f| {
            (
                f.logical_name.clone(),
                moved(&f.physical_name, &test, &f.logical_name),
            )
        })
        .collect();
    let mut action = Action::new(
        &db.address,
        ActionKind::RestoreTest,
        &[FindingCode::RestoreTestOverdue],
        preview(&chain, &test),
        Operation::RestoreTest {
            site: db.site.name.value.clone(),
            instance: db.database.instance.value.clone(),
            database: name.clone(),
            test_database: test,
            chain,
            moves,
        },
    );
    action.depends_on = depends_on;
    action
}

fn preview(chain: &[RestoreFile], test: &str) -> String {
    let first = chain
        .first()
        .map_or("", |f| f.disk.rsplit('\\').next().unwrap_or(&f.disk));
    let rest = chain.len().saturating_sub(1);
    let more = if rest == 0 {
        String::new()
    } else {
        format!(" and {rest} later backup(s)")
    };
    format!("RESTORE {first}{more} as [{test}], DBCC CHECKDB, DROP DATABASE [{test}]")
}

/// A file of the database, renamed for the test restore, in the same directory.
fn moved(physical: &str, test: &str, logical: &str) -> String {
    let (dir, file) = physical.rsplit_once('\\').unwrap_or(("", physical));
    let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
    let name = if ext.is_empty() {
        format!("{test}_{logical}")
    } else {
        format!("{test}_{logical}.{ext}")
    };
    if dir.is_empty() {
        name
    } else {
        format!("{dir}\\{name}")
    }
}

/// The chain the database's own site restores furthest — the full, its differential and
/// every log backup up to the newest point — from the verified files in its stores.
fn stored_chain(db: &DatabaseState<'_>, observed: &Observed) -> Option<Vec<RestoreFile>> {
    let recovery = Recovery::of(db, observed)?;
    let site = recovery.site(&db.site.name.value)?;
    site.chain
        .as_ref()?
        .sets()
        .map(|i| recovery.sets[i].restore_file(site.files[i].as_ref().ok()?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{DESIRED, codes, healthy, now, run_on};
    use crate::observe::sql::RestoreTestRecord;
    use crate::plan::{ActionKind, Operation};

    fn desired() -> String {
        DESIRED.replace(
            r#"objectives rpo="24h""#,
            r#"objectives rpo="24h" restore-test="30d""#,
        )
    }

    #[test]
    fn a_database_never_restored_gets_a_restore_test_of_its_newest_full() {
        let plan = run_on(&desired(), healthy());
        assert_eq!(
            codes(&plan),
            vec![(
                "s/database/db".to_owned(),
                "restore-test-overdue".to_owned()
            )]
        );
        let test = &plan.actions[0];
        assert_eq!(test.kind, ActionKind::RestoreTest);
        let Operation::RestoreTest {
            chain,
            moves,
            test_database,
            ..
        } = &test.operation
        else {
            panic!("not a restore test: {test:?}");
        };
        assert_eq!(test_database, "standby-restoretest-db");
        assert_eq!(chain.len(), 1);
        assert_eq!(
            chain[0].disk,
            r"\\bk\backup\s\database\db\full\db_full_20261122T060000Z.bak"
        );
        assert_eq!(
            moves,
            &vec![
                (
                    "db".to_owned(),
                    r"D:\Data\standby-restoretest-db_db.mdf".to_owned()
                ),
                (
                    "db_log".to_owned(),
                    r"E:\Logs\standby-restoretest-db_db_log.ldf".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_recent_successful_test_satisfies_the_objective_and_a_failed_one_does_not() {
        let mut observed = healthy();
        let record = |ok| RestoreTestRecord {
            address: "s/database/db".into(),
            finished: now(),
            ok,
            duration_ms: 60_000,
            message: None,
        };
        observed.restore_tests = vec![record(false)];
        assert_eq!(codes(&run_on(&desired(), observed.clone())).len(), 1);
        observed.restore_tests = vec![record(true)];
        assert_eq!(
            codes(&run_on(&desired(), observed)),
            Vec::<(String, String)>::new()
        );
    }

    #[test]
    fn without_the_objective_nothing_is_asked() {
        assert_eq!(
            codes(&run_on(DESIRED, healthy())),
            Vec::<(String, String)>::new()
        );
    }
}
