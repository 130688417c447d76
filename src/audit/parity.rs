//! Parity rows: one primary component beside its standby counterpart, and how they compare.

use jiff::Timestamp;
use serde::Serialize;

use crate::address::Address;

/// What a row compares; each kind is one table of `standby audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParityKind {
    /// The sites themselves: region, domain, pool names.
    Site,
    Role,
    Database,
    Settings,
    Fileset,
    /// A DNS record's failover counterpart at the standby site.
    Dns,
    /// A backup item's copies at the standby site.
    Copy,
    /// The latest settings exports, compared under `settings-compare`.
    SettingsExport,
    /// What a declared DNS record resolves to.
    DnsAnswer,
}

impl ParityKind {
    pub const ALL: [Self; 9] = [
        Self::Site,
        Self::Role,
        Self::Database,
        Self::Settings,
        Self::Fileset,
        Self::Dns,
        Self::Copy,
        Self::SettingsExport,
        Self::DnsAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Site => "site",
            Self::Role => "role",
            Self::Database => "database",
            Self::Settings => "settings",
            Self::Fileset => "fileset",
            Self::Dns => "dns",
            Self::Copy => "copy",
            Self::SettingsExport => "settings-export",
            Self::DnsAnswer => "dns-answer",
        }
    }

    /// The heading of the kind's table.
    pub fn title(self) -> &'static str {
        match self {
            Self::Site => "sites",
            Self::Role => "server roles",
            Self::Database => "databases",
            Self::Settings => "settings",
            Self::Fileset => "filesets",
            Self::Dns => "DNS records",
            Self::Copy => "backup copies at the standby site",
            Self::SettingsExport => "settings exports",
            Self::DnsAnswer => "DNS answers",
        }
    }
}

/// How a primary component and its standby counterpart compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The counterpart is there and matches.
    Ok,
    /// The standby deliberately does without it (an `omit` with a reason).
    Omitted,
    /// No counterpart and no `omit`.
    Missing,
    /// A counterpart that differs: copies, settings, DNS answers.
    Drift,
    /// Not observed, so not known.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Omitted => "omitted",
            Self::Missing => "missing",
            Self::Drift => "drift",
            Self::Unknown => "unknown",
        }
    }
}

/// One line of a parity table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParityRow {
    pub primary_site: String,
    pub standby_site: String,
    pub kind: ParityKind,
    /// The component's address (the primary's, or the standby's for what only it has).
    pub address: Address,
    /// What the primary has (`—` for nothing).
    pub primary: String,
    /// What the standby has (`—` for nothing).
    pub standby: String,
    pub status: Status,
    /// Why: the omit's reason, what differs, what could not be observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `copy` rows: how far the standby's copies are behind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copies: Option<CopyParity>,
}

/// How far the copies of one backup item at the standby site are behind the primary's
/// backups, like the newest common snapshot of two replicated datasets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyParity {
    /// The copy store.
    pub store: String,
    /// Backups retention keeps (at most `keep`), and how many of them have an equal copy.
    pub kept: usize,
    pub copied: usize,
    /// The primary's newest backup.
    pub newest: Option<String>,
    pub newest_at: Option<Timestamp>,
    /// The newest backup both stores hold with the same path and sha256.
    pub newest_common: Option<String>,
    pub newest_common_at: Option<Timestamp>,
    /// How far `newest_common` is behind `newest`; `None` when nothing is in common.
    pub lag_seconds: Option<i64>,
}

/// `—` for what a side does not have.
pub(super) const NOTHING: &str = "—";
