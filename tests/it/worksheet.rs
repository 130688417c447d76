//! `standby worksheet`: the shipped example as Markdown (snapshot), the HTML's contents links,
//! self-containedness and escaping, measured restore times from a real journal file, the
//! missing observation, `--out`, and the HTML opened in headless Chromium and screenshotted.
//! scripts/test installs Chromium; the screenshot test fails, never skips, without it.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Output, repo, standby};

const EXAMPLE_NOW: &str = "2026-11-22T06:30:00Z";

/// The worksheet of the shipped example, with `state` as the state directory (its journal).
fn example(state: &Path, extra: &[&str]) -> Output {
    let state = state.to_str().expect("utf-8 path");
    let mut args = vec![
        "--state",
        state,
        "worksheet",
        "--observed",
        "state/observed.json",
        "--now",
        EXAMPLE_NOW,
    ];
    args.extend(extra);
    standby(&repo(), &args)
}

#[test]
fn the_shipped_example_worksheet() {
    let state = tempfile::tempdir().expect("tempdir");
    let out = example(state.path(), &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!(out.stdout);
}

/// Every `attribute="…"` value in `html`.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let needle = format!(" {attribute}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest[..rest.find('"').expect("a closing quote")].to_owned()
        })
        .collect()
}

#[test]
fn the_html_contents_link_to_sections_and_nothing_is_loaded_from_elsewhere() {
    let state = tempfile::tempdir().expect("tempdir");
    let out = example(state.path(), &["--format", "html"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let html = &out.stdout;
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{html}");
    assert!(html.trim_end().ends_with("</html>"));

    let ids = attribute_values(html, "id");
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids: {ids:?}");
    let hrefs = attribute_values(html, "href");
    // The contents list every section, every server and every scenario.
    assert!(hrefs.len() >= 5 + 14 + 10, "{hrefs:?}");
    for href in &hrefs {
        let id = href
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("a link leaves the document: {href}"));
        assert!(unique.contains(&id.to_owned()), "#{id} has no target");
    }
    for id in [
        "deployment",
        "servers",
        "items",
        "scenarios",
        "restore-sequence",
        "server-redmond-sql01-contoso-com",
        "scenario-database-loss",
    ] {
        assert!(hrefs.contains(&format!("#{id}")), "no link to #{id}");
    }

    // One file: styles inline, nothing fetched, nothing run.
    for outside in [
        "http:", "https:", "src=", "<script", "<link", "@import", "url(", "<iframe", "<img",
    ] {
        assert!(!html.contains(outside), "the HTML contains {outside:?}");
    }
    assert!(html.contains("<style>") && html.contains("@media print"));
    assert!(html.contains("break-before: page"));
    assert!(html.contains("thead { display: table-header-group; }"));
}

const HOSTILE: &str = r#"
deployment "evil<i>" product="generic" domain="example.test" {
    objectives rpo="24h" rto="4h"
    owner "ops" name="Ops <script>alert('owner')</script>" contact="\"><img src=http://evil.example/x>"
}
site "s" role="primary" owner="ops" {
    store "local" path="../local & <co>"
    pool "p<b>.example.test" edition="standard" {
        server "se<b>.example.test" role="standard-edition"
    }
    fileset "f|x" path="../src" every="24h" keep=2 store="local"
}
scenario "\"><svg onload=alert(1)>" owner="ops" estimate="1h" {
    affects "s/fileset/f|x"
    step "Copy <img src=http://evil.example/y onerror=alert(2)> back | done *now*" minutes=30
}
restore-sequence "</ol><script>alert(3)</script>"
"#;

#[test]
fn hostile_names_are_escaped_in_both_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("desired")).expect("mkdir");
    fs::write(dir.path().join("desired/d.kdl"), HOSTILE).expect("write desired");

    let out = standby(
        dir.path(),
        &["worksheet", "--format", "html", "--now", EXAMPLE_NOW],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let html = &out.stdout;
    // The hostile text stays on the page as text; no tag or attribute of it gets in.
    for raw in ["<script", "<img", "<svg", "<b>", "<i>", "<co>", "\"><"] {
        assert!(
            !html.contains(raw),
            "{raw:?} got through unescaped:\n{html}"
        );
    }
    for escaped in [
        "Ops &lt;script&gt;alert(&#39;owner&#39;)&lt;/script&gt;",
        "&quot;&gt;&lt;img src=http://evil.example/x&gt;",
        "se&lt;b&gt;.example.test",
        "&quot;&gt;&lt;svg onload=alert(1)&gt;",
        "&lt;/ol&gt;&lt;script&gt;alert(3)&lt;/script&gt;",
        "<wbr>/local &amp; &lt;co&gt;</code>",
    ] {
        assert!(html.contains(escaped), "{escaped:?} missing:\n{html}");
    }
    // Anchors are made of safe characters whatever the names hold.
    for id in attribute_values(html, "id") {
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{id}"
        );
    }

    let out = standby(dir.path(), &["worksheet", "--now", EXAMPLE_NOW]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let markdown = &out.stdout;
    // Outside code spans (which show their text literally), every `<` is escaped.
    let outside_code: String = markdown.split('`').step_by(2).collect();
    for (at, _) in outside_code.match_indices('<') {
        assert!(
            outside_code[..at].ends_with('\\'),
            "unescaped `<` at {:?}\n{markdown}",
            &outside_code[at..]
        );
    }
    assert!(
        markdown.contains(
            "| 1 | Copy \\<img src=http://evil.example/y onerror=alert(2)\\> back \\| done \\*now\\* | 30 |"
        ),
        "{markdown}"
    );
    // A `|` in a name must not split its table cell, even inside a code span.
    assert!(markdown.contains("`s/fileset/f\\|x`"), "{markdown}");
}

/// A journal as `apply` and the SQL Server provider write it, with the noise a real one has.
const JOURNAL: &str = r#"{"at":"2026-11-20T01:18:00Z","run":"r1","action":"a1","kind":"restore-test","address":"redmond/database/rtc","step":"start"}
{"at":"2026-11-20T02:00:00Z","run":"r1","action":"a1","kind":"restore-test","address":"redmond/database/rtc","step":"end","outcome":"ok","duration_ms":2520000}
{"at":"2026-11-21T02:00:00Z","run":"r2","action":"a1","kind":"restore-test","address":"redmond/database/rtc","step":"end","outcome":"failed","duration_ms":60000,"message":"CHECKDB found errors"}
{"at":"2026-11-21T03:00:00Z","run":"r2","action":"a2","kind":"restore-test","address":"redmond/database/lcscdr","step":"end","outcome":"ok"}
not json at all
{"at":"2026-11-21T04:00:00Z","run":"r2","action":"a3","kind":"verify-backup","address":"redmond/settings/edge01","step":"end","outcome":"ok","duration_ms":12}
{"at":"2026-11-22T05:00:00Z","run":"r3","act"#;

#[test]
fn a_measured_restore_time_from_the_journal_shows_on_the_scenario() {
    let state = tempfile::tempdir().expect("tempdir");
    fs::write(state.path().join("journal.jsonl"), JOURNAL).expect("write journal");
    let out = example(state.path(), &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let md = &out.stdout;
    let measured = "42m, test restore of `redmond/database/rtc` on 2026-11-20 02:00 (2d4h ago)";
    // The overview and the scenario itself; `site-loss` affects `redmond/*`, rtc included.
    assert!(
        md.contains(&format!(
            "| database-loss | `dba` | 100m (RTO 4h) | 100m | {measured} |"
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!("- **Measured restore time**: {measured}\n")),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| site-loss | `ocs-ops` | 225m (RTO 4h) | 225m | {measured} |"
        )),
        "{md}"
    );
    // lcscdr's test passed without a duration: it measured nothing.
    assert!(
        md.contains(
            "| monitoring-server-loss | `ocs-ops` | 130m (RTO 4h) | 130m | *not measured* |"
        ),
        "{md}"
    );
    // The items show the last passed test of their database (the failed newer one does
    // not count); lcscdr's test has no duration but did pass.
    let row = |item: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| `{item}` |")) && l.matches(" | ").count() == 8)
            .unwrap_or_else(|| panic!("no items row for {item}:\n{md}"))
    };
    for item in ["redmond/database/rtc/full", "redmond/database/rtc/log"] {
        assert!(
            row(item).ends_with("| 2026-11-20 02:00 (2d4h ago), took 42m |"),
            "{}",
            row(item)
        );
    }
    assert!(
        row("redmond/database/lcscdr/full").ends_with("| 2026-11-21 03:00 (1d3h ago) |"),
        "{}",
        row("redmond/database/lcscdr/full")
    );
    assert!(row("dallas/database/rtc/full").ends_with("| *none recorded* |"));
    assert!(row("redmond/settings/edge01").ends_with("| — |"));
}

#[test]
fn without_an_observation_everything_observed_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    crate::support::copy_into(&repo().join("desired"), &dir.path().join("desired"));
    let out = standby(dir.path(), &["worksheet", "--now", EXAMPLE_NOW]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("no observation saved in state/state.db"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("*no observation*: run `standby discover` first")
    );
    assert!(
        out.stdout
            .contains("| *unknown*: no observation | *unknown*: no observation |")
    );
    assert!(!out.stdout.contains("ago)"), "nothing observed has an age");

    // An observation asked for by name must be there.
    let out = standby(dir.path(), &["worksheet", "--observed", "nope.json"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("cannot read nope.json"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn out_writes_the_file_atomically() {
    let state = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("worksheet.html");
    fs::write(&file, "old").expect("write");
    let before = fs::metadata(&file).expect("stat").ino();
    let path = file.to_str().expect("utf-8 path");
    let out = example(state.path(), &["--format", "html", "--out", path]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let written = fs::read_to_string(&file).expect("read");
    assert_eq!(written, example(state.path(), &["--format", "html"]).stdout);
    assert_ne!(
        fs::metadata(&file).expect("stat").ino(),
        before,
        "renamed into place"
    );
    let left: Vec<_> = fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["worksheet.html"]);
}

/// Screenshots `page` with headless Chromium into `png` at 1200×2000.
fn screenshot(page: &Path, png: &Path, profile: &Path) {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("chromium must be installed (scripts/test does it): {e}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait for chromium").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium took longer than two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("chromium's output");
    assert!(
        out.status.success() && png.exists(),
        "chromium failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The PNG's width and height, after checking its signature and header chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "not a PNG: {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "no IHDR chunk first");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    (word(16), word(20))
}

#[test]
fn the_html_worksheet_renders_in_chromium() {
    let state = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("worksheet.html");
    let out = example(
        state.path(),
        &[
            "--format",
            "html",
            "--out",
            page.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    // A blank page from the same browser: what an empty or failed rendering looks like.
    let blank = dir.path().join("blank.html");
    fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").expect("write");

    let shots: Vec<(PathBuf, Vec<u8>)> = [&page, &blank]
        .iter()
        .map(|html| {
            let png = html.with_extension("png");
            screenshot(html, &png, &dir.path().join("profile"));
            let bytes = fs::read(&png).expect("read the screenshot");
            (png, bytes)
        })
        .collect();
    let (worksheet, blank) = (&shots[0].1, &shots[1].1);
    assert_eq!(png_size(worksheet), (1200, 2000));
    assert_eq!(png_size(blank), (1200, 2000));
    // A uniform image compresses to almost nothing; text, tables and rules do not.
    assert!(
        worksheet.len() > 100_000 && worksheet.len() > 10 * blank.len(),
        "the screenshot looks empty: {} bytes (a blank page: {} bytes)",
        worksheet.len(),
        blank.len()
    );
}
