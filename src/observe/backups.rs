//! Which entries of an observed store are the backups of which item: the names of
//! [`crate::layout`], or the item's `pattern` glob.

use jiff::Timestamp;

use super::sql::SqlBackup;
use super::{EntryKind, StoreEntry, StoreObservation};
use crate::desired::BackupItem;
use crate::layout::Layout;

/// A store entry recognised as one backup of an item, with the time it stands for.
#[derive(Debug, Clone, Copy)]
pub struct Backup<'o> {
    pub entry: &'o StoreEntry,
    pub time: Timestamp,
    /// What SQL Server's history says of this file, when it wrote it.
    pub sql: Option<&'o SqlBackup>,
}

impl Backup<'_> {
    pub fn is_verified(&self) -> bool {
        self.entry.sha256.is_some()
            && self.entry.recorded_sha256.is_none()
            && self.entry.bad_files.is_empty()
            && self.entry.error.is_none()
    }
}

/// The entries of a sorted store listing whose path starts with `prefix`, as the store's
/// file system compares names.
pub fn under<'o>(store: &'o StoreObservation, prefix: &str) -> &'o [StoreEntry] {
    let case = store.case;
    let start = store
        .entries
        .partition_point(|e| case.cmp(&e.path, prefix).is_lt());
    let len = store.entries[start..]
        .iter()
        .take_while(|e| case.strip_prefix(&e.path, prefix).is_some())
        .count();
    &store.entries[start..start + len]
}

/// The item's backups in one store, newest first. With a `pattern`, the matching entries
/// dated by their mtime; otherwise the entries named by the layout.
pub fn backups<'o>(
    item: &BackupItem<'_>,
    layout: &Layout,
    store: &'o StoreObservation,
) -> Vec<Backup<'o>> {
    let mut found: Vec<Backup<'o>> = match &item.policy.pattern {
        Some(pattern) => {
            let Ok(glob) = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
            else {
                return Vec::new();
            };
            let glob = glob.compile_matcher();
            store
                .entries
                .iter()
                .filter(|e| e.kind != EntryKind::Symlink && glob.is_match(&e.path))
                .map(|entry| Backup {
                    entry,
                    time: entry.mtime,
                    sql: None,
                })
                .collect()
        }
        None => under(store, &layout.dir)
            .iter()
            .filter_map(|entry| {
                let time = match entry.kind {
                    EntryKind::File => layout.time_of(store.case, &entry.path, false),
                    EntryKind::Snapshot => layout.time_of(store.case, &entry.path, true),
                    EntryKind::Symlink => None,
                };
                time.map(|time| Backup {
                    entry,
                    time,
                    sql: None,
                })
            })
            .collect(),
    };
    newest_first(&mut found);
    found
}

pub fn newest_first(backups: &mut [Backup<'_>]) {
    backups.sort_by(|a, b| {
        b.time
            .cmp(&a.time)
            .then_with(|| b.entry.path.cmp(&a.entry.path))
    });
}
