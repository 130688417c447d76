//! Every ```kdl block in README.md and docs/ is a valid desired state, so the documentation
//! cannot drift from the parser. A block that shows a fragment says so with ```kdl fragment
//! and is wrapped in a minimal deployment before validation.

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
