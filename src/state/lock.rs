//! `state/lock`: held while `apply` runs, so two applies never act on the same stores.
//!
//! Taken atomically by creating the file exclusively. A lock whose process is gone from this
//! host is stale: reported, never removed silently; `standby force-unlock ID` removes it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::io::atomic;
use crate::platform;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    /// `user@host`
    pub who: String,
    pub pid: u32,
    pub created: Timestamp,
}

impl LockInfo {
    /// A new lock's description: this process, now.
    pub fn new(operation: &str) -> Self {
        Self {
            id: new_id(),
            operation: operation.to_owned(),
            who: format!("{}@{}", user(), hostname()),
            pid: std::process::id(),
            created: Timestamp::now(),
        }
    }

    /// Whether the holder is a process of this host that no longer exists.
    pub fn is_stale(&self) -> bool {
        let here = format!("@{}", hostname());
        self.who.ends_with(&here) && !platform::process_alive(self.pid)
    }

    pub fn describe(&self) -> String {
        format!(
            "lock {} held by {} (pid {}) for `{}` since {}",
            self.id, self.who, self.pid, self.operation, self.created
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0}; wait for it to finish, or pass --lock-timeout")]
    Held(String),
    #[error("{0}, which is gone: the lock is stale; remove it with `{1}`")]
    Stale(String, String),
    /// An empty, torn or garbage lock file: no holder can be named, so it is stale.
    #[error("{path} is not a readable lock ({why}): it is stale; remove it with `{command}`")]
    Unreadable {
        path: PathBuf,
        why: String,
        command: String,
    },
    #[error("cannot take {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("no lock {0} to remove{1}")]
    NotHeld(String, String),
}

pub fn hostname() -> String {
    platform::hostname()
}

fn user() -> String {
    platform::user()
}

/// A short id unlikely to repeat: hash of pid, time and address of a local.
fn new_id() -> String {
    use sha2::{Digest, Sha256};
    let seed = format!(
        "{}-{:?}-{}",
        std::process::id(),
        std::time::SystemTime::now(),
        user()
    );
    hex::encode(Sha256::digest(seed.as_bytes()))[..12].to_owned()
}

pub fn lock_path(state: &Path) -> PathBuf {
    state.join("lock")
}

pub fn read(state: &Path) -> Option<LockInfo> {
    match read_any(state) {
        Some(Holder::Known(info)) => Some(info),
        _ => None,
    }
}

/// What a lock file holds.
enum Holder {
    Known(LockInfo),
    /// Not a lock: why, and the id `force-unlock` takes for it (a hash of its bytes, so a
    /// lock that changed meanwhile is not removed by mistake).
    Unreadable(String, String),
}

fn read_any(state: &Path) -> Option<Holder> {
    let bytes = std::fs::read(lock_path(state)).ok()?;
    Some(match serde_json::from_slice::<LockInfo>(&bytes) {
        Ok(info) => Holder::Known(info),
        Err(e) => {
            use sha2::{Digest, Sha256};
            let why = if bytes.is_empty() {
                "it is empty".to_owned()
            } else {
                format!("{e}")
            };
            let id = format!("unreadable-{}", &hex::encode(Sha256::digest(&bytes))[..12]);
            Holder::Unreadable(why, id)
        }
    })
}

/// The command that removes lock `id` of `state`, as the operator would type it.
pub fn unlock_command(state: &Path, id: &str) -> String {
    if state == Path::new("state") {
        format!("standby force-unlock {id}")
    } else {
        format!("standby --state {} force-unlock {id}", state.display())
    }
}

/// Creates `path` with `bytes`, failing with `AlreadyExists` when it exists. The content
/// is written and fsynced under a temporary name first, then hard-linked into place: a
/// process killed half-way never leaves a lock without its id (which only deleting it by
/// hand could clear). Where hard links are not supported, the file is created in place.
fn create_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = crate::layout::temp_path(path);
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        atomic::sync_dir(dir)?;
    }
    Ok(())
}

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    pub info: LockInfo,
}

impl Lock {
    /// Takes the lock, waiting up to `timeout` for another holder to release it.
    pub fn acquire(state: &Path, operation: &str, timeout: Duration) -> Result<Self, LockError> {
        let path = lock_path(state);
        std::fs::create_dir_all(state).map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
        let info = LockInfo::new(operation);
        let started = Instant::now();
        let bytes = serde_json::to_vec_pretty(&info).unwrap_or_default();
        loop {
            match create_whole(&path, &bytes) {
                Ok(()) => {
                    // Holding the lock, clear what a killed apply left half-written here.
                    let _ = atomic::remove_stale_temps(state);
                    return Ok(Self { path, info });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let holder = match read_any(state) {
                        Some(Holder::Unreadable(why, id)) => {
                            return Err(LockError::Unreadable {
                                path,
                                why,
                                command: unlock_command(state, &id),
                            });
                        }
                        Some(Holder::Known(info)) => Some(info),
                        None => None,
                    };
                    if let Some(holder) = holder.as_ref().filter(|h| h.is_stale()) {
                        return Err(LockError::Stale(
                            holder.describe(),
                            unlock_command(state, &holder.id),
                        ));
                    }
                    if started.elapsed() >= timeout {
                        let who = holder
                            .map_or_else(|| format!("{} exists", path.display()), |h| h.describe());
                        return Err(LockError::Held(who));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(source) => return Err(LockError::Io { path, source }),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Only our own lock: never remove one somebody force-unlocked and retook.
        release(self.path.parent().unwrap_or(Path::new(".")), &self.info.id);
    }
}

/// Removes the lock of `state` if it is the one with `id`: a process that took it lets go
/// (on drop, or on a signal before any action ran).
pub fn release(state: &Path, id: &str) {
    if read(state).is_some_and(|h| h.id == id) {
        let _ = std::fs::remove_file(lock_path(state));
    }
}

/// Removes the lock with this id (`standby force-unlock ID`).
pub fn force_unlock(state: &Path, id: &str) -> Result<String, LockError> {
    let holder = match read_any(state) {
        Some(Holder::Known(info)) => info,
        Some(Holder::Unreadable(why, found)) if found == id => {
            let path = lock_path(state);
            std::fs::remove_file(&path).map_err(|source| LockError::Io {
                path: path.clone(),
                source,
            })?;
            return Ok(format!("the unreadable lock {} ({why})", path.display()));
        }
        Some(Holder::Unreadable(why, found)) => {
            return Err(LockError::NotHeld(
                id.to_owned(),
                format!("; the current lock is unreadable ({why}), its id is {found}"),
            ));
        }
        None => return Err(LockError::NotHeld(id.to_owned(), String::new())),
    };
    if holder.id != id {
        return Err(LockError::NotHeld(
            id.to_owned(),
            format!("; the current lock is {}", holder.describe()),
        ));
    }
    let path = lock_path(state);
    std::fs::remove_file(&path).map_err(|source| LockError::Io { path, source })?;
    Ok(holder.describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_with_the_holder_named() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let first = Lock::acquire(dir.path(), "apply", Duration::ZERO)?;
        let second = Lock::acquire(dir.path(), "apply", Duration::from_millis(250));
        let Err(LockError::Held(message)) = second else {
            panic!("the second apply must be refused");
        };
        assert!(message.contains(&first.info.id), "{message}");
        drop(first);
        assert!(Lock::acquire(dir.path(), "apply", Duration::ZERO).is_ok());
        Ok(())
    }

    #[test]
    fn a_dead_holder_is_stale_and_force_unlock_removes_it() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let dead = LockInfo {
            id: "abc123".into(),
            operation: "apply".into(),
            who: format!("someone@{}", hostname()),
            pid: u32::MAX - 1,
            created: Timestamp::now(),
        };
        std::fs::write(lock_path(dir.path()), serde_json::to_vec(&dead)?)?;
        let Err(LockError::Stale(_, command)) = Lock::acquire(dir.path(), "apply", Duration::ZERO)
        else {
            panic!("a dead holder's lock is stale");
        };
        assert!(command.ends_with("force-unlock abc123"), "{command}");
        assert!(force_unlock(dir.path(), "wrong").is_err());
        force_unlock(dir.path(), "abc123")?;
        assert!(Lock::acquire(dir.path(), "apply", Duration::ZERO).is_ok());
        Ok(())
    }
}
