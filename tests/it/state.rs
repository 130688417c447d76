//! The state backends: one contract both keep (the embedded SQLite file and a real
//! PostgreSQL started by the test suite), the import of an old JSON state directory, and
//! two "machines" — two processes in different working directories — sharing one
//! PostgreSQL: one lock, one catalog, one journal.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{Timestamp, ToSpan as _};
use serde_json::json;
use standby::state::catalog::{CatalogEntry, HashOrigin};
use standby::state::journal::JournalLine;
use standby::state::local::Local;
use standby::state::postgres::Postgres;
use standby::state::{Backend, FindingSeen, StateError};

use crate::support::postgres::cluster;
use crate::support::{Output, SQL_PASSWORD, SQL_PASSWORD_ENV, standby_with};

const URL_ENV: &str = "STANDBY_STATE_URL";

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + second).expect("a time")
}

fn entry(path: &str, sha: &str) -> CatalogEntry {
    CatalogEntry {
        address: Some("s/database/db/full".into()),
        path: PathBuf::from(path),
        size: 42,
        mtime: at(1),
        sha256: sha.repeat(32),
        mismatch: None,
        files: None,
        first_seen: at(2),
        last_verified: at(3),
        origin: HashOrigin::FirstSeen,
    }
}

/// An entry whose hash standby verified as it wrote the file (`apply`).
fn verified_entry(path: &str) -> CatalogEntry {
    CatalogEntry {
        origin: HashOrigin::VerifiedAt,
        ..entry(path, "dd")
    }
}

fn line(
    action: &str,
    kind: &str,
    step: &str,
    outcome: Option<&str>,
    ms: Option<u64>,
) -> JournalLine {
    JournalLine {
        at: at(10),
        run: "run1".into(),
        action: action.into(),
        kind: kind.into(),
        address: "s/database/db".into(),
        step: step.into(),
        outcome: outcome.map(Into::into),
        message: None,
        duration_ms: ms,
        sha256: None,
        output: None,
    }
}

fn seen(address: &str, code: &str) -> FindingSeen {
    FindingSeen {
        address: address.into(),
        code: code.into(),
        severity: "warning".into(),
        message: format!("{code} at {address}"),
    }
}

/// What every backend must do. `open` gives a new handle on the same state each call, as a
/// second process would have.
fn keeps_the_contract(open: &dyn Fn() -> Box<dyn Backend>) {
    let mut first = open();
    let mut second = open();

    // The catalog: what one handle saves, another loads; only changes are written.
    let mut catalog = first.load_catalog().expect("load");
    assert!(catalog.is_empty());
    catalog.insert(entry("/srv/b/a.bak", "aa"));
    catalog.insert(entry("/srv/b/\u{e9}t\u{e9}.bak", "bb"));
    catalog.insert(verified_entry("/srv/b/copied.bak"));
    first.save_catalog(&mut catalog).expect("save");
    assert_eq!(
        catalog.changes().0.len(),
        0,
        "saving marks the catalog saved"
    );
    let loaded = second.load_catalog().expect("load");
    assert_eq!(loaded.len(), 3);
    assert_eq!(
        loaded.get(Path::new("/srv/b/a.bak")),
        Some(&entry("/srv/b/a.bak", "aa")),
        "every field comes back as it went in"
    );
    assert_eq!(
        loaded.get(Path::new("/srv/b/copied.bak")),
        Some(&verified_entry("/srv/b/copied.bak")),
        "a hash standby verified as it wrote the file stays vouched for"
    );
    let mut catalog = loaded;
    catalog.insert(CatalogEntry {
        mismatch: Some("cc".repeat(32)),
        files: Some(7),
        ..entry("/srv/b/a.bak", "aa")
    });
    catalog.retain(|p| p.ends_with("a.bak"));
    second.save_catalog(&mut catalog).expect("save");
    let loaded = first.load_catalog().expect("load");
    assert_eq!(loaded.len(), 1, "a forgotten file is deleted");
    let a = loaded.get(Path::new("/srv/b/a.bak")).expect("a");
    assert_eq!(
        (a.mismatch.as_deref().map(str::len), a.files),
        (Some(64), Some(7))
    );

    // The observation.
    assert!(first.last_observation().expect("read").is_none());
    let observed = json!({
        "format_version": "1", "taken_at": at(20).to_string(), "stores": [],
    })
    .to_string();
    first
        .save_observation(at(20), "f1", &observed)
        .expect("save");
    assert_eq!(
        second.last_observation().expect("read"),
        Some((at(20), observed.clone()))
    );
    // The same observation taken later is not written again: only its time moves.
    assert!(second.touch_observation(at(30), "f1").expect("touch"));
    assert_eq!(
        first.last_observation().expect("read"),
        Some((at(30), observed.clone()))
    );
    // A different one is not touched, but written whole.
    assert!(!first.touch_observation(at(40), "f2").expect("touch"));
    assert_eq!(
        second.last_observation().expect("read"),
        Some((at(30), observed.clone()))
    );
    let changed = observed.replace("[]", "[1]");
    first
        .save_observation(at(40), "f2", &changed)
        .expect("save");
    assert_eq!(
        second.last_observation().expect("read"),
        Some((at(40), changed))
    );

    // The journal, in order, and the restore tests in it.
    first
        .append_journal(&line("a1", "restore-test", "start", None, None))
        .expect("append");
    second
        .append_journal(&line("a1", "restore-test", "end", Some("ok"), Some(90_000)))
        .expect("append");
    first
        .append_journal(&line("a2", "copy-backup", "end", Some("failed"), Some(5)))
        .expect("append");
    let journal = first.journal().expect("journal");
    let steps: Vec<_> = journal
        .iter()
        .map(|l| (l.action.as_str(), l.step.as_str()))
        .collect();
    assert_eq!(steps, [("a1", "start"), ("a1", "end"), ("a2", "end")]);
    assert_eq!(
        journal[1],
        line("a1", "restore-test", "end", Some("ok"), Some(90_000))
    );
    let tests = second.restore_test_lines().expect("restore tests");
    assert_eq!(
        tests,
        [line("a1", "restore-test", "end", Some("ok"), Some(90_000))]
    );

    // The lock: one holder at a time, named to whoever waits; free once dropped.
    let held = first.lock("apply", Duration::ZERO).expect("lock");
    let refused = second.lock("apply", Duration::from_millis(300));
    match refused {
        Err(StateError::Lock(e)) => {
            let message = e.to_string();
            assert!(message.contains(&held.info.id), "{message}");
        }
        Err(e) => panic!("refused for the wrong reason: {e}"),
        Ok(_) => panic!("a second holder got the lock"),
    }
    drop(held);
    let again = second
        .lock("apply", Duration::from_secs(5))
        .expect("free again");
    drop(again);

    // The history: findings appear, resolve when a run no longer sees them; each source
    // resolves only its own.
    first
        .record_findings(
            "check",
            at(100),
            &[seen("s/a", "backup-stale"), seen("s/b", "copy-missing")],
        )
        .expect("record");
    second
        .record_findings("audit", at(150), &[seen("s/c", "dns-mismatch")])
        .expect("record");
    first
        .record_findings("check", at(200), &[seen("s/b", "copy-missing")])
        .expect("record");
    let history = second.history(at(0)).expect("history");
    let spans: Vec<_> = history
        .iter()
        .map(|s| {
            (
                s.source.as_str(),
                s.address.as_str(),
                s.appeared,
                s.resolved,
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            ("check", "s/a", at(100), Some(at(200))),
            ("check", "s/b", at(100), None),
            ("audit", "s/c", at(150), None),
        ]
    );
    assert_eq!(history[1].last_seen, at(200));
    assert_eq!(
        second.history(at(201)).expect("history").len(),
        2,
        "resolved before: left out"
    );

    // An old state directory is imported once.
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(first.claim_import(dir.path()).expect("claim"));
    assert!(
        !second.claim_import(dir.path()).expect("claim"),
        "only once"
    );
}

#[test]
fn the_local_backend_keeps_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_owned();
    keeps_the_contract(&|| Box::new(Local::open(&path).expect("open")));
    assert!(dir.path().join("state.db").is_file());
}

#[test]
fn the_postgres_backend_keeps_the_contract() {
    let url = cluster().database();
    keeps_the_contract(&|| Box::new(Postgres::connect(&url, URL_ENV).expect("connect")));
}

#[test]
fn a_newer_schema_is_refused_not_downgraded() {
    let url = cluster().database();
    drop(Postgres::connect(&url, URL_ENV).expect("connect"));
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .execute("INSERT INTO schema_version (version) VALUES (99)", &[])
        .expect("bump");
    let Err(e) = Postgres::connect(&url, URL_ENV) else {
        panic!("a newer schema must be refused");
    };
    assert!(e.to_string().contains("schema version 99"), "{e}");

    let dir = tempfile::tempdir().expect("tempdir");
    drop(Local::open(dir.path()).expect("open"));
    let db = rusqlite::Connection::open(dir.path().join("state.db")).expect("open");
    db.execute_batch("PRAGMA user_version = 99").expect("bump");
    let Err(e) = Local::open(dir.path()) else {
        panic!("a newer schema must be refused");
    };
    assert!(e.to_string().contains("schema version 99"), "{e}");
}

/// A catalog written by the first schema (before hash origins were stored), as a state of
/// that release left it: migrated on open, its hashes kept, none of them vouched for.
fn a_first_schema_catalog_is_migrated(mut backend: Box<dyn Backend>) {
    let catalog = backend.load_catalog().expect("load");
    let old = catalog.get(Path::new("/srv/b/old.bak")).expect("kept");
    assert_eq!(
        (old.sha256.as_str(), old.origin),
        ("ee".repeat(32).as_str(), HashOrigin::FirstSeen)
    );
    let mut catalog = catalog;
    catalog.insert(verified_entry("/srv/b/new.bak"));
    backend.save_catalog(&mut catalog).expect("save");
    let loaded = backend.load_catalog().expect("load");
    assert_eq!(
        loaded.get(Path::new("/srv/b/new.bak")).map(|e| e.origin),
        Some(HashOrigin::VerifiedAt)
    );
}

const FIRST_CATALOG_ROW: &str = "INSERT INTO catalog (path, address, size, mtime, sha256, \
     mismatch, files, first_seen, last_verified) VALUES ('/srv/b/old.bak', NULL, 1, 2, \
     'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', NULL, NULL, 3, 4)";

#[test]
fn a_local_state_of_the_first_schema_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = rusqlite::Connection::open(dir.path().join("state.db")).expect("open");
    db.execute_batch(&format!(
        "CREATE TABLE catalog (
            path BLOB PRIMARY KEY, address TEXT, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
            sha256 TEXT NOT NULL, mismatch TEXT, files INTEGER,
            first_seen INTEGER NOT NULL, last_verified INTEGER NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE observation (
            id INTEGER PRIMARY KEY CHECK (id = 1), taken_at INTEGER NOT NULL,
            fingerprint TEXT NOT NULL, body TEXT NOT NULL
         );
         INSERT INTO observation VALUES (1, 5, 'f', '{{\"taken_at\":\"then\"}}');
         {};
         PRAGMA user_version = 1;",
        FIRST_CATALOG_ROW.replace("'/srv/b/old.bak'", "CAST('/srv/b/old.bak' AS BLOB)")
    ))
    .expect("a first-schema state");
    drop(db);
    let mut local = Local::open(dir.path()).expect("open");
    assert_eq!(
        local.last_observation().expect("read"),
        Some((
            Timestamp::from_nanosecond(5).expect("a time"),
            r#"{"taken_at":"then"}"#.to_owned()
        )),
        "the observation is kept too"
    );
    a_first_schema_catalog_is_migrated(Box::new(local));
}

#[test]
fn a_postgres_state_of_the_first_schema_is_migrated() {
    let url = cluster().database();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "CREATE TABLE schema_version (version INT NOT NULL);
             INSERT INTO schema_version (version) VALUES (1);
             CREATE TABLE catalog (
                path BYTEA PRIMARY KEY, address TEXT, size BIGINT NOT NULL,
                mtime BIGINT NOT NULL, sha256 TEXT NOT NULL, mismatch TEXT, files BIGINT,
                first_seen BIGINT NOT NULL, last_verified BIGINT NOT NULL
             );
             {};",
            FIRST_CATALOG_ROW.replace("'/srv/b/old.bak'", "convert_to('/srv/b/old.bak', 'UTF8')")
        ))
        .expect("a first-schema state");
    a_first_schema_catalog_is_migrated(Box::new(
        Postgres::connect(&url, URL_ENV).expect("connect"),
    ));
}

// ---------------------------------------------------------------------------------------
// Two machines, one PostgreSQL.

const NOW: &str = "2026-11-22T03:00:00Z";

/// Two working directories ("machines") whose desired states declare the same stores and
/// the same PostgreSQL state; each may export its settings with its own command.
struct Team {
    _dir: tempfile::TempDir,
    root: PathBuf,
    url: String,
}

impl Team {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_owned();
        for d in ["shared/local", "a/desired", "b/desired"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        Self {
            _dir: dir,
            root,
            url: cluster().database(),
        }
    }

    /// Writes machine `m`'s desired state: `body` inside site `s`, after the store.
    fn desire(&self, m: &str, body: &str, extra: &str) {
        let kdl = format!(
            r#"
deployment "t" product="generic" {{
    objectives rpo="24h" rto="4h"
    backup-window start="01:00" end="05:00"
    owner "ops"
}}
state "postgres" url-env="{URL_ENV}"
site "s" role="primary" owner="ops" {{
    store "local" path="{}"
    {body}
}}
{extra}
"#,
            self.root.join("shared/local").display()
        );
        fs::write(self.root.join(m).join("desired/d.kdl"), kdl).expect("write desired");
    }

    fn command(&self, m: &str, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_standby"));
        command
            .args(args)
            .current_dir(self.root.join(m))
            .env("NO_COLOR", "1")
            .env(URL_ENV, &self.url)
            .env(SQL_PASSWORD_ENV, SQL_PASSWORD);
        command
    }

    fn run(&self, m: &str, args: &[&str]) -> Output {
        standby_with(
            &self.root.join(m),
            args,
            &[(URL_ENV, &self.url), (SQL_PASSWORD_ENV, SQL_PASSWORD)],
        )
    }

    /// Whether some session holds the apply lock (an advisory lock on the server).
    fn lock_held(&self) -> bool {
        let mut admin = postgres::Client::connect(&self.url, postgres::NoTls).expect("connect");
        let held: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                &[],
            )
            .expect("pg_locks")
            .get(0);
        held > 0
    }
}

/// The files below `dir`, without the `.standby-lock` an apply holds at a store root.
fn files_under(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.expect("entry").path())
            .filter(|p| p.file_name() != Some(std::ffi::OsStr::new(".standby-lock")))
            .map(|p| if p.is_dir() { files_under(&p) } else { 1 })
            .sum()
    })
}

fn settings(export: &str) -> String {
    format!(
        r#"settings "global" level="global" every="24h" keep=2 store="local" {{
        export "sh" "-c" "{export}" "export" "{{file}}"
    }}"#
    )
}

#[test]
fn a_second_apply_on_another_machine_waits_and_a_killed_holder_frees_the_lock() {
    let team = Team::new();
    team.desire("a", &settings("sleep 120; echo a > \\\"$1\\\""), "");
    // b's export writes its environment: the state's URL must not be in it.
    team.desire("b", &settings("env > \\\"$1\\\""), "");
    let mut holder = team
        .command("a", &["apply", "--auto-approve", "--now", NOW])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply on a");
    let started = Instant::now();
    while !team.lock_held() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "machine a never took the lock: {}",
            cluster().log()
        );
        assert!(
            holder.try_wait().expect("try_wait").is_none(),
            "apply on a ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let refused = team.run("b", &["apply", "--auto-approve", "--now", NOW]);
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("held by")
            && refused.stderr.contains(&format!("(pid {})", holder.id())),
        "the refusal names the holder on machine a: {}",
        refused.stderr
    );
    assert_eq!(
        files_under(&team.root.join("shared/local")),
        0,
        "machine b wrote nothing (and a is still sleeping)"
    );
    let store_lock = fs::read_to_string(team.root.join("shared/local/.standby-lock"))
        .expect("a holds the store's lock too");
    assert!(
        store_lock.contains(&format!("(pid {})", holder.id())),
        "{store_lock}"
    );

    // SIGKILL: no clean-up runs on a; the server ends its session and the lock with it.
    holder.kill().expect("SIGKILL");
    holder.wait().expect("reap");
    let killed = Instant::now();
    let after = team.run(
        "b",
        &[
            "apply",
            "--auto-approve",
            "--now",
            NOW,
            "--lock-timeout",
            "20s",
        ],
    );
    let waited = killed.elapsed();
    assert_eq!(after.status, 0, "{}{}", after.stdout, after.stderr);
    assert!(
        waited < Duration::from_secs(10),
        "the lock took {waited:?} to free"
    );
    let exported: Vec<_> = fs::read_dir(team.root.join("shared/local/s/settings/global/export"))
        .expect("exported")
        .map(|e| fs::read_to_string(e.expect("entry").path()).expect("read export"))
        .collect();
    assert_eq!(exported.len(), 1);
    assert!(
        exported[0].contains("PATH="),
        "the export ran with an environment"
    );
    assert!(
        !exported[0].contains(URL_ENV) && !exported[0].contains(&team.url),
        "the state's URL reached the export command: {}",
        exported[0]
    );
    // The server ends the session as the connection closes, a moment after the process.
    let ended = Instant::now();
    while team.lock_held() && ended.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!team.lock_held(), "released after the apply");
}

#[test]
fn a_hash_learned_on_one_machine_is_trusted_on_the_other() {
    let team = Team::new();
    let backup = r#"database "db" instance="i" { backup "full" every="24h" keep=7 store="local" }
    sql-instance "i" host="127.0.0.1" port=9 user="u" password-env="PW""#;
    team.desire("a", backup, "");
    team.desire("b", backup, "");
    let dir = team.root.join("shared/local/s/database/db/full");
    fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("db_full_20261122T010000Z.bak");
    fs::write(&file, "a good full backup").expect("write");
    let discovered = team.run("a", &["discover", "--now", NOW]);
    assert_eq!(discovered.status, 0, "{}", discovered.stderr);

    // The content changes behind both machines' backs; size and mtime stay.
    let mtime = fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    fs::write(&file, "a BAD! full backup").expect("write");
    fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(mtime))
        .expect("set mtime");

    let corrupt = |out: &Output| out.has_finding("s/database/db/full", "backup-corrupt");
    // Machine b never read the file: it trusts the hash a learned (same path, size, mtime).
    let trusted = team.run("b", &["check", "--format", "json", "--now", NOW]);
    assert!(!corrupt(&trusted), "{}", trusted.stdout);
    assert!(
        !trusted
            .finding_codes()
            .iter()
            .any(|(_, code)| code == "backup-unverified"),
        "b knows the file as verified: {}",
        trusted.stdout
    );
    // Reading it, b compares it with the hash a recorded, and finds the corruption.
    let full = team.run(
        "b",
        &[
            "check", "--format", "json", "--verify", "full", "--now", NOW,
        ],
    );
    assert!(corrupt(&full), "{}", full.stdout);
}

#[test]
fn restore_tests_journaled_on_one_machine_count_on_the_other() {
    let server = crate::support::quiet_sql_server(&["rtc"]);
    let team = Team::new();
    let body = format!(
        r#"{}
    database "rtc" instance="i" recovery-model="simple" {{
        backup "full" every="24h" keep=7 store="local"
    }}"#,
        crate::support::sql_instance("i", &server)
    );
    let scenario = r#"scenario "rtc-loss" owner="ops" estimate="1h" {
    affects "s/database/rtc"
    step "Restore rtc" minutes=60
}"#;
    team.desire("a", &body, scenario);
    team.desire("b", &body, scenario);
    // Machine a ran a restore test of rtc that took three hours; its old JSON journal says
    // so, and a's first run moves it into the shared state.
    let finished = Timestamp::now() - 1.hour();
    let old = json!({
        "at": finished.to_string(), "run": "earlier", "action": "a1", "kind": "restore-test",
        "address": "s/database/rtc", "step": "end", "outcome": "ok",
        "duration_ms": 3 * 3_600_000,
    });
    fs::create_dir_all(team.root.join("a/state")).expect("mkdir");
    fs::write(team.root.join("a/state/journal.jsonl"), format!("{old}\n")).expect("journal");
    let imported = team.run("a", &["discover"]);
    assert_eq!(imported.status, 0, "{}", imported.stderr);
    assert!(
        imported
            .stderr
            .contains("imported 1 journal lines from state into postgres ($STANDBY_STATE_URL)"),
        "{}",
        imported.stderr
    );

    let check = team.run("b", &["check", "--format", "json"]);
    assert!(
        check
            .finding_codes()
            .contains(&("s/database/rtc".to_owned(), "restore-too-slow".to_owned())),
        "{}{}",
        check.stdout,
        check.stderr
    );
    let worksheet = team.run("b", &["worksheet"]);
    assert_eq!(worksheet.status, 0, "{}", worksheet.stderr);
    assert!(
        worksheet
            .stdout
            .contains("3h, test restore of `s/database/rtc`"),
        "{}",
        worksheet.stdout
    );
    let again = team.run("a", &["discover"]);
    assert!(
        !again.stderr.contains("imported"),
        "imported once: {}",
        again.stderr
    );
}

// ---------------------------------------------------------------------------------------
// History.

#[test]
fn history_shows_when_each_finding_appeared_and_was_resolved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir_all(root.join("desired")).expect("mkdir");
    fs::create_dir_all(root.join("local")).expect("mkdir");
    fs::write(
        root.join("desired/d.kdl"),
        r#"
deployment "t" product="generic" { objectives rpo="24h"; }
site "s" role="primary" {
    store "local" path="../local"
    sql-instance "i" host="127.0.0.1" port=9 user="u" password-env="PW"
    database "db" instance="i" { backup "full" every="24h" keep=7 store="local"; }
}
"#,
    )
    .expect("write desired");
    let run = |args: &[&str]| crate::support::standby(root, args);
    // Monday: no backup. Tuesday: the backup is there.
    assert_eq!(run(&["check", "--now", "2026-11-23T06:00:00Z"]).status, 2);
    let backups = root.join("local/s/database/db/full");
    fs::create_dir_all(&backups).expect("mkdir");
    fs::write(backups.join("db_full_20261124T010000Z.bak"), "full").expect("write");
    run(&["check", "--now", "2026-11-24T06:00:00Z"]);
    // A run that looked at one address only resolves nothing elsewhere.
    fs::remove_file(backups.join("db_full_20261124T010000Z.bak")).expect("rm");
    run(&[
        "check",
        "--now",
        "2026-11-24T07:00:00Z",
        "--target",
        "s/database/other",
    ]);

    let json = run(&[
        "history",
        "--format",
        "json",
        "--now",
        "2026-11-25T06:00:00Z",
        "s/database/db/**",
    ])
    .json();
    assert_eq!(json["format_version"], "1");
    let missing: Vec<_> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "backup-missing")
        .collect();
    assert_eq!(missing.len(), 1, "{json:#}");
    assert_eq!(missing[0]["address"], "s/database/db/full");
    assert_eq!(missing[0]["appeared"], "2026-11-23T06:00:00Z");
    assert_eq!(missing[0]["resolved"], "2026-11-24T06:00:00Z");
    assert_eq!(missing[0]["open_seconds"], 86_400);
    assert!(
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["address"]
                .as_str()
                .is_some_and(|a| a.starts_with("s/database/db"))),
        "the address glob selects: {json:#}"
    );

    let table = run(&["history", "--now", "2026-11-25T06:00:00Z"]);
    assert_eq!(table.status, 0, "{}", table.stderr);
    let line = table
        .stdout
        .lines()
        .find(|l| l.contains("backup-missing"))
        .expect("a backup-missing row");
    assert!(
        line.contains("2026-11-23 06:00")
            && line.contains("2026-11-24 06:00")
            && line.contains("1d"),
        "{}",
        table.stdout
    );
    // Outside --since: resolved before the window, so left out.
    let recent = run(&[
        "history",
        "--since",
        "12h",
        "--now",
        "2026-11-25T06:00:00Z",
        "--format",
        "json",
    ])
    .json();
    assert!(
        !recent["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["code"] == "backup-missing"),
        "{recent:#}"
    );

    let html = run(&[
        "worksheet",
        "--format",
        "html",
        "--now",
        "2026-11-25T06:00:00Z",
    ]);
    assert_eq!(html.status, 0, "{}", html.stderr);
    let chart = html
        .stdout
        .split("<svg class=\"timeline\"")
        .nth(1)
        .expect("the worksheet draws the history chart");
    assert!(
        chart.contains("s/database/db/full backup-missing"),
        "{chart}"
    );
}
