//! Renders a plan (or a check, which is a plan without its actions) as a table for people,
//! JSON for programs, and Markdown for pull-request comments.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use owo_colors::OwoColorize;
use serde::Serialize;
use tabled::settings::Style;
use tabled::{Table, Tabled};

use crate::plan::{Action, Finding, ItemStatus, Plan, Severity};

/// Which command is reporting: `check` shows findings only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Plan,
    Check,
}

impl Report {
    fn name(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Check => "check",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub in_sync: bool,
    pub findings: BTreeMap<&'static str, usize>,
    pub ignored: usize,
    pub actions: BTreeMap<&'static str, usize>,
    pub destructive: usize,
    pub manual: usize,
}

impl Summary {
    pub fn of(plan: &Plan, report: Report) -> Self {
        let findings = [Severity::Critical, Severity::Warning, Severity::Info]
            .into_iter()
            .map(|s| (s.as_str(), plan.count(s)))
            .collect();
        let mut actions = BTreeMap::new();
        if report == Report::Plan {
            for action in &plan.actions {
                *actions.entry(action.kind.as_str()).or_default() += 1;
            }
        }
        Self {
            in_sync: !plan.has_drift() && (report == Report::Check || plan.actions.is_empty()),
            findings,
            ignored: plan.ignored.len(),
            actions,
            destructive: plan.actions.iter().filter(|a| a.destructive).count(),
            manual: plan.actions.iter().filter(|a| a.manual).count(),
        }
    }

    /// `2 critical, 3 warnings, 1 info · 9 actions (4 copy-backup, …) · 1 ignored`
    pub fn line(&self, report: Report) -> String {
        let count = |key: &str| self.findings.get(key).copied().unwrap_or(0);
        let (c, w, i) = (count("critical"), count("warning"), count("info"));
        let mut line = if c + w + i == 0 {
            "no findings".to_owned()
        } else {
            format!(
                "{c} critical, {w} warning{}, {i} info",
                if w == 1 { "" } else { "s" }
            )
        };
        if report == Report::Plan {
            let total: usize = self.actions.values().sum();
            if total == 0 {
                line.push_str(" · no actions");
            } else {
                let kinds: Vec<String> = self
                    .actions
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect();
                let _ = write!(
                    line,
                    " · {total} action{} ({})",
                    if total == 1 { "" } else { "s" },
                    kinds.join(", ")
                );
            }
        }
        if self.ignored > 0 {
            let _ = write!(line, " · {} ignored by .standbyignore", self.ignored);
        }
        line
    }
}

#[derive(Serialize)]
struct Json<'a> {
    format_version: &'static str,
    command: &'static str,
    now: Timestamp,
    observed_at: Timestamp,
    summary: Summary,
    findings: &'a [Finding],
    ignored: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<&'a [Action]>,
    /// Per item: newest backup, its age and the thresholds.
    items: &'a [ItemStatus],
}

pub fn json(
    plan: &Plan,
    report: Report,
    now: Timestamp,
    observed_at: Timestamp,
) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Json {
        format_version: "1",
        command: report.name(),
        now,
        observed_at,
        summary: Summary::of(plan, report),
        findings: &plan.findings,
        ignored: &plan.ignored,
        actions: (report == Report::Plan).then_some(plan.actions.as_slice()),
        items: &plan.items,
    })
    .map(|mut s| {
        s.push('\n');
        s
    })
}

#[derive(Tabled)]
struct FindingRow {
    #[tabled(rename = "SEVERITY")]
    severity: String,
    #[tabled(rename = "ADDRESS")]
    address: String,
    #[tabled(rename = "CODE")]
    code: String,
    #[tabled(rename = "MESSAGE")]
    message: String,
}

#[derive(Tabled)]
struct ActionRow {
    #[tabled(rename = "ID")]
    id: String,
    #[tabled(rename = "KIND")]
    kind: String,
    #[tabled(rename = "ADDRESS")]
    address: String,
    #[tabled(rename = "WHAT")]
    preview: String,
}

pub(crate) fn paint(severity: Severity, color: bool) -> String {
    let text = severity.as_str();
    match (color, severity) {
        (false, _) => text.to_owned(),
        (true, Severity::Critical) => text.red().bold().to_string(),
        (true, Severity::Warning) => text.yellow().to_string(),
        (true, Severity::Info) => text.dimmed().to_string(),
    }
}

/// The table for people: summary line first, findings grouped by site (most severe first),
/// then the actions in the order `apply` runs them, manual ones last with their owners.
pub fn table(plan: &Plan, report: Report, color: bool) -> String {
    let summary = Summary::of(plan, report);
    let mut out = format!("{}: {}\n", report.name(), summary.line(report));
    let mut sites: Vec<&str> = plan.findings.iter().map(|f| f.address.site()).collect();
    sites.dedup();
    for site in sites {
        let rows = plan
            .findings
            .iter()
            .filter(|f| f.address.site() == site)
            .map(|f| FindingRow {
                severity: paint(f.severity, color),
                address: f.address.to_string(),
                code: f.code.to_string(),
                message: f.message.clone(),
            });
        let mut table = Table::new(rows);
        table.with(Style::blank());
        let _ = write!(out, "\n{site}\n{table}\n");
    }
    if report == Report::Plan && !plan.actions.is_empty() {
        let rows = plan.actions.iter().map(|a| {
            let mut kind = a.kind.to_string();
            if a.destructive {
                kind.push_str(" (destructive)");
            }
            let mut preview = a.preview.clone();
            if let Some(owner) = &a.owner {
                let _ = write!(preview, " [owner: {owner}]");
            }
            if !a.depends_on.is_empty() {
                let _ = write!(preview, " [after {}]", a.depends_on.join(", "));
            }
            ActionRow {
                id: a.id.clone(),
                kind,
                address: a.address.to_string(),
                preview,
            }
        });
        let mut table = Table::new(rows);
        table.with(Style::blank());
        let _ = write!(out, "\nactions\n{table}\n");
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Markdown for a pull-request comment: the summary first, the details collapsible.
pub fn markdown(plan: &Plan, report: Report) -> String {
    let summary = Summary::of(plan, report);
    let icon = if summary.in_sync {
        "✅"
    } else if plan.count(Severity::Critical) > 0 {
        "🛑"
    } else {
        "⚠️"
    };
    let mut out = format!(
        "### {icon} standby {}: {}\n",
        report.name(),
        summary.line(report)
    );
    if !plan.findings.is_empty() {
        let _ = write!(
            out,
            "\n<details><summary>{} finding{}</summary>\n\n| severity | address | code | message | hint |\n|---|---|---|---|---|\n",
            plan.findings.len(),
            if plan.findings.len() == 1 { "" } else { "s" }
        );
        for f in &plan.findings {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}` | {} | {} |",
                f.severity.as_str(),
                f.address,
                f.code,
                escape(&f.message),
                escape(f.hint.as_deref().unwrap_or(""))
            );
        }
        out.push_str("\n</details>\n");
    }
    if report == Report::Plan && !plan.actions.is_empty() {
        let _ = write!(
            out,
            "\n<details><summary>{} action{}</summary>\n\n| id | kind | address | what |\n|---|---|---|---|\n",
            plan.actions.len(),
            if plan.actions.len() == 1 { "" } else { "s" }
        );
        for a in &plan.actions {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} |",
                a.id,
                a.kind,
                a.address,
                escape(&a.preview)
            );
        }
        out.push_str("\n</details>\n");
    }
    out
}
