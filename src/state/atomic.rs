//! Crash-safe file writes: temporary name in the same directory, fsync, rename, fsync the
//! directory. A reader sees the old file or the new one, never half of one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temporary name standby writes under before a rename; discovery recognises it.
pub const TEMP_PREFIX: &str = ".standby-tmp-";

pub fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "unnamed".into(), |n| n.to_string_lossy().into_owned());
    target.with_file_name(format!("{TEMP_PREFIX}{}-{name}", std::process::id()))
}

/// Writes `bytes` to `target` atomically, creating its directory when missing.
pub fn write(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temp = temp_path(target);
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, target)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_whole_file_and_leaves_no_temporary() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("sub/observed.json");
        write(&target, b"one")?;
        write(&target, b"two")?;
        assert_eq!(fs::read(&target)?, b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, vec![std::ffi::OsString::from("observed.json")]);
        Ok(())
    }
}
