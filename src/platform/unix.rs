//! The Unix side of [`super`].

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Whether a process with this id exists on this host.
pub fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

pub(super) fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok()
}

/// Makes a rename in `dir` durable: fsync the directory.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A path from the bytes `OsStr::as_encoded_bytes` gave: on Unix, the bytes themselves.
pub fn path_from_bytes(bytes: Vec<u8>) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    std::ffi::OsString::from_vec(bytes).into()
}

/// fsyncs a file or a directory that another handle wrote.
pub fn sync_path(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// `O_DIRECT`, where its value is known (it differs between architectures).
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86")))]
const O_DIRECT: Option<i32> = Some(0o40_000);
#[cfg(all(target_os = "linux", any(target_arch = "aarch64", target_arch = "arm")))]
const O_DIRECT: Option<i32> = Some(0o200_000);
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm"
    )
)))]
const O_DIRECT: Option<i32> = None;

/// Creates (truncating) `path` for writes past the page cache (`O_DIRECT`): offsets,
/// lengths and buffers must be aligned to the logical block size. `Ok(None)` where the
/// platform or the file system has no direct I/O (tmpfs, some network file systems).
pub fn open_direct(path: &Path) -> io::Result<Option<File>> {
    let Some(flag) = O_DIRECT else {
        return Ok(None);
    };
    match OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(flag)
        .open(path)
    {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes all of `data` at `offset`, leaving the file position alone.
pub fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    file.write_all_at(data, offset)
}

/// A running command and everything it starts: its own process group, killed whole.
pub struct ProcessTree {
    child: Child,
}

impl ProcessTree {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(command: &mut Command) -> io::Result<Self> {
        let child = command.process_group(0).spawn()?;
        Ok(Self { child })
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Kills the command and everything it started (its process group), and reaps it.
    pub fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `path` for reading without ever waiting: a FIFO would block `open` forever, so it
/// is opened `O_NONBLOCK` (which changes nothing for a regular file), and never becomes the
/// controlling terminal.
pub fn open_read_never_blocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// What a FIFO, device or socket is, in words; `None` for other kinds of file.
pub fn device_kind(kind: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

/// Calls `arrived` with the signal's name on a thread of its own each time SIGTERM or SIGINT
/// arrives, from now on.
pub fn on_termination(arrived: impl Fn(&str) + Send + 'static) -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            arrived(if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            });
        }
    });
    Ok(())
}
