//! `snapshot-fileset`: the fileset's selected files into a new snapshot directory with a
//! `MANIFEST.sha256` that `sha256sum -c` accepts. Files unchanged since the previous
//! snapshot (same size and mtime) are hard-linked to it instead of copied.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::io::atomic::{sync_all, sync_dir};
use crate::io::meter;
use crate::layout::MANIFEST;
use crate::layout::temp_path;
use crate::observe::Selection;

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
        meter::advance(n as u64);
    }
    if let Ok(modified) = source.metadata().and_then(|m| m.modified()) {
        target.set_modified(modified)?;
    }
    Ok(hex::encode(hasher.finalize()))
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
    let walked = crate::io::walk::walk_tree(source, |relative, metadata| {
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
