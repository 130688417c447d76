//! The recovery point of each site, end to end: real store directories at the primary and
//! the standby site, SQL Server's history served by the TDS test server, `standby check`
//! discovering both. A healthy estate has neither `chain-broken` nor `recovery-point-lag`;
//! estates built with a missing log, a corrupt copy or short copies at the standby site have
//! them, at the right site.

use std::fs;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{Output, sql_instance, standby};
use tds_test_server::{Catalog, Faults, TdsServer};

const SHARE: &str = r"\\rdm-bk01\backup";
const NOW: &str = "2026-11-22T12:30:00Z";

/// One backup written to the primary store (and, with `copy`, to the standby's store).
struct Written {
    relative: String,
    history: Value,
}

struct Estate {
    _dir: tempfile::TempDir,
    root: PathBuf,
    backups: Vec<Written>,
}

impl Estate {
    /// rtc: a full at 01:00 of two days, hourly logs since the older one, all copied to
    /// `offsite` (located at dallas). LSNs as SQL Server numbers them.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for sub in ["desired", "local", "offsite", "state"] {
            fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        let mut estate = Self {
            _dir: dir,
            root,
            backups: Vec::new(),
        };
        let mut lsn: u64 = 34_000_000_010_000_000;
        let mut log_mark: Option<u64> = None;
        let mut base = 0;
        for day in [21, 22] {
            for hour in 0..24 {
                if day == 22 && hour > 12 {
                    break;
                }
                lsn += 1_000_000;
                if hour == 1 {
                    let (first, checkpoint, last) = (lsn, lsn + 100, lsn + 500);
                    estate.write("full", day, hour, first, last, checkpoint, base);
                    base = checkpoint;
                    log_mark.get_or_insert(first);
                    lsn = last;
                } else if let Some(mark) = log_mark {
                    estate.write("log", day, hour, mark, lsn, mark, base);
                    log_mark = Some(lsn);
                }
            }
        }
        estate
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        kind: &str,
        day: u32,
        hour: u32,
        first: u64,
        last: u64,
        checkpoint: u64,
        base: u64,
    ) {
        let ext = if kind == "log" { "trn" } else { "bak" };
        let stamp = format!("202611{day:02}T{hour:02}0000Z");
        let relative = format!("redmond/database/rtc/{kind}/rtc_{kind}_{stamp}.{ext}");
        for store in ["local", "offsite"] {
            let path = self.root.join(store).join(&relative);
            fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            fs::write(&path, format!("rtc {kind} {stamp}")).expect("write a backup");
        }
        let time = format!("2026-11-{day:02}T{hour:02}:00:00");
        let finished = format!("2026-11-{day:02}T{hour:02}:02:00");
        self.backups.push(Written {
            history: json!({
                "database_name": "rtc", "type": if kind == "log" { "L" } else { "D" },
                "backup_start_date": time, "backup_finish_date": finished,
                "first_lsn": first, "last_lsn": last, "checkpoint_lsn": checkpoint,
                "database_backup_lsn": base,
                "has_backup_checksums": true, "is_copy_only": false,
                "backup_size": 1_048_576,
                "physical_device_name": format!(r"{SHARE}\{}", relative.replace('/', "\\")),
            }),
            relative,
        });
    }

    fn path(&self, store: &str, name: &str) -> PathBuf {
        let found = self
            .backups
            .iter()
            .find(|b| b.relative.ends_with(name))
            .unwrap_or_else(|| panic!("no backup {name}"));
        self.root.join(store).join(&found.relative)
    }

    fn check(&self) -> (Output, TdsServer) {
        self.run("", &["check", "--format", "json", "--now", NOW])
    }

    /// Runs `standby ARGS` against a test server holding the history, with `dallas`
    /// declaring `extra`.
    fn run(&self, extra: &str, args: &[&str]) -> (Output, TdsServer) {
        let server = TdsServer::start(self.catalog(), Faults::default());
        fs::write(
            self.root.join("desired/estate.kdl"),
            format!(
                r#"
deployment "contoso" {{
    objectives rpo="24h"
}}
site "redmond" role="primary" region="us-west" {{
    store "local" path="../local" sql-path="\\\\rdm-bk01\\backup"
    store "offsite" path="../offsite" located-at="dallas" sql-path="\\\\dal-bk01\\offsite"
    {}
    database "rtc" instance="rtc" recovery-model="full" {{
        backup "full" every="24h" keep=7 store="local" copy-to="offsite"
        backup "log" every="1h" keep=48 store="local" copy-to="offsite"
    }}
}}
site "dallas" role="standby" standby-for="redmond" region="us-central" {{
    store "local" path="../dallas"
    {}
}}
"#,
                sql_instance("rtc", &server),
                extra.replace("SERVER", &sql_instance("test", &server)),
            ),
        )
        .expect("write the desired state");
        fs::create_dir_all(self.root.join("dallas")).expect("mkdir");
        let out = standby(&self.root, args);
        (out, server)
    }

    fn catalog(&self) -> Catalog {
        let fixture = json!({
            "login": { "user": "standby", "password": crate::support::SQL_PASSWORD },
            "databases": [{
                "name": "rtc", "database_id": 5, "recovery_model_desc": "FULL",
                "last_log_backup_lsn": 1,
                "files": [
                    { "name": "rtc", "type_desc": "ROWS", "physical_name": r"D:\Data\rtc.mdf", "size": 128 },
                    { "name": "rtc_log", "type_desc": "LOG", "physical_name": r"E:\Logs\rtc.ldf", "size": 128 },
                ],
            }],
            "backups": self.backups.iter().map(|b| b.history.clone()).collect::<Vec<_>>(),
        });
        Catalog::from_json(&fixture.to_string()).expect("a catalog")
    }
}

/// The (code, message) of every recoverability finding.
fn recoverability(out: &Output) -> Vec<(String, String)> {
    out.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            matches!(
                f["code"].as_str(),
                Some("chain-broken" | "recovery-point-lag")
            )
        })
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_healthy_estate_is_restorable_at_both_sites() {
    let estate = Estate::new();
    let (out, _server) = estate.check();
    assert_eq!(recoverability(&out), Vec::new(), "{}", out.stdout);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn a_log_missing_at_both_sites_breaks_the_chain_at_both() {
    let estate = Estate::new();
    for store in ["local", "offsite"] {
        fs::remove_file(estate.path(store, "rtc_log_20261122T050000Z.trn")).expect("remove");
    }
    let (out, _server) = estate.check();
    let found = recoverability(&out);
    let broken: Vec<&String> = found
        .iter()
        .filter(|(c, _)| c == "chain-broken")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(broken.len(), 2, "{found:#?}");
    for (site, store) in [("redmond", "`local`"), ("dallas", "`offsite`")] {
        let message = broken
            .iter()
            .find(|m| m.starts_with(&format!("at {site}, ")))
            .unwrap_or_else(|| panic!("no chain-broken at {site}: {found:#?}"));
        assert!(
            message.contains("cannot be restored past 2026-11-22T04:02:00Z")
                && message.contains(&format!(
                    "rtc_log_20261122T050000Z.trn is missing from {store}"
                ))
                && message.contains("7 later backup(s) there cannot be restored"),
            "{message}"
        );
    }
    // 04:02 is within the 24 h RPO of 12:30: no lag.
    assert!(
        found.iter().all(|(c, _)| c != "recovery-point-lag"),
        "{found:#?}"
    );
    assert_eq!(out.status, 2);
}

#[test]
fn a_corrupt_copy_breaks_the_chain_at_the_standby_site_only() {
    let estate = Estate::new();
    // Discover once so the catalog records the copy's hash, then corrupt it.
    let (first, _server) = estate.check();
    assert_eq!(recoverability(&first), Vec::new(), "{}", first.stdout);
    fs::write(
        estate.path("offsite", "rtc_log_20261122T100000Z.trn"),
        "flipped bits",
    )
    .expect("corrupt");
    let (out, _server) = estate.check();
    let found = recoverability(&out);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "chain-broken");
    assert!(
        found[0].1.starts_with("at dallas, rtc cannot be restored past 2026-11-22T09:02:00Z: rtc_log_20261122T100000Z.trn in `offsite` differs from the hash recorded when it was first seen"),
        "{}",
        found[0].1
    );
}

#[test]
fn copies_at_the_standby_site_that_stop_short_lag_behind_the_rpo() {
    let estate = Estate::new();
    // Nothing reached dallas since yesterday 10:00: not today's full, no later log.
    for b in &estate.backups {
        let stamp = b.relative.rsplit('_').next().unwrap_or_default();
        if stamp.get(..16).is_some_and(|s| s > "20261121T100000Z") {
            let _ = fs::remove_file(estate.root.join("offsite").join(&b.relative));
        }
    }
    let (out, _server) = estate.check();
    let found = recoverability(&out);
    assert_eq!(
        found,
        vec![(
            "recovery-point-lag".to_owned(),
            "at dallas, rtc can be restored to 2026-11-21T10:02:00Z at the newest, 1d2h ago (rpo 1d)".to_owned()
        )],
        "{}",
        out.stdout
    );
}

#[test]
fn restore_writes_the_chain_at_the_standby_site_up_to_the_point_asked() {
    let estate = Estate::new();
    let restore = |extra: &[&str]| {
        let args = [
            &[
                "restore",
                "redmond/database/rtc",
                "--site",
                "dallas",
                "--to",
                "dallas/test",
                "--now",
                NOW,
            ][..],
            extra,
        ]
        .concat();
        estate.run("SERVER", &args).0
    };
    // The newest point: today's full and every log since, read from the copies at dallas.
    let out = restore(&["--as", "rtc_dr"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let statements: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("RESTORE"))
        .collect();
    assert_eq!(statements.len(), 1 + 11 + 1, "{}", out.stdout);
    assert_eq!(
        statements[0],
        r"RESTORE DATABASE [rtc_dr] FROM DISK = N'\\dal-bk01\offsite\redmond\database\rtc\full\rtc_full_20261122T010000Z.bak' WITH MOVE N'rtc' TO N'D:\Data\rtc_dr.mdf', MOVE N'rtc_log' TO N'E:\Logs\rtc_dr_log.ldf', NORECOVERY, CHECKSUM;"
    );
    assert!(statements[1].starts_with(r"RESTORE LOG [rtc_dr] FROM DISK = N'\\dal-bk01\offsite\redmond\database\rtc\log\rtc_log_20261122T020000Z.trn' WITH NORECOVERY, CHECKSUM;"), "{}", statements[1]);
    assert!(
        statements[11].contains("rtc_log_20261122T120000Z.trn"),
        "{}",
        statements[11]
    );
    assert_eq!(statements[12], "RESTORE DATABASE [rtc_dr] WITH RECOVERY;");

    // To 09:30: the logs up to the 10:00 one, each with STOPAT.
    let out = restore(&["--as", "rtc_dr", "--stop-at", "2026-11-22T09:30:00Z"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let logs: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("RESTORE LOG"))
        .collect();
    assert_eq!(logs.len(), 9, "{}", out.stdout);
    assert!(
        logs[8].contains("rtc_log_20261122T100000Z.trn")
            && logs[8].ends_with("STOPAT = N'2026-11-22T09:30:00';"),
        "{}",
        logs[8]
    );

    // Never over the existing database, and never from a file changed since discovery.
    let out = restore(&[]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("a database [rtc] exists on `dallas/test`"),
        "{}",
        out.stderr
    );
    let out = restore(&["--as", "rtc_dr", "--stop-at", "2026-11-20T00:00:00Z"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("cannot restore rtc to 2026-11-20T00:00:00Z"),
        "{}",
        out.stderr
    );

    // A file that changes between the observation and the script is refused.
    let (out, _server) = estate.run("SERVER", &["discover", "--now", NOW, "--out", "seen.json"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    fs::write(
        estate.path("offsite", "rtc_log_20261122T030000Z.trn"),
        "tampered",
    )
    .expect("write");
    let out = restore(&["--as", "rtc_dr", "--observed", "seen.json"]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("rtc_log_20261122T030000Z.trn changed since it was verified"),
        "{}",
        out.stderr
    );
}
