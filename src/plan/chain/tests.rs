//! The chain rules against the cases public tools got wrong, and against an exhaustive
//! reference on random histories that a simulated SQL Server wrote.

use jiff::Timestamp;

use super::*;

fn at(minute: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + minute * 60).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn set(kind: SetKind, first: u128, last: u128, minute: i64) -> BackupSet {
    BackupSet {
        kind,
        copy_only: false,
        first_lsn: first,
        last_lsn: last,
        checkpoint_lsn: Some(first),
        database_backup_lsn: 0,
        fork_point_lsn: None,
        database_guid: Some("g1".into()),
        family_guid: Some("f1".into()),
        finished: at(minute),
    }
}

fn full(first: u128, checkpoint: u128, last: u128, minute: i64) -> BackupSet {
    BackupSet {
        checkpoint_lsn: Some(checkpoint),
        ..set(SetKind::Full, first, last, minute)
    }
}

fn diff(base: u128, first: u128, last: u128, minute: i64) -> BackupSet {
    BackupSet {
        database_backup_lsn: base,
        ..set(SetKind::Diff, first, last, minute)
    }
}

fn log(first: u128, last: u128, minute: i64) -> BackupSet {
    set(SetKind::Log, first, last, minute)
}

fn best_of(sets: &[BackupSet]) -> (usize, Option<usize>, Vec<usize>) {
    let chain = best(sets).expect("a chain");
    (chain.full, chain.diff, chain.logs)
}

/// dbatools #2167: the log backup whose `first_lsn` equals the differential's `last_lsn` was
/// skipped ("break in LSN chain"). It is the next one to restore.
#[test]
fn dbatools_2167_the_log_starting_at_the_differentials_last_lsn_follows_it() {
    let sets = [
        full(100, 100, 150, 0),
        diff(100, 300, 350, 60),
        log(350, 400, 70),
        log(400, 450, 80),
    ];
    assert_eq!(best_of(&sets), (0, Some(1), vec![2, 3]));
}

/// dbatools #7515: a log backup that overlaps the end of the full (taken while the full
/// ran, its `database_backup_lsn` still naming the previous full) is the first log to
/// restore; filtering logs by `database_backup_lsn` skipped it and reported a break.
#[test]
fn dbatools_7515_a_log_overlapping_the_end_of_the_full_is_its_first_log() {
    let mut overlapping = log(461, 467, 10);
    overlapping.database_backup_lsn = 300;
    let mut second = log(467, 485, 20);
    second.database_backup_lsn = 449;
    let sets = [full(449, 449, 464, 5), overlapping, second];
    let chain = best(&sets).expect("a chain");
    assert_eq!(chain.logs, vec![1, 2]);
    assert_eq!(gap(&sets, &chain), None);
}

/// dbatools #4526 (and #6443, "`LastFull` returns an old backup"): a copy-only full is the
/// newest full and can start a restore, but the differentials stay based on the last
/// normal full.
#[test]
fn dbatools_4526_a_copy_only_full_starts_a_restore_but_is_no_differential_base() {
    let mut copy_only = full(500, 500, 550, 90);
    copy_only.copy_only = true;
    let sets = [
        full(100, 100, 150, 0),
        copy_only,
        diff(100, 600, 650, 120),
        // A diff whose base LSN happens to equal the copy-only full's checkpoint is not
        // based on it: SQL Server never bases a differential on a copy-only full.
        diff(500, 700, 750, 150),
    ];
    let chains = chains(&sets);
    let of = |full| chains.iter().find(|c| c.full == full).expect("a chain");
    assert_eq!(
        of(0).diff,
        Some(2),
        "the normal full takes its newest proper diff"
    );
    assert_eq!(of(1).diff, None);
    assert_eq!(of(1).reaches, at(90));
    assert_eq!(best_of(&sets), (0, Some(2), vec![]));
}

/// The differential's base is found by LSN, never by date: a later full taken elsewhere
/// does not make an older diff its own.
#[test]
fn a_differentials_base_is_found_by_checkpoint_not_by_date() {
    let sets = [
        full(100, 120, 150, 0),
        full(200, 220, 250, 50),
        diff(120, 300, 350, 60), // based on the first full, though taken after the second
    ];
    let chains = chains(&sets);
    assert_eq!(chains[0].diff, Some(2));
    assert_eq!(chains[1].diff, None);
}

/// Without checkpoint LSNs (an old snapshot), the base is the full whose range holds it.
#[test]
fn without_checkpoints_the_base_is_the_full_whose_range_holds_it() {
    let mut old = full(100, 0, 150, 0);
    old.checkpoint_lsn = None;
    let sets = [old, diff(120, 300, 350, 60)];
    assert_eq!(best_of(&sets), (0, Some(1), vec![]));
}

/// A full taken by someone else (to a path nobody declared) rebases the differentials but
/// breaks no log chain: without its file, the older full and every log still restore.
#[test]
fn a_foreign_full_rebases_differentials_but_breaks_no_log_chain() {
    let all = [
        full(100, 100, 150, 0),
        log(100, 200, 60),
        full(210, 210, 260, 70), // the foreign full
        log(200, 300, 120),
        diff(210, 310, 350, 130), // based on the foreign full
        log(300, 400, 180),
    ];
    let held: Vec<BackupSet> = [0, 1, 3, 4, 5].iter().map(|&i| all[i].clone()).collect();
    let chain = best(&held).expect("a chain");
    assert_eq!((chain.full, chain.diff), (0, None));
    assert_eq!(chain.logs, vec![1, 2, 4]);
    assert_eq!(chain.reaches, at(180));
}

/// Copy-only log backups do not truncate the log: the next normal log starts where the
/// previous normal one ended, and either path restores.
#[test]
fn copy_only_logs_break_nothing() {
    let mut copy_only = log(200, 250, 30);
    copy_only.copy_only = true;
    let sets = [
        full(100, 100, 150, 0),
        log(100, 200, 20),
        copy_only,
        log(200, 300, 40),
    ];
    let chain = best(&sets).expect("a chain");
    assert_eq!(chain.logs, vec![1, 3]);
    assert_eq!(gap(&sets, &chain), None);
    // Without the normal log, the copy-only one carries the chain as far as it goes.
    let short = [sets[0].clone(), sets[1].clone(), sets[2].clone()];
    assert_eq!(best(&short).expect("a chain").reaches, at(30));
}

/// A missing log backup is a gap: which LSN, which backup cannot follow, since when.
#[test]
fn a_missing_log_is_a_gap_after_the_last_restorable_one() {
    let sets = [
        full(100, 100, 150, 0),
        log(100, 200, 60),
        log(300, 400, 180),
    ];
    let chain = best(&sets).expect("a chain");
    assert_eq!(chain.logs, vec![1]);
    assert_eq!(
        gap(&sets, &chain),
        Some(Gap {
            lsn: 200,
            next: 2,
            since: at(60)
        })
    );
}

/// A recovery fork: the database was restored WITH RECOVERY to LSN 200 and went on; the
/// old branch's later log is never mixed into the new branch.
#[test]
fn a_recovery_fork_continues_on_the_new_branch_only() {
    let old_branch = log(200, 300, 30);
    let mut across = BackupSet {
        database_guid: Some("g2".into()),
        fork_point_lsn: Some(200),
        ..log(200, 260, 90)
    };
    let mut after = BackupSet {
        database_guid: Some("g2".into()),
        ..log(260, 320, 120)
    };
    let sets = [
        full(100, 100, 150, 0),
        log(100, 200, 20),
        old_branch,
        across.clone(),
        after.clone(),
    ];
    let chain = best(&sets).expect("a chain");
    assert_eq!(chain.logs, vec![1, 3, 4]);
    assert_eq!(chain.reaches, at(120));
    // From past the fork point on the old branch the new branch cannot be reached.
    across.fork_point_lsn = Some(180);
    after.first_lsn = 260;
    let sets = [full(100, 100, 150, 0), log(100, 200, 20), across, after];
    assert_eq!(best(&sets).expect("a chain").logs, vec![1]);
}

/// A database dropped and re-created under the same name is another database: its logs
/// never continue the old one's chain, though their LSNs fall in range.
#[test]
fn a_re_created_database_is_another_chain() {
    let new = |s: BackupSet| BackupSet {
        database_guid: Some("g9".into()),
        family_guid: Some("f9".into()),
        ..s
    };
    let sets = [
        full(100, 100, 150, 0),
        new(full(40, 40, 60, 100)),
        new(log(40, 180, 160)),
    ];
    let chains = chains(&sets);
    assert!(chains[0].logs.is_empty());
    assert_eq!(
        gap(&sets, &chains[0]),
        None,
        "the new database's log is no gap"
    );
    assert_eq!(best_of(&sets), (1, None, vec![2]));
}

/// Of several differentials on one base the newest is restored; logs follow it.
#[test]
fn the_newest_differential_on_the_base_is_restored() {
    let sets = [
        full(100, 100, 150, 0),
        diff(100, 200, 250, 60),
        diff(100, 300, 350, 120),
        log(100, 200, 50),
        log(200, 260, 100),
        log(260, 360, 130),
        log(360, 400, 140),
    ];
    // The logs from the full reach as far, but through the newest diff it takes fewer sets.
    assert_eq!(best_of(&sets), (0, Some(2), vec![5, 6]));
}

// ---------------------------------------------------------------------------------------
// Random histories against an exhaustive reference
// ---------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A history as SQL Server would write it: activity moves the LSN on; a full starts the
/// log chain and (unless copy-only) becomes the differential base; a log backup starts at
/// the end of the previous normal one, so it overlaps a full taken meanwhile; a restore
/// WITH RECOVERY to an earlier log forks; a re-created database starts over.
fn history(random: &mut Random) -> Vec<BackupSet> {
    let mut sets = Vec::new();
    let mut lsn: u128 = 1000;
    let mut minute = 0;
    let mut log_mark: Option<u128> = None;
    let mut base: Option<u128> = None;
    let mut guid = 1;
    let mut family = 1;
    let mut fork: Option<u128> = None;
    let events = 3 + random.below(10);
    for _ in 0..events {
        lsn += u128::from(1 + random.below(50));
        minute += 1 + i64::try_from(random.below(30)).unwrap_or(0);
        let make = |kind, first, last, checkpoint, dbl| BackupSet {
            kind,
            copy_only: false,
            first_lsn: first,
            last_lsn: last,
            checkpoint_lsn: Some(checkpoint),
            database_backup_lsn: dbl,
            fork_point_lsn: None,
            database_guid: Some(format!("g{guid}")),
            family_guid: Some(format!("f{family}")),
            finished: at(minute),
        };
        match random.below(10) {
            0..=2 => {
                let copy_only = random.chance(25);
                let first = lsn;
                let checkpoint = first + u128::from(random.below(5));
                let last = checkpoint + 1 + u128::from(random.below(10));
                let mut s = make(SetKind::Full, first, last, checkpoint, base.unwrap_or(0));
                s.copy_only = copy_only;
                sets.push(s);
                if !copy_only {
                    base = Some(checkpoint);
                }
                log_mark.get_or_insert(first);
                lsn = last;
            }
            3 if base.is_some() => {
                let first = lsn;
                let last = first + 1 + u128::from(random.below(10));
                sets.push(make(SetKind::Diff, first, last, first, base.unwrap_or(0)));
                lsn = last;
            }
            4..=7 => {
                if let Some(mark) = log_mark {
                    let mut s = make(SetKind::Log, mark, lsn, mark, base.unwrap_or(0));
                    s.fork_point_lsn = fork.take();
                    s.copy_only = random.chance(15);
                    if !s.copy_only {
                        log_mark = Some(lsn);
                    }
                    sets.push(s);
                }
            }
            8 => {
                // Restore WITH RECOVERY to the end of an earlier log of this database.
                let ends: Vec<u128> = sets
                    .iter()
                    .filter(|s| {
                        s.kind == SetKind::Log && s.database_guid == Some(format!("g{guid}"))
                    })
                    .map(|s| s.last_lsn)
                    .collect();
                if !ends.is_empty() {
                    let point = ends[usize::try_from(random.below(ends.len() as u64)).unwrap_or(0)];
                    guid += 1;
                    lsn = point + 1;
                    log_mark = Some(point);
                    fork = Some(point);
                    base = None;
                }
            }
            9 if random.chance(30) => {
                family += 1;
                guid += 1;
                lsn = 1000 + u128::from(random.below(200));
                log_mark = None;
                base = None;
                fork = None;
            }
            _ => {}
        }
    }
    sets
}

/// Restores one set after another as SQL Server checks them; `None` when it would refuse.
fn restore(sets: &[BackupSet], order: &[usize]) -> Option<u128> {
    let (&first, rest) = order.split_first()?;
    let full = &sets[first];
    if full.kind != SetKind::Full {
        return None;
    }
    let mut redo = full.last_lsn;
    let mut guid = full.database_guid.clone();
    for (n, &i) in rest.iter().enumerate() {
        let s = &sets[i];
        if s.family_guid != full.family_guid {
            return None;
        }
        match s.kind {
            SetKind::Full => return None,
            SetKind::Diff => {
                // Only right after the full, on its checkpoint, and never on a copy-only.
                if n != 0
                    || full.copy_only
                    || Some(s.database_backup_lsn) != full.checkpoint_lsn
                    || s.last_lsn <= redo
                {
                    return None;
                }
                redo = s.last_lsn;
            }
            SetKind::Log => {
                if s.first_lsn > redo || s.last_lsn <= redo {
                    return None; // Msg 4305 / 4326
                }
                if s.database_guid != guid && s.fork_point_lsn.is_none_or(|f| redo > f) {
                    return None;
                }
                redo = s.last_lsn;
                guid.clone_from(&s.database_guid);
            }
        }
    }
    Some(redo)
}

/// The newest point any valid order of `sets` restores to, found by trying them all.
fn reference(sets: &[BackupSet]) -> Option<Timestamp> {
    fn walk(sets: &[BackupSet], order: &mut Vec<usize>, best: &mut Option<Timestamp>) {
        for i in 0..sets.len() {
            if order.contains(&i) {
                continue;
            }
            order.push(i);
            if restore(sets, order).is_some() {
                let end = sets[i].finished;
                if best.is_none_or(|b| end > b) {
                    *best = Some(end);
                }
                walk(sets, order, best);
            }
            order.pop();
        }
    }
    let mut best = None;
    walk(sets, &mut Vec::new(), &mut best);
    best
}

#[test]
fn on_random_histories_and_random_missing_files_the_model_matches_the_reference() {
    let mut random = Random(0x5eed_cafe_f00d_0001);
    let mut with_gaps = 0;
    for case in 0..3000 {
        let all = history(&mut random);
        let held: Vec<BackupSet> = all.iter().filter(|_| random.chance(80)).cloned().collect();
        for sets in [&all, &held] {
            let expected = reference(sets);
            let chain = best(sets);
            assert_eq!(
                chain.as_ref().map(|c| c.reaches),
                expected,
                "case {case}: {sets:#?}\nmodel: {chain:#?}"
            );
            for c in chains(sets) {
                let order: Vec<usize> = c.sets().collect();
                assert!(
                    restore(sets, &order).is_some(),
                    "case {case}: the model's chain {order:?} does not restore: {sets:#?}"
                );
            }
            if let Some(chain) = &chain
                && gap(sets, chain).is_some()
            {
                with_gaps += 1;
            }
        }
    }
    // The generator does make broken chains (held files missing), not only healthy ones.
    assert!(with_gaps > 100, "only {with_gaps} histories with gaps");
}

/// A point in time: the chain stops at the log that holds it; a differential finished
/// after it is not used.
#[test]
fn a_chain_to_a_point_in_time_stops_at_the_log_holding_it() {
    let sets = [
        full(100, 100, 150, 0),
        log(100, 200, 60),
        diff(100, 210, 250, 90),
        log(200, 300, 120),
        log(300, 400, 180),
    ];
    let all: Vec<usize> = (0..sets.len()).collect();
    let chain = to(&sets, &all, at(70)).expect("a chain");
    assert_eq!(
        (chain.diff, chain.logs.clone(), chain.reaches),
        (None, vec![1, 3], at(70))
    );
    let chain = to(&sets, &all, at(150)).expect("a chain");
    assert_eq!((chain.diff, chain.logs), (Some(2), vec![3, 4]));
    assert_eq!(to(&sets, &all, at(200)), None, "nothing reaches past 180");
}
