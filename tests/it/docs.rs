//! Every ```kdl block in README.md and docs/ is a valid desired state, so the documentation
//! cannot drift from the parser. A block that shows a fragment says so with ```kdl fragment
//! and is wrapped in a minimal deployment before validation. Every relative link leads to a
//! file and heading that exist.

use crate::support::{repo, standby};

const WRAPPER_HEAD: &str = r#"deployment "docs" product="ocs-2007-r2" domain="contoso.com" {
    objectives rpo="24h" rto="4h"
    owner "dba"
    owner "ocs-ops"
}
"#;

/// (file, line, info string, block) for every fenced kdl block.
fn kdl_blocks() -> Vec<(String, usize, String, String)> {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut blocks = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read doc");
        let name = file
            .strip_prefix(repo())
            .expect("in repo")
            .display()
            .to_string();
        let mut current: Option<(usize, String, String)> = None;
        for (i, line) in text.lines().enumerate() {
            match &mut current {
                None => {
                    if let Some(info) = line.trim_start().strip_prefix("```kdl") {
                        current = Some((i + 1, info.trim().to_owned(), String::new()));
                    }
                }
                Some((start, info, body)) => {
                    if line.trim_start().starts_with("```") {
                        blocks.push((name.clone(), *start, info.clone(), std::mem::take(body)));
                        current = None;
                    } else {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
            }
        }
    }
    blocks
}

#[test]
fn every_kdl_block_in_the_docs_validates() {
    let blocks = kdl_blocks();
    assert!(
        blocks.len() >= 20,
        "only {} kdl blocks found in README.md and docs/",
        blocks.len()
    );
    let mut failures = Vec::new();
    for (file, line, info, body) in &blocks {
        let tmp = tempfile::tempdir().expect("tempdir");
        let desired = tmp.path().join("desired");
        std::fs::create_dir(&desired).expect("mkdir");
        let text = if info == "fragment" {
            format!("{WRAPPER_HEAD}{body}")
        } else {
            body.clone()
        };
        std::fs::write(desired.join("block.kdl"), text).expect("write block");
        let out = standby(tmp.path(), &["validate"]);
        if out.status != 0 {
            failures.push(format!("{file}:{line}:\n{}", out.stderr));
        }
    }
    assert!(
        failures.is_empty(),
        "{} kdl blocks do not validate:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// docs/sql-server.md shows the discovery T-SQL exactly as the provider sends it.
#[test]
fn the_sql_server_page_shows_the_queries_the_provider_runs() {
    let page = std::fs::read_to_string(repo().join("docs/sql-server.md")).expect("the page");
    for (name, sql) in standby::observe::sql::queries::ALL {
        assert!(
            page.contains(&format!("```sql\n{sql}```")),
            "docs/sql-server.md does not show the `{name}` query as it is sent:\n{sql}"
        );
    }
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of every heading of a Markdown file (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line_start = line.trim_start();
        // A fence is a run of backticks with no backtick in its info string; "```` ``` ````"
        // at the start of a line is inline code.
        if line_start.starts_with("```") && !line_start.trim_start_matches('`').contains('`') {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// Every relative link of README.md and docs/*.md leads to a file that exists and, with a
/// `#fragment`, to a heading there: moving a section cannot leave a dead link behind.
#[test]
fn every_relative_link_in_the_docs_resolves() {
    let mut files = vec![repo().join("README.md")];
    files.extend(
        std::fs::read_dir(repo().join("docs"))
            .expect("docs/")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    let mut dead = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read doc");
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            checked += 1;
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let linked = if path.is_empty() {
                file.clone()
            } else {
                file.parent().expect("a directory").join(path)
            };
            if !linked.exists() {
                dead.push(format!("{}: {target}: no such file", file.display()));
            } else if !fragment.is_empty() {
                let text = std::fs::read_to_string(&linked).expect("read linked doc");
                if !anchors(&text).iter().any(|a| a == fragment) {
                    dead.push(format!("{}: {target}: no such heading", file.display()));
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} links found");
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

/// One `$ command` of a `console` block and the output shown under it.
struct Example {
    place: String,
    command: String,
    shown: Vec<String>,
}

/// Every `console` block of README.md and docs/: each `$ ` line a command, the lines up
/// to the next one what it prints (stdout and stderr as a terminal interleaves them).
fn console_blocks() -> Vec<Vec<Example>> {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut blocks = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read doc");
        let name = file
            .strip_prefix(repo())
            .expect("in repo")
            .display()
            .to_string();
        let mut block: Option<Vec<Example>> = None;
        for (i, line) in text.lines().enumerate() {
            match &mut block {
                None if line.trim_start() == "```console" => block = Some(Vec::new()),
                None => {}
                Some(examples) => {
                    if line.trim_start().starts_with("```") {
                        blocks.push(block.take().unwrap_or_default());
                    } else if let Some(command) = line.strip_prefix("$ ") {
                        examples.push(Example {
                            place: format!("{name}:{}", i + 1),
                            command: command.to_owned(),
                            shown: Vec::new(),
                        });
                    } else if let Some(example) = examples.last_mut() {
                        example.shown.push(line.trim_end().to_owned());
                    }
                }
            }
        }
    }
    blocks
}

/// Whether a printed line is what a shown line shows: equal, or with each `…` in the shown
/// line standing for any text.
fn line_matches(shown: &str, printed: &str) -> bool {
    let pieces: Vec<&str> = shown.split('…').collect();
    let [first, middle @ .., last] = pieces.as_slice() else {
        return shown == printed;
    };
    let Some(mut rest) = printed.strip_prefix(first) else {
        return false;
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether the printed lines are what the shown ones show: a shown line that is only `…`
/// stands for any number of lines.
fn lines_match(shown: &[String], printed: &[&str]) -> bool {
    match shown.split_first() {
        None => printed.is_empty(),
        Some((line, rest)) if line.trim() == "…" => {
            (0..=printed.len()).any(|skip| lines_match(rest, &printed[skip..]))
        }
        Some((line, rest)) => printed
            .split_first()
            .is_some_and(|(p, more)| line_matches(line, p) && lines_match(rest, more)),
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn the_elisions_of_console_blocks_match_what_they_stand_for() {
    assert!(line_matches("a … b", "a xyz b"));
    assert!(line_matches("a …", "a "));
    assert!(!line_matches("a … b", "a xyz c"));
    assert!(!line_matches("a", "a b"));
    let shown: Vec<String> = ["x", "…", "z"].map(String::from).to_vec();
    assert!(lines_match(&shown, &["x", "y", "y", "z"]));
    assert!(lines_match(&shown, &["x", "z"]));
    assert!(!lines_match(&shown, &["x", "y"]));
}

/// Every `console` block of README.md and docs/ runs, in a scratch copy of the shipped
/// example (desired/ and state/observed.json), and prints what the block shows: the docs
/// cannot drift from the tool. What varies is elided with `…` explicitly.
#[test]
fn every_console_block_in_the_docs_prints_what_it_shows() {
    let blocks = console_blocks();
    assert!(blocks.len() >= 5, "only {} console blocks", blocks.len());
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_standby"));
    let bin_dir = binary.parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    for block in blocks {
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_dir(&repo().join("desired"), &tmp.path().join("desired"));
        std::fs::create_dir(tmp.path().join("state")).expect("mkdir state");
        std::fs::copy(
            repo().join("state/observed.json"),
            tmp.path().join("state/observed.json"),
        )
        .expect("copy the snapshot");
        for example in block {
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("exec 2>&1; {}", example.command))
                .current_dir(tmp.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env_remove("STANDBY_COLUMNS")
                .env_remove("COLUMNS")
                .output()
                .expect("sh runs");
            let printed = String::from_utf8_lossy(&output.stdout).into_owned();
            let lines: Vec<&str> = printed.lines().map(str::trim_end).collect();
            let mut shown = example.shown.clone();
            while shown.last().is_some_and(String::is_empty) {
                shown.pop();
            }
            let mut printed_lines = lines.clone();
            while printed_lines.last().is_some_and(|l| l.is_empty()) {
                printed_lines.pop();
            }
            if !lines_match(&shown, &printed_lines) {
                failures.push(format!(
                    "{}: $ {}\n--- shown\n{}\n--- printed\n{}",
                    example.place,
                    example.command,
                    shown.join("\n"),
                    printed_lines.join("\n")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} console examples differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
