//! Test fixtures for the audit rules: desired states from KDL text, observations in code.

use crate::desired::{Desired, load_texts};
use crate::observe::{EntryKind, Observed, StoreEntry, StoreObservation};

use super::{Audit, ParityKind, ParityRow, audit};

const DEPLOYMENT: &str = r#"
deployment "t" product="generic" domain="example.com" {
    objectives rpo="24h"
}
"#;

pub(super) fn now() -> jiff::Timestamp {
    "2026-11-22T12:00:00Z".parse().expect("a timestamp")
}

/// The deployment header plus `sites`; must be valid (warnings allowed).
pub(super) fn desired(sites: &str) -> Desired {
    let loaded = crate::profile::apply(load_texts(vec![(
        "/d/t.kdl".into(),
        format!("{DEPLOYMENT}{sites}"),
    )]));
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    loaded.desired.expect("the fixture is valid")
}

pub(super) fn observed(stores: Vec<StoreObservation>) -> Observed {
    Observed {
        format_version: "1".into(),
        taken_at: now(),
        stores,
        filesets: Vec::new(),
        settings_exports: Vec::new(),
        dns: Vec::new(),
        sql: Vec::new(),
        restore_tests: Vec::new(),
    }
}

pub(super) fn entry(path: &str, size: u64, sha: &str) -> StoreEntry {
    StoreEntry {
        path: path.to_owned(),
        kind: EntryKind::File,
        size,
        mtime: now(),
        sha256: Some(sha.repeat(64 / sha.len())),
        recorded_sha256: None,
        hash_origin: Some(crate::state::catalog::HashOrigin::VerifiedAt),
        verified_at: Some(now()),
        files: None,
        bad_files: Vec::new(),
        error: None,
    }
}

/// A listed store, its entries sorted as discovery leaves them.
pub(super) fn store(
    site: &str,
    name: &str,
    root: &str,
    mut entries: Vec<StoreEntry>,
) -> StoreObservation {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    StoreObservation {
        site: site.into(),
        store: name.into(),
        root: root.into(),
        error: None,
        missing: false,
        unreadable: Vec::new(),
        case: crate::platform::NameCase::Sensitive,
        entries,
    }
}

pub(super) fn audit_with(sites: &str, observed: &Observed) -> Audit {
    audit(&desired(sites), observed, now())
}

/// An audit against an observation of nothing.
pub(super) fn audit_of(sites: &str) -> Audit {
    audit_with(sites, &observed(Vec::new()))
}

/// (address, code) of every finding.
pub(super) fn codes(audit: &Audit) -> Vec<(String, String)> {
    audit
        .findings
        .iter()
        .map(|f| (f.address.to_string(), f.code.to_string()))
        .collect()
}

pub(super) fn rows(audit: &Audit, kind: ParityKind) -> Vec<&ParityRow> {
    audit.parity.iter().filter(|r| r.kind == kind).collect()
}
