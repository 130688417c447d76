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

/// An age as people read it: `45s`, `12m`, `3h12m`, `2d4h`.
pub fn age(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    let text = match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    };
    format!("{sign}{text}")
}

/// A size as people read it.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    #[allow(clippy::cast_precision_loss, reason = "one decimal is shown")]
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_sizes_read_naturally() {
        assert_eq!(age(45), "45s");
        assert_eq!(age(720), "12m");
        assert_eq!(age(3 * 3600 + 720), "3h12m");
        assert_eq!(age(31 * 3600), "1d7h");
        assert_eq!(age(2 * 86_400 + 60), "2d");
        assert_eq!(age(-120), "-2m");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
