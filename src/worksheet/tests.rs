use jiff::Timestamp;

use super::*;
use crate::desired::load_texts;
use crate::observe::{EntryKind, FORMAT_VERSION, StoreEntry, StoreObservation};

const DESIRED: &str = r#"
deployment "t" product="ocs-2007-r2" domain="example.com" {
    objectives rpo="24h" rto="4h"
    owner "dba" name="Database administrators" contact="dba@example.com"
    owner "ops"
}
site "s" role="primary" owner="ops" {
    store "local" path="/b/local"
    store "off" path="/b/off" located-at="t"
    pool "pool.example.com" edition="enterprise" {
        server "fe.example.com" role="front-end"
        server "SQL.example.com" role="back-end" owner="dba"
    }
    server "edge.example.com" role="edge" owner="ops"
    sql-instance "rtc" host="sql.example.com" instance="RTC" password-env="PW"
    sql-instance "far" host="cluster.example.com" password-env="PW"
    database "rtc" instance="rtc" {
        backup "full" every="24h" keep=7 store="local" copy-to="off"
        backup "log" every="1h" keep=48 store="local"
    }
    database "other" instance="far" {
        backup "full" every="24h" keep=7 store="off"
    }
    settings "global" level="global" every="24h" keep=7 store="local" pattern="g/*.xml"
    settings "pool" level="pool" pool="pool.example.com" every="24h" keep=7 store="local" {
        export "export" "{file}"
    }
    settings "edge" level="computer" server="edge.example.com" every="24h" keep=7 \
        store="local" {
        export "export" "{file}"
    }
    fileset "content" path="/srv/content" every="24h" keep=7 store="local"
}
site "t" role="standby" standby-for="s" region="elsewhere" {
    store "local" path="/t/local"
}
scenario "db-loss" owner="dba" estimate="2h" {
    affects "s/database/rtc"
    step "Restore" minutes=60
    step "Check"
    step "Validate" minutes=15
}
scenario "everything" owner="ops" estimate="4h" {
    affects "s/*"
    step "Rebuild" minutes=200
}
scenario "files" estimate="1h" {
    affects "s/fileset/content"
    step "Copy back" minutes=30
}
"#;

fn now() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().expect("a timestamp")
}

fn desired() -> Desired {
    let loaded = crate::profile::apply(load_texts(vec![("/d/t.kdl".into(), DESIRED.to_owned())]));
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    loaded.desired.expect("the fixture is valid")
}

fn entry(path: &str, verified_at: Option<&str>) -> StoreEntry {
    StoreEntry {
        path: path.to_owned(),
        kind: EntryKind::File,
        size: 1,
        mtime: now(),
        sha256: verified_at.map(|_| "a".repeat(64)),
        recorded_sha256: None,
        hash_origin: None,
        verified_at: verified_at.map(|t| t.parse().expect("a timestamp")),
        files: None,
        bad_files: Vec::new(),
        error: None,
    }
}

fn store(site: &str, name: &str, mut entries: Vec<StoreEntry>) -> StoreObservation {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    StoreObservation {
        site: site.into(),
        store: name.into(),
        root: format!("/{site}/{name}").into(),
        error: None,
        missing: false,
        unreadable: Vec::new(),
        case: crate::platform::NameCase::Sensitive,
        entries,
    }
}

fn observed(stores: Vec<StoreObservation>) -> Observed {
    Observed {
        format_version: FORMAT_VERSION.into(),
        taken_at: now(),
        stores,
        filesets: Vec::new(),
        settings_exports: Vec::new(),
        dns: Vec::new(),
        sql: Vec::new(),
        restore_tests: Vec::new(),
    }
}

fn journal_line(
    kind: &str,
    address: &str,
    at: &str,
    outcome: &str,
    ms: Option<u64>,
) -> JournalLine {
    JournalLine {
        at: at.parse().expect("a timestamp"),
        run: "r".into(),
        action: "a1".into(),
        kind: kind.into(),
        address: address.into(),
        step: "end".into(),
        outcome: Some(outcome.into()),
        message: None,
        duration_ms: ms,
        sha256: None,
        output: None,
    }
}

fn item<'w>(sheet: &'w Worksheet, address: &str) -> &'w ItemSheet {
    sheet
        .items
        .iter()
        .find(|i| i.address.as_str() == address)
        .unwrap_or_else(|| panic!("no item {address}"))
}

fn addresses(sheet: &Worksheet, indices: &[usize]) -> Vec<String> {
    indices
        .iter()
        .map(|i| sheet.items[*i].address.to_string())
        .collect()
}

#[test]
fn items_belong_to_the_servers_the_desired_state_ties_them_to() {
    let sheet = build(&desired(), None, &[], now());
    let site = &sheet.sites[0];
    let server = |fqdn: &str| {
        site.servers
            .iter()
            .find(|s| s.fqdn == fqdn)
            .unwrap_or_else(|| panic!("no server {fqdn}"))
    };
    // The instance's host is matched without regard to case, as DNS names are.
    assert_eq!(
        addresses(&sheet, &server("SQL.example.com").items),
        [
            "s/database/rtc/full",
            "s/database/rtc/log",
            "s/settings/pool"
        ]
    );
    assert_eq!(
        addresses(&sheet, &server("fe.example.com").items),
        ["s/settings/pool"]
    );
    assert_eq!(
        addresses(&sheet, &server("edge.example.com").items),
        ["s/settings/edge"]
    );
    assert_eq!(
        addresses(&sheet, &site.site_items),
        [
            "s/database/other/full",
            "s/settings/global",
            "s/fileset/content"
        ]
    );
    assert!(sheet.sites[1].servers.is_empty() && sheet.sites[1].site_items.is_empty());
}

#[test]
fn a_server_without_an_owner_names_its_sites() {
    let sheet = build(&desired(), None, &[], now());
    let fe = &sheet.sites[0].servers[0];
    assert_eq!(fe.owner.as_ref().map(|o| o.id.as_str()), Some("ops"));
    assert!(fe.owner_from_site);
    let sql = &sheet.sites[0].servers[1];
    assert_eq!(
        sql.owner,
        Some(Contact {
            id: "dba".into(),
            name: Some("Database administrators".into()),
            contact: Some("dba@example.com".into()),
        })
    );
    assert!(!sql.owner_from_site);
}

#[test]
fn without_an_observation_everything_observable_is_unknown() {
    let sheet = build(&desired(), None, &[], now());
    assert_eq!(sheet.observed_at, None);
    for item in &sheet.items {
        assert!(matches!(item.last_backup, Seen::Unknown(_)), "{item:?}");
        assert!(matches!(item.last_verified, Seen::Unknown(_)), "{item:?}");
    }
}

#[test]
fn last_backup_and_verification_come_from_the_store() {
    let observed = observed(vec![
        store(
            "s",
            "local",
            vec![
                entry(
                    "s/database/rtc/full/rtc_full_20261121T010000Z.bak",
                    Some("2026-11-21T06:00:00Z"),
                ),
                // The newest backup, not hashed yet: the last verification is the older one.
                entry("s/database/rtc/full/rtc_full_20261122T010000Z.bak", None),
            ],
        ),
        store("s", "off", Vec::new()),
    ]);
    let sheet = build(&desired(), Some(&observed), &[], now());
    let full = item(&sheet, "s/database/rtc/full");
    assert_eq!(
        full.last_backup,
        Seen::At("2026-11-22T01:00:00Z".parse().expect("ts"))
    );
    assert_eq!(
        full.last_verified,
        Seen::At("2026-11-21T06:00:00Z".parse().expect("ts"))
    );
    assert_eq!(
        full.copy_to.as_ref().map(|c| c.located_at.as_str()),
        Some("t")
    );
    // Observed and empty: never, not unknown.
    let log = item(&sheet, "s/database/rtc/log");
    assert_eq!(
        (&log.last_backup, &log.last_verified),
        (&Seen::Never, &Seen::Never)
    );
    let global = item(&sheet, "s/settings/global");
    assert_eq!(global.last_backup, Seen::Never);
    let other = item(&sheet, "s/database/other/full");
    assert_eq!(other.last_backup, Seen::Never, "`off` was observed, empty");
}

#[test]
fn a_store_that_cannot_be_listed_is_unknown_but_the_journal_still_counts() {
    let mut local = store("s", "local", Vec::new());
    local.error = Some("permission denied".into());
    let observed = observed(vec![local]);
    let journal = [journal_line(
        "verify-backup",
        "s/settings/global",
        "2026-11-20T03:00:00Z",
        "ok",
        Some(5),
    )];
    let sheet = build(&desired(), Some(&observed), &journal, now());
    let global = item(&sheet, "s/settings/global");
    assert!(
        matches!(&global.last_backup, Seen::Unknown(why) if why.contains("permission denied")),
        "{global:?}"
    );
    assert_eq!(
        global.last_verified,
        Seen::At("2026-11-20T03:00:00Z".parse().expect("ts"))
    );
    assert!(matches!(
        item(&sheet, "s/settings/pool").last_verified,
        Seen::Unknown(_)
    ));
}

#[test]
fn measured_restore_times_are_the_newest_passed_test_of_an_affected_database() {
    let journal = [
        journal_line(
            "restore-test",
            "s/database/rtc",
            "2026-11-10T02:00:00Z",
            "ok",
            Some(3_600_000),
        ),
        journal_line(
            "restore-test",
            "s/database/rtc",
            "2026-11-20T02:00:00Z",
            "ok",
            Some(2_700_000),
        ),
        // Newer, but failed: it measured nothing.
        journal_line(
            "restore-test",
            "s/database/rtc",
            "2026-11-21T02:00:00Z",
            "failed",
            Some(60_000),
        ),
        journal_line(
            "restore-test",
            "s/database/other",
            "2026-11-21T03:00:00Z",
            "ok",
            Some(120_000),
        ),
        // Not a test restore.
        journal_line(
            "copy-backup",
            "s/database/rtc/full",
            "2026-11-22T02:00:00Z",
            "ok",
            Some(10),
        ),
    ];
    let sheet = build(&desired(), None, &journal, now());
    let scenario = |name: &str| {
        sheet
            .scenarios
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no scenario {name}"))
    };
    assert_eq!(
        scenario("db-loss").measured,
        Some(Measured {
            address: "s/database/rtc".into(),
            at: "2026-11-20T02:00:00Z".parse().expect("ts"),
            duration_ms: 2_700_000,
        })
    );
    // `s/*` covers both databases: the newest test is `other`'s.
    assert_eq!(
        scenario("everything")
            .measured
            .as_ref()
            .map(|m| m.address.as_str()),
        Some("s/database/other")
    );
    assert_eq!(scenario("files").measured, None);
    assert_eq!(scenario("db-loss").step_minutes, 75);
    assert_eq!(
        item(&sheet, "s/database/rtc/log").restore_test,
        RestoreTest::Passed {
            at: "2026-11-20T02:00:00Z".parse().expect("ts"),
            duration_ms: Some(2_700_000),
        }
    );
    assert_eq!(
        item(&sheet, "s/settings/global").restore_test,
        RestoreTest::NotApplicable
    );
    let sheet = build(&desired(), None, &[], now());
    assert_eq!(
        item(&sheet, "s/database/rtc/full").restore_test,
        RestoreTest::NoneRecorded
    );
}

#[test]
fn coverage_is_a_match_or_one_address_below_the_other() {
    assert!(covers("s/database/rtc", "s/database/rtc"));
    assert!(covers("s/database/rtc/full", "s/database/rtc"));
    assert!(covers("s/database", "s/database/rtc"));
    assert!(covers("s/*", "s/database/rtc"));
    assert!(covers("*/database/rt?", "s/database/rtc"));
    assert!(!covers("s/database/rt", "s/database/rtc"));
    assert!(!covers("t/*", "s/database/rtc"));
}

#[test]
fn items_say_what_they_back_up() {
    let sheet = build(&desired(), None, &[], now());
    assert_eq!(
        item(&sheet, "s/database/rtc/full").what,
        "full backup of database rtc on sql.example.com\\RTC"
    );
    assert_eq!(
        item(&sheet, "s/settings/pool").what,
        "pool settings export of pool.example.com"
    );
    assert_eq!(
        item(&sheet, "s/fileset/content").what,
        "files under /srv/content"
    );
}
