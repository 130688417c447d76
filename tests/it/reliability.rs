//! Issue 13, "nothing lost, nothing lied": one test per promise of `docs/reliability.md`,
//! each on a real tree through the real binary, the way an adversarial operator would try.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Output, standby, standby_with};

pub const NOW: &str = "2026-11-22T03:00:00Z";

/// A deployment with one settings export (keep=2, copied offsite) and one fileset.
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
}
"#;

pub struct Estate {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Estate {
    pub fn with(desired: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for d in ["desired", "local", "offsite"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        fs::write(root.join("desired/d.kdl"), desired).expect("write");
        Self { _dir: dir, root }
    }

    pub fn new(export_script: &str) -> Self {
        Self::with(&DESIRED.replace("EXPORT_SCRIPT", export_script))
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", NOW]);
        standby(&self.root, &all)
    }

    pub fn export_dir(&self, store: &str) -> PathBuf {
        self.root.join(store).join("s/settings/global/export")
    }

    /// The journal, one JSON line per step, read through the state backend.
    pub fn journal(&self) -> String {
        use standby::state::Backend as _;
        let Ok(mut state) = standby::state::local::Local::open(&self.root.join("state")) else {
            return String::new();
        };
        state
            .journal()
            .unwrap_or_default()
            .iter()
            .filter_map(|l| serde_json::to_string(l).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

const GOOD_EXPORT: &str = "printf '<settings/>' > \\\"$1\\\"";

/// Runs `standby ARGS` in `dir`, killing it after `limit`: a hang is a failure, not a
/// test that never ends.
fn run_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_standby"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the standby binary runs");
    // Read both pipes as it writes: a full pipe would stall it and look like a hang.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("standby {args:?} still runs after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status: status.code().unwrap_or(-1),
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column_and_nothing_else() {
    let estate = Estate::new(GOOD_EXPORT);
    let mut bytes = b"deployment \"t\" {\n    owner \"op".to_vec();
    bytes.push(0xff);
    bytes.extend_from_slice(b"s\"\n}\n");
    fs::write(estate.root.join("desired/d.kdl"), bytes).expect("write");
    let out = standby(&estate.root, &["validate"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("d.kdl:2:14: not valid UTF-8 (byte 0xff)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("deployment-missing"), "{}", out.stderr);
}

#[test]
fn deep_nesting_is_an_error_at_its_place_not_a_stack_overflow() {
    let estate = Estate::new(GOOD_EXPORT);
    let depth = 80_000;
    let text = format!(
        "deployment \"t\"\nsite \"s\" role=\"primary\" {}{}\n",
        "a {".repeat(depth),
        "}".repeat(depth)
    );
    fs::write(estate.root.join("desired/d.kdl"), text).expect("write");
    for command in [&["validate"][..], &["check"], &["plan"]] {
        let out = run_within(&estate.root, command, Duration::from_secs(60));
        assert_eq!(out.status, 1, "{command:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("blocks nested deeper than 64 levels")
                && out.stderr.contains("d.kdl:2:"),
            "{command:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn names_that_would_escape_a_path_are_refused_by_validate() {
    for (node, name) in [
        ("site", ".."),
        ("site", "."),
        ("store", "a\\\\b"),
        ("settings", "a\\nb"),
        ("settings", "..\\\\x"),
        ("store", "tab\\there"),
    ] {
        let mut text = DESIRED.replace("EXPORT_SCRIPT", GOOD_EXPORT);
        text = match node {
            "site" => text.replace("site \"s\"", &format!("site \"{name}\"")),
            "store" => text
                .replace("store \"offsite\"", &format!("store \"{name}\""))
                .replace("copy-to=\"offsite\"", &format!("copy-to=\"{name}\"")),
            _ => text.replace("settings \"global\"", &format!("settings \"{name}\"")),
        };
        let estate = Estate::with(&text);
        let out = standby(&estate.root, &["validate"]);
        assert_eq!(
            out.status, 1,
            "{node} {name:?} must be refused: {}",
            out.stderr
        );
        assert!(out.stderr.contains("cannot name a"), "{}", out.stderr);
    }
}

#[test]
fn a_copy_to_store_in_the_stores_own_directory_is_refused() {
    let estate = Estate::with(
        &DESIRED
            .replace("EXPORT_SCRIPT", GOOD_EXPORT)
            .replace("path=\"../offsite\"", "path=\"../local/\""),
    );
    let out = standby(&estate.root, &["validate"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("is the same directory as store `local`"),
        "{}",
        out.stderr
    );
    // Through a symbolic link too.
    fs::remove_dir(estate.root.join("offsite")).expect("rmdir");
    std::os::unix::fs::symlink(estate.root.join("local"), estate.root.join("offsite"))
        .expect("symlink");
    fs::write(
        estate.root.join("desired/d.kdl"),
        DESIRED.replace("EXPORT_SCRIPT", GOOD_EXPORT),
    )
    .expect("write");
    let out = standby(&estate.root, &["validate"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("same directory"), "{}", out.stderr);
}

#[test]
fn a_target_that_selects_nothing_is_an_error_naming_the_closest_address() {
    let estate = Estate::new(GOOD_EXPORT);
    for command in ["check", "plan"] {
        let out = estate.run(&[command, "--target", "s/settings/globl"]);
        assert_eq!(out.status, 1, "{command}: {}", out.stdout);
        assert!(
            out.stderr.contains("did you mean \"s/settings/global\""),
            "{command}: {}",
            out.stderr
        );
    }
    let out = estate.run(&["apply", "--auto-approve", "--target", "nothing/at/all"]);
    assert_eq!(out.status, 1);
    assert!(
        fs::read_dir(estate.root.join("local"))
            .expect("ls")
            .next()
            .is_none()
    );
    // A target that does select something still works.
    assert_eq!(estate.run(&["check", "--target", "s/settings/*"]).status, 2);
}

#[test]
fn a_declared_store_without_a_directory_is_store_missing() {
    let estate = Estate::with(&DESIRED.replace("EXPORT_SCRIPT", GOOD_EXPORT).replace(
        "store \"offsite\" path=\"../offsite\"",
        "store \"offsite\" path=\"../offsite\"\n    store \"spare\" path=\"../not-there\"",
    ));
    // Every action succeeds, but the missing store leaves the deployment out of sync: 2.
    let out = estate.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(" 0 failed, "), "{}", out.stdout);
    assert!(out.stdout.contains("store-missing"), "{}", out.stdout);
    let out = estate.run(&["check", "--format", "json"]);
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(
        out.has_finding("s/store/spare", "store-missing"),
        "{}",
        out.stdout
    );
}

#[test]
fn password_variables_never_reach_an_export_command() {
    let script = "echo \\\"pw=[$STANDBY_RT_PW]\\\"; printf \\\"[$STANDBY_RT_PW]\\\" > \\\"$1\\\"";
    let text = DESIRED.replace("EXPORT_SCRIPT", script).replace(
        "    store \"local\"",
        "    sql-instance \"i\" host=\"127.0.0.1\" port=1 user=\"u\" password-env=\"STANDBY_RT_PW\" encrypt=#false\n    store \"local\"",
    );
    let estate = Estate::with(&text);
    let out = standby_with(
        &estate.root,
        &[
            "apply",
            "--auto-approve",
            "--now",
            NOW,
            "--sql-timeout",
            "2s",
        ],
        &[("STANDBY_RT_PW", "hunter2-secret")],
    );
    // The export ran and nothing is left to do.
    assert!(
        out.status == 0 && out.stdout.contains("apply: 2 done, 0 failed, "),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let journal = estate.journal();
    assert!(journal.contains("pw=[]"), "{journal}");
    assert!(!journal.contains("hunter2"), "{journal}");
    for entry in fs::read_dir(estate.export_dir("local")).expect("ls") {
        let content = fs::read_to_string(entry.expect("entry").path()).expect("read");
        assert_eq!(content, "[]");
    }
}

/// A saved plan of the estate, as JSON to edit.
fn saved_plan(estate: &Estate) -> serde_json::Value {
    let out = estate.run(&["plan", "--out", "plan.json"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    serde_json::from_str(&fs::read_to_string(estate.root.join("plan.json")).expect("read"))
        .expect("a plan")
}

fn save(estate: &Estate, plan: &serde_json::Value) {
    fs::write(estate.root.join("plan.json"), plan.to_string()).expect("write");
}

#[test]
fn an_edited_saved_plan_never_runs() {
    let estate = Estate::new(GOOD_EXPORT);
    let mut plan = saved_plan(&estate);
    let actions = plan["actions"].as_array_mut().expect("actions");
    let export = actions
        .iter_mut()
        .find(|a| a["kind"] == "export-settings")
        .expect("an export action");
    export["operation"]["argv"] = serde_json::json!([
        "sh",
        "-c",
        "touch ../../../../../pwned; printf x > \"$1\"",
        "export",
        "{file}"
    ]);
    save(&estate, &plan);
    let out = estate.run(&["apply", "plan.json"]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("saved plan does not match what the desired state produces"),
        "{}",
        out.stderr
    );
    assert!(!estate.root.join("pwned").exists());
    assert!(
        fs::read_dir(estate.root.join("local"))
            .expect("ls")
            .next()
            .is_none()
    );

    // The copy's source edited: refused the same way.
    let mut plan = saved_plan(&estate);
    let copy = plan["actions"]
        .as_array_mut()
        .expect("actions")
        .iter_mut()
        .find(|a| a["kind"] == "copy-backup")
        .expect("a copy action");
    copy["operation"]["from"] = serde_json::json!("/etc/hostname");
    save(&estate, &plan);
    let out = estate.run(&["apply", "plan.json"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("does not match"), "{}", out.stderr);

    // Untouched, it runs.
    saved_plan(&estate);
    assert_eq!(estate.run(&["apply", "plan.json"]).status, 0);
}

#[test]
fn a_saved_plan_with_a_dependency_cycle_or_an_unknown_id_is_refused() {
    let estate = Estate::new(GOOD_EXPORT);
    let mut plan = saved_plan(&estate);
    let ids: Vec<String> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(ids.len() >= 2, "{ids:?}");
    plan["actions"][0]["depends_on"] = serde_json::json!([ids[1]]);
    save(&estate, &plan);
    let out = estate.run(&["apply", "plan.json"]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(out.stderr.contains("form a cycle"), "{}", out.stderr);
    plan["actions"][0]["depends_on"] = serde_json::json!(["a99"]);
    save(&estate, &plan);
    let out = estate.run(&["apply", "plan.json"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("depends on a99, which the plan does not hold"),
        "{}",
        out.stderr
    );
    assert!(
        fs::read_dir(estate.root.join("local"))
            .expect("ls")
            .next()
            .is_none()
    );
}

#[test]
fn an_unreadable_lock_is_stale_and_the_command_it_names_clears_it() {
    for content in [&b""[..], b"{\"id\":\"abc", b"\x00\x01garbage"] {
        let estate = Estate::new(GOOD_EXPORT);
        fs::create_dir_all(estate.root.join("state")).expect("mkdir");
        fs::write(estate.root.join("state/lock"), content).expect("write");
        let out = estate.run(&["apply", "--auto-approve", "--lock-timeout", "5s"]);
        assert_eq!(out.status, 1);
        let command = out
            .stderr
            .split('`')
            .nth(1)
            .unwrap_or_else(|| panic!("no command in: {}", out.stderr))
            .to_owned();
        assert!(
            command.starts_with("standby force-unlock unreadable-"),
            "{}",
            out.stderr
        );
        let args: Vec<&str> = command.split(' ').skip(1).collect();
        let unlocked = standby(&estate.root, &args);
        assert_eq!(unlocked.status, 0, "{}", unlocked.stderr);
        let out = estate.run(&["apply", "--auto-approve"]);
        assert_eq!(out.status, 0, "{}", out.stderr);
    }
}

#[test]
fn sigterm_stops_apply_kills_the_exports_children_and_releases_the_lock() {
    let script = "sleep 300 & echo $! > child.pid; printf half > \\\"$1\\\"; wait";
    let estate = Estate::new(script);
    let mut apply = Command::new(env!("CARGO_BIN_EXE_standby"))
        .args(["apply", "--auto-approve", "--now", NOW])
        .current_dir(&estate.root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply runs");
    let pid_file = estate.root.join("child.pid");
    let started = Instant::now();
    while fs::read_to_string(&pid_file).map_or(true, |p| p.trim().is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the export never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let child: String = fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_owned();
    Command::new("kill")
        .args(["-TERM", &apply.id().to_string()])
        .status()
        .expect("kill");
    let started = Instant::now();
    while apply.try_wait().expect("wait").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "apply ignores SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = apply.wait_with_output().expect("output");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        out.status.code().is_some(),
        "apply exits, it is not killed by the signal"
    );
    assert!(
        !estate.root.join("state/lock").exists(),
        "the lock is released"
    );
    std::thread::sleep(Duration::from_millis(200));
    let alive =
        fs::read_to_string(format!("/proc/{child}/stat")).is_ok_and(|s| !s.contains(") Z "));
    assert!(!alive, "the export's child {child} still runs");
    assert!(
        estate.journal().contains("\"outcome\":\"interrupted\""),
        "{}",
        estate.journal()
    );
    let leftovers: Vec<_> = walk(&estate.root.join("local"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_fifo_named_like_a_backup_is_reported_never_read() {
    let estate = Estate::new(GOOD_EXPORT);
    let dir = estate.export_dir("local");
    fs::create_dir_all(&dir).expect("mkdir");
    let fifo = dir.join("global_export_20261121T030000Z.xml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let limit = Duration::from_secs(60);
    let out = run_within(
        &estate.root,
        &["check", "--now", NOW, "--format", "json"],
        limit,
    );
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(
        out.stdout.contains("is a FIFO, not a regular file"),
        "{}",
        out.stdout
    );
    for args in [&["discover"][..], &["plan", "--now", NOW]] {
        let out = run_within(&estate.root, args, limit);
        assert_ne!(out.status, 1, "{args:?}: {}", out.stderr);
    }
    let out = run_within(
        &estate.root,
        &["apply", "--auto-approve", "--now", NOW],
        limit,
    );
    assert!(
        out.stdout.contains("apply:"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!estate.root.join("state/lock").exists());
    assert!(
        fs::symlink_metadata(&fifo).is_ok(),
        "the FIFO is left where it was"
    );
}

#[test]
fn a_file_still_being_written_is_not_recorded_and_never_turns_corrupt() {
    let estate = Estate::new(GOOD_EXPORT);
    let dir = estate.export_dir("local");
    fs::create_dir_all(&dir).expect("mkdir");
    let growing = dir.join("global_export_20261122T020000Z.xml");
    fs::write(&growing, vec![b'x'; 4 << 20]).expect("write");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, growing) = (stop.clone(), growing.clone());
        std::thread::spawn(move || {
            use std::io::Write as _;
            let mut file = fs::OpenOptions::new()
                .append(true)
                .open(&growing)
                .expect("open");
            // A slow writer, and a bounded one: at most 16 MiB more.
            for _ in 0..4096 {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                file.write_all(&[b'y'; 4096]).expect("append");
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let out = estate.run(&["check", "--format", "json"]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().expect("writer");
    assert!(out.stdout.contains("still being written"), "{}", out.stdout);
    // Once written, it is an ordinary good backup: never `backup-corrupt`.
    let out = estate.run(&["check", "--format", "json"]);
    assert!(
        !out.finding_codes()
            .iter()
            .any(|(_, c)| c == "backup-corrupt"),
        "{}",
        out.stdout
    );
    let out = estate.run(&["check", "--format", "json", "--verify", "full"]);
    assert!(
        !out.finding_codes()
            .iter()
            .any(|(_, c)| c == "backup-corrupt"),
        "{}",
        out.stdout
    );
}

/// The export files of the estate's local store, as (name, content).
fn exports(estate: &Estate, store: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fs::read_dir(estate.export_dir(store))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn keep_counts_good_backups_and_corrupt_ones_never_cost_a_good_one() {
    let estate = Estate::new(GOOD_EXPORT);
    let dir = estate.export_dir("local");
    fs::create_dir_all(&dir).expect("mkdir");
    let stamps = ["18", "19", "20", "21", "22"];
    for day in stamps {
        fs::write(
            dir.join(format!("global_export_202611{day}T000000Z.xml")),
            format!("<settings day=\"{day}\"/>"),
        )
        .expect("write");
    }
    assert_eq!(estate.run(&["check"]).status, 2, "hashes them all");
    // The newest three go bad in place, same size.
    for day in &stamps[2..] {
        fs::write(
            dir.join(format!("global_export_202611{day}T000000Z.xml")),
            format!("<settings day=\"X{}\"/>", &day[1..]),
        )
        .expect("corrupt");
    }
    let out = estate.run(&["apply", "--auto-approve", "--verify", "full"]);
    assert!(
        out.stdout.contains("apply:"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let left: Vec<String> = exports(&estate, "local")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    // A fresh export replaces the corrupt newest one; none of the five is pruned, the two
    // good ones least.
    for day in stamps {
        let name = format!("global_export_202611{day}T000000Z.xml");
        assert!(left.contains(&name), "{name} was pruned: {left:?}");
    }
    let out = estate.run(&["check", "--format", "json"]);
    assert!(
        out.has_finding("s/settings/global", "backup-corrupt"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_lost_catalog_never_copies_a_corrupt_original_over_its_good_copy() {
    let estate = Estate::new(GOOD_EXPORT);
    assert_eq!(estate.run(&["apply", "--auto-approve"]).status, 0);
    let good = exports(&estate, "offsite");
    assert_eq!(good.len(), 1);
    fs::remove_dir_all(estate.root.join("state")).expect("lose the state, catalog and all");
    let (name, content) = &good[0];
    fs::write(
        estate.export_dir("local").join(name),
        content.replace("settings", "sett!ngs"),
    )
    .expect("corrupt the original in place");
    let out = estate.run(&["apply", "--auto-approve", "--verify", "full"]);
    assert!(
        out.stdout.contains("apply:") || out.stdout.contains("nothing to do"),
        "{}",
        out.stderr
    );
    assert_eq!(
        exports(&estate, "offsite"),
        good,
        "the good copy is kept as it was"
    );
    let out = estate.run(&["check", "--verify", "full", "--format", "json"]);
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(
        out.has_finding("s/settings/global", "copy-mismatch"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_rotten_copy_is_kept_as_evidence_and_blamed_by_the_original_standby_verified_earlier() {
    let estate = Estate::new(GOOD_EXPORT);
    assert_eq!(estate.run(&["apply", "--auto-approve"]).status, 0);
    let good = exports(&estate, "offsite");
    assert_eq!(good.len(), 1);
    let (name, content) = &good[0];
    let rotten = content.replace("settings", "sett!ngs");
    fs::write(estate.export_dir("offsite").join(name), &rotten).expect("corrupt the copy");
    // A later run, another process: the state database still vouches for the original,
    // which standby verified as it wrote it, so the hint blames the copy.
    let out = estate.run(&["check", "--format", "json"]);
    assert!(
        out.has_finding("s/settings/global", "copy-mismatch"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "the original's hash was verified when standby wrote it, so the copy is the bad one"
        ),
        "{}",
        out.stdout
    );
    // Never replaced: the differing copy is evidence (issue 13, item 3).
    assert_ne!(estate.run(&["apply", "--auto-approve"]).status, 1);
    assert_eq!(
        fs::read_to_string(estate.export_dir("offsite").join(name)).expect("kept"),
        rotten
    );
    // Once the operator has moved it out of the store, the next apply copies again.
    let evidence = estate.root.join("evidence.xml");
    fs::rename(estate.export_dir("offsite").join(name), &evidence).expect("move it out");
    assert_eq!(
        estate.run(&["apply", "--auto-approve"]).status,
        0,
        "{}",
        estate.journal()
    );
    assert_eq!(exports(&estate, "offsite"), good, "the copy is good again");
}

#[test]
fn overlapping_items_never_prune_each_others_backups() {
    let estate = Estate::with(
        r#"
deployment "t" product="generic" {
    objectives rpo="24h"
    owner "ops"
}
site "s" role="primary" owner="ops" {
    store "local" path="../local"
    settings "a" level="global" every="24h" keep=1 store="local" pattern="shared/*.xml"
    settings "b" level="global" every="24h" keep=3 store="local" pattern="shared/*.xml"
}
"#,
    );
    let shared = estate.root.join("local/shared");
    fs::create_dir_all(&shared).expect("mkdir");
    for day in 1..=3 {
        let file = shared.join(format!("exp_{day}.xml"));
        fs::write(&file, format!("<x{day}/>")).expect("write");
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_795_309_200 + day * 3600);
        fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(at))
            .expect("mtime");
    }
    let out = estate.run(&["apply", "--auto-approve"]);
    assert!(
        out.stdout.contains("nothing to do") || out.stdout.contains("apply:"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(
        walk(&shared).len(),
        3,
        "the keep=1 item pruned the keep=3 item's backups"
    );
    let out = estate.run(&["check"]);
    assert!(
        out.stdout
            .contains("is also claimed by s/settings/b: not pruned"),
        "{}",
        out.stdout
    );
}
