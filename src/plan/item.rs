//! Everything the rules need to know about one backed-up item, gathered once.

use jiff::Timestamp;

use super::database::DatabaseState;
use crate::desired::{BackupItem, Desired, ItemKind, SettingsLevel, Site, Store};
use crate::layout::Layout;
use crate::observe::sql::SqlBackup;
use crate::observe::{self, Backup};
use crate::observe::{FilesetObservation, NameCase, Observed, StoreObservation};

pub struct ItemState<'a> {
    pub item: BackupItem<'a>,
    pub layout: Layout,
    pub now: Timestamp,
    pub store: &'a Store,
    /// The store as observed; `None` when the observation does not cover it.
    pub store_seen: Option<&'a StoreObservation>,
    /// The item's backups in its store, newest first.
    pub backups: Vec<Backup<'a>>,
    pub copy_store: Option<&'a Store>,
    pub copy_seen: Option<&'a StoreObservation>,
    /// The copies in the `copy-to` store, newest first.
    pub copies: Vec<Backup<'a>>,
    /// A fileset's source directory as observed.
    pub source: Option<&'a FilesetObservation>,
    /// Who acts on what standby cannot do itself.
    pub owner: Option<&'a str>,
    /// A database item's database, as SQL Server reported it.
    pub database: Option<&'a DatabaseState<'a>>,
}

/// The owner of the server an item lives on, else the site's owner.
fn owner_of<'a>(site: &'a Site, item: &BackupItem<'a>) -> Option<&'a str> {
    let host = match item.kind {
        ItemKind::Database(db, _) => site
            .sql_instances
            .iter()
            .find(|i| i.id.value == db.instance.value)
            .map(|i| i.host.value.as_str()),
        ItemKind::Settings(s) if s.level.value == SettingsLevel::Computer => {
            s.server.as_ref().map(|s| s.value.as_str())
        }
        _ => None,
    };
    host.and_then(|host| site.servers.iter().find(|s| s.fqdn.value == host))
        .and_then(|s| s.owner.as_ref())
        .or(site.owner.as_ref())
        .map(|o| o.value.as_str())
}

impl<'a> ItemState<'a> {
    pub fn new(
        desired: &'a Desired,
        observed: &'a Observed,
        item: BackupItem<'a>,
        database: Option<&'a DatabaseState<'a>>,
        now: Timestamp,
    ) -> Option<Self> {
        let _ = desired;
        let site = item.site;
        let store = site.store(&item.policy.store)?;
        let layout = Layout::of(&item);
        let store_seen = observed.store(&site.name, &store.name);
        let mut backups = store_seen
            .map(|s| observe::backups(&item, &layout, s))
            .unwrap_or_default();
        let copy_store = item.policy.copy_to.as_ref().and_then(|c| site.store(c));
        let copy_seen = copy_store.and_then(|c| observed.store(&site.name, &c.name));
        let copies = copy_seen
            .map(|s| observe::backups(&item, &layout, s))
            .unwrap_or_default();
        if let (Some(db), Some(sql_path)) = (database, &store.sql_path) {
            let history: Vec<_> = db
                .history
                .iter()
                .filter(|b| b.backup_type == layout.backup_type.as_str())
                .copied()
                .collect();
            let adopted = item.policy.pattern.is_some();
            join_history(&mut backups, sql_path, &history, adopted);
        }
        let source = match item.kind {
            ItemKind::Fileset(f) => observed.fileset(&site.name, &f.name),
            _ => None,
        };
        let owner = owner_of(site, &item);
        Some(Self {
            item,
            layout,
            now,
            store,
            store_seen,
            backups,
            copy_store,
            copy_seen,
            copies,
            source,
            owner,
            database,
        })
    }

    /// The copy of `backup` in the copy store, if there is one: the entry at its path, as
    /// [`Self::copy_case`] compares them.
    pub fn copy_of(&self, backup: &Backup<'_>) -> Option<&Backup<'a>> {
        let case = self.copy_case();
        self.copies
            .iter()
            .find(|c| case.eq(&c.entry.path, &backup.entry.path))
    }

    /// How a backup's path and its copy's compare: as the copy store's file system
    /// compares names (a copy written as `redmond/…` into a folder made as `REDMOND` on a
    /// share is listed as `REDMOND/…`).
    pub fn copy_case(&self) -> NameCase {
        self.copy_seen.map(|s| s.case).unwrap_or_default()
    }
}

/// Joins an item's backups in a store with SQL Server's history through the store's
/// `sql-path`. A file adopted by `pattern` takes its time from the history.
fn join_history<'o>(
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
        observe::newest_first(backups);
    }
}
