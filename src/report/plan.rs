//! Renders a plan (or a check, which is a plan without its actions) as a table for people,
//! JSON for programs, and Markdown for pull-request comments.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use owo_colors::OwoColorize;
use serde::Serialize;

use super::layout::{self, Column, Terminal};
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

    /// `2 critical, 3 warnings, 1 info · 9 actions (4 copy-backup, 2 prune-backup, …), 2
    /// destructive · 1 ignored`
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
                if self.destructive > 0 {
                    let _ = write!(line, ", {} destructive", self.destructive);
                }
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

pub(crate) fn paint(severity: Severity, color: bool) -> String {
    let text = severity.as_str();
    match (color, severity) {
        (false, _) => text.to_owned(),
        (true, Severity::Critical) => text.red().bold().to_string(),
        (true, Severity::Warning) => text.yellow().to_string(),
        (true, Severity::Info) => text.dimmed().to_string(),
    }
}

const FINDING_COLUMNS: [Column; 4] = [
    Column::fixed("SEVERITY"),
    Column::fixed("ADDRESS"),
    Column::fixed("CODE"),
    Column::wrapping("MESSAGE"),
];

/// The findings of one site after another (in the order given: most severe first), each
/// site's under its name.
pub(crate) fn findings_by_site(findings: &[Finding], terminal: Terminal) -> String {
    let mut out = String::new();
    let mut sites: Vec<&str> = findings.iter().map(|f| f.address.site()).collect();
    sites.dedup();
    for site in sites {
        let rows = findings
            .iter()
            .filter(|f| f.address.site() == site)
            .map(|f| {
                vec![
                    paint(f.severity, terminal.color),
                    f.address.to_string(),
                    f.code.to_string(),
                    f.message.clone(),
                ]
            })
            .collect();
        let _ = write!(
            out,
            "\n{site}\n{}",
            layout::table(&FINDING_COLUMNS, rows, terminal.width)
        );
    }
    out
}

/// Actions of one kind on one address, shown as one row unless `-v`: seven copies of one
/// database's full backups are one thing to approve.
struct Fold<'a> {
    actions: Vec<&'a Action>,
}

/// Folds alike actions together, at the place of the first of them; runs of fewer than
/// three stay apart.
fn folds(actions: &[Action], verbose: bool) -> Vec<Fold<'_>> {
    let mut folds: Vec<Fold<'_>> = Vec::new();
    for action in actions {
        let alike = (!verbose)
            .then(|| {
                folds.iter_mut().find(|f| {
                    f.actions[0].kind == action.kind && f.actions[0].address == action.address
                })
            })
            .flatten();
        match alike {
            Some(fold) => fold.actions.push(action),
            None => folds.push(Fold {
                actions: vec![action],
            }),
        }
    }
    let mut split = Vec::new();
    for fold in folds {
        if fold.actions.len() < 3 {
            split.extend(fold.actions.into_iter().map(|a| Fold { actions: vec![a] }));
        } else {
            split.push(fold);
        }
    }
    // Splitting keeps each fold's own order; the plan's order is the order of first ids.
    split.sort_by_key(|f| {
        actions
            .iter()
            .position(|a| std::ptr::eq(a, f.actions[0]))
            .unwrap_or(usize::MAX)
    });
    split
}

const ACTION_COLUMNS: [Column; 4] = [
    Column::fixed("ID"),
    Column::fixed("KIND"),
    Column::fixed("ADDRESS"),
    Column::wrapping("WHAT"),
];

/// What one action does, with its owner and what it waits for.
fn preview(action: &Action) -> String {
    let mut preview = action.preview.clone();
    if let Some(owner) = &action.owner {
        let _ = write!(preview, " [owner: {owner}]");
    }
    if !action.depends_on.is_empty() {
        let _ = write!(preview, " [after {}]", action.depends_on.join(", "));
    }
    preview
}

fn action_row(fold: &Fold<'_>, color: bool) -> Vec<String> {
    let first = fold.actions[0];
    let id = match fold.actions.as_slice() {
        [_] => first.id.clone(),
        [.., last] => format!("{}…{}", first.id, last.id),
        [] => String::new(),
    };
    let mut kind = first.kind.to_string();
    if first.destructive {
        kind = format!("{kind} (destructive)");
        if color {
            kind = kind.red().bold().to_string();
        }
    }
    let what = if fold.actions.len() == 1 {
        preview(first)
    } else {
        format!(
            "{} actions like: {} (-v or --format json lists each)",
            fold.actions.len(),
            preview(first)
        )
    };
    vec![id, kind, first.address.to_string(), what]
}

/// The actions in the order `apply` runs them, alike ones folded (unless `-v`), destructive
/// ones marked.
pub(crate) fn actions_table(actions: &[Action], terminal: Terminal) -> String {
    let rows = folds(actions, terminal.verbose)
        .iter()
        .map(|f| action_row(f, terminal.color))
        .collect();
    layout::table(&ACTION_COLUMNS, rows, terminal.width)
}

/// The table for people: the summary line, findings grouped by site (most severe first),
/// then the actions in the order `apply` runs them, manual ones last with their owners, and
/// the summary line again at the bottom, where people look once the table has scrolled by.
pub fn table(plan: &Plan, report: Report, terminal: Terminal) -> String {
    let summary = Summary::of(plan, report);
    let line = layout::paragraph(
        &format!("{}: {}", report.name(), summary.line(report)),
        terminal.width,
    );
    let mut out = line.clone();
    out.push_str(&findings_by_site(&plan.findings, terminal));
    let actions = report == Report::Plan && !plan.actions.is_empty();
    if actions {
        let _ = write!(out, "\nactions\n{}", actions_table(&plan.actions, terminal));
    }
    if actions || !plan.findings.is_empty() {
        out.push('\n');
        out.push_str(&line);
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
