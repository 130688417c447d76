//! `recovery-model-drift`: a database's recovery model differs from the declaration, or a
//! FULL database has no log chain and so truncates its log as SIMPLE would.

use super::super::Out;
use super::super::action::{Action, ActionKind, Operation};
use super::super::database::DatabaseState;
use super::super::finding::{Finding, FindingCode, Severity};
use super::super::item::ItemState;
use crate::desired::{DatabaseBackupKind, ItemKind, RecoveryModel};

fn sql_name(model: RecoveryModel) -> &'static str {
    match model {
        RecoveryModel::Full => "FULL",
        RecoveryModel::Simple => "SIMPLE",
        RecoveryModel::BulkLogged => "BULK_LOGGED",
    }
}

/// The declared model against `sys.databases`; plans the `ALTER DATABASE`.
pub(super) fn check(db: &DatabaseState<'_>, out: &mut Out) {
    let (Some(declared), Some(observed)) = (&db.database.recovery_model, db.observed) else {
        return;
    };
    let wanted = sql_name(declared.value);
    let name = &db.database.name.value;
    if !observed.recovery_model.eq_ignore_ascii_case(wanted) {
        out.finding(
            Finding::new(
                &db.address,
                FindingCode::RecoveryModelDrift,
                Severity::Warning,
                format!(
                    "database {name} uses the {} recovery model, not {wanted}",
                    observed.recovery_model
                ),
            )
            .desired(wanted)
            .observed(observed.recovery_model.clone())
            .hint(if wanted == "FULL" {
                "after switching to FULL, a full backup starts the log chain; the plan takes one if it is due"
            } else {
                "log backups stop being possible once the model is SIMPLE"
            }),
        );
        let id = out.action(Action::new(
            &db.address,
            ActionKind::SetRecoveryModel,
            &[FindingCode::RecoveryModelDrift],
            format!(
                "ALTER DATABASE [{}] SET RECOVERY {wanted} WITH NO_WAIT",
                super::quote_name(name)
            ),
            Operation::SetRecoveryModel {
                site: db.site.name.value.clone(),
                instance: db.database.instance.value.clone(),
                database: name.clone(),
                model: wanted.to_owned(),
            },
        ));
        out.remember_recovery_fix(&db.address, id);
    } else if wanted != "SIMPLE" && !observed.log_chain {
        out.finding(
            Finding::new(
                &db.address,
                FindingCode::RecoveryModelDrift,
                Severity::Warning,
                format!(
                    "database {name} is {} but has no log chain: it truncates its log as SIMPLE would until its next full backup",
                    observed.recovery_model
                ),
            )
            .desired(format!("{wanted} with a log chain"))
            .observed("SIMPLE (no log chain)")
            .hint("a full backup starts the chain; log backups fail until then"),
        );
    }
}

/// A pseudo-simple database needs a full backup: plans it on the database's full item.
pub(super) fn check_item(item: &ItemState<'_>, out: &mut Out) {
    let ItemKind::Database(declared, backup) = item.item.kind else {
        return;
    };
    let Some(db) = item.database else { return };
    let (Some(model), Some(observed)) = (&declared.recovery_model, db.observed) else {
        return;
    };
    if backup.kind.value == DatabaseBackupKind::Full
        && model.value != RecoveryModel::Simple
        && observed
            .recovery_model
            .eq_ignore_ascii_case(sql_name(model.value))
        && !observed.log_chain
    {
        super::new_backup(item, FindingCode::RecoveryModelDrift, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{codes, healthy, run_with, sql};
    use crate::plan::{ActionKind, Operation};

    const FULL: &str = r#"recovery-model="full""#;

    #[test]
    fn a_simple_database_declared_full_is_switched() {
        let mut observed = healthy();
        sql(&mut observed).databases[0].recovery_model = "SIMPLE".into();
        let plan = run_with(FULL, observed);
        assert_eq!(
            codes(&plan),
            vec![(
                "s/database/db".to_owned(),
                "recovery-model-drift".to_owned()
            )]
        );
        let alter = &plan.actions[0];
        assert_eq!(alter.kind, ActionKind::SetRecoveryModel);
        assert!(
            matches!(&alter.operation, Operation::SetRecoveryModel { model, .. } if model == "FULL")
        );
        assert_eq!(
            alter.preview,
            "ALTER DATABASE [db] SET RECOVERY FULL WITH NO_WAIT"
        );
    }

    #[test]
    fn full_without_a_log_chain_is_pseudo_simple_and_a_full_backup_fixes_it() {
        let mut observed = healthy();
        sql(&mut observed).databases[0].log_chain = false;
        let plan = run_with(FULL, observed);
        assert_eq!(
            codes(&plan),
            vec![(
                "s/database/db".to_owned(),
                "recovery-model-drift".to_owned()
            )]
        );
        assert_eq!(plan.actions[0].kind, ActionKind::BackupDatabase);
        assert_eq!(plan.actions[0].address.as_str(), "s/database/db/full");
    }

    #[test]
    fn no_declared_model_means_no_opinion() {
        let mut observed = healthy();
        sql(&mut observed).databases[0].recovery_model = "SIMPLE".into();
        assert_eq!(
            codes(&run_with("", observed)),
            Vec::<(String, String)>::new()
        );
    }
}
