//! Restore chains: which backup sets, restored in which order, bring a database back to
//! which point in time. Works on any list of sets — SQL Server's whole history, or only the
//! sets whose files a site holds — and knows nothing of files, stores or sites. Pure.
//!
//! The rules (docs/restoring.md has them with examples):
//! - a chain starts with a full backup; a copy-only full can start one but is never a
//!   differential's base;
//! - a differential follows the full whose `checkpoint_lsn` equals its `database_backup_lsn`;
//! - a log backup follows when its `first_lsn` ≤ the LSN restored so far < its `last_lsn`:
//!   it may overlap the full or the previous log (a copy-only log, a log taken during a full);
//! - every set of a chain belongs to one database (`family_guid`); a log of another
//!   `database_guid` follows only across a recovery fork it names (`fork_point_lsn` at or
//!   after the LSN restored so far).

use jiff::Timestamp;

/// What kind of backup a set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    Full,
    Diff,
    Log,
}

impl SetKind {
    /// msdb's `full`/`diff`/`log` as standby names them.
    pub fn of(name: &str) -> Option<Self> {
        match name {
            "full" => Some(Self::Full),
            "diff" => Some(Self::Diff),
            "log" => Some(Self::Log),
            _ => None,
        }
    }
}

/// One backup set as the chain rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSet {
    pub kind: SetKind,
    pub copy_only: bool,
    pub first_lsn: u128,
    pub last_lsn: u128,
    /// `None` in observations made before it was read: a differential's base is then the
    /// full whose LSN range holds its `database_backup_lsn`.
    pub checkpoint_lsn: Option<u128>,
    pub database_backup_lsn: u128,
    pub fork_point_lsn: Option<u128>,
    pub database_guid: Option<String>,
    pub family_guid: Option<String>,
    pub finished: Timestamp,
}

/// A restorable sequence: indexes into the sets it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub full: usize,
    pub diff: Option<usize>,
    pub logs: Vec<usize>,
    /// The newest point in time it restores to: the end of its last set.
    pub reaches: Timestamp,
    /// The LSN restored at its end.
    pub last_lsn: u128,
}

impl Chain {
    /// Its sets in restore order.
    pub fn sets(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.full)
            .chain(self.diff)
            .chain(self.logs.iter().copied())
    }

    pub fn len(&self) -> usize {
        1 + usize::from(self.diff.is_some()) + self.logs.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The set that restores `at`: the first whose end is at or after it.
    pub fn covering(&self, sets: &[BackupSet], at: Timestamp) -> Option<usize> {
        self.sets().find(|&i| sets[i].finished >= at)
    }
}

/// Where a restore stands after some sets.
#[derive(Clone, Copy)]
struct Point<'a> {
    lsn: u128,
    database_guid: Option<&'a str>,
    family_guid: Option<&'a str>,
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    }
}

impl<'a> Point<'a> {
    fn after(set: &'a BackupSet) -> Self {
        Self {
            lsn: set.last_lsn,
            database_guid: set.database_guid.as_deref(),
            family_guid: set.family_guid.as_deref(),
        }
    }

    /// Whether `log` can be restored next.
    fn takes(&self, log: &BackupSet) -> bool {
        let lsn = log.first_lsn <= self.lsn && self.lsn < log.last_lsn;
        let branch = same(self.database_guid, log.database_guid.as_deref())
            || log.fork_point_lsn.is_some_and(|fork| self.lsn <= fork);
        lsn && branch && same(self.family_guid, log.family_guid.as_deref())
    }
}

/// Whether `diff` can be restored right after `full`.
pub fn is_base(full: &BackupSet, diff: &BackupSet) -> bool {
    if full.kind != SetKind::Full || diff.kind != SetKind::Diff || full.copy_only {
        return false;
    }
    let base = match full.checkpoint_lsn {
        Some(checkpoint) => diff.database_backup_lsn == checkpoint,
        None => (full.first_lsn..=full.last_lsn).contains(&diff.database_backup_lsn),
    };
    base && diff.last_lsn > full.last_lsn
        && same(full.family_guid.as_deref(), diff.family_guid.as_deref())
}

/// For every full backup, the chain from it that reaches furthest (then: with the fewest
/// sets, then: the newest differential). Oldest full first.
pub fn chains(sets: &[BackupSet]) -> Vec<Chain> {
    let mut logs: Vec<usize> = (0..sets.len())
        .filter(|&i| sets[i].kind == SetKind::Log)
        .collect();
    logs.sort_by_key(|&i| (sets[i].first_lsn, sets[i].last_lsn));
    let mut fulls: Vec<usize> = (0..sets.len())
        .filter(|&i| sets[i].kind == SetKind::Full)
        .collect();
    fulls.sort_by_key(|&i| (sets[i].finished, sets[i].last_lsn));
    fulls
        .into_iter()
        .map(|full| {
            let starts = std::iter::once(None).chain(
                (0..sets.len())
                    .filter(|&d| is_base(&sets[full], &sets[d]))
                    .map(Some),
            );
            starts
                .map(|diff| {
                    let from = &sets[diff.unwrap_or(full)];
                    let logs = roll_forward(sets, &logs, Point::after(from));
                    let end = logs.last().map_or(from, |&l| &sets[l]);
                    Chain {
                        full,
                        diff,
                        reaches: end.finished,
                        last_lsn: end.last_lsn,
                        logs,
                    }
                })
                .max_by(|a, b| {
                    a.reaches
                        .cmp(&b.reaches)
                        .then_with(|| b.len().cmp(&a.len()))
                        .then_with(|| {
                            let last = |c: &Chain| c.diff.map(|d| sets[d].last_lsn);
                            last(a).cmp(&last(b))
                        })
                })
                .unwrap_or(Chain {
                    full,
                    diff: None,
                    logs: Vec::new(),
                    reaches: sets[full].finished,
                    last_lsn: sets[full].last_lsn,
                })
        })
        .collect()
}

/// The chain that reaches the newest point (then: the fewest sets, then: the newest full).
pub fn best(sets: &[BackupSet]) -> Option<Chain> {
    chains(sets).into_iter().max_by(|a, b| {
        a.reaches
            .cmp(&b.reaches)
            .then_with(|| b.len().cmp(&a.len()))
            .then_with(|| sets[a.full].finished.cmp(&sets[b.full].finished))
    })
}

/// [`best`] of the sets at `among` only; the chain's indexes are into `sets`.
pub fn best_among(sets: &[BackupSet], among: &[usize]) -> Option<Chain> {
    let subset: Vec<BackupSet> = among.iter().map(|&i| sets[i].clone()).collect();
    best(&subset).map(|c| Chain {
        full: among[c.full],
        diff: c.diff.map(|d| among[d]),
        logs: c.logs.iter().map(|&l| among[l]).collect(),
        ..c
    })
}

/// The chain that restores the database to `at`, from the sets at `among`: the full and
/// differential finished by then, and the log backups up to the one that holds `at`.
/// `None` when no chain reaches `at`.
pub fn to(sets: &[BackupSet], among: &[usize], at: Timestamp) -> Option<Chain> {
    let usable: Vec<usize> = among
        .iter()
        .copied()
        .filter(|&i| sets[i].kind == SetKind::Log || sets[i].finished <= at)
        .collect();
    let mut chain = best_among(sets, &usable)?;
    if chain.reaches < at {
        return None;
    }
    if let Some(k) = chain.logs.iter().position(|&l| sets[l].finished >= at) {
        chain.logs.truncate(k + 1);
        chain.last_lsn = sets[chain.logs[k]].last_lsn;
    }
    chain.reaches = at;
    Some(chain)
}

/// The log backups restored after `start`, reaching the newest point with the fewest of
/// them: a breadth-first walk, since overlapping and copy-only logs make several paths.
fn roll_forward(sets: &[BackupSet], logs: &[usize], start: Point<'_>) -> Vec<usize> {
    let mut parent: std::collections::HashMap<usize, Option<usize>> =
        std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::new();
    let next = |point: Point<'_>| {
        let upto = logs.partition_point(|&l| sets[l].first_lsn <= point.lsn);
        logs[..upto]
            .iter()
            .copied()
            .filter(move |&l| point.takes(&sets[l]))
            .collect::<Vec<_>>()
    };
    for l in next(start) {
        parent.insert(l, None);
        queue.push_back(l);
    }
    let mut best: Option<usize> = None;
    while let Some(l) = queue.pop_front() {
        if best.is_none_or(|b| sets[l].finished > sets[b].finished) {
            best = Some(l);
        }
        for n in next(Point::after(&sets[l])) {
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(n) {
                e.insert(Some(l));
                queue.push_back(n);
            }
        }
    }
    let mut path = Vec::new();
    let mut at = best;
    while let Some(l) = at {
        path.push(l);
        at = parent.get(&l).copied().flatten();
    }
    path.reverse();
    path
}

/// A gap in the log chain: SQL Server took log backups of the database after `chain`
/// ends, and none of them continues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The LSN the chain restores to.
    pub lsn: u128,
    /// The first later log backup (by `first_lsn`) that cannot follow.
    pub next: usize,
    /// Since when the database cannot be restored further: the end of the chain.
    pub since: Timestamp,
}

/// The gap after `chain` in `sets`, if later log backups of its database exist.
pub fn gap(sets: &[BackupSet], chain: &Chain) -> Option<Gap> {
    let family = sets[chain.full].family_guid.as_deref();
    sets.iter()
        .enumerate()
        .filter(|(_, s)| {
            s.kind == SetKind::Log
                && s.finished > chain.reaches
                && s.last_lsn > chain.last_lsn
                && same(family, s.family_guid.as_deref())
        })
        .min_by_key(|(_, s)| (s.first_lsn, s.finished))
        .map(|(next, _)| Gap {
            lsn: chain.last_lsn,
            next,
            since: chain.reaches,
        })
}

#[cfg(test)]
mod tests;
