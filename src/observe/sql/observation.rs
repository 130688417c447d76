//! What the SQL Server provider saw on one instance, as plain serializable data. Times are
//! UTC (converted from the server's local `datetime` with the offset it reported); LSNs are
//! decimal strings because `numeric(25,0)` does not fit a JSON number.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct SqlInstanceObservation {
    pub site: String,
    /// The declared `sql-instance` id.
    pub instance: String,
    /// Where standby connected: `host[\instance][:port]`.
    pub server: String,
    /// Why the instance could not be observed (connection, login, a query); `None` when it
    /// was. With an error the lists below are empty and mean "unknown", not "none".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Minutes the server's local clock is ahead of UTC (`datetime` history is local).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// How many statements discovery sent: a constant per instance, never one per database.
    #[serde(default)]
    pub queries: u32,
    #[serde(default)]
    pub databases: Vec<SqlDatabase>,
    /// msdb backup history: the newest few of each database and type, newest first.
    #[serde(default)]
    pub backups: Vec<SqlBackup>,
    /// msdb restore history: the newest restore of each destination database.
    #[serde(default)]
    pub restores: Vec<SqlRestore>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct SqlDatabase {
    pub name: String,
    /// `ONLINE`, `RESTORING`, `OFFLINE`, `SUSPECT`, …
    pub state: String,
    /// `FULL`, `SIMPLE` or `BULK_LOGGED`, as `sys.databases` says.
    pub recovery_model: String,
    /// Whether a log backup chain exists: a FULL database without one behaves as SIMPLE
    /// until its next full backup.
    pub log_chain: bool,
    #[serde(default)]
    pub files: Vec<SqlFile>,
}

impl SqlDatabase {
    pub fn is_online(&self) -> bool {
        self.state.eq_ignore_ascii_case("ONLINE")
    }

    /// The recovery model that actually applies: FULL or `BULK_LOGGED` without a log chain
    /// truncates its log like SIMPLE ("pseudo-simple").
    pub fn effective_recovery_model(&self) -> &str {
        if self.recovery_model.eq_ignore_ascii_case("SIMPLE") || !self.log_chain {
            "SIMPLE"
        } else {
            &self.recovery_model
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct SqlFile {
    pub logical_name: String,
    /// `ROWS` (data) or `LOG`.
    pub kind: String,
    pub physical_name: String,
    pub size_bytes: u64,
}

impl SqlFile {
    pub fn is_log(&self) -> bool {
        self.kind.eq_ignore_ascii_case("LOG")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct SqlBackup {
    pub database: String,
    /// `full`, `diff` or `log` (msdb's `D`, `I`, `L`).
    pub backup_type: String,
    pub started: Timestamp,
    pub finished: Timestamp,
    pub first_lsn: String,
    pub last_lsn: String,
    pub database_backup_lsn: String,
    /// Taken `WITH CHECKSUM`.
    pub checksum: bool,
    pub copy_only: bool,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_size: Option<u64>,
    /// Where SQL Server wrote it (`\\rdm-bk01\backup\…\x.bak`). A striped set has one
    /// row per device, each with its `family_sequence_number`.
    pub device: String,
    /// The checkpoint of a full or differential backup: what the `database_backup_lsn` of
    /// the differentials based on a full names. Empty in snapshots taken before it was read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub checkpoint_lsn: String,
    /// Set on the first log backup after a restore WITH RECOVERY forked the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork_point_lsn: Option<String>,
    /// Changes whenever the database is restored (a recovery fork).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_guid: Option<String>,
    /// The database's identity since it was created: a re-created database has a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_guid: Option<String>,
    /// The backup set's file number on its media (`RESTORE … WITH FILE = n`).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub position: u32,
    /// This device's place in the media set, and how many devices the set is striped over.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub family_sequence_number: u32,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub media_family_count: u32,
}

/// serde's default of a count or position that is 1 unless said otherwise.
pub fn one() -> u32 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
pub fn is_one(n: &u32) -> bool {
    *n == 1
}

impl Default for SqlBackup {
    fn default() -> Self {
        Self {
            database: String::new(),
            backup_type: String::new(),
            started: Timestamp::UNIX_EPOCH,
            finished: Timestamp::UNIX_EPOCH,
            first_lsn: "0".into(),
            last_lsn: "0".into(),
            database_backup_lsn: "0".into(),
            checksum: false,
            copy_only: false,
            size: 0,
            compressed_size: None,
            device: String::new(),
            checkpoint_lsn: String::new(),
            fork_point_lsn: None,
            database_guid: None,
            family_guid: None,
            position: 1,
            family_sequence_number: 1,
            media_family_count: 1,
        }
    }
}

impl SqlBackup {
    pub fn first_lsn(&self) -> u128 {
        self.first_lsn.parse().unwrap_or(0)
    }

    pub fn last_lsn(&self) -> u128 {
        self.last_lsn.parse().unwrap_or(0)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct SqlRestore {
    pub destination: String,
    pub restored_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup_finished: Option<Timestamp>,
}

/// A test restore `apply` ran, as its journal recorded it: what `restore-test-overdue` and
/// `restore-too-slow` judge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Hash)]
#[serde(deny_unknown_fields)]
pub struct RestoreTestRecord {
    /// `SITE/database/NAME`.
    pub address: String,
    pub finished: Timestamp,
    pub ok: bool,
    /// How long the restore test took, restore and `DBCC CHECKDB` together.
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
