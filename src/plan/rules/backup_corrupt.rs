//! `backup-corrupt`: a backup's content differs from the hash recorded when it was first
//! seen, or a snapshot's files differ from its manifest.

use super::super::Out;
use super::super::action::Action;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::observe::Backup;

fn is_corrupt(backup: &Backup<'_>) -> bool {
    backup.entry.recorded_sha256.is_some() || !backup.entry.bad_files.is_empty()
}

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) {
    let address = &item.item.address;
    for (store, backups) in [
        (Some(item.store), &item.backups),
        (item.copy_store, &item.copies),
    ] {
        let corrupt: Vec<&Backup<'_>> = backups.iter().filter(|b| is_corrupt(b)).collect();
        let (Some(store), Some(first)) = (store, corrupt.first()) else {
            continue;
        };
        let detail = match (&first.entry.recorded_sha256, first.entry.bad_files.first()) {
            (Some(recorded), _) => format!(
                "sha256 {} differs from {} recorded when first seen",
                first.entry.sha256.as_deref().unwrap_or("?"),
                recorded
            ),
            (None, Some(file)) => format!(
                "{} of its files differ from MANIFEST.sha256, e.g. {file}",
                first.entry.bad_files.len()
            ),
            (None, None) => String::new(),
        };
        out.finding(
            Finding::new(
                address,
                FindingCode::BackupCorrupt,
                Severity::Critical,
                format!("{} corrupt backup(s) in store `{}`: {}", corrupt.len(), store.name.value, super::list(&corrupt)),
            )
            .observed(format!("{}: {detail}", first.entry.path))
            .hint("do not restore from it; keep it for investigation, check the storage, and make sure a newer good backup exists"),
        );
        out.action(Action::manual(
            address,
            &[FindingCode::BackupCorrupt],
            format!(
                "Investigate the storage of store `{}` ({}) and move the corrupt backup(s) aside",
                store.name.value, first.entry.path
            ),
            item.owner,
        ));
    }
    // The newest backup is the one a restore would use: replace it now.
    if item.backups.first().is_some_and(is_corrupt) {
        super::new_backup(item, FindingCode::BackupCorrupt, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{healthy, local, offsite, run};
    use crate::plan::{ActionKind, FindingCode};

    #[test]
    fn a_changed_newest_backup_is_corrupt_and_replaced() {
        let mut observed = healthy();
        let newest = local(&mut observed)
            .iter_mut()
            .find(|e| e.path.ends_with("20261122T060000Z.bak"));
        if let Some(entry) = newest {
            entry.recorded_sha256 = Some("f".repeat(64));
        }
        let plan = run(observed);
        let corrupt: Vec<_> = plan
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::BackupCorrupt)
            .collect();
        assert_eq!(corrupt.len(), 1);
        assert!(
            plan.actions
                .iter()
                .any(|a| a.kind == ActionKind::BackupDatabase
                    && a.resolves.contains(&FindingCode::BackupCorrupt))
        );
    }

    #[test]
    fn a_snapshot_whose_files_differ_from_its_manifest_is_corrupt() {
        let mut observed = healthy();
        if let Some(entry) = local(&mut observed)
            .iter_mut()
            .find(|e| e.path.contains("snapshot"))
        {
            entry.bad_files = vec!["a.txt".into()];
        }
        let plan = run(observed);
        assert!(plan.findings.iter().any(
            |f| f.code == FindingCode::BackupCorrupt && f.address.as_str() == "s/fileset/files"
        ));
    }

    #[test]
    fn a_corrupt_copy_is_reported_against_the_copy_store() {
        let mut observed = healthy();
        if let Some(entry) = offsite(&mut observed).first_mut() {
            entry.recorded_sha256 = Some("f".repeat(64));
        }
        let plan = run(observed);
        let corrupt: Vec<_> = plan
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::BackupCorrupt)
            .collect();
        assert_eq!(corrupt.len(), 1);
        assert!(
            corrupt[0].message.contains("store `offsite`"),
            "{}",
            corrupt[0].message
        );
    }
}
