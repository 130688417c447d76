//! Directory walking shared by the store and fileset providers: never follows symbolic
//! links, records what it could not read instead of failing.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A directory below a walked root that could not be read, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
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
        let entries = read_entries(reader, &relative, &mut unreadable);
        for name in visit(&relative, entries) {
            stack.push(join(&relative, &name));
        }
    }
    Ok(unreadable)
}

/// The entries of one directory with their metadata; an entry that cannot be read is
/// recorded in `unreadable` under the directory's relative path.
fn read_entries(
    reader: fs::ReadDir,
    relative: &str,
    unreadable: &mut Vec<UnreadablePath>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for entry in reader {
        match entry.and_then(|e| e.metadata().map(|m| (e, m))) {
            Ok((entry, metadata)) => entries.push(Entry {
                name: entry.file_name().to_string_lossy().into_owned(),
                metadata,
            }),
            Err(e) => unreadable.push(UnreadablePath {
                path: relative.to_owned(),
                error: e.to_string(),
            }),
        }
    }
    entries
}

/// What a parallel walk gathered: what `visit` returned for each directory, in no particular
/// order, and the directories below the root that could not be read, sorted by path.
pub(crate) struct Walked<T> {
    pub visited: Vec<T>,
    pub unreadable: Vec<UnreadablePath>,
}

/// [`walk`] on every core: `visit` gets each directory's relative path and entries, and
/// returns what to keep of it and the entries to descend into. For large trees (a store of
/// 100,000 backups), where listing is most of the work.
pub(crate) fn walk_parallel<T: Send>(
    root: &Path,
    visit: &(impl Fn(&str, Vec<Entry>) -> (T, Vec<String>) + Sync),
) -> std::io::Result<Walked<T>> {
    let reader = fs::read_dir(root)?;
    let mut walked = walk_below(root, "", reader, visit);
    walked.unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(walked)
}

fn walk_below<T: Send>(
    root: &Path,
    relative: &str,
    reader: fs::ReadDir,
    visit: &(impl Fn(&str, Vec<Entry>) -> (T, Vec<String>) + Sync),
) -> Walked<T> {
    use rayon::prelude::*;
    let mut unreadable = Vec::new();
    let entries = read_entries(reader, relative, &mut unreadable);
    let (kept, descend) = visit(relative, entries);
    let below = descend
        .into_par_iter()
        .map(|name| {
            let relative = join(relative, &name);
            match fs::read_dir(root.join(&relative)) {
                Ok(reader) => walk_below(root, &relative, reader, visit),
                Err(e) => Walked {
                    visited: Vec::new(),
                    unreadable: vec![UnreadablePath {
                        path: relative,
                        error: e.to_string(),
                    }],
                },
            }
        })
        .reduce(
            || Walked {
                visited: Vec::new(),
                unreadable: Vec::new(),
            },
            |mut a, mut b| {
                a.visited.append(&mut b.visited);
                a.unreadable.append(&mut b.unreadable);
                a
            },
        );
    let mut visited = below.visited;
    visited.push(kept);
    unreadable.extend(below.unreadable);
    Walked {
        visited,
        unreadable,
    }
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
