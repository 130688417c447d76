//! SHA-256 of backup files, on every core, with the catalog as a cache.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// How much discovery re-reads (`--verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    /// Hash only files the catalog does not know or whose size or mtime changed.
    Changed,
    /// Re-hash every file: finds silent corruption.
    Full,
    /// Re-hash slice `n` of `t` (1-based), chosen by path, so `t` runs cover every file.
    Slice { n: u32, t: u32 },
    /// Read no content at all: files the catalog does not know stay unverified.
    None,
}

impl std::str::FromStr for VerifyMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "changed" => Ok(Self::Changed),
            "full" => Ok(Self::Full),
            "none" => Ok(Self::None),
            _ => {
                let parsed = text
                    .split_once('/')
                    .and_then(|(n, t)| Some((n.parse::<u32>().ok()?, t.parse::<u32>().ok()?)));
                match parsed {
                    Some((n, t)) if n >= 1 && n <= t => Ok(Self::Slice { n, t }),
                    _ => Err(format!(
                        "{text:?} is not a verify mode: use changed, full, none or N/T with 1 <= N <= T"
                    )),
                }
            }
        }
    }
}

impl VerifyMode {
    /// Whether a file the catalog already knows, unchanged, is re-read this run.
    pub fn rehash_known(self, path: &str) -> bool {
        match self {
            Self::Changed | Self::None => false,
            Self::Full => true,
            Self::Slice { n, t } => slice_of(path, t) == n - 1,
        }
    }
}

/// A stable slice number in `0..t` for a path (FNV-1a: stable across runs and builds).
fn slice_of(path: &str, t: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in path.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    u32::try_from(hash % u64::from(t.max(1))).unwrap_or(0)
}

/// Bytes read at a time. Larger reads gain nothing; smaller buffers stay in cache.
const BUFFER: usize = 256 << 10;

thread_local! {
    /// One read buffer per thread, reused for every file: allocating and zeroing a buffer
    /// per file cost more than reading most small files.
    static READ_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; BUFFER]);
}

/// The lowercase hex SHA-256 of a reader's content.
pub fn sha256_reader(mut reader: impl Read) -> io::Result<String> {
    READ_BUFFER.with_borrow_mut(|buffer| {
        let mut hasher = Sha256::new();
        while let Some(n) = read_some(&mut reader, buffer)? {
            hasher.update(&buffer[..n]);
            super::meter::advance(n as u64);
        }
        Ok(hex::encode(hasher.finalize()))
    })
}

/// The lowercase hex SHA-256 of a file's content.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let file = open_regular(path)?;
    super::meter::expect(file.metadata()?.len());
    sha256_reader(file)
}

/// Opens `path` for reading only if it is a regular file. A FIFO named like a backup would
/// block `open` and `read` forever, a device would stream endlessly: the open never waits
/// (`O_NONBLOCK`, which changes nothing for a regular file) and what it opened is checked on
/// the handle before one byte is read.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = crate::platform::open_read_never_blocking(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        Ok(file)
    } else {
        Err(io::Error::other(format!(
            "{} is {}, not a regular file: never read",
            path.display(),
            special_kind(kind)
        )))
    }
}

/// What a file that is not a regular file is, in words.
pub fn special_kind(kind: std::fs::FileType) -> &'static str {
    if let Some(special) = crate::platform::device_kind(kind) {
        special
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// Reads what is available into `buffer`: `None` at the end, retried when interrupted.
fn read_some(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<Option<usize>> {
    loop {
        match reader.read(buffer) {
            Ok(0) => return Ok(None),
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Checks a snapshot directory against its `MANIFEST.sha256` (the format `sha256sum -c`
/// reads). Returns the manifest's own hash and the files that are missing or differ.
pub fn verify_snapshot(dir: &Path) -> io::Result<(String, Vec<String>)> {
    let manifest = std::fs::read(dir.join(crate::layout::MANIFEST))?;
    check_manifest(&manifest, |relative| File::open(dir.join(relative)))
}

/// The `(hash, relative path)` of each line of a manifest; a malformed line or a path that
/// leaves the snapshot is an `Err` with what to report for it.
pub fn manifest_lines(text: &str) -> impl Iterator<Item = Result<(&str, &Path), String>> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|line| {
        let Some((hash, name)) = line.split_once("  ").or_else(|| line.split_once(" *")) else {
            return Err(format!("(malformed manifest line) {line}"));
        };
        let relative = Path::new(name);
        let escapes = relative.is_absolute()
            || relative
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if escapes {
            return Err(name.to_owned());
        }
        Ok((hash, relative))
    })
}

/// Checks the files `open` opens against `manifest`. Returns the manifest's own hash and the
/// files that are missing or differ.
pub fn check_manifest<R: Read>(
    manifest: &[u8],
    open: impl Fn(&Path) -> io::Result<R>,
) -> io::Result<(String, Vec<String>)> {
    let manifest_hash = sha256_reader(manifest)?;
    let text = String::from_utf8_lossy(manifest);
    let mut bad = Vec::new();
    for line in manifest_lines(&text) {
        match line {
            Err(report) => bad.push(report),
            Ok((hash, relative)) => match open(relative).and_then(sha256_reader) {
                Ok(actual) if actual.eq_ignore_ascii_case(hash) => {}
                _ => bad.push(relative.to_string_lossy().into_owned()),
            },
        }
    }
    Ok((manifest_hash, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_sha256sum() -> io::Result<()> {
        assert_eq!(
            sha256_reader(&b"abc"[..])?,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_reader(io::empty())?,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        Ok(())
    }

    #[test]
    fn a_file_of_several_buffers_hashes_like_its_content() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("big.bak");
        // Several buffers and a partial one, with content that differs from buffer to buffer.
        let content: Vec<u8> = (0..3 * BUFFER + 1234)
            .map(|i| u8::try_from(i * 7 % 251).unwrap_or(0))
            .collect();
        std::fs::write(&path, &content)?;
        let expected = hex::encode(Sha256::digest(&content));
        assert_eq!(sha256_file(&path)?, expected);
        // The reused buffer carries nothing over from one file to the next.
        assert_eq!(sha256_file(&path)?, expected);
        assert_eq!(
            sha256_reader(&content[..10])?,
            hex::encode(Sha256::digest(&content[..10]))
        );
        Ok(())
    }

    #[test]
    fn verify_modes_parse_and_slices_cover_every_path() {
        assert_eq!("full".parse(), Ok(VerifyMode::Full));
        assert_eq!("2/7".parse(), Ok(VerifyMode::Slice { n: 2, t: 7 }));
        assert!("0/7".parse::<VerifyMode>().is_err());
        assert!("8/7".parse::<VerifyMode>().is_err());
        assert!("most".parse::<VerifyMode>().is_err());
        let paths: Vec<String> = (0..200)
            .map(|i| format!("site/database/db{i}/full/x.bak"))
            .collect();
        for path in &paths {
            let slices = (1..=7)
                .filter(|n| VerifyMode::Slice { n: *n, t: 7 }.rehash_known(path))
                .count();
            assert_eq!(slices, 1, "{path} must fall in exactly one slice");
        }
    }

    #[test]
    fn a_snapshot_is_checked_against_its_manifest() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("sub"))?;
        std::fs::write(dir.path().join("a.txt"), "a")?;
        std::fs::write(dir.path().join("sub/b.txt"), "b")?;
        let manifest = format!(
            "{}  a.txt\n{}  sub/b.txt\n{}  gone.txt\n",
            sha256_reader(&b"a"[..])?,
            sha256_reader(&b"b"[..])?,
            sha256_reader(&b"c"[..])?
        );
        std::fs::write(dir.path().join("MANIFEST.sha256"), &manifest)?;
        let (_, bad) = verify_snapshot(dir.path())?;
        assert_eq!(bad, vec!["gone.txt".to_owned()]);
        std::fs::write(dir.path().join("a.txt"), "A")?;
        let (_, bad) = verify_snapshot(dir.path())?;
        assert_eq!(bad, vec!["a.txt".to_owned(), "gone.txt".to_owned()]);
        Ok(())
    }
}
