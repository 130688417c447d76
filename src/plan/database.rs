//! Everything the database rules need to know about one declared database, gathered once:
//! what its SQL Server instance reported, its backup and restore history, the test restores
//! standby ran. Also the mapping between SQL Server's paths and store paths.

use std::collections::HashMap;

use jiff::Timestamp;
use sha2::Digest as _;

use crate::address::Address;
use crate::desired::{Database, Desired, Site, windows_path};
use crate::layout::{RESTORE_TEST_PREFIX, final_name};
use crate::observe::Observed;
use crate::observe::sql::{
    RestoreTestRecord, SqlBackup, SqlDatabase, SqlInstanceObservation, SqlRestore,
};

/// The longest identifier SQL Server accepts (`sysname`, characters); longer is Msg 103.
const MAX_IDENTIFIER: usize = 128;

/// `standby-restoretest-<database>`, shortened when that would pass 128 characters: the
/// name is cut and ends with `-` and 8 hex digits of the SHA-256 of the whole database name,
/// so two long names sharing a beginning still get two test databases.
pub fn test_database_name(database: &str) -> String {
    let full = format!("{RESTORE_TEST_PREFIX}{database}");
    if full.chars().count() <= MAX_IDENTIFIER {
        return full;
    }
    let digest = hex::encode(&sha2::Sha256::digest(database.as_bytes())[..4]);
    let keep = MAX_IDENTIFIER - RESTORE_TEST_PREFIX.len() - 1 - digest.len();
    let head: String = database.chars().take(keep).collect();
    format!("{RESTORE_TEST_PREFIX}{head}-{digest}")
}

/// The databases every SQL Server has; never reported as unmanaged.
pub const SYSTEM_DATABASES: [&str; 4] = ["master", "model", "msdb", "tempdb"];

pub struct DatabaseState<'a> {
    pub desired: &'a Desired,
    pub site: &'a Site,
    pub database: &'a Database,
    /// `SITE/database/NAME`.
    pub address: Address,
    pub now: Timestamp,
    /// The instance as observed; `None` when the observation does not cover it.
    pub instance: Option<&'a SqlInstanceObservation>,
    /// The database as its instance reported it; `None` when absent or unknown.
    pub observed: Option<&'a SqlDatabase>,
    /// SQL Server's backup history of the database, newest first.
    pub history: Vec<&'a SqlBackup>,
    /// Restores made from its backups (msdb), newest first.
    pub restores: Vec<&'a SqlRestore>,
    /// Test restores `apply` ran, newest first.
    pub tests: Vec<&'a RestoreTestRecord>,
    /// Who acts on what standby cannot do itself: the owner of the instance's server.
    pub owner: Option<&'a str>,
}

/// The observation's SQL Server data indexed by database, built once per plan so that
/// thousands of databases do not each scan every instance's history.
#[derive(Default)]
pub struct SqlIndex<'a> {
    instances: HashMap<(&'a str, &'a str), IndexedInstance<'a>>,
    tests: HashMap<&'a str, Vec<&'a RestoreTestRecord>>,
}

struct IndexedInstance<'a> {
    observation: &'a SqlInstanceObservation,
    /// By lower-cased database name.
    databases: HashMap<String, IndexedDatabase<'a>>,
}

#[derive(Default)]
struct IndexedDatabase<'a> {
    observed: Option<&'a SqlDatabase>,
    history: Vec<&'a SqlBackup>,
    restores: Vec<&'a SqlRestore>,
}

impl<'a> SqlIndex<'a> {
    pub fn new(observed: &'a Observed) -> Self {
        let mut instances = HashMap::new();
        for instance in &observed.sql {
            let mut databases: HashMap<String, IndexedDatabase<'a>> = HashMap::new();
            if instance.error.is_none() {
                for db in &instance.databases {
                    databases
                        .entry(db.name.to_lowercase())
                        .or_default()
                        .observed = Some(db);
                }
                for backup in &instance.backups {
                    databases
                        .entry(backup.database.to_lowercase())
                        .or_default()
                        .history
                        .push(backup);
                }
                for restore in &instance.restores {
                    if let Some(source) = &restore.source_database {
                        databases
                            .entry(source.to_lowercase())
                            .or_default()
                            .restores
                            .push(restore);
                    }
                }
                for db in databases.values_mut() {
                    db.history.sort_by_key(|b| std::cmp::Reverse(b.finished));
                    db.restores
                        .sort_by_key(|r| std::cmp::Reverse(r.restored_at));
                }
            }
            instances.insert(
                (instance.site.as_str(), instance.instance.as_str()),
                IndexedInstance {
                    observation: instance,
                    databases,
                },
            );
        }
        let mut tests: HashMap<&str, Vec<&RestoreTestRecord>> = HashMap::new();
        for test in &observed.restore_tests {
            tests.entry(test.address.as_str()).or_default().push(test);
        }
        for list in tests.values_mut() {
            list.sort_by_key(|t| std::cmp::Reverse(t.finished));
        }
        Self { instances, tests }
    }
}

impl<'a> DatabaseState<'a> {
    pub fn new(
        desired: &'a Desired,
        index: &SqlIndex<'a>,
        site: &'a Site,
        database: &'a Database,
        now: Timestamp,
    ) -> Self {
        let address = site.address("database", &database.name);
        let indexed = index
            .instances
            .get(&(site.name.value.as_str(), database.instance.value.as_str()));
        let db = indexed.and_then(|i| i.databases.get(&database.name.value.to_lowercase()));
        let tests = index
            .tests
            .get(address.as_str())
            .cloned()
            .unwrap_or_default();
        let owner = site
            .sql_instances
            .iter()
            .find(|i| i.id.value == database.instance.value)
            .and_then(|i| site.servers.iter().find(|s| s.fqdn.value == i.host.value))
            .and_then(|s| s.owner.as_ref())
            .or(site.owner.as_ref())
            .map(|o| o.value.as_str());
        Self {
            desired,
            site,
            database,
            address,
            now,
            instance: indexed.map(|i| i.observation),
            observed: db.and_then(|d| d.observed),
            history: db.map(|d| d.history.clone()).unwrap_or_default(),
            restores: db.map(|d| d.restores.clone()).unwrap_or_default(),
            tests,
            owner,
        }
    }

    /// Whether the instance was observed without error: only then does an absent database
    /// or an empty history mean anything.
    pub fn known(&self) -> bool {
        self.instance.is_some_and(|i| i.error.is_none())
    }

    /// Whether SQL Server remembers a full backup that a differential or log backup can
    /// build on.
    pub fn has_full(&self) -> bool {
        self.history
            .iter()
            .any(|b| b.backup_type == "full" && !b.copy_only)
    }

    /// The name of the test restore.
    pub fn test_name(&self) -> String {
        test_database_name(&self.database.name.value)
    }

    /// When the database was last restored successfully from its backups: by an apply's
    /// restore test, or by anyone (msdb restore history).
    pub fn last_restore(&self) -> Option<Timestamp> {
        let tested = self.tests.iter().filter(|t| t.ok).map(|t| t.finished).max();
        let restored = self.restores.first().map(|r| r.restored_at);
        tested.max(restored)
    }
}

/// The store-relative path (with `/`) of a file SQL Server knows as `device`, when the
/// device lies under the store's `sql-path` (either written with or without `\\?\`). A standby temporary name (a BACKUP that apply
/// renamed afterwards) maps to its final name.
/// Paths compare case-insensitively (ASCII), as Windows does; the result keeps the case
/// SQL Server recorded.
pub fn store_path(sql_path: &str, device: &str) -> Option<String> {
    let root = windows_path::plain(sql_path).replace('\\', "/");
    let root = root.trim_end_matches('/');
    let device = windows_path::plain(device).replace('\\', "/");
    let head = device.get(..root.len())?;
    if !head.eq_ignore_ascii_case(root) {
        return None;
    }
    let rest = device[root.len()..].strip_prefix('/')?;
    if rest.is_empty() {
        return None;
    }
    Some(match rest.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/{}", final_name(file)),
        None => final_name(rest).to_owned(),
    })
}

/// The path SQL Server sees for a store-relative path.
pub fn sql_disk(sql_path: &str, relative: &str) -> String {
    format!(
        "{}\\{}",
        sql_path.trim_end_matches(['\\', '/']),
        relative.replace('/', "\\")
    )
}

/// The volume a Windows path lives on: the drive (`D:`) or the share (`\\host\share`).
pub fn volume(path: &str) -> String {
    let path = windows_path::plain(path);
    if let Some(rest) = path.strip_prefix("\\\\") {
        let mut parts = rest.split('\\');
        let host = parts.next().unwrap_or_default();
        let share = parts.next().unwrap_or_default();
        return format!("\\\\{host}\\{share}").to_lowercase();
    }
    match path.split_once(':') {
        Some((drive, _)) if drive.len() == 1 => format!("{}:", drive.to_uppercase()),
        _ => path.split('\\').next().unwrap_or_default().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_database_names_stay_within_128_characters() {
        assert_eq!(test_database_name("rtc"), "standby-restoretest-rtc");
        let exact = "x".repeat(128 - RESTORE_TEST_PREFIX.len());
        assert_eq!(
            test_database_name(&exact),
            format!("{RESTORE_TEST_PREFIX}{exact}")
        );
        let long_a = format!("{}a", "é".repeat(127));
        let long_b = format!("{}b", "é".repeat(127));
        let (a, b) = (test_database_name(&long_a), test_database_name(&long_b));
        assert_eq!(a.chars().count(), 128);
        assert!(a.starts_with(RESTORE_TEST_PREFIX));
        assert_ne!(a, b, "two long names sharing a beginning collide");
    }

    #[test]
    fn devices_map_to_store_paths_whatever_the_case_and_separators() {
        let store = r"\\RDM-BK01\Backup\";
        assert_eq!(
            store_path(
                store,
                r"\\rdm-bk01\backup\redmond\database\rtc\full\rtc_full_X.bak"
            )
            .as_deref(),
            Some("redmond/database/rtc/full/rtc_full_X.bak")
        );
        assert_eq!(store_path(store, r"\\rdm-bk02\backup\x.bak"), None);
        assert_eq!(store_path(store, r"\\rdm-bk01\backupold\x.bak"), None);
        assert_eq!(
            store_path(
                store,
                r"\\rdm-bk01\backup\a\.standby-tmp-42-x_full_1.bak.tmp"
            )
            .as_deref(),
            Some("a/x_full_1.bak")
        );
    }

    #[test]
    fn volumes_are_drives_or_shares() {
        assert_eq!(volume(r"D:\Data\rtc.mdf"), "D:");
        assert_eq!(volume(r"d:\Logs\rtc.ldf"), "D:");
        assert_eq!(volume(r"\\san01\Sql\rtc.ldf"), r"\\san01\sql");
        assert_ne!(volume(r"D:\Data\rtc.mdf"), volume(r"E:\Logs\rtc.ldf"));
    }

    #[test]
    fn long_path_and_unc_spellings_of_a_share_are_one_store() {
        let device = r"\\rdm-bk01\backup\redmond\database\rtc\full\rtc_full_X.bak";
        for store in [
            r"\\?\UNC\rdm-bk01\backup",
            r"\\RDM-BK01\BACKUP",
            "//rdm-bk01/backup/",
        ] {
            assert_eq!(
                store_path(store, device).as_deref(),
                Some("redmond/database/rtc/full/rtc_full_X.bak"),
                "{store}"
            );
        }
        assert_eq!(
            store_path(r"D:\Backup", r"\\?\D:\backup\x\y.bak").as_deref(),
            Some("x/y.bak")
        );
        assert_eq!(volume(r"\\?\UNC\rdm-bk01\Backup\x"), r"\\rdm-bk01\backup");
        assert_eq!(volume(r"\\?\e:\Logs\rtc.ldf"), "E:");
        assert_eq!(volume(r"e:/Logs/rtc.ldf"), "E:");
    }

    #[test]
    fn sql_disks_use_backslashes() {
        assert_eq!(
            sql_disk(r"\\bk\backup\", "s/database/db/full/db_full_1.bak"),
            r"\\bk\backup\s\database\db\full\db_full_1.bak"
        );
    }
}
