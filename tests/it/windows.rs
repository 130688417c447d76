//! The Windows build on a Windows-path estate: stores, filesets and settings exports at
//! drive-letter paths with spaces, in another case than on disk and behind `\\?\`, driven
//! through validate, discover, plan, apply (exports, snapshots, copies, prune), check in
//! every format and the lock. `scripts/test-windows` runs these under Wine with a drive
//! letter mapped to a scratch directory and names it in `STANDBY_TEST_DRIVE`; on a Windows
//! computer, set it to any drive with room (a directory is created and removed there).

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{Output, repo, standby};

/// A day inside the backup window; the estate is applied on the days after it too.
const DAY1: &str = "2026-11-22T03:00:00Z";

/// A scratch directory on the drive the test run maps, e.g. `D:\.tmpAb12Cd`.
fn scratch_on_drive() -> tempfile::TempDir {
    let drive = std::env::var("STANDBY_TEST_DRIVE").unwrap_or_else(|_| {
        panic!("STANDBY_TEST_DRIVE must name a drive for the Windows tests (scripts/test-windows sets it)")
    });
    tempfile::tempdir_in(format!("{}\\", drive.trim_end_matches('\\')))
        .unwrap_or_else(|e| panic!("cannot create a directory on {drive}: {e}"))
}

/// The stand-in for LCSCmd.exe, built beside this test binary (`examples/fake-lcscmd.rs`).
fn fake_lcscmd() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/…/debug")
        .join("examples/fake-lcscmd.exe");
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build --example fake-lcscmd --target x86_64-pc-windows-gnu`",
        path.display()
    );
    path
}

struct Estate {
    dir: tempfile::TempDir,
}

impl Estate {
    /// Stores `Backup Store\redmond` (its `sql-path` the same folder), `offsite` declared
    /// in another case than it is on disk, and a long-path store behind `\\?\`; a fileset
    /// at `OCS\Meeting Content`; LCSCmd.exe exports at global level, and one that hangs.
    fn new() -> Self {
        let dir = scratch_on_drive();
        let root = dir.path();
        let deep: PathBuf = ["Long", &"nested-folder-".repeat(6), &"x".repeat(120)]
            .iter()
            .collect();
        for d in [
            PathBuf::from("Backup Store\\redmond"),
            PathBuf::from("Offsite\\redmond"),
            deep.clone(),
            PathBuf::from("OCS\\Meeting Content\\sub"),
            PathBuf::from("desired"),
        ] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        fs::write(root.join("OCS\\Meeting Content\\a.txt"), "meeting content").expect("write");
        fs::write(root.join("OCS\\Meeting Content\\sub\\b.txt"), "more").expect("write");
        let r = root.display().to_string();
        let upper = r.to_uppercase();
        let long = format!(r"\\?\{}", root.join(&deep).display());
        let lcscmd = fake_lcscmd().display().to_string();
        let desired = format!(
            r##"
deployment "contoso" product="generic" {{
    objectives rpo="24h"
    backup-window start="01:00" end="05:00"
    owner "ops"
}}
site "redmond" role="primary" owner="ops" {{
    store "local" path=#"{r}\Backup Store\redmond"# sql-path=#"{r}\Backup Store\redmond"#
    store "offsite" path=#"{upper}\offsite\REDMOND"#
    store "archive" path=#"{long}"#
    settings "global" level="global" every="24h" keep=2 store="local" copy-to="offsite" {{
        export #"{lcscmd}"# "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{{file}}"
    }}
    settings "hang" level="global" every="24h" keep=2 store="archive" {{
        export #"{lcscmd}"# #"/Hang:{r}\survived.txt"# "/ConfigFile:{{file}}"
    }}
    fileset "meeting-content" path=#"{r}\OCS\Meeting Content"# every="24h" keep=1 \
        store="local" copy-to="archive"
}}
"##
        );
        fs::write(root.join("desired\\contoso.kdl"), desired).expect("write");
        Self { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str], now: &str) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", now]);
        standby(self.root(), &all)
    }
}

/// Store-relative paths (with `/`) of every file under `store`, sorted.
fn files(store: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![store.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(store).expect("inside");
                let names: Vec<_> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(names.join("/"));
            }
        }
    }
    out.sort();
    out
}

fn codes(out: &Output) -> Vec<String> {
    out.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["address"].as_str().unwrap_or(""),
                f["code"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn the_windows_example_validates() {
    let out = standby(&repo(), &["--desired", "desired-windows", "validate"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .starts_with("desired-windows is valid (2 warnings): deployment `contoso`: 2 sites"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_windows_estate_is_planned_applied_and_then_in_sync() {
    let estate = Estate::new();
    let validated = standby(estate.root(), &["validate"]);
    assert_eq!(validated.status, 0, "{}", validated.stderr);

    // Offline planning from a saved observation.
    let discovered = estate.run(&["discover", "--out", r"state\observed.json"], DAY1);
    assert_eq!(discovered.status, 0, "{}", discovered.stderr);
    let plan = estate.run(
        &[
            "plan",
            "--observed",
            r"state\observed.json",
            "--format",
            "json",
        ],
        DAY1,
    );
    assert_eq!(plan.status, 0, "{}", plan.stderr);
    let kinds = &plan.json()["summary"]["actions"];
    assert_eq!(kinds["export-settings"], 2, "{}", plan.stdout);
    assert_eq!(kinds["snapshot-fileset"], 1, "{}", plan.stdout);
    let check = estate.run(&["check", "--format", "json"], DAY1);
    assert_eq!(
        check.status, 2,
        "nothing is backed up yet: {}",
        check.stdout
    );
    assert!(
        codes(&check).contains(&"redmond/settings/global backup-missing".to_owned()),
        "{:?}",
        codes(&check)
    );

    let applied = estate.run(
        &[
            "apply",
            "--auto-approve",
            "--export-timeout",
            "1s",
            "--target",
            "redmond/settings/global",
            "--target",
            "redmond/fileset",
        ],
        DAY1,
    );
    assert_eq!(applied.status, 0, "{}\n{}", applied.stdout, applied.stderr);
    let local = estate.root().join(r"Backup Store\redmond");
    let offsite = estate.root().join(r"Offsite\redmond");
    let export = "redmond/settings/global/export/global_export_20261122T030000Z.xml";
    assert!(
        files(&local).contains(&export.to_owned()),
        "{:?}",
        files(&local)
    );
    assert!(
        files(&offsite).contains(&export.to_owned()),
        "{:?}",
        files(&offsite)
    );
    // LCSCmd.exe ran without a shell and got the temporary file, spaces and all, as one
    // argument.
    let received: Vec<String> =
        serde_json::from_str(&fs::read_to_string(local.join(export)).expect("the export"))
            .expect("the stand-in's JSON");
    assert_eq!(
        received[..3],
        ["/Config", "/Action:Export", "/Level:Global"]
    );
    let config_file = received[3]
        .strip_prefix("/ConfigFile:")
        .expect("/ConfigFile:");
    assert!(
        config_file.starts_with(&format!(
            r"{}\Backup Store\redmond\",
            estate.root().display()
        )),
        "{config_file}"
    );
    let snapshot =
        "redmond/fileset/meeting-content/snapshot/meeting-content_snapshot_20261122T030000Z";
    assert!(
        files(&local).contains(&format!("{snapshot}/sub/b.txt")),
        "{:?}",
        files(&local)
    );
    let manifest =
        fs::read_to_string(local.join(snapshot).join("MANIFEST.sha256")).expect("the manifest");
    assert!(manifest.contains("  sub/b.txt"), "{manifest}");
    assert!(
        !estate.root().join(r"state\lock").exists(),
        "the lock is released"
    );

    // Everything but the hanging export is in sync, in every format.
    let targets = [
        "--target",
        "redmond/settings/global",
        "--target",
        "redmond/fileset",
    ];
    let mut args = vec!["check", "--verify", "full"];
    args.extend(targets);
    let clean = estate.run(&args, DAY1);
    assert_eq!(clean.status, 0, "{}\n{}", clean.stdout, clean.stderr);
    for (format, expect) in [
        ("json", "\"format_version\""),
        ("junit", "<testsuites"),
        ("nagios", "OK"),
        ("prometheus", "standby_"),
        ("markdown", "#"),
    ] {
        let mut args = vec!["check", "--format", format];
        args.extend(targets);
        let out = estate.run(&args, DAY1);
        assert_eq!(out.status, 0, "{format}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(expect), "{format}: {}", out.stdout);
    }
}

/// The operator made the copy store's folders by hand, in capitals. Windows puts the copy
/// of `redmond/settings/…` into `REDMOND\SETTINGS\…`, and lists it so: it is the copy, not
/// a missing one whose planned copy would find its final name taken.
#[test]
fn a_copy_listed_in_other_case_is_the_copy_on_a_windows_store() {
    let estate = Estate::new();
    let offsite = estate.root().join(r"Offsite\redmond");
    fs::create_dir_all(offsite.join(r"REDMOND\SETTINGS")).expect("mkdir");
    let target = ["--target", "redmond/settings/global"];
    let mut apply = vec!["apply", "--auto-approve"];
    apply.extend(target);
    let applied = estate.run(&apply, DAY1);
    assert_eq!(applied.status, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(
        files(&offsite),
        ["REDMOND/SETTINGS/global/export/global_export_20261122T030000Z.xml"],
        "one copy, in the folders that were there"
    );

    let mut check = vec!["check", "--verify", "full", "--format", "json"];
    check.extend(target);
    let checked = estate.run(&check, DAY1);
    assert_eq!(checked.status, 0, "{}\n{}", checked.stdout, checked.stderr);
    assert_eq!(codes(&checked), Vec::<String>::new());
    let discovered = estate.run(&["discover", "--out", r"state\observed.json"], DAY1);
    assert_eq!(discovered.status, 0, "{}", discovered.stderr);
    let observed: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(estate.root().join(r"state\observed.json")).expect("observed"),
    )
    .expect("JSON");
    let cases: Vec<&str> = observed["stores"]
        .as_array()
        .expect("stores")
        .iter()
        .map(|s| s["case"].as_str().unwrap_or("sensitive"))
        .collect();
    assert_eq!(cases, ["insensitive"; 3], "{observed}");
}

#[test]
fn retention_prunes_the_oldest_export_on_a_windows_store() {
    let estate = Estate::new();
    let mut printed = String::new();
    // Each export is stale by the next (over a day old), all inside the backup window; the
    // third run leaves three exports where two are kept, so it is not in sync (exit 2) until
    // the last run prunes the oldest.
    for (day, in_sync) in [
        ("2026-11-22T01:00:00Z", 0),
        ("2026-11-23T03:00:00Z", 0),
        ("2026-11-24T04:30:00Z", 2),
        ("2026-11-24T04:30:00Z", 0),
    ] {
        let out = estate.run(
            &[
                "apply",
                "--auto-approve",
                "--target",
                "redmond/settings/global",
            ],
            day,
        );
        assert_eq!(out.status, in_sync, "{day}: {}\n{}", out.stdout, out.stderr);
        printed.push_str(&out.stdout);
    }
    assert!(printed.contains("prune-backup"), "{printed}");
    let dir = estate
        .root()
        .join(r"Backup Store\redmond\redmond\settings\global\export");
    let mut left: Vec<_> = fs::read_dir(&dir)
        .expect("exports")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "global_export_20261123T030000Z.xml",
            "global_export_20261124T043000Z.xml"
        ],
        "keep=2: the oldest is pruned"
    );
}

#[test]
fn a_hanging_export_is_killed_with_the_processes_it_started() {
    let estate = Estate::new();
    let out = estate.run(
        &[
            "apply",
            "--auto-approve",
            "--export-timeout",
            "1s",
            "--target",
            "redmond/settings/hang",
        ],
        DAY1,
    );
    assert_eq!(out.status, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("did not finish within 1s and was killed"),
        "{}",
        out.stderr
    );
    // The stand-in's child would write this 3 s after it started, were it still alive.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert!(
        !estate.root().join("survived.txt").exists(),
        "the export's child outlived the timeout"
    );
    let archive = files(&estate.root().join("Long"));
    assert!(archive.is_empty(), "nothing is left behind: {archive:?}");
}

#[test]
fn a_lock_held_by_a_running_process_waits_and_a_dead_one_is_stale() {
    let estate = Estate::new();
    let host = std::env::var("COMPUTERNAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into());
    let lock = |pid: u32| {
        serde_json::json!({
            "id": "0123456789ab", "operation": "apply", "who": format!("tester@{}", host.trim()),
            "pid": pid, "created": "2026-11-22T02:59:00Z",
        })
        .to_string()
    };
    fs::create_dir_all(estate.root().join("state")).expect("mkdir");
    fs::write(estate.root().join(r"state\lock"), lock(std::process::id())).expect("lock");
    let out = estate.run(&["apply", "--auto-approve", "--lock-timeout", "1s"], DAY1);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("lock 0123456789ab held by tester@"),
        "{}",
        out.stderr
    );

    fs::write(estate.root().join(r"state\lock"), lock(u32::MAX - 7)).expect("lock");
    let out = estate.run(&["apply", "--auto-approve"], DAY1);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("the lock is stale; remove it with `standby force-unlock 0123456789ab`"),
        "{}",
        out.stderr
    );
    assert_eq!(
        standby(estate.root(), &["force-unlock", "0123456789ab"]).status,
        0
    );
    assert!(!estate.root().join(r"state\lock").exists());
}

/// The `/TR` command line of the README's `schtasks /Create` line, as Task Scheduler runs
/// it: split into the quoted program and the rest, passed to the program verbatim.
fn readme_task_command() -> (String, String) {
    let readme = fs::read_to_string(repo().join("README.md")).expect("README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("schtasks /Create"))
        .expect("the README's schtasks /Create line");
    let command = line
        .split_once(" /TR \"")
        .and_then(|(_, rest)| rest.strip_suffix('"'))
        .expect("a /TR \"…\" argument at the end")
        .replace("\\\"", "\"");
    let (program, rest) = command
        .strip_prefix('"')
        .and_then(|c| c.split_once("\" "))
        .expect("a quoted program, then its arguments");
    (program.to_owned(), rest.to_owned())
}

#[test]
fn the_readme_task_scheduler_command_keeps_checks_exit_code() {
    use std::os::windows::process::CommandExt as _;
    let (program, arguments) = readme_task_command();
    assert_eq!(program, r"C:\Program Files\standby\standby.exe");
    let estate = Estate::new();
    let arguments = arguments.replace(r"C:\standby", &estate.root().display().to_string());
    let exe = std::path::absolute(env!("CARGO_BIN_EXE_standby")).expect("standby.exe's path");
    // Run from elsewhere, as Task Scheduler does (its working directory is system32).
    let status = std::process::Command::new(exe)
        .raw_arg(&arguments)
        .current_dir(std::env::temp_dir())
        .env("NO_COLOR", "1")
        .status()
        .expect("standby.exe runs");
    assert_eq!(
        status.code(),
        Some(2),
        "drift (nothing backed up yet): {arguments}"
    );
    let report = fs::read_to_string(estate.root().join("check.txt")).expect("the report");
    assert!(report.contains("backup-missing"), "{report}");
}
