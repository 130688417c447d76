//! The naming of backups in a store (SPEC §3): where an item's backups live and what they
//! are called (`SITE/KIND/NAME/TYPE/NAME_TYPE_STAMP.EXT`), the stamp in a name, the temporary
//! names standby writes under before a rename, a snapshot's manifest, and the name of a test
//! restore. Discovery, planning and the executor all read names through this one module.

use std::path::{Path, PathBuf};

use jiff::{Timestamp, civil, tz::TimeZone};

use crate::desired::{BackupItem, DatabaseBackupKind, ItemKind};
use crate::platform::NameCase;

/// The manifest file of a fileset snapshot.
pub const MANIFEST: &str = "MANIFEST.sha256";

/// The temporary name standby writes under before a rename; discovery recognises it.
pub const TEMP_PREFIX: &str = ".standby-tmp-";

/// The temporary name `target` is written under before its rename: `.standby-tmp-PID-NAME.tmp`
/// in the same directory.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "unnamed".into(), |n| n.to_string_lossy().into_owned());
    // Ends in `.tmp` so that readers globbing the final extension (node_exporter reads every
    // `*.prom`) never pick up a half-written file.
    target.with_file_name(format!("{TEMP_PREFIX}{}-{name}.tmp", std::process::id()))
}

/// The pid in a temporary name `.standby-tmp-PID-…`, if `name` is one.
pub fn temp_owner(name: &str) -> Option<u32> {
    let (pid, _) = name.strip_prefix(TEMP_PREFIX)?.split_once('-')?;
    pid.parse().ok()
}

/// `.standby-tmp-PID-NAME.tmp` → `NAME`.
pub fn final_name(file: &str) -> &str {
    file.strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(_, name)| name.strip_suffix(".tmp"))
        .unwrap_or(file)
}

/// The name a test restore of `database` gets; nothing else is ever dropped.
pub const RESTORE_TEST_PREFIX: &str = "standby-restoretest-";

/// What a backup is, as the `TYPE` of its directory and name says: `full`, `diff` and
/// `log` database backups, a settings `export`, a fileset `snapshot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupType {
    Full,
    Diff,
    Log,
    Export,
    Snapshot,
}

impl BackupType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Diff => "diff",
            Self::Log => "log",
            Self::Export => "export",
            Self::Snapshot => "snapshot",
        }
    }

    fn of(kind: DatabaseBackupKind) -> Self {
        match kind {
            DatabaseBackupKind::Full => Self::Full,
            DatabaseBackupKind::Diff => Self::Diff,
            DatabaseBackupKind::Log => Self::Log,
        }
    }

    /// The extension of its files; `None` for a snapshot, which is a directory.
    fn ext(self) -> Option<&'static str> {
        match self {
            Self::Full | Self::Diff => Some("bak"),
            Self::Log => Some("trn"),
            Self::Export => Some("xml"),
            Self::Snapshot => None,
        }
    }
}

impl std::fmt::Display for BackupType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an item's backups live inside a store and what they are called.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `SITE/KIND/NAME/TYPE/`
    pub dir: String,
    pub name: String,
    pub backup_type: BackupType,
    /// `bak`, `trn`, `xml`; `None` for a snapshot directory.
    pub ext: Option<&'static str>,
}

impl Layout {
    pub fn of(item: &BackupItem<'_>) -> Self {
        let site = &item.site.name.value;
        let (kind, name, backup_type) = match item.kind {
            ItemKind::Database(db, backup) => (
                "database",
                &db.name.value,
                BackupType::of(backup.kind.value),
            ),
            ItemKind::Settings(s) => ("settings", &s.name.value, BackupType::Export),
            ItemKind::Fileset(f) => ("fileset", &f.name.value, BackupType::Snapshot),
        };
        Self {
            dir: format!("{site}/{kind}/{name}/{backup_type}/"),
            name: name.clone(),
            backup_type,
            ext: backup_type.ext(),
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

    /// The time in a backup's name, if `path` is one of this layout's backups: a file
    /// `NAME_TYPE_STAMP.EXT`, or (`snapshot`) a directory `NAME_TYPE_STAMP`; names compared
    /// as `case` says (a store on NTFS holds `REDMOND/…/DB_FULL_….BAK` as `redmond/…`).
    pub fn time_of(&self, case: NameCase, path: &str, snapshot: bool) -> Option<Timestamp> {
        let file = case.strip_prefix(path, &self.dir)?;
        if file.contains('/') {
            return None;
        }
        let rest = case.strip_prefix(file, &self.name)?.strip_prefix('_')?;
        let rest = case
            .strip_prefix(rest, self.backup_type.as_str())?
            .strip_prefix('_')?;
        let stamp = match (self.ext, snapshot) {
            (Some(ext), false) => {
                let (stamp, found) = rest.rsplit_once('.')?;
                case.eq(found, ext).then_some(stamp)?
            }
            (None, true) => rest,
            _ => return None,
        };
        parse_stamp(stamp)
    }
}

/// The address a path under a store belongs to when it follows the layout
/// `SITE/KIND/NAME/TYPE/…`: `SITE/KIND/NAME` plus `/TYPE` for a database.
pub fn layout_address(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [site, "database", name, kind, _, ..] => Some(format!("{site}/database/{name}/{kind}")),
        [site, kind @ ("settings" | "fileset"), name, _, _, ..] => {
            Some(format!("{site}/{kind}/{name}"))
        }
        _ => None,
    }
}

/// `NAME_TYPE_` and the timestamp of a backup file or snapshot name, when it has one.
pub fn split_name(name: &str) -> Option<(&str, Timestamp)> {
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    let at = stem.rfind('_')?;
    Some((&name[..=at], parse_stamp(&stem[at + 1..])?))
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

    #[test]
    fn layout_addresses() {
        assert_eq!(
            layout_address("redmond/database/rtc/full/rtc_full_20261121T010000Z.bak").as_deref(),
            Some("redmond/database/rtc/full")
        );
        assert_eq!(
            layout_address("redmond/settings/global/export/global_export_20261121T010000Z.xml")
                .as_deref(),
            Some("redmond/settings/global")
        );
        assert_eq!(layout_address("stray.txt"), None);
    }

    #[test]
    fn backup_names_split_into_prefix_and_time() {
        let (prefix, _) =
            split_name("rtc_full_20261122T010000Z.bak").unwrap_or(("", Timestamp::UNIX_EPOCH));
        assert_eq!(prefix, "rtc_full_");
        assert!(split_name("mc_snapshot_20261122T010000Z").is_some());
        assert!(split_name("notes.txt").is_none());
    }

    #[test]
    fn a_backup_named_in_capitals_is_one_where_the_store_ignores_case() {
        let layout = Layout {
            dir: "redmond/database/rtc/full/".into(),
            name: "rtc".into(),
            backup_type: BackupType::Full,
            ext: Some("bak"),
        };
        let path = "REDMOND/Database/rtc/full/RTC_FULL_20261122T010000Z.BAK";
        let time = layout.time_of(NameCase::Insensitive, path, false);
        assert_eq!(
            time.map(|t| t.to_string()).as_deref(),
            Some("2026-11-22T01:00:00Z")
        );
        assert_eq!(layout.time_of(NameCase::Sensitive, path, false), None);
        let own = "redmond/database/rtc/full/rtc_full_20261122T010000Z.bak";
        assert_eq!(
            layout.time_of(NameCase::Sensitive, own, false),
            layout.time_of(NameCase::Insensitive, own, false)
        );
        assert!(layout.time_of(NameCase::Sensitive, own, true).is_none());
    }
}
