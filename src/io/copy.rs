//! `copy-backup`: a backup file or snapshot directory into another store, crash-safe:
//! temporary name in the destination directory, fsync, SHA-256 checked, renamed to a final
//! name that must not exist. The destination directory is opened from the store root
//! through handles ([`Dir`]); a destination that already exists is never replaced: the same
//! content is a copy already made, other content is a `copy-mismatch` kept as evidence.
//! A copy keeps its source's permission bits (never wider) and modification time.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use sha2::{Digest, Sha256};

use super::handle::{Dir, Kind};
use super::{hash, meter};
use crate::layout::{MANIFEST, temp_path};
use crate::platform;

/// Gives `target` the source's permission bits and modification time.
pub fn keep_attributes(source: &File, target: &File) -> io::Result<()> {
    let meta = source.metadata()?;
    if let Ok(modified) = meta.modified() {
        target.set_modified(modified)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        target.set_permissions(std::fs::Permissions::from_mode(
            meta.permissions().mode() & 0o777,
        ))?;
    }
    Ok(())
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
fn copy_file_hashing(mut source: File, target: &File, mut back: File) -> io::Result<(u64, String)> {
    let (copied_tx, copied_rx) = mpsc::channel::<u64>();
    let (bytes, sha256) = std::thread::scope(|scope| {
        let follower = scope.spawn(move || -> io::Result<String> {
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
                let n = io::copy(&mut (&mut source).take(CHUNK), &mut &*target)?;
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
    keep_attributes(&source, target)?;
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
fn copy_file_direct(
    source: &mut File,
    dir: &Dir,
    temp: &OsStr,
) -> io::Result<Option<(u64, String, File)>> {
    let Some(buffers) = (0..3).map(|_| Aligned::new()).collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let unsupported = |e: &io::Error| e.kind() == io::ErrorKind::InvalidInput;
    let Some(direct) = dir.create_direct(temp)? else {
        return Ok(None);
    };
    let buffered = dir.open_file(temp, true)?;
    let (full_tx, full_rx) = mpsc::sync_channel::<(Aligned, usize, u64)>(2);
    let (empty_tx, empty_rx) = mpsc::channel::<Aligned>();
    for buffer in buffers {
        let _ = empty_tx.send(buffer);
    }
    let mut hasher = Sha256::new();
    let source = &mut *source;
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
                let len = fill(source, buffer.chunk())?;
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
    drop(buffered);
    keep_attributes(source, &direct)?;
    direct.sync_all()?;
    let length = direct.metadata()?.len();
    if length != bytes {
        return Err(io::Error::other(format!(
            "wrote {bytes} bytes but the copy holds {length}"
        )));
    }
    Ok(Some((bytes, hex::encode(hasher.finalize()), direct)))
}

/// Bytes read at a time.
const BUFFER: usize = 256 << 10;

thread_local! {
    static COPY_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; BUFFER]);
}

/// Whether a file has holes: fewer blocks allocated than its length needs.
pub fn is_sparse(file: &File) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let meta = file.metadata()?;
        Ok(meta.blocks().saturating_mul(512) < meta.len())
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(false)
    }
}

/// The ranges of `file` that hold data, in order (`SEEK_DATA`/`SEEK_HOLE`); the whole
/// file where the platform cannot tell.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd")),
    expect(
        clippy::unnecessary_wraps,
        reason = "fallible where the platform can tell"
    )
)]
fn data_ranges(file: &File, length: u64) -> io::Result<Vec<(u64, u64)>> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        use rustix::fs::{SeekFrom as At, seek};
        let mut ranges = Vec::new();
        let mut at = 0;
        while at < length {
            let start = match seek(file, At::Data(at)) {
                Ok(start) => start,
                // No data after `at`: the rest is a hole.
                Err(rustix::io::Errno::NXIO) => break,
                Err(rustix::io::Errno::INVAL) if at == 0 => return Ok(vec![(0, length)]),
                Err(e) => return Err(e.into()),
            };
            let end = seek(file, At::Hole(start))?.min(length);
            ranges.push((start, end));
            at = end;
        }
        Ok(ranges)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        let _ = file;
        Ok(vec![(0, length)])
    }
}

/// Feeds `count` zero bytes to `hasher`: a hole reads as zeros.
fn hash_zeros(hasher: &mut Sha256, mut count: u64) {
    static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
    while count > 0 {
        let n = usize::try_from(count).map_or(ZEROS.len(), |c| c.min(ZEROS.len()));
        hasher.update(&ZEROS[..n]);
        count -= n as u64;
    }
}

/// Copies `source` into `target` while hashing what it read, keeping holes as holes and
/// the source's permission bits and modification time. Returns the length and the SHA-256
/// of the logical content. The caller fsyncs the copy.
pub fn copy_hashing(mut source: File, target: &File) -> io::Result<(u64, String)> {
    let length = source.metadata()?.len();
    let ranges = if is_sparse(&source)? {
        data_ranges(&source, length)?
    } else {
        vec![(0, length)]
    };
    let mut hasher = Sha256::new();
    let mut writer = target;
    COPY_BUFFER.with_borrow_mut(|buffer| -> io::Result<()> {
        let mut at = 0;
        for (start, end) in ranges {
            hash_zeros(&mut hasher, start.saturating_sub(at));
            source.seek(SeekFrom::Start(start))?;
            writer.seek(SeekFrom::Start(start))?;
            let mut position = start;
            while position < end {
                let want = usize::try_from(end - position)
                    .map_or(buffer.len(), |left| left.min(buffer.len()));
                let n = source.read(&mut buffer[..want])?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                writer.write_all(&buffer[..n])?;
                meter::advance(n as u64);
                position += n as u64;
            }
            at = position;
        }
        // Past the last data (or what a shrinking file no longer holds) reads as zeros.
        hash_zeros(&mut hasher, length.saturating_sub(at));
        Ok(())
    })?;
    target.set_len(length)?;
    keep_attributes(&source, target)?;
    Ok((length, hex::encode(hasher.finalize())))
}

/// Files and directories written, fsynced many at a time in batches: a filesystem commits
/// concurrent fsyncs together, where one after another each waits for a commit of its own.
/// On a snapshot of thousands of files that is most of its time. Batches bound the number
/// of open files.
#[derive(Default)]
pub struct Durable {
    pending: Vec<File>,
}

impl Durable {
    const BATCH: usize = 256;

    pub fn file(&mut self, file: File) -> io::Result<()> {
        self.pending.push(file);
        if self.pending.len() >= Self::BATCH {
            self.flush()?;
        }
        Ok(())
    }

    pub fn dir(&mut self, dir: &Dir) -> io::Result<()> {
        match dir.sync_handle()? {
            Some(file) => self.file(file),
            None => Ok(()),
        }
    }

    pub fn finish(&mut self) -> Result<(), String> {
        self.flush().map_err(|e| format!("cannot sync: {e}"))
    }

    fn flush(&mut self) -> io::Result<()> {
        const AT_ONCE: usize = 16;
        let files = std::mem::take(&mut self.pending);
        let next = AtomicUsize::new(0);
        let failure = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..AT_ONCE.min(files.len()) {
                scope.spawn(|| {
                    while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        if let Err(e) = file.sync_all() {
                            failure
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .get_or_insert(e);
                            // The others stop at their next file.
                            next.store(files.len(), Ordering::Relaxed);
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
}

/// Copies the directory tree `from` into the new directory `to` (no symbolic link
/// followed on either side). A file whose size and modification time match the same file of
/// `previous` (the previous snapshot's copy in the destination store) is hard-linked to it
/// instead. Returns the bytes and how many files were linked; everything written goes to
/// `durable`.
fn copy_tree(
    from: &Dir,
    to: &Dir,
    previous: Option<&Dir>,
    durable: &mut Durable,
) -> io::Result<(u64, u64)> {
    to.set_mode(from.own_meta()?.mode.unwrap_or(0o700) & 0o777)?;
    let (mut bytes, mut linked) = (0, 0);
    for (name, kind) in from.entries()? {
        match kind {
            Kind::Dir => {
                let inner_previous = previous.and_then(|p| p.open_dir(&name).ok());
                let target = to.create_dir(&name)?;
                let (b, l) = copy_tree(
                    &from.open_dir(&name)?,
                    &target,
                    inner_previous.as_ref(),
                    durable,
                )?;
                durable.dir(&target)?;
                bytes += b;
                linked += l;
            }
            Kind::File => {
                let source = from.open_file(&name, false)?;
                let meta = source.metadata()?;
                let unchanged = previous.is_some_and(|p| {
                    p.meta(&name).ok().flatten().is_some_and(|old| {
                        old.kind == Kind::File
                            && old.len == meta.len()
                            && old.mtime == meta.modified().ok()
                            && name != MANIFEST
                    })
                });
                if let (true, Some(previous)) = (unchanged, previous)
                    && previous.link(&name, to, &name).is_ok()
                {
                    linked += 1;
                } else {
                    let target = to.create_file(&name)?;
                    copy_hashing(source, &target)?;
                    durable.file(target)?;
                }
                bytes += meta.len();
            }
            Kind::Symlink | Kind::Other => {}
        }
    }
    Ok((bytes, linked))
}

/// What a finished copy wrote.
#[derive(Debug)]
pub struct Copied {
    pub bytes: u64,
    /// The file's hash, or a snapshot's manifest hash.
    pub sha256: String,
    /// Files of a snapshot hard-linked to the previous copy instead of copied.
    pub linked: u64,
}

/// A file or directory inside a store, opened through its parent's handle.
pub struct InStore {
    pub parent: Dir,
    pub name: std::ffi::OsString,
    /// Directories made to reach `parent`, for the caller to fsync.
    pub created: Vec<Dir>,
}

impl InStore {
    /// Opens the directory that holds `relative` below the store root `root`, never through
    /// a link; with `create`, missing directories are made.
    pub fn open(root: &Path, relative: &Path, create: bool) -> io::Result<Self> {
        let name = relative
            .file_name()
            .ok_or_else(|| io::Error::other(format!("{} has no name", relative.display())))?
            .to_os_string();
        let store = Dir::open(root)?;
        let (parent, created) =
            store.open_below(relative.parent().unwrap_or(Path::new("")), create)?;
        Ok(Self {
            parent,
            name,
            created,
        })
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.parent.path().join(&self.name)
    }
}

/// The hash of what already sits at `at`: a file's content, a snapshot's manifest.
fn existing_hash(at: &InStore, kind: Kind) -> io::Result<String> {
    if kind == Kind::Dir {
        let dir = at.parent.open_dir(&at.name)?;
        return hash::sha256_reader(dir.open_file(OsStr::new(MANIFEST), false)?);
    }
    hash::sha256_reader(at.parent.open_file(&at.name, false)?)
}

/// Copies `from` to `to`. `expected` is the source's recorded hash; without it the source
/// is hashed first. A copy whose hash differs is deleted, never renamed into place; a
/// destination that exists is never replaced. `previous` is the previous snapshot's copy
/// in the destination store, which unchanged files of a snapshot are hard-linked to.
pub fn copy(
    from: &InStore,
    to: &InStore,
    expected: Option<&str>,
    previous: Option<&InStore>,
) -> Result<Copied, String> {
    let from_path = from.path();
    let to_path = to.path();
    let meta = from
        .parent
        .meta(&from.name)
        .map_err(|e| format!("cannot read {}: {e}", from_path.display()))?
        .ok_or_else(|| format!("{} does not exist", from_path.display()))?;
    let expected = match (expected, meta.kind) {
        (Some(e), _) => e.to_owned(),
        (None, Kind::File | Kind::Dir) => existing_hash(from, meta.kind)
            .map_err(|e| format!("cannot read {}: {e}", from_path.display()))?,
        (None, _) => {
            return Err(format!(
                "{} is neither a file nor a directory",
                from_path.display()
            ));
        }
    };
    if let Some(existing) = to
        .parent
        .meta(&to.name)
        .map_err(|e| format!("cannot inspect {}: {e}", to_path.display()))?
    {
        return already_there(to, existing.kind, &expected, &to_path);
    }
    let temp = temp_path(Path::new(&to.name));
    let temp = temp.as_os_str();
    let result = (|| {
        let mut durable = Durable::default();
        let copied = if meta.kind == Kind::Dir {
            let source = from
                .parent
                .open_dir(&from.name)
                .map_err(|e| format!("cannot read {}: {e}", from_path.display()))?;
            let target = to
                .parent
                .create_dir(temp)
                .map_err(|e| format!("cannot create {}: {e}", to_path.display()))?;
            let previous = previous.and_then(|p| p.parent.open_dir(&p.name).ok());
            let (bytes, linked) = copy_tree(&source, &target, previous.as_ref(), &mut durable)
                .map_err(|e| format!("cannot copy {}: {e}", from_path.display()))?;
            durable
                .dir(&target)
                .map_err(|e| format!("cannot sync the copy: {e}"))?;
            durable.finish()?;
            let (sha256, bad) =
                verify_copy(&target).map_err(|e| format!("cannot check the copy: {e}"))?;
            if !bad.is_empty() {
                return Err(format!(
                    "the copy of {} does not match its {MANIFEST}: {}",
                    from_path.display(),
                    bad.join(", ")
                ));
            }
            Copied {
                bytes,
                sha256,
                linked,
            }
        } else {
            let (bytes, sha256) = copy_one_file(from, &to.parent, temp)
                .map_err(|e| format!("cannot copy {}: {e}", from_path.display()))?;
            Copied {
                bytes,
                sha256,
                linked: 0,
            }
        };
        if copied.sha256 != expected {
            return Err(format!(
                "the copy hashes to {}, expected {expected}",
                copied.sha256
            ));
        }
        to.parent
            .rename_new(temp, &to.parent, &to.name)
            .map_err(|e| format!("cannot rename into {}: {e}", to_path.display()))?;
        Ok(copied)
    })();
    if result.is_err() {
        let _ = to.parent.remove_tree(temp);
    }
    let copied = result?;
    let mut durable = Durable::default();
    for dir in to.created.iter().chain([&to.parent]) {
        durable
            .dir(dir)
            .map_err(|e| format!("cannot sync {}: {e}", dir.path().display()))?;
    }
    durable.finish()?;
    Ok(copied)
}

/// Checks a snapshot copy against its manifest, every file opened through handles.
fn verify_copy(dir: &Dir) -> io::Result<(String, Vec<String>)> {
    let mut manifest = Vec::new();
    dir.open_file(OsStr::new(MANIFEST), false)?
        .read_to_end(&mut manifest)?;
    hash::check_manifest(&manifest, |relative| {
        let (parent, _) = dir.open_below(relative.parent().unwrap_or(Path::new("")), false)?;
        let name = relative
            .file_name()
            .ok_or_else(|| io::Error::other("a manifest line without a name"))?;
        parent.open_file(name, false)
    })
}

/// A destination that exists: the same content is the copy made before; anything else is a
/// `copy-mismatch`, kept as evidence and never replaced.
fn already_there(to: &InStore, kind: Kind, expected: &str, path: &Path) -> Result<Copied, String> {
    let found = match kind {
        Kind::File | Kind::Dir => existing_hash(to, kind).ok(),
        _ => None,
    };
    if found.as_deref() == Some(expected) {
        return Ok(Copied {
            bytes: 0,
            sha256: expected.to_owned(),
            linked: 0,
        });
    }
    Err(format!(
        "copy-mismatch: {} already exists and differs from the original (sha256 {}, expected {expected}); it is kept as evidence and never replaced",
        path.display(),
        found.as_deref().unwrap_or("unreadable")
    ))
}

/// Copies one file into the new temporary `temp` in `dir`: with direct I/O when it is large
/// and the file system allows it, keeping holes when it is sparse, else through the page
/// cache. Returns the bytes and the SHA-256 of the copy.
fn copy_one_file(from: &InStore, dir: &Dir, temp: &OsStr) -> io::Result<(u64, String)> {
    let mut source = from.parent.open_file(&from.name, false)?;
    let length = source.metadata()?.len();
    meter::expect(length);
    if is_sparse(&source)? {
        let target = dir.create_file(temp)?;
        let copied = copy_hashing(source, &target)?;
        target.sync_all()?;
        return Ok(copied);
    }
    if length >= DIRECT_FROM {
        if let Some((bytes, sha256, _)) = copy_file_direct(&mut source, dir, temp)? {
            return Ok((bytes, sha256));
        }
        // No direct I/O here: start again through the page cache.
        let _ = dir.remove_file(temp);
        io::Seek::rewind(&mut source)?;
    }
    let target = dir.create_file(temp)?;
    let back = dir.open_file(temp, false)?;
    copy_file_hashing(source, &target, back)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn at(root: &Path, relative: &str) -> io::Result<InStore> {
        InStore::open(root, Path::new(relative), true)
    }

    #[test]
    fn copies_verifies_and_leaves_no_temporary() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        fs::create_dir_all(dir.path().join("a"))?;
        fs::write(dir.path().join("a/x.bak"), b"backup")?;
        let from = at(dir.path(), "a/x.bak")?;
        let copied = copy(&from, &at(dir.path(), "b/deep/x.bak")?, None, None)?;
        assert_eq!(fs::read(dir.path().join("b/deep/x.bak"))?, b"backup");
        assert_eq!(
            copied.sha256,
            hash::sha256_file(&dir.path().join("a/x.bak"))?
        );
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
        let here = Dir::open(dir.path())?;
        // Direct I/O where this filesystem has it; either way, never a wrong copy.
        let mut source = File::open(&from)?;
        if let Some((bytes, hashed, _)) =
            copy_file_direct(&mut source, &here, OsStr::new("direct.bak"))?
        {
            assert_eq!((bytes, &hashed), (content.len() as u64, &sha256));
            assert!(fs::read(dir.path().join("direct.bak"))? == content);
        }
        let target = here.create_file(OsStr::new("buffered.bak"))?;
        let back = here.open_file(OsStr::new("buffered.bak"), false)?;
        let (bytes, hashed) = copy_file_hashing(File::open(&from)?, &target, back)?;
        assert_eq!((bytes, &hashed), (content.len() as u64, &sha256));
        assert!(fs::read(dir.path().join("buffered.bak"))? == content);
        let copied = copy(
            &at(dir.path(), "big.bak")?,
            &at(dir.path(), "out/big.bak")?,
            Some(&sha256),
            None,
        )?;
        assert_eq!(copied.sha256, sha256);
        let to = dir.path().join("out/big.bak");
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
        fs::write(dir.path().join("x.bak"), b"backup")?;
        let from = at(dir.path(), "x.bak")?;
        assert!(
            copy(
                &from,
                &at(dir.path(), "out/x.bak")?,
                Some(&"0".repeat(64)),
                None
            )
            .is_err()
        );
        assert!(!dir.path().join("out/x.bak").exists());
        assert_eq!(fs::read_dir(dir.path().join("out"))?.count(), 0);
        Ok(())
    }

    #[test]
    fn an_existing_destination_is_never_replaced() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        fs::write(dir.path().join("x.bak"), b"backup")?;
        fs::create_dir_all(dir.path().join("same"))?;
        fs::write(dir.path().join("same/x.bak"), b"backup")?;
        fs::create_dir_all(dir.path().join("other"))?;
        fs::write(dir.path().join("other/x.bak"), b"evidence")?;
        let from = at(dir.path(), "x.bak")?;
        assert!(copy(&from, &at(dir.path(), "same/x.bak")?, None, None).is_ok());
        let refused = copy(&from, &at(dir.path(), "other/x.bak")?, None, None);
        assert!(refused.is_err_and(|e| e.starts_with("copy-mismatch")));
        assert_eq!(fs::read(dir.path().join("other/x.bak"))?, b"evidence");
        Ok(())
    }
}
