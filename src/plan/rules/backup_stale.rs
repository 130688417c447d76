//! `backup-stale`: the newest backup is older than the item's `warn` (warning) or `crit`
//! (critical) threshold.

use super::super::Out;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::units::age;

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) {
    let Some(newest) = item.backups.first() else {
        return;
    };
    let policy = item.item.policy;
    let seconds = item.now.as_second() - newest.time.as_second();
    let over = |threshold: crate::desired::Duration| {
        seconds > i64::try_from(threshold.as_secs()).unwrap_or(i64::MAX)
    };
    let (severity, threshold) = if over(policy.crit) {
        (Severity::Critical, format!("crit {}", policy.crit))
    } else if over(policy.warn) {
        (Severity::Warning, format!("warn {}", policy.warn))
    } else {
        return;
    };
    out.finding(
        Finding::new(
            &item.item.address,
            FindingCode::BackupStale,
            severity,
            format!("newest backup is {} old ({threshold})", age(seconds)),
        )
        .desired(format!(
            "every {}, warn {}, crit {}",
            policy.every.value, policy.warn, policy.crit
        ))
        .observed(format!("newest {} ({})", newest.time, newest.entry.path))
        .hint("the planned action takes one now; find out why the schedule did not"),
    );
    super::new_backup(item, FindingCode::BackupStale, out);
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{full, healthy, local, offsite, run};
    use crate::plan::{FindingCode, Severity};

    fn with_newest_full(stamp: &str) -> crate::plan::Plan {
        let mut observed = healthy();
        local(&mut observed).retain(|e| !e.path.contains("/database/"));
        local(&mut observed).push(full(stamp));
        offsite(&mut observed).clear();
        offsite(&mut observed).push(full(stamp));
        run(observed)
    }

    #[test]
    fn thresholds_come_from_every_capped_at_the_rpo() {
        // every 12h: warn 15h, crit 18h. Now is 2026-11-22T12:00Z.
        let fresh = with_newest_full("20261121T220000Z"); // 14h
        assert!(
            fresh
                .findings
                .iter()
                .all(|f| f.code != FindingCode::BackupStale)
        );
        let warning = with_newest_full("20261121T200000Z"); // 16h
        let stale: Vec<_> = warning
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::BackupStale)
            .collect();
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].severity, Severity::Warning);
        assert_eq!(stale[0].message, "newest backup is 16h old (warn 15h)");
        let critical = with_newest_full("20261121T170000Z"); // 19h
        let stale: Vec<_> = critical
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::BackupStale)
            .collect();
        assert_eq!(stale[0].severity, Severity::Critical);
        assert_eq!(stale[0].message, "newest backup is 19h old (crit 18h)");
    }
}
