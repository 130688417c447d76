//! `backup-missing`: fewer than `min` backups of an item in its store.

use super::super::Out;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) {
    let min = item.item.policy.min as usize;
    let found = item.backups.len();
    if found >= min {
        return;
    }
    let store = &item.store.name.value;
    let (severity, message) = if found == 0 {
        (Severity::Critical, format!("no backup in store `{store}`"))
    } else {
        (
            Severity::Warning,
            format!("{found} backup(s) in store `{store}`, at least {min} required"),
        )
    };
    out.finding(
        Finding::new(
            &item.item.address,
            FindingCode::BackupMissing,
            severity,
            message,
        )
        .desired(format!(
            "at least {min} in {}{}",
            item.store.path.value.display(),
            std::path::MAIN_SEPARATOR
        ))
        .observed(format!("{found}"))
        .hint("the planned action takes one now; check the schedule that should have"),
    );
    super::new_backup(item, FindingCode::BackupMissing, out);
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{codes, healthy, local, run};
    use crate::plan::{ActionKind, Severity};

    #[test]
    fn no_backup_at_all_is_critical_and_plans_one_with_its_copy() {
        let mut observed = healthy();
        local(&mut observed).retain(|e| !e.path.contains("/database/"));
        observed.stores[1].entries.clear();
        let plan = run(observed);
        // With no file of its chain left, the database cannot be restored at all either.
        assert_eq!(
            codes(&plan),
            vec![
                ("s/database/db".to_owned(), "recovery-point-lag".to_owned()),
                ("s/database/db/full".to_owned(), "backup-missing".to_owned())
            ]
        );
        assert_eq!(plan.findings[0].severity, Severity::Critical);
        let kinds: Vec<_> = plan.actions.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ActionKind::BackupDatabase,
                ActionKind::VerifyBackup,
                ActionKind::CopyBackup
            ]
        );
        assert_eq!(
            plan.actions[0].preview,
            r"BACKUP DATABASE [db] TO DISK = N'\\bk\backup\s\database\db\full\db_full_20261122T120000Z.bak' WITH CHECKSUM, INIT"
        );
        assert_eq!(
            plan.actions[1].preview,
            r"RESTORE VERIFYONLY FROM DISK = N'\\bk\backup\s\database\db\full\db_full_20261122T120000Z.bak' WITH CHECKSUM"
        );
        // backup → verify → copy: nothing copies a backup SQL Server has not checked.
        assert_eq!(plan.actions[1].depends_on, vec![plan.actions[0].id.clone()]);
        assert_eq!(plan.actions[2].depends_on, vec![plan.actions[1].id.clone()]);
    }

    #[test]
    fn a_missing_settings_export_runs_the_export_command() {
        let mut observed = healthy();
        local(&mut observed).retain(|e| !e.path.contains("/settings/"));
        let plan = run(observed);
        assert_eq!(
            codes(&plan),
            vec![("s/settings/global".to_owned(), "backup-missing".to_owned())]
        );
        assert_eq!(plan.actions[0].kind, ActionKind::ExportSettings);
        assert_eq!(
            plan.actions[0].preview,
            "LCSCmd.exe /ConfigFile:/b/local/s/settings/global/export/global_export_20261122T120000Z.xml"
        );
    }

    #[test]
    fn a_missing_snapshot_plans_a_snapshot() {
        let mut observed = healthy();
        local(&mut observed).retain(|e| !e.path.contains("/fileset/"));
        let plan = run(observed);
        assert_eq!(
            codes(&plan),
            vec![("s/fileset/files".to_owned(), "backup-missing".to_owned())]
        );
        assert_eq!(plan.actions[0].kind, ActionKind::SnapshotFileset);
    }
}
