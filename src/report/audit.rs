//! Renders an audit: for people, a parity table per component kind and the findings (with
//! coloured settings diffs); JSON with the parity rows for programs; Markdown for a
//! pull-request comment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use owo_colors::OwoColorize;
use serde::Serialize;

use super::layout::{self, Column, Terminal};
use super::plan::{Report, Summary, findings_by_site};
use crate::audit::{Audit, ParityKind, ParityRow, Status};
use crate::plan::{Finding, Plan, Severity};

/// The summary `check` reports, for the audit's findings.
fn summary(audit: &Audit) -> Summary {
    let plan = Plan {
        findings: audit.findings.clone(),
        ignored: audit.ignored.clone(),
        ..Plan::default()
    };
    Summary::of(&plan, Report::Check)
}

/// `40 ok, 12 omitted, 1 missing, 1 drift`
fn parity_line(audit: &Audit) -> String {
    let counts: Vec<String> = audit
        .status_counts()
        .into_iter()
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect();
    if counts.is_empty() {
        "nothing to compare".to_owned()
    } else {
        counts.join(", ")
    }
}

/// `audit: 1 critical, 2 warnings, 0 info · parity: 40 ok, 12 omitted, 1 drift`
fn headline(audit: &Audit) -> String {
    format!(
        "audit: {} · parity: {}",
        summary(audit).line(Report::Check),
        parity_line(audit)
    )
}

/// The standby pairs in the order their rows came.
fn pairs(audit: &Audit) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for row in &audit.parity {
        let pair = (row.primary_site.as_str(), row.standby_site.as_str());
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    pairs
}

fn status_text(row: &ParityRow) -> String {
    match &row.note {
        Some(note) => format!("{}: {note}", row.status.as_str()),
        None => row.status.as_str().to_owned(),
    }
}

fn paint_status(row: &ParityRow, color: bool) -> String {
    let text = status_text(row);
    if !color {
        return text;
    }
    match row.status {
        Status::Ok => text.green().to_string(),
        Status::Omitted => text.dimmed().to_string(),
        Status::Missing | Status::Drift => text.yellow().to_string(),
        Status::Unknown => text.magenta().to_string(),
    }
}

const PARITY_COLUMNS: [Column; 4] = [
    Column::fixed("KIND"),
    Column::wrapping("PRIMARY"),
    Column::wrapping("STANDBY"),
    Column::wrapping("STATUS"),
];

/// A unified diff with removed lines red, added lines green and hunk headers cyan.
fn paint_diff(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_owned();
    }
    diff.lines()
        .map(|line| {
            let painted = if line.starts_with("---") || line.starts_with("+++") {
                line.bold().to_string()
            } else if line.starts_with("@@") {
                line.cyan().to_string()
            } else if line.starts_with('-') {
                line.red().to_string()
            } else if line.starts_with('+') {
                line.green().to_string()
            } else {
                line.to_owned()
            };
            painted + "\n"
        })
        .collect()
}

/// The table for people: the headline, a parity table per kind for each standby site,
/// the findings grouped by site (most severe first), then each settings diff.
pub fn table(audit: &Audit, terminal: Terminal) -> String {
    let color = terminal.color;
    let mut out = layout::paragraph(&headline(audit), terminal.width);
    for (primary, standby) in pairs(audit) {
        let _ = write!(out, "\n== {standby} stands in for {primary} ==\n");
        for kind in ParityKind::ALL {
            let rows: Vec<Vec<String>> = audit
                .parity
                .iter()
                .filter(|r| {
                    r.kind == kind && r.primary_site == primary && r.standby_site == standby
                })
                .map(|r| {
                    vec![
                        r.kind.as_str().to_owned(),
                        r.primary.clone(),
                        r.standby.clone(),
                        paint_status(r, color),
                    ]
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = write!(
                out,
                "\n{}\n{}",
                kind.title(),
                layout::table(&PARITY_COLUMNS, rows, terminal.width)
            );
        }
    }
    if !audit.findings.is_empty() {
        out.push_str("\nfindings\n");
        out.push_str(&findings_by_site(&audit.findings, terminal));
    }
    for finding in audit.findings.iter().filter(|f| f.diff.is_some()) {
        let _ = write!(
            out,
            "\n{} {}\n{}",
            finding.code,
            finding.address,
            paint_diff(finding.diff.as_deref().unwrap_or_default(), color)
        );
    }
    out
}

#[derive(Serialize)]
struct Json<'a> {
    format_version: &'static str,
    command: &'static str,
    now: Timestamp,
    observed_at: Timestamp,
    summary: Summary,
    /// Parity rows per status.
    parity_summary: BTreeMap<&'static str, usize>,
    findings: &'a [Finding],
    ignored: &'a [Finding],
    parity: &'a [ParityRow],
}

pub fn json(audit: &Audit, now: Timestamp, observed_at: Timestamp) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Json {
        format_version: "1",
        command: "audit",
        now,
        observed_at,
        summary: summary(audit),
        parity_summary: audit
            .status_counts()
            .into_iter()
            .map(|(status, n)| (status.as_str(), n))
            .collect(),
        findings: &audit.findings,
        ignored: &audit.ignored,
        parity: &audit.parity,
    })
    .map(|mut s| {
        s.push('\n');
        s
    })
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Markdown for a pull-request comment: the headline, then the findings, each settings
/// diff and the parity tables, folded.
pub fn markdown(audit: &Audit) -> String {
    let icon = if !audit.has_drift() {
        "✅"
    } else if audit.count(Severity::Critical) > 0 {
        "🛑"
    } else {
        "⚠️"
    };
    let mut out = format!("### {icon} standby {}\n", headline(audit));
    if !audit.findings.is_empty() {
        let _ = write!(
            out,
            "\n<details><summary>{} finding{}</summary>\n\n| severity | address | code | message | hint |\n|---|---|---|---|---|\n",
            audit.findings.len(),
            if audit.findings.len() == 1 { "" } else { "s" }
        );
        for f in &audit.findings {
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
    for finding in &audit.findings {
        if let Some(diff) = &finding.diff {
            let fence = if diff.contains("```") { "````" } else { "```" };
            let _ = write!(
                out,
                "\n<details><summary>{} <code>{}</code></summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n",
                finding.code, finding.address
            );
        }
    }
    for (primary, standby) in pairs(audit) {
        let rows: Vec<&ParityRow> = audit
            .parity
            .iter()
            .filter(|r| r.primary_site == primary && r.standby_site == standby)
            .collect();
        let _ = write!(
            out,
            "\n<details><summary>parity: {standby} stands in for {primary} ({} rows)</summary>\n\n| kind | primary | standby | status |\n|---|---|---|---|\n",
            rows.len()
        );
        for r in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.kind.as_str(),
                escape(&r.primary),
                escape(&r.standby),
                escape(&status_text(r))
            );
        }
        out.push_str("\n</details>\n");
    }
    out
}
