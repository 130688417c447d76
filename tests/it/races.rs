//! `apply` on a file system that changes underneath it (issue 20): directories swapped for
//! symbolic links while prunes run, final names that already exist, a store shared by two
//! state directories, odd source files, modes.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
    settings "global" level="global" every="24h" keep=KEEP store="local" copy-to="offsite" {
        export "sh" "-c" "EXPORT" "export" "{file}"
    }
    fileset "files" path="../src" every="24h" keep=2 store="local" copy-to="offsite"
}
"#;

struct Estate {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Estate {
    fn new(keep: u32) -> Self {
        Self::with_export(keep, "printf '<settings/>' > \\\"$1\\\"")
    }

    fn with_export(keep: u32, export: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for d in ["desired", "local", "offsite", "src/sub"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        fs::write(
            root.join("desired/d.kdl"),
            DESIRED
                .replace("KEEP", &keep.to_string())
                .replace("EXPORT", export),
        )
        .expect("write");
        fs::write(root.join("src/a.txt"), "meeting content").expect("write");
        fs::write(root.join("src/sub/b.txt"), "more content").expect("write");
        Self { _dir: dir, root }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", NOW]);
        standby(&self.root, &all)
    }

    fn run_at(&self, now: &str, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", now]);
        standby(&self.root, &all)
    }

    fn snapshot(&self, store: &str, stamp: &str) -> PathBuf {
        self.root.join(format!(
            "{store}/s/fileset/files/snapshot/files_snapshot_{stamp}"
        ))
    }

    fn exports(&self) -> PathBuf {
        self.root.join("local/s/settings/global/export")
    }
}

/// The name of the `i`-th settings export before `NOW`, one hour apart.
fn export_name(i: u32) -> String {
    let now: jiff::Timestamp = NOW.parse().expect("time");
    let at = now
        .checked_sub(jiff::SignedDuration::from_hours(i64::from(i) + 1))
        .expect("time");
    format!("global_export_{}.xml", at.strftime("%Y%m%dT%H%M%SZ"))
}

/// Swaps two paths with `renameat2(RENAME_EXCHANGE)` as fast as it can until stopped.
fn swapper(a: &Path, b: &Path, stop: &AtomicBool, swaps: &AtomicU64) {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    while !stop.load(Ordering::Relaxed) {
        if renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).is_ok() {
            swaps.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn prunes_racing_a_directory_swapped_for_a_link_delete_nothing_outside_the_store() {
    const BACKUPS: u32 = 150;
    let estate = Estate::new(1);
    let exports = estate.exports();
    let victim = estate.root.join("victim");
    fs::create_dir_all(&exports).expect("mkdir");
    fs::create_dir_all(&victim).expect("mkdir");
    for i in 0..BACKUPS {
        fs::write(exports.join(export_name(i)), "backup").expect("write");
        // Files outside every store, named like the backups prune will delete.
        fs::write(victim.join(export_name(i)), "not yours").expect("write");
    }
    let link = estate.root.join("local/s/settings/global/swap");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let thread = {
        let (a, b, stop, swaps) = (exports.clone(), link.clone(), stop.clone(), swaps.clone());
        std::thread::spawn(move || swapper(&a, &b, &stop, &swaps))
    };
    let mut pruned = 0;
    let mut outputs = String::new();
    // An apply that observes the store while the directory is swapped out sees no backups
    // (and plans an export, whose write then fails): at least 4 runs, and on until prunes ran.
    for run in 0..16 {
        if run >= 4 && pruned > 0 {
            break;
        }
        let out = estate.run(&[
            "apply",
            "--auto-approve",
            "--target",
            "s/settings",
            "--continue-on-error",
        ]);
        pruned += out.stderr.matches("prune-backup").count();
        outputs.push_str(&out.stdout);
        outputs.push_str(&out.stderr);
    }
    stop.store(true, Ordering::Relaxed);
    thread.join().expect("swapper");
    assert!(swaps.load(Ordering::Relaxed) > 100, "the swapper swapped");
    assert!(
        pruned > 0,
        "prunes ran while the directory was swapped: {outputs}"
    );
    let left = names(&victim);
    assert_eq!(
        left.len(),
        BACKUPS as usize,
        "files outside the store were deleted: {} of {BACKUPS} left",
        left.len()
    );
}

/// The finding codes of `check --format json`, as `(address, code)`, with their messages.
fn findings(out: &Output) -> Vec<(String, String, String)> {
    out.json()["findings"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|f| {
                    let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
                    (text("address"), text("code"), text("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_differing_copy_is_a_mismatch_kept_as_evidence_never_replaced() {
    // While the export runs (after the plan, before the copy), a differing file appears under
    // the final name the copy is about to take in the offsite store.
    let offsite_dir = "ROOT/offsite/s/settings/global/export";
    let estate = Estate::with_export(
        2,
        &format!(
            "printf '<settings/>' > \\\"$1\\\"; mkdir -p {offsite_dir}; printf evidence > {offsite_dir}/global_export_20261122T030000Z.xml"
        ),
    );
    let desired = estate.root.join("desired/d.kdl");
    let text = fs::read_to_string(&desired).expect("read");
    fs::write(
        &desired,
        text.replace("ROOT", &estate.root.display().to_string()),
    )
    .expect("write");
    let offsite = estate
        .root
        .join("offsite/s/settings/global/export/global_export_20261122T030000Z.xml");

    let out = estate.run(&["apply", "--auto-approve", "--target", "s/settings"]);
    assert_eq!(out.status, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("copy-mismatch") && out.stderr.contains("never replaced"),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_to_string(&offsite).expect("kept"), "evidence");
    assert_eq!(
        fs::read_to_string(estate.exports().join("global_export_20261122T030000Z.xml"))
            .expect("the export itself is in place"),
        "<settings/>"
    );

    // Reported, and still never replaced, by this apply or the next.
    let check = estate.run(&["check", "--format", "json", "--target", "s/settings"]);
    assert_eq!(check.status, 2, "{}", check.stdout);
    let mismatch = &check.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "copy-mismatch")
        .cloned()
        .unwrap_or_else(|| panic!("no copy-mismatch: {}", check.stdout));
    assert_eq!(mismatch["severity"], "critical");
    let again = estate.run(&["apply", "--auto-approve", "--target", "s/settings"]);
    assert!(!again.stdout.contains("copy-backup"), "{}", again.stdout);
    assert_eq!(fs::read_to_string(&offsite).expect("kept"), "evidence");
}

#[test]
fn two_state_directories_never_replace_each_others_backups() {
    // Each export writes something of its own and takes a while: the two runs overlap.
    let estate = Estate::with_export(2, "sleep 1; printf \\\"<settings pid=$$/>\\\" > \\\"$1\\\"");
    let run = |state: &str| {
        let root = estate.root.clone();
        let state = state.to_owned();
        std::thread::spawn(move || {
            standby(
                &root,
                &[
                    "apply",
                    "--auto-approve",
                    "--target",
                    "s/settings",
                    "--state",
                    &state,
                    "--lock-timeout",
                    "60s",
                    "--now",
                    NOW,
                ],
            )
        })
    };
    let (a, b) = (run("state-a"), run("state-b"));
    let (a, b) = (a.join().expect("a"), b.join().expect("b"));
    assert_eq!(a.status, 0, "{}\n{}", a.stdout, a.stderr);
    assert_eq!(b.status, 0, "{}\n{}", b.stdout, b.stderr);
    let exported = names(&estate.exports());
    assert_eq!(exported.len(), 1, "one export, made once: {exported:?}");
    for state in ["state-a", "state-b"] {
        let check = estate.run(&["check", "--state", state, "--target", "s/settings"]);
        assert_eq!(
            check.status, 0,
            "{state}: {}\n{}",
            check.stdout, check.stderr
        );
    }
}

#[test]
fn one_bad_source_entry_is_skipped_with_its_reason_and_the_snapshot_is_incomplete() {
    use std::os::unix::ffi::OsStrExt as _;
    let estate = Estate::new(2);
    let bad = std::ffi::OsStr::from_bytes(b"bad-\xff-name.txt");
    fs::write(estate.root.join("src").join(bad), "unnamed").expect("write");
    let out = estate.run(&["apply", "--auto-approve", "--target", "s/fileset"]);
    assert!(out.stderr.contains("INCOMPLETE"), "{}", out.stderr);
    let snapshot = estate.snapshot("local", "20261122T030000Z");
    assert_eq!(
        fs::read_to_string(snapshot.join("a.txt")).expect("snapshotted"),
        "meeting content"
    );
    assert!(snapshot.join("sub/b.txt").is_file());
    let skipped = fs::read_to_string(snapshot.join("SKIPPED")).expect("SKIPPED");
    assert!(
        skipped.contains("bad-") && skipped.contains("not UTF-8"),
        "{skipped}"
    );
    let journal = crate::support::journal(&estate.root.join("state"));
    assert!(
        journal.iter().any(|l| l["kind"] == "snapshot-fileset"
            && l["step"] == "end"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.contains("INCOMPLETE"))),
        "{journal:?}"
    );
    let check = estate.run(&["check", "--format", "json", "--target", "s/fileset"]);
    assert_eq!(check.status, 2, "{}", check.stdout);
    assert!(
        findings(&check)
            .iter()
            .any(|(a, c, m)| a == "s/fileset/files"
                && c == "source-unreachable"
                && m.contains("incomplete")),
        "{}",
        check.stdout
    );
    // The worksheet (from the saved observation) never calls that snapshot complete.
    let discovered = estate.run(&["discover"]);
    assert_eq!(discovered.status, 0, "{}", discovered.stderr);
    let sheet = estate.run(&["worksheet"]);
    assert_eq!(sheet.status, 0, "{}", sheet.stderr);
    let rows: Vec<&str> = sheet
        .stdout
        .lines()
        .filter(|l| l.contains("s/fileset/files"))
        .collect();
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|r| r.contains("incomplete") && r.contains("not UTF-8")),
        "{rows:?}"
    );
}

#[test]
fn a_source_deeper_than_path_max_is_snapshotted_whole() {
    let estate = Estate::new(2);
    let segment = "d".repeat(200);
    let mut deep = estate.root.join("src");
    for _ in 0..24 {
        deep.push(&segment);
    }
    // Made relative to handles: the full path is longer than PATH_MAX.
    let mut dir = rustix::fs::open(
        estate.root.join("src"),
        rustix::fs::OFlags::DIRECTORY,
        rustix::fs::Mode::empty(),
    )
    .expect("open");
    for _ in 0..24 {
        rustix::fs::mkdirat(
            &dir,
            segment.as_str(),
            rustix::fs::Mode::from_raw_mode(0o755),
        )
        .expect("mkdir");
        dir = rustix::fs::openat(
            &dir,
            segment.as_str(),
            rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .expect("open");
    }
    let file = rustix::fs::openat(
        &dir,
        "deep.txt",
        rustix::fs::OFlags::CREATE | rustix::fs::OFlags::WRONLY,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
    .expect("create");
    rustix::io::write(&file, b"deep content").expect("write");
    assert!(deep.as_os_str().len() > 4096);
    let out = estate.run(&["apply", "--auto-approve", "--target", "s/fileset"]);
    // No action failed. (Discovery's own look at the source still walks by path and warns
    // about the deep directory, so the run is not in sync: exit 2.)
    assert_ne!(out.status, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("failed   a"), "{}", out.stdout);
    let manifest = fs::read_to_string(
        estate
            .snapshot("local", "20261122T030000Z")
            .join("MANIFEST.sha256"),
    )
    .expect("manifest");
    assert!(manifest.contains("/deep.txt"), "{manifest}");
}

#[test]
fn sparse_files_stay_sparse_and_hash_as_their_content() {
    use std::os::unix::fs::MetadataExt as _;
    const LENGTH: u64 = 256 << 20;
    let estate = Estate::new(2);
    let sparse = estate.root.join("src/sparse.img");
    {
        use std::io::{Seek, Write};
        let mut file = fs::File::create(&sparse).expect("create");
        file.write_all(b"head").expect("write");
        file.seek(std::io::SeekFrom::Start(LENGTH - 4))
            .expect("seek");
        file.write_all(b"tail").expect("write");
    }
    assert!(
        fs::metadata(&sparse).expect("meta").blocks() * 512 < LENGTH / 4,
        "made sparse"
    );
    let out = estate.run(&["apply", "--auto-approve", "--target", "s/fileset"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    let expected = {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"head");
        let zeros = vec![0_u8; 1 << 20];
        let mut left = LENGTH - 8;
        while left > 0 {
            let n = left.min(zeros.len() as u64);
            hasher.update(&zeros[..usize::try_from(n).expect("small")]);
            left -= n;
        }
        hasher.update(b"tail");
        hex::encode(hasher.finalize())
    };
    for store in ["local", "offsite"] {
        let snapshot = estate.snapshot(store, "20261122T030000Z");
        let copy = fs::metadata(snapshot.join("sparse.img")).expect("copied");
        assert_eq!(copy.len(), LENGTH, "{store}");
        assert!(
            copy.blocks() * 512 < LENGTH / 4,
            "{store}: the copy is dense ({} blocks)",
            copy.blocks()
        );
        let manifest = fs::read_to_string(snapshot.join("MANIFEST.sha256")).expect("manifest");
        assert!(
            manifest.contains(&format!("{expected}  sparse.img")),
            "{store}: {manifest}"
        );
    }
}

#[test]
fn verify_changed_sees_a_truncated_or_missing_file_inside_a_snapshot() {
    let estate = Estate::new(2);
    let out = estate.run(&["apply", "--auto-approve", "--target", "s/fileset"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(estate.run(&["check", "--target", "s/fileset"]).status, 0);
    // In the primary: truncated to nothing, its mtime put back.
    let file = estate.snapshot("local", "20261122T030000Z").join("a.txt");
    let mtime = fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| {
            f.set_len(0)?;
            f.set_modified(mtime)
        })
        .expect("truncate");
    // In the offsite copy: one file gone.
    fs::remove_file(
        estate
            .snapshot("offsite", "20261122T030000Z")
            .join("sub/b.txt"),
    )
    .expect("rm");
    let check = estate.run(&["check", "--format", "json", "--target", "s/fileset"]);
    assert_eq!(check.status, 2, "{}", check.stdout);
    let found = findings(&check);
    for store in ["local", "offsite"] {
        assert!(
            found
                .iter()
                .any(|(_, c, m)| c == "backup-corrupt" && m.contains(&format!("store `{store}`"))),
            "{store}: {found:?}"
        );
    }
    assert!(
        !found.iter().any(|(_, c, _)| c == "copy-mismatch"),
        "the good side is not blamed: {found:?}"
    );
}

#[test]
fn offsite_snapshot_copies_link_unchanged_files_to_the_previous_copy() {
    use std::os::unix::fs::MetadataExt as _;
    let estate = Estate::new(2);
    let first = estate.run_at(
        "2026-11-21T03:00:00Z",
        &["apply", "--auto-approve", "--target", "s/fileset"],
    );
    assert_eq!(first.status, 0, "{}\n{}", first.stdout, first.stderr);
    fs::write(estate.root.join("src/a.txt"), "changed content").expect("write");
    let later = "2026-11-22T04:00:00Z";
    let second = estate.run_at(later, &["apply", "--auto-approve", "--target", "s/fileset"]);
    assert_eq!(second.status, 0, "{}\n{}", second.stdout, second.stderr);
    let inode = |store: &str, stamp: &str, file: &str| {
        fs::metadata(estate.snapshot(store, stamp).join(file))
            .expect("copied")
            .ino()
    };
    for store in ["local", "offsite"] {
        assert_eq!(
            inode(store, "20261121T030000Z", "sub/b.txt"),
            inode(store, "20261122T040000Z", "sub/b.txt"),
            "{store}: the unchanged file is linked"
        );
        assert_ne!(
            inode(store, "20261121T030000Z", "a.txt"),
            inode(store, "20261122T040000Z", "a.txt"),
            "{store}: the changed file is copied"
        );
    }
    assert_eq!(
        fs::read_to_string(estate.snapshot("offsite", "20261122T040000Z").join("a.txt"))
            .expect("copied"),
        "changed content"
    );
    let check = estate.run_at(
        later,
        &["check", "--verify", "full", "--target", "s/fileset"],
    );
    assert_eq!(check.status, 0, "{}", check.stdout);
}

#[test]
fn copies_and_snapshots_keep_the_source_mode_never_wider() {
    use std::os::unix::fs::PermissionsExt as _;
    let estate = Estate::new(2);
    let mode = |path: &Path| fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    let set = |path: &Path, bits: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(bits)).expect("chmod");
    };
    set(&estate.root.join("src/a.txt"), 0o600);
    set(&estate.root.join("src/sub"), 0o700);
    let relative = format!("s/settings/global/export/{}", export_name(0));
    fs::create_dir_all(estate.exports()).expect("mkdir");
    fs::write(estate.root.join("local").join(&relative), "<settings/>").expect("write");
    set(&estate.root.join("local").join(&relative), 0o600);
    let out = estate.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(mode(&estate.root.join("offsite").join(&relative)), 0o600);
    for store in ["local", "offsite"] {
        let snapshot = estate.snapshot(store, "20261122T030000Z");
        assert_eq!(mode(&snapshot.join("a.txt")), 0o600, "{store}");
        assert_eq!(mode(&snapshot.join("sub")), 0o700, "{store}");
    }
}

#[test]
fn apply_that_cannot_reach_a_store_fails() {
    let estate = Estate::new(2);
    fs::remove_dir_all(estate.root.join("local")).expect("rm");
    let out = estate.run(&["apply", "--auto-approve"]);
    // Not in sync (exit 2, never 0), naming the store it could not reach.
    assert_eq!(out.status, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("source-unreachable") && out.stdout.contains("local"),
        "{}",
        out.stdout
    );
}
