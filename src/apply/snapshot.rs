//! `snapshot-fileset`: the fileset's selected files into a new snapshot directory with a
//! `MANIFEST.sha256` that `sha256sum -c` accepts. Files unchanged since the previous
//! snapshot (same size and mtime) are hard-linked to it instead of copied.
//!
//! Both trees are walked through directory handles ([`Dir`]), one level open at a time, so
//! depth is not limited by `PATH_MAX` and no link is followed on either side. A source
//! entry that vanishes, is not a regular file or cannot be read is skipped with its reason
//! (listed in the snapshot's `SKIPPED` file); everything else is still snapshotted. Holes of
//! sparse files stay holes; the manifest hashes the logical content. Copies keep their
//! source's permission bits (never wider) and modification time.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::io::copy::{Durable, InStore, copy_hashing};
use crate::io::handle::{Dir, Kind};
use crate::io::walk::join;
use crate::layout::{MANIFEST, SKIPPED, STAT, stat_line, temp_path};
use crate::observe::Selection;

/// What a snapshot holds.
#[derive(Debug)]
pub(super) struct Snapshotted {
    pub(super) files: u64,
    pub(super) bytes: u64,
    pub(super) linked: u64,
    /// Source entries left out, each with why.
    pub(super) skipped: Vec<(String, String)>,
    /// The hash of its manifest.
    pub sha256: String,
}

/// The previous snapshot's manifest: hash by relative path.
fn previous_manifest(previous: Option<&Dir>) -> HashMap<String, String> {
    let Some(text) = previous
        .and_then(|p| p.open_file(OsStr::new(MANIFEST), false).ok())
        .and_then(|mut f| {
            let mut text = String::new();
            f.read_to_string(&mut text).ok().map(|_| text)
        })
    else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(hash, name)| (name.to_owned(), hash.to_owned()))
        .collect()
}

pub(super) fn snapshot(
    source: &Path,
    selection: &Selection,
    target: &InStore,
    previous: Option<&InStore>,
) -> Result<Snapshotted, String> {
    let path = target.path();
    let source_dir =
        Dir::open(source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let temp = temp_path(Path::new(&target.name));
    let temp = temp.as_os_str();
    let made = (|| -> Result<Snapshotted, String> {
        let temp_dir = target
            .parent
            .create_dir(temp)
            .map_err(|e| format!("cannot create a temporary beside {}: {e}", path.display()))?;
        let previous = previous.and_then(|p| p.parent.open_dir(&p.name).ok());
        let made = build(&source_dir, selection, &temp_dir, previous.as_ref())?;
        target
            .parent
            .rename_new(temp, &target.parent, &target.name)
            .map_err(|e| format!("cannot rename into {}: {e}", path.display()))?;
        Ok(made)
    })();
    if made.is_err() {
        let _ = target.parent.remove_tree(temp);
    }
    let made = made?;
    let mut durable = Durable::default();
    for dir in target.created.iter().chain([&target.parent]) {
        durable
            .dir(dir)
            .map_err(|e| format!("cannot sync {}: {e}", dir.path().display()))?;
    }
    durable.finish()?;
    Ok(made)
}

/// One directory of the walk: its source, its copy (made when its first file is copied)
/// and the previous snapshot's same directory, and the subdirectories still to visit.
struct Level {
    relative: String,
    name: OsString,
    source: Dir,
    copy: Option<Dir>,
    previous: Option<Dir>,
    mode: u32,
    pending: Vec<OsString>,
}

/// What [`build`] gathers as it goes.
struct Gathered {
    manifest: Vec<(String, String)>,
    /// Each file's size and modification time, for [`STAT`].
    stats: Vec<(String, u64, Option<std::time::SystemTime>)>,
    skipped: Vec<(String, String)>,
    bytes: u64,
    linked: u64,
    durable: Durable,
}

fn build(
    source: &Dir,
    selection: &Selection,
    temp: &Dir,
    previous: Option<&Dir>,
) -> Result<Snapshotted, String> {
    let known = previous_manifest(previous);
    let mut gathered = Gathered {
        manifest: Vec::new(),
        stats: Vec::new(),
        skipped: Vec::new(),
        bytes: 0,
        linked: 0,
        durable: Durable::default(),
    };
    let root_mode = source
        .own_meta()
        .map_err(|e| format!("cannot read {}: {e}", source.path().display()))?
        .mode
        .unwrap_or(0o700);
    let mut levels = vec![Level {
        relative: String::new(),
        name: OsString::new(),
        source: source
            .try_clone()
            .map_err(|e| format!("cannot read {}: {e}", source.path().display()))?,
        copy: Some(
            temp.try_clone()
                .map_err(|e| format!("cannot open the snapshot: {e}"))?,
        ),
        previous: previous.and_then(|p| p.try_clone().ok()),
        mode: root_mode,
        pending: Vec::new(),
    }];
    visit(&mut levels, selection, &known, &mut gathered)?;
    while let Some(top) = levels.last_mut() {
        let Some(name) = top.pending.pop() else {
            // A directory done: its mode as the source's (it stayed writable while filled).
            let Some(done) = levels.pop() else { break };
            if let Some(copy) = &done.copy
                && !levels.is_empty()
            {
                copy.set_mode(done.mode & 0o777)
                    .and_then(|()| gathered.durable.dir(copy))
                    .map_err(|e| format!("cannot write the snapshot: {e}"))?;
            }
            continue;
        };
        let relative = join(&top.relative, &name.to_string_lossy());
        let opened = top.source.open_dir(&name).and_then(|d| {
            let mode = d.own_meta()?.mode.unwrap_or(0o700);
            Ok((d, mode))
        });
        let (source, mode) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                gathered.skipped.push((relative, e.to_string()));
                continue;
            }
        };
        let previous = top.previous.as_ref().and_then(|p| p.open_dir(&name).ok());
        levels.push(Level {
            relative,
            name,
            source,
            copy: None,
            previous,
            mode,
            pending: Vec::new(),
        });
        visit(&mut levels, selection, &known, &mut gathered)?;
    }
    let root = levels.pop();
    drop(root);
    gathered.manifest.sort();
    let text = gathered
        .manifest
        .iter()
        .fold(String::new(), |mut text, (name, hash)| {
            text.push_str(hash);
            text.push_str("  ");
            text.push_str(name);
            text.push('\n');
            text
        });
    let write = |name: &str, text: &str, durable: &mut Durable| -> io::Result<()> {
        let mut file = temp.create_file(OsStr::new(name))?;
        file.write_all(text.as_bytes())?;
        durable.file(file)
    };
    write(MANIFEST, &text, &mut gathered.durable)
        .map_err(|e| format!("cannot write {MANIFEST}: {e}"))?;
    gathered.stats.sort();
    let stats = gathered
        .stats
        .iter()
        .fold(String::new(), |mut text, (name, size, mtime)| {
            text.push_str(&stat_line(name, *size, *mtime));
            text.push('\n');
            text
        });
    write(STAT, &stats, &mut gathered.durable).map_err(|e| format!("cannot write {STAT}: {e}"))?;
    gathered.skipped.sort();
    if !gathered.skipped.is_empty() {
        let listing = gathered
            .skipped
            .iter()
            .fold(String::new(), |mut text, (name, why)| {
                text.push_str(name);
                text.push_str(": ");
                text.push_str(&why.replace('\n', " "));
                text.push('\n');
                text
            });
        write(SKIPPED, &listing, &mut gathered.durable)
            .map_err(|e| format!("cannot write {SKIPPED}: {e}"))?;
    }
    // Everything, files and directories, is on disk before the snapshot is renamed into place.
    temp.set_mode(root_mode & 0o777)
        .and_then(|()| gathered.durable.dir(temp))
        .map_err(|e| format!("cannot write the snapshot: {e}"))?;
    gathered.durable.finish()?;
    Ok(Snapshotted {
        files: gathered.manifest.len() as u64,
        bytes: gathered.bytes,
        linked: gathered.linked,
        skipped: gathered.skipped,
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
    })
}

/// Reads the directory at the top of `levels`: copies (or links) its selected files, and
/// queues its subdirectories.
fn visit(
    levels: &mut [Level],
    selection: &Selection,
    known: &HashMap<String, String>,
    gathered: &mut Gathered,
) -> Result<(), String> {
    let depth = levels.len() - 1;
    let entries = match levels[depth].source.entries() {
        Ok(entries) => entries,
        Err(e) => {
            gathered
                .skipped
                .push((levels[depth].relative.clone(), e.to_string()));
            return Ok(());
        }
    };
    let mut pending = Vec::new();
    for (name, kind) in entries {
        let Some(text) = name.to_str() else {
            gathered.skipped.push((
                join(&levels[depth].relative, &name.to_string_lossy()),
                "the name is not UTF-8".into(),
            ));
            continue;
        };
        let relative = join(&levels[depth].relative, text);
        match kind {
            Kind::Dir => pending.push(name),
            Kind::File if selection.selects(&relative) => {
                if depth == 0 && (text == MANIFEST || text == SKIPPED) {
                    gathered
                        .skipped
                        .push((relative, "the name is the snapshot's own".into()));
                    continue;
                }
                ensure_copy_dirs(levels).map_err(|e| format!("cannot write the snapshot: {e}"))?;
                match copy_entry(&levels[depth], &name, &relative, known, gathered) {
                    Ok(()) => {}
                    Err(Skip(why)) => gathered.skipped.push((relative, why)),
                }
            }
            Kind::Symlink | Kind::Other | Kind::File => {}
        }
    }
    pending.reverse();
    levels[depth].pending = pending;
    Ok(())
}

/// Makes the copies of the directories on the way to the top level, where still missing.
fn ensure_copy_dirs(levels: &mut [Level]) -> io::Result<()> {
    for depth in 1..levels.len() {
        if levels[depth].copy.is_none() {
            let (above, here) = levels.split_at_mut(depth);
            let parent = above[depth - 1]
                .copy
                .as_ref()
                .ok_or_else(|| io::Error::other("a directory above was not made"))?;
            here[0].copy = Some(parent.create_dir(&here[0].name)?);
        }
    }
    Ok(())
}

/// Why one source file is left out of the snapshot.
struct Skip(String);

impl From<io::Error> for Skip {
    fn from(e: io::Error) -> Self {
        Self(e.to_string())
    }
}

/// Copies (or hard-links to the previous snapshot) one file.
fn copy_entry(
    level: &Level,
    name: &OsStr,
    relative: &str,
    known: &HashMap<String, String>,
    gathered: &mut Gathered,
) -> Result<(), Skip> {
    let copy = level
        .copy
        .as_ref()
        .ok_or_else(|| Skip("its directory was not made".into()))?;
    let source = level.source.open_file(name, false)?;
    let meta = source.metadata()?;
    let unchanged = level
        .previous
        .as_ref()
        .zip(known.get(relative))
        .filter(|(previous, _)| {
            previous.meta(name).ok().flatten().is_some_and(|old| {
                old.kind == Kind::File && old.len == meta.len() && old.mtime == meta.modified().ok()
            })
        });
    if let Some((previous, hash)) = unchanged
        && previous.link(name, copy, name).is_ok()
    {
        gathered.linked += 1;
        gathered.bytes += meta.len();
        gathered
            .stats
            .push((relative.to_owned(), meta.len(), meta.modified().ok()));
        gathered.manifest.push((relative.to_owned(), hash.clone()));
        return Ok(());
    }
    // A failure writing the snapshot is the snapshot's, not the entry's: it stops it.
    let target = copy
        .create_file(name)
        .map_err(|e| Skip(format!("cannot write its copy: {e}")))?;
    let (length, hash) = match copy_hashing(source, &target) {
        Ok(done) => done,
        Err(e) => {
            drop(target);
            let _ = copy.remove_file(name);
            return Err(Skip(format!("cannot read it: {e}")));
        }
    };
    gathered.durable.file(target)?;
    gathered.bytes += length;
    gathered
        .stats
        .push((relative.to_owned(), length, meta.modified().ok()));
    gathered.manifest.push((relative.to_owned(), hash));
    Ok(())
}
