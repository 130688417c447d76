//! The journal: an append-only record of every applied action, one line per step, each
//! committed before the step goes on, so a crash loses at most the step it interrupted.
//! The backends store the lines (see [`super::Backend::append_journal`]); the JSON lines
//! file of an old state directory, `journal.jsonl`, is read here to import it.

use std::io;
use std::path::Path;

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

    #[test]
    fn reading_an_old_journal_leaves_out_a_torn_last_line() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        assert!(read(dir.path())?.is_empty(), "no journal is an empty one");
        let whole = r#"{"at":"2026-01-01T00:00:00Z","run":"r","action":"a1","kind":"copy-backup","address":"s/database/db/full","step":"start"}"#;
        std::fs::write(
            dir.path().join("journal.jsonl"),
            format!("{whole}\n{{\"at\":\"2026"),
        )?;
        let lines = read(dir.path())?;
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].action, "a1");
        Ok(())
    }
}
