//! Where standby keeps what it learns between runs (SPEC §4): the catalog of known backups
//! (the hash cache), the last observation, the journal of applied actions (and with it the
//! restore-test records), the apply lock, and the history of findings.
//!
//! One small interface, [`Backend`], with one module per backend: [`local`] (an embedded
//! SQLite file, the default) and [`postgres`] (a shared server for a team). Which one is
//! used is declared in the desired state (`state "local" path=…` or `state "postgres"
//! url-env=…`). The JSON files of the old state directory are read only to import them
//! ([`import`]); JSON stays the exchange format of `discover --out` and `--observed`.

pub mod catalog;
pub mod history;
pub mod import;
pub mod journal;
pub mod local;
pub mod lock;
pub mod postgres;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use catalog::Catalog;
pub use history::{FindingSeen, FindingSpan};
use journal::JournalLine;
use lock::LockInfo;

/// The observation file in an old state directory, and the default of the worksheet's note.
pub fn observed_path(state: &Path) -> PathBuf {
    state.join("observed.json")
}

pub fn catalog_path(state: &Path) -> PathBuf {
    state.join("catalog.json")
}

/// Where state lives, as the desired state declares it (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An embedded database file, `state.db`, in this directory.
    Local { dir: PathBuf },
    /// A PostgreSQL server whose connection URL is in this environment variable.
    Postgres { url_env: String },
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {place}: {source}")]
    Sqlite {
        place: String,
        source: rusqlite::Error,
    },
    #[error("state database {place}: {source}")]
    Postgres {
        place: String,
        source: ::postgres::Error,
    },
    #[error(
        "the state is declared as `state \"postgres\" url-env=\"{0}\"` but ${0} is not set; \
         set it to the server's URL (postgresql://USER@HOST/DB or host=… dbname=…)"
    )]
    UrlMissing(String),
    #[error(
        "state database {place} has schema version {found}; this standby knows up to {known}: upgrade standby"
    )]
    TooNew {
        place: String,
        found: i64,
        known: i64,
    },
    #[error("state database {place}: {what} is not a valid {kind}")]
    Corrupt {
        place: String,
        what: String,
        kind: &'static str,
    },
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("cannot import {path}: {message}")]
    Import { path: PathBuf, message: String },
}

/// An apply lock being held; released when dropped (for PostgreSQL: when its session ends,
/// which a killed process's does too).
pub struct HeldLock {
    pub info: LockInfo,
    /// What keeps the lock: the local lock file's guard, or the PostgreSQL session.
    _guard: Box<dyn Send>,
}

impl HeldLock {
    pub(crate) fn new(info: LockInfo, guard: impl Send + 'static) -> Self {
        Self {
            info,
            _guard: Box::new(guard),
        }
    }
}

/// What every state backend stores and answers. Small on purpose: the contract tests
/// (tests/it/state.rs) hold every backend to the same behaviour.
pub trait Backend: Send {
    /// Where the state is, for messages (`state/state.db`, `postgres (STANDBY_STATE_URL)`).
    fn place(&self) -> String;

    /// Every backup the catalog knows.
    fn load_catalog(&mut self) -> Result<Catalog, StateError>;
    /// Writes what changed in `catalog` since it was loaded (one transaction), and marks it
    /// saved. An unchanged catalog writes nothing.
    fn save_catalog(&mut self, catalog: &mut Catalog) -> Result<(), StateError>;

    /// The last observation `discover` saved: when it was taken, and the JSON document
    /// `discover --out` writes (kept as that exchange format, unread). The document's own
    /// `taken_at` may be older: an unchanged observation is not written again, only its time.
    fn last_observation(&mut self) -> Result<Option<(Timestamp, String)>, StateError>;
    /// When the saved observation has this fingerprint (the same contents), moves its time to
    /// `taken_at` and says so; otherwise writes nothing.
    fn touch_observation(
        &mut self,
        taken_at: Timestamp,
        fingerprint: &str,
    ) -> Result<bool, StateError>;
    /// Replaces the saved observation.
    fn save_observation(
        &mut self,
        taken_at: Timestamp,
        fingerprint: &str,
        json: &str,
    ) -> Result<(), StateError>;

    /// Appends one journal line, durably, before returning.
    fn append_journal(&mut self, line: &JournalLine) -> Result<(), StateError>;
    /// Every journal line, oldest first.
    fn journal(&mut self) -> Result<Vec<JournalLine>, StateError>;
    /// The journal's `end` lines of `restore-test` actions (the restore-test records),
    /// oldest first.
    fn restore_test_lines(&mut self) -> Result<Vec<JournalLine>, StateError>;

    /// Takes the apply lock, waiting up to `timeout` for another holder to release it.
    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<HeldLock, StateError>;
    /// Removes a stale lock by id (`standby force-unlock`).
    fn force_unlock(&mut self, id: &str) -> Result<String, StateError>;

    /// Records the findings of one complete run of `source` (`check`, `audit`) at `at`:
    /// findings not open yet appear, open ones no longer found are resolved.
    fn record_findings(
        &mut self,
        source: &str,
        at: Timestamp,
        findings: &[FindingSeen],
    ) -> Result<(), StateError>;
    /// Every finding open at or after `since`, oldest first.
    fn history(&mut self, since: Timestamp) -> Result<Vec<FindingSpan>, StateError>;

    /// Whether the state directory `dir` has been imported already; marks it when not.
    fn claim_import(&mut self, dir: &Path) -> Result<bool, StateError>;
}

/// Opens the declared state, creating or migrating its schema, and imports an old JSON
/// state directory the first time (saying so on stderr unless `quiet`).
pub fn open(
    location: &Location,
    import_from: &Path,
    quiet: bool,
) -> Result<Box<dyn Backend>, StateError> {
    let mut backend: Box<dyn Backend> = match location {
        Location::Local { dir } => Box::new(local::Local::open(dir)?),
        Location::Postgres { url_env } => {
            let url =
                std::env::var(url_env).map_err(|_| StateError::UrlMissing(url_env.clone()))?;
            Box::new(postgres::Postgres::connect(&url, url_env)?)
        }
    };
    if let Some(imported) = import::import(backend.as_mut(), import_from)?
        && !quiet
    {
        eprintln!("{imported}");
    }
    Ok(backend)
}

/// A [`Hasher`](std::hash::Hasher) into SHA-256: the fingerprint of a value's contents,
/// taken from its `Hash` without formatting it (an observation's fingerprint, without its
/// time, decides whether it is written again).
#[derive(Default)]
pub struct Fingerprint(sha2::Sha256);

impl std::hash::Hasher for Fingerprint {
    fn write(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.0, bytes);
    }

    fn finish(&self) -> u64 {
        let digest = sha2::Digest::finalize(self.0.clone());
        let mut first = [0; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }
}

impl Fingerprint {
    pub fn hex(self) -> String {
        hex::encode(sha2::Digest::finalize(self.0))
    }
}

/// A timestamp as the databases store it: nanoseconds since the epoch.
pub(crate) fn to_nanos(at: Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(i64::MAX)
}

pub(crate) fn from_nanos(nanos: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(nanos)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A path as the databases store it: its bytes, exactly.
pub(crate) fn path_bytes(path: &Path) -> &[u8] {
    // The bytes on Unix; WTF-8 (UTF-8 for every valid name) on Windows.
    path.as_os_str().as_encoded_bytes()
}

pub(crate) fn path_of(bytes: Vec<u8>) -> PathBuf {
    crate::platform::path_from_bytes(bytes)
}
