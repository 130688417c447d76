//! `retention-excess`: more backups than `keep`; the oldest are prunable. Ranked by good
//! backups: a verified good backup is never pruned while fewer than `keep` (and `min`)
//! verified good ones would remain, a backup known corrupt never counts toward `keep` and is
//! never pruned here (it is evidence; only an operator removes it), and the newest `keep`
//! backups that are not known corrupt stay too. A backup whose copy in the other store
//! differs from it, when no hash recorded as standby wrote it vouches for it, is in doubt:
//! it is kept like a corrupt one and never counts toward `keep` either, because either side
//! may be the damaged one.

use super::super::Out;
use super::super::action::{Action, ActionKind, Operation};
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::desired::Store;
use crate::observe::Backup;
use crate::observe::NameCase;
use crate::state::catalog::HashOrigin;
use std::borrow::Cow;
use std::collections::HashMap;

/// Whether a backup is known corrupt: its content differs from what was recorded, or its
/// snapshot from its manifest.
fn is_corrupt(backup: &Backup<'_>) -> bool {
    backup.entry.recorded_sha256.is_some() || !backup.entry.bad_files.is_empty()
}

/// `backups` by store-relative name, as `case` compares names: where counterparts are found.
fn by_name<'b, 'o>(
    backups: &'b [Backup<'o>],
    case: NameCase,
) -> HashMap<Cow<'b, str>, &'b Backup<'o>> {
    backups
        .iter()
        .map(|b| (case.key(&b.entry.path), b))
        .collect()
}

/// Whether `backup` differs from its counterpart among `others` (the same store-relative
/// path in the other store), or from what that counterpart held before it was found
/// changed, and nothing standby recorded while writing it vouches for it.
fn in_doubt(
    backup: &Backup<'_>,
    others: &HashMap<Cow<'_, str>, &Backup<'_>>,
    case: NameCase,
) -> bool {
    let Some(other) = others.get(&case.key(&backup.entry.path)) else {
        return false;
    };
    let differs = backup.entry.size != other.entry.size
        || matches!((&backup.entry.sha256, &other.entry.sha256), (Some(x), Some(y)) if x != y);
    // A counterpart known changed was, when recorded, what this backup should hold: a
    // backup that does not hold it (damaged the same way, say) is no better.
    let contradicts_record = other
        .entry
        .recorded_sha256
        .as_ref()
        .is_some_and(|recorded| backup.entry.sha256.as_ref() != Some(recorded));
    (differs || contradicts_record) && backup.entry.hash_origin != Some(HashOrigin::VerifiedAt)
}

/// The backups to prune from a newest-first list, oldest first. Going from the newest, a
/// backup stays when it is known corrupt or in doubt (evidence), when fewer than `keep` backups not
/// known corrupt stay yet, or when it is verified good and fewer than `keep` verified good
/// ones stay yet; the rest is prunable.
fn prunable<'b, 'o>(
    backups: &'b [Backup<'o>],
    keep: usize,
    min: usize,
    doubtful: impl Fn(&Backup<'o>) -> bool,
) -> Vec<&'b Backup<'o>> {
    let keep = keep.max(min).max(1);
    let (mut kept, mut good_kept) = (0, 0);
    let mut prune = Vec::new();
    for backup in backups {
        if is_corrupt(backup) || doubtful(backup) {
            continue;
        }
        let good = backup.is_verified();
        if kept < keep || (good && good_kept < keep) {
            kept += 1;
            good_kept += usize::from(good);
        } else {
            prune.push(backup);
        }
    }
    prune.reverse();
    prune
}

fn check_store(
    item: &ItemState<'_>,
    store: &Store,
    backups: &[Backup<'_>],
    others: &[Backup<'_>],
    out: &mut Out,
) {
    let policy = item.item.policy;
    let case = item.copy_case();
    let others = by_name(others, case);
    let prune = prunable(
        backups,
        policy.keep.value as usize,
        policy.min as usize,
        |b| in_doubt(b, &others, case),
    );
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
        .hint("the planned prune-backup actions delete the oldest; the newest `keep` verified good backups are never deleted, nor corrupt ones (evidence)"),
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
    check_store(item, item.store, &item.backups, &item.copies, out);
    if let (true, Some(copy_store)) = (copy_known, item.copy_store) {
        check_store(item, copy_store, &item.copies, &item.backups, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{full, healthy, local, run};
    use super::*;
    use crate::observe::StoreEntry;
    use crate::plan::FindingCode;

    /// The entries as an item's backups, dated by their mtime.
    fn as_backups(entries: &[crate::observe::StoreEntry]) -> Vec<Backup<'_>> {
        entries
            .iter()
            .map(|entry| Backup {
                entry,
                time: entry.mtime,
                sql: None,
            })
            .collect()
    }

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
        // keep 2 of 4: the two newest stay, and the oldest, the only verified one.
        let prune = prunable(&backups, 2, 1, |_| false);
        let names: Vec<&str> = prune.iter().map(|b| b.entry.path.as_str()).collect();
        assert_eq!(
            names,
            vec!["s/database/db/full/db_full_20261120T000000Z.bak"]
        );
    }

    #[test]
    fn corrupt_backups_never_count_toward_keep_and_are_never_pruned() {
        // Five backups, keep 2, the newest three corrupt: the two good ones stay, and the
        // corrupt ones are left as evidence.
        let entries: Vec<_> = [
            "20261122T000000Z",
            "20261121T000000Z",
            "20261120T000000Z",
            "20261119T000000Z",
            "20261118T000000Z",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut e = full(s);
            if i < 3 {
                e.recorded_sha256 = Some("0".repeat(64));
            }
            e
        })
        .collect();
        let backups = as_backups(&entries);
        assert!(prunable(&backups, 2, 1, |_| false).is_empty());
        // With a third good one, the oldest good one is prunable: two good remain.
        let mut more = entries.clone();
        more.push(full("20261117T000000Z"));
        let backups = as_backups(&more);
        let names: Vec<&str> = prunable(&backups, 2, 1, |_| false)
            .iter()
            .map(|b| b.entry.path.as_str())
            .collect();
        assert_eq!(
            names,
            vec!["s/database/db/full/db_full_20261117T000000Z.bak"]
        );
    }

    #[test]
    fn never_prunes_below_min() {
        let entries: Vec<_> = ["20261122T000000Z", "20261121T000000Z", "20261120T000000Z"]
            .iter()
            .map(|s| full(s))
            .collect();
        let backups = as_backups(&entries);
        assert!(prunable(&backups, 1, 3, |_| false).is_empty());
        assert_eq!(prunable(&backups, 1, 2, |_| false).len(), 1);
    }

    #[test]
    fn a_backup_whose_copy_differs_never_counts_toward_keep_unless_standby_wrote_it() {
        // keep 1: the newest differs from its copy and nothing vouches for it, so the older
        // good one is the only one that counts and stays.
        let entries: Vec<_> = ["20261122T000000Z", "20261121T000000Z"]
            .iter()
            .map(|s| StoreEntry {
                hash_origin: Some(HashOrigin::FirstSeen),
                ..full(s)
            })
            .collect();
        let mut copy = full("20261122T000000Z");
        copy.sha256 = Some("f".repeat(64));
        let copies = [copy];
        let copies = as_backups(&copies);
        let case = NameCase::Sensitive;
        let others = by_name(&copies, case);
        let backups = as_backups(&entries);
        assert!(prunable(&backups, 1, 1, |b| in_doubt(b, &others, case)).is_empty());
        // Written and verified by standby: the copy is the damaged side, the original counts.
        let mut vouched = entries.clone();
        vouched[0].hash_origin = Some(HashOrigin::VerifiedAt);
        let backups = as_backups(&vouched);
        assert_eq!(
            prunable(&backups, 1, 1, |b| in_doubt(b, &others, case)).len(),
            1
        );
    }

    #[test]
    fn a_backup_damaged_like_its_copy_that_standby_knew_changed_never_counts() {
        // The copy was recorded as "a…" and now holds "e…" (known changed); the original
        // holds "e…" too, first seen after the state was lost: both sides are damaged alike.
        let mut entries: Vec<_> = ["20261122T000000Z", "20261121T000000Z"]
            .iter()
            .map(|s| StoreEntry {
                hash_origin: Some(HashOrigin::FirstSeen),
                ..full(s)
            })
            .collect();
        entries[0].sha256 = Some("e".repeat(64));
        let mut copy = full("20261122T000000Z");
        copy.sha256 = Some("e".repeat(64));
        copy.recorded_sha256 = Some("a".repeat(64));
        let copies = [copy];
        let copies = as_backups(&copies);
        let case = NameCase::Sensitive;
        let others = by_name(&copies, case);
        let backups = as_backups(&entries);
        assert!(prunable(&backups, 1, 1, |b| in_doubt(b, &others, case)).is_empty());
    }

    #[test]
    fn a_copy_listed_in_other_case_is_the_counterpart_where_the_copy_store_ignores_case() {
        let entries = [StoreEntry {
            hash_origin: Some(HashOrigin::FirstSeen),
            ..full("20261122T000000Z")
        }];
        let mut copy = full("20261122T000000Z");
        copy.path = copy.path.to_uppercase();
        copy.sha256 = Some("f".repeat(64));
        let copies = [copy];
        let copies = as_backups(&copies);
        let backups = as_backups(&entries);
        for (case, doubted) in [(NameCase::Insensitive, true), (NameCase::Sensitive, false)] {
            let others = by_name(&copies, case);
            assert_eq!(in_doubt(&backups[0], &others, case), doubted, "{case:?}");
        }
    }
}
