//! The people's tables of the shipped example laid out for terminals of 80, 120 and 200
//! columns (`STANDBY_COLUMNS`), with colour and without: messages and previews wrap, addresses
//! and codes never do, colour escapes take no width, and without a width nothing wraps.

use crate::support::{Output, repo, standby_with};

const EXAMPLE: [&str; 4] = [
    "--observed",
    "state/observed.json",
    "--now",
    "2026-11-22T06:30:00Z",
];

fn run(command: &str, width: usize, color: bool, extra: &[&str]) -> Output {
    let mut args = vec![command];
    args.extend(EXAMPLE);
    args.extend(extra);
    args.extend(["--color", if color { "always" } else { "never" }]);
    standby_with(
        &repo(),
        &args,
        &[("STANDBY_COLUMNS", width.to_string().as_str())],
    )
}

/// Colour escapes removed: what the terminal shows.
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('\u{1b}') {
        out.push_str(&rest[..start]);
        let escape = &rest[start..];
        let end = escape.find('m').map_or(escape.len(), |e| e + 1);
        rest = &escape[end..];
    }
    out.push_str(rest);
    out
}

fn width(line: &str) -> usize {
    strip(line).chars().count()
}

#[test]
fn the_plan_fits_80_120_and_200_columns_with_and_without_colour() {
    for columns in [80, 120, 200] {
        let plain = run("plan", columns, false, &[]);
        assert_eq!(plain.status, 0, "{}", plain.stderr);
        let colored = run("plan", columns, true, &[]);
        assert!(colored.stdout.contains('\u{1b}'), "colour is on");
        assert_eq!(
            strip(&colored.stdout),
            plain.stdout,
            "colour moves no column at {columns}"
        );
        for line in plain.stdout.lines() {
            assert!(
                width(line) <= columns,
                "{columns}: {} columns: {line}",
                width(line)
            );
        }
        insta::assert_snapshot!(format!("plan_{columns}"), plain.stdout);
        insta::assert_snapshot!(
            format!("plan_{columns}_colour"),
            colored.stdout.replace('\u{1b}', "␛")
        );
    }
}

#[test]
fn check_and_audit_fit_the_width_and_colour_moves_no_column() {
    for command in ["check", "audit"] {
        for columns in [80, 120, 200] {
            let plain = run(command, columns, false, &[]);
            let colored = run(command, columns, true, &[]);
            assert_eq!(strip(&colored.stdout), plain.stdout, "{command} {columns}");
            // A settings diff is shown as it is: its lines are never wrapped.
            let table = plain.stdout.split("\nsettings-drift ").next().unwrap_or("");
            for line in table.lines() {
                assert!(width(line) <= columns, "{command} {columns}: {line}");
            }
        }
    }
}

#[test]
fn without_a_terminal_nothing_wraps_and_no_line_ends_in_blanks() {
    let out = standby_with(&repo(), &[&["plan"][..], &EXAMPLE].concat(), &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.iter().all(|l| !l.ends_with(' ')), "{}", out.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("redmond/fileset/meeting-compliance")
                && l.contains("No such file or directory (os error 2)")),
        "a whole row per finding: {}",
        out.stdout
    );
}

#[test]
fn alike_actions_fold_into_one_row_that_verbose_and_json_expand() {
    let folded = run("plan", 200, false, &[]);
    let row = folded
        .stdout
        .lines()
        .find(|l| l.contains("copy-backup") && l.contains("redmond/database/lcscdr/full"))
        .expect("a row for lcscdr's copies");
    assert!(
        row.contains("a6…a13") && row.contains("8 actions like"),
        "{row}"
    );
    assert_eq!(
        folded
            .stdout
            .lines()
            .filter(|l| l.contains("copy-backup") && l.contains("lcscdr/full"))
            .count(),
        1
    );
    let verbose = run("plan", 200, false, &["-v"]);
    assert_eq!(
        verbose
            .stdout
            .lines()
            .filter(|l| l.contains("copy-backup") && l.contains("lcscdr/full"))
            .count(),
        8,
        "{}",
        verbose.stdout
    );
    let json = run("plan", 200, false, &["--format", "json"]).json();
    let copies = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "copy-backup" && a["address"] == "redmond/database/lcscdr/full")
        .count();
    assert_eq!(copies, 8);
}

#[test]
fn the_plan_ends_with_its_summary_and_marks_destructive_actions() {
    let out = run("plan", 200, false, &[]);
    let first = out.stdout.lines().next().expect("a first line");
    let last = out.stdout.lines().last().expect("a last line");
    assert_eq!(first, last, "{}", out.stdout);
    assert!(last.ends_with(", 4 destructive"), "{last}");
    assert!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with(" a") && l.contains("prune-backup"))
            .all(|l| l.contains("prune-backup (destructive)")),
        "{}",
        out.stdout
    );
    let colored = run("plan", 200, true, &[]);
    assert!(
        colored
            .stdout
            .contains("\u{1b}[1m\u{1b}[31mprune-backup (destructive)"),
        "destructive actions are red: {}",
        colored.stdout
    );
}

#[test]
fn plan_out_says_where_it_saved_and_how_to_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tonight.json");
    let path = path.to_str().expect("utf-8 path");
    let out = run("plan", 0, false, &["--out", path]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "saved the plan to {path}; apply it with: standby apply {path}"
        )),
        "{}",
        out.stderr
    );
}
