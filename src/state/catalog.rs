//! `state/catalog.json`: every backup file standby has hashed, with the hash it had when
//! first seen. Doubles as the hash cache: a file whose (path, size, mtime) is unchanged is
//! not read again unless a verification asks for it.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const FORMAT_VERSION: &str = "1";

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
}

#[derive(Debug, Serialize, Deserialize)]
struct CatalogFile {
    format_version: String,
    entries: Vec<CatalogEntry>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: HashMap<PathBuf, CatalogEntry>,
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
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::default()),
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
            entries: file
                .entries
                .into_iter()
                .map(|e| (e.path.clone(), e))
                .collect(),
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), CatalogError> {
        let mut entries: Vec<&CatalogEntry> = self.entries.values().collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let file = serde_json::json!({ "format_version": FORMAT_VERSION, "entries": entries });
        let bytes = serde_json::to_vec(&file).map_err(|e| CatalogError::Write {
            path: path.to_owned(),
            source: io::Error::other(e),
        })?;
        super::atomic::write(path, &bytes).map_err(|source| CatalogError::Write {
            path: path.to_owned(),
            source,
        })
    }

    pub fn get(&self, path: &Path) -> Option<&CatalogEntry> {
        self.entries.get(path)
    }

    pub fn insert(&mut self, entry: CatalogEntry) {
        self.entries.insert(entry.path.clone(), entry);
    }

    /// Forgets files that are gone, so the catalog does not grow without bound.
    pub fn retain(&mut self, mut keep: impl FnMut(&Path) -> bool) {
        self.entries.retain(|path, _| keep(path));
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
