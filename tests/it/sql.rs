//! The SQL Server provider end to end: the real binary talks TDS to the test server over
//! 127.0.0.1. `plan` finds every database finding code; `apply` takes the missing backups,
//! verifies and copies them and runs restore tests; `check` is then clean. Each injected
//! fault is reported with SQL Server's error number, and nothing is journaled as a success.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::{Timestamp, ToSpan as _};
use serde_json::{Value, json};

use crate::support::{Output, pairs, standby_with};
use tds_test_server::{
    Catalog, DropMidResult, Faults, Options, Release, Stall, StatementKind, TdsServer,
};

use crate::support::{SQL_PASSWORD as PASSWORD, SQL_PASSWORD_ENV as PASSWORD_ENV};
const SHARE: &str = r"\\rdm-bk01\backup";

/// A deployment on one instance of the test server, plus an instance nobody listens on.
fn desired(port: u16, dead_port: u16, rtcab_estimate: &str, with_dead: bool) -> String {
    let dead = if with_dead {
        format!(
            r#"
    sql-instance "arch" host="127.0.0.1" port={dead_port} user="standby" password-env="{PASSWORD_ENV}" encrypt=#false
    database "lcscdr" instance="arch" {{
        backup "full" every="24h" keep=7 store="local"
    }}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"
deployment "contoso" product="ocs-2007-r2" {{
    objectives rpo="24h" rto="4h" restore-test="30d"
    owner "dba" name="Database administrators"
}}
site "redmond" role="primary" region="us-west" owner="dba" {{
    store "local" path="../store" sql-path="\\\\rdm-bk01\\backup"
    store "offsite" path="../offsite"
    sql-instance "rtc" host="127.0.0.1" port={port} instance="RTC" user="standby" password-env="{PASSWORD_ENV}" encrypt=#false
    database "rtc" instance="rtc" recovery-model="full" separate-log-volume=#true {{
        backup "full" every="24h" keep=7 store="local" copy-to="offsite"
        backup "log" every="1h" keep=48 store="local"
    }}
    database "rtcconfig" instance="rtc" recovery-model="full" {{
        backup "full" every="24h" keep=7 store="local" copy-to="offsite"
    }}
    database "rtcab" instance="rtc" {{
        backup "full" every="24h" keep=7 store="local"
    }}
    database "lcslog" instance="rtc" {{
        backup "full" every="24h" keep=7 store="local"
    }}{dead}
}}
scenario "rtcab-loss" owner="dba" estimate="{rtcab_estimate}" {{
    affects "redmond/database/rtcab"
    step "Restore the last full backup of rtcab" minutes=60
}}
"#
    )
}

fn sql_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

fn stamp(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn file(name: &str, kind: &str, path: &str) -> Value {
    json!({ "name": name, "type_desc": kind, "physical_name": path, "size": 1280 })
}

/// A full backup in history whose file is in the store.
fn full_backup(root: &Path, database: &str, at: Timestamp, lsn: u64, checksum: bool) -> Value {
    let relative = format!(
        "redmond/database/{database}/full/{database}_full_{}.bak",
        stamp(at)
    );
    let local = root.join("store").join(&relative);
    fs::create_dir_all(local.parent().expect("a parent")).expect("mkdir");
    fs::write(&local, format!("backup of {database}")).expect("write a backup");
    json!({
        "database_name": database, "type": "D",
        "backup_start_date": sql_time(at), "backup_finish_date": sql_time(at),
        "first_lsn": lsn * 1_000_000, "last_lsn": lsn * 1_000_000 + 500, "database_backup_lsn": 0,
        "has_backup_checksums": checksum, "is_copy_only": false,
        "backup_size": 1_048_576, "compressed_backup_size": null,
        "physical_device_name": format!(r"{SHARE}\{}", relative.replace('/', "\\")),
    })
}

/// The instance as the story starts: rtc's last full is 30 hours old, its log is on the
/// data drive and it was never test-restored; rtcconfig is SIMPLE though declared FULL;
/// rtcab's backup has no checksum; lcslog is gone; rtcdyn is nobody's.
fn catalog(root: &Path, now: Timestamp) -> Catalog {
    let db = |name: &str, id: i32, model: &str, chain: Option<u64>, files: Vec<Value>| {
        json!({
            "name": name, "database_id": id, "recovery_model_desc": model,
            "last_log_backup_lsn": chain, "files": files,
        })
    };
    let fixture = json!({
        "login": { "user": "standby", "password": PASSWORD },
        "path_mappings": [{
            "sql_prefix": SHARE,
            "local_dir": root.join("store"),
            "create_dirs": false,
        }],
        "databases": [
            db("master", 1, "SIMPLE", None, vec![file("master", "ROWS", r"C:\SQL\master.mdf")]),
            db("rtc", 5, "FULL", Some(10_000_500), vec![
                file("rtc", "ROWS", r"D:\Data\rtc.mdf"),
                file("rtc_log", "LOG", r"D:\Logs\rtc.ldf"),
            ]),
            db("rtcconfig", 6, "SIMPLE", None, vec![
                file("rtcconfig", "ROWS", r"D:\Data\rtcconfig.mdf"),
                file("rtcconfig_log", "LOG", r"E:\Logs\rtcconfig.ldf"),
            ]),
            db("rtcab", 7, "SIMPLE", None, vec![
                file("rtcab", "ROWS", r"D:\Data\rtcab.mdf"),
                file("rtcab_log", "LOG", r"E:\Logs\rtcab.ldf"),
            ]),
            db("rtcdyn", 8, "SIMPLE", None, vec![file("rtcdyn", "ROWS", r"D:\Data\rtcdyn.mdf")]),
        ],
        "backups": [
            full_backup(root, "rtc", now - 30.hours(), 10, true),
            full_backup(root, "rtcab", now - 2.hours(), 20, false),
        ],
    });
    Catalog::from_json(&fixture.to_string()).expect("the fixture is a catalog")
}

struct Deployment {
    _dir: tempfile::TempDir,
    root: PathBuf,
    server: TdsServer,
    dead_port: u16,
}

impl Deployment {
    fn new() -> Self {
        Self::playing(None)
    }

    /// The deployment on a server that plays `release` (default: the fixture's, 2008 R2).
    fn playing(release: Option<Release>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for sub in ["desired", "store", "offsite", "state"] {
            fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        let options = Options {
            release,
            ..Options::default()
        };
        let server = TdsServer::start_with(
            catalog(&root, Timestamp::now()),
            Faults::default(),
            &options,
        )
        .expect("the test server starts");
        // A port that was free a moment ago: nothing listens there.
        let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let deployment = Self {
            _dir: dir,
            root,
            server,
            dead_port,
        };
        deployment.declare("2h", true);
        deployment
    }

    fn declare(&self, rtcab_estimate: &str, with_dead: bool) {
        fs::write(
            self.root.join("desired/contoso.kdl"),
            desired(
                self.server.port(),
                self.dead_port,
                rtcab_estimate,
                with_dead,
            ),
        )
        .expect("write the desired state");
    }

    /// A restore test of rtcab that took three hours, as an earlier apply journaled it.
    fn journal_slow_rtcab_test(&self) {
        let at = Timestamp::now() - 1.hour();
        let line = json!({
            "at": at.to_string(), "run": "earlier", "action": "a1", "kind": "restore-test",
            "address": "redmond/database/rtcab", "step": "end", "outcome": "ok",
            "duration_ms": 3 * 3_600_000,
        });
        fs::write(self.root.join("state/journal.jsonl"), format!("{line}\n")).expect("journal");
    }

    /// What standby cannot do, a person does: restore lcslog, move rtc's log, fix the
    /// unreachable instance's declaration, revise an estimate that was too optimistic.
    fn fix_by_hand(&self) {
        self.server.update_catalog(|catalog| {
            let mut lcslog = catalog
                .databases
                .iter()
                .find(|db| db.name == "rtcab")
                .cloned()
                .expect("rtcab");
            lcslog.name = "lcslog".into();
            lcslog.database_id = 9;
            for file in &mut lcslog.files {
                file.name = file.name.replace("rtcab", "lcslog");
                file.physical_name = file.physical_name.replace("rtcab", "lcslog");
            }
            catalog.databases.push(lcslog);
            for db in catalog.databases.iter_mut().filter(|db| db.name == "rtc") {
                for file in db.files.iter_mut().filter(|f| f.name == "rtc_log") {
                    file.physical_name = r"E:\Logs\rtc.ldf".into();
                }
            }
        });
        self.declare("4h", false);
    }

    fn run(&self, args: &[&str]) -> Output {
        standby_with(&self.root, args, &[(PASSWORD_ENV, PASSWORD)])
    }

    fn journal(&self) -> Vec<Value> {
        crate::support::journal(&self.root.join("state"))
    }
}

#[test]
fn plan_finds_every_database_code_and_apply_fixes_what_standby_can() {
    let d = Deployment::new();
    d.journal_slow_rtcab_test();
    let plan = d.run(&["plan", "--format", "json"]);
    assert_eq!(plan.status, 0, "{}", plan.stderr);
    assert_eq!(
        plan.finding_codes(),
        pairs(&[
            ("redmond/database/lcscdr", "source-unreachable"),
            // The store is readable: a database whose server is unreachable or gone still
            // has no backup there.
            ("redmond/database/lcscdr/full", "backup-missing"),
            ("redmond/database/lcslog", "database-missing"),
            ("redmond/database/lcslog/full", "backup-missing"),
            ("redmond/database/rtc", "log-volume-shared"),
            // Its only full is 30 hours old: no site can restore it within the 24 h RPO.
            ("redmond/database/rtc", "recovery-point-lag"),
            ("redmond/database/rtc", "restore-test-overdue"),
            ("redmond/database/rtc/full", "backup-stale"),
            ("redmond/database/rtc/full", "copy-missing"),
            ("redmond/database/rtc/log", "backup-missing"),
            ("redmond/database/rtcab", "restore-too-slow"),
            ("redmond/database/rtcab/full", "backup-unverified"),
            ("redmond/database/rtcconfig", "recovery-model-drift"),
            ("redmond/database/rtcconfig", "restore-test-overdue"),
            ("redmond/database/rtcconfig/full", "backup-missing"),
            ("redmond/database/rtcdyn", "unmanaged"),
        ]),
        "{}",
        plan.stdout
    );
    let json = plan.json();
    let finding = |address: &str, code: &str| {
        json["findings"]
            .as_array()
            .and_then(|f| {
                f.iter()
                    .find(|f| f["address"] == address && f["code"] == code)
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    let unreachable = finding("redmond/database/lcscdr", "source-unreachable");
    assert!(
        unreachable["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot connect")),
        "{unreachable}"
    );
    assert_eq!(
        finding("redmond/database/rtc/full", "backup-stale")["severity"],
        "critical"
    );
    // Discovery sent a fixed handful of queries, however many databases there are.
    let queries = d.server.queries();
    assert_eq!(queries.len(), 5, "{queries:#?}");
    assert!(
        !plan.stdout.contains(PASSWORD) && !plan.stderr.contains(PASSWORD),
        "the password leaked"
    );
    let actions = json["actions"].as_array().expect("actions");
    let kinds: Vec<&str> = actions.iter().filter_map(|a| a["kind"].as_str()).collect();
    for kind in [
        "backup-database",
        "verify-backup",
        "copy-backup",
        "set-recovery-model",
        "restore-test",
        "manual",
    ] {
        assert!(kinds.contains(&kind), "{kind} not planned: {kinds:?}");
    }

    // What standby cannot do, a person does: restore lcslog, move rtc's log, fix the
    // unreachable instance's declaration, revise an estimate that was too optimistic.
    d.fix_by_hand();

    let apply = d.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.status, 0, "{}\n{}", apply.stdout, apply.stderr);
    let after = d.server.catalog();
    let backups_of = |name: &str| {
        after
            .backups
            .iter()
            .filter(|b| b.database_name == name && b.has_backup_checksums == Some(true))
            .count()
    };
    for database in ["rtc", "rtcconfig", "rtcab", "lcslog"] {
        assert!(backups_of(database) >= 1, "no new backup of {database}");
    }
    // The backups are in the store under their final names, and copied offsite.
    let store = d.root.join("store/redmond/database");
    for database in ["rtc", "rtcconfig", "rtcab", "lcslog"] {
        let dir = store.join(database).join("full");
        let names: Vec<String> = fs::read_dir(&dir)
            .expect("the full backups directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(".standby-tmp-")),
            "a temporary was left: {names:?}"
        );
        assert!(!names.is_empty(), "{database}: {names:?}");
    }
    assert!(
        d.root
            .join("offsite/redmond/database/rtcconfig/full")
            .is_dir()
    );
    // Restore tests ran and left nothing behind.
    let statements = d.server.queries().join("\n");
    assert!(statements.contains("RESTORE VERIFYONLY"), "{statements}");
    assert!(
        statements.contains("DBCC CHECKDB([standby-restoretest-rtc])"),
        "{statements}"
    );
    assert!(
        after
            .databases
            .iter()
            .all(|db| !db.name.starts_with("standby-restoretest-")),
        "a test database was left"
    );
    let journal = d.journal();
    let restore_tests: Vec<&Value> = journal
        .iter()
        .filter(|l| l["kind"] == "restore-test" && l["step"] == "end" && l["run"] != "earlier")
        .collect();
    assert_eq!(restore_tests.len(), 3, "{restore_tests:#?}");
    assert!(
        restore_tests
            .iter()
            .all(|l| l["outcome"] == "ok" && l["duration_ms"].is_u64())
    );

    let check = d.run(&["check", "--format", "json"]);
    assert_eq!(check.status, 0, "{}", check.stdout);
    assert_eq!(d.run(&["discover", "-q"]).status, 0);
    assert_eq!(d.run(&["discover", "-q", "--out", "snap.json"]).status, 0);
    for written in ["snap.json", "state/state.db"] {
        let bytes = fs::read(d.root.join(written)).unwrap_or_default();
        assert!(!bytes.is_empty(), "{written} was not written");
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "the password leaked into {written}"
        );
    }
    assert_eq!(
        check.finding_codes(),
        pairs(&[("redmond/database/rtcdyn", "unmanaged")])
    );
}

/// A deployment with one healthy-but-stale database and nothing else to do.
fn one_stale_database() -> Deployment {
    let d = Deployment::new();
    let kdl = fs::read_to_string(d.root.join("desired/contoso.kdl")).expect("desired");
    // Only rtc, so the faults below hit exactly one backup.
    let only_rtc = kdl
        .split("    database \"rtcconfig\"")
        .next()
        .expect("a head")
        .to_owned()
        + "}\n";
    fs::write(d.root.join("desired/contoso.kdl"), only_rtc).expect("rewrite");
    d
}

#[test]
fn a_refused_login_is_source_unreachable_with_error_18456() {
    let d = one_stale_database();
    d.server.set_faults(Faults {
        reject_logins: true,
        ..Faults::default()
    });
    let check = d.run(&["check", "--format", "json"]);
    assert_eq!(check.status, 2, "{}", check.stderr);
    let json = check.json();
    let unreachable: Vec<&Value> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "source-unreachable")
        .collect();
    assert_eq!(unreachable.len(), 1, "{json}");
    let message = unreachable[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("18456"), "{message}");
    assert!(!check.stdout.contains(PASSWORD));
}

#[test]
fn a_missing_password_variable_is_named() {
    let d = one_stale_database();
    let check = standby_with(&d.root, &["check", "--format", "json"], &[]);
    assert_eq!(check.status, 2);
    assert!(
        check.stdout.contains(PASSWORD_ENV) && check.stdout.contains("is not set"),
        "{}",
        check.stdout
    );
}

#[test]
fn a_failed_backup_fails_its_action_with_the_sql_error_and_loses_nothing() {
    let d = one_stale_database();
    let before = crate::support::snapshot_tree(&d.root.join("store"));
    d.server.set_faults(Faults {
        fail_backups: true,
        ..Faults::default()
    });
    let apply = d.run(&["apply", "--auto-approve", "--continue-on-error"]);
    assert_eq!(apply.status, 1, "{}", apply.stdout);
    let text = format!("{}{}", apply.stdout, apply.stderr);
    assert!(text.contains("3201") || text.contains("3013"), "{text}");
    let journal = d.journal();
    assert!(
        journal
            .iter()
            .filter(|l| l["kind"] == "backup-database" && l["step"] == "end")
            .all(|l| l["outcome"] == "failed"),
        "{journal:#?}"
    );
    let failed = journal
        .iter()
        .find(|l| l["kind"] == "backup-database" && l["outcome"] == "failed")
        .expect("a failed backup is journaled");
    assert!(
        failed["message"]
            .as_str()
            .is_some_and(|m| m.contains("3201") || m.contains("3013"))
    );
    assert_eq!(
        crate::support::snapshot_tree(&d.root.join("store")),
        before,
        "the store changed"
    );
}

#[test]
fn a_connection_dropped_mid_result_is_source_unreachable() {
    let d = one_stale_database();
    d.server.set_faults(Faults {
        drop_mid_result: Some(DropMidResult {
            kind: StatementKind::Databases,
            after_rows: 1,
        }),
        ..Faults::default()
    });
    let check = d.run(&["check", "--format", "json"]);
    assert_eq!(check.status, 2);
    let json = check.json();
    let finding = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "source-unreachable"))
        .cloned()
        .expect("source-unreachable");
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m.contains("databases")),
        "{finding}"
    );
    // Never a half observation: no database is reported missing because the rows stopped.
    assert!(
        json["findings"]
            .as_array()
            .is_some_and(|f| f.iter().all(|f| f["code"] != "database-missing"))
    );
}

#[test]
fn a_stalled_server_times_out_in_discovery_and_in_apply() {
    let d = one_stale_database();
    d.server.set_faults(Faults {
        stall: Some(Stall {
            kind: StatementKind::BackupHistory,
            duration: Duration::from_secs(5),
        }),
        ..Faults::default()
    });
    let check = d.run(&["check", "--format", "json", "--sql-timeout", "1s"]);
    assert_eq!(check.status, 2);
    assert!(check.stdout.contains("timed out"), "{}", check.stdout);

    d.server.set_faults(Faults {
        stall: Some(Stall {
            kind: StatementKind::Backup,
            duration: Duration::from_secs(5),
        }),
        ..Faults::default()
    });
    let apply = d.run(&["apply", "--auto-approve", "--sql-command-timeout", "1s"]);
    assert_eq!(apply.status, 1, "{}", apply.stdout);
    assert!(
        format!("{}{}", apply.stdout, apply.stderr).contains("timed out"),
        "{}",
        apply.stdout
    );
    let journal = d.journal();
    assert!(
        !journal
            .iter()
            .any(|l| l["kind"] == "backup-database" && l["outcome"] == "ok"),
        "{journal:#?}"
    );
}

#[test]
fn a_long_backup_reports_the_percent_sql_server_sends() {
    // The server spreads the BACKUP's `STATS = 5` messages over 3 s: the log hears, each
    // second, how far SQL Server says it got.
    let d = one_stale_database();
    d.server.set_faults(Faults {
        pace: Some(Stall {
            kind: StatementKind::Backup,
            duration: Duration::from_secs(3),
        }),
        ..Faults::default()
    });
    let apply = d.run(&["apply", "--auto-approve", "--progress-every", "1s"]);
    // Everything ran; the log file's move is left to a person (exit 2).
    assert_eq!(apply.status, 2, "{}\n{}", apply.stdout, apply.stderr);
    let percents: Vec<u64> = apply
        .stderr
        .lines()
        .filter(|l| l.contains(" backup-database ") && l.contains(" still running: "))
        .filter_map(|l| {
            let after = l.split(" still running: ").nth(1)?;
            after.split('%').next()?.parse().ok()
        })
        .collect();
    assert!(
        !percents.is_empty() && percents.iter().all(|p| (5..=100).contains(p)),
        "{}",
        apply.stderr
    );
    let queries = d.server.queries();
    assert!(
        queries
            .iter()
            .any(|q| q.starts_with("BACKUP ") && q.ends_with("STATS = 5")),
        "{queries:#?}"
    );
}

#[test]
fn a_named_instance_without_a_port_is_found_through_sql_browser() {
    let d = one_stale_database();
    let browser =
        tds_test_server::Browser::start("SQL01", vec![("RTC".to_owned(), d.server.port())])
            .expect("UDP 127.0.0.1:1434 is free for the SQL Browser responder");
    let kdl = fs::read_to_string(d.root.join("desired/contoso.kdl")).expect("desired");
    let by_name = kdl.replace(&format!(" port={}", d.server.port()), "");
    assert_ne!(kdl, by_name);
    fs::write(d.root.join("desired/contoso.kdl"), by_name).expect("rewrite");
    let check = d.run(&["check", "--format", "json"]);
    drop(browser);
    let json = check.json();
    assert!(
        json["findings"]
            .as_array()
            .is_some_and(|f| f.iter().all(|f| f["code"] != "source-unreachable")),
        "{json}"
    );
    assert_eq!(d.server.queries().len(), 5);
}

/// OCS 2007 R2's back ends ran SQL Server 2005 SP2, 2008 and 2008 R2: each one is
/// discovered, backed up, verified and restore-tested, and a failing backup is journaled
/// with SQL Server's error number.
#[test]
fn every_release_ocs_2007_r2_runs_on_is_discovered_backed_up_verified_and_restore_tested() {
    for release in [Release::Sql2005, Release::Sql2008, Release::Sql2008R2] {
        let d = Deployment::playing(Some(release));
        d.fix_by_hand();
        let plan = d.run(&["plan", "--format", "json"]);
        assert_eq!(plan.status, 0, "{release:?}: {}", plan.stderr);
        assert!(
            plan.finding_codes().contains(&(
                "redmond/database/rtcconfig/full".into(),
                "backup-missing".into()
            )),
            "{release:?}: {}",
            plan.stdout
        );
        // 2005 has no compressed_backup_size: standby asks it the 2005 history query.
        let history = if release == Release::Sql2005 {
            "standby:backup_history_2005"
        } else {
            "standby:backup_history "
        };
        assert!(
            d.server.query_log().iter().all(|q| q.recognized)
                && d.server.queries().iter().any(|q| q.contains(history)),
            "{release:?}: {:#?}",
            d.server.queries()
        );

        let apply = d.run(&["apply", "--auto-approve"]);
        assert_eq!(
            apply.status, 0,
            "{release:?}: {}\n{}",
            apply.stdout, apply.stderr
        );
        let statements = d.server.queries().join("\n");
        for statement in [
            "BACKUP DATABASE",
            "RESTORE VERIFYONLY",
            "RESTORE DATABASE",
            "DBCC CHECKDB",
        ] {
            assert!(
                statements.contains(statement),
                "{release:?}: no {statement}"
            );
        }
        let check = d.run(&["check", "--format", "json"]);
        assert_eq!(check.status, 0, "{release:?}: {}", check.stdout);

        // A backup the server refuses is journaled as failed with its error number.
        d.server.update_catalog(|c| c.clock = None);
        d.server.set_faults(Faults {
            fail_backups: true,
            ..Faults::default()
        });
        let failed = d.run(&[
            "apply",
            "--auto-approve",
            "--continue-on-error",
            "--now",
            "2099-01-01T00:00:00Z",
        ]);
        assert_eq!(failed.status, 1, "{release:?}: {}", failed.stdout);
        assert!(
            d.journal().iter().any(|l| l["kind"] == "backup-database"
                && l["outcome"] == "failed"
                && l["message"].as_str().is_some_and(|m| m.contains("3201"))),
            "{release:?}: {:#?}",
            d.journal()
        );
    }
}

/// `has_backup_checksums` and `is_copy_only` are nullable in msdb: a NULL reads as "no" for
/// that row and the instance is still observed.
#[test]
fn null_checksum_and_copy_only_flags_read_as_no() {
    let d = Deployment::new();
    d.server.update_catalog(|catalog| {
        for backup in &mut catalog.backups {
            backup.has_backup_checksums = None;
            backup.is_copy_only = None;
        }
    });
    let plan = d.run(&["plan", "--format", "json"]);
    assert_eq!(plan.status, 0, "{}", plan.stderr);
    let codes = plan.finding_codes();
    let unreachable: Vec<_> = codes
        .iter()
        .filter(|(_, code)| code == "source-unreachable")
        .collect();
    // Only the instance nobody listens on.
    assert_eq!(
        unreachable,
        [&(
            "redmond/database/lcscdr".to_owned(),
            "source-unreachable".to_owned()
        )],
        "{}",
        plan.stdout
    );
    for database in ["rtc", "rtcab"] {
        assert!(
            codes.contains(&(
                format!("redmond/database/{database}/full"),
                "backup-unverified".into()
            )),
            "{database}: {}",
            plan.stdout
        );
    }
}
