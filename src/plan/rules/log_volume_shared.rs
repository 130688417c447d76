//! `log-volume-shared`: a database declared `separate-log-volume=#true` has data and log
//! files on one volume, so losing that volume loses both the data and the log needed to
//! recover past the last backup.

use std::collections::BTreeSet;

use super::super::Out;
use super::super::action::Action;
use super::super::database::{DatabaseState, volume};
use super::super::finding::{Finding, FindingCode, Severity};

pub(super) fn check(db: &DatabaseState<'_>, out: &mut Out) {
    let Some(observed) = db.observed.filter(|_| db.database.separate_log_volume) else {
        return;
    };
    let data: BTreeSet<String> = observed
        .files
        .iter()
        .filter(|f| !f.is_log())
        .map(|f| volume(&f.physical_name))
        .collect();
    let shared: Vec<&str> = observed
        .files
        .iter()
        .filter(|f| f.is_log() && data.contains(&volume(&f.physical_name)))
        .map(|f| f.physical_name.as_str())
        .collect();
    if shared.is_empty() {
        return;
    }
    let name = &db.database.name.value;
    out.finding(
        Finding::new(
            &db.address,
            FindingCode::LogVolumeShared,
            Severity::Warning,
            format!(
                "the log of {name} ({}) shares a volume with its data files",
                shared.join(", ")
            ),
        )
        .desired("log files on their own volume")
        .observed(data.into_iter().collect::<Vec<_>>().join(", "))
        .hint("move the log with ALTER DATABASE ... MODIFY FILE while the database is offline"),
    );
    out.action(Action::manual(
        &db.address,
        &[FindingCode::LogVolumeShared],
        format!(
            "Move the log file of {name} to a separate volume (ALTER DATABASE [{}] MODIFY FILE, take it offline, move the file, bring it online)",
            super::quote_name(name)
        ),
        db.owner,
    ));
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{codes, healthy, run_with, sql};

    #[test]
    fn a_log_on_the_data_drive_is_reported_when_separation_is_declared() {
        let mut observed = healthy();
        sql(&mut observed).databases[0].files[1].physical_name = r"d:\Logs\db.ldf".into();
        let plan = run_with("separate-log-volume=#true", observed.clone());
        assert_eq!(
            codes(&plan),
            vec![("s/database/db".to_owned(), "log-volume-shared".to_owned())]
        );
        assert!(plan.actions[0].manual);
        assert_eq!(
            codes(&run_with("", observed)),
            Vec::<(String, String)>::new()
        );
    }

    #[test]
    fn separate_drives_are_fine() {
        let plan = run_with("separate-log-volume=#true", healthy());
        assert_eq!(codes(&plan), Vec::<(String, String)>::new());
    }
}
