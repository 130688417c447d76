//! `standby init`: the starting desired state validates and lints clean, and nothing that
//! exists is ever overwritten.

use crate::support::{Output, snapshot_tree, standby};

/// `standby --desired DESIRED init --profile ocs-2007-r2 ARGS…` in `dir`.
fn init(dir: &std::path::Path, desired: &str, args: &[&str]) -> Output {
    let mut all = vec!["--desired", desired, "init", "--profile", "ocs-2007-r2"];
    all.extend_from_slice(args);
    standby(dir, &all)
}

fn warnings(dir: &std::path::Path, desired: &str) -> (i32, Vec<String>) {
    let out = standby(dir, &["--desired", desired, "validate", "--format", "json"]);
    let json = out.json();
    let codes = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("?").to_owned())
        .collect();
    (out.status, codes)
}

#[test]
fn init_writes_a_desired_state_that_lints_clean() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (edition, dir) in [("enterprise", "ee"), ("standard", "se")] {
        let out = init(
            tmp.path(),
            dir,
            &[
                "--site",
                "redmond",
                "--pool",
                "pool01.contoso.com",
                "--edition",
                edition,
                "--standby",
                "dallas",
            ],
        );
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert!(
            out.stderr.contains("validates and lints clean"),
            "{}",
            out.stderr
        );
        let mut names: Vec<String> = std::fs::read_dir(tmp.path().join(dir))
            .expect("written")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "dallas.kdl",
                "deployment.kdl",
                "redmond.kdl",
                "scenarios.kdl"
            ]
        );

        let strict = standby(tmp.path(), &["--desired", dir, "validate", "--strict"]);
        assert_eq!(strict.status, 0, "{edition}: {}", strict.stderr);
        assert_eq!(strict.stderr, "", "{edition}");
        assert!(strict.stdout.contains("2 sites"), "{}", strict.stdout);

        // Commented for the operator, and the scenarios come from the guide's templates.
        let site = std::fs::read_to_string(tmp.path().join(dir).join("redmond.kdl")).expect("site");
        assert!(site.contains("// "), "{site}");
        assert!(site.contains("password-env=\"STANDBY_REDMOND_SQL_PASSWORD\""));
        let scenarios =
            std::fs::read_to_string(tmp.path().join(dir).join("scenarios.kdl")).expect("scenarios");
        assert!(scenarios.contains("template=\"site-loss\""));
        let worksheet = standby(tmp.path(), &["--desired", dir, "worksheet"]);
        assert_eq!(worksheet.status, 0, "{}", worksheet.stderr);
        assert!(
            worksheet.stdout.contains(
                "Move users' home pool from pool01.contoso.com to dallas-pool.contoso.com"
            )
        );
    }
}

#[test]
fn without_a_standby_site_init_says_what_validate_will_warn() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = init(
        tmp.path(),
        "d",
        &["--site", "hq", "--pool", "pool.example.org"],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("until a standby site is declared"),
        "{}",
        out.stderr
    );
    let (status, codes) = warnings(tmp.path(), "d");
    assert_eq!(status, 0);
    let distinct: std::collections::BTreeSet<&str> = codes.iter().map(String::as_str).collect();
    assert_eq!(
        distinct.into_iter().collect::<Vec<_>>(),
        ["copy-only-local", "standby-site-missing"]
    );
}

#[test]
fn init_never_overwrites() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let desired = tmp.path().join("desired");
    std::fs::create_dir(&desired).expect("mkdir");
    std::fs::write(desired.join("mine.kdl"), "// my own deployment\n").expect("write");
    let before = snapshot_tree(&desired);
    let out = init(
        tmp.path(),
        "desired",
        &["--site", "hq", "--pool", "pool.example.org"],
    );
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("already holds a desired state") && out.stderr.contains("mine.kdl"),
        "{}",
        out.stderr
    );
    assert_eq!(
        snapshot_tree(&desired),
        before,
        "nothing was written or lost"
    );

    // Bad arguments are refused before anything is written.
    let out = init(tmp.path(), "new", &["--site", "hq", "--pool", "pool"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("--pool \"pool\""), "{}", out.stderr);
    assert!(!tmp.path().join("new").exists());
}
