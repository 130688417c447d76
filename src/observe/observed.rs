//! What discovery saw, as plain serializable data: `state/observed.json`.
//!
//! Providers fill this in and never judge it; `plan` decides what is wrong. Paths inside a
//! store are relative to the store root and always use `/`.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::io::walk::UnreadablePath;
pub use crate::platform::NameCase;

/// The version of the `observed.json` format this build reads and writes.
pub const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    pub format_version: String,
    pub taken_at: Timestamp,
    #[serde(default)]
    pub stores: Vec<StoreObservation>,
    #[serde(default)]
    pub filesets: Vec<FilesetObservation>,
    /// The text of the newest exports that `settings-compare` compares (for `audit`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings_exports: Vec<SettingsExport>,
    /// What every declared DNS record resolved to (for `audit`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<super::dns::DnsObservation>,
    /// Every declared SQL Server instance as the SQL Server provider saw it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sql: Vec<super::sql::SqlInstanceObservation>,
    /// The test restores `apply` ran, from `state/journal.jsonl`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restore_tests: Vec<super::sql::RestoreTestRecord>,
}

/// One store root as it was found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct StoreObservation {
    pub site: String,
    pub store: String,
    pub root: PathBuf,
    /// Why the root could not be listed; `None` when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The root does not exist, or is not a directory (`store-missing`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    /// Directories below the root that could not be read: their content is unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadablePath>,
    /// How the store's file system compares names (detected when it was listed): where it
    /// ignores case, a copy named `REDMOND/…` is the file `redmond/…`. The entries are in
    /// this rule's order.
    #[serde(default, skip_serializing_if = "NameCase::is_sensitive")]
    pub case: NameCase,
    pub entries: Vec<StoreEntry>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A regular file: a database backup, a settings export, anything else.
    File,
    /// A directory holding `MANIFEST.sha256`: a fileset snapshot.
    Snapshot,
    /// A symbolic link: listed so it is never mistaken for a backup, never followed.
    Symlink,
}

/// A file (or snapshot directory) in a store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct StoreEntry {
    pub path: String,
    pub kind: EntryKind,
    /// Bytes; for a snapshot, the sum of its files.
    pub size: u64,
    pub mtime: Timestamp,
    /// The content hash as of this discovery (computed now, or cached for an unchanged
    /// file); for a snapshot, the hash of its `MANIFEST.sha256`. `None`: never hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The hash the catalog recorded when standby first saw this file, when it differs from
    /// `sha256`: the content changed after the backup was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_sha256: Option<String>,
    /// Where the recorded hash came from (`verified-at` when standby wrote the file,
    /// `first-seen` when discovery first hashed it); `None`: nothing recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_origin: Option<crate::state::catalog::HashOrigin>,
    /// When the content was last read and hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<Timestamp>,
    /// Files of a snapshot (count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
    /// Files of a snapshot that are missing or differ from its manifest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bad_files: Vec<String>,
    /// Why the content could not be read, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The source directory of a fileset as it was found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct FilesetObservation {
    pub site: String,
    pub fileset: String,
    pub path: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Files selected by the include/exclude globs.
    pub files: u64,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_mtime: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadablePath>,
}

impl Observed {
    /// What the observation says apart from when it was taken: two discoveries of an
    /// unchanged deployment have the same fingerprint. Hashes the values without formatting
    /// them as JSON, so an unchanged observation costs no serialization.
    pub fn fingerprint(&self) -> String {
        use std::hash::Hash as _;
        let Self {
            format_version,
            taken_at: _,
            stores,
            filesets,
            settings_exports,
            dns,
            sql,
            restore_tests,
        } = self;
        let mut hasher = crate::state::Fingerprint::default();
        (
            format_version,
            stores,
            filesets,
            settings_exports,
            dns,
            sql,
            restore_tests,
        )
            .hash(&mut hasher);
        hasher.hex()
    }

    pub fn store(&self, site: &str, store: &str) -> Option<&StoreObservation> {
        self.stores
            .iter()
            .find(|s| s.site == site && s.store == store)
    }

    pub fn sql_instance(
        &self,
        site: &str,
        instance: &str,
    ) -> Option<&super::sql::SqlInstanceObservation> {
        self.sql
            .iter()
            .find(|i| i.site == site && i.instance == instance)
    }

    pub fn fileset(&self, site: &str, fileset: &str) -> Option<&FilesetObservation> {
        self.filesets
            .iter()
            .find(|f| f.site == site && f.fileset == fileset)
    }

    /// The same observation in a canonical order, without the time it was taken: what a
    /// saved plan's fingerprint covers.
    #[must_use]
    pub fn canonical(&self) -> Self {
        let mut copy = self.clone();
        copy.taken_at = Timestamp::UNIX_EPOCH;
        copy.stores
            .sort_by(|a, b| (&a.site, &a.store).cmp(&(&b.site, &b.store)));
        for store in &mut copy.stores {
            let case = store.case;
            store.entries.sort_by(|a, b| case.cmp(&a.path, &b.path));
            store.unreadable.sort_by(|a, b| a.path.cmp(&b.path));
            for entry in &mut store.entries {
                entry.verified_at = None;
            }
        }
        copy.sql
            .sort_by(|a, b| (&a.site, &a.instance).cmp(&(&b.site, &b.instance)));
        for instance in &mut copy.sql {
            instance.queries = 0;
        }
        copy.restore_tests
            .sort_by(|a, b| (&a.address, a.finished).cmp(&(&b.address, b.finished)));
        copy.filesets
            .sort_by(|a, b| (&a.site, &a.fileset).cmp(&(&b.site, &b.fileset)));
        // Only `audit` reads these, and no action depends on them: DNS answers and export
        // texts must not make a saved plan stale.
        copy.settings_exports.clear();
        copy.dns.clear();
        copy
    }
}

/// The newest export of one settings item, with its text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct SettingsExport {
    pub site: String,
    pub settings: String,
    /// The store the export was looked for in (the item's `store`).
    pub store: String,
    /// The export's path relative to the store root; `None` when there is no export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Why the text could not be read, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
