//! The fileset provider: what a fileset's source directory holds under its include and
//! exclude globs.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use jiff::Timestamp;

use super::observed::FilesetObservation;
use crate::desired::{Fileset, Site};
use crate::io::walk::{join, walk};

/// Compiles include/exclude globs the way fileset selection uses them: `*` stays within one
/// path component, `**` crosses them. Globs were checked when the desired state loaded.
pub fn glob_set<'a>(globs: impl IntoIterator<Item = &'a str>) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        if let Ok(glob) = GlobBuilder::new(glob).literal_separator(true).build() {
            builder.add(glob);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// The selection of one fileset: which relative paths belong to it.
pub struct Selection {
    include: GlobSet,
    exclude: GlobSet,
    include_all: bool,
}

impl Selection {
    pub fn of(fileset: &Fileset) -> Self {
        Self {
            include: glob_set(fileset.include.iter().map(|g| g.value.as_str())),
            exclude: glob_set(fileset.exclude.iter().map(|g| g.value.as_str())),
            include_all: fileset.include.is_empty(),
        }
    }

    pub fn selects(&self, relative: &str) -> bool {
        (self.include_all || self.include.is_match(relative)) && !self.exclude.is_match(relative)
    }
}

pub(crate) fn observe(site: &Site, fileset: &Fileset) -> FilesetObservation {
    let selection = Selection::of(fileset);
    let mut files = 0;
    let mut bytes = 0;
    let mut newest: Option<Timestamp> = None;
    let walked = walk(&fileset.path, |dir, entries| {
        let mut descend = Vec::new();
        for entry in entries {
            let relative = join(dir, &entry.name);
            if entry.metadata.is_dir() {
                descend.push(entry.name);
            } else if entry.metadata.is_file() && selection.selects(&relative) {
                files += 1;
                bytes += entry.metadata.len();
                let mtime = entry
                    .metadata
                    .modified()
                    .ok()
                    .and_then(|t| Timestamp::try_from(t).ok());
                newest = newest.max(mtime);
            }
        }
        descend
    });
    let (error, unreadable) = match walked {
        Ok(unreadable) => (None, unreadable),
        Err(e) => (Some(e.to_string()), Vec::new()),
    };
    FilesetObservation {
        site: site.name.value.clone(),
        fileset: fileset.name.value.clone(),
        path: fileset.path.value.clone(),
        error,
        files,
        bytes,
        newest_mtime: newest,
        unreadable,
    }
}
