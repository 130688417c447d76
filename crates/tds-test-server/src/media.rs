//! The bytes of a backup file the test server writes and reads back: a small deterministic
//! stand-in for Microsoft Tape Format with a header (what RESTORE needs), some data pages and
//! a trailing FNV-1a checksum so a flipped byte makes RESTORE VERIFYONLY fail.

use crate::catalog::{BackupType, RecoveryModel, SqlDateTime};

const MAGIC: &[u8; 16] = b"TAPE\0standby-tds";
const FORMAT_VERSION: u8 = 1;
const TRAILER: &[u8; 8] = b"SBYTRAIL";
const BLOCK: usize = 256;
const MAX_BLOCKS: u32 = 16;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MediaFile {
    pub(crate) logical_name: String,
    pub(crate) type_desc: String,
    pub(crate) physical_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MediaHeader {
    pub(crate) backup_type: BackupType,
    pub(crate) database_name: String,
    pub(crate) recovery_model: RecoveryModel,
    pub(crate) first_lsn: u128,
    pub(crate) last_lsn: u128,
    pub(crate) database_backup_lsn: u128,
    pub(crate) checksums: bool,
    pub(crate) start: SqlDateTime,
    /// Pages SQL Server would have processed; the file holds only a few blocks.
    pub(crate) pages: u32,
    pub(crate) files: Vec<MediaFile>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

pub(crate) fn encode(h: &MediaHeader) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.push(h.backup_type.code() as u8);
    out.push(match h.recovery_model {
        RecoveryModel::Full => b'F',
        RecoveryModel::BulkLogged => b'B',
        RecoveryModel::Simple => b'S',
    });
    out.push(u8::from(h.checksums));
    put_str(&mut out, &h.database_name);
    out.extend_from_slice(&h.first_lsn.to_le_bytes());
    out.extend_from_slice(&h.last_lsn.to_le_bytes());
    out.extend_from_slice(&h.database_backup_lsn.to_le_bytes());
    out.extend_from_slice(&h.start.0.to_le_bytes());
    out.extend_from_slice(&h.pages.to_le_bytes());
    out.extend_from_slice(&u16::try_from(h.files.len()).unwrap_or(0).to_le_bytes());
    for f in &h.files {
        put_str(&mut out, &f.logical_name);
        put_str(&mut out, &f.type_desc);
        put_str(&mut out, &f.physical_name);
    }
    let seed = fnv1a(h.database_name.as_bytes())
        ^ u64::try_from(h.last_lsn % u128::from(u64::MAX)).unwrap_or(0);
    for block in 0..h.pages.clamp(1, MAX_BLOCKS) {
        for i in 0..BLOCK {
            let x = seed
                .wrapping_add(u64::from(block) * 131)
                .wrapping_add(i as u64 * 7);
            out.push((x ^ (x >> 13)).to_le_bytes()[0]);
        }
    }
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(TRAILER);
    out
}

/// `None` when the bytes are not an intact backup written by `encode`.
pub(crate) fn decode(bytes: &[u8]) -> Option<MediaHeader> {
    let body_len = bytes.len().checked_sub(16)?;
    let (body, trailer) = bytes.split_at(body_len);
    if &trailer[8..] != TRAILER || trailer[..8] != fnv1a(body).to_le_bytes() {
        return None;
    }
    let mut r = Reader { b: body, pos: 0 };
    if r.take(16)? != MAGIC || r.u8()? != FORMAT_VERSION {
        return None;
    }
    let backup_type = BackupType::from_code(r.u8()?)?;
    let recovery_model = match r.u8()? {
        b'F' => RecoveryModel::Full,
        b'B' => RecoveryModel::BulkLogged,
        b'S' => RecoveryModel::Simple,
        _ => return None,
    };
    let checksums = r.u8()? != 0;
    let database_name = r.str()?;
    let first_lsn = u128::from_le_bytes(r.take(16)?.try_into().ok()?);
    let last_lsn = u128::from_le_bytes(r.take(16)?.try_into().ok()?);
    let database_backup_lsn = u128::from_le_bytes(r.take(16)?.try_into().ok()?);
    let start = SqlDateTime(i64::from_le_bytes(r.take(8)?.try_into().ok()?));
    let pages = u32::from_le_bytes(r.take(4)?.try_into().ok()?);
    let count = u16::from_le_bytes(r.take(2)?.try_into().ok()?);
    let mut files = Vec::new();
    for _ in 0..count {
        files.push(MediaFile {
            logical_name: r.str()?,
            type_desc: r.str()?,
            physical_name: r.str()?,
        });
    }
    Some(MediaHeader {
        backup_type,
        database_name,
        recovery_model,
        first_lsn,
        last_lsn,
        database_backup_lsn,
        checksums,
        start,
        pages,
        files,
    })
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }

    fn str(&mut self) -> Option<String> {
        let len = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        String::from_utf8(self.take(usize::from(len))?.to_vec()).ok()
    }
}
