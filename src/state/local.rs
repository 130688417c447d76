//! The local state backend (the default, `state "local" path="state"`): one SQLite file,
//! `state.db`, in the state directory, in WAL mode so that readers (`check` on the same
//! machine) never wait for a writer. A run's catalog changes are one transaction; journal
//! lines are committed (fsynced) one by one. The apply lock stays the `lock` file beside
//! it (see [`super::lock`]): it names its holder and can be force-unlocked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::catalog::{CATALOG_COLUMNS, Catalog, CatalogEntry, HashOrigin};
use super::journal::JournalLine;
use super::lock;
use super::{
    Backend, FindingSeen, FindingSpan, HeldLock, StateError, from_nanos, path_bytes, path_of,
    to_nanos,
};

/// The database file's name inside the state directory.
pub const FILE_NAME: &str = "state.db";

/// The schema, one migration per version; `PRAGMA user_version` is the version reached.
const MIGRATIONS: &[&str] = &[
    // 1: everything SPEC §4 lists, and the findings' history.
    "CREATE TABLE catalog (
        path BLOB PRIMARY KEY, address TEXT, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
        sha256 TEXT NOT NULL, mismatch TEXT, files INTEGER,
        first_seen INTEGER NOT NULL, last_verified INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE observation (
        id INTEGER PRIMARY KEY CHECK (id = 1), taken_at INTEGER NOT NULL,
        fingerprint TEXT NOT NULL, body TEXT NOT NULL
     );
     CREATE TABLE journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, run TEXT NOT NULL,
        action TEXT NOT NULL, kind TEXT NOT NULL, address TEXT NOT NULL, step TEXT NOT NULL,
        outcome TEXT, message TEXT, duration_ms INTEGER, sha256 TEXT, output TEXT
     );
     CREATE INDEX journal_by_kind ON journal (kind, step);
     CREATE TABLE findings (
        source TEXT NOT NULL, address TEXT NOT NULL, code TEXT NOT NULL,
        severity TEXT NOT NULL, message TEXT NOT NULL,
        appeared INTEGER NOT NULL, last_seen INTEGER NOT NULL, resolved INTEGER
     );
     CREATE INDEX findings_open ON findings (source, resolved);
     CREATE TABLE runs (at INTEGER NOT NULL, source TEXT NOT NULL, findings INTEGER NOT NULL);
     CREATE TABLE imports (dir BLOB PRIMARY KEY, at INTEGER NOT NULL);",
    // 2: where each catalog hash came from; the rows of version 1 vouch for nothing.
    "ALTER TABLE catalog ADD COLUMN origin TEXT NOT NULL DEFAULT 'first-seen';",
    // 3: the observation's body in a table of its own. SQLite rewrites a whole row to
    // update one column: moving the time of an unchanged observation rewrote its megabytes.
    "CREATE TABLE observation_body (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
     INSERT INTO observation_body (id, body) SELECT id, body FROM observation;
     ALTER TABLE observation DROP COLUMN body;",
];

pub struct Local {
    db: Connection,
    dir: PathBuf,
    file: PathBuf,
}

impl Local {
    /// Opens (creating when missing) `DIR/state.db` and migrates its schema.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        let file = dir.join(FILE_NAME);
        let place = file.display().to_string();
        let sqlite = |source| StateError::Sqlite {
            place: place.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            sqlite(rusqlite::Error::InvalidPath(PathBuf::from(format!(
                "{}: {e}",
                dir.display()
            ))))
        })?;
        let db = Connection::open(&file).map_err(sqlite)?;
        db.busy_timeout(Duration::from_secs(30)).map_err(sqlite)?;
        // FULL: a committed journal line survives a power cut, not only a crash of standby.
        db.execute_batch("PRAGMA synchronous = FULL")
            .map_err(sqlite)?;
        // Reads through a memory map, not copies into SQLite's own small page cache: loading
        // a catalog of 100,000 entries copied every page, twice.
        db.execute_batch("PRAGMA mmap_size = 1073741824")
            .map_err(sqlite)?;
        // 64 MiB of page cache (the default is 2 MiB): a large first transaction is not
        // spilled to the WAL page by page before it commits.
        db.execute_batch("PRAGMA cache_size = -65536")
            .map_err(sqlite)?;
        // WAL: readers do not block the writer. Switching needs the database to itself,
        // which another standby just creating it may hold for a moment: try again then.
        let started = std::time::Instant::now();
        loop {
            let mode: rusqlite::Result<String> = db
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .and_then(|mode: String| {
                    if mode.eq_ignore_ascii_case("wal") {
                        Ok(mode)
                    } else {
                        db.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                    }
                });
            match mode {
                Ok(_) => break,
                Err(e) if is_busy(&e) && started.elapsed() < Duration::from_secs(30) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(sqlite(e)),
            }
        }
        let mut local = Self {
            db,
            dir: dir.to_owned(),
            file,
        };
        local.migrate()?;
        Ok(local)
    }

    fn error(&self) -> impl Fn(rusqlite::Error) -> StateError + '_ {
        move |source| StateError::Sqlite {
            place: self.place(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), StateError> {
        let place = self.place();
        let sqlite = |source| StateError::Sqlite {
            place: place.clone(),
            source,
        };
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        let current: i64 = self
            .db
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite)?;
        if current == known {
            return Ok(());
        }
        // IMMEDIATE: the write lock up front, so that two standbys migrating at once wait
        // for each other instead of deadlocking; the second then finds nothing to do.
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite)?;
        if version > known {
            return Err(StateError::TooNew {
                place,
                found: version,
                known,
            });
        }
        for migration in MIGRATIONS
            .iter()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.execute_batch(migration).map_err(sqlite)?;
        }
        // PRAGMA takes no parameters; the value is this program's own constant.
        tx.execute_batch(&format!("PRAGMA user_version = {known}"))
            .map_err(sqlite)?;
        tx.commit().map_err(sqlite)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn entry_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<CatalogEntry> {
    Ok(CatalogEntry {
        path: path_of(row.get(0)?),
        address: row.get(1)?,
        size: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
        mtime: from_nanos(row.get(3)?),
        sha256: row.get(4)?,
        mismatch: row.get(5)?,
        files: row
            .get::<_, Option<i64>>(6)?
            .and_then(|f| u64::try_from(f).ok()),
        first_seen: from_nanos(row.get(7)?),
        last_verified: from_nanos(row.get(8)?),
        origin: HashOrigin::from_stored(&row.get::<_, String>(9)?),
    })
}

fn line_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<JournalLine> {
    Ok(JournalLine {
        at: from_nanos(row.get(0)?),
        run: row.get(1)?,
        action: row.get(2)?,
        kind: row.get(3)?,
        address: row.get(4)?,
        step: row.get(5)?,
        outcome: row.get(6)?,
        message: row.get(7)?,
        duration_ms: row
            .get::<_, Option<i64>>(8)?
            .and_then(|d| u64::try_from(d).ok()),
        sha256: row.get(9)?,
        output: row.get(10)?,
    })
}

fn span_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<FindingSpan> {
    Ok(FindingSpan {
        source: row.get(0)?,
        address: row.get(1)?,
        code: row.get(2)?,
        severity: row.get(3)?,
        message: row.get(4)?,
        appeared: from_nanos(row.get(5)?),
        last_seen: from_nanos(row.get(6)?),
        resolved: row.get::<_, Option<i64>>(7)?.map(from_nanos),
    })
}

const JOURNAL_COLUMNS: &str =
    "at, run, action, kind, address, step, outcome, message, duration_ms, sha256, output";

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Backend for Local {
    fn place(&self) -> String {
        self.file.display().to_string()
    }

    fn load_catalog(&mut self) -> Result<Catalog, StateError> {
        let mut statement = self
            .db
            .prepare(&format!("SELECT {CATALOG_COLUMNS} FROM catalog"))
            .map_err(self.error())?;
        let entries = statement
            .query_map([], entry_of)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(self.error())?;
        Ok(Catalog::from_entries(entries))
    }

    fn save_catalog(&mut self, catalog: &mut Catalog) -> Result<(), StateError> {
        let (mut upserted, removed) = catalog.changes();
        if upserted.is_empty() && removed.is_empty() {
            return Ok(());
        }
        // In key order: the rows go into the table's B-tree one after another instead of
        // splitting pages all over it (a first discovery of 100,000 files spent 40% of its
        // time there).
        upserted.sort_unstable_by(|a, b| path_bytes(&a.path).cmp(path_bytes(&b.path)));
        let place = self.place();
        let sqlite = |source| StateError::Sqlite {
            place: place.clone(),
            source,
        };
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        {
            let mut upsert = tx
                .prepare(&format!(
                    "INSERT OR REPLACE INTO catalog ({CATALOG_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))
                .map_err(sqlite)?;
            for e in upserted {
                upsert
                    .execute(params![
                        path_bytes(&e.path),
                        e.address,
                        to_i64(e.size),
                        to_nanos(e.mtime),
                        e.sha256,
                        e.mismatch,
                        e.files.map(to_i64),
                        to_nanos(e.first_seen),
                        to_nanos(e.last_verified),
                        e.origin.as_str(),
                    ])
                    .map_err(sqlite)?;
            }
            let mut delete = tx
                .prepare("DELETE FROM catalog WHERE path = ?1")
                .map_err(sqlite)?;
            for path in removed {
                delete.execute(params![path_bytes(path)]).map_err(sqlite)?;
            }
        }
        tx.commit().map_err(sqlite)?;
        catalog.mark_saved();
        Ok(())
    }

    fn last_observation(&mut self) -> Result<Option<(Timestamp, String)>, StateError> {
        self.db
            .query_row(
                "SELECT taken_at, body FROM observation JOIN observation_body USING (id)",
                [],
                |r| Ok((from_nanos(r.get(0)?), r.get(1)?)),
            )
            .optional()
            .map_err(self.error())
    }

    fn touch_observation(
        &mut self,
        taken_at: Timestamp,
        fingerprint: &str,
    ) -> Result<bool, StateError> {
        let moved = self
            .db
            .execute(
                "UPDATE observation SET taken_at = ?1 WHERE id = 1 AND fingerprint = ?2",
                params![to_nanos(taken_at), fingerprint],
            )
            .map_err(self.error())?;
        Ok(moved == 1)
    }

    fn save_observation(
        &mut self,
        taken_at: Timestamp,
        fingerprint: &str,
        json: &str,
    ) -> Result<(), StateError> {
        let place = self.place();
        let sqlite = |source| StateError::Sqlite {
            place: place.clone(),
            source,
        };
        let tx = self.db.transaction().map_err(sqlite)?;
        tx.execute(
            "INSERT OR REPLACE INTO observation (id, taken_at, fingerprint) VALUES (1, ?1, ?2)",
            params![to_nanos(taken_at), fingerprint],
        )
        .map_err(sqlite)?;
        tx.execute(
            "INSERT OR REPLACE INTO observation_body (id, body) VALUES (1, ?1)",
            params![json],
        )
        .map_err(sqlite)?;
        tx.commit().map_err(sqlite)
    }

    fn append_journal(&mut self, line: &JournalLine) -> Result<(), StateError> {
        self.db
            .execute(
                &format!(
                    "INSERT INTO journal ({JOURNAL_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    to_nanos(line.at),
                    line.run,
                    line.action,
                    line.kind,
                    line.address,
                    line.step,
                    line.outcome,
                    line.message,
                    line.duration_ms.map(to_i64),
                    line.sha256,
                    line.output,
                ],
            )
            .map_err(self.error())?;
        Ok(())
    }

    fn journal(&mut self) -> Result<Vec<JournalLine>, StateError> {
        let mut statement = self
            .db
            .prepare(&format!(
                "SELECT {JOURNAL_COLUMNS} FROM journal ORDER BY seq"
            ))
            .map_err(self.error())?;
        statement
            .query_map([], line_of)
            .and_then(Iterator::collect)
            .map_err(self.error())
    }

    fn restore_test_lines(&mut self) -> Result<Vec<JournalLine>, StateError> {
        let mut statement = self
            .db
            .prepare(&format!(
                "SELECT {JOURNAL_COLUMNS} FROM journal \
                 WHERE kind = 'restore-test' AND step = 'end' ORDER BY seq"
            ))
            .map_err(self.error())?;
        statement
            .query_map([], line_of)
            .and_then(Iterator::collect)
            .map_err(self.error())
    }

    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<HeldLock, StateError> {
        let held = lock::Lock::acquire(&self.dir, operation, timeout)?;
        Ok(HeldLock::new(held.info.clone(), held))
    }

    fn force_unlock(&mut self, id: &str) -> Result<String, StateError> {
        Ok(lock::force_unlock(&self.dir, id)?)
    }

    fn record_findings(
        &mut self,
        source: &str,
        at: Timestamp,
        findings: &[FindingSeen],
    ) -> Result<(), StateError> {
        let place = self.place();
        let sqlite = |source| StateError::Sqlite {
            place: place.clone(),
            source,
        };
        let at = to_nanos(at);
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        {
            let mut open_statement = tx
                .prepare(
                    "SELECT rowid, address, code FROM findings \
                     WHERE source = ?1 AND resolved IS NULL",
                )
                .map_err(sqlite)?;
            let open: Vec<(i64, String, String)> = open_statement
                .query_map(params![source], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(Iterator::collect)
                .map_err(sqlite)?;
            let keys: Vec<(String, String)> = open
                .iter()
                .map(|(_, a, c)| (a.clone(), c.clone()))
                .collect();
            let reconciled = super::history::reconcile(&keys, findings);
            let mut resolve = tx
                .prepare("UPDATE findings SET resolved = ?2 WHERE rowid = ?1")
                .map_err(sqlite)?;
            for &o in &reconciled.resolve {
                resolve.execute(params![open[o].0, at]).map_err(sqlite)?;
            }
            let mut update = tx
                .prepare(
                    "UPDATE findings SET severity = ?4, message = ?5, last_seen = ?6 \
                     WHERE source = ?1 AND address = ?2 AND code = ?3 AND resolved IS NULL",
                )
                .map_err(sqlite)?;
            for &i in &reconciled.update {
                let f = &findings[i];
                update
                    .execute(params![
                        source, f.address, f.code, f.severity, f.message, at
                    ])
                    .map_err(sqlite)?;
            }
            let mut insert = tx
                .prepare(
                    "INSERT INTO findings \
                     (source, address, code, severity, message, appeared, last_seen) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                )
                .map_err(sqlite)?;
            for &i in &reconciled.appear {
                let f = &findings[i];
                insert
                    .execute(params![
                        source, f.address, f.code, f.severity, f.message, at
                    ])
                    .map_err(sqlite)?;
            }
            tx.execute(
                "INSERT INTO runs (at, source, findings) VALUES (?1, ?2, ?3)",
                params![
                    at,
                    source,
                    i64::try_from(findings.len()).unwrap_or(i64::MAX)
                ],
            )
            .map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)
    }

    fn history(&mut self, since: Timestamp) -> Result<Vec<FindingSpan>, StateError> {
        let mut statement = self
            .db
            .prepare(
                "SELECT source, address, code, severity, message, appeared, last_seen, resolved \
                 FROM findings WHERE resolved IS NULL OR resolved >= ?1 \
                 ORDER BY appeared, address, code",
            )
            .map_err(self.error())?;
        statement
            .query_map(params![to_nanos(since)], span_of)
            .and_then(Iterator::collect)
            .map_err(self.error())
    }

    fn claim_import(&mut self, dir: &Path) -> Result<bool, StateError> {
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        let inserted = self
            .db
            .execute(
                "INSERT OR IGNORE INTO imports (dir, at) VALUES (?1, ?2)",
                params![path_bytes(&key), to_nanos(Timestamp::now())],
            )
            .map_err(self.error())?;
        Ok(inserted == 1)
    }
}
