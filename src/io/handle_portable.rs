//! [`Dir`] where there is no `openat`: the same operations by path, each refusing a symbolic
//! link just before it acts. Narrower than the Unix handles (a swap between that check and
//! the call is not excluded); Windows handles opened with `FILE_FLAG_OPEN_REPARSE_POINT`
//! are its counterpart to come.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::{Kind, Meta, exists_error, plain_names};

#[derive(Debug)]
pub struct Dir {
    path: PathBuf,
}

fn meta_of(meta: &fs::Metadata) -> Meta {
    let file_type = meta.file_type();
    Meta {
        kind: if file_type.is_symlink() {
            Kind::Symlink
        } else if file_type.is_dir() {
            Kind::Dir
        } else if file_type.is_file() {
            Kind::File
        } else {
            Kind::Other
        },
        len: meta.len(),
        mtime: meta.modified().ok(),
        mode: None,
    }
}

impl Dir {
    pub fn open(path: &Path) -> io::Result<Self> {
        if !fs::metadata(path)?.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                path.display()
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn open_dir(&self, name: &OsStr) -> io::Result<Self> {
        let path = self.path.join(name);
        match meta_of(&fs::symlink_metadata(&path)?).kind {
            Kind::Dir => Ok(Self { path }),
            _ => Err(io::Error::other(format!(
                "{} is not a directory (a symbolic link?); apply never follows one",
                path.display()
            ))),
        }
    }

    pub fn open_below(&self, relative: &Path, create: bool) -> io::Result<(Self, Vec<Self>)> {
        let mut current = self.try_clone()?;
        let mut created = Vec::new();
        for name in plain_names(relative)? {
            current = match current.open_dir(name) {
                Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                    match fs::create_dir(current.path.join(name)) {
                        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                        _ => {}
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
            path: self.path.clone(),
        })
    }

    pub fn meta(&self, name: &OsStr) -> io::Result<Option<Meta>> {
        match fs::symlink_metadata(self.path.join(name)) {
            Ok(meta) => Ok(Some(meta_of(&meta))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn own_meta(&self) -> io::Result<Meta> {
        Ok(meta_of(&fs::symlink_metadata(&self.path)?))
    }

    pub fn entries(&self) -> io::Result<Vec<(OsString, Kind)>> {
        fs::read_dir(&self.path)?
            .map(|entry| {
                let entry = entry?;
                Ok((entry.file_name(), meta_of(&entry.metadata()?).kind))
            })
            .collect()
    }

    pub fn create_file(&self, name: &OsStr) -> io::Result<File> {
        let path = self.path.join(name);
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    exists_error(&path)
                } else {
                    e
                }
            })
    }

    /// The file `name` created for writes past the system cache (`FILE_FLAG_NO_BUFFERING`
    /// on Windows); fails when anything exists by that name, `Ok(None)` where the file
    /// system refuses it.
    pub fn create_direct(&self, name: &OsStr) -> io::Result<Option<File>> {
        let path = self.path.join(name);
        if self.meta(name)?.is_some() {
            return Err(exists_error(&path));
        }
        crate::platform::open_direct(&path)
    }

    pub fn open_file(&self, name: &OsStr, write: bool) -> io::Result<File> {
        let path = self.path.join(name);
        if self.meta(name)?.map(|m| m.kind) != Some(Kind::File) {
            return Err(io::Error::other(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        fs::OpenOptions::new().read(!write).write(write).open(path)
    }

    pub fn create_dir(&self, name: &OsStr) -> io::Result<Self> {
        let path = self.path.join(name);
        fs::create_dir(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                exists_error(&path)
            } else {
                e
            }
        })?;
        Ok(Self { path })
    }

    pub fn set_mode(&self, _mode: u32) -> io::Result<()> {
        Ok(())
    }

    pub fn remove_file(&self, name: &OsStr) -> io::Result<()> {
        fs::remove_file(self.path.join(name))
    }

    pub fn remove_tree(&self, name: &OsStr) -> io::Result<()> {
        match self.meta(name)? {
            None => Ok(()),
            Some(meta) if meta.kind == Kind::Dir => fs::remove_dir_all(self.path.join(name)),
            Some(_) => self.remove_file(name),
        }
    }

    pub fn rename_new(&self, from: &OsStr, target: &Self, to: &OsStr) -> io::Result<()> {
        let destination = target.path.join(to);
        if fs::symlink_metadata(&destination).is_ok() {
            return Err(exists_error(&destination));
        }
        fs::rename(self.path.join(from), destination)
    }

    pub fn link(&self, from: &OsStr, target: &Self, to: &OsStr) -> io::Result<()> {
        fs::hard_link(self.path.join(from), target.path.join(to))
    }

    /// Windows cannot open a directory to flush it; its renames are durable on NTFS.
    pub fn sync_handle(&self) -> io::Result<Option<File>> {
        Ok(None)
    }

    pub fn sync(&self) -> io::Result<()> {
        // Windows cannot open a directory to flush it; its renames are durable on NTFS.
        Ok(())
    }
}
