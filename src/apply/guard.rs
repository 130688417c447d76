//! The safety fence of `apply`: nothing is written or deleted outside a declared store
//! root, through a symbolic link, or through `..`.

use std::path::{Component, Path, PathBuf};

use crate::desired::Desired;

pub struct Roots {
    roots: Vec<PathBuf>,
}

impl Roots {
    pub fn of(desired: &Desired) -> Self {
        Self {
            roots: desired
                .sites
                .iter()
                .flat_map(|s| s.stores.iter().map(|store| store.path.value.clone()))
                .collect(),
        }
    }

    /// The store root `path` lies strictly inside, if it is a path apply may write or
    /// delete: absolute, no `.` or `..`, below a declared root, and no symbolic link on the
    /// way from the root down to it (the path itself included).
    pub fn check(&self, path: &Path) -> Result<&Path, String> {
        if !path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        {
            return Err(format!("{} is not a plain absolute path", path.display()));
        }
        let root = self
            .roots
            .iter()
            .filter(|root| path.starts_with(root) && path != root.as_path())
            .max_by_key(|root| root.components().count())
            .ok_or_else(|| format!("{} is outside every declared store root", path.display()))?;
        let mut current = root.clone();
        let relative = path.strip_prefix(root).map_err(|e| e.to_string())?;
        for component in relative.components() {
            current.push(component);
            match std::fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(format!(
                        "{} is a symbolic link; apply never follows one",
                        current.display()
                    ));
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(format!("cannot inspect {}: {e}", current.display())),
            }
        }
        Ok(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(dir: &Path) -> Roots {
        Roots {
            roots: vec![dir.join("store")],
        }
    }

    #[test]
    fn refuses_escapes_links_and_foreign_paths() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = dir.path().join("store");
        std::fs::create_dir_all(store.join("a"))?;
        std::fs::create_dir_all(dir.path().join("elsewhere"))?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), store.join("link"))?;
        #[cfg(windows)]
        std::os::windows::fs::symlink_dir(dir.path().join("elsewhere"), store.join("link"))?;
        let r = roots(dir.path());
        assert!(r.check(&store.join("a/file.bak")).is_ok());
        assert!(r.check(&store.join("a/new/dir/file.bak")).is_ok());
        assert!(
            r.check(&store).is_err(),
            "the root itself is never a target"
        );
        assert!(r.check(&store.join("a/../../elsewhere/x")).is_err());
        assert!(r.check(&store.join("link/x")).is_err());
        assert!(r.check(&store.join("link")).is_err());
        assert!(r.check(&dir.path().join("elsewhere/x")).is_err());
        assert!(r.check(Path::new("relative/x")).is_err());
        Ok(())
    }
}
