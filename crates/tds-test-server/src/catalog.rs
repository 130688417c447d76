//! The in-memory SQL Server the test server pretends to be: databases, files, msdb backup and
//! restore history, the login, and how SQL Server paths map onto local directories. Loaded from
//! a JSON fixture with serde; mutated by the statements in `engine`.

use std::fmt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(default)]
    pub server: ServerInfo,
    pub login: Login,
    /// The time the server believes it is; `None` reads the system clock (UTC). Each BACKUP or
    /// RESTORE advances a fixed clock by its duration so history stays ordered.
    #[serde(default)]
    pub clock: Option<SqlDateTime>,
    #[serde(default)]
    pub path_mappings: Vec<PathMapping>,
    #[serde(default)]
    pub databases: Vec<Database>,
    /// msdb.dbo.backupset joined with msdb.dbo.backupmediafamily (one device per set).
    #[serde(default)]
    pub backups: Vec<BackupSet>,
    /// msdb.dbo.restorehistory.
    #[serde(default)]
    pub restores: Vec<RestoreHistory>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerInfo {
    /// `@@SERVERNAME`, also the server name in ERROR/INFO tokens.
    pub name: String,
    /// `SERVERPROPERTY('ProductVersion')`, e.g. `10.50.4000.0` (2008 R2) or `9.00.4035.00` (2005).
    pub product_version: String,
    /// `@@VERSION`.
    pub version_string: String,
    /// `DATEDIFF(minute, GETUTCDATE(), GETDATE())`: how far the server's local time (that of
    /// every `datetime` in the fixture) is ahead of UTC.
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

impl Default for ServerInfo {
    fn default() -> Self {
        Self {
            name: "SQL01\\RTC".to_string(),
            product_version: "10.50.4000.0".to_string(),
            version_string: "Microsoft SQL Server 2008 R2 (SP2) - 10.50.4000.0 (X64) \n\tJun 28 2012 08:36:30 \n\tCopyright (c) Microsoft Corporation\n\tStandard Edition (64-bit) on Windows NT 6.1 <X64> (Build 7601: Service Pack 1)\n".to_string(),
            utc_offset_minutes: 0,
        }
    }
}

impl ServerInfo {
    /// Major, minor, build as the four bytes of PRELOGIN VERSION / LOGINACK `ProgVersion`.
    pub fn version_bytes(&self) -> [u8; 4] {
        let mut parts = self
            .product_version
            .split('.')
            .map(|p| p.parse::<u16>().unwrap_or(0));
        let major = u8::try_from(parts.next().unwrap_or(10)).unwrap_or(10);
        let minor = u8::try_from(parts.next().unwrap_or(0)).unwrap_or(0);
        let build = parts.next().unwrap_or(0).to_be_bytes();
        [major, minor, build[0], build[1]]
    }

    pub fn major_version(&self) -> u8 {
        self.version_bytes()[0]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub user: String,
    pub password: String,
}

/// `sql_prefix` (as SQL Server sees a folder, e.g. `\\rdm-bk01\backup`) → a local directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathMapping {
    pub sql_prefix: String,
    pub local_dir: PathBuf,
    /// Create missing directories below `local_dir` on BACKUP. Real SQL Server never does (it
    /// fails with 3201, OS error 3); set `false` to get that behaviour.
    #[serde(default = "yes")]
    pub create_dirs: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecoveryModel {
    #[serde(rename = "FULL")]
    Full,
    #[serde(rename = "BULK_LOGGED")]
    BulkLogged,
    #[serde(rename = "SIMPLE")]
    Simple,
}

impl RecoveryModel {
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryModel::Full => "FULL",
            RecoveryModel::BulkLogged => "BULK_LOGGED",
            RecoveryModel::Simple => "SIMPLE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "FULL" => Some(RecoveryModel::Full),
            "BULK_LOGGED" => Some(RecoveryModel::BulkLogged),
            "SIMPLE" => Some(RecoveryModel::Simple),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_field_names)] // named after the sys.databases columns
pub struct Database {
    pub name: String,
    pub database_id: i32,
    /// `sys.databases.state_desc`: `ONLINE`, `RESTORING`, `OFFLINE`, ...
    #[serde(default = "online")]
    pub state_desc: String,
    pub recovery_model_desc: RecoveryModel,
    /// `sys.database_recovery_status.last_log_backup_lsn`; `null` means no log chain.
    #[serde(default)]
    pub last_log_backup_lsn: Option<u128>,
    #[serde(default)]
    pub files: Vec<DatabaseFile>,
    /// The database's current LSN; new backups start here. Defaults above every known LSN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_lsn: Option<u128>,
    /// While RESTORING: the LSN the next log/diff restore must cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redo_lsn: Option<u128>,
    /// While RESTORING: the checkpoint LSN of the restored full backup (for differentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_base_lsn: Option<u128>,
}

fn online() -> String {
    "ONLINE".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// `sys.master_files.name` (logical name).
    pub name: String,
    /// `ROWS` or `LOG`.
    pub type_desc: String,
    pub physical_name: String,
    /// In 8 KB pages, as `sys.master_files.size`.
    #[serde(default = "default_size")]
    pub size: i32,
}

fn default_size() -> i32 {
    1280
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupType {
    #[serde(rename = "D")]
    Full,
    #[serde(rename = "I")]
    Differential,
    #[serde(rename = "L")]
    Log,
}

impl BackupType {
    pub fn code(self) -> char {
        match self {
            BackupType::Full => 'D',
            BackupType::Differential => 'I',
            BackupType::Log => 'L',
        }
    }

    pub fn from_code(c: u8) -> Option<Self> {
        match c {
            b'D' => Some(BackupType::Full),
            b'I' => Some(BackupType::Differential),
            b'L' => Some(BackupType::Log),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_field_names)] // named after the msdb.dbo.backupset columns
pub struct BackupSet {
    /// Assigned on load when 0/absent.
    #[serde(default)]
    pub backup_set_id: i32,
    pub database_name: String,
    #[serde(rename = "type")]
    pub backup_type: BackupType,
    pub backup_start_date: SqlDateTime,
    pub backup_finish_date: SqlDateTime,
    pub first_lsn: u128,
    pub last_lsn: u128,
    /// For differential and log backups: checkpoint LSN of the full backup they are based on.
    #[serde(default)]
    pub database_backup_lsn: u128,
    #[serde(default)]
    pub has_backup_checksums: Option<bool>,
    #[serde(default)]
    pub is_copy_only: Option<bool>,
    #[serde(default)]
    pub backup_size: u128,
    #[serde(default)]
    pub compressed_backup_size: Option<u128>,
    pub physical_device_name: String,
    /// The checkpoint a differential's `database_backup_lsn` names; absent = `first_lsn`,
    /// which is what the server's own backups use.
    #[serde(default)]
    pub checkpoint_lsn: Option<u128>,
    /// Set on the first log backup after a restore WITH RECOVERY forked the log.
    #[serde(default)]
    pub fork_point_lsn: Option<u128>,
    /// A new one each time the database is restored; absent = derived from the name.
    #[serde(default)]
    pub database_guid: Option<String>,
    /// The database's identity from its creation; absent = derived from the name.
    #[serde(default)]
    pub family_guid: Option<String>,
    /// The backup set's file number on its media (`WITH FILE = n`); absent = 1.
    #[serde(default)]
    pub position: Option<i32>,
    /// This device's place in a striped media set, and how many devices the set has;
    /// absent = 1 of 1. A striped set is one row per device with the same `backup_set_id`.
    #[serde(default)]
    pub family_sequence_number: Option<i32>,
    #[serde(default)]
    pub media_family_count: Option<i32>,
}

impl BackupSet {
    /// A GUID-shaped text that stays the same for one database name.
    pub fn guid_of(name: &str) -> String {
        let h = name
            .to_lowercase()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        let x = format!("{h:016X}{:016X}", h.rotate_left(17));
        format!(
            "{}-{}-{}-{}-{}",
            &x[..8],
            &x[8..12],
            &x[12..16],
            &x[16..20],
            &x[20..32]
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_field_names)] // named after the msdb.dbo.restorehistory columns
pub struct RestoreHistory {
    #[serde(default)]
    pub restore_history_id: i32,
    pub destination_database_name: String,
    pub restore_date: SqlDateTime,
    /// `D` database, `I` differential, `L` log, `V` verifyonly.
    pub restore_type: String,
    #[serde(default)]
    pub backup_set_id: Option<i32>,
}

impl Catalog {
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let mut catalog: Catalog = serde_json::from_str(json)?;
        catalog.assign_ids();
        Ok(catalog)
    }

    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Gives fixture rows without ids the next free id, as IDENTITY columns would.
    pub fn assign_ids(&mut self) {
        let mut next = self
            .backups
            .iter()
            .map(|b| b.backup_set_id)
            .max()
            .unwrap_or(0);
        for backup in &mut self.backups {
            if backup.backup_set_id == 0 {
                next += 1;
                backup.backup_set_id = next;
            }
        }
        let mut next = self
            .restores
            .iter()
            .map(|r| r.restore_history_id)
            .max()
            .unwrap_or(0);
        for restore in &mut self.restores {
            if restore.restore_history_id == 0 {
                next += 1;
                restore.restore_history_id = next;
            }
        }
    }

    /// Database names compare case-insensitively, as under the default CI collation.
    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn database_mut(&mut self, name: &str) -> Option<&mut Database> {
        self.databases
            .iter_mut()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn now(&self) -> SqlDateTime {
        self.clock.unwrap_or_else(SqlDateTime::now_utc)
    }

    /// Moves a fixed clock forward; a system clock moves by itself.
    pub fn advance_clock(&mut self, to: SqlDateTime) {
        if self.clock.is_some() {
            self.clock = Some(to);
        }
    }

    /// The LSN a new backup of `name` starts at: above everything the catalog has seen.
    pub fn current_lsn(&self, name: &str) -> u128 {
        let db = self.database(name);
        let from_history = self
            .backups
            .iter()
            .filter(|b| b.database_name.eq_ignore_ascii_case(name))
            .map(|b| b.last_lsn)
            .max()
            .unwrap_or(0);
        let explicit = db.and_then(|d| d.current_lsn).unwrap_or(0);
        let log = db.and_then(|d| d.last_log_backup_lsn).unwrap_or(0);
        let floor = 25_000_000_001_000_001u128
            + u128::try_from(db.map_or(0, |d| d.database_id)).unwrap_or(0) * 1_000_000_000_000;
        explicit.max(from_history).max(log).max(floor)
    }

    pub fn next_backup_set_id(&self) -> i32 {
        self.backups
            .iter()
            .map(|b| b.backup_set_id)
            .max()
            .unwrap_or(0)
            + 1
    }

    pub fn next_restore_history_id(&self) -> i32 {
        self.restores
            .iter()
            .map(|r| r.restore_history_id)
            .max()
            .unwrap_or(0)
            + 1
    }

    pub fn next_database_id(&self) -> i32 {
        self.databases
            .iter()
            .map(|d| d.database_id)
            .max()
            .unwrap_or(4)
            + 1
    }

    /// Maps a SQL Server path through the first matching `path_mappings` entry.
    pub fn map_path(&self, sql_path: &str) -> Option<(PathBuf, &PathMapping)> {
        self.path_mappings.iter().find_map(|m| {
            let prefix = m.sql_prefix.trim_end_matches('\\');
            let head = sql_path.get(..prefix.len())?;
            if !head.eq_ignore_ascii_case(prefix) {
                return None;
            }
            let rest = sql_path.get(prefix.len()..)?;
            if !(rest.is_empty() || rest.starts_with('\\')) {
                return None;
            }
            let mut local = m.local_dir.clone();
            for part in rest.split('\\').filter(|p| !p.is_empty()) {
                // A path escaping the mapping is as unreachable as an unmapped one.
                if part == ".." || part == "." || part.contains('/') {
                    return None;
                }
                local.push(part);
            }
            Some((local, m))
        })
    }
}

/// A `datetime` value: milliseconds since 1900-01-01T00:00:00, no time zone (msdb stores the
/// server's local time; the test server's local time is UTC). JSON form: `2026-11-22T01:00:00`
/// with optional `.fff` and optional trailing `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SqlDateTime(pub i64);

const MS_PER_DAY: i64 = 86_400_000;
/// Days from 1900-01-01 to 1970-01-01.
const UNIX_EPOCH_DAYS: i64 = 25_567;

impl SqlDateTime {
    pub fn now_utc() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
        // datetime has 1/300 s resolution; keep whole milliseconds.
        SqlDateTime(ms + UNIX_EPOCH_DAYS * MS_PER_DAY)
    }

    #[must_use]
    pub fn plus_millis(self, ms: i64) -> Self {
        SqlDateTime(self.0 + ms)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().trim_end_matches('Z');
        let (date, time) = s.split_once(['T', ' ']).unwrap_or((s, "00:00:00"));
        let mut d = date.split('-');
        let year: i64 = d.next()?.parse().ok()?;
        let month: i64 = d.next()?.parse().ok()?;
        let day: i64 = d.next()?.parse().ok()?;
        if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let mut t = hms.split(':');
        let hour: i64 = t.next()?.parse().ok()?;
        let minute: i64 = t.next()?.parse().ok()?;
        let second: i64 = t.next().unwrap_or("0").parse().ok()?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let millis: i64 = if frac.is_empty() {
            0
        } else {
            let digits: String = frac.chars().chain("000".chars()).take(3).collect();
            digits.parse().ok()?
        };
        let days = days_from_civil(year, month, day) + UNIX_EPOCH_DAYS;
        Some(SqlDateTime(
            days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + millis,
        ))
    }

    /// `(year, month, day, hour, minute, second, millisecond)`.
    pub fn parts(self) -> (i64, i64, i64, i64, i64, i64, i64) {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days - UNIX_EPOCH_DAYS);
        (
            y,
            m,
            d,
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000,
        )
    }
}

impl fmt::Display for SqlDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, hour, minute, second, millis) = self.parts();
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
        )?;
        if millis != 0 {
            write!(f, ".{millis:03}")?;
        }
        Ok(())
    }
}

impl Serialize for SqlDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for SqlDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SqlDateTime::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "bad datetime {text:?}, want YYYY-MM-DDTHH:MM:SS[.fff]"
            ))
        })
    }
}

/// Howard Hinnant's days-from-civil, relative to 1970-01-01.
#[allow(clippy::many_single_char_names)]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[allow(clippy::many_single_char_names)]
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
