//! `discover`, `plan` and `check` on real directories: every filesystem finding code is
//! produced from a real tree, and once the tree is fixed by hand, `check` is clean.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use crate::support::{Output, standby};

const NOW: &str = "2026-11-22T12:00:00Z";

const DESIRED: &str = r#"
deployment "t" product="ocs-2007-r2" {
    objectives rpo="24h"
    owner "dba"
}
site "s" role="primary" owner="dba" {
    store "local" path="../local" sql-path="\\\\bk\\backup"
    store "offsite" path="../offsite"
    store "archive" path="../archive-not-mounted"
    sql-instance "i" host="sql.example" password-env="PW"
    database "db" instance="i" {
        backup "full" every="12h" keep=2 store="local" copy-to="offsite"
        backup "diff" every="8h" keep=3 store="local"
    }
    database "cfg" instance="i" {
        backup "full" every="24h" keep=7 store="local"
    }
    settings "global" level="global" every="24h" keep=2 store="local" {
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{file}"
    }
    fileset "files" path="../src" every="24h" keep=2 store="local"
    fileset "logs" path="../src" every="24h" keep=2 store="archive"
}
"#;

/// The desired state, its SQL Server instance on the test server.
fn desired(sql: &tds_test_server::TdsServer) -> String {
    DESIRED.replace(
        r#"sql-instance "i" host="sql.example" password-env="PW""#,
        &crate::support::sql_instance("i", sql),
    )
}

struct Estate {
    _dir: tempfile::TempDir,
    root: PathBuf,
    sql: tds_test_server::TdsServer,
}

impl Estate {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("desired")).expect("mkdir");
        let sql = crate::support::quiet_sql_server(&["db", "cfg"]);
        fs::write(root.join("desired/d.kdl"), desired(&sql)).expect("write desired");
        fs::create_dir_all(root.join("src/sub")).expect("mkdir");
        fs::create_dir_all(root.join("local")).expect("mkdir");
        fs::create_dir_all(root.join("offsite")).expect("mkdir");
        fs::write(root.join("src/a.txt"), "meeting content").expect("write");
        fs::write(root.join("src/sub/b.txt"), "more content").expect("write");
        Self {
            _dir: dir,
            root,
            sql,
        }
    }

    fn write(&self, store: &str, path: &str, content: &str) -> PathBuf {
        let file = self.root.join(store).join(path);
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, content).expect("write backup");
        file
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", NOW]);
        standby(&self.root, &all)
    }

    /// (address, code, severity) of every finding `check --format json` reports.
    fn findings(&self, extra: &[&str]) -> (i32, BTreeSet<(String, String, String)>) {
        let mut args = vec!["check", "--format", "json"];
        args.extend(extra);
        let out = self.run(&args);
        let json = out.json();
        let found = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let field = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
                (field("address"), field("code"), field("severity"))
            })
            .collect();
        (out.status, found)
    }
}

fn full(stamp: &str) -> String {
    format!("s/database/db/full/db_full_{stamp}.bak")
}

fn finding(address: &str, code: &str, severity: &str) -> (String, String, String) {
    (address.to_owned(), code.to_owned(), severity.to_owned())
}

fn snapshot(estate: &Estate, stamp: &str) {
    let dir = format!("s/fileset/files/snapshot/files_snapshot_{stamp}");
    estate.write("local", &format!("{dir}/a.txt"), "meeting content");
    estate.write("local", &format!("{dir}/sub/b.txt"), "more content");
    let manifest = format!(
        "{}  a.txt\n{}  sub/b.txt\n",
        sha256_hex(b"meeting content"),
        sha256_hex(b"more content")
    );
    estate.write("local", &format!("{dir}/MANIFEST.sha256"), &manifest);
}

fn sha256_hex(bytes: &[u8]) -> String {
    standby::io::hash::sha256_reader(bytes).expect("hash")
}

#[test]
fn every_filesystem_finding_from_a_real_tree_then_clean_after_fixing_it() {
    let estate = Estate::new();
    // db/full: three backups (keep 2), the newest copied badly, the second not copied.
    for stamp in ["20261122T060000Z", "20261121T180000Z", "20261121T060000Z"] {
        estate.write("local", &full(stamp), &format!("full backup {stamp}"));
    }
    estate.write("offsite", &full("20261122T060000Z"), "a truncated copy");
    // db/diff: newest 11 h old — past warn (10h), before crit (12h).
    estate.write(
        "local",
        "s/database/db/diff/db_diff_20261122T010000Z.bak",
        "diff",
    );
    // cfg/full: dated tomorrow.
    estate.write(
        "local",
        "s/database/cfg/full/cfg_full_20261123T000000Z.bak",
        "future",
    );
    // global settings: 30 h old, past crit (24 h).
    estate.write(
        "local",
        "s/settings/global/export/global_export_20261121T060000Z.xml",
        "<settings/>",
    );
    // A stray file nothing declares.
    estate.write("local", "old-job/rtc_2019.bak", "stray");

    let out = estate.run(&["discover"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    // Everything learned is in the embedded database; no JSON state is written.
    assert!(estate.root.join("state/state.db").is_file());
    assert!(!estate.root.join("state/observed.json").exists());
    assert!(!estate.root.join("state/catalog.json").exists());

    // After discovery: one backup changes behind standby's back, one arrives unhashed.
    estate.write(
        "local",
        &full("20261121T180000Z"),
        "full backup 20261121T18000X",
    );
    estate.write(
        "local",
        "s/database/cfg/full/cfg_full_20261122T000000Z.bak",
        "new, not yet hashed",
    );

    // Without reading content, the new file is unverified (and the changed one too).
    let (_, found) = estate.findings(&["--verify", "none", "--target", "s/database/cfg"]);
    let cfg: BTreeSet<_> = [
        finding("s/database/cfg/full", "backup-future", "warning"),
        finding("s/database/cfg/full", "backup-unverified", "warning"),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, cfg);

    let (status, found) = estate.findings(&[]);
    assert_eq!(status, 2);
    let expected: BTreeSet<_> = [
        finding("s/database/db/full", "copy-mismatch", "critical"),
        // Three backups, keep 2, one corrupt: the corrupt one does not count toward keep,
        // so nothing is prunable (issue 13).
        finding("s/database/db/full", "backup-corrupt", "critical"),
        finding("s/database/db/diff", "backup-stale", "warning"),
        finding("s/database/cfg/full", "backup-future", "warning"),
        finding("s/settings/global", "backup-stale", "critical"),
        finding("s/fileset/files", "backup-missing", "critical"),
        finding("s/fileset/logs", "source-unreachable", "critical"),
        finding("s/store/local", "unmanaged", "info"),
        finding("s/store/archive", "store-missing", "warning"),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, expected);

    // The corrupt backup is the second newest, so its copy is missing too once the newest
    // copy is repaired: copy-missing needs a verified original without a copy.
    fs::remove_file(estate.root.join("offsite").join(full("20261122T060000Z"))).expect("rm");
    let (_, found) = estate.findings(&[]);
    assert!(
        found.contains(&finding("s/database/db/full", "copy-missing", "warning")),
        "{found:?}"
    );

    // Fix everything by hand.
    fs::remove_file(estate.root.join("local").join(full("20261121T060000Z"))).expect("rm");
    fs::remove_file(estate.root.join("local").join(full("20261121T180000Z"))).expect("rm");
    estate.write(
        "local",
        &full("20261122T000000Z"),
        "full backup 20261122T000000Z",
    );
    for stamp in ["20261122T060000Z", "20261122T000000Z"] {
        let content = fs::read(estate.root.join("local").join(full(stamp))).expect("read");
        estate.write("offsite", &full(stamp), &String::from_utf8_lossy(&content));
    }
    estate.write(
        "local",
        "s/database/db/diff/db_diff_20261122T080000Z.bak",
        "diff",
    );
    fs::remove_file(
        estate
            .root
            .join("local/s/database/cfg/full/cfg_full_20261123T000000Z.bak"),
    )
    .expect("rm");
    estate.write(
        "local",
        "s/settings/global/export/global_export_20261122T010000Z.xml",
        "<settings/>",
    );
    snapshot(&estate, "20261122T010000Z");
    fs::remove_dir_all(estate.root.join("local/old-job")).expect("rm");
    fs::create_dir_all(estate.root.join("archive-not-mounted")).expect("mkdir");
    fs::write(
        estate.root.join("desired/d.kdl"),
        desired(&estate.sql).replace(
            r#"fileset "logs" path="../src" every="24h" keep=2 store="archive""#,
            "",
        ),
    )
    .expect("write");

    let (status, found) = estate.findings(&[]);
    assert_eq!(found, BTreeSet::new());
    assert_eq!(status, 0);
    let out = estate.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "plan: no findings · no actions\n");
}

#[test]
fn full_verification_finds_silent_corruption_that_a_changed_only_run_cannot() {
    let estate = Estate::new();
    let file = estate.write("local", &full("20261122T060000Z"), "full backup, good");
    estate.write("offsite", &full("20261122T060000Z"), "full backup, good");
    assert_eq!(estate.run(&["discover"]).status, 0);
    // Flip the content, keep size and mtime: only reading it again can tell.
    let mtime = fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    fs::write(&file, "full backup, b0d!").expect("write");
    fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(mtime))
        .expect("set mtime");

    let corrupt = |found: &BTreeSet<(String, String, String)>| {
        found.iter().any(|(_, code, _)| code == "backup-corrupt")
    };
    let target = ["--target", "s/database/db/full"];
    let (status, found) = estate.findings(&target);
    assert!(
        !corrupt(&found),
        "a changed-only run trusts size and mtime: {found:?}"
    );
    assert_eq!(status, 0);
    let (status, found) = estate.findings(&[target[0], target[1], "--verify", "full"]);
    assert!(corrupt(&found), "{found:?}");
    assert_eq!(status, 2);
    // The catalog keeps the first hash: the next run still reports it.
    let (_, found) = estate.findings(&target);
    assert!(corrupt(&found), "{found:?}");
}

#[test]
fn a_saved_observation_plans_without_touching_the_stores() {
    let estate = Estate::new();
    estate.write("local", &full("20261122T060000Z"), "x");
    assert_eq!(estate.run(&["discover", "--out", "snap.json"]).status, 0);
    fs::remove_dir_all(estate.root.join("local")).expect("rm");
    let out = estate.run(&[
        "plan",
        "--observed",
        "snap.json",
        "--format",
        "json",
        "--target",
        "s/database/db/full",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["format_version"], "1");
    assert_eq!(json["summary"]["findings"]["critical"], 0);
    assert_eq!(json["summary"]["actions"]["copy-backup"], 1);
    assert_eq!(json["actions"][0]["kind"], "copy-backup");
    assert_eq!(json["actions"][0]["operation"]["op"], "copy");
}

#[test]
fn ignored_findings_are_counted_not_hidden() {
    let estate = Estate::new();
    estate.write("local", "stray.bin", "x");
    fs::write(
        estate.root.join("desired/.standbyignore"),
        "# strays are expected\ns/store/local:unmanaged\ns/store/archive:store-missing\ns/fileset/*\n",
    )
    .expect("write");
    let out = estate.run(&[
        "check",
        "--format",
        "json",
        "--target",
        "s/store",
        "--target",
        "s/fileset",
    ]);
    let json = out.json();
    assert_eq!(json["summary"]["ignored"], 4, "{}", out.stdout);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(out.status, 0);
    let table = estate.run(&["check", "--target", "s/store", "--target", "s/fileset"]);
    assert_eq!(
        table.stdout,
        "check: no findings · 4 ignored by .standbyignore\n"
    );

    fs::write(
        estate.root.join("desired/.standbyignore"),
        "s/store/[local:unmanaged\n",
    )
    .expect("write");
    let out = estate.run(&["check"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains(".standbyignore:1:1: \"s/store/[local\" is not a valid glob"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_broken_observation_file_is_an_error_with_its_place() {
    let estate = Estate::new();
    fs::write(
        estate.root.join("bad.json"),
        "{\n  \"format_version\": \"1\",\n  \"taken_at\": 12\n}\n",
    )
    .expect("write");
    let out = estate.run(&["plan", "--observed", "bad.json"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("bad.json:3:"), "{}", out.stderr);
}

#[test]
fn markdown_puts_the_summary_first_and_folds_the_details() {
    let estate = Estate::new();
    let out = estate.run(&[
        "plan",
        "--format",
        "markdown",
        "--target",
        "s/fileset/files",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    insta::assert_snapshot!(
        out.stdout
            .replace(estate.root.to_str().unwrap_or_default(), "[ROOT]")
    );
}

/// The README's first command: the shipped example planned from the saved snapshot, on a
/// machine with none of its servers.
#[test]
fn the_readme_main_command_plans_the_shipped_example() {
    let out = standby(
        &crate::support::repo(),
        &[
            "plan",
            "--observed",
            "state/observed.json",
            "--now",
            "2026-11-22T06:30:00Z",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
    let check = standby(
        &crate::support::repo(),
        &[
            "check",
            "--observed",
            "state/observed.json",
            "--now",
            "2026-11-22T06:30:00Z",
        ],
    );
    assert_eq!(check.status, 2, "the example deliberately has drift");
}
