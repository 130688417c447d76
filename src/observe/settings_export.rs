//! The settings-export provider: the text of the newest export of every settings item that a
//! standby's `settings-compare` names, on the primary and on the standby side, so that
//! `audit` can compare them without reading a file itself. It judges nothing.

use std::io::Read as _;

use super::observed::{EntryKind, Observed, SettingsExport};
use crate::desired::{Desired, ItemKind, SiteRole};

/// Exports larger than this are not read: a settings export is kilobytes, so anything this
/// large is not one, and the observation must stay small enough to commit.
pub const MAX_EXPORT_BYTES: u64 = 1024 * 1024;

/// Whether `settings` of `site` is named by a `settings-compare`, on either side.
fn compared(desired: &Desired, site: &str, settings: &str) -> bool {
    desired
        .sites
        .iter()
        .filter(|s| s.role.value == SiteRole::Standby)
        .any(|standby| {
            let sides = [
                Some(standby.name.value.as_str()),
                standby.standby_for.as_ref().map(|p| p.value.as_str()),
            ];
            sides.contains(&Some(site))
                && standby
                    .settings_compares
                    .iter()
                    .any(|c| c.name.value == settings)
        })
}

/// Reads the newest export of every compared settings item. Store listings must be sorted
/// by path, as [`super::hash_content`] leaves them.
pub(crate) fn observe(desired: &Desired, observed: &Observed) -> Vec<SettingsExport> {
    let mut out = Vec::new();
    for item in desired.backup_items() {
        let ItemKind::Settings(settings) = item.kind else {
            continue;
        };
        let site = &item.site.name.value;
        if !compared(desired, site, &settings.name.value) {
            continue;
        }
        let store = &item.policy.store.value;
        let mut export = SettingsExport {
            site: site.clone(),
            settings: settings.name.value.clone(),
            store: store.clone(),
            path: None,
            content: None,
            error: None,
        };
        match observed.store(site, store) {
            None => export.error = Some(format!("store `{store}` was not observed")),
            Some(seen) if seen.error.is_some() => {
                export.error = Some(format!("store `{store}` could not be listed"));
            }
            Some(seen) => {
                let layout = crate::layout::Layout::of(&item);
                let newest = super::backups(&item, &layout, seen)
                    .into_iter()
                    .find(|b| b.entry.kind == EntryKind::File);
                match newest {
                    None => export.error = Some(format!("no export in store `{store}`")),
                    Some(backup) => {
                        let path = seen.root.join(&backup.entry.path);
                        match read_text(&path) {
                            Ok(text) => export.content = Some(text),
                            Err(error) => export.error = Some(error),
                        }
                        export.path = Some(backup.entry.path.clone());
                    }
                }
            }
        }
        out.push(export);
    }
    out
}

/// Reads an export as text: UTF-16 with a byte-order mark (as Windows tools often write
/// them) or UTF-8, at most [`MAX_EXPORT_BYTES`].
fn read_text(path: &std::path::Path) -> Result<String, String> {
    let file = crate::io::hash::open_regular(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_EXPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_EXPORT_BYTES {
        return Err(format!(
            "{} is larger than {} MiB: not compared",
            path.display(),
            MAX_EXPORT_BYTES >> 20
        ));
    }
    Ok(decode(&bytes))
}

fn decode(bytes: &[u8]) -> String {
    let utf16 = |big_endian: bool, rest: &[u8]| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| {
                let pair = [pair[0], pair[1]];
                if big_endian {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(false, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(true, rest),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_decode_from_utf8_and_utf16() {
        assert_eq!(decode(b"<a/>\n"), "<a/>\n");
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>"), "<a/>");
        assert_eq!(decode(b"\xFF\xFE<\0a\0/\0>\0"), "<a/>");
        assert_eq!(decode(b"\xFE\xFF\0<\0a\0/\0>"), "<a/>");
    }

    #[test]
    fn an_oversized_export_is_an_error_not_a_truncated_text() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("big.xml");
        std::fs::write(
            &path,
            vec![b'x'; usize::try_from(MAX_EXPORT_BYTES + 1).unwrap_or(0)],
        )?;
        let error = read_text(&path).err().unwrap_or_default();
        assert!(error.contains("larger than 1 MiB"), "{error}");
        std::fs::write(&path, "<ok/>")?;
        assert_eq!(read_text(&path).ok().as_deref(), Some("<ok/>"));
        Ok(())
    }
}
