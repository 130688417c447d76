//! `prune-backup`: deletes one backup beyond retention — and checks again, at the moment of
//! deleting, that it is not the newest (or newest verified) backup, that at least `min`
//! remain, and that the path lies inside its store root with no symbolic link on the way.

use std::fs;
use std::path::Path;

use super::guard::Roots;
use crate::io::atomic::sync_dir;
use crate::layout::split_name;
use crate::layout::temp_path;
use crate::state::catalog::Catalog;

pub(super) fn prune(
    path: &Path,
    store_root: &Path,
    roots: &Roots,
    catalog: &Catalog,
    (keep, min): (usize, usize),
) -> Result<(), String> {
    let root = roots.check(path)?;
    if root != store_root {
        return Err(format!(
            "{} is not inside store root {}",
            path.display(),
            store_root.display()
        ));
    }
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot inspect {}: {e}", path.display())),
    };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{} is a symbolic link; prune never deletes through one",
            path.display()
        ));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let (prefix, stamp) = split_name(name)
        .ok_or_else(|| format!("{name} is not named like a backup; refusing to delete it"))?;
    let parent = path
        .parent()
        .ok_or_else(|| format!("{} has no parent", path.display()))?;
    let mut siblings: Vec<(jiff::Timestamp, std::path::PathBuf)> = fs::read_dir(parent)
        .map_err(|e| format!("cannot list {}: {e}", parent.display()))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let (p, t) = split_name(&file)?;
            (p == prefix).then(|| (t, e.path()))
        })
        .collect();
    siblings.sort();
    let newest = siblings.last().map(|(t, _)| *t);
    if newest == Some(stamp) {
        return Err(format!(
            "{} is the newest backup; refusing to delete it",
            path.display()
        ));
    }
    let verified = |p: &Path| catalog.get(p).is_some_and(|e| e.mismatch.is_none());
    if let Some((_, newest_verified)) = siblings.iter().rev().find(|(_, p)| verified(p))
        && newest_verified == path
    {
        return Err(format!(
            "{} is the newest verified backup; refusing to delete it",
            path.display()
        ));
    }
    // Ranked by good backups: a corrupt one is evidence and never counts.
    let corrupt = |p: &Path| catalog.get(p).is_some_and(|e| e.mismatch.is_some());
    if corrupt(path) {
        return Err(format!(
            "{} is known corrupt: it is kept as evidence; remove it by hand once examined",
            path.display()
        ));
    }
    let others =
        |f: &dyn Fn(&Path) -> bool| siblings.iter().filter(|(_, p)| p != path && f(p)).count();
    if others(&|p| !corrupt(p)) < min.max(1) {
        return Err(format!(
            "deleting {} would leave fewer than {} backups that are not corrupt",
            path.display(),
            min.max(1)
        ));
    }
    let keep = keep.max(min).max(1);
    if verified(path) && others(&verified) < keep {
        return Err(format!(
            "deleting {} would leave fewer than {keep} verified good backups",
            path.display()
        ));
    }
    if meta.is_dir() {
        // A snapshot goes in one step: renamed to a temporary name first, so a crash while
        // deleting its files leaves a temporary (cleared by the next apply), never a
        // half-deleted snapshot under its final name.
        let doomed = temp_path(path);
        fs::rename(path, &doomed)
            .and_then(|()| sync_dir(parent))
            .map_err(|e| format!("cannot delete {}: {e}", path.display()))?;
        fs::remove_dir_all(&doomed)
            .map_err(|e| format!("cannot delete {}: {e}", doomed.display()))?;
    } else {
        fs::remove_file(path).map_err(|e| format!("cannot delete {}: {e}", path.display()))?;
    }
    sync_dir(parent).map_err(|e| format!("cannot sync {}: {e}", parent.display()))
}
