//! `backup-unverified`: a backup file whose content standby has never hashed, or a SQL
//! backup taken without CHECKSUM (SQL Server cannot verify its pages when restoring).

use super::super::Out;
use super::super::action::{Action, ActionKind, Operation};
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::observe::Backup;

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) {
    without_checksum(item, out);
    let address = &item.item.address;
    for (store, backups) in [
        (Some(item.store), &item.backups),
        (item.copy_store, &item.copies),
    ] {
        let Some(store) = store else { continue };
        let unverified: Vec<&Backup<'_>> = backups
            .iter()
            .filter(|b| b.entry.sha256.is_none() && b.entry.error.is_none())
            .collect();
        if unverified.is_empty() {
            continue;
        }
        out.finding(
            Finding::new(
                address,
                FindingCode::BackupUnverified,
                Severity::Warning,
                format!(
                    "{} backup(s) in store `{}` never hashed: {}",
                    unverified.len(),
                    store.name.value,
                    super::list(&unverified)
                ),
            )
            .hint("run `standby discover` without --verify none to hash and record them"),
        );
        for backup in unverified {
            let path = store.path.value.join(&backup.entry.path);
            out.action(Action::new(
                address,
                ActionKind::VerifyBackup,
                &[FindingCode::BackupUnverified],
                format!("hash {} and record it in the catalog", path.display()),
                Operation::Verify { path },
            ));
        }
    }
}

/// The newest backup was taken without CHECKSUM: a new one, with it, is planned.
fn without_checksum(item: &ItemState<'_>, out: &mut Out) {
    let Some(newest) = item.backups.first() else {
        return;
    };
    let Some(sql) = newest.sql.filter(|s| !s.checksum) else {
        return;
    };
    out.finding(
        Finding::new(
            &item.item.address,
            FindingCode::BackupUnverified,
            Severity::Warning,
            format!(
                "the newest backup {} was taken without CHECKSUM",
                newest.entry.path.rsplit('/').next().unwrap_or_default()
            ),
        )
        .desired("WITH CHECKSUM")
        .observed(format!("no checksum ({})", sql.device))
        .hint("have the job that takes it add WITH CHECKSUM; the planned backup uses it"),
    );
    super::new_backup(item, FindingCode::BackupUnverified, out);
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{healthy, local, run};
    use crate::plan::{ActionKind, FindingCode};

    #[test]
    fn a_never_hashed_backup_is_unverified_and_gets_verified() {
        let mut observed = healthy();
        if let Some(entry) = local(&mut observed)
            .iter_mut()
            .find(|e| e.path.contains("/settings/"))
        {
            entry.sha256 = None;
        }
        let plan = run(observed);
        let codes: Vec<_> = plan.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec![FindingCode::BackupUnverified]);
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(plan.actions[0].kind, ActionKind::VerifyBackup);
    }

    #[test]
    fn a_backup_without_checksum_is_replaced_by_one_with_it() {
        let mut observed = healthy();
        for backup in &mut super::super::fixture::sql(&mut observed).backups {
            backup.checksum = false;
        }
        let plan = run(observed);
        let codes: Vec<_> = plan.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec![FindingCode::BackupUnverified]);
        let kinds: Vec<_> = plan.actions.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ActionKind::BackupDatabase,
                ActionKind::VerifyBackup,
                ActionKind::CopyBackup
            ]
        );
        assert!(plan.actions[0].preview.contains("WITH CHECKSUM"));
    }
}
