//! The recovery point of a declared database at each site: SQL Server's backup history
//! gathered into backup sets (the devices of a striped set together), each device looked up
//! in the stores physically at the site (the backup's store and its `copy-to`, by
//! `located-at`), and the sets whose every file is there, hashed and unchanged, run through
//! the chain rules. Pure: it reads the observation, never the disk.

use jiff::Timestamp;

use super::action::RestoreFile;
use super::chain::{self, BackupSet, Chain, SetKind};
use super::database::{DatabaseState, sql_disk, store_path};
use crate::desired::{Site, Store};
use crate::layout::Layout;
use crate::observe::sql::SqlBackup;
use crate::observe::{self, Backup, under};
use crate::observe::{Observed, StoreEntry};

/// One backup set of SQL Server's history.
#[derive(Debug, Clone)]
pub struct HistorySet<'a> {
    pub set: BackupSet,
    /// Its devices in family order: one, unless the set is striped.
    pub devices: Vec<&'a SqlBackup>,
}

impl HistorySet<'_> {
    /// The file name of its first device, for messages.
    pub fn name(&self) -> &str {
        self.devices.first().map_or("", |d| {
            d.device.rsplit(['\\', '/']).next().unwrap_or(&d.device)
        })
    }

    pub fn backup_type(&self) -> &str {
        self.devices.first().map_or("", |d| d.backup_type.as_str())
    }

    /// The set as SQL Server reads it from `files`, its devices at a site; `None` when a
    /// store there has no `sql-path`.
    pub fn restore_file(&self, files: &[SiteFile<'_>]) -> Option<RestoreFile> {
        let mut disks = files.iter().map(SiteFile::disk);
        Some(RestoreFile {
            disk: disks.next()??,
            stripes: disks.collect::<Option<Vec<String>>>()?,
            backup_type: self.backup_type().to_owned(),
            position: self.devices.first().map_or(1, |d| d.position),
        })
    }

    /// The media set's device count, as msdb records it.
    fn device_count(&self) -> usize {
        self.devices
            .iter()
            .map(|d| d.media_family_count as usize)
            .max()
            .unwrap_or(1)
    }
}

fn lsn(text: &str) -> u128 {
    text.parse().unwrap_or(0)
}

/// The history's backup sets: rows with the same type, LSNs and start are the devices of
/// one striped set.
pub fn sets<'a>(history: &[&'a SqlBackup]) -> Vec<HistorySet<'a>> {
    let mut sets: Vec<HistorySet<'a>> = Vec::new();
    let mut rows: Vec<&'a SqlBackup> = history.to_vec();
    rows.sort_by(|a, b| {
        (
            &a.backup_type,
            a.first_lsn(),
            a.last_lsn(),
            a.started,
            a.family_sequence_number,
        )
            .cmp(&(
                &b.backup_type,
                b.first_lsn(),
                b.last_lsn(),
                b.started,
                b.family_sequence_number,
            ))
    });
    for row in rows {
        let Some(kind) = SetKind::of(&row.backup_type) else {
            continue;
        };
        if let Some(last) = sets.last_mut()
            && last.devices.first().is_some_and(|d| {
                d.backup_type == row.backup_type
                    && d.first_lsn == row.first_lsn
                    && d.last_lsn == row.last_lsn
                    && d.started == row.started
            })
        {
            if !last.devices.iter().any(|d| d.device == row.device) {
                last.devices.push(row);
            }
            continue;
        }
        sets.push(HistorySet {
            set: BackupSet {
                kind,
                copy_only: row.copy_only,
                first_lsn: row.first_lsn(),
                last_lsn: row.last_lsn(),
                checkpoint_lsn: Some(&row.checkpoint_lsn)
                    .filter(|c| !c.is_empty())
                    .map(|c| lsn(c)),
                database_backup_lsn: lsn(&row.database_backup_lsn),
                fork_point_lsn: row.fork_point_lsn.as_deref().map(lsn),
                database_guid: row.database_guid.clone(),
                family_guid: row.family_guid.clone(),
                finished: row.finished,
            },
            devices: vec![row],
        });
    }
    sets
}

/// One device's file at a site, hashed and unchanged.
#[derive(Debug, Clone)]
pub struct SiteFile<'a> {
    pub store: &'a Store,
    /// Relative to the store root, as the disk spells it.
    pub relative: String,
    pub entry: &'a StoreEntry,
}

impl SiteFile<'_> {
    /// The path SQL Server sees, when the store declares its `sql-path`.
    pub fn disk(&self) -> Option<String> {
        self.store
            .sql_path
            .as_ref()
            .map(|p| sql_disk(&p.value, &self.relative))
    }
}

/// Why a set cannot be restored at a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// SQL Server wrote a device outside every declared store.
    Undeclared { device: String },
    /// The file is in none of the site's stores that should hold it.
    Missing {
        relative: String,
        stores: Vec<String>,
    },
    /// Present, but never hashed, unreadable, or changed since first seen.
    Unverified {
        relative: String,
        store: String,
        why: String,
    },
    /// msdb lists fewer devices than the striped media set has.
    Incomplete { listed: usize, devices: usize },
    /// No store at the site is declared to hold this kind of backup.
    NotKept,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Undeclared { device } => {
                write!(f, "was written to {device}, outside every declared store")
            }
            Self::Missing { stores, .. } => {
                let stores: Vec<String> = stores.iter().map(|s| format!("`{s}`")).collect();
                write!(f, "is missing from {}", stores.join(" and "))
            }
            Self::Unverified { store, why, .. } => write!(f, "in `{store}` {why}"),
            Self::Incomplete { listed, devices } => write!(
                f,
                "SQL Server's history lists {listed} of the {devices} devices of its striped media set"
            ),
            Self::NotKept => f.write_str("no store at this site keeps it"),
        }
    }
}

/// A database's restorability at one site.
#[derive(Debug, Clone)]
pub struct SiteRecovery<'a> {
    pub site: String,
    /// Per history set (same order): its files here, or why it cannot be restored here.
    pub files: Vec<Result<Vec<SiteFile<'a>>, Unavailable>>,
    /// The chain that reaches furthest from what the site holds; indexes into the sets.
    pub chain: Option<Chain>,
    /// The newest verified full backup file at the site, whether SQL Server remembers it or
    /// not: a full restores on its own, to the time in its name.
    pub newest_full: Option<Timestamp>,
}

impl SiteRecovery<'_> {
    /// The sets whose every file is at the site.
    pub fn held(&self) -> Vec<usize> {
        (0..self.files.len())
            .filter(|&i| self.files[i].is_ok())
            .collect()
    }

    /// The newest point the site can restore the database to.
    pub fn reaches(&self) -> Option<Timestamp> {
        self.chain.as_ref().map(|c| c.reaches).max(self.newest_full)
    }
}

/// A database's backup history and what each site can restore from it.
#[derive(Debug, Clone)]
pub struct Recovery<'a> {
    pub sets: Vec<HistorySet<'a>>,
    /// The chain that reaches furthest from everything SQL Server remembers.
    pub history: Option<Chain>,
    pub sites: Vec<SiteRecovery<'a>>,
}

impl<'a> Recovery<'a> {
    /// `None` when the history is unknown (its instance unobserved) or empty.
    pub fn of(db: &DatabaseState<'a>, observed: &'a Observed) -> Option<Self> {
        if !db.known() || db.history.is_empty() {
            return None;
        }
        let sets = sets(&db.history);
        let all: Vec<BackupSet> = sets.iter().map(|s| s.set.clone()).collect();
        let history = chain::best(&all);
        let sites = sites_of(db)
            .into_iter()
            .map(|site| {
                let files: Vec<_> = sets
                    .iter()
                    .map(|set| files_at(db, observed, set, &site))
                    .collect();
                let held: Vec<usize> = (0..sets.len()).filter(|&i| files[i].is_ok()).collect();
                let chain = chain::best_among(&all, &held);
                let newest_full = newest_full(db, observed, &site);
                SiteRecovery {
                    site,
                    files,
                    chain,
                    newest_full,
                }
            })
            .collect();
        Some(Self {
            sets,
            history,
            sites,
        })
    }

    pub fn site(&self, site: &str) -> Option<&SiteRecovery<'a>> {
        self.sites.iter().find(|s| s.site == site)
    }

    pub fn backup_sets(&self) -> Vec<BackupSet> {
        self.sets.iter().map(|s| s.set.clone()).collect()
    }
}

/// The newest verified file of the database's declared full backups in the stores at `at`.
fn newest_full(db: &DatabaseState<'_>, observed: &Observed, at: &str) -> Option<Timestamp> {
    let address = db.address.detail("full");
    let item = db.desired.backup_items().find(|i| i.address == address)?;
    let layout = Layout::of(&item);
    let stores = std::iter::once(&item.policy.store).chain(&item.policy.copy_to);
    stores
        .filter_map(|s| db.site.store(s))
        .filter(|s| db.site.location_of(s) == at)
        .filter_map(|s| observed.store(&db.site.name, &s.name))
        .flat_map(|seen| observe::backups(&item, &layout, seen))
        .filter(Backup::is_verified)
        .map(|b| b.time)
        .max()
}

/// The sites that hold some of the database's backups: where its stores and copy stores are.
fn sites_of(db: &DatabaseState<'_>) -> Vec<String> {
    let mut sites: Vec<String> = vec![db.site.name.value.clone()];
    for backup in &db.database.backups {
        let stores = std::iter::once(&backup.policy.store).chain(&backup.policy.copy_to);
        for store in stores.filter_map(|s| db.site.store(s)) {
            let at = db.site.location_of(store).to_owned();
            if !sites.contains(&at) {
                sites.push(at);
            }
        }
    }
    sites
}

/// The stores of `site` (the database's site) located at `at` that keep backups written to
/// `store`: the store itself and the `copy-to` of the backups kept in it.
fn keepers<'s>(db: &DatabaseState<'s>, store: &'s Store, at: &str) -> Vec<&'s Store> {
    let site: &Site = db.site;
    let mut keepers: Vec<&Store> = Vec::new();
    if site.location_of(store) == at {
        keepers.push(store);
    }
    for backup in db
        .database
        .backups
        .iter()
        .filter(|b| b.policy.store.value == store.name.value)
    {
        if let Some(copy) = backup.policy.copy_to.as_ref().and_then(|c| site.store(c))
            && site.location_of(copy) == at
            && !keepers.iter().any(|k| k.name.value == copy.name.value)
        {
            keepers.push(copy);
        }
    }
    keepers
}

/// The entry at `relative` in a store listing, matched as Windows would (any case).
pub fn entry<'o>(
    entries: &'o crate::observe::StoreObservation,
    relative: &str,
) -> Option<&'o StoreEntry> {
    if let Ok(i) = entries
        .entries
        .binary_search_by(|e| entries.case.cmp(&e.path, relative))
    {
        return Some(&entries.entries[i]);
    }
    let dir = relative.rsplit_once('/').map_or("", |(d, _)| d);
    under(entries, dir)
        .iter()
        .find(|e| e.path.eq_ignore_ascii_case(relative))
}

fn files_at<'a>(
    db: &DatabaseState<'a>,
    observed: &'a Observed,
    set: &HistorySet<'a>,
    at: &str,
) -> Result<Vec<SiteFile<'a>>, Unavailable> {
    if set.devices.len() < set.device_count() {
        return Err(Unavailable::Incomplete {
            listed: set.devices.len(),
            devices: set.device_count(),
        });
    }
    let site: &'a Site = db.site;
    set.devices
        .iter()
        .map(|device| {
            let (store, relative) = site
                .stores
                .iter()
                .find_map(|s| {
                    let sql_path = &s.sql_path.as_ref()?.value;
                    store_path(sql_path, &device.device).map(|r| (s, r))
                })
                .ok_or_else(|| Unavailable::Undeclared {
                    device: device.device.clone(),
                })?;
            let keepers = keepers(db, store, at);
            if keepers.is_empty() {
                return Err(Unavailable::NotKept);
            }
            let mut problem = None;
            for keeper in &keepers {
                let Some(seen) = observed.store(&site.name, &keeper.name) else {
                    continue;
                };
                let Some(found) = entry(seen, &relative) else {
                    continue;
                };
                let why = if found.error.is_some() {
                    Some("cannot be read".to_owned())
                } else if found.recorded_sha256.is_some() {
                    Some("differs from the hash recorded when it was first seen".to_owned())
                } else if found.sha256.is_none() {
                    Some("was never hashed".to_owned())
                } else {
                    None
                };
                match why {
                    None => {
                        return Ok(SiteFile {
                            store: keeper,
                            relative: found.path.clone(),
                            entry: found,
                        });
                    }
                    Some(why) => {
                        problem.get_or_insert(Unavailable::Unverified {
                            relative: found.path.clone(),
                            store: keeper.name.value.clone(),
                            why,
                        });
                    }
                }
            }
            Err(problem.unwrap_or_else(|| Unavailable::Missing {
                relative,
                stores: keepers.iter().map(|k| k.name.value.clone()).collect(),
            }))
        })
        .collect()
}
