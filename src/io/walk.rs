//! Directory walking shared by the store and fileset providers: never follows symbolic
//! links, records what it could not read instead of failing.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A directory below a walked root that could not be read, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UnreadablePath {
    pub path: String,
    pub error: String,
}

/// One directory entry, with its metadata read without following links.
pub(crate) struct Entry {
    pub name: String,
    pub metadata: fs::Metadata,
}

/// Walks `root` depth-first. `visit` gets each directory's path relative to `root` (`""` for
/// the root itself, `/`-separated) and its entries, and returns the entries to descend into.
/// Returns the directories below the root that could not be read; an unreadable root is an
/// error.
pub(crate) fn walk(
    root: &Path,
    mut visit: impl FnMut(&str, Vec<Entry>) -> Vec<String>,
) -> std::io::Result<Vec<UnreadablePath>> {
    let mut unreadable = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(relative) = stack.pop() {
        let dir = if relative.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&relative)
        };
        let reader = match fs::read_dir(&dir) {
            Ok(reader) => reader,
            Err(e) if relative.is_empty() => return Err(e),
            Err(e) => {
                unreadable.push(UnreadablePath {
                    path: relative,
                    error: e.to_string(),
                });
                continue;
            }
        };
        let mut entries = Vec::new();
        for entry in reader {
            let entry = match entry.and_then(|e| e.metadata().map(|m| (e, m))) {
                Ok(pair) => pair,
                Err(e) => {
                    unreadable.push(UnreadablePath {
                        path: relative.clone(),
                        error: e.to_string(),
                    });
                    continue;
                }
            };
            let (entry, metadata) = entry;
            let name = entry.file_name().to_string_lossy().into_owned();
            entries.push(Entry { name, metadata });
        }
        for name in visit(&relative, entries) {
            stack.push(join(&relative, &name));
        }
    }
    Ok(unreadable)
}

/// `dir/name` with `/`, or `name` at the root.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Visits every regular file under `root` (relative path, metadata), never following links.
pub fn walk_tree(
    root: &Path,
    mut visit: impl FnMut(&str, &fs::Metadata),
) -> std::io::Result<Vec<UnreadablePath>> {
    walk(root, |dir, entries| {
        let mut descend = Vec::new();
        for entry in entries {
            if entry.metadata.is_dir() {
                descend.push(entry.name);
            } else if entry.metadata.is_file() {
                visit(&join(dir, &entry.name), &entry.metadata);
            }
        }
        descend
    })
}
