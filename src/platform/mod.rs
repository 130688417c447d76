//! What differs between Unix and Windows, behind one set of functions: whether a process
//! still runs, who and where we are, making a rename durable, direct (unbuffered) writes,
//! termination signals, killing a command with everything it started, and whether a file
//! system tells names apart by case. The layers above
//! call these and never `cfg` on the platform themselves; this module imports nothing from
//! the crate.

#[cfg(unix)]
#[path = "unix.rs"]
mod imp;

#[cfg(windows)]
#[path = "windows.rs"]
mod imp;
mod name_case;

pub use imp::{
    ProcessTree, device_kind, on_termination, open_direct, open_read_never_blocking,
    path_from_bytes, process_alive, sync_dir, sync_path, write_all_at,
};
pub use name_case::NameCase;

/// The name of this computer: what a lock's `user@host` names.
pub fn hostname() -> String {
    imp::hostname()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The user running standby (`USER` on Unix, `USERNAME` on Windows).
pub fn user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_an_impossible_one_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX - 1));
    }

    #[test]
    fn a_killed_tree_leaves_no_running_command() -> std::io::Result<()> {
        let mut command = sleeper();
        let mut tree = ProcessTree::spawn(&mut command)?;
        let pid = tree.child().id();
        assert!(process_alive(pid));
        tree.kill();
        assert!(!process_alive(pid));
        Ok(())
    }

    /// A command that runs for a minute unless killed.
    fn sleeper() -> std::process::Command {
        #[cfg(unix)]
        let command = {
            let mut c = std::process::Command::new("sleep");
            c.arg("60");
            c
        };
        #[cfg(windows)]
        let command = {
            let mut c = std::process::Command::new("ping");
            c.args(["-n", "60", "127.0.0.1"]);
            c
        };
        command
    }

    #[test]
    fn a_directory_and_a_file_sync() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("x"), b"x")?;
        sync_dir(dir.path())?;
        sync_path(dir.path())?;
        sync_path(&dir.path().join("x"))
    }
}
