//! The restore-test provider: the test restores `apply` ran, as its journal records them.

use std::path::Path;

use super::sql::RestoreTestRecord;
use crate::state::journal::JournalLine;

/// The test restores of the journal, oldest first: the `end` lines of `restore-test`
/// actions. An unreadable journal reads as none (every database then looks untested, which
/// errs on the side of testing again).
pub fn restore_tests(state: &Path) -> Vec<RestoreTestRecord> {
    let Ok(text) = std::fs::read_to_string(state.join("journal.jsonl")) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| l.contains("\"restore-test\""))
        .filter_map(|l| serde_json::from_str::<JournalLine>(l).ok())
        .filter(|l| l.kind == "restore-test" && l.step == "end")
        .filter(|l| matches!(l.outcome.as_deref(), Some("ok" | "failed")))
        .map(|l| RestoreTestRecord {
            address: l.address,
            finished: l.at,
            ok: l.outcome.as_deref() == Some("ok"),
            duration_ms: l.duration_ms.unwrap_or(0),
            message: l.message,
        })
        .collect()
}
