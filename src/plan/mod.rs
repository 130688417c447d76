//! Planning: a pure function from the desired state, an observation and a point in time to
//! findings and the actions that would resolve them. No I/O and no clock reads here.

mod action;
pub mod chain;
pub mod database;
mod finding;
mod item;
pub mod recovery;
mod restore_script;
mod rules;
mod saved;
mod select;

use std::collections::HashMap;

use jiff::Timestamp;

pub use action::{Action, ActionKind, Operation, RestoreFile};
pub use finding::{Finding, FindingCode, Severity, any_drift, count, sort as sort_findings};
pub use item::ItemState;
pub use restore_script::{RestoreOptions, restore_statements};
pub(crate) use rules::{copy_parity, item_store_problem};
pub use saved::{SavedPlan, desired_fingerprint, observed_fingerprint};
pub use select::{IgnoreError, IgnoreRules, Targets, select};

use crate::address::Address;
use crate::desired::Desired;
use crate::layout::BackupType;
use crate::observe::Observed;

/// Findings and actions, plus the findings the ignore file set aside (counted, not hidden).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub findings: Vec<Finding>,
    pub actions: Vec<Action>,
    pub ignored: Vec<Finding>,
    /// The freshness of every backed-up item, for metrics and monitoring perfdata.
    pub items: Vec<ItemStatus>,
}

/// How fresh one backed-up item is, as of the plan's `now`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemStatus {
    pub address: Address,
    pub site: String,
    /// `database`, `settings` or `fileset`.
    pub kind: &'static str,
    pub item: String,
    pub backup_type: BackupType,
    /// Whether its store could be observed; when not, the rest is unknown.
    pub known: bool,
    pub backups: usize,
    pub newest: Option<Timestamp>,
    pub age_seconds: Option<i64>,
    pub warn_seconds: u64,
    pub crit_seconds: u64,
}

impl ItemStatus {
    fn of(state: &ItemState<'_>) -> Self {
        let kind = match state.item.kind {
            crate::desired::ItemKind::Database(..) => "database",
            crate::desired::ItemKind::Settings(..) => "settings",
            crate::desired::ItemKind::Fileset(..) => "fileset",
        };
        let known = state.store_seen.is_some_and(|s| s.error.is_none());
        let newest = state.backups.first().map(|b| b.time).filter(|_| known);
        Self {
            address: state.item.address.clone(),
            site: state.item.site.name.value.clone(),
            kind,
            item: state.layout.name.clone(),
            backup_type: state.layout.backup_type,
            known,
            backups: state.backups.len(),
            newest,
            age_seconds: newest.map(|t| state.now.as_second() - t.as_second()),
            warn_seconds: state.item.policy.warn.as_secs(),
            crit_seconds: state.item.policy.crit.as_secs(),
        }
    }
}

/// Where rules put what they find. Keeps one "make a new backup" action per item, however
/// many findings ask for it.
#[derive(Default)]
pub(crate) struct Out {
    findings: Vec<Finding>,
    actions: Vec<Action>,
    manual: Vec<Action>,
    new_backup: HashMap<Address, String>,
    /// The set-recovery-model action of a database, by database address.
    recovery_fix: HashMap<Address, String>,
}

impl Out {
    pub(crate) fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Adds an action and returns its provisional id (for `depends_on`).
    pub(crate) fn action(&mut self, mut action: Action) -> String {
        let id = format!("p{}", self.actions.len() + self.manual.len());
        action.id.clone_from(&id);
        if action.manual {
            self.manual.push(action);
        } else {
            self.actions.push(action);
        }
        id
    }

    /// The provisional id of the new-backup action of `address`, if one was planned.
    pub(crate) fn new_backup_id(&self, address: &Address) -> Option<&String> {
        self.new_backup.get(address)
    }

    pub(crate) fn recovery_fix(&self, database: &Address) -> Option<&String> {
        self.recovery_fix.get(database)
    }

    pub(crate) fn remember_recovery_fix(&mut self, database: &Address, id: String) {
        self.recovery_fix.insert(database.clone(), id);
    }

    /// The operation of a planned action, by provisional id.
    pub(crate) fn operation(&self, id: &str) -> Option<&Operation> {
        self.actions
            .iter()
            .find(|a| a.id == id)
            .map(|a| &a.operation)
    }

    pub(crate) fn remember_new_backup(&mut self, address: &Address, id: String) {
        self.new_backup.insert(address.clone(), id);
    }

    /// Adds `code` to what an existing action resolves.
    pub(crate) fn also_resolves(&mut self, id: &str, code: FindingCode) {
        if let Some(action) = self
            .actions
            .iter_mut()
            .chain(self.manual.iter_mut())
            .find(|a| a.id == id)
            && !action.resolves.contains(&code)
        {
            action.resolves.push(code);
        }
    }

    /// Drops every planned prune of a file that more than one item claims (their patterns
    /// overlap): neither item's `keep` may decide for the other's backups. Each such item
    /// gets a warning naming the others, so the overlap is fixed rather than forgotten.
    fn spare_shared(&mut self, owners: &HashMap<std::path::PathBuf, Vec<Address>>) {
        let mut warned: Vec<Address> = Vec::new();
        let mut spared = Vec::new();
        self.actions.retain(|action| {
            let Operation::Prune { path, .. } = &action.operation else {
                return true;
            };
            let Some(all) = owners.get(path).filter(|o| o.len() > 1) else {
                return true;
            };
            if !warned.contains(&action.address) {
                warned.push(action.address.clone());
                let others: Vec<String> = all
                    .iter()
                    .filter(|a| **a != action.address)
                    .map(ToString::to_string)
                    .collect();
                spared.push(
                    Finding::new(
                        &action.address,
                        FindingCode::RetentionExcess,
                        Severity::Warning,
                        format!(
                            "{} is also claimed by {}: not pruned",
                            path.display(),
                            others.join(", ")
                        ),
                    )
                    .hint("two items whose patterns match the same files never prune them; make the patterns disjoint"),
                );
            }
            false
        });
        self.findings.append(&mut spared);
    }

    /// Final ids `a1…` in execution order, manual actions last.
    fn finish(mut self) -> Plan {
        let mut actions = std::mem::take(&mut self.actions);
        actions.append(&mut self.manual);
        let ids: HashMap<String, String> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), format!("a{}", i + 1)))
            .collect();
        for action in &mut actions {
            action.id.clone_from(&ids[&action.id]);
            for dependency in &mut action.depends_on {
                if let Some(id) = ids.get(dependency) {
                    dependency.clone_from(id);
                }
            }
        }
        let mut findings = self.findings;
        finding::sort(&mut findings);
        Plan {
            findings,
            actions,
            ignored: Vec::new(),
            items: Vec::new(),
        }
    }
}

/// Plans every declared database and backed-up item against the observation, as of `now`.
pub fn plan(desired: &Desired, observed: &Observed, now: Timestamp) -> Plan {
    let mut out = Out::default();
    let index = database::SqlIndex::new(observed);
    let databases: Vec<database::DatabaseState<'_>> = desired
        .sites
        .iter()
        .flat_map(|site| site.databases.iter().map(move |db| (site, db)))
        .map(|(site, db)| database::DatabaseState::new(desired, &index, site, db, now))
        .collect();
    let by_address: HashMap<&Address, &database::DatabaseState<'_>> =
        databases.iter().map(|db| (&db.address, db)).collect();
    for db in &databases {
        rules::check_database(db, &mut out);
    }
    let mut claimed = rules::unmanaged::Claimed::default();
    // Which items claim each backup file: two items whose patterns match the same files
    // would each prune the other's backups by their own `keep`.
    let mut owners: HashMap<std::path::PathBuf, Vec<Address>> = HashMap::new();
    let mut items = Vec::new();
    for item in backup_items_in_order(desired) {
        let database = match item.kind {
            crate::desired::ItemKind::Database(db, _) => by_address
                .get(&item.site.address("database", &db.name))
                .copied(),
            _ => None,
        };
        let Some(state) = ItemState::new(desired, observed, item, database, now) else {
            continue;
        };
        claimed.add(&state);
        for (store, backups) in [
            (Some(state.store), &state.backups),
            (state.copy_store, &state.copies),
        ] {
            let Some(store) = store else { continue };
            for backup in backups {
                let owners = owners
                    .entry(store.path.value.join(&backup.entry.path))
                    .or_default();
                if !owners.contains(&state.item.address) {
                    owners.push(state.item.address.clone());
                }
            }
        }
        rules::check_item(&state, &mut out);
        items.push(ItemStatus::of(&state));
    }
    for db in &databases {
        rules::check_restores(db, observed, &mut out);
        if let Some(recovery) = recovery::Recovery::of(db, observed) {
            rules::check_recovery(db, &recovery, &mut out);
        }
    }
    rules::unmanaged::check(desired, observed, &claimed, &mut out);
    rules::unmanaged::check_databases(desired, observed, &mut out);
    rules::store_missing::check(desired, observed, &mut out);
    out.spare_shared(&owners);
    let mut plan = out.finish();
    plan.items = items;
    plan
}

/// The backed-up items with each database's full backup before its differential and log
/// backups, which build on it (their actions depend on a planned full).
fn backup_items_in_order(desired: &Desired) -> Vec<crate::desired::BackupItem<'_>> {
    let mut items: Vec<_> = desired.backup_items().enumerate().collect();
    let rank = |item: &crate::desired::BackupItem<'_>| match item.kind {
        crate::desired::ItemKind::Database(_, backup) => match backup.kind.value {
            crate::desired::DatabaseBackupKind::Full => 0,
            crate::desired::DatabaseBackupKind::Diff => 1,
            crate::desired::DatabaseBackupKind::Log => 2,
        },
        _ => 0,
    };
    // Items of one database are adjacent: key them by their database's first position.
    let mut group = Vec::with_capacity(items.len());
    let mut previous: Option<(String, usize)> = None;
    for (position, item) in &items {
        let key = match item.kind {
            crate::desired::ItemKind::Database(db, _) => {
                Some(format!("{}/{}", item.site.name.value, db.name.value))
            }
            _ => None,
        };
        let start = match (&key, &previous) {
            (Some(k), Some((pk, start))) if k == pk => *start,
            _ => *position,
        };
        previous = key.map(|k| (k, start));
        group.push(start);
    }
    items.sort_by_key(|(position, item)| (group[*position], rank(item)));
    items.into_iter().map(|(_, item)| item).collect()
}

impl Plan {
    /// Keeps what `targets` select and sets aside what `ignore` matches. Actions go with
    /// their findings: an action whose findings are all set aside is dropped.
    #[must_use]
    pub fn select(mut self, targets: &Targets, ignore: &IgnoreRules) -> Self {
        let found = std::mem::take(&mut self.findings);
        self.findings = select::select(found, targets, ignore, &mut self.ignored);
        self.items.retain(|item| targets.selects(&item.address));
        let findings = &self.findings;
        self.actions.retain(|action| {
            targets.selects(&action.address)
                && action.resolves.iter().any(|code| {
                    findings
                        .iter()
                        .any(|f| f.code == *code && f.address.covers(&action.address))
                })
        });
        let kept: Vec<String> = self.actions.iter().map(|a| a.id.clone()).collect();
        for action in &mut self.actions {
            action.depends_on.retain(|d| kept.contains(d));
        }
        self
    }

    pub fn count(&self, severity: Severity) -> usize {
        finding::count(&self.findings, severity)
    }

    /// Whether anything is out of sync: a warning or critical finding (info alone is not).
    pub fn has_drift(&self) -> bool {
        finding::any_drift(&self.findings)
    }
}
