//! Standby-site parity (`standby audit`): whether each standby site could stand in for the
//! primary it names. Pure like `plan`: the desired state, an observation and a point in time
//! in; parity rows and findings out. No I/O, no clock.
//!
//! One file per rule: `counterparts` (every primary component has a counterpart or an
//! `omit`), `guide` (the backup guide's rules for a standby site), `copies` (the copies at
//! the standby site match the primary's backups), `settings_drift` (the latest settings
//! exports agree under `settings-compare`) and `dns_mismatch` (declared records resolve as
//! declared).

mod copies;
mod counterparts;
mod dns_mismatch;
mod guide;
mod omits;
mod parity;
mod settings_drift;

#[cfg(test)]
mod fixture;

use jiff::Timestamp;

pub use parity::{CopyParity, ParityKind, ParityRow, Status};

use crate::address::Address;
use crate::desired::{Desired, Site, SiteRole};
use crate::observe::Observed;
use crate::plan::{Finding, FindingCode, IgnoreRules, Severity, Targets};
use omits::Omits;

/// What `audit` found: parity rows per standby site, and findings.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub findings: Vec<Finding>,
    /// Findings the ignore file set aside (counted, not hidden).
    pub ignored: Vec<Finding>,
    pub parity: Vec<ParityRow>,
}

/// A standby site and the primary it stands in for.
#[derive(Debug, Clone, Copy)]
struct Pair<'a> {
    primary: &'a Site,
    standby: &'a Site,
    omits: Omits<'a>,
}

impl<'a> Pair<'a> {
    fn new(primary: &'a Site, standby: &'a Site) -> Self {
        Self {
            primary,
            standby,
            omits: Omits { primary, standby },
        }
    }
}

/// Where rules put rows and findings.
#[derive(Debug, Default)]
struct Out {
    findings: Vec<Finding>,
    rows: Vec<ParityRow>,
}

impl Out {
    fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Adds a row of `pair`, without a note.
    fn row(
        &mut self,
        pair: &Pair<'_>,
        kind: ParityKind,
        address: Address,
        sides: (String, String),
        status: Status,
    ) -> &mut ParityRow {
        self.rows.push(ParityRow {
            primary_site: pair.primary.name.value.clone(),
            standby_site: pair.standby.name.value.clone(),
            kind,
            address,
            primary: sides.0,
            standby: sides.1,
            status,
            note: None,
            copies: None,
        });
        let last = self.rows.len() - 1;
        &mut self.rows[last]
    }
}

/// Audits every standby site against the primary it stands in for, as of `now`.
pub fn audit(desired: &Desired, observed: &Observed, now: Timestamp) -> Audit {
    let mut out = Out::default();
    for primary in desired
        .sites
        .iter()
        .filter(|s| s.role.value == SiteRole::Primary)
    {
        let standbys: Vec<&Site> = desired
            .sites
            .iter()
            .filter(|s| {
                s.role.value == SiteRole::Standby
                    && s.standby_for
                        .as_ref()
                        .is_some_and(|p| p.value == primary.name.value)
            })
            .collect();
        if standbys.is_empty() {
            out.finding(
                Finding::new(
                    &primary.address("site", &primary.name),
                    FindingCode::StandbyMissing,
                    Severity::Warning,
                    format!(
                        "no standby site stands in for `{}`: its loss cannot be recovered elsewhere",
                        primary.name.value
                    ),
                )
                .hint(format!(
                    "declare site \"NAME\" role=\"standby\" standby-for=\"{}\"",
                    primary.name.value
                )),
            );
        }
        for standby in standbys {
            let pair = Pair::new(primary, standby);
            guide::check(desired, &pair, &mut out);
            counterparts::check(&pair, &mut out);
            copies::check(desired, observed, &pair, now, &mut out);
            settings_drift::check(observed, &pair, &mut out);
            dns_mismatch::check(observed, &pair, &mut out);
        }
    }
    let mut findings = out.findings;
    crate::plan::sort_findings(&mut findings);
    Audit {
        findings,
        ignored: Vec::new(),
        parity: out.rows,
    }
}

impl Audit {
    /// Keeps what `targets` select and sets aside the findings `ignore` matches.
    #[must_use]
    pub fn select(mut self, targets: &Targets, ignore: &IgnoreRules) -> Self {
        let found = std::mem::take(&mut self.findings);
        self.findings = crate::plan::select(found, targets, ignore, &mut self.ignored);
        self.parity.retain(|row| targets.selects(&row.address));
        self
    }

    pub fn count(&self, severity: Severity) -> usize {
        crate::plan::count(&self.findings, severity)
    }

    /// Whether the standby is out of sync: a warning or critical finding (info alone is not).
    pub fn has_drift(&self) -> bool {
        crate::plan::any_drift(&self.findings)
    }

    /// Rows per status, in status order.
    pub fn status_counts(&self) -> Vec<(Status, usize)> {
        let mut counts = std::collections::BTreeMap::<Status, usize>::new();
        for row in &self.parity {
            *counts.entry(row.status).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}
