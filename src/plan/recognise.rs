//! Which store entries are the backups of which item: the naming convention of SPEC §3,
//! or the item's `pattern` glob.

use jiff::{Timestamp, civil, tz::TimeZone};

use crate::desired::{BackupItem, Choice, ItemKind};
use crate::observe::sql::SqlBackup;
use crate::observe::{EntryKind, StoreEntry, StoreObservation};

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

/// Where an item's backups live inside a store and what they are called.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `SITE/KIND/NAME/TYPE/`
    pub dir: String,
    pub name: String,
    /// `full`, `diff`, `log`, `export` or `snapshot`.
    pub backup_type: &'static str,
    /// `bak`, `trn`, `xml`; `None` for a snapshot directory.
    pub ext: Option<&'static str>,
}

impl Layout {
    pub fn of(item: &BackupItem<'_>) -> Self {
        let site = &item.site.name.value;
        let (kind, name, backup_type, ext) = match item.kind {
            ItemKind::Database(db, backup) => {
                let t = backup.kind.value.name();
                (
                    "database",
                    &db.name.value,
                    t,
                    Some(if t == "log" { "trn" } else { "bak" }),
                )
            }
            ItemKind::Settings(s) => ("settings", &s.name.value, "export", Some("xml")),
            ItemKind::Fileset(f) => ("fileset", &f.name.value, "snapshot", None),
        };
        Self {
            dir: format!("{site}/{kind}/{name}/{backup_type}/"),
            name: name.clone(),
            backup_type,
            ext,
        }
    }

    /// The relative path of a backup taken at `time`.
    pub fn path_at(&self, time: Timestamp) -> String {
        let stamp = time.strftime("%Y%m%dT%H%M%SZ");
        match self.ext {
            Some(ext) => format!(
                "{}{}_{}_{stamp}.{ext}",
                self.dir, self.name, self.backup_type
            ),
            None => format!("{}{}_{}_{stamp}", self.dir, self.name, self.backup_type),
        }
    }

    /// The time in a backup's name, if `path` is one of this layout's backups.
    pub fn time_of(&self, entry: &StoreEntry) -> Option<Timestamp> {
        let file = entry.path.strip_prefix(&self.dir)?;
        if file.contains('/') {
            return None;
        }
        let rest = file.strip_prefix(&self.name)?.strip_prefix('_')?;
        let rest = rest.strip_prefix(self.backup_type)?.strip_prefix('_')?;
        let stamp = match (self.ext, entry.kind) {
            (Some(ext), EntryKind::File) => rest.strip_suffix(ext)?.strip_suffix('.')?,
            (None, EntryKind::Snapshot) => rest,
            _ => return None,
        };
        parse_stamp(stamp)
    }
}

/// `YYYYMMDDTHHMMSSZ` → a timestamp.
pub fn parse_stamp(stamp: &str) -> Option<Timestamp> {
    let bytes = stamp.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i32> {
        let part = stamp.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let datetime = civil::DateTime::new(
        i16::try_from(num(0..4)?).ok()?,
        i8::try_from(num(4..6)?).ok()?,
        i8::try_from(num(6..8)?).ok()?,
        i8::try_from(num(9..11)?).ok()?,
        i8::try_from(num(11..13)?).ok()?,
        i8::try_from(num(13..15)?).ok()?,
        0,
    )
    .ok()?;
    datetime.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// The entries of a sorted store listing whose path starts with `prefix`.
pub(super) fn under<'o>(store: &'o StoreObservation, prefix: &str) -> &'o [StoreEntry] {
    let start = store.entries.partition_point(|e| e.path.as_str() < prefix);
    let len = store.entries[start..]
        .iter()
        .take_while(|e| e.path.starts_with(prefix))
        .count();
    &store.entries[start..start + len]
}

/// The item's backups in one store, newest first. With a `pattern`, the matching entries
/// dated by their mtime; otherwise the entries named by the layout.
pub(crate) fn backups<'o>(
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
                layout.time_of(entry).map(|time| Backup {
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

pub(super) fn newest_first(backups: &mut [Backup<'_>]) {
    backups.sort_by(|a, b| {
        b.time
            .cmp(&a.time)
            .then_with(|| b.entry.path.cmp(&a.entry.path))
    });
}

/// Joins an item's backups in a store with SQL Server's history through the store's
/// `sql-path`. A file adopted by `pattern` takes its time from the history.
pub(super) fn join_history<'o>(
    backups: &mut [Backup<'o>],
    sql_path: &str,
    history: &[&'o SqlBackup],
    adopted: bool,
) {
    if history.is_empty() {
        return;
    }
    let by_path: std::collections::HashMap<String, &'o SqlBackup> = history
        .iter()
        .rev()
        .filter_map(|b| {
            super::database::store_path(sql_path, &b.device).map(|p| (p.to_ascii_lowercase(), *b))
        })
        .collect();
    for backup in backups.iter_mut() {
        backup.sql = by_path
            .get(&backup.entry.path.to_ascii_lowercase())
            .copied();
        if adopted && let Some(sql) = backup.sql {
            backup.time = sql.finished;
        }
    }
    if adopted {
        newest_first(backups);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_parse_strictly() {
        let t = parse_stamp("20261121T013000Z").map(|t| t.to_string());
        assert_eq!(t.as_deref(), Some("2026-11-21T01:30:00Z"));
        for bad in [
            "20261121T013000",
            "20261321T013000Z",
            "2026112xT013000Z",
            "20261121 013000Z",
            "",
        ] {
            assert!(parse_stamp(bad).is_none(), "{bad}");
        }
    }
}
