//! `copy-missing`: a backup retention keeps has no copy in the item's `copy-to` store.

use super::super::Out;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::observe::Backup;

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) {
    let Some(copy_store) = item.copy_store else {
        return;
    };
    let keep = item.item.policy.keep.value as usize;
    let missing: Vec<&Backup<'_>> = item
        .backups
        .iter()
        .take(keep)
        .filter(|b| b.is_verified() && item.copy_of(b).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let kept = item.backups.len().min(keep);
    let newest_missing = item
        .backups
        .first()
        .is_some_and(|b| std::ptr::eq(b.entry, missing[0].entry));
    out.finding(
        Finding::new(
            &item.item.address,
            FindingCode::CopyMissing,
            if newest_missing {
                Severity::Warning
            } else {
                Severity::Info
            },
            format!(
                "{} of {kept} kept backup(s) have no copy in store `{}`: {}",
                missing.len(),
                copy_store.name.value,
                super::list(&missing)
            ),
        )
        .desired(format!(
            "every kept backup copied to {}",
            copy_store.path.value.display()
        ))
        .observed(format!("{} copied", kept - missing.len()))
        .hint("the planned copy-backup actions copy them (temporary name, fsync, sha256 check, rename)"),
    );
    for backup in missing {
        out.action(super::copy_action(
            item,
            &backup.entry.path,
            backup.entry.sha256.clone(),
            FindingCode::CopyMissing,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{healthy, offsite, run};
    use crate::plan::{ActionKind, FindingCode, Operation, Plan, Severity};
    use crate::platform::NameCase;

    #[test]
    fn a_newest_backup_without_its_copy_is_a_warning_with_a_copy_action() {
        let mut observed = healthy();
        offsite(&mut observed).retain(|e| !e.path.contains("20261122T060000Z"));
        let plan = run(observed);
        assert_eq!(plan.findings.len(), 1);
        assert_eq!(plan.findings[0].code, FindingCode::CopyMissing);
        assert_eq!(plan.findings[0].severity, Severity::Warning);
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(plan.actions[0].kind, ActionKind::CopyBackup);
        let Operation::Copy { from, to, sha256 } = &plan.actions[0].operation else {
            panic!("a copy operation");
        };
        assert_eq!(
            from.to_str(),
            Some("/b/local/s/database/db/full/db_full_20261122T060000Z.bak")
        );
        assert_eq!(
            to.to_str(),
            Some("/b/offsite/s/database/db/full/db_full_20261122T060000Z.bak")
        );
        assert_eq!(sha256.as_deref(), Some("a".repeat(64).as_str()));
    }

    /// A copy store on NTFS or a share: the operator created the site's folder as
    /// `S`, so the copy standby wrote into `s/…` is listed as `S/…`.
    fn copies_in_a_folder_named_in_capitals(case: NameCase) -> Plan {
        let mut observed = healthy();
        observed.stores[1].case = case;
        for entry in offsite(&mut observed) {
            entry.path = entry.path.replacen("s/", "S/", 1);
        }
        run(observed)
    }

    #[test]
    fn a_copy_named_in_other_case_is_the_copy_where_the_file_system_ignores_case() {
        let plan = copies_in_a_folder_named_in_capitals(NameCase::Insensitive);
        assert!(plan.findings.is_empty(), "{:?}", plan.findings);
        assert!(plan.actions.is_empty());
    }

    #[test]
    fn a_copy_named_in_other_case_is_another_file_where_the_file_system_tells_case_apart() {
        let plan = copies_in_a_folder_named_in_capitals(NameCase::Sensitive);
        assert_eq!(plan.findings[0].code, FindingCode::CopyMissing);
        assert_eq!(plan.actions.len(), 2);
    }

    #[test]
    fn an_older_backup_without_a_copy_is_info() {
        let mut observed = healthy();
        offsite(&mut observed).retain(|e| !e.path.contains("20261121T180000Z"));
        let plan = run(observed);
        assert_eq!(plan.findings[0].severity, Severity::Info);
    }
}
