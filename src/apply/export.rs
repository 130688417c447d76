//! `export-settings`: runs the declared export command (no shell) with `{file}` pointing at
//! a temporary name, under a timeout. Only a command that exits 0 and wrote the file gets
//! it renamed into place; anything else leaves nothing behind.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::io::atomic::sync_dir;
use crate::io::hash;
use crate::layout::temp_path;
use crate::platform::ProcessTree;

/// The most of a command's output kept for the journal.
const OUTPUT_LIMIT: usize = 4096;

#[derive(Debug)]
pub(super) struct Exported {
    pub sha256: String,
    pub(super) bytes: u64,
    pub(super) output: String,
}

/// The last `OUTPUT_LIMIT` bytes of stdout and stderr together.
fn tail(stdout: &[u8], stderr: &[u8]) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(stdout),
        String::from_utf8_lossy(stderr)
    );
    let start = text.len().saturating_sub(OUTPUT_LIMIT);
    let start = (start..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    text[start..].trim_end().to_owned()
}

/// Reads a pipe to its end on a thread. The receiver gives up after a moment: a killed
/// command's orphans may hold the pipe open.
fn drain(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    rx
}

fn collect(rx: Option<mpsc::Receiver<Vec<u8>>>) -> Vec<u8> {
    rx.and_then(|rx| rx.recv_timeout(Duration::from_secs(1)).ok())
        .unwrap_or_default()
}

/// Runs `argv` (its `{file}` replaced), without the environment variables in `secrets`, and
/// puts what it wrote at `file`. The error carries the command's output too.
pub(super) fn export(
    argv: &[String],
    file: &Path,
    timeout: Duration,
    secrets: &[String],
) -> Result<Exported, (String, String)> {
    let parent = file.parent().ok_or_else(|| {
        (
            format!("{} has no parent directory", file.display()),
            String::new(),
        )
    })?;
    fs::create_dir_all(parent).map_err(|e| {
        (
            format!("cannot create {}: {e}", parent.display()),
            String::new(),
        )
    })?;
    let temp = temp_path(file);
    let temp_text = temp.display().to_string();
    let command_line: Vec<String> = argv
        .iter()
        .map(|a| a.replace("{file}", &temp_text))
        .collect();
    let Some((program, rest)) = command_line.split_first() else {
        return Err(("the export command is empty".into(), String::new()));
    };
    let cleanup = || {
        let _ = fs::remove_file(&temp);
    };
    // No shell: on Windows the arguments are quoted by the rules programs such as
    // LCSCmd.exe parse them back with (the C runtime's), so a path with spaces stays one.
    let mut command = Command::new(program);
    for secret in secrets {
        command.env_remove(secret);
    }
    let mut tree = ProcessTree::spawn(
        command
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .map_err(|e| (format!("cannot run {program}: {e}"), String::new()))?;
    let stdout = tree.child().stdout.take().map(drain);
    let stderr = tree.child().stderr.take().map(drain);
    let started = Instant::now();
    let status = loop {
        match tree.child().try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if super::interrupt::requested() => {
                tree.kill();
                break Err(format!("{program} was killed: apply was interrupted"));
            }
            Ok(None) if started.elapsed() >= timeout => {
                tree.kill();
                break Err(format!(
                    "{program} did not finish within {}s and was killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("cannot wait for {program}: {e}")),
        }
    };
    let output = tail(&collect(stdout), &collect(stderr));
    let status = status.map_err(|e| {
        cleanup();
        (e, output.clone())
    })?;
    if !status.success() {
        cleanup();
        return Err((format!("{program} failed ({status})"), output));
    }
    let finish = || -> Result<Exported, String> {
        let meta = fs::metadata(&temp)
            .map_err(|_| format!("{program} exited 0 but wrote no file at {{file}}"))?;
        crate::platform::sync_path(&temp).map_err(|e| format!("cannot sync the export: {e}"))?;
        let sha256 =
            hash::sha256_file(&temp).map_err(|e| format!("cannot read the export: {e}"))?;
        fs::rename(&temp, file)
            .map_err(|e| format!("cannot rename into {}: {e}", file.display()))?;
        sync_dir(parent).map_err(|e| format!("cannot sync {}: {e}", parent.display()))?;
        Ok(Exported {
            sha256,
            bytes: meta.len(),
            output: output.clone(),
        })
    };
    finish().map_err(|e| {
        cleanup();
        (e, output.clone())
    })
}

// These drive `sh`; tests/it/windows.rs runs exports (and their timeout) on Windows.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec![
            "sh".into(),
            "-c".into(),
            script.into(),
            "export".into(),
            "{file}".into(),
        ]
    }

    #[test]
    fn a_successful_export_lands_under_its_final_name() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("s/global_export_x.xml");
        let done = export(
            &sh("echo exporting; echo '<settings/>' > \"$1\""),
            &file,
            Duration::from_secs(10),
            &[],
        )
        .map_err(|(e, _)| e)?;
        assert_eq!(fs::read_to_string(&file)?, "<settings/>\n");
        assert_eq!(done.output, "exporting");
        assert_eq!(fs::read_dir(dir.path().join("s"))?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_failing_or_hanging_export_leaves_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("s/global_export_x.xml");
        let failed = export(
            &sh("echo half > \"$1\"; echo broken >&2; exit 3"),
            &file,
            Duration::from_secs(10),
            &[],
        );
        let Err((message, output)) = failed else {
            panic!("must fail")
        };
        assert!(message.contains("exit status: 3"), "{message}");
        assert_eq!(output, "broken");
        let hung = export(
            &sh("echo half > \"$1\"; sleep 30"),
            &file,
            Duration::from_millis(300),
            &[],
        );
        let Err((message, _)) = hung else {
            panic!("must time out")
        };
        assert!(message.contains("did not finish"), "{message}");
        assert_eq!(fs::read_dir(dir.path().join("s"))?.count(), 0);
        Ok(())
    }
}
