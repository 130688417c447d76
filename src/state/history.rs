//! The history of findings: when each appeared and when it was resolved. Every complete
//! `check`, `plan` or `audit` run records what it found ([`super::Backend::record_findings`]);
//! `standby history` reads it back.

use jiff::Timestamp;
use serde::Serialize;

/// One finding as a run saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingSeen {
    pub address: String,
    pub code: String,
    pub severity: String,
    pub message: String,
}

/// One stretch of time during which a finding was open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingSpan {
    /// The kind of run that found it: `check` (also `plan` and `apply`) or `audit`.
    pub source: String,
    pub address: String,
    pub code: String,
    /// As the most recent run that saw it rated it.
    pub severity: String,
    pub message: String,
    pub appeared: Timestamp,
    /// When a run no longer found it; `None` while it is still open.
    pub resolved: Option<Timestamp>,
    /// When a run last saw it open.
    pub last_seen: Timestamp,
}

/// Which open findings a run resolves and which it opens, given what it saw: the pure rule
/// both backends apply inside one transaction. Returns (indexes into `open` to resolve,
/// indexes into `seen` to insert, indexes into `seen` that update an open one with its
/// index into `open`).
pub fn reconcile(open: &[(String, String)], seen: &[FindingSeen]) -> Reconciled {
    use std::collections::HashMap;
    let open_at: HashMap<(&str, &str), usize> = open
        .iter()
        .enumerate()
        .map(|(i, (a, c))| ((a.as_str(), c.as_str()), i))
        .collect();
    let mut still = vec![false; open.len()];
    let mut reconciled = Reconciled::default();
    let mut once = std::collections::HashSet::new();
    for (i, finding) in seen.iter().enumerate() {
        let key = (finding.address.as_str(), finding.code.as_str());
        if !once.insert(key) {
            continue;
        }
        match open_at.get(&key) {
            Some(&o) => {
                still[o] = true;
                reconciled.update.push(i);
            }
            None => reconciled.appear.push(i),
        }
    }
    reconciled.resolve = still
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i)
        .collect();
    reconciled
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub resolve: Vec<usize>,
    pub appear: Vec<usize>,
    pub update: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(address: &str, code: &str) -> FindingSeen {
        FindingSeen {
            address: address.into(),
            code: code.into(),
            severity: "warning".into(),
            message: String::new(),
        }
    }

    #[test]
    fn new_findings_appear_gone_ones_resolve_and_repeats_count_once() {
        let open = vec![
            ("a/x".to_owned(), "backup-stale".to_owned()),
            ("b/y".to_owned(), "copy-missing".to_owned()),
        ];
        let now = [
            seen("a/x", "backup-stale"),
            seen("c/z", "backup-missing"),
            seen("c/z", "backup-missing"),
        ];
        let r = reconcile(&open, &now);
        assert_eq!(r.resolve, vec![1]);
        assert_eq!(r.appear, vec![1]);
        assert_eq!(r.update, vec![0]);
    }
}
