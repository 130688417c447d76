//! `source-unreachable`: a store, part of one, a file or a fileset's source could not be
//! observed. The item's state is then unknown, never assumed fine.

use super::super::Out;
use super::super::action::Action;
use super::super::database::DatabaseState;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::observe::StoreObservation;

/// What could be observed: the item's store, and its copy store.
pub(super) struct Known {
    pub store: bool,
    pub copy: bool,
}

/// Why a store is not (fully) known for the item, if it is not.
fn store_problem(
    item: &ItemState<'_>,
    name: &str,
    seen: Option<&StoreObservation>,
) -> Option<String> {
    let Some(seen) = seen else {
        return Some(format!(
            "store `{name}` was not observed (the observation predates it)"
        ));
    };
    if let Some(error) = &seen.error {
        return Some(format!(
            "cannot list store `{name}` at {}: {error}",
            seen.root.display()
        ));
    }
    let dir = item.layout.dir.trim_end_matches('/');
    seen.unreadable
        .iter()
        .find(|u| dir.starts_with(&u.path) || u.path.starts_with(dir))
        .map(|u| {
            format!(
                "cannot read {}/{}: {}",
                seen.root.display(),
                u.path,
                u.error
            )
        })
}

/// Why the item's own store is not (fully) known, if it is not: the worksheet says
/// "unknown" exactly where `check` reports `source-unreachable` for the store.
pub(crate) fn item_store_problem(item: &ItemState<'_>) -> Option<String> {
    store_problem(item, &item.store.name.value, item.store_seen)
}

pub(super) fn check(item: &ItemState<'_>, out: &mut Out) -> Known {
    let address = &item.item.address;
    let report = |problem: String, severity: Severity, out: &mut Out| {
        out.finding(
            Finding::new(
                address,
                FindingCode::SourceUnreachable,
                severity,
                format!("state unknown: {problem}"),
            )
            .hint("fix access for the account standby runs as, then run `standby discover` again"),
        );
        out.action(Action::manual(
            address,
            &[FindingCode::SourceUnreachable],
            format!("Restore access: {problem}"),
            item.owner,
        ));
    };
    let problem = item_store_problem(item);
    let store = problem.is_none();
    if let Some(problem) = problem {
        report(problem, Severity::Critical, out);
    }
    let mut copy = true;
    if let Some(copy_store) = item.copy_store
        && let Some(problem) = store_problem(item, &copy_store.name.value, item.copy_seen)
    {
        report(problem, Severity::Critical, out);
        copy = false;
    }
    if let crate::desired::ItemKind::Fileset(fileset) = item.item.kind {
        match item.source {
            None => report(
                format!(
                    "the source of fileset `{}` was not observed",
                    fileset.name.value
                ),
                Severity::Critical,
                out,
            ),
            Some(source) => {
                if let Some(error) = &source.error {
                    report(
                        format!("cannot read {}: {error}", source.path.display()),
                        Severity::Critical,
                        out,
                    );
                } else if let Some(part) = source.unreadable.first() {
                    report(
                        format!(
                            "cannot read {}/{}: {}",
                            source.path.display(),
                            part.path,
                            part.error
                        ),
                        Severity::Warning,
                        out,
                    );
                }
            }
        }
    }
    // The snapshot a restore would use left source entries out: never called complete.
    if let Some(newest) = item.backups.first()
        && let Some(first) = newest.entry.skipped.first()
    {
        report(
            format!(
                "the newest snapshot {} is incomplete: {} source entr(ies) skipped, e.g. {first}",
                newest.entry.path,
                newest.entry.skipped.len()
            ),
            Severity::Warning,
            out,
        );
    }
    for backup in item.backups.iter().chain(&item.copies) {
        if let Some(error) = &backup.entry.error {
            report(
                format!("cannot read {}: {error}", backup.entry.path),
                Severity::Warning,
                out,
            );
        }
    }
    Known { store, copy }
}

/// A database whose instance could not be observed: its state is unknown. `true` when the
/// instance was observed.
pub(super) fn check_database(db: &DatabaseState<'_>, out: &mut Out) -> bool {
    let instance = &db.database.instance.value;
    let problem = match db.instance {
        None => format!(
            "sql-instance `{instance}` was not observed (the observation predates it, or was taken without SQL Server)"
        ),
        Some(seen) => match &seen.error {
            None => return true,
            Some(error) => format!("sql-instance `{instance}` ({}): {error}", seen.server),
        },
    };
    out.finding(
        Finding::new(
            &db.address,
            FindingCode::SourceUnreachable,
            Severity::Critical,
            format!("state unknown: {problem}"),
        )
        .hint("check the address, the login and the password-env variable, then run `standby discover` again"),
    );
    out.action(Action::manual(
        &db.address,
        &[FindingCode::SourceUnreachable],
        format!("Restore access: {problem}"),
        db.owner,
    ));
    false
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{codes, healthy, run, sql};
    use crate::observe::UnreadablePath;

    #[test]
    fn an_unlisted_store_makes_its_items_unknown_not_missing() {
        let mut observed = healthy();
        observed.stores[0].error = Some("Permission denied (os error 13)".into());
        observed.stores[0].entries.clear();
        let plan = run(observed);
        let found = codes(&plan);
        assert!(
            found.iter().all(|(_, code)| code == "source-unreachable"),
            "{found:?}"
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(plan.findings[0].message.contains("Permission denied"));
    }

    #[test]
    fn an_unreadable_directory_affects_only_the_items_below_it() {
        let mut observed = healthy();
        observed.stores[0].unreadable.push(UnreadablePath {
            path: "s/settings".into(),
            error: "denied".into(),
        });
        let found = codes(&run(observed));
        assert_eq!(
            found,
            vec![(
                "s/settings/global".to_owned(),
                "source-unreachable".to_owned()
            )]
        );
    }

    #[test]
    fn a_store_missing_from_the_observation_is_unknown() {
        let mut observed = healthy();
        observed.stores.remove(1);
        let found = codes(&run(observed));
        assert_eq!(
            found,
            vec![(
                "s/database/db/full".to_owned(),
                "source-unreachable".to_owned()
            )]
        );
    }

    #[test]
    fn an_unreadable_fileset_source_is_reported() {
        let mut observed = healthy();
        observed.filesets[0].error = Some("No such file or directory".into());
        let found = codes(&run(observed));
        assert_eq!(
            found,
            vec![(
                "s/fileset/files".to_owned(),
                "source-unreachable".to_owned()
            )]
        );
    }

    #[test]
    fn an_instance_that_refused_the_login_makes_its_databases_unknown() {
        let mut observed = healthy();
        let instance = sql(&mut observed);
        instance.error = Some("cannot log in to sql.example:1433: SQL Server error 18456 (severity 14, state 1): Login failed for user 'standby'.".into());
        instance.databases.clear();
        instance.backups.clear();
        let plan = run(observed);
        assert_eq!(
            codes(&plan),
            vec![("s/database/db".to_owned(), "source-unreachable".to_owned())]
        );
        assert!(plan.findings[0].message.contains("18456"));
    }

    #[test]
    fn an_observation_without_the_instance_is_not_taken_as_healthy() {
        let mut observed = healthy();
        observed.sql.clear();
        let plan = run(observed);
        assert_eq!(
            codes(&plan),
            vec![("s/database/db".to_owned(), "source-unreachable".to_owned())]
        );
    }
}
