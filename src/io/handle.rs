//! Acting inside a store through opened directory handles. A store root is opened once; every
//! directory below it is opened relative to its parent's handle without following a symbolic
//! link, and files are created, linked, renamed and deleted relative to the handle of the
//! directory that holds them. A check and the action that follows it are never split by a
//! path resolved again: a directory swapped for a link between them cannot redirect the
//! action outside the store, and depth is not limited by `PATH_MAX`.
//!
//! Final names are never replaced: [`Dir::rename_new`] fails when the target exists
//! (`renameat2(RENAME_NOREPLACE)`, or a hard link and an unlink where that is missing).
//!
//! On Unix this is `openat`/`unlinkat`/`renameat2` through `rustix`. Elsewhere the same
//! operations go by path, each checked for links just before it acts (the Windows
//! counterpart with reparse-point handles belongs there).

#[cfg(unix)]
#[path = "handle_unix.rs"]
mod imp;

#[cfg(not(unix))]
#[path = "handle_portable.rs"]
mod imp;

pub use imp::Dir;

use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path};

/// The plain names of a relative path, or an error naming the first part that is not one
/// (`..`, `.`, a root or a prefix).
pub fn plain_names(relative: &Path) -> io::Result<Vec<&OsStr>> {
    relative
        .components()
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a plain relative path", relative.display()),
            )),
        })
        .collect()
}

/// What an entry of a directory is, read without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// An entry's kind, size, modification time and permission bits, read without following it.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub kind: Kind,
    pub len: u64,
    pub mtime: Option<std::time::SystemTime>,
    /// The permission bits (`0o7777`); `None` where the platform has none.
    pub mode: Option<u32>,
}

/// Renames the file or directory `temp` to `target` in the same directory, failing (and
/// leaving both untouched) when `target` exists.
pub fn rename_new_path(temp: &Path, target: &Path) -> io::Result<()> {
    let (Some(dir), Some(from), Some(to)) = (target.parent(), temp.file_name(), target.file_name())
    else {
        return Err(io::Error::other(format!(
            "{} has no parent",
            target.display()
        )));
    };
    if temp.parent() != Some(dir) {
        return Err(io::Error::other(format!(
            "{} is not beside {}",
            temp.display(),
            target.display()
        )));
    }
    let dir = Dir::open(dir)?;
    dir.rename_new(from, &dir, to)
}

/// Turns "the target exists" into the message every caller gives.
pub fn exists_error(name: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} already exists; standby never replaces a final name",
            name.display()
        ),
    )
}
