//! Copies at the standby site. Declared: every backup item of the primary has `copy-to` a
//! store located at the standby site (`standby-missing`, "no copy at the standby site"),
//! unless the standby omits the component. Observed: the kept backups have equal copies
//! there — the plan's own `copy-missing` and `copy-mismatch` rules decide — and the newest
//! backup both stores hold tells how far the standby is behind.

use std::collections::HashMap;

use super::parity::{CopyParity, NOTHING, ParityKind, Status};
use super::{Out, Pair};
use crate::desired::{BackupItem, Desired, Store};
use crate::observe::Backup;
use crate::observe::Observed;
use crate::plan::{Finding, FindingCode, ItemState, Severity, copy_parity};

pub(super) fn check(
    desired: &Desired,
    observed: &Observed,
    pair: &Pair<'_>,
    now: jiff::Timestamp,
    out: &mut Out,
) {
    let standby = &pair.standby.name.value;
    for item in desired
        .backup_items()
        .filter(|i| std::ptr::eq(i.site, pair.primary))
    {
        let address = item.address.clone();
        let label = address
            .as_str()
            .split_once('/')
            .map_or(address.as_str(), |(_, rest)| rest)
            .to_owned();
        let copy_store = item
            .policy
            .copy_to
            .as_ref()
            .and_then(|c| pair.primary.store(c));
        let problem = match copy_store {
            None => Some((
                format!("no copy at the standby site: `{address}` has no `copy-to`"),
                NOTHING.to_owned(),
            )),
            Some(store) if !at_standby(store, pair) => Some((
                format!(
                    "no copy at the standby site: its copy store `{}` is at `{}`, not `{standby}`",
                    store.name.value,
                    store
                        .located_at
                        .as_ref()
                        .map_or(&pair.primary.name.value, |l| &l.value)
                ),
                format!("{} (not at {standby})", store.name.value),
            )),
            Some(_) => None,
        };
        if let Some((message, standby_side)) = problem {
            if let Some(omitted) = pair.omits.item(&item) {
                out.row(
                    pair,
                    ParityKind::Copy,
                    address,
                    (label, standby_side),
                    Status::Omitted,
                )
                .note = Some(omitted.note());
                continue;
            }
            out.finding(
                Finding::new(&address, FindingCode::StandbyMissing, Severity::Critical, message)
                    .desired(format!("copies in a store located at `{standby}`"))
                    .hint(format!(
                        "declare a store with located-at=\"{standby}\" and name it in copy-to, or omit the component at `{standby}`"
                    )),
            );
            out.row(
                pair,
                ParityKind::Copy,
                address,
                (label, standby_side),
                Status::Missing,
            )
            .note = Some("no copy at the standby site".to_owned());
            continue;
        }
        observed_copies(desired, observed, item, pair, now, &label, out);
    }
}

/// Whether copies in `store` are at the standby site: it is `located-at` the standby, or it
/// lies inside one of the standby's own stores (the same share declared on both sides).
fn at_standby(store: &Store, pair: &Pair<'_>) -> bool {
    store
        .located_at
        .as_ref()
        .is_some_and(|l| l.value == pair.standby.name.value)
        || pair
            .standby
            .stores
            .iter()
            .any(|s| store.path.value.starts_with(&s.path.value))
}

fn equal(backup: &Backup<'_>, copy: &Backup<'_>) -> bool {
    backup.entry.size == copy.entry.size
        && backup.entry.sha256.is_some()
        && backup.entry.sha256 == copy.entry.sha256
}

fn file_name(backup: &Backup<'_>) -> String {
    backup
        .entry
        .path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn observed_copies(
    desired: &Desired,
    observed: &Observed,
    item: BackupItem<'_>,
    pair: &Pair<'_>,
    now: jiff::Timestamp,
    label: &str,
    out: &mut Out,
) {
    let address = item.address.clone();
    let Some(state) = ItemState::new(desired, observed, item, None, now) else {
        return;
    };
    let Some(copy_store) = state.copy_store else {
        return;
    };
    let keep = state.item.policy.keep.value as usize;
    let kept = state.backups.len().min(keep);
    // By path, once: an item may have hundreds of backups.
    let copy_at: HashMap<&str, &Backup<'_>> = state
        .copies
        .iter()
        .map(|c| (c.entry.path.as_str(), c))
        .collect();
    let has_equal_copy = |b: &&Backup<'_>| {
        copy_at
            .get(b.entry.path.as_str())
            .is_some_and(|c| equal(b, c))
    };
    let copied = state
        .backups
        .iter()
        .take(keep)
        .filter(has_equal_copy)
        .count();
    let newest = state.backups.first();
    let common = state.backups.iter().find(has_equal_copy);
    let parity = CopyParity {
        store: copy_store.name.value.clone(),
        kept,
        copied,
        newest: newest.map(|b| b.entry.path.clone()),
        newest_at: newest.map(|b| b.time),
        newest_common: common.map(|b| b.entry.path.clone()),
        newest_common_at: common.map(|b| b.time),
        lag_seconds: newest
            .zip(common)
            .map(|(n, c)| n.time.as_second() - c.time.as_second()),
    };
    let findings = copy_parity(&state);
    let unknown = findings
        .iter()
        .any(|f| f.code == FindingCode::SourceUnreachable);
    let drift = findings.iter().any(|f| f.severity != Severity::Info);
    let status = if unknown {
        Status::Unknown
    } else if drift {
        Status::Drift
    } else {
        Status::Ok
    };
    let primary_side = match newest {
        Some(newest) => format!("{label}, newest {}", file_name(newest)),
        None => format!("{label}, no backup"),
    };
    let standby_side = if unknown {
        format!("{}: unknown", parity.store)
    } else {
        let common_text = common.map_or_else(
            || "nothing in common".to_owned(),
            |c| {
                format!(
                    "common {}, lag {}",
                    file_name(c),
                    crate::units::age(parity.lag_seconds.unwrap_or_default())
                )
            },
        );
        format!("{}: {copied}/{kept} copied, {common_text}", parity.store)
    };
    let row = out.row(
        pair,
        ParityKind::Copy,
        address,
        (primary_side, standby_side),
        status,
    );
    // The findings below say what exactly; the row names them.
    let mut codes: Vec<&str> = findings
        .iter()
        .filter(|f| unknown || f.severity != Severity::Info)
        .map(|f| f.code.as_str())
        .collect();
    codes.dedup();
    row.note = (!codes.is_empty()).then(|| codes.join(", "));
    row.copies = Some(parity);
    for finding in findings {
        out.finding(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{audit_with, codes, entry, rows, store};
    use crate::audit::{ParityKind, Status};
    use crate::observe::Observed;

    const SITES: &str = r#"
site "p" role="primary" region="west" {
    store "local" path="/b/local"
    store "offsite" path="/b/offsite" located-at="s"
    store "near" path="/b/near"
    store "shared" path="/mnt/s-share/p"
    sql-instance "i" host="sql.example"
    database "db" instance="i" {
        backup "full" every="24h" keep=3 store="local" copy-to="offsite"
        backup "log" every="1h" keep=3 store="local"
    }
    database "cfg" instance="i" {
        backup "full" every="24h" keep=3 store="local" copy-to="near"
    }
    database "scratch" instance="i" {
        backup "full" every="24h" keep=3 store="local"
    }
    database "ab" instance="i" {
        backup "full" every="24h" keep=3 store="local" copy-to="shared"
    }
}
site "s" role="standby" standby-for="p" region="east" {
    store "share" path="/mnt/s-share"
    omit "database/scratch" reason="rebuilt from scripts"
}
"#;

    fn full(db: &str, stamp: &str, sha: &str) -> crate::observe::StoreEntry {
        entry(
            &format!("p/database/{db}/full/{db}_full_{stamp}.bak"),
            100,
            sha,
        )
    }

    /// db/full: three backups in local; the copies of the two older ones in offsite.
    fn observed() -> Observed {
        let local = vec![
            full("db", "20261122T010000Z", "a"),
            full("db", "20261121T010000Z", "b"),
            full("db", "20261120T010000Z", "c"),
        ];
        let offsite = vec![
            full("db", "20261121T010000Z", "b"),
            full("db", "20261120T010000Z", "c"),
        ];
        super::super::fixture::observed(vec![
            store("p", "local", "/b/local", local),
            store("p", "offsite", "/b/offsite", offsite),
            store("p", "near", "/b/near", Vec::new()),
            store("p", "shared", "/mnt/s-share/p", Vec::new()),
        ])
    }

    #[test]
    fn every_primary_backup_needs_a_copy_at_the_standby_site() {
        let audit = audit_with(SITES, &observed());
        let missing: Vec<&str> = audit
            .findings
            .iter()
            .filter(|f| f.message.starts_with("no copy at the standby site"))
            .map(|f| f.address.as_str())
            .collect();
        assert_eq!(missing, ["p/database/cfg/full", "p/database/db/log"]);
        let message = |address: &str| {
            audit
                .findings
                .iter()
                .find(|f| f.address.as_str() == address)
                .map(|f| f.message.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            message("p/database/db/log"),
            "no copy at the standby site: `p/database/db/log` has no `copy-to`"
        );
        assert_eq!(
            message("p/database/cfg/full"),
            "no copy at the standby site: its copy store `near` is at `p`, not `s`"
        );
        let copy = rows(&audit, ParityKind::Copy);
        let status = |address: &str| {
            copy.iter()
                .find(|r| r.address.as_str() == address)
                .map(|r| r.status)
        };
        // Omitted at the standby: no copy needed. Inside a store the standby declares: at
        // the standby.
        assert_eq!(status("p/database/scratch/full"), Some(Status::Omitted));
        assert_eq!(status("p/database/ab/full"), Some(Status::Ok));
    }

    #[test]
    fn the_newest_common_backup_and_the_lag_are_reported() {
        let audit = audit_with(SITES, &observed());
        let copy = rows(&audit, ParityKind::Copy);
        let row = copy
            .iter()
            .find(|r| r.address.as_str() == "p/database/db/full")
            .expect("a row for db/full");
        assert_eq!(row.status, Status::Drift);
        let parity = row.copies.as_ref().expect("copy parity");
        assert_eq!((parity.kept, parity.copied), (3, 2));
        assert_eq!(
            parity.newest_common.as_deref(),
            Some("p/database/db/full/db_full_20261121T010000Z.bak")
        );
        assert_eq!(parity.lag_seconds, Some(86_400));
        assert_eq!(
            row.standby,
            "offsite: 2/3 copied, common db_full_20261121T010000Z.bak, lag 1d"
        );
        // The plan's own rule reports the missing copy.
        assert!(codes(&audit).contains(&("p/database/db/full".into(), "copy-missing".into())));
    }

    #[test]
    fn a_copy_with_another_hash_is_a_mismatch_and_not_in_common() {
        let mut observed = observed();
        observed.stores[1].entries[0].sha256 = Some("e".repeat(64));
        observed.stores[1]
            .entries
            .insert(0, full("db", "20261122T010000Z", "a"));
        observed.stores[1]
            .entries
            .sort_by(|a, b| a.path.cmp(&b.path));
        let audit = audit_with(SITES, &observed);
        assert!(codes(&audit).contains(&("p/database/db/full".into(), "copy-mismatch".into())));
        let copy = rows(&audit, ParityKind::Copy);
        let parity = copy
            .iter()
            .find(|r| r.address.as_str() == "p/database/db/full")
            .and_then(|r| r.copies.clone())
            .expect("copy parity");
        assert_eq!(parity.lag_seconds, Some(0));
        assert_eq!(parity.copied, 2);
    }

    #[test]
    fn an_unlisted_copy_store_is_unknown() {
        let mut observed = observed();
        observed.stores[1].error = Some("No such file or directory".into());
        observed.stores[1].entries.clear();
        let audit = audit_with(SITES, &observed);
        assert!(
            codes(&audit).contains(&("p/database/db/full".into(), "source-unreachable".into()))
        );
        let copy = rows(&audit, ParityKind::Copy);
        let row = copy
            .iter()
            .find(|r| r.address.as_str() == "p/database/db/full")
            .expect("a row");
        assert_eq!(row.status, Status::Unknown);
    }
}
