//! `copy-mismatch`: a copy exists but its size or sha256 differs from the original. The
//! copy is replaced from the original only when the original's hash was verified as standby
//! wrote it; when nothing vouches for either (a rebuilt catalog, an adopted backup), the
//! original may be the corrupt one: both are kept and reported, never one copied over the
//! other.

use super::super::Out;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::observe::Backup;
use crate::state::catalog::HashOrigin;

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) {
    let Some(copy_store) = item.copy_store else {
        return;
    };
    let mismatched: Vec<(&Backup<'_>, &Backup<'_>)> = item
        .backups
        .iter()
        .filter(|b| b.is_verified())
        .filter_map(|b| item.copy_of(b).map(|c| (b, c)))
        .filter(|(b, c)| {
            b.entry.size != c.entry.size
                || matches!((&b.entry.sha256, &c.entry.sha256), (Some(x), Some(y)) if x != y)
        })
        .collect();
    let Some((original, copy)) = mismatched.first() else {
        return;
    };
    let originals: Vec<&Backup<'_>> = mismatched.iter().map(|(b, _)| *b).collect();
    let vouched = |b: &Backup<'_>| b.entry.hash_origin == Some(HashOrigin::VerifiedAt);
    let hint = if mismatched.iter().all(|(b, _)| vouched(b)) {
        "the planned action replaces the copy from the verified original"
    } else {
        "no hash recorded when the original was written vouches for it (first-seen): both are kept; compare them, restore-test the one you trust and remove the other by hand"
    };
    out.finding(
        Finding::new(
            &item.item.address,
            FindingCode::CopyMismatch,
            Severity::Critical,
            format!(
                "{} copy(ies) in store `{}` differ from the original: {}",
                mismatched.len(),
                copy_store.name.value,
                super::list(&originals)
            ),
        )
        .desired(format!(
            "{} bytes, sha256 {}",
            original.entry.size,
            original.entry.sha256.as_deref().unwrap_or("?")
        ))
        .observed(format!(
            "{} bytes, sha256 {}",
            copy.entry.size,
            copy.entry.sha256.as_deref().unwrap_or("?")
        ))
        .hint(hint),
    );
    for (backup, _) in mismatched.into_iter().filter(|(b, _)| vouched(b)) {
        let mut action = super::copy_action(
            item,
            &backup.entry.path,
            backup.entry.sha256.clone(),
            FindingCode::CopyMismatch,
        );
        action.destructive = true;
        action.preview = format!(
            "replace {} in `{}` with a fresh copy from `{}`",
            backup.entry.path, copy_store.name.value, item.store.name.value
        );
        out.action(action);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{healthy, offsite, run};
    use crate::plan::{FindingCode, Severity};

    #[test]
    fn a_copy_with_another_hash_is_critical_and_replaced() {
        let mut observed = healthy();
        if let Some(copy) = offsite(&mut observed).first_mut() {
            copy.sha256 = Some("e".repeat(64));
        }
        let plan = run(observed);
        assert_eq!(plan.findings.len(), 1);
        assert_eq!(plan.findings[0].code, FindingCode::CopyMismatch);
        assert_eq!(plan.findings[0].severity, Severity::Critical);
        assert!(plan.actions[0].destructive);
    }

    #[test]
    fn a_truncated_copy_is_a_mismatch() {
        let mut observed = healthy();
        if let Some(copy) = offsite(&mut observed).first_mut() {
            copy.size = 50;
        }
        let plan = run(observed);
        assert_eq!(plan.findings[0].code, FindingCode::CopyMismatch);
    }
}
