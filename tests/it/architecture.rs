//! The one rule of `docs/architecture.md`: a module imports only from layers below it. The
//! layers are read from the document's `layers` block, so the document and the code cannot
//! drift apart: a module missing from the block, or an import that runs sideways or back up,
//! fails here with the file and line that has it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::repo;

/// The layers of `docs/architecture.md`, top first: each line names the modules of one layer.
fn layers() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(repo().join("docs/architecture.md")).expect("read doc");
    let block = text
        .split("```layers\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/architecture.md has a ```layers block");
    block
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|layer| !layer.is_empty())
        .collect()
}

/// Every `.rs` file under `dir`, with the top-level module it belongs to.
fn sources(dir: &Path, module: Option<&str>, out: &mut Vec<(String, std::path::PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let owner = module.map_or_else(|| name.clone(), str::to_owned);
        if path.is_dir() {
            sources(&path, Some(&owner), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((owner, path));
        }
    }
}

/// `crate::NAME` in a line of code (not in a comment).
fn imported(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices("crate::")
        // `$crate::` in a macro is not an edge between modules.
        .filter(|(at, _)| !code[..*at].ends_with('$'))
        .filter_map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

#[test]
fn every_module_imports_only_from_layers_below_it() {
    let layers = layers();
    // The bottom layer is 0; the block lists the top first.
    let rank: BTreeMap<String, usize> = layers
        .iter()
        .rev()
        .enumerate()
        .flat_map(|(i, layer)| layer.iter().map(move |m| (m.clone(), i)))
        .collect();
    let mut files = Vec::new();
    sources(&repo().join("src"), None, &mut files);
    let mut problems = Vec::new();
    for (module, path) in &files {
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = rank.get(module) else {
            problems.push(format!(
                "src/{module} is in no layer of docs/architecture.md: place it in the ```layers block"
            ));
            continue;
        };
        let text = std::fs::read_to_string(path).expect("read source");
        let shown = path.strip_prefix(repo()).expect("in repo").display();
        for (number, line) in text.lines().enumerate() {
            for target in imported(line) {
                if target == module {
                    continue;
                }
                match rank.get(target) {
                    Some(&other) if other < own => {}
                    Some(_) => problems.push(format!(
                        "{shown}:{}: `{module}` imports `{target}`, which is not in a layer below it",
                        number + 1
                    )),
                    None => problems.push(format!(
                        "{shown}:{}: `{module}` imports `{target}`, which is in no layer",
                        number + 1
                    )),
                }
            }
        }
    }
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn each_module_stands_in_one_layer() {
    let mut seen = BTreeMap::new();
    for (i, layer) in layers().iter().enumerate() {
        for module in layer {
            if let Some(first) = seen.insert(module.clone(), i) {
                panic!("`{module}` stands in layers {first} and {i} of docs/architecture.md");
            }
            assert!(
                repo().join("src").join(module).is_dir()
                    || repo().join("src").join(format!("{module}.rs")).is_file(),
                "docs/architecture.md names `{module}`, which is not a module under src/"
            );
        }
    }
}
