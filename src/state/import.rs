//! Moves an old JSON state directory (`catalog.json`, `journal.jsonl`, `observed.json`)
//! into a state backend, once per directory: nothing learned before the database is lost.
//! The files are left where they are (the example's `state/observed.json` is also what
//! `plan --observed` reads on a fresh checkout); after the import standby no longer reads
//! them as state.

use std::path::Path;

use super::catalog::Catalog;
use super::{Backend, StateError, journal};

/// What an import brought over, as the note standby prints.
#[derive(Debug, Default)]
pub struct Imported {
    pub from: String,
    pub into: String,
    pub catalog: usize,
    pub journal: usize,
    pub observation: bool,
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.catalog > 0 {
            parts.push(format!("{} catalog entries", self.catalog));
        }
        if self.journal > 0 {
            parts.push(format!("{} journal lines", self.journal));
        }
        if self.observation {
            parts.push("the last observation".to_owned());
        }
        write!(
            f,
            "note: imported {} from {} into {}; the JSON files are kept but no longer read as state",
            parts.join(", "),
            self.from,
            self.into
        )
    }
}

/// The one field of an old observation the import reads.
#[derive(serde::Deserialize)]
struct Head {
    taken_at: jiff::Timestamp,
}

/// Imports `dir` into `backend` when it holds old state files that this backend has not
/// imported yet. Returns what was imported, if anything.
pub fn import(backend: &mut dyn Backend, dir: &Path) -> Result<Option<Imported>, StateError> {
    let catalog_path = super::catalog_path(dir);
    let journal_path = dir.join("journal.jsonl");
    let observed_path = super::observed_path(dir);
    if ![&catalog_path, &journal_path, &observed_path]
        .iter()
        .any(|p| p.is_file())
    {
        return Ok(None);
    }
    if !backend.claim_import(dir)? {
        return Ok(None);
    }
    let failed = |path: &Path, message: String| StateError::Import {
        path: path.to_owned(),
        message,
    };
    let mut imported = Imported {
        from: dir.display().to_string(),
        into: backend.place(),
        ..Imported::default()
    };
    if catalog_path.is_file() {
        let old = Catalog::load(&catalog_path).map_err(|e| failed(&catalog_path, e.to_string()))?;
        let mut catalog = backend.load_catalog()?;
        for entry in old.entries() {
            if catalog.get(&entry.path).is_none() {
                catalog.insert(entry.clone());
                imported.catalog += 1;
            }
        }
        backend.save_catalog(&mut catalog)?;
    }
    let lines = journal::read(dir).map_err(|e| failed(&journal_path, e.to_string()))?;
    for line in &lines {
        backend.append_journal(line)?;
    }
    imported.journal = lines.len();
    if observed_path.is_file() && backend.last_observation()?.is_none() {
        let text = std::fs::read_to_string(&observed_path)
            .map_err(|e| failed(&observed_path, e.to_string()))?;
        // Kept as the document it is (commands read it); only its time is looked at here.
        // A file that is not an observation is left alone, not a reason to refuse the
        // state: `discover` saves a new one.
        if let Ok(head) = serde_json::from_str::<Head>(&text) {
            // No fingerprint of its contents: the next `discover` writes its own.
            backend.save_observation(head.taken_at, "imported", &text)?;
            imported.observation = true;
        }
    }
    if imported.catalog == 0 && imported.journal == 0 && !imported.observation {
        return Ok(None);
    }
    Ok(Some(imported))
}
