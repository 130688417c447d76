//! [`Dir`] on Unix: `openat` with `O_NOFOLLOW | O_DIRECTORY`, `unlinkat`, `renameat2`.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::{Kind, Meta, exists_error, plain_names};

/// An opened directory; `path` is where it was when opened, for messages only.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

fn kind_of(file_type: FileType) -> Kind {
    match file_type {
        FileType::RegularFile => Kind::File,
        FileType::Directory => Kind::Dir,
        FileType::Symlink => Kind::Symlink,
        _ => Kind::Other,
    }
}

/// A link met where a directory was expected gets a message that says so.
fn no_link(path: &Path, e: Errno) -> io::Error {
    if e == Errno::LOOP || e == Errno::NOTDIR {
        io::Error::other(format!(
            "{} is not a directory (a symbolic link?); apply never follows one",
            path.display()
        ))
    } else {
        io::Error::from(e)
    }
}

impl Dir {
    /// Opens a directory by path: a store root as declared (links on the way to it are the
    /// operator's choice), or a source directory.
    pub fn open(path: &Path) -> io::Result<Self> {
        let fd = rustix::fs::open(path, DIR_FLAGS.difference(OFlags::NOFOLLOW), Mode::empty())?;
        Ok(Self {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the directory `name` inside this one; a symbolic link is refused.
    pub fn open_dir(&self, name: &OsStr) -> io::Result<Self> {
        let path = self.path.join(name);
        let fd = rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty())
            .map_err(|e| no_link(&path, e))?;
        Ok(Self { fd, path })
    }

    /// Opens the directory `relative` below this one, one name at a time, never through a
    /// link. With `create`, missing directories are made (mode `0o777` less the umask) and
    /// returned too, for the caller to fsync.
    pub fn open_below(&self, relative: &Path, create: bool) -> io::Result<(Self, Vec<Self>)> {
        let mut current = self.try_clone()?;
        let mut created = Vec::new();
        for name in plain_names(relative)? {
            current = match current.open_dir(name) {
                Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                    match rustix::fs::mkdirat(&current.fd, name, Mode::from_raw_mode(0o777)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    let made = current.open_dir(name)?;
                    created.push(current);
                    made
                }
                other => other?,
            };
        }
        Ok((current, created))
    }

    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// What `name` is, without following it; `None` when there is nothing by that name.
    pub fn meta(&self, name: &OsStr) -> io::Result<Option<Meta>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(meta_of(&stat))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// This directory's own metadata.
    pub fn own_meta(&self) -> io::Result<Meta> {
        Ok(meta_of(&rustix::fs::fstat(&self.fd)?))
    }

    /// The names in this directory (without `.` and `..`) and what each is.
    pub fn entries(&self) -> io::Result<Vec<(OsString, Kind)>> {
        let mut entries = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = OsStr::from_bytes(name).to_os_string();
            let kind = match entry.file_type() {
                FileType::Unknown => self.meta(&name)?.map_or(Kind::Other, |m| m.kind),
                known => kind_of(known),
            };
            entries.push((name, kind));
        }
        Ok(entries)
    }

    /// Creates the file `name` for writing; fails when anything exists by that name.
    pub fn create_file(&self, name: &OsStr) -> io::Result<File> {
        self.create_file_with(name, OFlags::empty())
    }

    /// [`Self::create_file`] with extra open flags (`O_DIRECT`).
    pub fn create_file_with(&self, name: &OsStr, extra: OFlags) -> io::Result<File> {
        let flags = OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW
            | OFlags::CLOEXEC
            | extra;
        rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o600))
            .map(File::from)
            .map_err(|e| {
                if e == Errno::EXIST {
                    exists_error(&self.path.join(name))
                } else {
                    e.into()
                }
            })
    }

    /// Creates the file `name` for direct writes past the page cache (`O_DIRECT`); fails
    /// when anything exists by that name. `Ok(None)` where the platform or the file system
    /// has no direct I/O (tmpfs, some network file systems).
    pub fn create_direct(&self, name: &OsStr) -> io::Result<Option<File>> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        match self.create_file_with(name, OFlags::DIRECT) {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(None),
            Err(e) => Err(e),
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = name;
            Ok(None)
        }
    }

    /// Opens the existing regular file `name`: for reading, or for writing with `write`.
    /// A link or anything but a regular file is refused, and nothing blocks on a FIFO.
    pub fn open_file(&self, name: &OsStr, write: bool) -> io::Result<File> {
        let access = if write {
            OFlags::WRONLY
        } else {
            OFlags::RDONLY
        };
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            access | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            if e == Errno::LOOP {
                io::Error::other(format!(
                    "{} is a symbolic link; apply never follows one",
                    self.path.join(name).display()
                ))
            } else {
                e.into()
            }
        })?;
        if rustix::fs::fstat(&fd)?.st_mode & 0o170_000 != 0o100_000 {
            return Err(io::Error::other(format!(
                "{} is not a regular file",
                self.path.join(name).display()
            )));
        }
        // Reads and writes block as usual once the file is known to be a regular one.
        rustix::fs::fcntl_setfl(&fd, rustix::fs::fcntl_getfl(&fd)? - OFlags::NONBLOCK)?;
        Ok(File::from(fd))
    }

    /// Creates the directory `name` (mode `0o700`, for the caller to widen to what it
    /// copies) and opens it; fails when anything exists by that name.
    pub fn create_dir(&self, name: &OsStr) -> io::Result<Self> {
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o700)).map_err(|e| {
            if e == Errno::EXIST {
                exists_error(&self.path.join(name))
            } else {
                e.into()
            }
        })?;
        self.open_dir(name)
    }

    /// Sets the permission bits of this directory.
    pub fn set_mode(&self, mode: u32) -> io::Result<()> {
        Ok(rustix::fs::fchmod(&self.fd, Mode::from_raw_mode(mode))?)
    }

    pub fn remove_file(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// Removes `name` and, when it is a directory, everything in it: each directory opened
    /// relative to its parent without following links, each entry unlinked relative to the
    /// directory holding it. A link inside is removed, never followed. Holds one handle per
    /// level of depth.
    pub fn remove_tree(&self, name: &OsStr) -> io::Result<()> {
        match self.meta(name)? {
            None => return Ok(()),
            Some(meta) if meta.kind != Kind::Dir => return self.remove_file(name),
            Some(_) => {}
        }
        let dir = self.open_dir(name)?;
        for (entry, kind) in dir.entries()? {
            if kind == Kind::Dir {
                dir.remove_tree(&entry)?;
            } else {
                dir.remove_file(&entry)?;
            }
        }
        drop(dir);
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?)
    }

    /// Renames `from` in this directory to `to` in `target`, failing when `to` exists.
    pub fn rename_new(&self, from: &OsStr, target: &Self, to: &OsStr) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        match rustix::fs::renameat_with(
            &self.fd,
            from,
            &target.fd,
            to,
            rustix::fs::RenameFlags::NOREPLACE,
        ) {
            Ok(()) => return Ok(()),
            Err(Errno::EXIST) => return Err(exists_error(&target.path.join(to))),
            // A file system without RENAME_NOREPLACE: the portable way below.
            Err(Errno::INVAL | Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
        match self.meta(from)? {
            // A file: linking fails when the name exists, then the temporary goes.
            Some(meta) if meta.kind != Kind::Dir => {
                rustix::fs::linkat(&self.fd, from, &target.fd, to, AtFlags::empty()).map_err(
                    |e| {
                        if e == Errno::EXIST {
                            exists_error(&target.path.join(to))
                        } else {
                            e.into()
                        }
                    },
                )?;
                self.remove_file(from)
            }
            // A directory: an empty placeholder made exclusively is ours to rename over.
            _ => {
                rustix::fs::mkdirat(&target.fd, to, Mode::from_raw_mode(0o700)).map_err(|e| {
                    if e == Errno::EXIST {
                        exists_error(&target.path.join(to))
                    } else {
                        io::Error::from(e)
                    }
                })?;
                Ok(rustix::fs::renameat(&self.fd, from, &target.fd, to)?)
            }
        }
    }

    /// A hard link `to` in `target` to the file `from` here (never through a link).
    pub fn link(&self, from: &OsStr, target: &Self, to: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::linkat(
            &self.fd,
            from,
            &target.fd,
            to,
            AtFlags::empty(),
        )?)
    }

    /// A handle to fsync this directory with.
    pub fn sync_handle(&self) -> io::Result<Option<File>> {
        Ok(Some(File::from(self.fd.try_clone()?)))
    }

    /// Makes the entries of this directory durable.
    pub fn sync(&self) -> io::Result<()> {
        Ok(rustix::fs::fsync(&self.fd)?)
    }
}

fn meta_of(stat: &rustix::fs::Stat) -> Meta {
    let mtime = u64::try_from(stat.st_mtime).ok().map(|secs| {
        std::time::UNIX_EPOCH
            + std::time::Duration::new(secs, u32::try_from(stat.st_mtime_nsec).unwrap_or_default())
    });
    Meta {
        kind: kind_of(FileType::from_raw_mode(stat.st_mode)),
        len: u64::try_from(stat.st_size).unwrap_or_default(),
        mtime,
        mode: Some(stat.st_mode & 0o7777),
    }
}
