//! `snapshot-fileset`: the fileset's selected files into a new snapshot directory with a
//! `MANIFEST.sha256` that `sha256sum -c` accepts. Files unchanged since the previous
//! snapshot (same size and mtime) are hard-linked to it instead of copied.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

use crate::observe::{MANIFEST, Selection};
use crate::state::atomic::{sync_dir, temp_path};

/// What a snapshot holds.
#[derive(Debug)]
pub(super) struct Snapshotted {
    pub(super) files: u64,
    pub(super) bytes: u64,
    pub(super) linked: u64,
    /// The hash of its manifest.
    pub sha256: String,
}

/// Copies `from` to `to` while hashing what it read, through `buffer`. The caller fsyncs
/// the copy ([`sync_all`]).
fn copy_hashing(from: &Path, to: &Path, buffer: &mut [u8]) -> io::Result<String> {
    let mut source = File::open(from)?;
    let mut target = File::create(to)?;
    let mut hasher = Sha256::new();
    loop {
        let n = source.read(buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        target.write_all(&buffer[..n])?;
    }
    if let Ok(modified) = source.metadata().and_then(|m| m.modified()) {
        target.set_modified(modified)?;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// fsyncs every path (files and directories), many at a time: a filesystem commits
/// concurrent fsyncs together, where one after another each waits for a commit of its own.
/// On a snapshot of thousands of files that is most of its time.
pub(super) fn sync_all(paths: &[PathBuf]) -> Result<(), String> {
    const AT_ONCE: usize = 16;
    let next = AtomicUsize::new(0);
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE.min(paths.len()) {
            scope.spawn(|| {
                while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(e) = crate::platform::sync_path(path) {
                        let mut failure = failure.lock().unwrap_or_else(PoisonError::into_inner);
                        failure
                            .get_or_insert_with(|| format!("cannot sync {}: {e}", path.display()));
                        // The others stop at their next path.
                        next.store(paths.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    failure
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .map_or(Ok(()), Err)
}

fn previous_manifest(previous: Option<&Path>) -> HashMap<String, String> {
    let Some(text) = previous.and_then(|p| fs::read_to_string(p.join(MANIFEST)).ok()) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(hash, name)| (name.to_owned(), hash.to_owned()))
        .collect()
}

pub(super) fn snapshot(
    source: &Path,
    selection: &Selection,
    target: &Path,
    previous: Option<&Path>,
) -> Result<Snapshotted, String> {
    let temp = temp_path(target);
    let result = build(source, selection, &temp, previous);
    let made = match result {
        Ok(made) => made,
        Err(e) => {
            let _ = fs::remove_dir_all(&temp);
            return Err(e);
        }
    };
    fs::rename(&temp, target).map_err(|e| {
        let _ = fs::remove_dir_all(&temp);
        format!("cannot rename into {}: {e}", target.display())
    })?;
    if let Some(parent) = target.parent() {
        sync_dir(parent).map_err(|e| format!("cannot sync {}: {e}", parent.display()))?;
    }
    Ok(made)
}

fn build(
    source: &Path,
    selection: &Selection,
    temp: &Path,
    previous: Option<&Path>,
) -> Result<Snapshotted, String> {
    let known = previous_manifest(previous);
    let mut manifest: Vec<(String, String)> = Vec::new();
    let mut dirs = vec![temp.to_path_buf()];
    let mut known_dirs: HashSet<PathBuf> = HashSet::new();
    // Files copied, fsynced together at the end with the directories.
    let mut written: Vec<PathBuf> = Vec::new();
    let mut buffer = vec![0; 256 << 10];
    let (mut bytes, mut linked) = (0, 0);
    fs::create_dir_all(temp).map_err(|e| format!("cannot create {}: {e}", temp.display()))?;
    let mut failure = None;
    let walked = crate::observe::walk_tree(source, |relative, metadata| {
        if failure.is_some() || !selection.selects(relative) {
            return;
        }
        let from = source.join(relative);
        let to = temp.join(relative);
        // Each directory is looked at once, not once per file in it; every one created is
        // fsynced at the end (intermediate ones too: their entries must last as well).
        if let Some(parent) = to.parent()
            && known_dirs.insert(parent.to_path_buf())
            && !parent.exists()
        {
            let created: Vec<PathBuf> = parent
                .ancestors()
                .take_while(|a| !a.exists())
                .map(Path::to_path_buf)
                .collect();
            if let Err(e) = fs::create_dir_all(parent) {
                failure = Some(format!("cannot create {}: {e}", parent.display()));
                return;
            }
            dirs.extend(created.into_iter().rev());
        }
        let unchanged = previous.zip(known.get(relative)).and_then(|(prev, hash)| {
            let old = prev.join(relative);
            let meta = fs::symlink_metadata(&old).ok()?;
            let same = meta.is_file()
                && meta.len() == metadata.len()
                && meta.modified().ok() == metadata.modified().ok();
            same.then(|| (old, hash.clone()))
        });
        let outcome = match unchanged {
            Some((old, hash)) => fs::hard_link(&old, &to).map(|()| {
                linked += 1;
                hash
            }),
            None => copy_hashing(&from, &to, &mut buffer).inspect(|_| written.push(to.clone())),
        };
        match outcome {
            Ok(hash) => {
                bytes += metadata.len();
                manifest.push((relative.to_owned(), hash));
            }
            Err(e) => failure = Some(format!("cannot copy {}: {e}", from.display())),
        }
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    let unreadable = walked.map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    if let Some(part) = unreadable.first() {
        return Err(format!(
            "cannot read {}/{}: {}",
            source.display(),
            part.path,
            part.error
        ));
    }
    manifest.sort();
    let text = manifest
        .iter()
        .fold(String::new(), |mut text, (name, hash)| {
            text.push_str(hash);
            text.push_str("  ");
            text.push_str(name);
            text.push('\n');
            text
        });
    let manifest_path = temp.join(MANIFEST);
    let mut file = File::create(&manifest_path)
        .map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;
    drop(file);
    // Everything, files and directories, is on disk before the snapshot is renamed into place.
    written.push(manifest_path);
    written.extend(dirs);
    sync_all(&written)?;
    Ok(Snapshotted {
        files: manifest.len() as u64,
        bytes,
        linked,
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
    })
}
