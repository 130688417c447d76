//! Test fixtures for the rules: a small desired state and observations built in code.

use jiff::Timestamp;

use crate::desired::{Desired, load_texts};
use crate::observe::sql::{SqlBackup, SqlDatabase, SqlFile, SqlInstanceObservation};
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
    let loaded = crate::profile::apply(load_texts(vec![("/d/t.kdl".into(), DESIRED.to_owned())]));
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
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
        hash_origin: Some(crate::state::catalog::HashOrigin::VerifiedAt),
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
        missing: false,
        unreadable: Vec::new(),
        case: crate::platform::NameCase::Sensitive,
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
        sql: vec![healthy_instance()],
        restore_tests: Vec::new(),
    }
}

/// The instance of the fixture: `db` online, FULL with a log chain, data on D: and log on
/// E:, and SQL Server's history of the two full backups in the local store.
fn healthy_instance() -> SqlInstanceObservation {
    let backup = |stamp: &str, lsn: u64| SqlBackup {
        database: "db".into(),
        backup_type: "full".into(),
        started: crate::layout::parse_stamp(stamp).unwrap_or(now()),
        finished: crate::layout::parse_stamp(stamp).unwrap_or(now()),
        first_lsn: (lsn * 1000).to_string(),
        last_lsn: (lsn * 1000 + 500).to_string(),
        database_backup_lsn: "0".into(),
        checksum: true,
        copy_only: false,
        size: 100,
        compressed_size: None,
        device: format!(r"\\bk\backup\s\database\db\full\db_full_{stamp}.bak"),
        ..SqlBackup::default()
    };
    SqlInstanceObservation {
        site: "s".into(),
        instance: "i".into(),
        server: "sql.example:1433".into(),
        error: None,
        version: Some("Microsoft SQL Server 2008 R2 (SP2) - 10.50.4000.0 (X64)".into()),
        utc_offset_minutes: 0,
        queries: 5,
        databases: vec![SqlDatabase {
            name: "db".into(),
            state: "ONLINE".into(),
            recovery_model: "FULL".into(),
            log_chain: true,
            files: vec![
                SqlFile {
                    logical_name: "db".into(),
                    kind: "ROWS".into(),
                    physical_name: r"D:\Data\db.mdf".into(),
                    size_bytes: 8192,
                },
                SqlFile {
                    logical_name: "db_log".into(),
                    kind: "LOG".into(),
                    physical_name: r"E:\Logs\db_log.ldf".into(),
                    size_bytes: 8192,
                },
            ],
        }],
        backups: vec![backup("20261122T060000Z", 2), backup("20261121T180000Z", 1)],
        restores: Vec::new(),
    }
}

pub(crate) fn sql(observed: &mut Observed) -> &mut SqlInstanceObservation {
    &mut observed.sql[0]
}

/// Plans with extra properties on the fixture's database (`recovery-model="full"`).
pub(crate) fn run_with(database_properties: &str, observed: Observed) -> Plan {
    run_on(
        &DESIRED.replace(
            r#"database "db" instance="i""#,
            &format!(r#"database "db" instance="i" {database_properties}"#),
        ),
        observed,
    )
}

/// Plans against another desired text.
pub(crate) fn run_on(text: &str, mut observed: Observed) -> Plan {
    for store in &mut observed.stores {
        let case = store.case;
        store.entries.sort_by(|a, b| case.cmp(&a.path, &b.path));
    }
    let loaded = crate::profile::apply(load_texts(vec![("/d/t.kdl".into(), text.to_owned())]));
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    plan(&loaded.desired.expect("valid"), &observed, now())
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
        let case = store.case;
        store.entries.sort_by(|a, b| case.cmp(&a.path, &b.path));
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
