//! `standby validate`: the shipped example is valid, and every mistake in the invalid corpus
//! (`tests/invalid/`) is reported with its code at the exact `file:line:column`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{copy_into, repo, snapshot_tree, standby};

#[test]
fn the_shipped_example_is_valid_and_lints_clean_but_for_two_deliberate_warnings() {
    let out = standby(&repo(), &["validate"]);
    assert_eq!(out.status, 0, "stderr:\n{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("desired is valid (2 warnings): deployment `contoso`: 2 sites"),
        "{}",
        out.stdout
    );
    // The two the example's comments announce, each with its place and help.
    assert!(
        out.stderr
            .contains("every copy of redmond/database/lcslog/log is at site `redmond`")
    );
    assert!(
        out.stderr
            .contains("redmond/database/groupchat/diff is due every 6h")
    );

    let json = standby(&repo(), &["validate", "--format", "json"]).json();
    assert_eq!(json["format_version"], "1");
    assert_eq!(json["valid"], true);
    assert_eq!(json["summary"]["errors"], 0);
    let warnings: Vec<String> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            format!(
                "{} {}:{}:{}",
                d["code"].as_str().unwrap_or("?"),
                d["file"].as_str().unwrap_or("?"),
                d["line"],
                d["column"]
            )
        })
        .collect();
    assert_eq!(
        warnings,
        [
            "copy-only-local desired/contoso.kdl:58:41",
            "schedule-outside-window desired/contoso.kdl:72:23",
        ]
    );
    assert!(
        json["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .all(|d| d["severity"] == "warning" && d["help"].is_string())
    );
}

#[test]
fn strict_turns_warnings_into_errors() {
    let out = standby(&repo(), &["validate", "--strict"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("desired is invalid (--strict): 0 errors, 2 warnings"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    let json = standby(&repo(), &["validate", "--strict", "--format", "json"]);
    assert_eq!(json.status, 1);
    assert_eq!(json.json()["valid"], false);
}

/// The `// expect: CODE FILE:LINE:COLUMN` lines of a case (or `CODE -` for a problem of the
/// whole directory).
fn expectations(case: &Path) -> BTreeSet<String> {
    let files: Vec<_> = if case.is_dir() {
        std::fs::read_dir(case)
            .expect("case dir")
            .map(|e| e.expect("entry").path())
            .collect()
    } else {
        vec![case.to_path_buf()]
    };
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("read case")
                .lines()
                .filter_map(|l| l.strip_prefix("// expect: ").map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_invalid_case_reports_its_code_at_the_exact_place() {
    let corpus = repo().join("tests/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .expect("the invalid corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());

    let mut failures = Vec::new();
    let mut codes = BTreeSet::new();
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let expected = expectations(case);
        assert!(!expected.is_empty(), "{name} has no `// expect:` line");

        let tmp = tempfile::tempdir().expect("tempdir");
        let desired = tmp.path().join("desired");
        copy_into(case, &desired);
        let before = snapshot_tree(tmp.path());

        let out = standby(tmp.path(), &["validate", "--format", "json"]);
        let json = out.json();
        let got: BTreeSet<String> = json["diagnostics"]
            .as_array()
            .expect("diagnostics array")
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| match d["file"].as_str() {
                Some(file) => {
                    let file = Path::new(file)
                        .file_name()
                        .expect("file name")
                        .to_string_lossy()
                        .into_owned();
                    format!(
                        "{} {file}:{}:{}",
                        d["code"].as_str().unwrap_or("?"),
                        d["line"],
                        d["column"]
                    )
                }
                None => format!("{} -", d["code"].as_str().unwrap_or("?")),
            })
            .collect();
        if out.status != 1 || got != expected {
            failures.push(format!(
                "{name}: exit {}\n  expected {expected:?}\n  got      {got:?}",
                out.status
            ));
            continue;
        }
        assert_eq!(json["valid"], false, "{name}");

        // The human report names the same places, and nothing was written.
        let human = standby(tmp.path(), &["validate"]);
        assert_eq!(human.status, 1, "{name}");
        for expectation in &expected {
            let (code, place) = expectation.split_once(' ').expect("CODE PLACE");
            assert!(
                human.stderr.contains(code),
                "{name}: no `{code}` in\n{}",
                human.stderr
            );
            if place != "-" {
                assert!(
                    human.stderr.contains(&format!("desired/{place}]")),
                    "{name}: no `{place}` in\n{}",
                    human.stderr
                );
            }
            codes.insert(code.to_owned());
        }
        assert_eq!(
            snapshot_tree(tmp.path()),
            before,
            "{name}: validate wrote something"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        codes.len() >= 25,
        "the corpus covers only {} codes: {codes:?}",
        codes.len()
    );
}

fn rendered(case: &str) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_into(
        &repo().join("tests/invalid").join(case),
        &tmp.path().join("desired"),
    );
    let out = standby(tmp.path(), &["validate"]);
    assert_eq!(out.status, 1);
    out.stderr
}

#[test]
fn a_dangling_reference_shows_the_use_and_the_candidates() {
    insta::assert_snapshot!(rendered("dangling-store.kdl"));
}

#[test]
fn a_threshold_beyond_the_rpo_points_at_both() {
    insta::assert_snapshot!(rendered("crit-beyond-rpo.kdl"));
}

#[test]
fn a_kdl_syntax_error_points_at_the_token() {
    insta::assert_snapshot!(rendered("syntax-unquoted-duration.kdl"));
}

#[test]
fn a_duplicate_across_files_names_both_files() {
    insta::assert_snapshot!(rendered("two-deployments"));
}

#[test]
fn every_mistake_of_a_file_is_reported_in_one_run() {
    insta::assert_snapshot!(rendered("several-mistakes.kdl"));
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = standby(tmp.path(), &["validate", "--desired", "nowhere"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("cannot read the desired directory nowhere"),
        "{}",
        out.stderr
    );
    std::fs::create_dir(tmp.path().join("empty")).expect("mkdir");
    let out = standby(tmp.path(), &["validate", "--desired", "empty"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("empty holds no *.kdl file"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_lint_repeated_many_times_is_shown_ten_times_and_counted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let desired = tmp.path().join("desired");
    std::fs::create_dir(&desired).expect("mkdir");
    let mut text = String::from(
        "deployment \"t\" product=\"ocs-2007-r2\" {\n    objectives rpo=\"24h\" restore-test=\"30d\"\n}\n\
         site \"p\" role=\"primary\" {\n    store \"local\" path=\"/b\"\n    store \"off\" path=\"/o\" located-at=\"s\"\n    sql-instance \"i\" host=\"h\"\n",
    );
    let databases: Vec<String> = (0..25)
        .map(|n| {
            format!(
                "    database \"db{n}\" instance=\"i\" {{\n        backup \"full\" every=\"24h\" keep=7 store=\"local\" copy-to=\"off\"\n    }}\n"
            )
        })
        .collect();
    text.push_str(&databases.concat());
    text.push_str(
        "}\nsite \"s\" role=\"standby\" standby-for=\"p\" {\n    store \"local\" path=\"/s\"\n}\n",
    );
    std::fs::write(desired.join("t.kdl"), text).expect("write");

    let out = standby(tmp.path(), &["validate"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("⚠ database `p/db").count(),
        10,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "… and 15 more `log-volume-not-separate` warnings (`standby validate --format json` lists every one)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("is valid (25 warnings)"),
        "{}",
        out.stdout
    );
    let json = standby(tmp.path(), &["validate", "--format", "json"]).json();
    assert_eq!(json["diagnostics"].as_array().map(Vec::len), Some(25));
}

#[test]
fn the_windows_example_is_the_example_with_windows_paths_and_validates_alike() {
    let out = standby(&repo(), &["--desired", "desired-windows", "validate"]);
    assert_eq!(out.status, 0, "stderr:\n{}", out.stderr);
    assert_eq!(
        out.stdout
            .replace("desired-windows is valid", "desired is valid"),
        standby(&repo(), &["validate"]).stdout
    );
    // The same deployment: only `path=` lines (and the header saying so) differ.
    for file in ["contoso.kdl", "scenarios.kdl"] {
        let read = |dir: &str| std::fs::read_to_string(repo().join(dir).join(file)).expect("read");
        let (unix, windows) = (read("desired"), read("desired-windows"));
        let differing = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.contains("path=") && !l.contains("Windows variant"))
                .filter(|l| {
                    !l.starts_with("// computer: the same") && !l.starts_with("// shares, a")
                })
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(differing(&unix), differing(&windows), "{file}");
        if file == "contoso.kdl" {
            assert!(
                windows.contains(r##"path=#"\\rdm-bk01\backup"# sql-path=#"\\rdm-bk01\backup"#"##)
            );
            assert!(windows.contains(r##"path=#"D:\OCS\Client Update Files"#"##));
            assert!(windows.contains(r##"path=#"\\?\D:\OCS\Meeting Compliance"#"##));
        }
    }
}
