//! The store provider: lists every backup file and fileset snapshot under a store root,
//! with size, mtime and content hash (cached in the catalog).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rayon::prelude::*;

use super::Progress;
use super::observed::{EntryKind, NameCase, StoreEntry, StoreObservation};
use crate::io::hash::{self, VerifyMode};
use crate::io::walk::{Walked, join, walk, walk_parallel};
use crate::layout::TEMP_PREFIX;
use crate::layout::{MANIFEST, layout_address};
use crate::state::catalog::{Catalog, CatalogEntry, HashOrigin};

fn mtime_of(metadata: &std::fs::Metadata) -> Timestamp {
    metadata
        .modified()
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Sums a snapshot directory's files (count, bytes) without following links.
fn snapshot_size(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let _ = walk(dir, |_, entries| {
        let mut descend = Vec::new();
        for entry in entries {
            if entry.metadata.is_dir() {
                descend.push(entry.name);
            } else if entry.metadata.is_file() && entry.name != MANIFEST {
                files += 1;
                bytes += entry.metadata.len();
            }
        }
        descend
    });
    (files, bytes)
}

/// Lists a store root: every file, symbolic link and fileset snapshot with its size and
/// mtime. Reads no content, so it needs no catalog.
pub(crate) fn list(site: &str, store: &str, root: &Path) -> StoreObservation {
    // Per directory: its files and links, or the directory itself when it is a snapshot.
    let walked = walk_parallel(root, &|dir, children| {
        if children
            .iter()
            .any(|c| c.name == MANIFEST && c.metadata.is_file())
            && !dir.is_empty()
        {
            // A fileset snapshot: one entry; its content is checked against the manifest.
            return ((Vec::new(), Some(dir.to_owned())), Vec::new());
        }
        let mut entries = Vec::new();
        let mut descend = Vec::new();
        for child in children {
            let file_type = child.metadata.file_type();
            let kind = if file_type.is_symlink() {
                EntryKind::Symlink
            } else if file_type.is_dir() && !child.name.starts_with(TEMP_PREFIX) {
                descend.push(child.name);
                continue;
            } else {
                EntryKind::File
            };
            // A FIFO, socket or device is listed (an item may match it) but never opened.
            let special = (kind == EntryKind::File && !file_type.is_file() && !file_type.is_dir())
                .then(|| {
                    format!(
                        "{} is {}, not a regular file: never read",
                        join(dir, &child.name),
                        hash::special_kind(file_type)
                    )
                });
            entries.push(StoreEntry {
                path: join(dir, &child.name),
                kind,
                size: child.metadata.len(),
                mtime: mtime_of(&child.metadata),
                sha256: None,
                recorded_sha256: None,
                hash_origin: None,
                verified_at: None,
                files: None,
                bad_files: Vec::new(),
                error: special,
            });
        }
        ((entries, None), descend)
    });
    let Walked {
        visited,
        unreadable,
    } = match walked {
        Ok(walked) => walked,
        Err(e) => {
            return StoreObservation {
                site: site.to_owned(),
                store: store.to_owned(),
                root: root.to_owned(),
                error: Some(e.to_string()),
                missing: matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ),
                unreadable: Vec::new(),
                case: NameCase::of_this_platform(),
                entries: Vec::new(),
            };
        }
    };
    let mut entries = Vec::with_capacity(visited.iter().map(|(e, _)| e.len()).sum());
    let mut snapshots = Vec::new();
    for (files, snapshot) in visited {
        entries.extend(files);
        snapshots.extend(snapshot);
    }
    for dir in snapshots {
        let manifest = root.join(&dir).join(MANIFEST);
        let manifest_metadata = std::fs::metadata(&manifest);
        let (manifest_len, manifest_mtime) = manifest_metadata
            .as_ref()
            .map_or((0, Timestamp::UNIX_EPOCH), |m| (m.len(), mtime_of(m)));
        entries.push(StoreEntry {
            path: dir,
            kind: EntryKind::Snapshot,
            size: manifest_len,
            mtime: manifest_mtime,
            sha256: None,
            recorded_sha256: None,
            hash_origin: None,
            verified_at: None,
            files: None,
            bad_files: Vec::new(),
            error: manifest_metadata.err().map(|e| e.to_string()),
        });
    }
    // The names directly under the root (the sites') are looked up with their case swapped.
    let top = entries.iter().filter_map(|e| e.path.split('/').next());
    let case = NameCase::detect(root, top).unwrap_or_else(NameCase::of_this_platform);
    StoreObservation {
        missing: false,
        site: site.to_owned(),
        store: store.to_owned(),
        root: root.to_owned(),
        error: None,
        unreadable,
        case,
        entries,
    }
}

/// Completes a listed store: takes the hashes of unchanged files from the catalog, hashes
/// what `mode` asks for on every core, records new hashes in the catalog, and sorts the
/// entries by path (as the store's file system compares names). Returns how many of the
/// entries the catalog now holds.
pub(crate) fn hash(
    observation: &mut StoreObservation,
    catalog: &mut Catalog,
    mode: VerifyMode,
    now: Timestamp,
    progress: &Progress,
) -> usize {
    let StoreObservation {
        root,
        entries,
        case,
        ..
    } = observation;
    let (to_hash, known) = reuse_known(entries, root, catalog, mode);
    progress.add(to_hash.iter().map(|&i| entries[i].size).sum());
    let results = read_content(entries, &to_hash, root, progress);
    let learned = record(entries, results, root, catalog, now);
    // Paths are unique within a store, so an unstable sort gives the same order; it moves
    // these large entries around less, and on every core.
    let case = *case;
    entries.par_sort_unstable_by(|a, b| case.cmp(&a.path, &b.path));
    known + learned
}

/// Fills in what the catalog knows of unchanged entries, and returns the indexes of the
/// entries to read: unknown or changed files always (unless `--verify none`), known
/// unchanged ones when the verify mode says so, and how many entries the catalog knows.
/// Looks entries up on every core: on a large store the lookups are much of a
/// re-discovery's work.
fn reuse_known(
    entries: &mut [StoreEntry],
    root: &Path,
    catalog: &Catalog,
    mode: VerifyMode,
) -> (Vec<usize>, usize) {
    let looked_up: Vec<(Option<usize>, bool)> = entries
        .par_iter_mut()
        .enumerate()
        // One buffer per thread for the absolute paths looked up: no allocation per file.
        .map_init(PathBuf::new, |absolute, (index, entry)| {
            if entry.kind == EntryKind::Symlink || entry.error.is_some() {
                return (None, false);
            }
            absolute.clear();
            absolute.push(root);
            absolute.push(&entry.path);
            let known = catalog.get(absolute);
            (reuse(entry, known, mode).then_some(index), known.is_some())
        })
        .collect();
    let known = looked_up.iter().filter(|(_, known)| *known).count();
    (
        looked_up.into_iter().filter_map(|(i, _)| i).collect(),
        known,
    )
}

/// Fills in what the catalog knows of a file or snapshot when it is unchanged; whether its
/// content is to be read.
fn reuse(entry: &mut StoreEntry, known: Option<&CatalogEntry>, mode: VerifyMode) -> bool {
    let unchanged = known.is_some_and(|k| {
        k.mtime == entry.mtime && (k.size == entry.size || entry.kind == EntryKind::Snapshot)
    });
    if let Some(known) = known.filter(|_| unchanged) {
        entry.sha256 = Some(
            known
                .mismatch
                .clone()
                .unwrap_or_else(|| known.sha256.clone()),
        );
        entry.recorded_sha256 = known.mismatch.as_ref().map(|_| known.sha256.clone());
        entry.verified_at = Some(known.last_verified);
        entry.hash_origin = Some(known.origin);
        if entry.kind == EntryKind::Snapshot {
            entry.size = known.size;
            entry.files = known.files;
        }
        return mode.rehash_known(&entry.path);
    }
    mode != VerifyMode::None
}

/// Hashes the entries at `to_hash`, on every core.
fn read_content(
    entries: &[StoreEntry],
    to_hash: &[usize],
    root: &Path,
    progress: &Progress,
) -> Vec<(usize, Result<HashOutcome, String>)> {
    to_hash
        .par_iter()
        .map(|&index| {
            let entry = &entries[index];
            let absolute = root.join(&entry.path);
            let outcome = match entry.kind {
                EntryKind::Snapshot => hash::verify_snapshot(&absolute).map(|(sha256, bad)| {
                    let (files, bytes) = snapshot_size(&absolute);
                    HashOutcome {
                        sha256,
                        bad_files: bad,
                        files: Some(files),
                        bytes,
                    }
                }),
                _ => hash_settled(&absolute, entry).map(|sha256| HashOutcome {
                    sha256,
                    bad_files: Vec::new(),
                    files: None,
                    bytes: entry.size,
                }),
            };
            progress.advance(entry.size);
            (index, outcome.map_err(|e| e.to_string()))
        })
        .collect()
}

/// The hash of a file that is not changing: the size and mtime of the handle after it was
/// read must be those the listing saw. A file still being written would otherwise pair its
/// old size and mtime with a hash of newer content in the catalog, and read as corrupt
/// ever after; it is reported as changing and nothing is recorded.
fn hash_settled(path: &Path, entry: &StoreEntry) -> std::io::Result<String> {
    let file = hash::open_regular(path)?;
    let sha256 = hash::sha256_reader(&file)?;
    let after = file.metadata()?;
    if after.len() != entry.size || mtime_of(&after) != entry.mtime {
        return Err(std::io::Error::other(format!(
            "{} is still being written (its size or mtime changed while it was read); discover again once it is complete",
            path.display()
        )));
    }
    Ok(sha256)
}

/// Records fresh hashes in the entries and the catalog; returns how many files the catalog
/// did not know before.
fn record(
    entries: &mut [StoreEntry],
    results: Vec<(usize, Result<HashOutcome, String>)>,
    root: &Path,
    catalog: &mut Catalog,
    now: Timestamp,
) -> usize {
    let mut learned = 0;
    for (index, outcome) in results {
        let entry = &mut entries[index];
        let absolute = root.join(&entry.path);
        match outcome {
            Err(error) => {
                entry.error = Some(error);
                entry.sha256 = None;
            }
            Ok(outcome) => {
                let recorded = catalog.get(&absolute).cloned();
                entry.verified_at = Some(now);
                if entry.kind == EntryKind::Snapshot {
                    entry.size = outcome.bytes;
                    entry.files = outcome.files;
                    entry.bad_files = outcome.bad_files;
                }
                // The first hash ever recorded stays the reference: content that differs from
                // it later is corruption, remembered until the content is right again.
                let reference = recorded
                    .as_ref()
                    .map_or(&outcome.sha256, |r| &r.sha256)
                    .clone();
                let mismatch = (reference != outcome.sha256).then(|| outcome.sha256.clone());
                entry.recorded_sha256 = mismatch.as_ref().map(|_| reference.clone());
                entry.hash_origin = Some(
                    recorded
                        .as_ref()
                        .map_or(HashOrigin::FirstSeen, |r| r.origin),
                );
                entry.sha256 = Some(outcome.sha256);
                catalog.insert(CatalogEntry {
                    address: layout_address(&entry.path),
                    path: absolute,
                    size: entry.size,
                    mtime: entry.mtime,
                    sha256: reference,
                    mismatch,
                    files: entry.files,
                    first_seen: recorded.as_ref().map_or(now, |r| r.first_seen),
                    last_verified: now,
                    origin: recorded
                        .as_ref()
                        .map_or(HashOrigin::FirstSeen, |r| r.origin),
                });
                learned += usize::from(recorded.is_none());
            }
        }
    }
    learned
}

struct HashOutcome {
    sha256: String,
    bad_files: Vec<String>,
    files: Option<u64>,
    bytes: u64,
}
