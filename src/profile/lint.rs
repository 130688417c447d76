//! Best-practice lints of the OCS 2007 R2 profile: the desired state is valid, but falls
//! short of what the backup and restoration guide recommends. Each is a warning with a stable
//! code and a help line; `validate --strict` makes them errors.

use crate::desired::{Code, DatabaseBackupKind, Desired, Diagnostic, Duration, ItemKind, SiteRole};

const DAY: Duration = Duration::from_secs(86_400);

pub(super) fn check(desired: &Desired) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    full_backups(desired, &mut out);
    window(desired, &mut out);
    restore_test(desired, &mut out);
    standby_sites(desired, &mut out);
    owners(desired, &mut out);
    scenarios(desired, &mut out);
    restore_sequence(desired, &mut out);
    log_volumes(desired, &mut out);
    copies(desired, &mut out);
    out
}

/// Every database has a full backup at least every 24 hours.
fn full_backups(desired: &Desired, out: &mut Vec<Diagnostic>) {
    for site in &desired.sites {
        for db in &site.databases {
            let full = db
                .backups
                .iter()
                .find(|b| *b.kind == DatabaseBackupKind::Full);
            match full {
                None => out.push(
                    Diagnostic::warning(
                        Code::FullBackupInfrequent,
                        format!("database `{}/{}` has no full backup", site.name.value, db.name.value),
                    )
                    .at(db.name.span, "no `backup \"full\"`")
                    .with_help("every restore starts from a full backup: add backup \"full\" every=\"24h\" …"),
                ),
                Some(full) if full.policy.every.value > DAY => out.push(
                    Diagnostic::warning(
                        Code::FullBackupInfrequent,
                        format!(
                            "database `{}/{}` has a full backup only every {}",
                            site.name.value, db.name.value, full.policy.every.value
                        ),
                    )
                    .at(full.policy.every.span, "longer than 24h")
                    .with_help("the guide asks for a full backup at least daily: every=\"24h\""),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Log backups run at any hour; every other backup, copy, export and snapshot waits for the
/// backup window (`apply`). An item due more often than the window comes round goes stale.
fn window(desired: &Desired, out: &mut Vec<Diagnostic>) {
    let Some(window) = &desired.deployment.backup_window else {
        return;
    };
    let (start, end) = (window.start.minutes(), window.end.minutes());
    let open = if start < end {
        end - start
    } else {
        24 * 60 - start + end
    };
    let closed = Duration::from_secs(u64::from(24 * 60 - open) * 60);
    for item in desired.backup_items() {
        let runs_any_time = matches!(item.kind, ItemKind::Database(_, b) if b.kind.runs_any_hour());
        if runs_any_time || item.policy.crit >= closed {
            continue;
        }
        out.push(
            Diagnostic::warning(
                Code::ScheduleOutsideWindow,
                format!(
                    "{} is due every {} and critical after {}, but `apply` runs it only in the \
                     backup window {}–{}: {} a day pass outside it",
                    item.address,
                    item.policy.every.value,
                    item.policy.crit,
                    window.start.value,
                    window.end.value,
                    closed
                ),
            )
            .at(item.policy.every.span, "more often than the window opens")
            .with_related(window.start.span, "the backup window")
            .with_help(format!(
                "widen the window, back it up less often, or run `standby apply \
                 --ignore-window --target {}` from the job that keeps it",
                item.address
            )),
        );
    }
}

fn restore_test(desired: &Desired, out: &mut Vec<Diagnostic>) {
    let has_databases = desired.sites.iter().any(|s| !s.databases.is_empty());
    if has_databases && desired.deployment.objectives.restore_test.is_none() {
        out.push(
            Diagnostic::warning(Code::RestoreTestMissing, "no `restore-test` objective")
                .at(desired.deployment.name.span, "this deployment")
                .with_help(
                    "a backup is only known good once it has been restored: \
                     objectives … restore-test=\"30d\"",
                ),
        );
    }
}

fn standby_sites(desired: &Desired, out: &mut Vec<Diagnostic>) {
    for primary in desired
        .sites
        .iter()
        .filter(|s| *s.role == SiteRole::Primary)
    {
        let standbys: Vec<_> = desired
            .sites
            .iter()
            .filter(|s| {
                s.standby_for
                    .as_ref()
                    .is_some_and(|f| f.value == primary.name.value)
            })
            .collect();
        if standbys.is_empty() {
            out.push(
                Diagnostic::warning(
                    Code::StandbySiteMissing,
                    format!("no standby site stands in for `{}`", primary.name.value),
                )
                .at(primary.name.span, "a primary site without a standby")
                .with_help(format!(
                    "the guide's site-loss scenario needs another site: \
                     site \"…\" role=\"standby\" standby-for=\"{}\" region=\"…\"",
                    primary.name.value
                )),
            );
        }
        for standby in standbys {
            if let (Some(a), Some(b)) = (&primary.region, &standby.region)
                && a.value.eq_ignore_ascii_case(&b.value)
            {
                out.push(
                    Diagnostic::warning(
                        Code::StandbySameRegion,
                        format!(
                            "standby site `{}` is in the same region as `{}` ({})",
                            standby.name.value, primary.name.value, a.value
                        ),
                    )
                    .at(b.span, "same region")
                    .with_related(a.span, "the primary's region")
                    .with_help(
                        "a standby site must survive what takes the primary down: put it in \
                         another geographic region",
                    ),
                );
            }
        }
    }
}

fn owners(desired: &Desired, out: &mut Vec<Diagnostic>) {
    for site in &desired.sites {
        for server in site.servers.iter().filter(|s| s.owner.is_none()) {
            if site.owner.is_some() {
                continue;
            }
            out.push(
                Diagnostic::warning(
                    Code::OwnerMissing,
                    format!("server `{}` has no owner", server.fqdn.value),
                )
                .at(server.fqdn.span, "no `owner`, and its site has none")
                .with_help(
                    "someone must know how to restore it: owner=\"ID\" on the server or its site",
                ),
            );
        }
    }
}

fn scenarios(desired: &Desired, out: &mut Vec<Diagnostic>) {
    let rto = desired.deployment.objectives.rto.as_ref();
    for scenario in &desired.scenarios {
        let mut missing = Vec::new();
        if scenario.owner.is_none() {
            missing.push("an `owner`");
        }
        if scenario.estimate.is_none() {
            missing.push("an `estimate`");
        }
        if scenario.steps.is_empty() {
            missing.push("steps");
        }
        if !missing.is_empty() {
            out.push(
                Diagnostic::warning(
                    Code::ScenarioIncomplete,
                    format!(
                        "scenario `{}` has no {}",
                        scenario.name.value,
                        missing.join(", no ")
                    ),
                )
                .at(scenario.name.span, "incomplete")
                .with_help(
                    "a restoration plan names who carries it out, how long it takes and what \
                     to do: owner=\"ID\" estimate=\"2h\", `step` children or a `template`",
                ),
            );
        }
        if let (Some(rto), Some(estimate)) = (rto, &scenario.estimate)
            && estimate.value > rto.value
        {
            out.push(
                Diagnostic::warning(
                    Code::ScenarioExceedsRto,
                    format!(
                        "scenario `{}` takes {}, beyond the RTO of {}",
                        scenario.name.value, estimate.value, rto.value
                    ),
                )
                .at(estimate.span, "the estimate")
                .with_related(rto.span, "the RTO")
                .with_help(
                    "shorten the restoration (a warm standby, smaller databases, fewer steps) \
                     or agree a longer RTO",
                ),
            );
        }
    }
}

/// The restore sequence's entries that name scenarios run one after the other.
fn restore_sequence(desired: &Desired, out: &mut Vec<Diagnostic>) {
    let Some(rto) = &desired.deployment.objectives.rto else {
        return;
    };
    let mut total = 0;
    let mut named = Vec::new();
    for entry in &desired.restore_sequence {
        if let Some(scenario) = desired
            .scenarios
            .iter()
            .find(|s| s.name.value == entry.value)
            && let Some(estimate) = &scenario.estimate
        {
            total += estimate.value.as_secs();
            named.push(format!("{} ({})", entry.value, estimate.value));
        }
    }
    let total = Duration::from_secs(total);
    if let Some(first) = desired.restore_sequence.first()
        && total > rto.value
    {
        out.push(
            Diagnostic::warning(
                Code::RestoreSequenceExceedsRto,
                format!(
                    "the restore sequence takes {total} ({}), beyond the RTO of {}",
                    named.join(" + "),
                    rto.value
                ),
            )
            .at(first.span, "the restore sequence")
            .with_related(rto.span, "the RTO")
            .with_help(
                "restore less in sequence (let owners work in parallel), shorten the scenarios \
                 or agree a longer RTO",
            ),
        );
    }
}

fn log_volumes(desired: &Desired, out: &mut Vec<Diagnostic>) {
    for site in &desired.sites {
        for db in site.databases.iter().filter(|d| !d.separate_log_volume) {
            out.push(
                Diagnostic::warning(
                    Code::LogVolumeNotSeparate,
                    format!(
                        "database `{}/{}` is not declared `separate-log-volume=#true`",
                        site.name.value, db.name.value
                    ),
                )
                .at(db.name.span, "log and data may share a volume")
                .with_help(
                    "put the transaction log on another volume than the data files, so losing \
                     one keeps the other; then declare separate-log-volume=#true and `plan` \
                     checks it (`log-volume-shared`)",
                ),
            );
        }
    }
}

/// On a primary site, an item kept only at that site does not survive losing it.
fn copies(desired: &Desired, out: &mut Vec<Diagnostic>) {
    for item in desired.backup_items() {
        if *item.site.role != SiteRole::Primary {
            continue;
        }
        let home = item.site.name.value.as_str();
        let elsewhere = std::iter::once(&item.policy.store)
            .chain(&item.policy.copy_to)
            .filter_map(|s| item.site.store(s))
            .any(|s| item.site.location_of(s) != home);
        if !elsewhere {
            out.push(
                Diagnostic::warning(
                    Code::CopyOnlyLocal,
                    format!("every copy of {} is at site `{home}`", item.address),
                )
                .at(item.policy.store.span, "kept only here")
                .with_help(
                    "keep a copy at another site: copy-to=\"STORE\" naming a store located-at \
                     another site",
                ),
            );
        }
    }
}
