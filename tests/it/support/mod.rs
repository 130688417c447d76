//! Running the real binary in a scratch directory and reading what it printed.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The repository root, where `desired/`, `docs/` and `tests/` live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `standby ARGS` in `dir` with colour off and no inherited `STANDBY_*` variables.
pub fn standby(dir: &Path, args: &[&str]) -> Output {
    standby_with(dir, args, &[])
}

/// [`standby`] with extra environment variables.
pub fn standby_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_standby"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied())
        .output()
        .expect("the standby binary runs");
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Copies a file or every file of a directory into `dest` (created).
pub fn copy_into(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).expect("create the destination");
    if src.is_dir() {
        for entry in std::fs::read_dir(src).expect("read the case directory") {
            let path = entry.expect("a directory entry").path();
            std::fs::copy(&path, dest.join(path.file_name().expect("a file name")))
                .expect("copy a case file");
        }
    } else {
        std::fs::copy(src, dest.join(src.file_name().expect("a file name")))
            .expect("copy the case file");
    }
}

/// Every file under `dir` with its content, to prove a command wrote nothing.
pub fn snapshot_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = std::fs::read(&path).expect("read file");
                out.push((path, content));
            }
        }
    }
    out.sort();
    out
}

pub mod tds_server;
