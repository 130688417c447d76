//! `state/catalog.json`: every backup file standby has hashed, with the hash it had when
//! first seen. Doubles as the hash cache: a file whose (path, size, mtime) is unchanged is
//! not read again unless a verification asks for it.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

pub const FORMAT_VERSION: &str = "1";

/// The catalog's columns in the state databases, in the order both backends read and
/// write them.
pub const CATALOG_COLUMNS: &str =
    "path, address, size, mtime, sha256, mismatch, files, first_seen, last_verified, origin";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The address of the item the file belongs to, when its path follows the layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub path: PathBuf,
    pub size: u64,
    pub mtime: Timestamp,
    /// The content hash recorded when the file was first hashed. Never overwritten by a
    /// different hash: a later difference is corruption, and stays reported.
    pub sha256: String,
    /// The different hash the content had when last read, while it differs from `sha256`:
    /// the file is corrupt, and stays reported until its content is right again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
    /// For a fileset snapshot: how many files it holds (`size` is their total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
    pub first_seen: Timestamp,
    pub last_verified: Timestamp,
    /// Where `sha256` came from. An entry of a catalog written before this was recorded
    /// reads as `first-seen`: nothing vouches for it.
    #[serde(default)]
    pub origin: HashOrigin,
}

/// Where a recorded hash came from, which decides how far it can be trusted.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum HashOrigin {
    /// Standby wrote or copied the file and verified its hash as it did: the content is
    /// known to be right.
    VerifiedAt,
    /// Discovery hashed the file the first time it saw it (a rebuilt catalog, a backup
    /// another tool made): the hash is whatever the content was then, right or not.
    #[default]
    FirstSeen,
}

impl HashOrigin {
    /// The name the state databases store (the same as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifiedAt => "verified-at",
            Self::FirstSeen => "first-seen",
        }
    }

    /// The origin a state database stored; anything else vouches for nothing.
    pub fn from_stored(stored: &str) -> Self {
        if stored == Self::VerifiedAt.as_str() {
            Self::VerifiedAt
        } else {
            Self::FirstSeen
        }
    }
}

/// The set of entries, hashed with a fast hash: loading and looking up 100,000 paths is
/// much of a re-discovery's work. Paths are not secret and never chosen by an attacker who
/// could use collisions to slow standby down any more than by creating files.
type Entries = HashSet<ByPath, foldhash::fast::RandomState>;

#[derive(Debug, Deserialize)]
struct CatalogFile {
    format_version: String,
    #[serde(deserialize_with = "entries_by_path")]
    entries: Entries,
}

/// What `save` writes: the same shape as [`CatalogFile`], borrowing the entries.
#[derive(Serialize)]
struct CatalogFileRef<'a> {
    format_version: &'a str,
    entries: Vec<&'a CatalogEntry>,
}

/// A catalog entry that hashes and compares as its path: a set of them is a map keyed by
/// path that does not hold a second copy of every path.
#[derive(Debug, Clone)]
struct ByPath(CatalogEntry);

impl PartialEq for ByPath {
    fn eq(&self, other: &Self) -> bool {
        self.0.path == other.0.path
    }
}

impl Eq for ByPath {}

impl Hash for ByPath {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.path.hash(state);
    }
}

impl Borrow<Path> for ByPath {
    fn borrow(&self) -> &Path {
        &self.0.path
    }
}

/// Reads the entries straight into the set (no list of them first); a later entry for the
/// same path replaces an earlier one.
fn entries_by_path<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
    struct EntriesVisitor;
    impl<'de> Visitor<'de> for EntriesVisitor {
        type Value = Entries;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a list of catalog entries")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut entries = Entries::with_capacity_and_hasher(
                seq.size_hint().unwrap_or(0),
                foldhash::fast::RandomState::default(),
            );
            while let Some(entry) = seq.next_element()? {
                entries.replace(ByPath(entry));
            }
            Ok(entries)
        }
    }
    deserializer.deserialize_seq(EntriesVisitor)
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Entries,
    /// Whether the content differs from the file it was loaded from (or there is no file):
    /// an unchanged catalog need not be written again.
    changed: bool,
    /// Paths inserted or replaced since the catalog was loaded or saved: what a state
    /// backend writes, instead of the whole catalog.
    upserted: HashSet<PathBuf>,
    /// Paths forgotten since the catalog was loaded or saved.
    removed: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not a catalog: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} has catalog format {found}; this standby reads format {FORMAT_VERSION}")]
    Version { path: PathBuf, found: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

impl Catalog {
    /// Loads the catalog; a missing file is an empty catalog.
    pub fn load(path: &Path) -> Result<Self, CatalogError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Self {
                    changed: true,
                    ..Self::default()
                });
            }
            Err(source) => {
                return Err(CatalogError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let file: CatalogFile =
            serde_json::from_slice(&bytes).map_err(|source| CatalogError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if file.format_version != FORMAT_VERSION {
            return Err(CatalogError::Version {
                path: path.to_owned(),
                found: file.format_version,
            });
        }
        Ok(Self {
            entries: file.entries,
            ..Self::default()
        })
    }

    /// A catalog of these entries, as a state backend loaded them: nothing to save yet.
    pub fn from_entries(entries: impl IntoIterator<Item = CatalogEntry>) -> Self {
        Self {
            entries: entries.into_iter().map(ByPath).collect(),
            ..Self::default()
        }
    }

    /// What changed since the catalog was loaded or last marked saved: the entries inserted
    /// or replaced, and the paths forgotten.
    pub fn changes(&self) -> (Vec<&CatalogEntry>, &[PathBuf]) {
        let upserted = self.upserted.iter().filter_map(|p| self.get(p)).collect();
        (upserted, &self.removed)
    }

    /// After a backend wrote [`Self::changes`].
    pub fn mark_saved(&mut self) {
        self.upserted.clear();
        self.removed.clear();
        self.changed = false;
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries.iter().map(|e| &e.0)
    }

    /// Whether the catalog differs from the file it was loaded from, or there was none.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    pub fn save(&self, path: &Path) -> Result<(), CatalogError> {
        let mut entries: Vec<&CatalogEntry> = self.entries.iter().map(|e| &e.0).collect();
        // Paths are unique keys, so an unstable sort gives the same order, with less work.
        entries.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        // Serialized straight from the entries: going through `serde_json::Value` first
        // copied the whole catalog into a tree of maps.
        let file = CatalogFileRef {
            format_version: FORMAT_VERSION,
            entries,
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| CatalogError::Write {
            path: path.to_owned(),
            source: io::Error::other(e),
        })?;
        crate::io::atomic::write(path, &bytes).map_err(|source| CatalogError::Write {
            path: path.to_owned(),
            source,
        })
    }

    pub fn get(&self, path: &Path) -> Option<&CatalogEntry> {
        self.entries.get(path).map(|e| &e.0)
    }

    /// Adds an entry, or replaces the one with the same path.
    pub fn insert(&mut self, entry: CatalogEntry) {
        if self.get(&entry.path) == Some(&entry) {
            return;
        }
        self.upserted.insert(entry.path.clone());
        self.entries.replace(ByPath(entry));
        self.changed = true;
    }

    /// Forgets files that are gone, so the catalog does not grow without bound.
    pub fn retain(&mut self, mut keep: impl FnMut(&Path) -> bool) {
        let removed = &mut self.removed;
        let upserted = &mut self.upserted;
        self.entries.retain(|e| {
            let kept = keep(&e.0.path);
            if !kept {
                upserted.remove(&e.0.path);
                removed.push(e.0.path.clone());
            }
            kept
        });
        self.changed |= !self.removed.is_empty();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_treats_a_missing_file_as_empty() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("catalog.json");
        assert!(Catalog::load(&path)?.is_empty());
        let mut catalog = Catalog::default();
        let now = Timestamp::from_second(1_800_000_000)?;
        catalog.insert(CatalogEntry {
            address: Some("redmond/database/rtc/full".into()),
            path: "/srv/b/rtc.bak".into(),
            size: 3,
            mtime: now,
            sha256: "ab".repeat(32),
            mismatch: None,
            files: None,
            first_seen: now,
            last_verified: now,
            origin: crate::state::catalog::HashOrigin::FirstSeen,
        });
        catalog.save(&path)?;
        let loaded = Catalog::load(&path)?;
        assert_eq!(loaded.len(), 1);
        assert_eq!(
            loaded.get(Path::new("/srv/b/rtc.bak")).map(|e| e.size),
            Some(3)
        );
        Ok(())
    }

    fn entry(path: &str, sha256: &str) -> Result<CatalogEntry, jiff::Error> {
        let now = Timestamp::from_second(1_800_000_000)?;
        Ok(CatalogEntry {
            address: None,
            path: path.into(),
            size: 1,
            mtime: now,
            sha256: sha256.repeat(32),
            mismatch: None,
            files: None,
            first_seen: now,
            last_verified: now,
            origin: crate::state::catalog::HashOrigin::FirstSeen,
        })
    }

    #[test]
    fn only_a_changed_catalog_needs_saving() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("catalog.json");
        let mut catalog = Catalog::load(&path)?;
        assert!(catalog.is_changed(), "a missing catalog is written");
        catalog.insert(entry("/srv/b/a.bak", "aa")?);
        catalog.insert(entry("/srv/b/b.bak", "bb")?);
        catalog.save(&path)?;
        let mut catalog = Catalog::load(&path)?;
        assert!(!catalog.is_changed());
        catalog.retain(|_| true);
        assert!(!catalog.is_changed(), "keeping everything changes nothing");
        catalog.retain(|p| p != Path::new("/srv/b/b.bak"));
        assert!(catalog.is_changed());
        assert_eq!(catalog.len(), 1);
        let mut catalog = Catalog::load(&path)?;
        catalog.insert(entry("/srv/b/a.bak", "cc")?);
        assert!(catalog.is_changed());
        assert_eq!(
            catalog.len(),
            2,
            "an insert replaces the entry of the same path"
        );
        assert_eq!(
            catalog
                .get(Path::new("/srv/b/a.bak"))
                .map(|e| &e.sha256[..2]),
            Some("cc")
        );
        Ok(())
    }

    #[test]
    fn the_last_entry_for_a_path_wins_and_saving_sorts_by_path()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("catalog.json");
        let file = serde_json::json!({
            "format_version": FORMAT_VERSION,
            "entries": [entry("/b/z", "11")?, entry("/b/a", "22")?, entry("/b/z", "33")?],
        });
        std::fs::write(&path, serde_json::to_vec(&file)?)?;
        let catalog = Catalog::load(&path)?;
        assert_eq!(catalog.len(), 2);
        assert_eq!(
            catalog.get(Path::new("/b/z")).map(|e| &e.sha256[..2]),
            Some("33")
        );
        catalog.save(&path)?;
        let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
        let paths: Vec<_> = saved["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["path"].as_str())
            .collect();
        assert_eq!(paths, vec![Some("/b/a"), Some("/b/z")]);
        Ok(())
    }

    #[test]
    fn refuses_another_format_version() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("catalog.json");
        std::fs::write(&path, r#"{"format_version":"9","entries":[]}"#)?;
        assert!(matches!(
            Catalog::load(&path),
            Err(CatalogError::Version { .. })
        ));
        Ok(())
    }
}
