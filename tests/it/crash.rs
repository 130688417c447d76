//! Crash safety of `apply`: the real binary is killed (`SIGKILL`) at many moments (while
//! it discovers and plans, in the middle of a copy, a snapshot or a prune, between actions,
//! while it saves the catalog), then run again to completion. Whatever the moment, no file
//! under a final name is ever partial, no backup that existed is lost, the journal stays
//! readable, the lock left behind is reported and removable, the re-run leaves no temporary
//! behind and `check` is clean afterwards.
//!
//! Each trial gets a fresh copy of one estate (hard links to a template, which nothing
//! writes to): 52 database backups to copy (3 KiB to 6 MiB), two of them with older backups
//! to prune, three filesets of 200 small files to snapshot (one copied offsite, one with a
//! previous snapshot to hard-link against) and a fourth fileset with two old snapshots of
//! 1,500 files to prune. The stores live on tmpfs when there is one: SIGKILL does not lose the page cache,
//! so fsync costs time without changing what this test can observe.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Output, standby};

/// When the killed apply runs; the completing one runs a minute later.
const NOW: &str = "2026-11-22T12:00:00Z";
const LATER: &str = "2026-11-22T12:01:00Z";
const TRIALS: usize = 56;
const TEMP_PREFIX: &str = ".standby-tmp-";
const MANIFEST: &str = "MANIFEST.sha256";
const FILESETS: [&str; 4] = ["fs0", "fs1", "fs2", "arch"];
const FILES_PER_FILESET: u64 = 200;

const DESIRED: &str = r#"
deployment "t" product="generic" {
    objectives rpo="24h"
    owner "dba"
}
site "s" role="primary" owner="dba" {
    store "local" path="../local" sql-path="\\\\bk\\backup"
    store "offsite" path="../offsite"
    sql-instance "i" host="sql.example" password-env="PW"
DATABASES    database "old" instance="i" {
        backup "full" every="24h" keep=2 store="local" copy-to="offsite"
    }
    fileset "fs0" path="../src/fs0" every="24h" keep=5 store="local" copy-to="offsite"
    fileset "fs1" path="../src/fs1" every="24h" keep=5 store="local"
    fileset "fs2" path="../src/fs2" every="24h" keep=5 store="local"
    fileset "arch" path="../src/arch" every="24h" keep=1 store="local"
}
"#;

/// splitmix64: reproducible sizes and contents without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, len: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(len).expect("small") + 8);
        while (out.len() as u64) < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(usize::try_from(len).expect("small"));
        out
    }
}

fn stamp(hours_before_now: u32) -> String {
    let now: jiff::Timestamp = NOW.parse().expect("time");
    let at = now - jiff::SignedDuration::from_hours(i64::from(hours_before_now));
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

/// A snapshot of `src` written by hand, as an earlier standby would have: copies with the
/// source's mtime (so unchanged files are hard-linked by the next snapshot) and a manifest.
fn hand_snapshot(src: &Path, snapshot: &Path) {
    let mut manifest = Vec::new();
    for file in files_under(src) {
        let from = src.join(&file);
        let to = snapshot.join(&file);
        let bytes = fs::read(&from).expect("read");
        write(&to, &bytes);
        let mtime = fs::metadata(&from)
            .and_then(|m| m.modified())
            .expect("mtime");
        fs::File::options()
            .write(true)
            .open(&to)
            .and_then(|f| f.set_modified(mtime))
            .expect("set mtime");
        manifest.push(format!("{}  {file}\n", sha256_of(&bytes)));
    }
    manifest.sort();
    write(&snapshot.join(MANIFEST), manifest.concat().as_bytes());
}

fn sha256_of(bytes: &[u8]) -> String {
    standby::io::hash::sha256_reader(bytes).expect("hash")
}

/// Every regular file below `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).expect("read dir") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("type");
            if kind.is_dir() {
                stack.push(entry.path());
            } else {
                let path = entry.path();
                let relative = path.strip_prefix(dir).expect("inside");
                out.push(relative.to_str().expect("utf-8").to_owned());
            }
        }
    }
    out.sort();
    out
}

/// sha256 of many files at once, by the real `sha256sum` (fast even in a debug build).
fn sha256_many(paths: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for chunk in paths.chunks(1000) {
        let output = Command::new("sha256sum")
            .arg("--")
            .args(chunk)
            .output()
            .expect("sha256sum runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let (hash, path) = line.split_once("  ").expect("sha256sum line");
            out.insert(PathBuf::from(path), hash.to_owned());
        }
    }
    out
}

/// The estate every trial starts from, with the hash of every file in it.
struct Template {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// `local/…` and `src/…` → sha256.
    hashes: BTreeMap<String, String>,
    /// Store-relative paths of the backups in `local` (files and snapshot directories).
    backups: BTreeSet<String>,
    /// The ones retention prunes.
    prunable: BTreeSet<String>,
    /// The SQL Server the desired state's instance points at.
    _sql: tds_test_server::TdsServer,
}

fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("standby-crash-")
            .tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("tempdir")
}

impl Template {
    fn new() -> Self {
        let dir = scratch_dir();
        let root = dir.path().join("template");
        let mut rng = Rng(20_261_122);
        let mut databases = String::new();
        let names: Vec<String> = (0..10)
            .map(|db| format!("db{db:02}"))
            .chain(["old".to_owned()])
            .collect();
        let sql =
            crate::support::quiet_sql_server(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let mut backups = BTreeSet::new();
        let mut prunable = BTreeSet::new();
        // 10 databases × 5 daily fulls of 3 KiB to 2 MiB (log-uniform), all kept.
        for db in 0..10 {
            write!(
                databases,
                "    database \"db{db:02}\" instance=\"i\" {{\n        backup \"full\" every=\"24h\" keep=6 store=\"local\" copy-to=\"offsite\"\n    }}\n"
            )
            .expect("write to a string");
            for day in 0..5 {
                let path = format!(
                    "s/database/db{db:02}/full/db{db:02}_full_{}.bak",
                    stamp(1 + 24 * day)
                );
                // 3 KiB to 1.5 MiB, log-uniform; the newest of db00 is 6 MiB and a bit
                // (large enough for direct I/O, with a tail shorter than a block).
                let size = if db == 0 && day == 0 {
                    (6 << 20) + 1234
                } else {
                    (3 << 10) << rng.below(10) | rng.below(3 << 10)
                };
                write(&root.join("local").join(&path), &rng.bytes(size));
                backups.insert(path);
            }
        }
        // `old` keeps 2 of 4: the newest two are copied, the oldest two pruned.
        for day in 0..4 {
            let path = format!("s/database/old/full/old_full_{}.bak", stamp(2 + 24 * day));
            write(&root.join("local").join(&path), &rng.bytes(64 << 10));
            if day >= 2 {
                prunable.insert(path.clone());
            }
            backups.insert(path);
        }
        for fileset in FILESETS {
            // arch is only pruned: many files, so that deleting a snapshot takes a while.
            let (count, largest) = if fileset == "arch" {
                (1500, 600)
            } else {
                (FILES_PER_FILESET, 6000)
            };
            for n in 0..count {
                let size = 50 + rng.below(largest);
                write(
                    &root.join(format!("src/{fileset}/d{}/f{n}.txt", n % 7)),
                    &rng.bytes(size),
                );
            }
        }
        // fs1 has a day-old snapshot; 1% of its files changed since.
        let previous = format!("s/fileset/fs1/snapshot/fs1_snapshot_{}", stamp(30));
        hand_snapshot(&root.join("src/fs1"), &root.join("local").join(&previous));
        backups.insert(previous);
        for n in 0..2 {
            write(
                &root.join(format!("src/fs1/d{n}/f{n}.txt")),
                &rng.bytes(1000),
            );
        }
        // arch is fresh but keeps 1 of 3: two snapshot directories to prune.
        for day in 0..3 {
            let snapshot = format!(
                "s/fileset/arch/snapshot/arch_snapshot_{}",
                stamp(2 + 24 * day)
            );
            hand_snapshot(&root.join("src/arch"), &root.join("local").join(&snapshot));
            if day >= 1 {
                prunable.insert(snapshot.clone());
            }
            backups.insert(snapshot);
        }
        write(
            &root.join("desired/d.kdl"),
            DESIRED
                .replace("DATABASES", &databases)
                .replace(
                    r#"sql-instance "i" host="sql.example" password-env="PW""#,
                    &crate::support::sql_instance("i", &sql),
                )
                .as_bytes(),
        );
        let mut relative: Vec<String> = files_under(&root.join("local"))
            .into_iter()
            .map(|f| format!("local/{f}"))
            .collect();
        relative.extend(
            files_under(&root.join("src"))
                .into_iter()
                .map(|f| format!("src/{f}")),
        );
        let paths: Vec<PathBuf> = relative.iter().map(|r| root.join(r)).collect();
        let hashes = sha256_many(&paths)
            .into_iter()
            .map(|(path, hash)| {
                let relative = path.strip_prefix(&root).expect("inside");
                (relative.to_str().expect("utf-8").to_owned(), hash)
            })
            .collect();
        Self {
            _dir: dir,
            root,
            hashes,
            backups,
            prunable,
            _sql: sql,
        }
    }

    /// A fresh estate for one trial: the template hard-linked (stores, sources, desired),
    /// an empty offsite store, no state.
    fn estate(&self, base: &Path, trial: usize) -> PathBuf {
        let root = base.join(format!("trial-{trial:03}"));
        link_tree(&self.root, &root);
        fs::create_dir_all(root.join("offsite")).expect("mkdir");
        root
    }

    fn expected(&self, key: &str) -> &str {
        self.hashes
            .get(key)
            .unwrap_or_else(|| panic!("{key} is not a file of the estate"))
    }
}

fn link_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            link_tree(&entry.path(), &target);
        } else {
            fs::hard_link(entry.path(), &target).expect("link");
        }
    }
}

/// What one look at the stores found.
#[derive(Default)]
struct Seen {
    temporaries: Vec<PathBuf>,
    snapshots: usize,
    files: usize,
}

/// Checks every backup under a final name in both stores against its source: a database
/// backup (or its copy) against the template's file; a snapshot's files against the
/// fileset's sources (or, for a snapshot that predates the trial, the template's copy of
/// it), its manifest listing exactly its files, and `sha256sum -c` passing in it. Also that
/// every backup that existed before is still there, unless retention prunes it.
fn check_stores(template: &Template, estate: &Path, when: &str) -> Seen {
    let mut seen = Seen::default();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for store in ["local", "offsite"] {
        let root = estate.join(store);
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).expect("read dir") {
                let entry = entry.expect("entry");
                let path = entry.path();
                let name = entry.file_name().to_str().expect("utf-8").to_owned();
                let relative = path
                    .strip_prefix(&root)
                    .expect("inside")
                    .to_str()
                    .expect("utf-8")
                    .to_owned();
                let kind = entry.file_type().expect("type");
                assert!(!kind.is_symlink(), "{when}: a symbolic link {relative}");
                if name.starts_with(TEMP_PREFIX) {
                    seen.temporaries.push(path);
                } else if kind.is_dir() && path.join(MANIFEST).is_file() {
                    seen.snapshots += 1;
                    files.extend(check_snapshot(template, &path, &relative, when));
                } else if kind.is_dir() {
                    stack.push(path);
                } else {
                    let key = format!("local/{relative}");
                    files.push((path, template.expected(&key).to_owned()));
                }
            }
        }
    }
    seen.files = files.len();
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let actual = sha256_many(&paths);
    for (path, expected) in &files {
        assert_eq!(
            actual.get(path).map(String::as_str),
            Some(expected.as_str()),
            "{when}: {} is not its source's copy",
            path.display()
        );
    }
    for backup in &template.backups {
        let path = estate.join("local").join(backup);
        assert!(
            path.exists() || template.prunable.contains(backup),
            "{when}: {backup} existed before the trial and is gone"
        );
    }
    seen
}

/// The files of one snapshot with the hash each must have; asserts its manifest is whole.
fn check_snapshot(
    template: &Template,
    dir: &Path,
    relative: &str,
    when: &str,
) -> Vec<(PathBuf, String)> {
    let verify = Command::new("sha256sum")
        .args(["-c", "--quiet", "--strict", MANIFEST])
        .current_dir(dir)
        .output()
        .expect("sha256sum runs");
    assert!(
        verify.status.success(),
        "{when}: sha256sum -c fails in {relative}:\n{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let fileset = relative.split('/').nth(2).expect("SITE/fileset/NAME/…");
    // A snapshot from before the trial is checked against the template's copy of it; a new
    // one (or a copy of one) against the fileset's sources.
    let existed = template.backups.contains(relative);
    let source = |file: &str| {
        if existed {
            format!("local/{relative}/{file}")
        } else {
            format!("src/{fileset}/{file}")
        }
    };
    let manifest = fs::read_to_string(dir.join(MANIFEST)).expect("manifest");
    let listed: BTreeSet<&str> = manifest
        .lines()
        .map(|l| l.split_once("  ").expect("manifest line").1)
        .collect();
    let present: Vec<String> = files_under(dir)
        .into_iter()
        .filter(|f| f != MANIFEST)
        .collect();
    assert_eq!(
        listed,
        present.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        "{when}: {relative}: the manifest does not list exactly its files"
    );
    let wanted: BTreeSet<String> = if existed {
        files_under(&template.root.join("local").join(relative))
            .into_iter()
            .filter(|f| f != MANIFEST)
            .collect()
    } else {
        files_under(&template.root.join("src").join(fileset))
            .into_iter()
            .collect()
    };
    assert_eq!(
        present.iter().cloned().collect::<BTreeSet<_>>(),
        wanted,
        "{when}: {relative} does not hold every file of its source"
    );
    present
        .iter()
        .map(|f| (dir.join(f), template.expected(&source(f)).to_owned()))
        .collect()
}

/// The journal's lines, counted by step. A killed apply never leaves half a line: each is
/// one committed row of the state database. Returns (starts, ends).
fn check_journal(estate: &Path, _when: &str) -> (usize, usize) {
    let lines = crate::support::journal(&estate.join("state"));
    let count = |step: &str| lines.iter().filter(|l| l["step"] == step).count();
    (count("start"), count("end"))
}

fn apply_command(estate: &Path, now: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_standby"));
    command
        .args(["apply", "--auto-approve", "--ignore-window", "--now", now])
        .current_dir(estate)
        .env("NO_COLOR", "1")
        .env(
            crate::support::SQL_PASSWORD_ENV,
            crate::support::SQL_PASSWORD,
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn journal_lines(estate: &Path) -> usize {
    crate::support::journal(&estate.join("state")).len()
}

/// When to kill the apply.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// This long after it was started.
    After(Duration),
    /// Once the journal has this many lines, then this many milliseconds more.
    Line(usize, u64),
    /// Once a snapshot of `arch` is being pruned, then this long more.
    Prune(Duration),
}

/// Starts an apply and SIGKILLs it at `moment`; whether it exited on its own first.
fn start_and_kill(estate: &Path, moment: Moment, give_up: Duration) -> (bool, u32) {
    let mut child: Child = apply_command(estate, NOW).spawn().expect("spawn apply");
    let pid = child.id();
    let started = Instant::now();
    match moment {
        Moment::After(delay) => std::thread::sleep(delay),
        Moment::Line(line, extra) => {
            while journal_lines(estate) < line
                && started.elapsed() < give_up
                && child.try_wait().expect("try_wait").is_none()
            {
                std::thread::sleep(Duration::from_micros(250));
            }
            std::thread::sleep(Duration::from_millis(extra));
        }
        Moment::Prune(extra) => {
            let pruning = |l: &serde_json::Value| {
                l["kind"] == "prune-backup"
                    && l["address"] == "s/fileset/arch"
                    && l["step"] == "start"
            };
            while !crate::support::journal(&estate.join("state"))
                .iter()
                .any(pruning)
                && started.elapsed() < give_up
                && child.try_wait().expect("try_wait").is_none()
            {
                std::thread::sleep(Duration::from_micros(250));
            }
            std::thread::sleep(extra);
        }
    }
    let finished = child.try_wait().expect("try_wait").is_some();
    let _ = child.kill();
    child.wait().expect("reap the killed apply");
    (finished, pid)
}

/// Runs the completing apply; a lock left by the killed one must be reported as stale and
/// removable with `force-unlock`. Whether it was.
fn complete(estate: &Path, killed_pid: u32) -> bool {
    let run = |args: &[&str]| -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", LATER]);
        standby(estate, &all)
    };
    let apply = ["apply", "--auto-approve", "--ignore-window"];
    let out = run(&apply);
    if out.status == 0 {
        return false;
    }
    let id = out
        .stderr
        .split("standby force-unlock ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| {
            panic!(
                "the completing apply failed without a stale lock:\n{}\n{}",
                out.stdout, out.stderr
            )
        })
        .to_owned();
    assert!(
        out.stderr.contains("the lock is stale")
            && out.stderr.contains(&format!("(pid {killed_pid})")),
        "{}",
        out.stderr
    );
    let lock: serde_json::Value =
        serde_json::from_slice(&fs::read(estate.join("state/lock")).expect("the stale lock"))
            .expect("the lock is whole JSON");
    assert_eq!(lock["id"], id.as_str());
    assert_eq!(lock["pid"], killed_pid);
    let unlock = standby(estate, &["force-unlock", &id]);
    assert_eq!(unlock.status, 0, "{}", unlock.stderr);
    assert!(
        unlock.stdout.contains(&format!("removed lock {id}")),
        "{}",
        unlock.stdout
    );
    let out = run(&apply);
    assert_eq!(
        out.status, 0,
        "after force-unlock:\n{}\n{}",
        out.stdout, out.stderr
    );
    true
}

#[derive(Default)]
struct Tally {
    before_actions: usize,
    mid_action: usize,
    between_actions: usize,
    after_actions: usize,
    finished: usize,
    mid_prune: usize,
    stale_locks: usize,
    temporaries_left: usize,
}

#[test]
fn apply_killed_at_any_moment_loses_nothing_and_completes_when_run_again() {
    let started = Instant::now();
    let template = Template::new();
    let scratch = scratch_dir();

    // A run nothing interrupts: how long it takes and how many journal lines it writes.
    let estate = template.estate(scratch.path(), 0);
    let clock = Instant::now();
    let status = apply_command(&estate, NOW).status().expect("apply runs");
    let duration = clock.elapsed();
    assert!(status.success(), "the uninterrupted apply fails");
    let (starts, ends) = check_journal(&estate, "uninterrupted");
    assert_eq!(starts, ends);
    let actions = starts;
    assert!(actions >= 60, "{actions} actions");
    let seen = check_stores(&template, &estate, "uninterrupted");
    assert!(seen.temporaries.is_empty(), "{:?}", seen.temporaries);
    assert_eq!(standby(&estate, &["check", "--now", NOW]).status, 0);
    fs::remove_dir_all(&estate).expect("rm");
    let lines = 2 * actions;

    let mut tally = Tally::default();
    for trial in 1..=TRIALS {
        let when = format!("trial {trial}");
        let estate = template.estate(scratch.path(), trial);
        // Odd trials: spread by time over the whole run (startup, discovery and planning
        // included); every eighth: while a snapshot directory is being pruned; other even
        // trials: just after the N-th journal line, spread over all actions.
        let moment = if trial % 8 == 0 {
            let extra = [0, 300, 700, 1500, 3000, 5000, 8000][(trial / 8 - 1) % 7];
            Moment::Prune(Duration::from_micros(extra))
        } else if trial % 2 == 1 {
            let fraction = u32::try_from(trial).expect("small");
            Moment::After(duration * fraction / u32::try_from(TRIALS).expect("small"))
        } else {
            Moment::Line(
                1 + (trial / 2 - 1) * lines / (TRIALS / 2),
                (trial % 4) as u64,
            )
        };
        let (finished, pid) = start_and_kill(&estate, moment, duration * 3);

        // What the crash left: whole files only, every old backup, a readable journal.
        let (starts, ends) = check_journal(&estate, &format!("{when} after the kill"));
        let seen = check_stores(&template, &estate, &format!("{when} after the kill"));
        tally.temporaries_left += usize::from(!seen.temporaries.is_empty());
        if matches!(moment, Moment::Prune(_)) && starts > ends {
            tally.mid_prune += 1;
        }
        if finished {
            tally.finished += 1;
        } else if starts == 0 {
            tally.before_actions += 1;
        } else if starts > ends {
            tally.mid_action += 1;
        } else if ends < actions {
            tally.between_actions += 1;
        } else {
            tally.after_actions += 1;
        }
        tally.stale_locks += usize::from(complete(&estate, pid));

        let when = format!("{when} after the completing run");
        check_journal(&estate, &when);
        let seen = check_stores(&template, &estate, &when);
        assert!(
            seen.temporaries.is_empty(),
            "{when}: temporaries left: {:?}",
            seen.temporaries
        );
        let state_temps: Vec<_> = fs::read_dir(estate.join("state"))
            .expect("state")
            .map(|e| e.expect("entry").file_name())
            .filter(|n| n.to_string_lossy().starts_with(TEMP_PREFIX))
            .collect();
        assert!(state_temps.is_empty(), "{when}: {state_temps:?}");
        for pruned in &template.prunable {
            assert!(
                !estate.join("local").join(pruned).exists(),
                "{when}: {pruned} was not pruned"
            );
        }
        assert!(
            !estate.join("state/lock").exists(),
            "{when}: the lock is not released"
        );
        let check = standby(&estate, &["check", "--now", LATER]);
        assert_eq!(check.status, 0, "{when}:\n{}{}", check.stdout, check.stderr);
        assert!(
            seen.snapshots >= 5 && seen.files > 600,
            "{when}: {} snapshots",
            seen.snapshots
        );
        fs::remove_dir_all(&estate).expect("rm");
    }

    eprintln!(
        "crash: {TRIALS} trials of {actions} actions (uninterrupted apply {:.2}s) in {:.0}s: \
         killed before any action {}, mid-action {} ({} of them pruning a snapshot), between actions {}, after the last action {}, \
         finished before the kill {}; stale lock reported and force-unlocked {}, temporaries left by \
         the kill {} (all cleared)",
        duration.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        tally.before_actions,
        tally.mid_action,
        tally.mid_prune,
        tally.between_actions,
        tally.after_actions,
        tally.finished,
        tally.stale_locks,
        tally.temporaries_left,
    );
    assert!(
        tally.mid_action >= 10,
        "too few kills landed inside an action to mean anything"
    );
}
