//! Findings: what is wrong, where, how badly, and what would fix it.

use serde::{Deserialize, Serialize};

use crate::address::Address;

/// The stable finding codes of SPEC §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    BackupMissing,
    BackupStale,
    BackupFuture,
    BackupUnverified,
    BackupCorrupt,
    CopyMissing,
    CopyMismatch,
    RetentionExcess,
    RecoveryModelDrift,
    LogVolumeShared,
    DatabaseMissing,
    Unmanaged,
    RestoreTestOverdue,
    RestoreTooSlow,
    SettingsDrift,
    DnsMismatch,
    StandbyMissing,
    SourceUnreachable,
    ChainBroken,
    RecoveryPointLag,
    StoreMissing,
}

impl FindingCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BackupMissing => "backup-missing",
            Self::BackupStale => "backup-stale",
            Self::BackupFuture => "backup-future",
            Self::BackupUnverified => "backup-unverified",
            Self::BackupCorrupt => "backup-corrupt",
            Self::CopyMissing => "copy-missing",
            Self::CopyMismatch => "copy-mismatch",
            Self::RetentionExcess => "retention-excess",
            Self::RecoveryModelDrift => "recovery-model-drift",
            Self::LogVolumeShared => "log-volume-shared",
            Self::DatabaseMissing => "database-missing",
            Self::Unmanaged => "unmanaged",
            Self::RestoreTestOverdue => "restore-test-overdue",
            Self::RestoreTooSlow => "restore-too-slow",
            Self::SettingsDrift => "settings-drift",
            Self::DnsMismatch => "dns-mismatch",
            Self::StandbyMissing => "standby-missing",
            Self::SourceUnreachable => "source-unreachable",
            Self::ChainBroken => "chain-broken",
            Self::RecoveryPointLag => "recovery-point-lag",
            Self::StoreMissing => "store-missing",
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most severe first, so sorting by severity puts what pages someone at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub address: Address,
    pub code: FindingCode,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A unified diff of what differs (`settings-drift`), uncoloured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl Finding {
    pub fn new(
        address: &Address,
        code: FindingCode,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        Self {
            address: address.clone(),
            code,
            severity,
            message: message.into(),
            desired: None,
            observed: None,
            hint: None,
            diff: None,
        }
    }

    #[must_use]
    pub fn desired(mut self, text: impl Into<String>) -> Self {
        self.desired = Some(text.into());
        self
    }

    #[must_use]
    pub fn observed(mut self, text: impl Into<String>) -> Self {
        self.observed = Some(text.into());
        self
    }

    #[must_use]
    pub fn hint(mut self, text: impl Into<String>) -> Self {
        self.hint = Some(text.into());
        self
    }

    #[must_use]
    pub fn diff(mut self, text: impl Into<String>) -> Self {
        self.diff = Some(text.into());
        self
    }
}

/// Puts findings in reading order: by site, then severity, address and code. Plan, check
/// and audit report them in this one order.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.address.site(), a.severity, &a.address, a.code).cmp(&(
            b.address.site(),
            b.severity,
            &b.address,
            b.code,
        ))
    });
}

/// How many of `findings` have `severity`.
pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

/// Whether `findings` say something is out of sync: a warning or a critical finding (info
/// alone does not).
pub fn any_drift(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity != Severity::Info)
}
