//! `retention-excess`: more backups than `keep`; the oldest are prunable. Never the newest
//! verified backup, never below `min`.

use super::super::Out;
use super::super::action::{Action, ActionKind, Operation};
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::desired::Store;
use crate::observe::Backup;

/// The backups to prune from a newest-first list: the oldest beyond `keep` (and `min`),
/// skipping the newest verified one.
fn prunable<'b, 'o>(backups: &'b [Backup<'o>], keep: usize, min: usize) -> Vec<&'b Backup<'o>> {
    let keep = keep.max(min);
    if backups.len() <= keep {
        return Vec::new();
    }
    let protected = backups.iter().position(Backup::is_verified);
    let excess = backups.len() - keep;
    backups
        .iter()
        .enumerate()
        .rev()
        .filter(|(i, _)| Some(*i) != protected)
        .take(excess)
        .map(|(_, b)| b)
        .collect()
}

fn check_store(item: &ItemState<'_>, store: &Store, backups: &[Backup<'_>], out: &mut Out) {
    let policy = item.item.policy;
    let prune = prunable(backups, policy.keep.value as usize, policy.min as usize);
    if prune.is_empty() {
        return;
    }
    let address = &item.item.address;
    out.finding(
        Finding::new(
            address,
            FindingCode::RetentionExcess,
            Severity::Info,
            format!(
                "{} backups in store `{}`, keep {}: {} prunable",
                backups.len(),
                store.name.value,
                policy.keep.value,
                prune.len()
            ),
        )
        .desired(format!("keep {}", policy.keep.value))
        .observed(format!("{}", backups.len()))
        .hint("the planned prune-backup actions delete the oldest; the newest verified backup is never deleted"),
    );
    for backup in prune {
        let path = store.path.value.join(&backup.entry.path);
        out.action(Action::new(
            address,
            ActionKind::PruneBackup,
            &[FindingCode::RetentionExcess],
            format!(
                "delete {} from `{}` ({})",
                backup.entry.path,
                store.name.value,
                crate::units::bytes(backup.entry.size)
            ),
            Operation::Prune {
                path,
                store_root: store.path.value.clone(),
            },
        ));
    }
}

pub(super) fn check(item: &ItemState<'_>, out: &mut Out, copy_known: bool) {
    check_store(item, item.store, &item.backups, out);
    if let (true, Some(copy_store)) = (copy_known, item.copy_store) {
        check_store(item, copy_store, &item.copies, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{full, healthy, local, run};
    use super::*;
    use crate::plan::FindingCode;

    #[test]
    fn prunes_the_oldest_beyond_keep() {
        let mut observed = healthy();
        for stamp in ["20261121T060000Z", "20261120T180000Z", "20261120T060000Z"] {
            local(&mut observed).push(full(stamp));
        }
        let plan = run(observed);
        let excess: Vec<_> = plan
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::RetentionExcess)
            .collect();
        assert_eq!(excess.len(), 1);
        assert_eq!(
            excess[0].message,
            "5 backups in store `local`, keep 3: 2 prunable"
        );
        let pruned: Vec<_> = plan
            .actions
            .iter()
            .filter(|a| a.kind == ActionKind::PruneBackup)
            .map(|a| a.preview.clone())
            .collect();
        assert_eq!(pruned.len(), 2);
        assert!(pruned[0].contains("db_full_20261120T060000Z"), "{pruned:?}");
        assert!(pruned[1].contains("db_full_20261120T180000Z"), "{pruned:?}");
    }

    #[test]
    fn never_prunes_the_newest_verified_backup() {
        let verified = full("20261101T000000Z");
        let mut unverified: Vec<_> = ["20261122T000000Z", "20261121T000000Z", "20261120T000000Z"]
            .iter()
            .map(|s| {
                let mut e = full(s);
                e.sha256 = None;
                e
            })
            .collect();
        unverified.push(verified);
        let backups: Vec<Backup<'_>> = unverified
            .iter()
            .filter_map(|entry| {
                let stamp = entry.path.rsplit('_').next()?.trim_end_matches(".bak");
                Some(Backup {
                    entry,
                    time: crate::layout::parse_stamp(stamp)?,
                    sql: None,
                })
            })
            .collect();
        // keep 2 of 4: the two oldest would go, but the oldest is the only verified one.
        let prune = prunable(&backups, 2, 1);
        let names: Vec<&str> = prune.iter().map(|b| b.entry.path.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "s/database/db/full/db_full_20261120T000000Z.bak",
                "s/database/db/full/db_full_20261121T000000Z.bak"
            ]
        );
    }

    #[test]
    fn never_prunes_below_min() {
        let entries: Vec<_> = ["20261122T000000Z", "20261121T000000Z", "20261120T000000Z"]
            .iter()
            .map(|s| full(s))
            .collect();
        let backups: Vec<Backup<'_>> = entries
            .iter()
            .map(|entry| Backup {
                entry,
                time: entry.mtime,
                sql: None,
            })
            .collect();
        assert!(prunable(&backups, 1, 3).is_empty());
        assert_eq!(prunable(&backups, 1, 2).len(), 1);
    }
}
