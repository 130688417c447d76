//! Windows paths as text, whatever platform reads them: a desired state written for the OCS
//! administrative computer names drive letters (`D:\Backup`), UNC shares
//! (`\\rdm-bk01\backup`) and `\\?\` long paths, and SQL Server reports its backup devices
//! that way. These rules are pure; they never touch a file system.

use std::borrow::Cow;

/// Whether `text` is an absolute Windows path: a drive letter and a separator, a UNC share,
/// or a `\\?\` (or `\\.\`) path. Such a path is never resolved against the KDL file's
/// folder, on any platform.
pub fn is_absolute(text: &str) -> bool {
    let bytes = text.as_bytes();
    let drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    drive || text.starts_with(r"\\")
}

/// The same path without its `\\?\` prefix: `\\?\D:\x` is `D:\x` and `\\?\UNC\host\share`
/// is `\\host\share`, which is how SQL Server and most tools write them. Separators become
/// `\`.
pub fn plain(text: &str) -> Cow<'_, str> {
    let text: Cow<'_, str> = if text.contains('/') {
        Cow::Owned(text.replace('/', "\\"))
    } else {
        Cow::Borrowed(text)
    };
    let verbatim = [r"\\?\", r"\\.\", r"\??\"]
        .iter()
        .find_map(|p| text.strip_prefix(p).map(str::to_owned));
    match verbatim {
        Some(rest) => match rest.get(..4) {
            Some(unc) if unc.eq_ignore_ascii_case(r"UNC\") => {
                Cow::Owned(format!(r"\\{}", &rest[4..]))
            }
            _ => Cow::Owned(rest),
        },
        None => text,
    }
}

/// Whether two Windows paths name the same place as NTFS and SMB compare them: without a
/// `\\?\` prefix, either separator, case-insensitively, a trailing separator ignored.
pub fn same(a: &str, b: &str) -> bool {
    let a = plain(a);
    let b = plain(b);
    a.trim_end_matches('\\')
        .eq_ignore_ascii_case(b.trim_end_matches('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_letters_shares_and_long_paths_are_absolute() {
        for path in [
            r"D:\Backup\redmond",
            "d:/backup",
            r"\\rdm-bk01\backup",
            r"\\rdm-bk01.contoso.com\backup$\redmond",
            r"\\?\D:\Backup",
            r"\\?\UNC\rdm-bk01\backup",
        ] {
            assert!(is_absolute(path), "{path}");
        }
        for path in [
            "D:relative",
            "backup",
            r"..\backup",
            r"\Backup",
            "/srv/backup",
            "D:",
        ] {
            assert!(!is_absolute(path), "{path}");
        }
    }

    #[test]
    fn long_path_prefixes_come_off_and_unc_stays_a_share() {
        assert_eq!(plain(r"\\?\D:\Backup\redmond"), r"D:\Backup\redmond");
        assert_eq!(plain(r"\\?\UNC\rdm-bk01\backup\x"), r"\\rdm-bk01\backup\x");
        assert_eq!(plain(r"\\?\unc\rdm-bk01\backup"), r"\\rdm-bk01\backup");
        assert_eq!(plain(r"\\rdm-bk01\backup"), r"\\rdm-bk01\backup");
        assert_eq!(plain("//rdm-bk01/backup/x"), r"\\rdm-bk01\backup\x");
        assert_eq!(plain(r"D:\x"), r"D:\x");
    }

    #[test]
    fn the_same_share_in_any_spelling_is_the_same_place() {
        assert!(same(r"\\RDM-BK01\Backup\", r"\\rdm-bk01\backup"));
        assert!(same(r"\\?\UNC\rdm-bk01\backup", r"\\rdm-bk01\BACKUP"));
        assert!(same(r"\\?\d:\Backup", r"D:\backup\"));
        assert!(!same(r"\\rdm-bk01\backup", r"\\rdm-bk02\backup"));
        assert!(!same(r"\\rdm-bk01\backup", r"\\rdm-bk01\backupold"));
    }

    #[test]
    fn a_desired_state_keeps_windows_paths_as_written_on_any_platform() {
        let kdl = r##"
deployment "d" product="generic" { objectives rpo="24h"; owner "ops" }
site "redmond" role="primary" owner="ops" {
    store "share" path=#"\\rdm-bk01\backup"# sql-path=#"\\rdm-bk01\backup"#
    store "drive" path=#"D:\Backup\redmond"#
    store "long" path=#"\\?\E:\Backups\redmond"#
    store "unc-long" path=#"\\?\UNC\rdm-bk01\archive"#
}
"##;
        let loaded = crate::desired::load_texts(vec![("/etc/desired/d.kdl".into(), kdl.into())]);
        let desired = loaded.desired.expect("valid");
        let paths: Vec<String> = desired.sites[0]
            .stores
            .iter()
            .map(|s| s.path.value.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                r"\\rdm-bk01\backup",
                r"D:\Backup\redmond",
                r"E:\Backups\redmond",
                r"\\rdm-bk01\archive"
            ]
        );
    }
}
