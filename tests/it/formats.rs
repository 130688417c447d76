//! `check` in the formats CI and monitoring systems read, each checked by a real consumer:
//! `JUnit` XML by `xmllint` against `tests/junit.xsd`, Prometheus text by `promtool check
//! metrics`, Nagios output by its exit codes and perfdata grammar. Also shell completions,
//! the man page and colour. scripts/test installs the tools; no test skips without them.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{Output, repo, standby};

const NOW: &str = "2026-11-22T12:00:00Z";

/// The README's example: the shipped desired state and snapshot.
const EXAMPLE: [&str; 5] = [
    "check",
    "--observed",
    "state/observed.json",
    "--now",
    "2026-11-22T06:30:00Z",
];

/// A store whose path needs escaping in every format, and that is never mounted.
const DESIRED: &str = r#"
deployment "t" product="ocs-2007-r2" {
    objectives rpo="24h"
    owner "dba"
}
site "s" role="primary" owner="dba" {
    store "local" path="../local" sql-path="\\\\bk\\backup"
    store "archive" path="../archive & <not> \"mounted\""
    sql-instance "i" host="sql.example" password-env="PW"
    database "db" instance="i" {
        backup "full" every="12h" keep=2 store="local"
        backup "diff" every="8h" keep=3 store="local"
    }
    fileset "files" path="../src" every="24h" keep=2 store="local"
    fileset "logs" path="../src" every="24h" keep=2 store="archive"
}
"#;

/// The desired state, its SQL Server instance on the test server.
fn desired(sql: &tds_test_server::TdsServer) -> String {
    DESIRED.replace(
        r#"sql-instance "i" host="sql.example" password-env="PW""#,
        &crate::support::sql_instance("i", sql),
    )
}

struct Estate {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// Kept running for as long as the estate is used.
    _sql: tds_test_server::TdsServer,
}

impl Estate {
    /// The database fresh (full 6 h old, diff 1 h old), fileset `files` never backed up,
    /// fileset `logs` in a store that is not there, and a stray file in `local` whose
    /// directory name needs escaping.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("desired")).expect("mkdir");
        let sql = crate::support::quiet_sql_server(&["db"]);
        fs::write(root.join("desired/d.kdl"), desired(&sql)).expect("write desired");
        fs::create_dir_all(root.join("src")).expect("mkdir");
        fs::write(root.join("src/a.txt"), "meeting content").expect("write");
        let estate = Self {
            _dir: dir,
            root,
            _sql: sql,
        };
        estate.write("s/database/db/full/db_full_20261122T060000Z.bak", "full");
        estate.write("s/database/db/diff/db_diff_20261122T110000Z.bak", "diff");
        estate.write("odd & <dir> \"q\" 'a'/stray.bin", "x");
        estate
    }

    fn write(&self, path: &str, content: &str) {
        let file = self.root.join("local").join(path);
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, content).expect("write backup");
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", NOW]);
        standby(&self.root, &all)
    }
}

/// Runs a consumer tool; it must be installed (scripts/test does that) and must accept.
fn consume(program: &str, args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} must be installed (scripts/test does it): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("feed stdin");
    let out = child.wait_with_output().expect("wait");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{program} {args:?} rejected the output ({}):\n{text}\n--- input ---\n{}",
        out.status,
        String::from_utf8_lossy(stdin)
    );
    text
}

/// `xmllint --noout --schema tests/junit.xsd FILE`.
fn assert_valid_junit(file: &Path) {
    let schema = repo().join("tests/junit.xsd");
    let said = consume(
        "xmllint",
        &[
            "--noout",
            "--schema",
            schema.to_str().expect("utf-8 path"),
            file.to_str().expect("utf-8 path"),
        ],
        b"",
    );
    assert!(said.ends_with("validates\n"), "{said}");
}

/// `promtool check metrics < TEXT`: parses and lints (HELP, TYPE, names, escaping).
fn assert_valid_metrics(text: &str) {
    consume("promtool", &["check", "metrics"], text.as_bytes());
}

fn junit_of(stdout: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.xml");
    fs::write(&file, stdout).expect("write report");
    (dir, file)
}

/// Every `name="…"` of the elements named `element`.
fn names(xml: &str, element: &str) -> Vec<String> {
    let open = format!("<{element} name=\"");
    xml.split(&open)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn junit_from_a_real_estate_is_valid_and_fails_what_is_wrong() {
    let estate = Estate::new();
    let out = estate.run(&["check", "--format", "junit", "--out", "report.xml"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "", "the report went to --out");
    let report = estate.root.join("report.xml");
    assert_valid_junit(&report);
    let xml = fs::read_to_string(&report).expect("read report");
    assert_eq!(names(&xml, "testsuite"), ["s"]);
    assert_eq!(
        names(&xml, "testcase"),
        [
            "s/database/db/full",
            "s/database/db/diff",
            "s/fileset/files",
            "s/fileset/logs",
            "s/store/archive",
            "s/store/local",
        ]
    );
    assert!(
        xml.contains("<testsuites name=\"standby check\" tests=\"6\" failures=\"3\" errors=\"0\"")
    );
    assert!(xml.contains("type=\"backup-missing\">critical backup-missing&#10;"));
    // A failure's message carries the unmounted store's path, escaped.
    assert!(
        xml.contains("archive &amp; &lt;not&gt; &quot;mounted&quot;"),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure ").count(), 3);
    // Info findings pass; they are output, not failures.
    assert!(xml.contains(
        "<system-out>info unmanaged: 1 file(s) (1 B) under odd &amp; &lt;dir&gt; &quot;q&quot; &apos;a&apos;/"
    ));
}

#[test]
fn junit_of_the_shipped_example_is_valid() {
    let out = standby(&repo(), &[&EXAMPLE[..], &["--format", "junit"]].concat());
    assert_eq!(out.status, 2, "{}", out.stderr);
    let (_dir, file) = junit_of(&out.stdout);
    assert_valid_junit(&file);
    assert_eq!(names(&out.stdout, "testsuite"), ["redmond", "dallas"]);
    assert_eq!(
        out.stdout.matches("<failure ").count(),
        7,
        "3 critical, 4 warnings"
    );
    assert_eq!(
        out.stdout.matches("<system-out>").count(),
        3,
        "4 info on 3 addresses"
    );
    assert!(
        out.stdout.contains(
            "<testsuites name=\"standby check\" tests=\"34\" failures=\"6\" errors=\"0\""
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn junit_when_standby_cannot_check_reports_an_error() {
    let estate = Estate::new();
    let out = estate.run(&["check", "--format", "junit", "--observed", "missing.json"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("cannot read missing.json"),
        "{}",
        out.stderr
    );
    let (_dir, file) = junit_of(&out.stdout);
    assert_valid_junit(&file);
    assert!(
        out.stdout
            .contains("<error message=\"cannot read missing.json:")
    );
}

/// `(value, warn, crit)` per label of a plugin's perfdata, checked against the
/// monitoring-plugin grammar `'label'=value[UOM];[warn];[crit];[min];[max]`.
fn perfdata(line: &str) -> Vec<(String, String, String, String)> {
    let (_, data) = line.split_once(" | ").expect("perfdata after ` | `");
    data.split(' ')
        .map(|entry| {
            let (label, rest) = entry.rsplit_once('=').expect("label=value");
            assert!(
                label.len() > 2 && label.starts_with('\'') && label.ends_with('\''),
                "{entry}"
            );
            let fields: Vec<&str> = rest.split(';').collect();
            assert_eq!(fields.len(), 5, "{entry}");
            let value = fields[0];
            let number = value.strip_suffix('s').unwrap_or("x");
            assert!(
                value == "U" || number.trim_start_matches('-').parse::<u64>().is_ok(),
                "{entry}"
            );
            assert!(fields[1].parse::<u64>().is_ok() && fields[2].parse::<u64>().is_ok());
            assert_eq!((fields[3], fields[4]), ("0", ""), "{entry}");
            (
                label.trim_matches('\'').to_owned(),
                value.to_owned(),
                fields[1].to_owned(),
                fields[2].to_owned(),
            )
        })
        .collect()
}

#[test]
fn nagios_exits_ok_warning_critical_and_unknown() {
    let estate = Estate::new();
    let database = ["--target", "s/database"];

    let ok = estate.run(&[&["check", "--format", "nagios"], &database[..]].concat());
    assert_eq!(ok.status, 0, "{}{}", ok.stdout, ok.stderr);
    assert_eq!(
        ok.stdout,
        "STANDBY OK - 0 critical, 0 warnings, 0 info | \
         's/database/db/full'=21600s;54000;64800;0; 's/database/db/diff'=3600s;36000;43200;0;\n"
    );

    // The newest diff 11 h old: past warn (10 h), before crit (12 h).
    fs::remove_file(
        estate
            .root
            .join("local/s/database/db/diff/db_diff_20261122T110000Z.bak"),
    )
    .expect("rm");
    estate.write("s/database/db/diff/db_diff_20261122T010000Z.bak", "diff");
    let warning = estate.run(&[&["check", "--format", "nagios"], &database[..]].concat());
    assert_eq!(warning.status, 1, "{}{}", warning.stdout, warning.stderr);
    let lines: Vec<&str> = warning.stdout.lines().collect();
    assert!(lines[0].starts_with("STANDBY WARNING - 0 critical, 1 warning, 0 info | "));
    assert_eq!(
        lines[1],
        "WARNING: s/database/db/diff backup-stale: newest backup is 11h old (warn 10h)"
    );
    assert_eq!(lines.len(), 2);

    let critical = estate.run(&["check", "--format", "nagios"]);
    assert_eq!(critical.status, 2, "{}{}", critical.stdout, critical.stderr);
    let lines: Vec<&str> = critical.stdout.lines().collect();
    assert!(
        lines[0].starts_with("STANDBY CRITICAL - 2 critical, 2 warnings, 1 info | "),
        "{}",
        lines[0]
    );
    let perf = perfdata(lines[0]);
    let logs = perf.iter().find(|p| p.0 == "s/fileset/logs").expect("logs");
    assert_eq!(logs.1, "U", "its store is unknown");
    assert_eq!(
        perf.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
        [
            "s/database/db/full",
            "s/database/db/diff",
            "s/fileset/files",
            "s/fileset/logs"
        ]
    );
    // Critical problems first, one line each; info findings are not problems.
    assert_eq!(lines.len(), 5, "{}", critical.stdout);
    assert!(lines[1].starts_with("CRITICAL: s/fileset/files backup-missing: "));
    assert!(lines[2].starts_with("CRITICAL: s/fileset/logs source-unreachable: "));
    assert!(lines[3].starts_with("WARNING: s/database/db/diff backup-stale: "));
    assert!(lines[4].starts_with("WARNING: s/store/archive store-missing: "));

    // Standby could not check at all: UNKNOWN, the reason on stdout where Nagios reads it.
    let unknown = estate.run(&["check", "--format", "nagios", "--observed", "missing.json"]);
    assert_eq!(unknown.status, 3);
    assert!(
        unknown
            .stdout
            .starts_with("STANDBY UNKNOWN - cannot read missing.json: "),
        "{}",
        unknown.stdout
    );
    assert_eq!(unknown.stdout.lines().count(), 1);

    fs::write(estate.root.join("desired/d.kdl"), "site \"s\" {").expect("write");
    let invalid = estate.run(&["check", "--format", "nagios"]);
    assert_eq!(invalid.status, 3, "{}", invalid.stderr);
    assert_eq!(
        invalid.stdout,
        "STANDBY UNKNOWN - the desired state in desired is invalid; run `standby validate`\n"
    );
    // Every other format keeps SPEC's exit 1 for the same error.
    assert_eq!(estate.run(&["check"]).status, 1);
}

#[test]
fn nagios_of_the_shipped_example() {
    let out = standby(&repo(), &[&EXAMPLE[..], &["--format", "nagios"]].concat());
    assert_eq!(out.status, 2, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("STANDBY CRITICAL - 3 critical, 4 warnings, 4 info | "),
        "{}",
        lines[0]
    );
    let perf = perfdata(lines[0]);
    assert_eq!(perf.len(), 30);
    assert!(perf.contains(&(
        "redmond/settings/edge01".to_owned(),
        "192600s".to_owned(),
        "86400".to_owned(),
        "86400".to_owned()
    )));
    assert_eq!(
        lines[1..]
            .iter()
            .map(|l| l.split(':').next().unwrap_or_default())
            .collect::<Vec<_>>(),
        [
            "CRITICAL", "CRITICAL", "CRITICAL", "WARNING", "WARNING", "WARNING", "WARNING"
        ]
    );
}

/// Every sample line's metric name with its labels, and its value.
fn samples(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series value");
            (series.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn prometheus_from_a_real_estate_is_valid_and_written_atomically() {
    let estate = Estate::new();
    let dir = estate.root.join("textfile");
    fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("standby.prom");
    fs::write(&file, "stale\n").expect("write");
    let before = fs::metadata(&file).expect("stat").ino();

    let out = estate.run(&[
        "check",
        "--format",
        "prometheus",
        "--out",
        "textfile/standby.prom",
    ]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let text = fs::read_to_string(&file).expect("read metrics");
    assert_valid_metrics(&text);
    // Replaced by a rename, not rewritten in place, and no temporary left for the
    // collector to read.
    assert_ne!(fs::metadata(&file).expect("stat").ino(), before);
    let left: Vec<_> = fs::read_dir(&dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["standby.prom"]);

    let samples: BTreeSet<(String, String)> = samples(&text).into_iter().collect();
    let has = |series: &str, value: &str| {
        assert!(
            samples.contains(&(series.to_owned(), value.to_owned())),
            "{series} {value} missing from\n{text}"
        );
    };
    let full = r#"{site="s",kind="database",item="db",type="full"}"#;
    has(&format!("standby_backup_age_seconds{full}"), "21600");
    has(
        &format!("standby_backup_newest_timestamp_seconds{full}"),
        "1795327200",
    );
    has(&format!("standby_backup_warn_seconds{full}"), "54000");
    has(
        r#"standby_backup_known{site="s",kind="fileset",item="logs",type="snapshot"}"#,
        "0",
    );
    has(
        r#"standby_findings{severity="critical",code="backup-missing"}"#,
        "1",
    );
    has(
        r#"standby_findings{severity="critical",code="source-unreachable"}"#,
        "1",
    );
    has(
        r#"standby_findings{severity="warning",code="store-missing"}"#,
        "1",
    );
    has(r#"standby_findings{severity="info",code="unmanaged"}"#, "1");
    has("standby_check_success", "1");
    has("standby_check_timestamp_seconds", "1795348800");
    // Nothing to report for what has no backup or cannot be seen.
    assert!(!text.contains(r#"standby_backup_age_seconds{site="s",kind="fileset""#));
    assert!(!text.contains(r#"standby_backup_newest_timestamp_seconds{site="s",kind="fileset""#));
}

#[test]
fn prometheus_of_the_shipped_example_is_valid() {
    let out = standby(
        &repo(),
        &[&EXAMPLE[..], &["--format", "prometheus"]].concat(),
    );
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert_valid_metrics(&out.stdout);
    let samples = samples(&out.stdout);
    let count = |name: &str| {
        samples
            .iter()
            .filter(|(s, _)| s.starts_with(&format!("{name}{{")))
            .count()
    };
    assert_eq!(count("standby_backup_age_seconds"), 30);
    assert_eq!(count("standby_backup_newest_timestamp_seconds"), 30);
    let findings: usize = samples
        .iter()
        .filter(|(s, _)| s.starts_with("standby_findings{"))
        .map(|(_, v)| v.parse::<usize>().expect("a count"))
        .sum();
    assert_eq!(findings, 11);
}

#[test]
fn prometheus_when_standby_cannot_check_says_so() {
    let estate = Estate::new();
    let out = estate.run(&[
        "check",
        "--format",
        "prometheus",
        "--observed",
        "missing.json",
        "--out",
        "standby.prom",
    ]);
    assert_eq!(out.status, 1);
    let text = fs::read_to_string(estate.root.join("standby.prom")).expect("read");
    assert_valid_metrics(&text);
    assert!(text.contains("\nstandby_check_success 0\n"), "{text}");
    assert!(!text.contains("standby_backup"));
}

#[test]
fn markdown_check_puts_the_summary_first_and_folds_the_details() {
    let out = standby(&repo(), &[&EXAMPLE[..], &["--format", "markdown"]].concat());
    assert_eq!(out.status, 2, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "### 🛑 standby check: 3 critical, 4 warnings, 4 info"
    );
    assert_eq!(lines[2], "<details><summary>11 findings</summary>");
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("| critical ") || l.starts_with("| warning "))
            .count(),
        7
    );
    assert!(out.stdout.ends_with("</details>\n"));
    assert!(
        !out.stdout.contains(" actions</summary>"),
        "check shows no actions"
    );
}

#[test]
fn only_the_table_is_coloured_and_only_when_asked() {
    let esc = '\u{1b}';
    let colour = |format: &str, color: &str| {
        let out = standby(
            &repo(),
            &[&EXAMPLE[..], &["--format", format, "--color", color]].concat(),
        );
        out.stdout.contains(esc)
    };
    assert!(colour("table", "always"));
    // The harness sets NO_COLOR and pipes stdout.
    assert!(!colour("table", "auto"));
    assert!(!colour("table", "never"));
    for format in ["json", "junit", "nagios", "prometheus", "markdown"] {
        assert!(!colour(format, "always"), "{format} is never coloured");
    }
    // Diagnostics on stderr follow --color too.
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::create_dir(tmp.path().join("desired")).expect("mkdir");
    fs::write(tmp.path().join("desired/d.kdl"), "site \"s\" {").expect("write");
    let always = standby(tmp.path(), &["validate", "--color", "always"]);
    assert!(always.stderr.contains(esc), "{}", always.stderr);
    let auto = standby(tmp.path(), &["validate"]);
    assert!(!auto.stderr.contains(esc), "{}", auto.stderr);
    // And so do clap's own usage errors.
    let usage = standby(
        tmp.path(),
        &["check", "--format", "bogus", "--color", "always"],
    );
    assert_eq!(usage.status, 2);
    assert!(usage.stderr.contains(esc), "{}", usage.stderr);
    let usage = standby(tmp.path(), &["check", "--format", "bogus"]);
    assert!(!usage.stderr.contains(esc), "{}", usage.stderr);
}

#[test]
fn completions_load_in_bash_and_name_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bash = standby(dir.path(), &["completions", "bash"]);
    assert_eq!(bash.status, 0, "{}", bash.stderr);
    let script = dir.path().join("standby.bash");
    fs::write(&script, &bash.stdout).expect("write");
    let said = consume(
        "bash",
        &[
            "-c",
            "source \"$1\" && complete -p standby",
            "bash",
            script.to_str().expect("utf-8 path"),
        ],
        b"",
    );
    assert!(said.contains("-F _standby standby"), "{said}");
    for shell in ["bash", "zsh", "fish"] {
        let out = standby(dir.path(), &["completions", shell]);
        assert_eq!(out.status, 0, "{}", out.stderr);
        for word in [
            "check",
            "discover",
            "validate",
            "prometheus",
            "nagios",
            "junit",
        ] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert!(
        standby(dir.path(), &["completions", "zsh"])
            .stdout
            .starts_with("#compdef standby")
    );
    assert!(
        standby(dir.path(), &["completions", "fish"])
            .stdout
            .contains("complete -c standby")
    );
    // `plan` offers only the plan formats, `check` its own.
    let fish = standby(dir.path(), &["completions", "fish"]).stdout;
    let formats = |command: &str| {
        let start = fish
            .find(&format!("using_subcommand {command}\" -l format"))
            .unwrap_or_else(|| panic!("{command} --format completion in\n{fish}"));
        let block = &fish[start..];
        block[..block.find("\ncomplete ").unwrap_or(block.len())].to_owned()
    };
    let plan = formats("plan");
    assert!(
        plan.contains("markdown") && !plan.contains("nagios"),
        "{plan}"
    );
    let check = formats("check");
    assert!(
        check.contains("junit") && check.contains("prometheus"),
        "{check}"
    );
}

#[test]
fn man_pages_are_roff_for_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = standby(dir.path(), &["man"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(".TH standby 1"));
    assert!(out.stdout.contains("standby\\-check(1)"));

    let written = standby(dir.path(), &["man", "--out", "man/man1"]);
    assert_eq!(written.status, 0, "{}", written.stderr);
    let pages: BTreeSet<String> = fs::read_dir(dir.path().join("man/man1"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for page in [
        "standby.1",
        "standby-check.1",
        "standby-plan.1",
        "standby-completions.1",
    ] {
        assert!(pages.contains(page), "{page} not in {pages:?}");
    }
    let check = fs::read_to_string(dir.path().join("man/man1/standby-check.1")).expect("read");
    assert!(check.contains("prometheus"), "{check}");
}

/// The alerting rules of docs/monitoring.md use these metric names and are valid rules.
#[test]
fn the_documented_alerting_rules_are_valid() {
    let doc = fs::read_to_string(repo().join("docs/monitoring.md")).expect("docs/monitoring.md");
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .filter(|block| block.starts_with("groups:"))
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "one block of alerting rules in docs/monitoring.md"
    );
    let metrics = standby(
        &repo(),
        &[&EXAMPLE[..], &["--format", "prometheus"]].concat(),
    );
    for metric in [
        "standby_check_success",
        "standby_check_timestamp_seconds",
        "standby_findings",
        "standby_backup_age_seconds",
        "standby_backup_crit_seconds",
        "standby_backup_known",
        "standby_observation_timestamp_seconds",
    ] {
        assert!(blocks[0].contains(metric), "{metric}");
        assert!(metrics.stdout.contains(&format!("# TYPE {metric} gauge")));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("standby.rules.yml");
    fs::write(&rules, blocks[0]).expect("write rules");
    let said = consume(
        "promtool",
        &["check", "rules", rules.to_str().expect("utf-8 path")],
        b"",
    );
    assert!(said.contains("SUCCESS: 6 rules found"), "{said}");
}
