//! Discovery: providers observe reality and report it as an [`Observed`] snapshot. They
//! never decide what is wrong; that is `plan`'s job.

mod fileset;
pub mod hash;
mod observed;
mod store;
mod walk;

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

pub use fileset::{Selection, glob_set};
pub use hash::VerifyMode;
pub use observed::*;

use crate::desired::Desired;
use crate::state::catalog::Catalog;

/// The manifest file of a fileset snapshot.
pub const MANIFEST: &str = "MANIFEST.sha256";

/// Byte progress of hashing, drawn on stderr only when it is a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: AtomicU64,
}

impl Progress {
    pub fn new(visible: bool) -> Self {
        let bar = visible.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "hashing {bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Self {
            bar,
            total: AtomicU64::new(0),
        }
    }

    fn add(&self, bytes: u64) {
        let total = self.total.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Observes every store and fileset the desired state declares.
pub fn discover(
    desired: &Desired,
    catalog: &mut Catalog,
    mode: VerifyMode,
    now: Timestamp,
    progress: &Progress,
) -> Observed {
    let mut stores = Vec::new();
    let mut filesets = Vec::new();
    for site in &desired.sites {
        for declared in &site.stores {
            stores.push(store::observe(
                &site.name,
                &declared.name,
                &declared.path,
                catalog,
                mode,
                now,
                progress,
            ));
        }
        for declared in &site.filesets {
            filesets.push(fileset::observe(site, declared));
        }
    }
    // Forget files that are gone from stores that could be listed.
    let listed: Vec<_> = stores.iter().filter(|s| s.error.is_none()).collect();
    let present: std::collections::HashSet<std::path::PathBuf> = listed
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| s.root.join(&e.path)))
        .collect();
    catalog
        .retain(|path| present.contains(path) || !listed.iter().any(|s| path.starts_with(&s.root)));
    progress.finish();
    Observed {
        format_version: FORMAT_VERSION.to_owned(),
        taken_at: now,
        stores,
        filesets,
    }
}
