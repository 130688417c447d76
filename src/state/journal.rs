//! `state/journal.jsonl`: an append-only record of every applied action, one fsynced JSON
//! line per step, so a crash loses at most the step it interrupted.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalLine {
    pub at: Timestamp,
    /// The id of the apply run (its lock id).
    pub run: String,
    pub action: String,
    pub kind: String,
    pub address: String,
    /// `start` or `end`.
    pub step: String,
    /// At `end`: `ok`, `failed` or `skipped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// What a command printed (export-settings), cut to a few KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    pub fn open(state: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(state)?;
        let path = state.join("journal.jsonl");
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        drop_torn_tail(&file)?;
        Ok(Self { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&mut self, line: &JournalLine) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.file.sync_data()
    }
}

/// Cuts a torn last line (a crash mid-append) off the journal, so that the next line starts
/// on a line of its own instead of being glued to the fragment and lost with it.
fn drop_torn_tail(file: &File) -> io::Result<()> {
    use std::os::unix::fs::FileExt as _;
    let len = file.metadata()?.len();
    let mut end = len;
    let mut chunk = vec![0; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..usize::try_from(end - start).unwrap_or(0)];
        file.read_exact_at(part, start)?;
        if let Some(at) = part.iter().rposition(|b| *b == b'\n') {
            end = start + at as u64 + 1;
            break;
        }
        end = start;
    }
    if end != len {
        file.set_len(end)?;
        file.sync_data()?;
    }
    Ok(())
}

/// Every line of a journal; a torn last line (a crash mid-write) is left out.
pub fn read(state: &Path) -> io::Result<Vec<JournalLine>> {
    let text = match std::fs::read_to_string(state.join("journal.jsonl")) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(action: &str) -> JournalLine {
        JournalLine {
            at: Timestamp::UNIX_EPOCH,
            run: "r".into(),
            action: action.into(),
            kind: "copy-backup".into(),
            address: "s/database/db/full".into(),
            step: "start".into(),
            outcome: None,
            message: None,
            duration_ms: None,
            sha256: None,
            output: None,
        }
    }

    #[test]
    fn a_torn_last_line_is_cut_before_the_next_append() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        Journal::open(dir.path())?.append(&line("a1"))?;
        let path = dir.path().join("journal.jsonl");
        let mut file = OpenOptions::new().append(true).open(&path)?;
        file.write_all(br#"{"at":"1970-01-01T00:00:00Z","run":"r","act"#)?;
        Journal::open(dir.path())?.append(&line("a2"))?;
        let text = std::fs::read_to_string(&path)?;
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.lines()
                .all(|l| serde_json::from_str::<JournalLine>(l).is_ok())
        );
        // Nothing but a fragment: the journal starts again from empty.
        std::fs::write(&path, "{\"at\"")?;
        Journal::open(dir.path())?;
        assert_eq!(std::fs::read_to_string(&path)?, "");
        Ok(())
    }
}
