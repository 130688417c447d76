//! `backup-future`: a backup dated in the future: some clock is wrong, and freshness
//! cannot be trusted until it is fixed.

use super::super::Out;
use super::super::action::Action;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::units::age;

/// Clocks drift a little; only more than this is reported.
const TOLERANCE_SECONDS: i64 = 300;

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) {
    let future: Vec<_> = item
        .backups
        .iter()
        .filter(|b| b.time.as_second() - item.now.as_second() > TOLERANCE_SECONDS)
        .collect();
    let Some(furthest) = future.first() else {
        return;
    };
    let ahead = furthest.time.as_second() - item.now.as_second();
    out.finding(
        Finding::new(
            &item.item.address,
            FindingCode::BackupFuture,
            Severity::Warning,
            format!("{} backup(s) dated in the future, up to {} ahead: {}", future.len(), age(ahead), super::list(&future)),
        )
        .observed(format!("newest {}", furthest.time))
        .hint("check the clock of the machine that wrote them and of this one; a future-dated backup hides a stale item"),
    );
    out.action(Action::manual(
        &item.item.address,
        &[FindingCode::BackupFuture],
        format!(
            "Check the clocks: {} is dated {} ahead of now",
            furthest.entry.path,
            age(ahead)
        ),
        item.owner,
    ));
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{export, healthy, local, run};
    use crate::plan::FindingCode;

    #[test]
    fn a_backup_dated_tomorrow_is_reported_but_a_few_minutes_is_tolerated() {
        let mut observed = healthy();
        local(&mut observed).push(export("20261122T120400Z"));
        assert!(run(observed).findings.is_empty());
        let mut observed = healthy();
        local(&mut observed).push(export("20261123T120000Z"));
        let plan = run(observed);
        let future: Vec<_> = plan
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::BackupFuture)
            .collect();
        assert_eq!(future.len(), 1);
        assert!(
            future[0].message.contains("up to 1d ahead"),
            "{}",
            future[0].message
        );
    }
}
