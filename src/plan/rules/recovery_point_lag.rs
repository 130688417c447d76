//! `recovery-point-lag`: the newest point a site can restore a database to, from the files
//! really there and verified, is older than `objectives rpo` allows.

use super::super::Out;
use super::super::database::DatabaseState;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::recovery::Recovery;
use crate::units::age;

pub(super) fn check(db: &DatabaseState<'_>, recovery: &Recovery<'_>, out: &mut Out) {
    let Some(rpo) = &db.desired.deployment.objectives.rpo else {
        return;
    };
    if recovery.history.is_none() {
        // No full backup SQL Server remembers: backup-missing says so.
        return;
    }
    let rpo_secs = i64::try_from(rpo.value.as_secs()).unwrap_or(i64::MAX);
    let name = &db.database.name.value;
    for site in &recovery.sites {
        let reaches = site.reaches();
        let behind = reaches.map(|t| db.now.as_second() - t.as_second());
        if behind.is_some_and(|b| b <= rpo_secs) {
            continue;
        }
        let (message, observed) = if let (Some(t), Some(b)) = (reaches, behind) {
            (
                format!(
                    "at {}, {name} can be restored to {t} at the newest, {} ago (rpo {})",
                    site.site,
                    age(b),
                    rpo.value
                ),
                format!("restorable to {t}, {} ago", age(b)),
            )
        } else {
            let why = recovery
                .history
                .as_ref()
                .and_then(|h| {
                    h.sets().find_map(|i| {
                        site.files[i]
                            .as_ref()
                            .err()
                            .map(|e| format!("{} {e}", recovery.sets[i].name()))
                    })
                })
                .unwrap_or_default();
            (
                format!(
                    "at {}, no backup of {name} can be restored: {why}",
                    site.site
                ),
                "nothing restorable".to_owned(),
            )
        };
        out.finding(
            Finding::new(
                &db.address,
                FindingCode::RecoveryPointLag,
                Severity::Critical,
                message,
            )
            .desired(format!("restorable at {} to within {}", site.site, rpo.value))
            .observed(observed)
            .hint("copy the newer backups to this site's stores (copy-to), and back up as often as the RPO asks"),
        );
    }
}
