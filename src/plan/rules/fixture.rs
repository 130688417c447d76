//! Test fixtures for the rules: a small desired state and observations built in code.

use jiff::Timestamp;

use crate::desired::{Desired, load_texts};
use crate::observe::{EntryKind, FilesetObservation, Observed, StoreEntry, StoreObservation};
use crate::plan::{Plan, plan};

/// A primary site with one database (daily full, keep 3, copy to offsite), a settings
/// export and a fileset; rpo 24h, so warn = crit = 24h for the daily items.
pub(crate) const DESIRED: &str = r#"
deployment "t" product="ocs-2007-r2" {
    objectives rpo="24h"
    owner "dba"
}
site "s" role="primary" owner="dba" {
    store "local" path="/b/local" sql-path="\\\\bk\\backup"
    store "offsite" path="/b/offsite"
    sql-instance "i" host="sql.example" password-env="PW"
    server "sql.example" role="back-end" owner="dba"
    database "db" instance="i" {
        backup "full" every="12h" keep=3 store="local" copy-to="offsite"
    }
    settings "global" level="global" every="24h" keep=2 store="local" {
        export "LCSCmd.exe" "/ConfigFile:{file}"
    }
    fileset "files" path="/src/files" every="24h" keep=2 store="local"
}
"#;

pub(crate) fn desired() -> Desired {
    let loaded = load_texts(vec![("/d/t.kdl".into(), DESIRED.to_owned())]);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded.desired.expect("the fixture is valid")
}

pub(crate) fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

/// Noon on 2026-11-22.
pub(crate) fn now() -> Timestamp {
    at("2026-11-22T12:00:00Z")
}

pub(crate) fn file(path: &str, size: u64, sha: &str) -> StoreEntry {
    StoreEntry {
        path: path.to_owned(),
        kind: EntryKind::File,
        size,
        mtime: at("2026-11-22T00:00:00Z"),
        sha256: Some(sha.repeat(64 / sha.len())),
        recorded_sha256: None,
        verified_at: Some(at("2026-11-22T00:00:00Z")),
        files: None,
        bad_files: Vec::new(),
        error: None,
    }
}

pub(crate) fn full(stamp: &str) -> StoreEntry {
    file(&format!("s/database/db/full/db_full_{stamp}.bak"), 100, "a")
}

pub(crate) fn export(stamp: &str) -> StoreEntry {
    file(
        &format!("s/settings/global/export/global_export_{stamp}.xml"),
        10,
        "b",
    )
}

pub(crate) fn snapshot(stamp: &str) -> StoreEntry {
    StoreEntry {
        kind: EntryKind::Snapshot,
        files: Some(2),
        ..file(
            &format!("s/fileset/files/snapshot/files_snapshot_{stamp}"),
            20,
            "c",
        )
    }
}

pub(crate) fn store(name: &str, root: &str, mut entries: Vec<StoreEntry>) -> StoreObservation {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    StoreObservation {
        site: "s".into(),
        store: name.into(),
        root: root.into(),
        error: None,
        unreadable: Vec::new(),
        entries,
    }
}

/// An observation where everything is in order at `now()`.
pub(crate) fn healthy() -> Observed {
    let local = vec![
        full("20261122T060000Z"),
        full("20261121T180000Z"),
        export("20261122T010000Z"),
        snapshot("20261122T010000Z"),
    ];
    let offsite = vec![full("20261122T060000Z"), full("20261121T180000Z")];
    Observed {
        format_version: "1".into(),
        taken_at: now(),
        stores: vec![
            store("local", "/b/local", local),
            store("offsite", "/b/offsite", offsite),
        ],
        filesets: vec![FilesetObservation {
            site: "s".into(),
            fileset: "files".into(),
            path: "/src/files".into(),
            error: None,
            files: 2,
            bytes: 20,
            newest_mtime: None,
            unreadable: Vec::new(),
        }],
        settings_exports: Vec::new(),
        dns: Vec::new(),
    }
}

pub(crate) fn local(observed: &mut Observed) -> &mut Vec<StoreEntry> {
    &mut observed.stores[0].entries
}

pub(crate) fn offsite(observed: &mut Observed) -> &mut Vec<StoreEntry> {
    &mut observed.stores[1].entries
}

/// Plans after sorting the store listings (the provider's contract).
pub(crate) fn run(mut observed: Observed) -> Plan {
    for store in &mut observed.stores {
        store.entries.sort_by(|a, b| a.path.cmp(&b.path));
    }
    plan(&desired(), &observed, now())
}

pub(crate) fn codes(plan: &Plan) -> Vec<(String, String)> {
    plan.findings
        .iter()
        .map(|f| (f.address.to_string(), f.code.to_string()))
        .collect()
}

#[test]
fn the_healthy_fixture_has_no_findings() {
    let plan = run(healthy());
    assert_eq!(codes(&plan), Vec::<(String, String)>::new());
    assert!(plan.actions.is_empty());
}
