//! The state directory (SPEC §4): the last observation, the catalog of known backups, and
//! the crash-safe writes they share.

pub mod catalog;
pub mod journal;
pub mod lock;

use std::path::{Path, PathBuf};

/// File names inside the state directory.
pub fn observed_path(state: &Path) -> PathBuf {
    state.join("observed.json")
}

pub fn catalog_path(state: &Path) -> PathBuf {
    state.join("catalog.json")
}
