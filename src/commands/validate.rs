//! `standby validate`: load the desired state and report every diagnostic.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::{GlobalArgs, ValidateArgs, ValidateFormat};
use crate::desired::{Code, Desired, Diagnostic, Severity, load_dir};
use crate::report::diagnostics::{JsonDiagnostic, render_human, to_json};

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct Output {
    format_version: &'static str,
    valid: bool,
    summary: Summary,
    diagnostics: Vec<JsonDiagnostic>,
}

fn describe(desired: &Desired) -> String {
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "deployment `{}`: {}, {}, {}",
        desired.deployment.name.value,
        count(desired.sites.len(), "site", "sites"),
        count(
            desired.backup_items().count(),
            "backup item",
            "backup items"
        ),
        count(desired.scenarios.len(), "scenario", "scenarios"),
    )
}

/// How many warnings of one code the table shows; errors are always all shown. A desired
/// state of thousands of items can repeat one lint thousands of times.
const WARNINGS_PER_CODE: usize = 10;

/// The diagnostics to render, and how many warnings of each code are left out.
fn shown_and_hidden(diagnostics: &[Diagnostic]) -> (Vec<Diagnostic>, BTreeMap<Code, usize>) {
    let mut per_code: BTreeMap<Code, usize> = BTreeMap::new();
    let mut shown = Vec::new();
    for diagnostic in diagnostics {
        if diagnostic.is_error() {
            shown.push(diagnostic.clone());
            continue;
        }
        let seen = per_code.entry(diagnostic.code).or_default();
        *seen += 1;
        if *seen <= WARNINGS_PER_CODE {
            shown.push(diagnostic.clone());
        }
    }
    let hidden = per_code
        .into_iter()
        .filter(|(_, n)| *n > WARNINGS_PER_CODE)
        .map(|(code, n)| (code, n - WARNINGS_PER_CODE))
        .collect();
    (shown, hidden)
}

pub(super) fn run(global: &GlobalArgs, args: &ValidateArgs) -> ExitCode {
    let loaded = crate::profile::apply(load_dir(&global.desired));
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = loaded.diagnostics.len() - errors;
    // --strict: a warning fails validation like an error.
    let failed = errors > 0 || (args.strict && warnings > 0);
    match args.format {
        ValidateFormat::Json => {
            let output = Output {
                format_version: "1",
                valid: !failed,
                summary: Summary { errors, warnings },
                diagnostics: loaded
                    .diagnostics
                    .iter()
                    .map(|d| to_json(&loaded.sources, d))
                    .collect(),
            };
            match serde_json::to_string_pretty(&output) {
                Ok(json) => println!("{json}"),
                Err(e) => {
                    eprintln!("error: cannot print the diagnostics as JSON: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        ValidateFormat::Table => {
            let (shown, hidden) = shown_and_hidden(&loaded.diagnostics);
            if !shown.is_empty() {
                eprint!(
                    "{}",
                    render_human(&loaded.sources, &shown, super::stderr_color(global.color))
                );
            }
            for (code, count) in &hidden {
                eprintln!(
                    "… and {count} more `{code}` warning{} (`standby validate --format json` lists every one)",
                    if *count == 1 { "" } else { "s" }
                );
            }
            if failed {
                eprintln!(
                    "{} is invalid{}: {errors} error{}, {warnings} warning{}",
                    global.desired.display(),
                    if errors == 0 { " (--strict)" } else { "" },
                    if errors == 1 { "" } else { "s" },
                    if warnings == 1 { "" } else { "s" },
                );
            } else if let Some(desired) = &loaded.desired
                && !global.quiet
            {
                let lint = match warnings {
                    0 => String::new(),
                    1 => " (1 warning)".to_owned(),
                    n => format!(" ({n} warnings)"),
                };
                println!(
                    "{} is valid{lint}: {}",
                    global.desired.display(),
                    describe(desired)
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
