//! Renders what an `apply` run did: per action done, failed, skipped or left to a person (with
//! its owner), and whether the deployment is in sync afterwards. A table for people, JSON for
//! automation.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use super::layout::{self, Column, Terminal};
use super::plan::{Report, Summary};
use crate::apply::{Outcome, Status};
use crate::io::meter::Reading;
use crate::plan::{Action, Finding, Plan};

/// `apply`'s exit status: whether the deployment is in sync now, as the operator and the
/// scheduler need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every action ran and a fresh look finds nothing left to do (exit 0).
    InSync,
    /// An action failed, or one was skipped because another failed (exit 1).
    Failed,
    /// Nothing failed, but the deployment is not in sync: manual actions are left for
    /// people, actions wait for the backup window, or findings remain (exit 2).
    NotInSync,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        match self {
            Self::InSync => 0,
            Self::Failed => 1,
            Self::NotInSync => 2,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in sync",
            Self::Failed => "failed",
            Self::NotInSync => "not in sync",
        }
    }
}

/// One action's result as the report states it.
#[derive(Debug, Serialize)]
struct ActionResult<'a> {
    id: &'a str,
    kind: &'static str,
    address: String,
    /// `done`, `failed`, `skipped` or `manual`.
    result: &'static str,
    /// What it did (done), why it failed or was skipped, or what a person must do (manual).
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    duration_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
}

/// The run: every action's result, the counts, and what a fresh look found afterwards.
pub struct Run<'a> {
    actions: Vec<ActionResult<'a>>,
    /// `None` when the run was interrupted: it stops without observing again.
    after: Option<&'a Plan>,
    pub verdict: Verdict,
}

fn result_of(status: &Status) -> &'static str {
    match status {
        Status::Ok => "done",
        Status::Failed(_) => "failed",
        Status::Skipped(_) => "skipped",
        Status::Manual => "manual",
    }
}

impl<'a> Run<'a> {
    /// `outcomes` in the plan's order; `after` is the plan of a fresh discovery (`None` when
    /// the run was interrupted).
    pub fn new(actions: &'a [Action], outcomes: &'a [Outcome], after: Option<&'a Plan>) -> Self {
        let results: Vec<ActionResult<'a>> = actions
            .iter()
            .filter_map(|action| {
                let outcome = outcomes.iter().find(|o| o.id == action.id)?;
                let message = match &outcome.status {
                    Status::Ok => outcome.detail.clone(),
                    Status::Failed(m) | Status::Skipped(m) => Some(m.clone()),
                    Status::Manual => Some(action.preview.clone()),
                };
                Some(ActionResult {
                    id: &action.id,
                    kind: action.kind.as_str(),
                    address: action.address.to_string(),
                    result: result_of(&outcome.status),
                    message,
                    owner: action.owner.as_deref(),
                    duration_seconds: outcome.duration.as_secs_f64(),
                    output: outcome.output.as_deref(),
                })
            })
            .collect();
        // A skip because of the window is a wait; one because another action failed is part
        // of that failure.
        let failed = outcomes.iter().any(|o| match &o.status {
            Status::Failed(_) => true,
            Status::Skipped(reason) => !reason.starts_with("outside the backup window"),
            Status::Ok | Status::Manual => false,
        });
        let in_sync = after.is_some_and(|after| !after.has_drift() && after.actions.is_empty());
        let verdict = if failed {
            Verdict::Failed
        } else if in_sync {
            Verdict::InSync
        } else {
            Verdict::NotInSync
        };
        Self {
            actions: results,
            after,
            verdict,
        }
    }

    fn count(&self, result: &str) -> usize {
        self.actions.iter().filter(|a| a.result == result).count()
    }

    /// `apply: 12 done, 1 failed, 2 skipped, 1 manual left · now: 2 critical, … · not in sync`
    pub fn line(&self) -> String {
        let now = self.after.map_or_else(
            || "interrupted, not observed again".to_owned(),
            |after| {
                format!(
                    "now: {}",
                    Summary::of(after, Report::Check).line(Report::Check)
                )
            },
        );
        format!(
            "apply: {} done, {} failed, {} skipped, {} manual left for people · {now} · {}",
            self.count("done"),
            self.count("failed"),
            self.count("skipped"),
            self.count("manual"),
            self.verdict.as_str()
        )
    }

    /// What was not done, one row per action (failed, skipped, manual with its owner), then
    /// the findings a fresh look still shows, and the summary line.
    pub fn table(&self, terminal: Terminal) -> String {
        const COLUMNS: [Column; 5] = [
            Column::fixed("RESULT"),
            Column::fixed("ID"),
            Column::fixed("KIND"),
            Column::fixed("ADDRESS"),
            Column::wrapping("WHY / WHAT TO DO"),
        ];
        let mut out = String::new();
        let rows: Vec<Vec<String>> = self
            .actions
            .iter()
            .filter(|a| a.result != "done")
            .map(|a| {
                let mut message = a.message.clone().unwrap_or_default();
                if let Some(owner) = a.owner {
                    let _ = write!(message, " [owner: {owner}]");
                }
                vec![
                    a.result.to_owned(),
                    a.id.to_owned(),
                    a.kind.to_owned(),
                    a.address.clone(),
                    message,
                ]
            })
            .collect();
        if !rows.is_empty() {
            let _ = write!(
                out,
                "\nnot done\n{}",
                layout::table(&COLUMNS, rows, terminal.width)
            );
        }
        if let Some(after) = self.after.filter(|after| !after.findings.is_empty()) {
            out.push_str("\nstill found after applying\n");
            out.push_str(&super::plan::findings_by_site(&after.findings, terminal));
        }
        out.push('\n');
        out.push_str(&layout::paragraph(&self.line(), terminal.width));
        out
    }

    pub fn json(&self, now: Timestamp) -> serde_json::Result<String> {
        #[derive(Serialize)]
        struct Json<'a> {
            format_version: &'static str,
            command: &'static str,
            now: Timestamp,
            in_sync: bool,
            result: &'static str,
            summary: BTreeMap<&'static str, usize>,
            actions: &'a [ActionResult<'a>],
            /// The findings of a fresh discovery after the run; `null` when interrupted.
            after: Option<AfterJson<'a>>,
        }
        #[derive(Serialize)]
        struct AfterJson<'a> {
            summary: Summary,
            findings: &'a [Finding],
            actions: &'a [Action],
        }
        let summary = ["done", "failed", "skipped", "manual"]
            .into_iter()
            .map(|r| (r, self.count(r)))
            .collect();
        serde_json::to_string_pretty(&Json {
            format_version: "1",
            command: "apply",
            now,
            in_sync: self.verdict == Verdict::InSync,
            result: self.verdict.as_str(),
            summary,
            actions: &self.actions,
            after: self.after.map(|after| AfterJson {
                summary: Summary::of(after, Report::Plan),
                findings: &after.findings,
                actions: &after.actions,
            }),
        })
        .map(|mut s| {
            s.push('\n');
            s
        })
    }
}

/// How far a running action got, as its progress line says it:
/// `1.2 GiB of 2.7 GiB (44%), 85.0 MiB/s, 18s left`, `40%` (a server's own count), or
/// `3.0 MiB, 1.5 MiB/s` when the size is not known in advance.
pub fn progress(reading: Reading, elapsed: std::time::Duration) -> Option<String> {
    match reading {
        Reading::Nothing => None,
        Reading::Percent(percent) => Some(format!("{percent}%")),
        Reading::Bytes { done, total } => {
            let seconds = elapsed.as_secs_f64();
            #[allow(clippy::cast_precision_loss, reason = "a rate shown to one decimal")]
            let rate = if seconds > 0.0 {
                done as f64 / seconds
            } else {
                0.0
            };
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a non-negative rate, shown in whole bytes"
            )]
            let per_second = crate::units::bytes(rate as u64);
            if total == 0 {
                return Some(format!("{}, {per_second}/s", crate::units::bytes(done)));
            }
            let done = done.min(total);
            let mut text = format!(
                "{} of {} ({}%), {per_second}/s",
                crate::units::bytes(done),
                crate::units::bytes(total),
                done * 100 / total
            );
            if rate >= 1.0 {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_precision_loss,
                    reason = "whole seconds left, of a byte count far below 2^52"
                )]
                let left = ((total - done) as f64 / rate).ceil() as i64;
                let _ = write!(text, ", {} left", crate::units::age(left));
            }
            Some(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn progress_says_bytes_rate_and_time_left() {
        let reading = Reading::Bytes {
            done: 50 << 20,
            total: 150 << 20,
        };
        assert_eq!(
            progress(reading, Duration::from_secs(10)).as_deref(),
            Some("50.0 MiB of 150.0 MiB (33%), 5.0 MiB/s, 20s left")
        );
        let unknown = Reading::Bytes {
            done: 3 << 20,
            total: 0,
        };
        assert_eq!(
            progress(unknown, Duration::from_secs(2)).as_deref(),
            Some("3.0 MiB, 1.5 MiB/s")
        );
        assert_eq!(
            progress(Reading::Percent(40), Duration::from_secs(2)).as_deref(),
            Some("40%")
        );
        assert_eq!(progress(Reading::Nothing, Duration::from_secs(2)), None);
    }
}
