//! `apply` on real directories: saved plans refused when stale, the lock keeping a second
//! apply out, prune refusing what it must never delete, and failing exports leaving nothing.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{Output, standby};

const NOW: &str = "2026-11-22T03:00:00Z";

const DESIRED: &str = r#"
deployment "t" product="generic" {
    objectives rpo="24h"
    backup-window start="01:00" end="05:00"
    owner "ops"
}
site "s" role="primary" owner="ops" {
    store "local" path="../local"
    store "offsite" path="../offsite"
    settings "global" level="global" every="24h" keep=2 store="local" copy-to="offsite" {
        export "sh" "-c" "EXPORT_SCRIPT" "export" "{file}"
    }
    fileset "files" path="../src" every="24h" keep=1 store="local" copy-to="offsite" {
        exclude "**/*.tmp"
    }
}
"#;

struct Estate {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Estate {
    fn new(export_script: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for d in ["desired", "local", "offsite", "src/sub"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        fs::write(
            root.join("desired/d.kdl"),
            DESIRED.replace("EXPORT_SCRIPT", export_script),
        )
        .expect("write");
        fs::write(root.join("src/a.txt"), "meeting content").expect("write");
        fs::write(root.join("src/sub/b.txt"), "more content").expect("write");
        fs::write(root.join("src/scratch.tmp"), "excluded").expect("write");
        Self { _dir: dir, root }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", NOW]);
        standby(&self.root, &all)
    }

    fn files(&self, store: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.join(store)];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).expect("read dir") {
                let path = entry.expect("entry").path();
                // The store's lock, held by every apply: never a backup.
                if path == self.root.join(store).join(".standby-lock") {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(
                        path.strip_prefix(self.root.join(store))
                            .expect("inside")
                            .display()
                            .to_string(),
                    );
                }
            }
        }
        out.sort();
        out
    }
}

const GOOD_EXPORT: &str = "echo exporting; printf '<settings/>' > \\\"$1\\\"";

#[test]
fn apply_takes_what_is_missing_and_check_is_then_clean() {
    let estate = Estate::new(GOOD_EXPORT);
    let out = estate.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "apply: 4 done, 0 failed, 0 skipped, 0 manual left for people · now: no findings · in sync"
        ),
        "{}",
        out.stdout
    );
    let local = estate.files("local");
    assert!(
        local.contains(&"s/settings/global/export/global_export_20261122T030000Z.xml".to_owned()),
        "{local:?}"
    );
    assert!(
        local.contains(
            &"s/fileset/files/snapshot/files_snapshot_20261122T030000Z/sub/b.txt".to_owned()
        ),
        "{local:?}"
    );
    assert!(
        !local.iter().any(|f| f.ends_with("scratch.tmp")),
        "excluded files stay out: {local:?}"
    );
    assert_eq!(estate.files("local"), estate.files("offsite"));
    // The snapshot's manifest is what `sha256sum -c` reads.
    let snapshot = estate
        .root
        .join("local/s/fileset/files/snapshot/files_snapshot_20261122T030000Z");
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "MANIFEST.sha256"])
        .current_dir(&snapshot)
        .output()
        .expect("sha256sum runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // The export's output is in the journal.
    let journal = crate::support::journal(&estate.root.join("state"));
    assert!(
        journal.iter().any(|l| l["output"] == "exporting"),
        "{journal:?}"
    );
    assert_eq!(estate.run(&["check"]).status, 0);
    assert!(
        !estate.root.join("state/lock").exists(),
        "the lock is released"
    );
}

#[test]
fn a_long_action_says_it_is_still_running_when_stderr_is_not_a_terminal() {
    // The export takes 2.5 s; with --progress-every 1s the log hears of it twice, with the
    // time it has run, and nothing is drawn for a terminal.
    let estate = Estate::new("sleep 2.5; printf '<settings/>' > \\\"$1\\\"");
    let out = estate.run(&[
        "apply",
        "--auto-approve",
        "--target",
        "s/settings/global",
        "--progress-every",
        "1s",
    ]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    let still: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("still running"))
        .collect();
    // (A loaded machine may start the command late: a third line is no fault.)
    assert_eq!(
        still.get(..2),
        Some(
            &[
                "a1 export-settings s/settings/global still running [1s elapsed]",
                "a1 export-settings s/settings/global still running [2s elapsed]"
            ][..]
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains('\r'), "{:?}", out.stderr);
    // By default (every 10m) a short run says nothing of the kind.
    let out = estate.run(&["apply", "--auto-approve"]);
    assert!(!out.stderr.contains("still running"), "{}", out.stderr);
}

#[test]
fn apply_json_gives_each_action_result_and_whether_in_sync() {
    let estate = Estate::new(GOOD_EXPORT);
    let out = estate.run(&["apply", "--auto-approve", "--format", "json"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    let json = out.json();
    assert_eq!(json["format_version"], "1");
    assert_eq!(json["in_sync"], true);
    assert_eq!(json["summary"]["done"], 4);
    assert_eq!(json["summary"]["failed"], 0);
    let results: Vec<&str> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["result"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(results, ["done"; 4]);
    assert_eq!(json["after"]["summary"]["in_sync"], true);
    assert!(
        out.stderr.contains("plan: "),
        "the plan goes to stderr: {}",
        out.stderr
    );
}

#[test]
fn with_only_manual_actions_to_run_apply_names_them_and_is_not_in_sync() {
    let estate = Estate::new(GOOD_EXPORT);
    fs::remove_dir_all(estate.root.join("src")).expect("rm src");
    // Outside the backup window the snapshot waits: what is left is the manual action.
    let out = standby(
        &estate.root,
        &[
            "apply",
            "--auto-approve",
            "--target",
            "s/fileset",
            "--now",
            "2026-11-22T12:00:00Z",
        ],
    );
    assert_eq!(out.status, 2, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.matches("\nactions\n").count(),
        1,
        "the plan is printed once: {}",
        out.stdout
    );
    let not_done = out
        .stdout
        .split("\nnot done\n")
        .nth(1)
        .expect("a list of what was not done");
    assert!(
        not_done.contains("manual") && not_done.contains("[owner: ops]"),
        "{not_done}"
    );
    assert!(
        out.stdout.trim_end().ends_with("· not in sync"),
        "{}",
        out.stdout
    );
}

#[test]
fn outside_the_backup_window_heavy_actions_wait() {
    let estate = Estate::new(GOOD_EXPORT);
    let out = standby(
        &estate.root,
        &["apply", "--auto-approve", "--now", "2026-11-22T12:00:00Z"],
    );
    assert_eq!(out.status, 2, "waiting is not in sync: {}", out.stderr);
    assert!(
        out.stdout.contains("apply: 0 done, 0 failed, 4 skipped"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("outside the backup window"),
        "{}",
        out.stderr
    );
    assert!(estate.files("local").is_empty());
}

#[test]
fn a_saved_plan_is_refused_when_the_desired_state_or_the_stores_changed() {
    let estate = Estate::new(GOOD_EXPORT);
    assert_eq!(estate.run(&["plan", "--out", "plan.json"]).status, 0);
    let desired = estate.root.join("desired/d.kdl");
    fs::write(
        &desired,
        fs::read_to_string(&desired)
            .expect("read")
            .replace("keep=2", "keep=3"),
    )
    .expect("write");
    let out = estate.run(&["apply", "plan.json"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("saved plan is stale: the desired state changed"),
        "{}",
        out.stderr
    );
    assert!(estate.files("local").is_empty(), "nothing changed");

    assert_eq!(estate.run(&["plan", "--out", "plan.json"]).status, 0);
    fs::create_dir_all(estate.root.join("local/s/settings/global/export")).expect("mkdir");
    fs::write(
        estate
            .root
            .join("local/s/settings/global/export/global_export_20261122T020000Z.xml"),
        "<x/>",
    )
    .expect("write");
    let out = estate.run(&["apply", "plan.json"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("saved plan is stale: the stores changed"),
        "{}",
        out.stderr
    );
    assert_eq!(estate.files("local").len(), 1, "nothing changed");

    // A fresh saved plan applies without asking: applying it is the approval.
    assert_eq!(estate.run(&["plan", "--out", "plan.json"]).status, 0);
    let out = estate.run(&["apply", "plan.json"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn a_second_apply_is_refused_while_the_lock_is_held() {
    let estate = Estate::new(GOOD_EXPORT);
    fs::create_dir_all(estate.root.join("state")).expect("mkdir");
    let holder = serde_json::json!({
        "id": "0123456789ab",
        "operation": "apply",
        "who": format!("tester@{}", fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim()),
        "pid": std::process::id(),
        "created": "2026-11-22T02:59:00Z",
    });
    fs::write(estate.root.join("state/lock"), holder.to_string()).expect("write lock");
    let out = estate.run(&["apply", "--auto-approve", "--lock-timeout", "1s"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("lock 0123456789ab held by tester@"),
        "{}",
        out.stderr
    );
    assert!(estate.files("local").is_empty());

    // A holder that is gone is reported as stale, and force-unlock removes it.
    let dead = holder.as_object().map(|o| {
        let mut o = o.clone();
        o.insert("pid".into(), serde_json::json!(u32::MAX - 7));
        serde_json::Value::Object(o)
    });
    fs::write(
        estate.root.join("state/lock"),
        dead.expect("object").to_string(),
    )
    .expect("write lock");
    let out = estate.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("the lock is stale; remove it with `standby force-unlock 0123456789ab`"),
        "{}",
        out.stderr
    );
    assert_eq!(
        standby(&estate.root, &["force-unlock", "0123456789ab"]).status,
        0
    );
    assert_eq!(estate.run(&["apply", "--auto-approve"]).status, 0);
}

#[test]
fn a_failing_or_hanging_export_leaves_nothing_and_is_reported() {
    let estate = Estate::new("echo half > \\\"$1\\\"; echo 'LCSCmd: access denied' >&2; exit 5");
    let out = estate.run(&["apply", "--auto-approve", "--target", "s/settings"]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("sh failed (exit status: 5)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("| LCSCmd: access denied"),
        "{}",
        out.stderr
    );
    assert!(
        estate.files("local").is_empty(),
        "{:?}",
        estate.files("local")
    );
    let journal = crate::support::journal(&estate.root.join("state"));
    assert!(
        journal.iter().any(|l| l["outcome"] == "failed"),
        "{journal:?}"
    );
    assert!(!journal.iter().any(|l| l["outcome"] == "ok"), "{journal:?}");

    let estate = Estate::new("echo half > \\\"$1\\\"; sleep 60");
    let out = estate.run(&[
        "apply",
        "--auto-approve",
        "--target",
        "s/settings",
        "--export-timeout",
        "1s",
    ]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("did not finish within 1s and was killed"),
        "{}",
        out.stderr
    );
    assert!(estate.files("local").is_empty());
}

/// Rewrites the saved plan's prune of `victim` to point at `path`.
fn tamper(plan: &Path, path: &str) {
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(plan).expect("read")).expect("json");
    for action in json["actions"].as_array_mut().expect("actions") {
        if action["kind"] == "prune-backup" {
            action["operation"]["path"] = serde_json::json!(path);
        }
    }
    fs::write(plan, json.to_string()).expect("write");
}

#[test]
fn prune_refuses_links_escapes_and_the_newest_backup() {
    let estate = Estate::new(GOOD_EXPORT);
    let dir = estate.root.join("local/s/settings/global/export");
    fs::create_dir_all(&dir).expect("mkdir");
    for stamp in ["20261122T010000Z", "20261121T010000Z", "20261120T010000Z"] {
        fs::write(dir.join(format!("global_export_{stamp}.xml")), stamp).expect("write");
    }
    fs::write(estate.root.join("precious.txt"), "outside every store").expect("write");
    std::os::unix::fs::symlink(
        estate.root.join("precious.txt"),
        dir.join("global_export_20261119T010000Z.xml"),
    )
    .expect("symlink");
    let root = estate.root.to_str().expect("utf-8").to_owned();
    let cases = [
        (
            format!("{root}/local/s/settings/global/export/global_export_20261119T010000Z.xml"),
            "symbolic link",
        ),
        (
            format!("{root}/local/s/settings/global/export/../../../../../precious.txt"),
            "not a plain absolute path",
        ),
        (
            format!("{root}/precious.txt"),
            "outside every declared store root",
        ),
        (
            format!("{root}/local/s/settings/global/export/global_export_20261122T010000Z.xml"),
            "is the newest backup",
        ),
    ];
    for (path, refusal) in cases {
        assert_eq!(estate.run(&["discover"]).status, 0);
        assert_eq!(
            estate
                .run(&["plan", "--out", "plan.json", "--target", "s/settings"])
                .status,
            0
        );
        tamper(&estate.root.join("plan.json"), &path);
        let out = estate.run(&[
            "apply",
            "plan.json",
            "--target",
            "s/settings",
            "--continue-on-error",
        ]);
        assert_eq!(out.status, 1, "{path}: {}", out.stdout);
        // A saved plan is checked against what the desired state produces before anything
        // runs (issue 13): the edited prune never reaches the executor's own refusal.
        assert!(
            out.stderr.contains("saved plan does not match"),
            "{path} ({refusal}): {}",
            out.stderr
        );
        assert!(estate.root.join("precious.txt").exists());
        assert!(dir.join("global_export_20261122T010000Z.xml").exists());
    }
    // Untampered, the plan prunes exactly the one beyond keep=2.
    assert_eq!(
        estate
            .run(&["plan", "--out", "plan.json", "--target", "s/settings"])
            .status,
        0
    );
    let out = estate.run(&["apply", "plan.json", "--target", "s/settings"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!dir.join("global_export_20261120T010000Z.xml").exists());
    assert!(dir.join("global_export_20261121T010000Z.xml").exists());
    assert!(dir.join("global_export_20261122T010000Z.xml").exists());
    assert!(
        fs::symlink_metadata(dir.join("global_export_20261119T010000Z.xml")).is_ok(),
        "links are never followed nor pruned"
    );
}
