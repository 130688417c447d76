//! Renders a check as a monitoring plugin does for Nagios, Icinga, Naemon and Sensu: a status
//! line with the counts and perfdata (each item's backup age), then one line per problem.
//! The status is also the exit code (SPEC §8): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
//!
//! Never coloured: monitoring systems store the text as it is.

use std::fmt::Write as _;

use crate::plan::{ItemStatus, Plan, Severity};

/// A plugin's state, in the order of its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warning,
    Critical,
    /// Standby could not check at all (bad desired state, unreadable observation, …).
    Unknown,
}

impl Status {
    /// The worst finding decides; info findings alone are OK.
    pub fn of(plan: &Plan) -> Self {
        if plan.count(Severity::Critical) > 0 {
            Self::Critical
        } else if plan.count(Severity::Warning) > 0 {
            Self::Warning
        } else {
            Self::Ok
        }
    }

    /// The exit code monitoring systems read the state from.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Warning => 1,
            Self::Critical => 2,
            Self::Unknown => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Warning => "WARNING",
            Self::Critical => "CRITICAL",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// `STANDBY CRITICAL - 2 critical, 2 warnings, 3 info | 'ADDRESS'=AGEs;WARN;CRIT;0; …`, then
/// one line per warning or critical finding, the critical ones first.
pub fn nagios(plan: &Plan) -> String {
    let (c, w, i) = (
        plan.count(Severity::Critical),
        plan.count(Severity::Warning),
        plan.count(Severity::Info),
    );
    let mut out = format!(
        "STANDBY {} - {c} critical, {w} warning{}, {i} info",
        Status::of(plan).as_str(),
        if w == 1 { "" } else { "s" }
    );
    if !plan.ignored.is_empty() {
        let _ = write!(out, ", {} ignored", plan.ignored.len());
    }
    if !plan.items.is_empty() {
        out.push_str(" |");
        for item in &plan.items {
            out.push(' ');
            out.push_str(&perfdata(item));
        }
    }
    out.push('\n');
    let mut problems: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    problems.sort_by_key(|f| f.severity);
    for f in problems {
        let severity = match f.severity {
            Severity::Critical => Status::Critical,
            _ => Status::Warning,
        };
        let _ = writeln!(
            out,
            "{}: {} {}: {}",
            severity.as_str(),
            f.address,
            f.code,
            text(&f.message)
        );
    }
    out
}

/// The only output when standby could not check: exit 3.
pub fn unknown(reason: &str) -> String {
    format!("STANDBY UNKNOWN - {}\n", text(reason))
}

/// `'LABEL'=VALUEs;WARN;CRIT;0;` — the age of the newest backup in seconds, or `U` when it
/// cannot be known (store unobservable, or no backup at all).
fn perfdata(item: &ItemStatus) -> String {
    let value = match item.age_seconds {
        Some(age) if item.known => format!("{age}s"),
        _ => "U".to_owned(),
    };
    format!(
        "{}={value};{};{};0;",
        label(item.address.as_str()),
        item.warn_seconds,
        item.crit_seconds
    )
}

/// A perfdata label: quoted, a quote doubled, `=` (which ends a label) replaced.
fn label(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''").replace('=', "_"))
}

/// Output text on one line, without the `|` that starts perfdata.
fn text(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::plan::{Finding, FindingCode};

    fn item(address: &str, age: Option<i64>, known: bool) -> ItemStatus {
        ItemStatus {
            address: Address::parse(address).expect("address"),
            site: "a".to_owned(),
            kind: "database",
            item: "db".to_owned(),
            backup_type: crate::layout::BackupType::Full,
            known,
            backups: 1,
            newest: None,
            age_seconds: age,
            warn_seconds: 3600,
            crit_seconds: 7200,
        }
    }

    fn finding(severity: Severity, message: &str) -> Finding {
        Finding::new(
            &Address::parse("a/database/db/full").expect("address"),
            FindingCode::BackupStale,
            severity,
            message,
        )
    }

    #[test]
    fn the_worst_finding_sets_the_status() {
        let mut plan = Plan::default();
        assert_eq!(Status::of(&plan), Status::Ok);
        plan.findings.push(finding(Severity::Info, "i"));
        assert_eq!(Status::of(&plan), Status::Ok);
        plan.findings.push(finding(Severity::Warning, "w"));
        assert_eq!(Status::of(&plan), Status::Warning);
        plan.findings.push(finding(Severity::Critical, "c"));
        assert_eq!(Status::of(&plan), Status::Critical);
        assert_eq!(
            [
                Status::Ok,
                Status::Warning,
                Status::Critical,
                Status::Unknown
            ]
            .map(Status::exit_code),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn status_line_with_perfdata_then_one_line_per_problem() {
        let plan = Plan {
            findings: vec![
                finding(Severity::Warning, "newest is 2h old | late"),
                finding(Severity::Critical, "gone\nreally"),
                finding(Severity::Info, "fine"),
            ],
            items: vec![
                item("a/database/db/full", Some(7300), true),
                item("a/database/o'k=1/full", Some(10), false),
                item("a/database/none/full", None, true),
            ],
            ..Plan::default()
        };
        assert_eq!(
            nagios(&plan),
            "STANDBY CRITICAL - 1 critical, 1 warning, 1 info | \
             'a/database/db/full'=7300s;3600;7200;0; \
             'a/database/o''k_1/full'=U;3600;7200;0; \
             'a/database/none/full'=U;3600;7200;0;\n\
             CRITICAL: a/database/db/full backup-stale: gone really\n\
             WARNING: a/database/db/full backup-stale: newest is 2h old / late\n"
        );
    }

    #[test]
    fn ok_and_unknown() {
        assert_eq!(
            nagios(&Plan::default()),
            "STANDBY OK - 0 critical, 0 warnings, 0 info\n"
        );
        assert_eq!(
            unknown("cannot read x|y\nz"),
            "STANDBY UNKNOWN - cannot read x/y z\n"
        );
    }
}
