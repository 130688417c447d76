//! Actions: what `apply` would do to resolve findings, with a preview a person can check.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::finding::FindingCode;
use crate::address::Address;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    BackupDatabase,
    VerifyBackup,
    CopyBackup,
    ExportSettings,
    SnapshotFileset,
    PruneBackup,
    SetRecoveryModel,
    RestoreTest,
    Manual,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BackupDatabase => "backup-database",
            Self::VerifyBackup => "verify-backup",
            Self::CopyBackup => "copy-backup",
            Self::ExportSettings => "export-settings",
            Self::SnapshotFileset => "snapshot-fileset",
            Self::PruneBackup => "prune-backup",
            Self::SetRecoveryModel => "set-recovery-model",
            Self::RestoreTest => "restore-test",
            Self::Manual => "manual",
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The concrete operation, with everything `apply` needs and nothing it must look up again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Operation {
    /// Copy a file (or a snapshot directory) to another store, keeping its relative path.
    Copy {
        from: PathBuf,
        to: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// Run a SQL Server BACKUP into the store through its `sql-path`.
    BackupDatabase {
        site: String,
        instance: String,
        database: String,
        backup_type: String,
        sql_path: String,
        local_path: PathBuf,
    },
    /// Run the export argv, `{file}` replaced by a temporary name beside `file` that is
    /// renamed to `file` once the command succeeded.
    Export { argv: Vec<String>, file: PathBuf },
    /// Copy the fileset's selected files into a new snapshot directory.
    Snapshot {
        source: PathBuf,
        snapshot: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<PathBuf>,
    },
    /// Read a backup again and record its hash.
    Verify { path: PathBuf },
    /// `RESTORE VERIFYONLY ... WITH CHECKSUM` of a backup file, by SQL Server.
    VerifyOnly {
        site: String,
        instance: String,
        disk: String,
    },
    /// `ALTER DATABASE ... SET RECOVERY ...`.
    SetRecoveryModel {
        site: String,
        instance: String,
        database: String,
        /// `FULL`, `SIMPLE` or `BULK_LOGGED`.
        model: String,
    },
    /// Restore the chain as `test_database`, `DBCC CHECKDB` it, drop it.
    RestoreTest {
        site: String,
        instance: String,
        database: String,
        test_database: String,
        /// The backups to restore, in order: a full, then a differential and logs.
        chain: Vec<RestoreFile>,
        /// Where each file of the database goes: (logical name, new physical name).
        moves: Vec<(String, String)>,
    },
    /// Delete one backup inside a store root.
    Prune { path: PathBuf, store_root: PathBuf },
    /// Nothing standby can do; a person must.
    Manual,
}

/// One backup of a restore chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreFile {
    /// The path as SQL Server sees it.
    pub disk: String,
    /// `full`, `diff` or `log`.
    pub backup_type: String,
    /// The other devices of a striped set, in family order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stripes: Vec<String>,
    /// The set's file number on its media (`WITH FILE = n`).
    #[serde(
        default = "crate::observe::sql::one",
        skip_serializing_if = "crate::observe::sql::is_one"
    )]
    pub position: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub id: String,
    pub address: Address,
    pub kind: ActionKind,
    pub resolves: Vec<FindingCode>,
    /// What will happen, as the operator would check it: the copy, the T-SQL, the command.
    pub preview: String,
    pub destructive: bool,
    pub manual: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Actions that must succeed first (a backup before its copy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub operation: Operation,
}

impl Action {
    pub fn new(
        address: &Address,
        kind: ActionKind,
        resolves: &[FindingCode],
        preview: impl Into<String>,
        operation: Operation,
    ) -> Self {
        Self {
            id: String::new(),
            address: address.clone(),
            kind,
            resolves: resolves.to_vec(),
            preview: preview.into(),
            destructive: kind == ActionKind::PruneBackup,
            manual: kind == ActionKind::Manual,
            owner: None,
            depends_on: Vec::new(),
            operation,
        }
    }

    pub fn manual(
        address: &Address,
        resolves: &[FindingCode],
        what: impl Into<String>,
        owner: Option<&str>,
    ) -> Self {
        let mut action = Self::new(
            address,
            ActionKind::Manual,
            resolves,
            what,
            Operation::Manual,
        );
        action.owner = owner.map(str::to_owned);
        action
    }
}
