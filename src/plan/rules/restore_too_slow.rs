//! `restore-too-slow`: the newest successful test restore of a database took longer than
//! the estimate of a scenario that restores it (warning) or than the RTO (critical).

use super::super::Out;
use super::super::action::Action;
use super::super::database::DatabaseState;
use super::super::finding::{Finding, FindingCode, Severity};
use crate::address::Address;
use crate::desired::Scenario;
use crate::units::age;

/// A scenario's time: its estimate, else the sum of its steps' minutes.
fn budget_secs(scenario: &Scenario) -> Option<u64> {
    scenario
        .estimate
        .as_ref()
        .map(|e| e.value.as_secs())
        .or_else(|| {
            let minutes: u64 = scenario
                .steps
                .iter()
                .filter_map(|s| s.minutes.as_ref().map(|m| u64::from(m.value)))
                .sum();
            (minutes > 0).then_some(minutes * 60)
        })
}

/// Whether the scenario affects the database: names it, something below it, or above it.
fn affects(scenario: &Scenario, database: &Address) -> bool {
    scenario
        .affects
        .iter()
        .any(|a| Address::parse(&a.value).is_ok_and(|a| a.covers(database) || database.covers(&a)))
}

pub(super) fn check(db: &DatabaseState<'_>, out: &mut Out) {
    let Some(test) = db.tests.iter().find(|t| t.ok) else {
        return;
    };
    let measured = test.duration_ms.div_ceil(1000);
    let name = &db.database.name.value;
    let rto = db
        .desired
        .deployment
        .objectives
        .rto
        .as_ref()
        .map(|r| r.value.as_secs());
    let slowest_scenario = db
        .desired
        .scenarios
        .iter()
        .filter(|s| affects(s, &db.address))
        .filter_map(|s| budget_secs(s).map(|b| (s, b)))
        .min_by_key(|(_, b)| *b);
    let signed = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX);
    let (severity, limit, owner) = match (rto, slowest_scenario) {
        (Some(rto), _) if measured > rto => (
            Severity::Critical,
            format!("the RTO of {}", age(signed(rto))),
            db.owner,
        ),
        (_, Some((scenario, budget))) if measured > budget => (
            Severity::Warning,
            format!(
                "the {} estimated by scenario `{}`",
                age(signed(budget)),
                scenario.name.value
            ),
            scenario
                .owner
                .as_ref()
                .map(|o| o.value.as_str())
                .or(db.owner),
        ),
        _ => return,
    };
    out.finding(
        Finding::new(
            &db.address,
            FindingCode::RestoreTooSlow,
            severity,
            format!(
                "the last test restore of {name} took {}, beyond {limit}",
                age(signed(measured))
            ),
        )
        .desired(limit.clone())
        .observed(age(signed(measured)))
        .hint("restore from faster storage, split the database, or revise the scenario's estimate"),
    );
    out.action(Action::manual(
        &db.address,
        &[FindingCode::RestoreTooSlow],
        format!(
            "Make restoring {name} fit {limit} (the test took {}), or revise the estimate",
            age(signed(measured))
        ),
        owner,
    ));
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{DESIRED, codes, healthy, now, run_on};
    use crate::observe::sql::RestoreTestRecord;
    use crate::plan::Severity;

    fn desired() -> String {
        DESIRED.replace(
            r#"objectives rpo="24h""#,
            r#"objectives rpo="24h" rto="4h""#,
        ) + r#"
scenario "db-loss" owner="dba" estimate="1h" {
    affects "s/database/db"
    step "Restore db" minutes=45
}
"#
    }

    fn tested(minutes: u64) -> crate::observe::Observed {
        let mut observed = healthy();
        observed.restore_tests = vec![RestoreTestRecord {
            address: "s/database/db".into(),
            finished: now(),
            ok: true,
            duration_ms: minutes * 60_000,
            message: None,
        }];
        observed
    }

    #[test]
    fn beyond_the_scenario_estimate_is_a_warning_and_beyond_the_rto_critical() {
        assert_eq!(
            codes(&run_on(&desired(), tested(30))),
            Vec::<(String, String)>::new()
        );
        let plan = run_on(&desired(), tested(90));
        assert_eq!(
            codes(&plan),
            vec![("s/database/db".to_owned(), "restore-too-slow".to_owned())]
        );
        assert_eq!(plan.findings[0].severity, Severity::Warning);
        assert!(
            plan.findings[0].message.contains("db-loss"),
            "{}",
            plan.findings[0].message
        );
        let plan = run_on(&desired(), tested(300));
        assert_eq!(plan.findings[0].severity, Severity::Critical);
        assert!(plan.findings[0].message.contains("RTO"));
    }
}
