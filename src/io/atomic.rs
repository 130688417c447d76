//! Crash-safe file writes: temporary name in the same directory, fsync, rename, fsync the
//! directory. A reader sees the old file or the new one, never half of one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::layout::{temp_owner, temp_path};

/// Writes `bytes` to `target` atomically, creating its directory when missing.
pub fn write(target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(target, |file| file.write_all(bytes))
}

/// Writes what `fill` writes to `target` atomically, through a buffer: a large file (the
/// observation of a big deployment is hundreds of MB) never sits in memory whole.
pub fn write_with(
    target: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temp = temp_path(target);
    let result = (|| {
        let mut buffered = BufWriter::with_capacity(1 << 20, File::create(&temp)?);
        fill(&mut buffered)?;
        let written = buffered
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        written.sync_all()?;
        fs::rename(&temp, target)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Removes what a standby process that no longer runs left in `dir` under a temporary name
/// (it was killed between writing and renaming). Temporaries of running processes, this
/// one included, are left alone. Returns what it removed; a missing `dir` is empty.
pub fn remove_stale_temps(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(pid) = entry.file_name().to_str().and_then(temp_owner) else {
            continue;
        };
        if pid == std::process::id() || crate::platform::process_alive(pid) {
            continue;
        }
        let path = entry.path();
        // `file_type` does not follow a symbolic link: a link is removed, not its target.
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
        removed.push(path);
    }
    if !removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    crate::platform::sync_dir(dir)
}

/// fsyncs every path (files and directories), many at a time: a filesystem commits
/// concurrent fsyncs together, where one after another each waits for a commit of its own.
/// On a snapshot of thousands of files that is most of its time.
pub fn sync_all(paths: &[PathBuf]) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::TEMP_PREFIX;

    #[test]
    fn writes_the_whole_file_and_leaves_no_temporary() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("sub/observed.json");
        write(&target, b"one")?;
        write(&target, b"two")?;
        assert_eq!(fs::read(&target)?, b"two");
        write_with(&target, |out| {
            out.write_all(b"thr")?;
            out.write_all(b"ee")
        })?;
        assert_eq!(fs::read(&target)?, b"three");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, vec![std::ffi::OsString::from("observed.json")]);
        Ok(())
    }

    #[test]
    fn removes_only_the_temporaries_of_processes_that_are_gone() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let dead = u32::MAX - 1;
        let gone = dir.path().join(format!("{TEMP_PREFIX}{dead}-x.bak"));
        let gone_dir = dir.path().join(format!("{TEMP_PREFIX}{dead}-snap"));
        fs::write(&gone, b"half")?;
        fs::create_dir_all(gone_dir.join("sub"))?;
        fs::write(gone_dir.join("sub/f"), b"half")?;
        let mine = temp_path(&dir.path().join("y.bak"));
        fs::write(&mine, b"busy")?;
        fs::write(dir.path().join("x.bak"), b"whole")?;
        let mut removed = remove_stale_temps(dir.path())?;
        removed.sort();
        let mut expected = vec![gone, gone_dir];
        expected.sort();
        assert_eq!(removed, expected);
        let mut names: Vec<_> = fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        names.sort();
        assert_eq!(names, vec![mine, dir.path().join("x.bak")]);
        assert!(remove_stale_temps(&dir.path().join("missing"))?.is_empty());
        Ok(())
    }
}
