//! `standby history`: when each finding appeared and when it was resolved, as a table or
//! JSON.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;
use tabled::settings::Style;
use tabled::{Table, Tabled};

use crate::state::FindingSpan;
use crate::units::age;

/// How long a finding was open: until it was resolved, or until `now` while it is open.
pub fn open_for(span: &FindingSpan, now: Timestamp) -> i64 {
    span.resolved.unwrap_or(now).as_second() - span.appeared.as_second()
}

#[derive(Tabled)]
struct Line {
    #[tabled(rename = "ADDRESS")]
    address: String,
    #[tabled(rename = "CODE")]
    code: String,
    #[tabled(rename = "SEVERITY")]
    severity: String,
    #[tabled(rename = "APPEARED")]
    appeared: String,
    #[tabled(rename = "RESOLVED")]
    resolved: String,
    #[tabled(rename = "OPEN FOR")]
    open_for: String,
}

fn minute(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M").to_string()
}

pub fn table(spans: &[FindingSpan], since: Timestamp, now: Timestamp) -> String {
    let mut out = String::new();
    let open = spans.iter().filter(|s| s.resolved.is_none()).count();
    let _ = writeln!(
        out,
        "{} findings since {}: {open} open, {} resolved",
        spans.len(),
        minute(since),
        spans.len() - open
    );
    if spans.is_empty() {
        return out;
    }
    let rows: Vec<Line> = spans
        .iter()
        .map(|s| Line {
            address: s.address.clone(),
            code: s.code.clone(),
            severity: s.severity.clone(),
            appeared: minute(s.appeared),
            resolved: s.resolved.map_or_else(|| "open".to_owned(), minute),
            open_for: age(open_for(s, now)),
        })
        .collect();
    let mut table = Table::new(rows);
    table.with(Style::blank());
    let _ = writeln!(out, "\n{table}");
    out
}

#[derive(Serialize)]
struct Json<'a> {
    format_version: &'static str,
    since: Timestamp,
    now: Timestamp,
    summary: Summary,
    findings: Vec<JsonSpan<'a>>,
}

#[derive(Serialize)]
struct Summary {
    open: usize,
    resolved: usize,
}

#[derive(Serialize)]
struct JsonSpan<'a> {
    #[serde(flatten)]
    span: &'a FindingSpan,
    open_seconds: i64,
}

pub fn json(
    spans: &[FindingSpan],
    since: Timestamp,
    now: Timestamp,
) -> Result<String, serde_json::Error> {
    let open = spans.iter().filter(|s| s.resolved.is_none()).count();
    let doc = Json {
        format_version: "1",
        since,
        now,
        summary: Summary {
            open,
            resolved: spans.len() - open,
        },
        findings: spans
            .iter()
            .map(|span| JsonSpan {
                span,
                open_seconds: open_for(span, now),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}
