//! `prune-backup`: deletes one backup beyond retention — and checks again, at the moment of
//! deleting, that it is not the newest (or newest verified) backup, that at least `min`
//! remain, and that the path lies inside its store root with no symbolic link on the way.
//!
//! The check and the delete act on the same opened directory ([`Dir`]): the directory is
//! opened from the store root one name at a time without following a link, and the backup
//! is deleted relative to that handle. A directory swapped for a link after the check cannot
//! redirect the delete outside the store.
//!
//! The backups beside the one deleted are listed once per directory and run, then kept up to
//! date as this run deletes: a run of `n` prunes in one directory costs `O(n log n)`, not a
//! listing per prune.

use std::collections::{BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;

use super::guard::Roots;
use crate::io::handle::{Dir, Kind};
use crate::layout::{split_name, temp_path};
use crate::state::catalog::Catalog;

/// The backups of one directory and name prefix, oldest first.
type Siblings = BTreeSet<(Timestamp, OsString)>;

/// One directory's listing, made by the first prune there that needs it.
type Listing = Arc<Mutex<Option<Siblings>>>;

/// The sibling listings of one apply run, by directory and prefix. Each listing has its own
/// lock: prunes in one directory take turns, so two of them never both count the same
/// survivor.
#[derive(Default)]
pub(super) struct Listings {
    by_dir: Mutex<HashMap<(PathBuf, String), Listing>>,
}

impl Listings {
    fn of(&self, dir: &Path, prefix: &str) -> Listing {
        let mut by_dir = self.by_dir.lock().unwrap_or_else(PoisonError::into_inner);
        by_dir
            .entry((dir.to_path_buf(), prefix.to_owned()))
            .or_default()
            .clone()
    }
}

fn list_siblings(parent: &Dir, prefix: &str) -> std::io::Result<Siblings> {
    Ok(parent
        .entries()?
        .into_iter()
        .filter(|(_, kind)| matches!(kind, Kind::File | Kind::Dir))
        .filter_map(|(name, _)| {
            let (p, t) = split_name(name.to_str()?)?;
            (p == prefix).then_some((t, name))
        })
        .collect())
}

pub(super) fn prune(
    path: &Path,
    store_root: &Path,
    roots: &Roots,
    catalog: &Catalog,
    (keep, min): (usize, usize),
    listings: &Listings,
) -> Result<(), String> {
    let root = roots.check(path)?;
    if root != store_root {
        return Err(format!(
            "{} is not inside store root {}",
            path.display(),
            store_root.display()
        ));
    }
    let relative = path.strip_prefix(root).map_err(|e| e.to_string())?;
    let (Some(parent_relative), Some(name)) = (relative.parent(), relative.file_name()) else {
        return Err(format!("{} has no parent", path.display()));
    };
    let store = Dir::open(root).map_err(|e| format!("cannot open {}: {e}", root.display()))?;
    let parent = match store.open_below(parent_relative, false) {
        Ok((parent, _)) => parent,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot open {}: {e}", path.display())),
    };
    let meta = match parent.meta(name) {
        Ok(Some(meta)) => meta,
        Ok(None) => return Ok(()),
        Err(e) => return Err(format!("cannot inspect {}: {e}", path.display())),
    };
    if meta.kind == Kind::Symlink {
        return Err(format!(
            "{} is a symbolic link; prune never deletes through one",
            path.display()
        ));
    }
    let text = name.to_str().unwrap_or_default();
    let (prefix, stamp) = split_name(text)
        .ok_or_else(|| format!("{text} is not named like a backup; refusing to delete it"))?;
    let directory = path.parent().unwrap_or(root);
    let listing = listings.of(directory, prefix);
    let mut listing = listing.lock().unwrap_or_else(PoisonError::into_inner);
    if listing.is_none() {
        *listing = Some(
            list_siblings(&parent, prefix)
                .map_err(|e| format!("cannot list {}: {e}", directory.display()))?,
        );
    }
    let siblings = listing.get_or_insert_default();
    check_survivors(siblings, (stamp, name), directory, catalog, (keep, min))
        .map_err(|why| format!("{} {why}", path.display()))?;
    delete(&parent, name, meta.kind == Kind::Dir)
        .map_err(|e| format!("cannot delete {}: {e}", path.display()))?;
    siblings.remove(&(stamp, name.to_os_string()));
    parent
        .sync()
        .map_err(|e| format!("cannot sync {}: {e}", directory.display()))
}

/// Why deleting `doomed` from `siblings` would break retention, if it would.
fn check_survivors(
    siblings: &Siblings,
    (stamp, name): (Timestamp, &OsStr),
    directory: &Path,
    catalog: &Catalog,
    (keep, min): (usize, usize),
) -> Result<(), String> {
    if siblings.last().map(|(t, _)| *t) == Some(stamp) {
        return Err("is the newest backup; refusing to delete it".into());
    }
    let verified = |n: &OsStr| {
        catalog
            .get(&directory.join(n))
            .is_some_and(|e| e.mismatch.is_none())
    };
    if let Some((_, newest_verified)) = siblings.iter().rev().find(|(_, n)| verified(n))
        && newest_verified == name
    {
        return Err("is the newest verified backup; refusing to delete it".into());
    }
    // Ranked by good backups: a corrupt one is evidence and never counts.
    let corrupt = |n: &OsStr| {
        catalog
            .get(&directory.join(n))
            .is_some_and(|e| e.mismatch.is_some())
    };
    if corrupt(name) {
        return Err(
            "is known corrupt: it is kept as evidence; remove it by hand once examined".into(),
        );
    }
    let others = |f: &dyn Fn(&OsStr) -> bool| {
        siblings
            .iter()
            .filter(|(_, n)| n.as_os_str() != name && f(n))
            .count()
    };
    if others(&|n| !corrupt(n)) < min.max(1) {
        return Err(format!(
            "cannot go: deleting it would leave fewer than {} backups that are not corrupt",
            min.max(1)
        ));
    }
    let keep = keep.max(min).max(1);
    if verified(name) && others(&verified) < keep {
        return Err(format!(
            "cannot go: deleting it would leave fewer than {keep} verified good backups"
        ));
    }
    Ok(())
}

/// Deletes a file, or a snapshot in one step: renamed to a temporary name first, so a crash
/// while deleting its files leaves a temporary (cleared by the next apply), never a
/// half-deleted snapshot under its final name.
fn delete(parent: &Dir, name: &OsStr, is_dir: bool) -> std::io::Result<()> {
    if !is_dir {
        return parent.remove_file(name);
    }
    let doomed = temp_path(Path::new(name));
    let doomed = doomed.as_os_str();
    parent.rename_new(name, parent, doomed)?;
    parent.sync()?;
    parent.remove_tree(doomed)
}
