//! The backup and restoration worksheets of the OCS 2007 R2 guide, filled in from the
//! desired state, the last observation and the journal. Pure like `plan`: no I/O and no
//! clock; `report::worksheet` renders a [`Worksheet`] as Markdown or HTML.
//!
//! The desired state ties backups to servers only indirectly, so a backup item belongs to:
//! the server that hosts its database's `sql-instance`; the `server` of a computer-level
//! `settings` export; every server of the `pool` of a pool-level export. Global settings,
//! filesets and databases whose host is not a declared server belong to their site as a
//! whole.
//!
//! Nothing is assumed: what the observation does not cover is "unknown", what it shows
//! never happened is "never", and what the journal does not record is "none recorded".

use std::fmt::Write as _;

use globset::Glob;
use jiff::Timestamp;

use crate::address::Address;
use crate::desired::{
    BackupItem, Choice, Desired, Duration, ItemKind, ServerRole, SettingsLevel, Site, SiteRole,
    SqlInstance, Store,
};
use crate::observe::Observed;
use crate::plan::{ItemState, item_store_problem};
use crate::state::journal::JournalLine;

/// The filled-in worksheets of one deployment.
#[derive(Debug, Clone)]
pub struct Worksheet {
    pub deployment: String,
    pub product: Option<String>,
    pub domain: Option<String>,
    /// The time the worksheet describes: ages and "ago" are measured from it.
    pub now: Timestamp,
    /// When the observation was taken; `None` when there was none, so that everything
    /// observable is unknown.
    pub observed_at: Option<Timestamp>,
    pub rpo: Option<Duration>,
    pub rto: Option<Duration>,
    pub restore_test: Option<Duration>,
    /// `start`–`end`, UTC.
    pub backup_window: Option<(String, String)>,
    pub owners: Vec<Contact>,
    pub sites: Vec<SiteSheet>,
    pub items: Vec<ItemSheet>,
    pub scenarios: Vec<ScenarioSheet>,
    pub restore_sequence: Vec<String>,
    /// Per declared database and site holding its backups, the newest point the site can
    /// restore it to; empty without an observation.
    pub recovery: Vec<RecoveryRow>,
    /// The findings recorded in the state since `history_since`, oldest first (empty when
    /// none were recorded).
    pub history: Vec<crate::state::FindingSpan>,
    pub history_since: Timestamp,
}

/// The recovery point of one database at one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRow {
    /// `SITE/database/NAME`.
    pub database: String,
    pub site: String,
    /// `None`: nothing there can be restored. Unknown databases (their instance unobserved,
    /// their history empty) have no row.
    pub reaches: Option<Timestamp>,
    /// The backup sets of the chain that reaches it.
    pub sets: usize,
}

/// The recovery point of every declared database at every site that holds its backups.
fn recovery_rows(desired: &Desired, observed: &Observed, now: Timestamp) -> Vec<RecoveryRow> {
    let index = crate::plan::database::SqlIndex::new(observed);
    let mut rows = Vec::new();
    for site in &desired.sites {
        for database in &site.databases {
            let db =
                crate::plan::database::DatabaseState::new(desired, &index, site, database, now);
            let Some(recovery) = crate::plan::recovery::Recovery::of(&db, observed) else {
                continue;
            };
            for at in &recovery.sites {
                rows.push(RecoveryRow {
                    database: db.address.to_string(),
                    site: at.site.clone(),
                    reaches: at.reaches(),
                    sets: at.chain.as_ref().map_or(0, crate::plan::chain::Chain::len),
                });
            }
        }
    }
    rows
}

/// An `owner` of the deployment: who to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: String,
    pub name: Option<String>,
    pub contact: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SiteSheet {
    pub name: String,
    pub role: SiteRole,
    pub standby_for: Option<String>,
    pub region: Option<String>,
    pub owner: Option<Contact>,
    pub stores: Vec<Location>,
    pub servers: Vec<ServerSheet>,
    /// Indices into [`Worksheet::items`] of the site's items that belong to no declared
    /// server: global settings, filesets, databases on an undeclared host.
    pub site_items: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct ServerSheet {
    pub fqdn: String,
    pub role: ServerRole,
    pub pool: Option<String>,
    /// The server's owner, else its site's.
    pub owner: Option<Contact>,
    /// Whether `owner` is the site's, because the server names none.
    pub owner_from_site: bool,
    /// Indices into [`Worksheet::items`].
    pub items: Vec<usize>,
}

/// A store as a worksheet names it: where a backup or its copy lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub store: String,
    /// The site that physically holds the store.
    pub located_at: String,
    pub path: String,
    /// The same folder as SQL Server sees it.
    pub sql_path: Option<String>,
}

impl Location {
    fn of(site: &Site, store: &Store) -> Self {
        Self {
            store: store.name.value.clone(),
            located_at: site.location_of(store).to_owned(),
            path: store.path.value.display().to_string(),
            sql_path: store.sql_path.as_ref().map(|p| p.value.clone()),
        }
    }
}

/// Something the observation or the journal may or may not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    At(Timestamp),
    /// Observed, and it has not happened.
    Never,
    /// Not observed; the reason says why.
    Unknown(String),
}

/// The last passed test restore of an item's database, from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreTest {
    /// Not a database: standby does not test-restore settings or files.
    NotApplicable,
    /// The journal records none (one made by hand would not be there).
    NoneRecorded,
    Passed {
        at: Timestamp,
        duration_ms: Option<u64>,
    },
}

/// One backed-up item: a database backup type, a settings export or a fileset.
#[derive(Debug, Clone)]
pub struct ItemSheet {
    pub address: Address,
    pub site: String,
    /// What is backed up, in words.
    pub what: String,
    /// The servers it belongs to (empty: the site as a whole).
    pub servers: Vec<String>,
    pub every: Duration,
    pub keep: u32,
    pub store: Location,
    pub copy_to: Option<Location>,
    pub last_backup: Seen,
    /// Why the newest backup is incomplete: a snapshot that left source entries out
    /// (`N source entr(ies) skipped, e.g. PATH: REASON`).
    pub incomplete: Option<String>,
    /// The newest time one of its backups was read and matched its recorded hash
    /// (discovery, `verify-backup`).
    pub last_verified: Seen,
    pub restore_test: RestoreTest,
}

#[derive(Debug, Clone)]
pub struct ScenarioSheet {
    pub name: String,
    pub owner: Option<Contact>,
    pub estimate: Option<Duration>,
    pub affects: Vec<String>,
    pub steps: Vec<StepSheet>,
    /// The sum of the steps' minutes (steps without minutes count nothing).
    pub step_minutes: u32,
    /// The newest passed test restore of a database the scenario affects.
    pub measured: Option<Measured>,
}

#[derive(Debug, Clone)]
pub struct StepSheet {
    pub text: String,
    pub minutes: Option<u32>,
}

/// A restore time measured by a test restore (`restore-test` in the journal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// The database restored, `SITE/database/NAME`.
    pub address: String,
    pub at: Timestamp,
    pub duration_ms: u64,
}

/// Fills in the worksheets. `observed` is `None` when there is no observation yet.
pub fn build(
    desired: &Desired,
    observed: Option<&Observed>,
    journal: &[JournalLine],
    now: Timestamp,
) -> Worksheet {
    let deployment = &desired.deployment;
    let contact = |id: &str| -> Contact {
        desired.owner(id).map_or_else(
            || Contact {
                id: id.to_owned(),
                name: None,
                contact: None,
            },
            |o| Contact {
                id: o.id.value.clone(),
                name: o.name.clone(),
                contact: o.contact.clone(),
            },
        )
    };
    let items: Vec<ItemSheet> = desired
        .backup_items()
        .filter_map(|item| item_sheet(desired, observed, journal, item, now))
        .collect();
    let sites = desired
        .sites
        .iter()
        .map(|site| {
            let site_owner = site.owner.as_ref().map(|o| contact(&o.value));
            let of_site = |i: &usize| items[*i].site == site.name.value;
            let servers = site
                .servers
                .iter()
                .map(|server| {
                    let own = server.owner.as_ref().map(|o| contact(&o.value));
                    ServerSheet {
                        fqdn: server.fqdn.value.clone(),
                        role: server.role.value,
                        pool: server.pool.clone(),
                        owner_from_site: own.is_none() && site_owner.is_some(),
                        owner: own.or_else(|| site_owner.clone()),
                        items: (0..items.len())
                            .filter(of_site)
                            .filter(|i| items[*i].servers.contains(&server.fqdn.value))
                            .collect(),
                    }
                })
                .collect();
            SiteSheet {
                name: site.name.value.clone(),
                role: site.role.value,
                standby_for: site.standby_for.as_ref().map(|s| s.value.clone()),
                region: site.region.as_ref().map(|r| r.value.clone()),
                owner: site_owner.clone(),
                stores: site.stores.iter().map(|s| Location::of(site, s)).collect(),
                servers,
                site_items: (0..items.len())
                    .filter(of_site)
                    .filter(|i| items[*i].servers.is_empty())
                    .collect(),
            }
        })
        .collect();
    let scenarios = desired
        .scenarios
        .iter()
        .map(|scenario| {
            let affects: Vec<String> = scenario.affects.iter().map(|a| a.value.clone()).collect();
            ScenarioSheet {
                name: scenario.name.value.clone(),
                owner: scenario.owner.as_ref().map(|o| contact(&o.value)),
                estimate: scenario.estimate.as_ref().map(|e| e.value),
                steps: scenario
                    .steps
                    .iter()
                    .map(|s| StepSheet {
                        text: s.text.value.clone(),
                        minutes: s.minutes.as_ref().map(|m| m.value),
                    })
                    .collect(),
                step_minutes: scenario
                    .steps
                    .iter()
                    .filter_map(|s| s.minutes.as_ref().map(|m| m.value))
                    .fold(0, u32::saturating_add),
                measured: measured(&affects, journal),
                affects,
            }
        })
        .collect();
    Worksheet {
        deployment: deployment.name.value.clone(),
        product: deployment
            .product
            .as_ref()
            .map(|p| p.value.name().to_owned()),
        domain: deployment.domain.as_ref().map(|d| d.value.clone()),
        now,
        observed_at: observed.map(|o| o.taken_at),
        rpo: deployment.objectives.rpo.as_ref().map(|d| d.value),
        rto: deployment.objectives.rto.as_ref().map(|d| d.value),
        restore_test: deployment.objectives.restore_test.as_ref().map(|d| d.value),
        backup_window: deployment
            .backup_window
            .as_ref()
            .map(|w| (w.start.value.to_string(), w.end.value.to_string())),
        owners: deployment
            .owners
            .iter()
            .map(|o| contact(&o.id.value))
            .collect(),
        sites,
        items,
        scenarios,
        restore_sequence: desired
            .restore_sequence
            .iter()
            .map(|s| s.value.clone())
            .collect(),
        recovery: observed.map_or_else(Vec::new, |o| recovery_rows(desired, o, now)),
        history: Vec::new(),
        history_since: now,
    }
}

fn item_sheet(
    desired: &Desired,
    observed: Option<&Observed>,
    journal: &[JournalLine],
    item: BackupItem<'_>,
    now: Timestamp,
) -> Option<ItemSheet> {
    let site = item.site;
    let servers = servers_of(site, &item);
    let what = describe(site, &item);
    let address = item.address.clone();
    let policy = item.policy;
    let store = Location::of(site, site.store(&policy.store)?);
    let copy_to = policy
        .copy_to
        .as_ref()
        .and_then(|c| site.store(c))
        .map(|s| Location::of(site, s));
    let restore_test = match item.kind {
        ItemKind::Database(db, _) => {
            last_restore_test(&site.address("database", &db.name), journal)
        }
        ItemKind::Settings(_) | ItemKind::Fileset(_) => RestoreTest::NotApplicable,
    };
    let journal_verified = journal
        .iter()
        .filter(|l| l.kind == "verify-backup" && passed(l) && l.address == address.as_str())
        .map(|l| l.at)
        .max();
    let mut incomplete = None;
    let (last_backup, store_verified) = match observed {
        None => (Seen::Unknown("no observation".to_owned()), None),
        Some(observed) => {
            let state = ItemState::new(desired, observed, item, None, now)?;
            incomplete = state
                .backups
                .first()
                .and_then(|newest| {
                    Some((newest.entry.skipped.first()?, newest.entry.skipped.len()))
                })
                .map(|(first, count)| format!("{count} source entr(ies) skipped, e.g. {first}"));
            match item_store_problem(&state) {
                Some(problem) => (Seen::Unknown(problem), None),
                None => (
                    state
                        .backups
                        .first()
                        .map_or(Seen::Never, |b| Seen::At(b.time)),
                    Some(
                        state
                            .backups
                            .iter()
                            .filter(|b| b.is_verified())
                            .filter_map(|b| b.entry.verified_at)
                            .max(),
                    ),
                ),
            }
        }
    };
    // The journal knows verifications even when the store cannot be seen now.
    let last_verified = match (store_verified, journal_verified) {
        (Some(seen), journal) => seen.max(journal).map_or(Seen::Never, Seen::At),
        (None, Some(at)) => Seen::At(at),
        // The store is unknown, and so is whether anything in it was verified.
        (None, None) => last_backup.clone(),
    };
    Some(ItemSheet {
        address,
        site: site.name.value.clone(),
        what,
        servers,
        every: policy.every.value,
        keep: policy.keep.value,
        store,
        copy_to,
        last_backup,
        incomplete,
        last_verified,
        restore_test,
    })
}

fn passed(line: &JournalLine) -> bool {
    line.step == "end" && line.outcome.as_deref() == Some("ok")
}

fn is_restore_test(line: &JournalLine) -> bool {
    line.kind == "restore-test" && passed(line)
}

fn last_restore_test(database: &Address, journal: &[JournalLine]) -> RestoreTest {
    journal
        .iter()
        .filter(|l| is_restore_test(l) && covers(database.as_str(), &l.address))
        .max_by_key(|l| l.at)
        .map_or(RestoreTest::NoneRecorded, |l| RestoreTest::Passed {
            at: l.at,
            duration_ms: l.duration_ms,
        })
}

/// The newest measured test restore of a database that one of `affects` covers.
fn measured(affects: &[String], journal: &[JournalLine]) -> Option<Measured> {
    journal
        .iter()
        .filter(|l| is_restore_test(l) && l.address.split('/').nth(1) == Some("database"))
        .filter(|l| affects.iter().any(|a| covers(a, &l.address)))
        .filter_map(|l| {
            l.duration_ms.map(|duration_ms| Measured {
                address: l.address.clone(),
                at: l.at,
                duration_ms,
            })
        })
        .max_by_key(|m| m.at)
}

/// Whether an `affects` address or glob covers `address`: it matches, or one is below the
/// other (a scenario affecting `redmond/database/rtc/full` is measured by a test restore of
/// `redmond/database/rtc`, and the other way round).
fn covers(affected: &str, address: &str) -> bool {
    let below = |a: &str, b: &str| a.strip_prefix(b).is_some_and(|r| r.starts_with('/'));
    affected == address
        || below(address, affected)
        || below(affected, address)
        || Glob::new(affected).is_ok_and(|g| g.compile_matcher().is_match(address))
}

/// The servers an item belongs to (see the module's rule).
fn servers_of(site: &Site, item: &BackupItem<'_>) -> Vec<String> {
    let named = |fqdn: &str| -> Vec<String> {
        site.servers
            .iter()
            .filter(|s| s.fqdn.value.eq_ignore_ascii_case(fqdn))
            .map(|s| s.fqdn.value.clone())
            .collect()
    };
    match item.kind {
        ItemKind::Database(db, _) => site
            .sql_instances
            .iter()
            .find(|i| i.id.value == db.instance.value)
            .map(|i| named(&i.host.value))
            .unwrap_or_default(),
        ItemKind::Settings(s) => match s.level.value {
            SettingsLevel::Computer => s
                .server
                .as_ref()
                .map(|s| named(&s.value))
                .unwrap_or_default(),
            SettingsLevel::Pool => site
                .servers
                .iter()
                .filter(|server| {
                    server.pool.as_deref().is_some_and(|pool| {
                        s.pool
                            .as_ref()
                            .is_some_and(|p| p.value.eq_ignore_ascii_case(pool))
                    })
                })
                .map(|server| server.fqdn.value.clone())
                .collect(),
            SettingsLevel::Global => Vec::new(),
        },
        ItemKind::Fileset(_) => Vec::new(),
    }
}

/// What an item backs up, in words.
fn describe(site: &Site, item: &BackupItem<'_>) -> String {
    let mut what = match item.kind {
        ItemKind::Database(db, backup) => {
            let instance = site
                .sql_instance(&db.instance)
                .map_or_else(|| db.instance.value.clone(), SqlInstance::label);
            format!(
                "{} backup of database {} on {instance}",
                backup.kind.value.name(),
                db.name.value
            )
        }
        ItemKind::Settings(s) => match s.level.value {
            SettingsLevel::Global => "global settings export".to_owned(),
            SettingsLevel::Pool => format!(
                "pool settings export of {}",
                s.pool.as_ref().map_or("?", |p| p.value.as_str())
            ),
            SettingsLevel::Computer => format!(
                "computer settings export of {}",
                s.server.as_ref().map_or("?", |p| p.value.as_str())
            ),
        },
        ItemKind::Fileset(f) => format!("files under {}", f.path.value.display()),
    };
    if let Some(pattern) = &item.policy.pattern {
        let _ = write!(what, ", made by another tool (pattern {})", pattern.value);
    }
    what
}

#[cfg(test)]
mod tests;
