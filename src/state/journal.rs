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
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
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
