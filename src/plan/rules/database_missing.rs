//! `database-missing`: a declared database does not exist on its instance, or exists but is
//! not online (restoring, suspect, offline): either way nothing can be backed up.

use super::super::Out;
use super::super::action::Action;
use super::super::database::DatabaseState;
use super::super::finding::{Finding, FindingCode, Severity};

/// Reports the database when it is missing or not online; `true` when it is usable.
pub(super) fn check(db: &DatabaseState<'_>, out: &mut Out) -> bool {
    let name = &db.database.name.value;
    let instance = &db.database.instance.value;
    let (message, what) = match db.observed {
        Some(observed) if observed.is_online() => return true,
        Some(observed) => (
            format!(
                "database {name} on instance `{instance}` is {}, not ONLINE",
                observed.state
            ),
            format!(
                "Bring {name} online on instance `{instance}` (it is {}), or restore it from its newest backups",
                observed.state
            ),
        ),
        None => (
            format!("database {name} does not exist on instance `{instance}`"),
            format!(
                "Restore {name} on instance `{instance}` from its newest backups, or correct the declaration"
            ),
        ),
    };
    out.finding(
        Finding::new(
            &db.address,
            FindingCode::DatabaseMissing,
            Severity::Critical,
            message,
        )
        .desired("ONLINE")
        .observed(db.observed.map_or("absent", |o| o.state.as_str()))
        .hint("until it is back, none of its backups can be taken"),
    );
    out.action(Action::manual(
        &db.address,
        &[FindingCode::DatabaseMissing],
        what,
        db.owner,
    ));
    false
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{codes, healthy, run, sql};
    use crate::plan::{ActionKind, Severity};

    #[test]
    fn an_absent_database_is_critical_and_a_person_restores_it() {
        let mut observed = healthy();
        sql(&mut observed).databases.clear();
        let plan = run(observed);
        assert_eq!(
            codes(&plan),
            vec![("s/database/db".to_owned(), "database-missing".to_owned())]
        );
        assert_eq!(plan.findings[0].severity, Severity::Critical);
        assert!(plan.actions.iter().all(|a| a.kind == ActionKind::Manual));
    }

    #[test]
    fn a_restoring_database_is_not_usable() {
        let mut observed = healthy();
        sql(&mut observed).databases[0].state = "RESTORING".into();
        let plan = run(observed);
        assert_eq!(
            codes(&plan),
            vec![("s/database/db".to_owned(), "database-missing".to_owned())]
        );
        assert!(plan.findings[0].message.contains("RESTORING"));
    }

    #[test]
    fn names_compare_case_insensitively_as_sql_server_does() {
        let mut observed = healthy();
        sql(&mut observed).databases[0].name = "DB".into();
        assert_eq!(codes(&run(observed)), Vec::<(String, String)>::new());
    }
}
