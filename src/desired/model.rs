//! The typed desired state: what an operator declared, with spans, after lowering from KDL.
//!
//! Pure data. Nothing here reads the network or the disk; `load` builds it and `validate`
//! checks the references between its parts.

use std::path::PathBuf;

use super::duration::{Duration, TimeOfDay};
use super::source::{Sources, Span, Spanned};
use crate::address::Address;

/// A closed set of keywords (`role="primary"`, `edition="enterprise"`, …).
pub trait Choice: Sized + Copy + 'static {
    const ALL: &'static [(&'static str, Self)];

    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("?", |(n, _)| n)
    }
}

macro_rules! choice {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl Choice for $name {
            const ALL: &'static [(&'static str, Self)] = &[$(($text, Self::$variant)),+];
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}

choice!(
    /// `deployment product=…`: which profile applies.
    Product { Ocs2007R2 = "ocs-2007-r2", Generic = "generic" }
);
choice!(SiteRole { Primary = "primary", Standby = "standby" });
choice!(Edition { Standard = "standard", Enterprise = "enterprise" });
choice!(
    /// The OCS 2007 R2 server roles.
    ServerRole {
        StandardEdition = "standard-edition",
        FrontEnd = "front-end",
        BackEnd = "back-end",
        Archiving = "archiving",
        Monitoring = "monitoring",
        GroupChat = "group-chat",
        GroupChatCompliance = "group-chat-compliance",
        Mediation = "mediation",
        Edge = "edge",
        ForwardProxy = "forward-proxy",
        CommunicatorWebAccess = "communicator-web-access",
        Director = "director",
    }
);
choice!(RecoveryModel { Full = "full", Simple = "simple", BulkLogged = "bulk-logged" });
choice!(
    /// The kind of a database backup (`backup "full"`).
    DatabaseBackupKind { Full = "full", Diff = "diff", Log = "log" }
);
choice!(SettingsLevel { Global = "global", Pool = "pool", Computer = "computer" });
choice!(RecordType { Srv = "SRV", A = "A", Cname = "CNAME" });
choice!(
    /// Where standby keeps its state (`state "local"` or `state "postgres"`).
    StateKind { Local = "local", Postgres = "postgres" }
);

/// The top-level `state` node (SPEC §4): where standby keeps what it learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateDecl {
    /// An embedded database in this directory (relative paths are relative to the KDL file).
    Local { path: PathBuf },
    /// A shared PostgreSQL whose URL is in this environment variable.
    Postgres { url_env: String },
}
choice!(
    /// The ten restoration scenarios of the OCS 2007 R2 backup and restoration guide, as
    /// `scenario … template=` names (SPEC §7).
    ScenarioTemplate {
        DatabaseLoss = "database-loss",
        StandardEditionServerLoss = "standard-edition-server-loss",
        EnterprisePoolServerLoss = "enterprise-pool-server-loss",
        AdDsLoss = "ad-ds-loss",
        ArchivingServerLoss = "archiving-server-loss",
        MonitoringServerLoss = "monitoring-server-loss",
        GroupChatServerLoss = "group-chat-server-loss",
        GroupChatComplianceServerLoss = "group-chat-compliance-server-loss",
        EdgeMediationProxyLoss = "edge-mediation-proxy-loss",
        SiteLoss = "site-loss",
    }
);

/// The whole desired state of one deployment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub sources: Sources,
    pub deployment: Deployment,
    pub sites: Vec<Site>,
    pub scenarios: Vec<Scenario>,
    pub restore_sequence: Vec<Spanned<String>>,
    /// Where state lives; `None`: the `--state` directory (default `state/`).
    #[serde(skip)]
    pub state: Option<StateDecl>,
    /// Declarations that could not be lowered, as (node kind, name). Only non-empty while
    /// the desired state has errors; references to them are not reported as dangling.
    #[serde(skip)]
    pub incomplete: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Deployment {
    pub name: Spanned<String>,
    pub product: Option<Spanned<Product>>,
    pub domain: Option<Spanned<String>>,
    pub objectives: Objectives,
    pub backup_window: Option<BackupWindow>,
    /// DNS servers as `HOST:PORT`; empty means the system's resolvers.
    pub resolvers: Vec<Spanned<String>>,
    pub owners: Vec<Owner>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Objectives {
    pub rpo: Option<Spanned<Duration>>,
    pub rto: Option<Spanned<Duration>>,
    pub restore_test: Option<Spanned<Duration>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupWindow {
    pub start: Spanned<TimeOfDay>,
    pub end: Spanned<TimeOfDay>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Owner {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub contact: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Site {
    pub name: Spanned<String>,
    pub role: Spanned<SiteRole>,
    pub standby_for: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub owner: Option<Spanned<String>>,
    pub stores: Vec<Store>,
    pub pools: Vec<Pool>,
    /// Every server of the site, inside a pool or not (Edge and Mediation servers are not).
    pub servers: Vec<Server>,
    pub sql_instances: Vec<SqlInstance>,
    pub databases: Vec<Database>,
    pub settings: Vec<Settings>,
    pub filesets: Vec<Fileset>,
    pub dns: Vec<DnsRecord>,
    pub omits: Vec<Omit>,
    pub settings_compares: Vec<SettingsCompare>,
}

impl Site {
    pub fn address(&self, kind: &str, name: &str) -> Address {
        Address::new(&self.name, kind, name)
    }

    pub fn store(&self, name: &str) -> Option<&Store> {
        self.stores.iter().find(|s| *s.name == name)
    }

    pub fn sql_instance(&self, id: &str) -> Option<&SqlInstance> {
        self.sql_instances.iter().find(|i| *i.id == id)
    }

    /// The site that physically holds `store`: its `located-at`, else this site.
    pub fn location_of<'a>(&'a self, store: &'a Store) -> &'a str {
        store
            .located_at
            .as_ref()
            .map_or(self.name.value.as_str(), |l| l.value.as_str())
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Store {
    pub name: Spanned<String>,
    /// The store root on this machine, resolved against the KDL file's directory.
    pub path: Spanned<PathBuf>,
    /// The same folder as SQL Server sees it (`\\host\share\…` or `D:\Backup`).
    pub sql_path: Option<Spanned<String>>,
    /// The site that physically holds the store, when it is not the enclosing one.
    pub located_at: Option<Spanned<String>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Pool {
    pub fqdn: Spanned<String>,
    pub edition: Spanned<Edition>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Server {
    pub fqdn: Spanned<String>,
    pub role: Spanned<ServerRole>,
    pub owner: Option<Spanned<String>>,
    /// The pool the server was declared in.
    pub pool: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SqlInstance {
    pub id: Spanned<String>,
    pub host: Spanned<String>,
    /// `None`: 1433 for the default instance; a named instance's port comes from SQL Browser.
    pub port: Option<u16>,
    /// A named instance (`RTC`); `None` is the default instance.
    pub instance: Option<String>,
    pub user: Option<String>,
    /// The environment variable that holds the password; the password itself is never stored.
    pub password_env: Option<Spanned<String>>,
    pub encrypt: bool,
    pub trust_cert: bool,
}

impl SqlInstance {
    /// `sql01.contoso.com\RTC`, or the host for the default instance: how an operator names it.
    pub fn label(&self) -> String {
        match &self.instance {
            Some(name) => format!("{}\\{name}", self.host.value),
            None => self.host.value.clone(),
        }
    }
}

impl DatabaseBackupKind {
    /// Log backups are small and only worth anything on time: `apply` runs them (and their
    /// `RESTORE VERIFYONLY`) at any hour, not only in the backup window.
    pub fn runs_any_hour(self) -> bool {
        self == Self::Log
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Database {
    pub name: Spanned<String>,
    pub instance: Spanned<String>,
    pub recovery_model: Option<Spanned<RecoveryModel>>,
    pub separate_log_volume: bool,
    pub backups: Vec<DatabaseBackup>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DatabaseBackup {
    pub kind: Spanned<DatabaseBackupKind>,
    pub policy: Policy,
}

/// Schedule, freshness thresholds, retention and placement of one backed-up item.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Policy {
    pub every: Spanned<Duration>,
    pub keep: Spanned<u32>,
    pub min: u32,
    /// Effective thresholds: declared, or 1.25× / 1.5× `every` capped at the deployment's RPO.
    pub warn: Duration,
    pub crit: Duration,
    pub warn_declared: Option<Spanned<Duration>>,
    pub crit_declared: Option<Spanned<Duration>>,
    pub store: Spanned<String>,
    pub copy_to: Option<Spanned<String>>,
    /// A glob relative to the store root that adopts backups made by other tools.
    pub pattern: Option<Spanned<String>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Settings {
    pub name: Spanned<String>,
    pub level: Spanned<SettingsLevel>,
    pub pool: Option<Spanned<String>>,
    pub server: Option<Spanned<String>>,
    pub policy: Policy,
    /// The argv that writes `{file}`; run without a shell.
    pub export: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Fileset {
    pub name: Spanned<String>,
    pub path: Spanned<PathBuf>,
    pub policy: Policy,
    pub include: Vec<Spanned<String>>,
    pub exclude: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DnsRecord {
    pub name: Spanned<String>,
    pub record_type: Spanned<RecordType>,
    pub target: Spanned<String>,
    pub port: Option<Spanned<u16>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Omit {
    /// A server role (`archiving`) or a primary component as `KIND/NAME` (`database/lcslog`).
    pub component: Spanned<String>,
    pub reason: Spanned<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SettingsCompare {
    pub name: Spanned<String>,
    pub rewrites: Vec<Rewrite>,
    pub ignore_lines: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Rewrite {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Scenario {
    pub name: Spanned<String>,
    pub owner: Option<Spanned<String>>,
    /// The declared estimate; for a templated scenario without one, the sum of its steps'
    /// minutes (spanning the `template` property).
    pub estimate: Option<Spanned<Duration>>,
    /// The guide's scenario this one expands; its steps come first, then declared ones.
    pub template: Option<Spanned<ScenarioTemplate>>,
    pub affects: Vec<Spanned<String>>,
    pub steps: Vec<Step>,
    /// `override STEP minutes=N`: new minutes for a template step.
    #[serde(skip)]
    pub overrides: Vec<StepOverride>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub text: Spanned<String>,
    pub minutes: Option<Spanned<u32>>,
    /// A template step's stable id (`restore/rtc`), which `override` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StepOverride {
    pub step: Spanned<String>,
    pub minutes: Spanned<u32>,
}

/// What kind of thing a [`BackupItem`] protects.
#[derive(Debug, Clone, Copy)]
pub enum ItemKind<'a> {
    Database(&'a Database, &'a DatabaseBackup),
    Settings(&'a Settings),
    Fileset(&'a Fileset),
}

/// One thing that must have fresh backups: a database backup type, a settings export or a
/// fileset, with its address and policy. The unit that freshness and retention rules see.
#[derive(Debug, Clone)]
pub struct BackupItem<'a> {
    pub site: &'a Site,
    pub address: Address,
    pub kind: ItemKind<'a>,
    pub policy: &'a Policy,
}

impl Desired {
    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| *s.name == name)
    }

    pub fn owner(&self, id: &str) -> Option<&Owner> {
        self.deployment.owners.iter().find(|o| *o.id == id)
    }

    /// Every backed-up item of every site, in declaration order.
    pub fn backup_items(&self) -> impl Iterator<Item = BackupItem<'_>> {
        self.sites.iter().flat_map(|site| {
            let databases = site.databases.iter().flat_map(move |db| {
                db.backups.iter().map(move |backup| BackupItem {
                    site,
                    address: site
                        .address("database", &db.name)
                        .detail(backup.kind.name()),
                    kind: ItemKind::Database(db, backup),
                    policy: &backup.policy,
                })
            });
            let settings = site.settings.iter().map(move |s| BackupItem {
                site,
                address: site.address("settings", &s.name),
                kind: ItemKind::Settings(s),
                policy: &s.policy,
            });
            let filesets = site.filesets.iter().map(move |f| BackupItem {
                site,
                address: site.address("fileset", &f.name),
                kind: ItemKind::Fileset(f),
                policy: &f.policy,
            });
            databases.chain(settings).chain(filesets)
        })
    }

    /// Every address the desired state declares, with the span of its declaration.
    pub fn addresses(&self) -> Vec<(Address, Span)> {
        let mut out = Vec::new();
        for site in &self.sites {
            out.push((Address::new(&site.name, "site", &site.name), site.name.span));
            let mut add = |kind: &str, name: &Spanned<String>| {
                out.push((site.address(kind, name), name.span));
            };
            site.stores.iter().for_each(|s| add("store", &s.name));
            site.pools.iter().for_each(|p| add("pool", &p.fqdn));
            site.servers.iter().for_each(|s| add("server", &s.fqdn));
            site.sql_instances
                .iter()
                .for_each(|i| add("sql-instance", &i.id));
            site.databases.iter().for_each(|d| add("database", &d.name));
            site.settings.iter().for_each(|s| add("settings", &s.name));
            site.filesets.iter().for_each(|f| add("fileset", &f.name));
            site.dns.iter().for_each(|d| add("dns", &d.name));
            site.omits.iter().for_each(|o| add("omit", &o.component));
            site.settings_compares
                .iter()
                .for_each(|c| add("settings-compare", &c.name));
            for db in &site.databases {
                for backup in &db.backups {
                    out.push((
                        site.address("database", &db.name)
                            .detail(backup.kind.name()),
                        backup.kind.span,
                    ));
                }
            }
        }
        out
    }
}
