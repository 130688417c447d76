//! `apply` on a file system that changes underneath it (issue 20): directories swapped for
//! symbolic links while prunes run, final names that already exist, a store shared by two
//! state directories, odd source files, modes.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::support::{Output, standby, standby_with};

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
    settings "global" level="global" every="24h" keep=KEEP store="local" {
        export "sh" "-c" "printf '<settings/>' > \"$1\"" "export" "{file}"
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
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for d in ["desired", "local", "offsite", "src/sub"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        fs::write(
            root.join("desired/d.kdl"),
            DESIRED.replace("KEEP", &keep.to_string()),
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
fn swapper(a: PathBuf, b: PathBuf, stop: Arc<AtomicBool>, swaps: Arc<AtomicU64>) {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    while !stop.load(Ordering::Relaxed) {
        if renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).is_ok() {
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
        std::thread::spawn(move || swapper(a, b, stop, swaps))
    };
    let mut pruned = 0;
    for _ in 0..4 {
        let out = estate.run(&[
            "apply",
            "--auto-approve",
            "--target",
            "s/settings",
            "--continue-on-error",
        ]);
        pruned += out.stderr.matches("prune-backup").count();
    }
    stop.store(true, Ordering::Relaxed);
    thread.join().expect("swapper");
    assert!(swaps.load(Ordering::Relaxed) > 100, "the swapper swapped");
    assert!(pruned > 0, "prunes ran while the directory was swapped");
    let left = names(&victim);
    assert_eq!(
        left.len(),
        BACKUPS as usize,
        "files outside the store were deleted: {} of {BACKUPS} left",
        left.len()
    );
}
