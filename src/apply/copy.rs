//! `copy-backup`: a backup file or snapshot directory into another store, crash-safe:
//! temporary name in the destination directory, fsync, SHA-256 checked, rename.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use crate::observe::{MANIFEST, hash};
use crate::state::atomic::{sync_dir, temp_path};

/// Copies one file's bytes (the kernel's `copy_file_range` where it can) and fsyncs it.
fn copy_file(from: &Path, to: &Path) -> io::Result<u64> {
    let mut source = File::open(from)?;
    let mut target = File::create(to)?;
    let bytes = io::copy(&mut source, &mut target)?;
    if let Ok(modified) = source.metadata().and_then(|m| m.modified()) {
        let _ = target.set_modified(modified);
    }
    target.sync_all()?;
    Ok(bytes)
}

/// Copies a directory tree (no symbolic links followed), fsyncing files and directories.
fn copy_tree(from: &Path, to: &Path) -> io::Result<u64> {
    fs::create_dir_all(to)?;
    let mut bytes = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            bytes += copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            bytes += copy_file(&entry.path(), &target)?;
        }
    }
    sync_dir(to)?;
    Ok(bytes)
}

/// What a finished copy wrote.
#[derive(Debug)]
pub(super) struct Copied {
    pub(super) bytes: u64,
    /// The file's hash, or a snapshot's manifest hash.
    pub sha256: String,
}

/// Copies `from` to `to`. `expected` is the source's recorded hash; without it the source
/// is hashed first. A copy whose hash differs is deleted, never renamed into place.
pub(super) fn copy(from: &Path, to: &Path, expected: Option<&str>) -> Result<Copied, String> {
    let parent = to
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", to.display()))?;
    fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let temp = temp_path(to);
    let result = (|| {
        let meta = fs::symlink_metadata(from)
            .map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        if meta.is_dir() {
            copy_tree(from, &temp).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
            let (sha256, bad) =
                hash::verify_snapshot(&temp).map_err(|e| format!("cannot check the copy: {e}"))?;
            if !bad.is_empty() {
                return Err(format!(
                    "the copy of {} does not match its {MANIFEST}: {}",
                    from.display(),
                    bad.join(", ")
                ));
            }
            if let Some(expected) = expected.filter(|e| *e != sha256) {
                return Err(format!(
                    "the copied manifest hashes to {sha256}, expected {expected}"
                ));
            }
            let bytes = meta.len();
            replace_dir(&temp, to)?;
            Ok(Copied { bytes, sha256 })
        } else if meta.is_file() {
            let expected = match expected {
                Some(e) => e.to_owned(),
                None => hash::sha256_file(from)
                    .map_err(|e| format!("cannot read {}: {e}", from.display()))?,
            };
            let bytes = copy_file(from, &temp)
                .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
            let sha256 =
                hash::sha256_file(&temp).map_err(|e| format!("cannot read back the copy: {e}"))?;
            if sha256 != expected {
                return Err(format!("the copy hashes to {sha256}, expected {expected}"));
            }
            fs::rename(&temp, to)
                .map_err(|e| format!("cannot rename into {}: {e}", to.display()))?;
            Ok(Copied { bytes, sha256 })
        } else {
            Err(format!(
                "{} is neither a file nor a directory",
                from.display()
            ))
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
        let _ = fs::remove_dir_all(&temp);
    }
    let copied = result?;
    sync_dir(parent).map_err(|e| format!("cannot sync {}: {e}", parent.display()))?;
    Ok(copied)
}

/// Renames a finished directory into place; an existing one (a bad copy being replaced) is
/// moved aside first and removed only after the new one is in place.
fn replace_dir(temp: &Path, to: &Path) -> Result<(), String> {
    if fs::symlink_metadata(to).is_ok() {
        let old = temp_path(&to.with_extension("old"));
        fs::rename(to, &old)
            .map_err(|e| format!("cannot move the old {} aside: {e}", to.display()))?;
        fs::rename(temp, to).map_err(|e| format!("cannot rename into {}: {e}", to.display()))?;
        let _ = fs::remove_dir_all(&old);
        return Ok(());
    }
    fs::rename(temp, to).map_err(|e| format!("cannot rename into {}: {e}", to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_verifies_and_leaves_no_temporary() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let from = dir.path().join("a/x.bak");
        fs::create_dir_all(dir.path().join("a"))?;
        fs::write(&from, b"backup")?;
        let to = dir.path().join("b/deep/x.bak");
        let copied = copy(&from, &to, None)?;
        assert_eq!(fs::read(&to)?, b"backup");
        assert_eq!(copied.sha256, hash::sha256_file(&from)?);
        assert_eq!(fs::read_dir(dir.path().join("b/deep"))?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_wrong_expected_hash_keeps_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let from = dir.path().join("x.bak");
        fs::write(&from, b"backup")?;
        let to = dir.path().join("out/x.bak");
        assert!(copy(&from, &to, Some(&"0".repeat(64))).is_err());
        assert!(!to.exists());
        assert_eq!(fs::read_dir(dir.path().join("out"))?.count(), 0);
        Ok(())
    }
}
