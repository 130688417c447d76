//! Whether a file system tells names apart by their case. NTFS, FAT and SMB shares (and a
//! share mounted on Linux through CIFS) do not: `REDMOND\database` and `redmond\database`
//! are one folder there, and a copy whose name differs only by case is the file already
//! there. ext4, XFS and ZFS do. A store's rule is detected from its file system when it is
//! listed (see [`NameCase::detect`]), not assumed from the platform standby runs on.

use std::cmp::Ordering;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// How names in one directory tree are compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameCase {
    /// `a` and `A` are two names.
    #[default]
    Sensitive,
    /// `a` and `A` name one file.
    Insensitive,
}

impl NameCase {
    /// The rule of this platform's usual file systems: what a store that cannot be probed
    /// (missing, empty, named without letters) is taken to follow.
    pub fn of_this_platform() -> Self {
        if cfg!(windows) {
            Self::Insensitive
        } else {
            Self::Sensitive
        }
    }

    /// The rule of the directory `dir`: looks up one of its entries, `names`, with the case
    /// of every letter swapped. The file system finds the same file under the swapped name
    /// when it ignores case, nothing (or another file) when it does not. Tries at most a
    /// few names; without a name that has letters, looks `dir` itself up in its parent;
    /// `None` when nothing could be looked up.
    pub fn detect<'n>(dir: &Path, names: impl IntoIterator<Item = &'n str>) -> Option<Self> {
        let in_dir = names
            .into_iter()
            .filter_map(|name| Some((dir.join(name), dir.join(swapped(name)?))))
            .take(3)
            .find_map(|(name, swapped)| probe(&name, &swapped));
        in_dir.or_else(|| {
            let name = dir.file_name()?.to_str()?;
            probe(dir, &dir.with_file_name(swapped(name)?))
        })
    }

    /// Whether case tells names apart (for `skip_serializing_if`: the rule most stores
    /// follow is not written).
    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub fn is_sensitive(&self) -> bool {
        *self == Self::Sensitive
    }

    /// `name` as a key that is equal for every name this rule takes for the same entry.
    pub fn key(self, name: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Sensitive => name.into(),
            Self::Insensitive => folded(name).collect::<String>().into(),
        }
    }

    /// Whether `a` and `b` name the same entry.
    pub fn eq(self, a: &str, b: &str) -> bool {
        match self {
            Self::Sensitive => a == b,
            Self::Insensitive => a.eq_ignore_ascii_case(b) || folded_eq(a, b),
        }
    }

    /// The order of a store's listing: byte order, or (ignoring case) the order of the
    /// lower-cased names, then byte order between names that differ only by case. Every
    /// name that starts with a given prefix, as this rule compares, is in one run.
    pub fn cmp(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::Sensitive => a.cmp(b),
            Self::Insensitive => folded(a).cmp(folded(b)).then_with(|| a.cmp(b)),
        }
    }

    /// `name` without `prefix`, when it starts with it as this rule compares.
    pub fn strip_prefix<'a>(self, name: &'a str, prefix: &str) -> Option<&'a str> {
        match self {
            Self::Sensitive => name.strip_prefix(prefix),
            Self::Insensitive => {
                let mut rest = name.char_indices();
                for p in prefix.chars() {
                    let (_, n) = rest.next()?;
                    if !n.to_lowercase().eq(p.to_lowercase()) {
                        return None;
                    }
                }
                Some(rest.next().map_or("", |(at, _)| &name[at..]))
            }
        }
    }
}

/// The characters of `name` as a case-insensitive file system compares them.
fn folded(name: &str) -> impl Iterator<Item = char> + '_ {
    name.chars().flat_map(char::to_lowercase)
}

/// Equality beyond ASCII (`Ü` and `ü`), which the ASCII comparison cannot see.
fn folded_eq(a: &str, b: &str) -> bool {
    !(a.is_ascii() && b.is_ascii()) && folded(a).eq(folded(b))
}

/// `name` with the case of every letter swapped; `None` when that changes nothing.
fn swapped(name: &str) -> Option<String> {
    let swapped: String = name
        .chars()
        .flat_map(|c| {
            let upper: Vec<char> = c.to_uppercase().collect();
            if upper == [c] {
                c.to_lowercase().collect()
            } else {
                upper
            }
        })
        .collect();
    (swapped != name).then_some(swapped)
}

/// What looking `name` up as `swapped` says; `None` when `name` itself cannot be opened.
fn probe(name: &Path, swapped: &Path) -> Option<NameCase> {
    match same_file::is_same_file(name, swapped) {
        Ok(true) => Some(NameCase::Insensitive),
        Ok(false) => Some(NameCase::Sensitive),
        Err(_) if same_file::Handle::from_path(name).is_ok() => Some(NameCase::Sensitive),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::NameCase::{Insensitive, Sensitive};
    use super::*;

    #[test]
    fn names_that_differ_only_by_case_are_one_name_only_where_case_is_ignored() {
        let copy = "REDMOND/database/db/full/db_full_20261122T060000Z.BAK";
        let original = "redmond/database/db/full/db_full_20261122T060000Z.bak";
        assert!(Insensitive.eq(copy, original));
        assert!(!Sensitive.eq(copy, original));
        assert!(Insensitive.eq("Überweisung/x", "überweisung/X"));
        assert!(!Insensitive.eq("redmond/a", "redmond/b"));
        assert!(!Insensitive.eq("redmond/a", "redmond/ab"));
        assert_eq!(Insensitive.key(copy), Insensitive.key(original));
        assert_ne!(Sensitive.key(copy), Sensitive.key(original));
    }

    #[test]
    fn a_prefix_strips_in_any_case_only_where_case_is_ignored() {
        let path = "REDMOND/Database/db/full/db_full_x.bak";
        assert_eq!(
            Insensitive.strip_prefix(path, "redmond/database/"),
            Some("db/full/db_full_x.bak")
        );
        assert_eq!(Sensitive.strip_prefix(path, "redmond/database/"), None);
        assert_eq!(Insensitive.strip_prefix("Ärger/x", "ärger/"), Some("x"));
        assert_eq!(Insensitive.strip_prefix("red", "redmond"), None);
        assert_eq!(Insensitive.strip_prefix("redmond", "REDMOND"), Some(""));
    }

    #[test]
    fn names_under_one_prefix_in_any_case_sort_together_where_case_is_ignored() {
        let mut names = vec!["b/2", "A/1", "a/3", "B/1", "a/2"];
        names.sort_by(|a, b| Insensitive.cmp(a, b));
        assert_eq!(names, ["A/1", "a/2", "a/3", "B/1", "b/2"]);
        names.sort_by(|a, b| Sensitive.cmp(a, b));
        assert_eq!(names, ["A/1", "B/1", "a/2", "a/3", "b/2"]);
        assert_eq!(Insensitive.cmp("A", "a"), Ordering::Less);
    }

    #[test]
    fn a_directory_of_this_platform_is_detected_as_this_platform_compares() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("Redmond"))?;
        // Wine answers as Windows does on any Linux file system; a Linux test machine's
        // temporary directory tells case apart.
        let expected = NameCase::of_this_platform();
        assert_eq!(NameCase::detect(dir.path(), ["Redmond"]), Some(expected));
        // Without a name to swap, the directory itself is looked up in its parent.
        let root = dir.path().join("Backup");
        std::fs::create_dir(&root)?;
        assert_eq!(NameCase::detect(&root, ["2026"]), Some(expected));
        assert_eq!(NameCase::detect(&root.join("none"), ["none"]), None);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn two_files_that_differ_only_by_case_mean_case_is_told_apart() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a"), b"1")?;
        std::fs::write(dir.path().join("A"), b"2")?;
        assert_eq!(NameCase::detect(dir.path(), ["a"]), Some(Sensitive));
        Ok(())
    }

    #[test]
    fn the_rule_reads_and_writes_as_a_word() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_string(&Insensitive)?, "\"insensitive\"");
        assert_eq!(
            serde_json::from_str::<NameCase>("\"sensitive\"")?,
            Sensitive
        );
        Ok(())
    }
}
