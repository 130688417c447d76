//! The restore-test provider: the test restores `apply` ran, as its journal records them.

use super::sql::RestoreTestRecord;
use crate::state::journal::JournalLine;

/// The test restores among journal lines, oldest first: the `end` lines of `restore-test`
/// actions that passed or failed.
pub fn restore_tests(lines: impl IntoIterator<Item = JournalLine>) -> Vec<RestoreTestRecord> {
    lines
        .into_iter()
        .filter(|l| l.kind == "restore-test" && l.step == "end")
        .filter(|l| matches!(l.outcome.as_deref(), Some("ok" | "failed")))
        .map(|l| RestoreTestRecord {
            ok: l.outcome.as_deref() == Some("ok"),
            address: l.address,
            finished: l.at,
            duration_ms: l.duration_ms.unwrap_or(0),
            message: l.message,
        })
        .collect()
}
