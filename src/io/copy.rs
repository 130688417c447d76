//! `copy-backup`: a backup file or snapshot directory into another store, crash-safe:
//! temporary name in the destination directory, fsync, SHA-256 checked, rename.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use crate::io::atomic::sync_dir;
use crate::io::{hash, meter};
use crate::layout::MANIFEST;
use crate::layout::temp_path;
use crate::platform;

/// Copies one file's bytes (the kernel's `copy_file_range` where it can); the caller
/// fsyncs it.
fn copy_file(from: &Path, to: &Path) -> io::Result<u64> {
    let mut source = File::open(from)?;
    let mut target = File::create(to)?;
    let bytes = io::copy(&mut source, &mut target)?;
    if let Ok(modified) = source.metadata().and_then(|m| m.modified()) {
        let _ = target.set_modified(modified);
    }
    Ok(bytes)
}

/// Bytes copied at a time by [`copy_file_hashing`].
const CHUNK: u64 = 8 << 20;
/// How much [`copy_file_hashing`] lets pile up unwritten before it asks for writeback.
const SYNC_EVERY: u64 = 32 << 20;

/// Copies one file like [`copy_file`], and returns the SHA-256 of the copy as read back
/// from it. The copy goes in chunks; a second thread follows one chunk behind, reading
/// each back from the copy and hashing it, and flushing what is copied so far to disk every
/// [`SYNC_EVERY`] bytes. Hashing and writeback overlap the copying instead of following it,
/// so the closing fsync has little left to wait for. The hash is of the copy, not of the
/// source: a bad copy cannot pass for a good one.
fn copy_file_hashing(from: &Path, to: &Path) -> io::Result<(u64, String)> {
    let mut source = File::open(from)?;
    let target = File::create(to)?;
    let (copied_tx, copied_rx) = mpsc::channel::<u64>();
    let (bytes, sha256) = std::thread::scope(|scope| {
        let follower = scope.spawn(|| -> io::Result<String> {
            let mut back = File::open(to)?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; 1 << 20];
            let (mut read_back, mut flushed) = (0_u64, 0_u64);
            // Ends when the copier is done (its sender dropped) or gave up.
            for copied in copied_rx {
                while read_back < copied {
                    let want = usize::try_from(copied - read_back)
                        .map_or(buffer.len(), |w| w.min(buffer.len()));
                    let n = back.read(&mut buffer[..want])?;
                    if n == 0 {
                        return Err(io::Error::other(
                            "the copy is shorter than what was written",
                        ));
                    }
                    hasher.update(&buffer[..n]);
                    read_back += n as u64;
                }
                if read_back - flushed >= SYNC_EVERY {
                    target.sync_data()?;
                    flushed = read_back;
                }
            }
            // Anything past what was reported (there should be nothing) is hashed too.
            loop {
                let n = back.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
            }
            Ok(hex::encode(hasher.finalize()))
        });
        let copying = (|| -> io::Result<u64> {
            let mut copied = 0;
            loop {
                // `Take<&mut File>` into `&File`: still the kernel's copy_file_range.
                let n = io::copy(&mut (&mut source).take(CHUNK), &mut &target)?;
                if n == 0 {
                    return Ok(copied);
                }
                copied += n;
                meter::advance(n);
                let _ = copied_tx.send(copied);
            }
        })();
        drop(copied_tx);
        let hashed = follower
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the hashing thread panicked")));
        Ok::<_, io::Error>((copying?, hashed?))
    })?;
    if let Ok(modified) = source.metadata().and_then(|m| m.modified()) {
        let _ = target.set_modified(modified);
    }
    target.sync_all()?;
    Ok((bytes, sha256))
}

/// Files from this size on are copied with direct I/O where the filesystem allows it.
const DIRECT_FROM: u64 = 4 << 20;
/// Bytes per direct write, and the alignment direct I/O needs (a multiple of any logical
/// block size).
const DIRECT_CHUNK: usize = 8 << 20;
const ALIGN: usize = 4096;

/// A chunk buffer whose usable part starts on an [`ALIGN`] boundary.
struct Aligned {
    bytes: Vec<u8>,
    start: usize,
}

impl Aligned {
    fn new() -> Option<Self> {
        let bytes = vec![0; DIRECT_CHUNK + ALIGN];
        let start = bytes.as_ptr().align_offset(ALIGN);
        (start < ALIGN).then_some(Self { bytes, start })
    }

    fn chunk(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..self.start + DIRECT_CHUNK]
    }
}

/// Reads until `buffer` is full or the file ends: how much it read.
fn fill(source: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Copies a large file with direct I/O (`O_DIRECT`, or `FILE_FLAG_NO_BUFFERING` on
/// Windows): this thread reads the source in chunks and hashes
/// each, a second thread writes them to `to` straight from those buffers, past the page
/// cache. The copy costs no more CPU than hashing (no copying into the page cache, which
/// on large files costs more than `cp` spends in all), writeback overlaps reading and
/// hashing, and 5 GB of copies do not evict what the machine has cached. The hash returned
/// is of the very bytes handed to the disk. A last part shorter than [`ALIGN`] is written
/// through the page cache; the closing fsync covers both.
///
/// `Ok(None)` when the platform or the filesystem has no direct I/O (tmpfs, some network
/// filesystems): the caller copies another way, over whatever this left at `to`.
fn copy_file_direct(from: &Path, to: &Path) -> io::Result<Option<(u64, String)>> {
    let Some(buffers) = (0..3).map(|_| Aligned::new()).collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let mut source = File::open(from)?;
    let unsupported = |e: &io::Error| e.kind() == io::ErrorKind::InvalidInput;
    let Some(direct) = platform::open_direct(to)? else {
        return Ok(None);
    };
    let buffered = fs::OpenOptions::new().write(true).open(to)?;
    let (full_tx, full_rx) = mpsc::sync_channel::<(Aligned, usize, u64)>(2);
    let (empty_tx, empty_rx) = mpsc::channel::<Aligned>();
    for buffer in buffers {
        let _ = empty_tx.send(buffer);
    }
    let mut hasher = Sha256::new();
    let (read, written) = std::thread::scope(|scope| {
        let (direct, buffered) = (&direct, &buffered);
        let writer = scope.spawn(move || -> io::Result<()> {
            // Ends when the reader is done (its sender dropped).
            for (mut buffer, len, offset) in full_rx {
                let data = &buffer.chunk()[..len];
                let aligned = len / ALIGN * ALIGN;
                platform::write_all_at(direct, &data[..aligned], offset)?;
                if aligned < len {
                    platform::write_all_at(buffered, &data[aligned..], offset + aligned as u64)?;
                }
                if empty_tx.send(buffer).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let reading = (|| -> io::Result<u64> {
            let mut offset = 0;
            // Ends early only when the writer failed (and dropped its sender).
            for mut buffer in &empty_rx {
                let len = fill(&mut source, buffer.chunk())?;
                hasher.update(&buffer.chunk()[..len]);
                meter::advance(len as u64);
                if len > 0 && full_tx.send((buffer, len, offset)).is_err() {
                    break;
                }
                offset += len as u64;
                if len < DIRECT_CHUNK {
                    break;
                }
            }
            Ok(offset)
        })();
        drop(full_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writing thread panicked")));
        (reading, written)
    });
    match written {
        Err(e) if unsupported(&e) => return Ok(None),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    let bytes = read?;
    if let Ok(modified) = source.metadata().and_then(|m| m.modified()) {
        let _ = direct.set_modified(modified);
    }
    direct.sync_all()?;
    let length = direct.metadata()?.len();
    if length != bytes {
        return Err(io::Error::other(format!(
            "wrote {bytes} bytes but the copy holds {length}"
        )));
    }
    Ok(Some((bytes, hex::encode(hasher.finalize()))))
}

/// Copies a directory tree (no symbolic links followed); adds every file and directory it
/// wrote to `written`, for the caller to fsync.
fn copy_tree(from: &Path, to: &Path, written: &mut Vec<PathBuf>) -> io::Result<u64> {
    fs::create_dir_all(to)?;
    written.push(to.to_path_buf());
    let mut bytes = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            bytes += copy_tree(&entry.path(), &target, written)?;
        } else if kind.is_file() {
            let copied = copy_file(&entry.path(), &target)?;
            meter::advance(copied);
            bytes += copied;
            written.push(target);
        }
    }
    Ok(bytes)
}

/// What a finished copy wrote.
#[derive(Debug)]
pub struct Copied {
    pub bytes: u64,
    /// The file's hash, or a snapshot's manifest hash.
    pub sha256: String,
}

/// Copies `from` to `to`. `expected` is the source's recorded hash; without it the source
/// is hashed first. A copy whose hash differs is deleted, never renamed into place.
pub fn copy(from: &Path, to: &Path, expected: Option<&str>) -> Result<Copied, String> {
    let parent = to
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", to.display()))?;
    fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let temp = temp_path(to);
    let result = (|| {
        let meta = fs::symlink_metadata(from)
            .map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        if meta.is_dir() {
            let mut written = Vec::new();
            let bytes = copy_tree(from, &temp, &mut written)
                .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
            super::atomic::sync_all(&written)?;
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
            replace_dir(&temp, to)?;
            Ok(Copied { bytes, sha256 })
        } else if meta.is_file() {
            let expected = match expected {
                Some(e) => e.to_owned(),
                None => hash::sha256_file(from)
                    .map_err(|e| format!("cannot read {}: {e}", from.display()))?,
            };
            meter::expect(meta.len());
            let direct = if meta.len() >= DIRECT_FROM {
                copy_file_direct(from, &temp)
            } else {
                Ok(None)
            };
            let (bytes, sha256) = match direct {
                Ok(Some(done)) => Ok(done),
                Ok(None) => copy_file_hashing(from, &temp),
                Err(e) => Err(e),
            }
            .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
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
    fn large_files_copy_whole_by_every_route() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let from = dir.path().join("big.bak");
        // Two direct chunks and a tail shorter than a block.
        let content: Vec<u8> = (0..(DIRECT_CHUNK * 2 + 1234))
            .map(|i| u8::try_from(i % 251).unwrap_or(0))
            .collect();
        fs::write(&from, &content)?;
        let sha256 = hash::sha256_file(&from)?;
        let to = dir.path().join("direct.bak");
        // Direct I/O where this filesystem has it; either way, never a wrong copy.
        if let Some((bytes, hashed)) = copy_file_direct(&from, &to)? {
            assert_eq!((bytes, &hashed), (content.len() as u64, &sha256));
            assert!(fs::read(&to)? == content);
        }
        let to = dir.path().join("buffered.bak");
        let (bytes, hashed) = copy_file_hashing(&from, &to)?;
        assert_eq!((bytes, &hashed), (content.len() as u64, &sha256));
        assert!(fs::read(&to)? == content);
        let to = dir.path().join("out/big.bak");
        let copied = copy(&from, &to, Some(&sha256))?;
        assert_eq!(copied.sha256, sha256);
        assert!(fs::read(&to)? == content);
        assert_eq!(
            fs::metadata(&to)?.modified()?,
            fs::metadata(&from)?.modified()?
        );
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
