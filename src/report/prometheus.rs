//! Renders a check in the Prometheus text exposition format, for `node_exporter`'s textfile
//! collector: per item the age and time of its newest backup, its backup count and
//! thresholds, findings per severity and code, and whether the check ran at all.
//!
//! Never coloured. Written with `check --out FILE` so the collector never reads half a file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;

use crate::plan::{ItemStatus, Plan, Severity};

/// Appends `# HELP` and `# TYPE` for a gauge.
fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// `{site="…",kind="…",item="…",type="…"}` of an item.
fn item_labels(item: &ItemStatus) -> String {
    labels(&[
        ("site", &item.site),
        ("kind", item.kind),
        ("item", &item.item),
        ("type", item.backup_type.as_str()),
    ])
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A label value as the exposition format wants it: backslash, quote and line feed escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

/// The metrics that say whether standby ran, and when.
fn check(out: &mut String, success: bool, now: Timestamp) {
    gauge(
        out,
        "standby_check_success",
        "Whether standby could check at all (1) or not (0: see its log).",
    );
    let _ = writeln!(out, "standby_check_success {}", u8::from(success));
    gauge(
        out,
        "standby_check_timestamp_seconds",
        "When the check ran (the time freshness was evaluated at), in Unix seconds.",
    );
    let _ = writeln!(out, "standby_check_timestamp_seconds {}", now.as_second());
}

/// A gauge with a sample per item; `value` is `None` where there is nothing to say.
struct PerItem {
    name: &'static str,
    help: &'static str,
    value: fn(&ItemStatus) -> Option<i64>,
}

/// What cannot be observed has no count or age: absent, not zero.
const PER_ITEM: [PerItem; 6] = [
    PerItem {
        name: "standby_backup_known",
        help: "Whether the item's backup store could be observed (0: its state is unknown).",
        value: |i| Some(i64::from(i.known)),
    },
    PerItem {
        name: "standby_backups",
        help: "Backups of the item in its store (absent when the store is unknown).",
        value: |i| {
            i.known
                .then_some(i.backups)
                .and_then(|n| i64::try_from(n).ok())
        },
    },
    PerItem {
        name: "standby_backup_age_seconds",
        help: "Age of the item's newest backup at check time (absent without a backup).",
        value: |i| i.age_seconds.filter(|_| i.known),
    },
    PerItem {
        name: "standby_backup_newest_timestamp_seconds",
        help: "When the item's newest backup was taken, in Unix seconds (absent without a backup).",
        value: |i| i.newest.filter(|_| i.known).map(Timestamp::as_second),
    },
    PerItem {
        name: "standby_backup_warn_seconds",
        help: "Age past which the item's newest backup is a warning.",
        value: |i| i64::try_from(i.warn_seconds).ok(),
    },
    PerItem {
        name: "standby_backup_crit_seconds",
        help: "Age past which the item's newest backup is critical.",
        value: |i| i64::try_from(i.crit_seconds).ok(),
    },
];

/// Every metric of a check that ran.
pub fn prometheus(plan: &Plan, now: Timestamp, observed_at: Timestamp) -> String {
    let mut out = String::new();
    check(&mut out, true, now);
    gauge(
        &mut out,
        "standby_observation_timestamp_seconds",
        "When the observation the check used was taken, in Unix seconds.",
    );
    let _ = writeln!(
        out,
        "standby_observation_timestamp_seconds {}",
        observed_at.as_second()
    );

    for gauge_of in PER_ITEM {
        gauge(&mut out, gauge_of.name, gauge_of.help);
        for item in &plan.items {
            if let Some(value) = (gauge_of.value)(item) {
                let _ = writeln!(out, "{}{} {value}", gauge_of.name, item_labels(item));
            }
        }
    }

    gauge(
        &mut out,
        "standby_findings",
        "Findings of the check by severity and code (code=\"\": none of that severity).",
    );
    let mut counts: BTreeMap<(Severity, &str), usize> = BTreeMap::new();
    for finding in &plan.findings {
        *counts
            .entry((finding.severity, finding.code.as_str()))
            .or_default() += 1;
    }
    for severity in [Severity::Critical, Severity::Warning, Severity::Info] {
        let of_severity: Vec<_> = counts.iter().filter(|((s, _), _)| *s == severity).collect();
        if of_severity.is_empty() {
            let pairs = [("severity", severity.as_str()), ("code", "")];
            let _ = writeln!(out, "standby_findings{} 0", labels(&pairs));
        }
        for ((_, code), n) in of_severity {
            let pairs = [("severity", severity.as_str()), ("code", code)];
            let _ = writeln!(out, "standby_findings{} {n}", labels(&pairs));
        }
    }
    gauge(
        &mut out,
        "standby_findings_ignored",
        "Findings set aside by .standbyignore.",
    );
    let _ = writeln!(out, "standby_findings_ignored {}", plan.ignored.len());
    out
}

/// The metrics when standby could not check: only that it failed, and when, so an alert on
/// `standby_check_success == 0` fires instead of the last good values lingering.
pub fn prometheus_failed(now: Timestamp) -> String {
    let mut out = String::new();
    check(&mut out, false, now);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::plan::{Finding, FindingCode};

    fn now() -> Timestamp {
        "2026-11-22T06:30:00Z".parse().expect("timestamp")
    }

    fn item(name: &str, known: bool, newest: Option<Timestamp>) -> ItemStatus {
        ItemStatus {
            address: Address::new("s", "database", name).detail("full"),
            site: "s".to_owned(),
            kind: "database",
            item: name.to_owned(),
            backup_type: crate::layout::BackupType::Full,
            known,
            backups: usize::from(newest.is_some()),
            newest,
            age_seconds: newest.map(|t| now().as_second() - t.as_second()),
            warn_seconds: 3600,
            crit_seconds: 7200,
        }
    }

    #[test]
    fn per_item_gauges_only_where_there_is_a_value() {
        let hour_ago = "2026-11-22T05:30:00Z".parse().expect("timestamp");
        let plan = Plan {
            items: vec![
                item("db", true, Some(hour_ago)),
                item("empty", true, None),
                item("dark", false, None),
            ],
            findings: vec![Finding::new(
                &Address::new("s", "database", "empty").detail("full"),
                FindingCode::BackupMissing,
                Severity::Critical,
                "none",
            )],
            ..Plan::default()
        };
        let text = prometheus(&plan, now(), hour_ago);
        let db = r#"{site="s",kind="database",item="db",type="full"}"#;
        assert!(text.contains(&format!("standby_backup_age_seconds{db} 3600\n")));
        assert!(text.contains(&format!(
            "standby_backup_newest_timestamp_seconds{db} {}\n",
            hour_ago.as_second()
        )));
        assert_eq!(text.matches("standby_backup_age_seconds{").count(), 1);
        assert_eq!(text.matches("standby_backups{").count(), 2);
        assert_eq!(text.matches("standby_backup_known{").count(), 3);
        assert!(text.contains(
            r#"standby_backup_known{site="s",kind="database",item="dark",type="full"} 0"#
        ));
        assert!(text.contains(r#"standby_findings{severity="critical",code="backup-missing"} 1"#));
        assert!(text.contains(r#"standby_findings{severity="warning",code=""} 0"#));
        assert!(text.contains("standby_check_success 1\n"));
        assert!(text.contains(&format!(
            "standby_check_timestamp_seconds {}\n",
            now().as_second()
        )));
        assert!(text.contains("# TYPE standby_findings gauge\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\\b\"c\nd"), r#"a\\b\"c\nd"#);
    }

    #[test]
    fn a_failed_check_says_so() {
        let text = prometheus_failed(now());
        assert!(text.contains("standby_check_success 0\n"));
        assert!(!text.contains("standby_backup"));
    }
}
