//! Discovery: providers observe reality and report it as an [`Observed`] snapshot. They
//! never decide what is wrong; that is `plan`'s job.

mod backups;
mod dns;
mod fileset;
mod journal;
mod observed;
mod settings_export;
pub mod sql;
mod store;

use std::collections::HashSet;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

pub use crate::io::hash::VerifyMode;
pub use backups::{Backup, backups, newest_first, under};
pub use dns::{DnsObservation, QUERY_TIMEOUT, resolve as resolve_dns};
pub use fileset::{Selection, glob_set};
pub use journal::restore_tests;
pub use observed::*;
pub use settings_export::MAX_EXPORT_BYTES;

use crate::desired::Desired;
use crate::state::catalog::Catalog;

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
    let mut observed = list(desired, now);
    hash_content(&mut observed, catalog, mode, progress);
    observed
}

/// The first half of [`discover`]: lists every store and fileset the desired state declares,
/// reading no backup content. Needs no catalog, so it can run while the catalog loads.
pub fn list(desired: &Desired, now: Timestamp) -> Observed {
    let mut stores = Vec::new();
    let mut filesets = Vec::new();
    for site in &desired.sites {
        for declared in &site.stores {
            stores.push(store::list(&site.name, &declared.name, &declared.path));
        }
        for declared in &site.filesets {
            filesets.push(fileset::observe(site, declared));
        }
    }
    Observed {
        format_version: FORMAT_VERSION.to_owned(),
        taken_at: now,
        stores,
        filesets,
        settings_exports: Vec::new(),
        dns: Vec::new(),
        sql: Vec::new(),
        restore_tests: Vec::new(),
    }
}

/// What only `audit` compares, added to a discovered observation: the newest export of
/// every settings item a `settings-compare` names (after [`hash_content`], which leaves the
/// listings sorted), and what every declared DNS record resolves to.
pub fn observe_standby(desired: &Desired, observed: &mut Observed) {
    observed.settings_exports = settings_export::observe(desired, observed);
    observed.dns = dns::resolve(desired);
}

/// The second half of [`discover`]: hashes what `mode` asks for in the listed stores (the
/// catalog caches the hashes of unchanged files and records new ones), then forgets the
/// catalog's files that are gone.
pub fn hash_content(
    observed: &mut Observed,
    catalog: &mut Catalog,
    mode: VerifyMode,
    progress: &Progress,
) {
    let now = observed.taken_at;
    let mut held = 0;
    for store in &mut observed.stores {
        held += store::hash(store, catalog, mode, now, progress);
    }
    forget_gone(catalog, &observed.stores, held);
    progress.finish();
}

/// Forgets the catalog's files that are gone from stores that could be listed; files outside
/// every listed store are kept. `held`: how many listed entries the catalog holds. When
/// that is every catalog entry, and no store lies inside another (so no file was counted
/// twice), nothing is gone: the usual re-discovery, which then checks no path.
fn forget_gone(catalog: &mut Catalog, stores: &[StoreObservation], held: usize) {
    let roots: Vec<&Path> = stores.iter().map(|s| s.root.as_path()).collect();
    let apart = roots.iter().enumerate().all(|(i, a)| {
        roots
            .iter()
            .enumerate()
            .all(|(j, b)| i == j || !a.starts_with(b))
    });
    if apart && held == catalog.len() {
        return;
    }
    let listed: Vec<Listed<'_>> = stores
        .iter()
        .filter(|s| s.error.is_none())
        .map(Listed::new)
        .collect();
    catalog.retain(|path| {
        listed.iter().any(|s| s.holds(path)) || !listed.iter().any(|s| path.starts_with(s.root))
    });
}

/// A listed store, indexed to tell whether a catalog path is one of its entries without
/// joining every entry to the root (an allocation and a path hash per file).
struct Listed<'a> {
    root: &'a Path,
    /// `root` as its entries' absolute paths start (`root/`), when it is UTF-8.
    prefix: Option<String>,
    entries: HashSet<&'a str>,
}

impl<'a> Listed<'a> {
    fn new(store: &'a StoreObservation) -> Self {
        let mut prefix = store.root.to_str().map(str::to_owned);
        if let Some(prefix) = &mut prefix {
            // Where `PathBuf::push` puts a separator.
            if !prefix.is_empty() && !prefix.ends_with('/') {
                prefix.push('/');
            }
        }
        Self {
            root: &store.root,
            prefix,
            entries: store.entries.iter().map(|e| e.path.as_str()).collect(),
        }
    }

    /// Whether `path` is the root joined to one of the entries, compared as paths.
    fn holds(&self, path: &Path) -> bool {
        // Spelled exactly as discovery joins them, as the catalog's own paths are: one string
        // lookup.
        if let Some((text, prefix)) = path.to_str().zip(self.prefix.as_deref())
            && let Some(relative) = text.strip_prefix(prefix)
            && self.entries.contains(relative)
        {
            return true;
        }
        // Spelled otherwise (`.`, doubled separators): component by component. Entry paths
        // are plain names joined with `/`.
        path.strip_prefix(self.root)
            .ok()
            .and_then(|relative| {
                relative
                    .components()
                    .map(|c| match c {
                        Component::Normal(name) => name.to_str(),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .is_some_and(|names| self.entries.contains(names.join("/").as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::catalog::CatalogEntry;

    fn store(root: &str, paths: &[&str], error: Option<&str>) -> StoreObservation {
        StoreObservation {
            site: "s".into(),
            store: root.into(),
            root: root.into(),
            error: error.map(str::to_owned),
            missing: false,
            unreadable: Vec::new(),
            case: crate::platform::NameCase::Sensitive,
            entries: paths
                .iter()
                .map(|path| StoreEntry {
                    path: (*path).to_owned(),
                    kind: EntryKind::File,
                    size: 1,
                    mtime: Timestamp::UNIX_EPOCH,
                    sha256: None,
                    recorded_sha256: None,
                    hash_origin: None,
                    verified_at: None,
                    files: None,
                    bad_files: Vec::new(),
                    error: None,
                })
                .collect(),
        }
    }

    fn catalog(paths: &[&str]) -> Catalog {
        let mut catalog = Catalog::default();
        for path in paths {
            catalog.insert(CatalogEntry {
                address: None,
                path: (*path).into(),
                size: 1,
                mtime: Timestamp::UNIX_EPOCH,
                sha256: "ab".repeat(32),
                mismatch: None,
                files: None,
                first_seen: Timestamp::UNIX_EPOCH,
                last_verified: Timestamp::UNIX_EPOCH,
                origin: crate::state::catalog::HashOrigin::FirstSeen,
            });
        }
        catalog
    }

    #[test]
    fn a_file_listed_twice_never_hides_a_gone_one() {
        // Two stores at one root: `x.bak` is listed (and counted) twice, so the count of held
        // entries equals the catalog's size although `gone.bak` is gone.
        let mut known = catalog(&["/srv/a/x.bak", "/srv/a/gone.bak"]);
        let stores = [
            store("/srv/a", &["x.bak"], None),
            store("/srv/a", &["x.bak"], None),
        ];
        forget_gone(&mut known, &stores, 2);
        assert!(known.get(Path::new("/srv/a/gone.bak")).is_none());
        assert_eq!(known.len(), 1);
    }

    #[test]
    fn files_gone_from_listed_stores_are_forgotten() {
        let mut known = catalog(&[
            "/srv/a/s/x.bak",
            "/srv/a/s/gone.bak",
            "/srv/a/./s/y.bak",
            "/srv/a//s/gone2.bak",
            "/srv/down/s/x.bak",
            "/elsewhere/x.bak",
        ]);
        let stores = [
            store("/srv/a/", &["s/x.bak", "s/y.bak"], None),
            store("/srv/down", &[], Some("unreachable")),
        ];
        forget_gone(&mut known, &stores, 0);
        let mut kept: Vec<_> = [
            "/srv/a/s/x.bak",
            "/srv/a/s/gone.bak",
            "/srv/a/./s/y.bak",
            "/srv/a//s/gone2.bak",
            "/srv/down/s/x.bak",
            "/elsewhere/x.bak",
        ]
        .into_iter()
        .filter(|p| known.get(Path::new(p)).is_some())
        .collect();
        kept.sort_unstable();
        assert_eq!(
            kept,
            vec![
                "/elsewhere/x.bak",
                "/srv/a/./s/y.bak",
                "/srv/a/s/x.bak",
                "/srv/down/s/x.bak"
            ]
        );
    }
}
