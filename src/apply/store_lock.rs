//! `.standby-lock` at each store root: taken for writing by every `apply`, whatever its state
//! directory, so two runs with different state directories never write the same stores at
//! once. An advisory `flock`: the kernel releases it when the holder exits, however it
//! exits, so it is never stale. The holder removes the file when done (a waiter that then
//! holds a removed file sees it and tries again); one left by a killed apply is harmless.
//! Its content names the holder, for the message a waiting apply gives.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::layout::STORE_LOCK;

/// Locks held until dropped; dropping removes each lock file, then releases it.
#[derive(Debug)]
pub struct StoreLocks {
    held: Vec<(PathBuf, File)>,
}

impl Drop for StoreLocks {
    fn drop(&mut self) {
        for (path, _file) in &self.held {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Takes the lock of every store root that exists, in a fixed order (so two applies never
/// hold one each and wait for the other), waiting up to `timeout` for each. A root that
/// does not exist is skipped: nothing can be written there.
pub fn lock_stores<'a>(
    roots: impl IntoIterator<Item = &'a Path>,
    who: &str,
    timeout: Duration,
) -> Result<StoreLocks, String> {
    let mut roots: Vec<PathBuf> = roots
        .into_iter()
        .filter(|root| root.is_dir())
        .map(Path::to_path_buf)
        .collect();
    roots.sort();
    roots.dedup();
    let mut held = Vec::new();
    for root in roots {
        let file = lock_one(&root, who, timeout)?;
        held.push((root.join(STORE_LOCK), file));
    }
    Ok(StoreLocks { held })
}

fn lock_one(root: &Path, who: &str, timeout: Duration) -> Result<File, String> {
    let path = root.join(STORE_LOCK);
    let fail = |e: std::io::Error| format!("cannot take {}: {e}", path.display());
    let started = Instant::now();
    let mut file = loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(fail)?;
        // Locked, and still the file at that name (its last holder did not remove it meanwhile).
        if try_lock(&file).map_err(fail)? && same_file(&file, &path) {
            break file;
        }
        if started.elapsed() >= timeout {
            let mut holder = String::new();
            let _ = (&file).read_to_string(&mut holder);
            return Err(format!(
                "store {} is being written by another apply ({}); wait for it to finish, or pass --lock-timeout",
                root.display(),
                holder.trim()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{who}"))
        .map_err(fail)?;
    Ok(file)
}

/// Whether `file` is what `path` names now.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Takes the exclusive lock without waiting: `false` when another holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Elsewhere the standard library's lock (`LockFileEx` on Windows); the system releases it
/// however the holder ends.
#[cfg(not(unix))]
fn try_lock(file: &File) -> std::io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_and_gives_up_naming_the_first() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let first = lock_stores([dir.path()], "first@here pid 1", Duration::ZERO)
            .map_err(std::io::Error::other)?;
        let second = lock_stores([dir.path()], "second", Duration::from_millis(200));
        let message = second.err().unwrap_or_default();
        assert!(message.contains("first@here pid 1"), "{message}");
        drop(first);
        assert!(
            !dir.path().join(STORE_LOCK).exists(),
            "released and removed"
        );
        assert!(lock_stores([dir.path()], "second", Duration::ZERO).is_ok());
        Ok(())
    }
}
