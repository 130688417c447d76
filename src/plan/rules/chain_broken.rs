//! `chain-broken`: a site holds backups of a database that cannot be restored, because the
//! chain that would reach them is interrupted — a log backup missing from the site, corrupt
//! or written outside every store, a differential whose base full is gone, or a gap in the
//! log that no backup SQL Server remembers covers (a `BACKUP LOG … TO DISK = 'NUL'`).

use super::super::Out;
use super::super::action::Action;
use super::super::chain;
use super::super::database::DatabaseState;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::recovery::{Recovery, SiteRecovery};

pub(super) fn check(db: &DatabaseState<'_>, recovery: &Recovery<'_>, out: &mut Out) {
    let mut gap_found = false;
    for site in &recovery.sites {
        let stranded = stranded(recovery, site);
        if stranded.is_empty() {
            continue;
        }
        let (reason, is_gap) = reason(recovery, site);
        gap_found |= is_gap;
        let name = &db.database.name.value;
        let past = site
            .reaches()
            .map_or_else(|| "at all".to_owned(), |t| format!("past {t}"));
        let names: Vec<&str> = stranded
            .iter()
            .take(3)
            .map(|&i| recovery.sets[i].name())
            .collect();
        let more = if stranded.len() > 3 { ", …" } else { "" };
        out.finding(
            Finding::new(
                &db.address,
                FindingCode::ChainBroken,
                Severity::Critical,
                format!(
                    "at {}, {name} cannot be restored {past}: {reason}; {} later backup(s) there cannot be restored ({}{more})",
                    site.site,
                    stranded.len(),
                    names.join(", ")
                ),
            )
            .desired("an unbroken restore chain from the newest full backup to the newest log backup")
            .observed(reason)
            .hint(if is_gap {
                "take a full backup now to start a new chain, then find what broke the log (a log backup to NUL or by another tool, a switch to SIMPLE)"
            } else {
                "put the missing backup back (or copy it) and let discover hash it; until then the site restores only to the point shown"
            }),
        );
    }
    if gap_found {
        let full = db.address.detail("full");
        if let Some(id) = out.new_backup_id(&full).cloned() {
            out.also_resolves(&id, FindingCode::ChainBroken);
        } else {
            out.action(Action::manual(
                &db.address,
                &[FindingCode::ChainBroken],
                format!(
                    "Take a full backup of {}: it starts a new restore chain",
                    db.database.name.value
                ),
                db.owner,
            ));
        }
    }
}

/// The sets a site holds that its chain does not reach: newer than where it ends, of the
/// same database. With no chain at all, every set it holds.
fn stranded(recovery: &Recovery<'_>, site: &SiteRecovery<'_>) -> Vec<usize> {
    let sets = &recovery.sets;
    let family = site
        .chain
        .as_ref()
        .and_then(|c| sets[c.full].set.family_guid.as_deref());
    (0..sets.len())
        .filter(|&i| site.files[i].is_ok())
        .filter(|&i| {
            let set = &sets[i].set;
            site.chain.as_ref().is_none_or(|c| {
                set.finished > c.reaches
                    && set.last_lsn > c.last_lsn
                    && family.is_none_or(|f| {
                        set.family_guid
                            .as_deref()
                            .is_none_or(|g| g.eq_ignore_ascii_case(f))
                    })
            })
        })
        .collect()
}

/// Why the chain stops: the first backup of the history's chain the site cannot restore,
/// else the gap in the log itself. The flag says whether it is a gap in the log.
fn reason(recovery: &Recovery<'_>, site: &SiteRecovery<'_>) -> (String, bool) {
    if let Some(history) = &recovery.history {
        for i in history.sets() {
            if let Err(why) = &site.files[i] {
                return (format!("{} {why}", recovery.sets[i].name()), false);
            }
        }
        let sets = recovery.backup_sets();
        if let Some(gap) = chain::gap(&sets, history) {
            let next = &recovery.sets[gap.next];
            return (
                format!(
                    "the log chain breaks after LSN {}: no backup SQL Server remembers holds the log from there to LSN {}, where {} starts",
                    gap.lsn,
                    next.set.first_lsn,
                    next.name()
                ),
                true,
            );
        }
    }
    (
        "no full backup it holds starts a chain to them".to_owned(),
        false,
    )
}
