//! `unmanaged`: files in a store that no declared item claims — another tool's backups, a
//! retired database, temporary files an interrupted apply left behind.

use std::collections::{BTreeMap, HashSet};

use super::super::Out;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::address::Address;
use crate::desired::Desired;
use crate::layout::RESTORE_TEST_PREFIX;
use crate::layout::TEMP_PREFIX;
use crate::observe::Observed;
use crate::plan::database::SYSTEM_DATABASES;
use crate::units::bytes;

/// Store entries claimed by some item, as (site, store, path).
#[derive(Default)]
pub(in crate::plan) struct Claimed {
    paths: HashSet<(String, String, String)>,
    /// Layout directories of declared items, as (site, store, dir): a file there that is
    /// not one of the item's backups is foreign.
    dirs: HashSet<(String, String, String)>,
}

impl Claimed {
    pub(in crate::plan) fn add(&mut self, item: &ItemState<'_>) {
        let site = &item.item.site.name.value;
        for (store, backups) in [
            (Some(item.store), &item.backups),
            (item.copy_store, &item.copies),
        ] {
            let Some(store) = store else { continue };
            self.dirs.insert((
                site.clone(),
                store.name.value.clone(),
                item.layout.dir.clone(),
            ));
            for backup in backups {
                self.paths.insert((
                    site.clone(),
                    store.name.value.clone(),
                    backup.entry.path.clone(),
                ));
            }
        }
    }
}

/// What an unclaimed path is grouped under in a report: temporary files together, else
/// the first three components (`SITE/KIND/NAME`).
fn group_of(path: &str) -> String {
    if path.split('/').any(|part| part.starts_with(TEMP_PREFIX)) {
        return "temporary files".into();
    }
    let parts: Vec<&str> = path.split('/').collect();
    match parts.len() {
        1 => path.to_owned(),
        2..=3 => parts[..parts.len() - 1].join("/") + "/",
        _ => parts[..3].join("/") + "/",
    }
}

pub(in crate::plan) fn check(
    desired: &Desired,
    observed: &Observed,
    claimed: &Claimed,
    out: &mut Out,
) {
    for store in &observed.stores {
        if store.error.is_some()
            || desired
                .site(&store.site)
                .and_then(|s| s.store(&store.store))
                .is_none()
        {
            continue;
        }
        let mut groups: BTreeMap<String, (usize, u64, bool)> = BTreeMap::new();
        for entry in &store.entries {
            let key = (store.site.clone(), store.store.clone(), entry.path.clone());
            if claimed.paths.contains(&key) {
                continue;
            }
            let foreign = claimed.dirs.iter().any(|(site, name, dir)| {
                *site == store.site && *name == store.store && entry.path.starts_with(dir.as_str())
            });
            let group = groups.entry(group_of(&entry.path)).or_default();
            group.0 += 1;
            group.1 += entry.size;
            group.2 |= foreign;
        }
        let address = Address::new(&store.site, "store", &store.store);
        for (group, (count, size, in_item_dir)) in groups {
            let hint = if group == "temporary files" {
                "left by an interrupted write; delete them when no standby run is writing"
            } else if in_item_dir {
                "these files sit among a declared item's backups but are not named like them; move them out or adopt them with `pattern`"
            } else {
                "declare the item they belong to (or adopt them with `pattern`), or remove them"
            };
            out.finding(
                Finding::new(
                    &address,
                    FindingCode::Unmanaged,
                    Severity::Info,
                    format!(
                        "{count} file(s) ({}) under {group} that nothing declares",
                        bytes(size)
                    ),
                )
                .hint(hint),
            );
        }
    }
}

/// Databases on an observed instance that no `database` of its site declares. A leftover
/// test restore (an apply killed mid-test) is named as such.
pub(in crate::plan) fn check_databases(desired: &Desired, observed: &Observed, out: &mut Out) {
    for instance in observed.sql.iter().filter(|i| i.error.is_none()) {
        let Some(site) = desired.site(&instance.site) else {
            continue;
        };
        for db in &instance.databases {
            let declared = site.databases.iter().any(|d| {
                d.instance.value == instance.instance && d.name.value.eq_ignore_ascii_case(&db.name)
            });
            if declared
                || SYSTEM_DATABASES
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&db.name))
            {
                continue;
            }
            let leftover = db.name.starts_with(RESTORE_TEST_PREFIX);
            let bytes_on_disk: u64 = db.files.iter().map(|f| f.size_bytes).sum();
            out.finding(
                Finding::new(
                    &Address::new(&instance.site, "database", &db.name),
                    FindingCode::Unmanaged,
                    Severity::Info,
                    format!(
                        "database {} ({}) on sql-instance `{}` is not declared",
                        db.name,
                        bytes(bytes_on_disk),
                        instance.instance
                    ),
                )
                .hint(if leftover {
                    "a test restore that did not finish; drop it: DROP DATABASE [name]"
                } else {
                    "declare it with its backups, or note why it needs none"
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{file, healthy, local, run, sql};
    use crate::plan::{FindingCode, Severity};

    #[test]
    fn undeclared_files_are_grouped_and_reported_as_info() {
        let mut observed = healthy();
        local(&mut observed).push(file(
            "s/database/olddb/full/olddb_full_20261101T000000Z.bak",
            2048,
            "d",
        ));
        local(&mut observed).push(file(
            "s/database/olddb/full/olddb_full_20261102T000000Z.bak",
            2048,
            "d",
        ));
        local(&mut observed).push(file(
            "s/database/db/full/.standby-tmp-42-db_full_x.bak",
            1,
            "d",
        ));
        local(&mut observed).push(file("notes.txt", 1, "d"));
        let plan = run(observed);
        let messages: Vec<_> = plan
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::Unmanaged)
            .map(|f| (f.severity, f.message.clone()))
            .collect();
        assert_eq!(
            messages,
            vec![
                (
                    Severity::Info,
                    "1 file(s) (1 B) under notes.txt that nothing declares".to_owned()
                ),
                (
                    Severity::Info,
                    "2 file(s) (4.0 KiB) under s/database/olddb/ that nothing declares".to_owned()
                ),
                (
                    Severity::Info,
                    "1 file(s) (1 B) under temporary files that nothing declares".to_owned()
                ),
            ]
        );
        assert!(!plan.has_drift(), "info findings alone are in sync");
    }

    #[test]
    fn undeclared_user_databases_are_listed_and_system_ones_are_not() {
        let mut observed = healthy();
        let mut extra = sql(&mut observed).databases[0].clone();
        extra.name = "rtcdyn".into();
        let mut system = extra.clone();
        system.name = "MSDB".into();
        let mut leftover = extra.clone();
        leftover.name = "standby-restoretest-db".into();
        sql(&mut observed)
            .databases
            .extend([extra, system, leftover]);
        let plan = run(observed);
        let found: Vec<(&str, FindingCode, Severity)> = plan
            .findings
            .iter()
            .map(|f| (f.address.as_str(), f.code, f.severity))
            .collect();
        assert_eq!(
            found,
            vec![
                ("s/database/rtcdyn", FindingCode::Unmanaged, Severity::Info),
                (
                    "s/database/standby-restoretest-db",
                    FindingCode::Unmanaged,
                    Severity::Info
                ),
            ]
        );
        assert!(
            plan.findings[1]
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("test restore")
        );
    }
}
