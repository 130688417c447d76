//! The Windows side of [`super`].

use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::fs::{FileExt as _, OpenOptionsExt as _};
use std::os::windows::io::AsRawHandle as _;
use std::os::windows::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `FILE_FLAG_BACKUP_SEMANTICS`: what opening a directory needs.
const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
/// `FILE_FLAG_NO_BUFFERING` and `FILE_FLAG_WRITE_THROUGH`: writes past the system cache,
/// durable when they return.
const FILE_FLAG_NO_BUFFERING: u32 = 0x2000_0000;
const FILE_FLAG_WRITE_THROUGH: u32 = 0x8000_0000;
/// `CREATE_NEW_PROCESS_GROUP` and `CREATE_NO_WINDOW`: a console command of its own, with
/// no window popping up on the administrative computer's desktop.
const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
const CREATE_NO_WINDOW: u32 = 0x0800_0000;

/// Whether a process with this id is running on this computer.
pub fn process_alive(pid: u32) -> bool {
    let pid = sysinfo::Pid::from_u32(pid);
    let mut system = sysinfo::System::new();
    system.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[pid]), true);
    system.process(pid).is_some()
}

pub(super) fn hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

/// Makes a rename in `dir` durable: flush the directory's handle (NTFS journals its
/// metadata; `FlushFileBuffers` on the directory commits it). A file system that cannot
/// flush a directory (some SMB servers refuse it) commits renames itself: that is not an
/// error.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(dir);
    let unsupported = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::PermissionDenied
                | io::ErrorKind::Unsupported
                | io::ErrorKind::InvalidInput
        )
    };
    match opened.and_then(|d| d.sync_all()) {
        Err(e) if unsupported(&e) => Ok(()),
        other => other,
    }
}

/// A path from the bytes `OsStr::as_encoded_bytes` gave: WTF-8, which is UTF-8 for every
/// name that is valid Unicode (an unpaired surrogate, which no backup tool writes, reads
/// back replaced).
pub fn path_from_bytes(bytes: Vec<u8>) -> std::path::PathBuf {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        .into()
}

/// Flushes a file or a directory that another handle wrote. `FlushFileBuffers` needs a
/// handle with write access, which `File::open` does not give.
pub fn sync_path(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        return sync_dir(path);
    }
    OpenOptions::new().write(true).open(path)?.sync_all()
}

/// Creates `path` (failing when it exists) for writes past the system cache
/// (`FILE_FLAG_NO_BUFFERING` with `FILE_FLAG_WRITE_THROUGH`): offsets, lengths and buffers
/// must be aligned to the sector size. `Ok(None)` where the file system refuses it.
pub fn open_direct(path: &Path) -> io::Result<Option<File>> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH)
        .open(path)
    {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes all of `data` at `offset`. Windows moves the file position too; callers of this
/// write by offset only.
pub fn write_all_at(file: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    while !data.is_empty() {
        match file.seek_write(data, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                data = &data[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A running command and everything it starts: a job object that kills every process in
/// it when closed.
pub struct ProcessTree {
    child: Child,
    /// `None` when the process could not be put in a job (standby itself runs in a job
    /// that forbids it): then `taskkill /T` kills the tree.
    job: Option<win32job::Job>,
}

impl ProcessTree {
    /// Spawns `command` in a new job object. Processes it starts join the job; only one
    /// started in the instant between spawning and joining could escape it.
    pub fn spawn(command: &mut Command) -> io::Result<Self> {
        let child = command
            .creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW)
            .spawn()?;
        let mut limits = win32job::ExtendedLimitInfo::new();
        limits.limit_kill_on_job_close();
        let job = win32job::Job::create_with_limit_info(&limits)
            .ok()
            .filter(|job| job.assign_process(child.as_raw_handle() as isize).is_ok());
        Ok(Self { child, job })
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Kills the command and everything it started, and reaps it.
    pub fn kill(&mut self) {
        if self.job.take().is_none() {
            let _ = Command::new("taskkill")
                .args(["/F", "/T", "/PID", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `path` for reading. Windows has no FIFOs in the file system to block an open (named
/// pipes live under `\\.\pipe\`, never in a store), so a plain open never waits.
pub fn open_read_never_blocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Windows file systems hold no FIFOs, devices or sockets: nothing to name.
pub fn device_kind(_kind: std::fs::FileType) -> Option<&'static str> {
    None
}

/// Calls `arrived` on a thread of its own each time Ctrl+C, Ctrl+Break or a closing console
/// arrives, from now on. They come through `SetConsoleCtrlHandler` (the C runtime's
/// `signal(SIGINT)` route crashed standby under Wine when Ctrl+C arrived).
pub fn on_termination(arrived: impl Fn(&str) + Send + 'static) -> io::Result<()> {
    ctrlc::set_handler(move || arrived("Ctrl+C")).map_err(io::Error::other)
}
