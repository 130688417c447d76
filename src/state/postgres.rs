//! The PostgreSQL state backend (`state "postgres" url-env="STANDBY_STATE_URL"`): one
//! database that a team's machines share, so a hash learned on one is trusted on the
//! others, every machine's worksheet sees every restore test, and two applies on two
//! machines are kept apart. The apply lock is a session-level advisory lock held by the
//! apply's own connection: when the apply ends, however it ends, its session ends and the
//! lock with it, so there are no stale locks. Every statement is parameterized; the schema
//! is created and migrated by standby (`schema_version`).

use std::path::Path;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use postgres::{Client, NoTls, Row};

use super::catalog::{CATALOG_COLUMNS, Catalog, CatalogEntry, HashOrigin};
use super::journal::JournalLine;
use super::lock::{LockError, LockInfo};
use super::{
    Backend, FindingSeen, FindingSpan, HeldLock, StateError, from_nanos, path_bytes, path_of,
    to_nanos,
};

/// The advisory lock key of `apply` ("standby" in ASCII, and 1).
const APPLY_LOCK: i64 = 0x0073_7461_6e64_6279_i64 << 8 | 1;
/// The advisory lock key that serializes migrations between machines starting at once.
const MIGRATION_LOCK: i64 = 0x0073_7461_6e64_6279_i64 << 8 | 2;

/// The schema, one migration per version.
const MIGRATIONS: &[&str] = &[
    // 1: everything SPEC §4 lists, the findings' history and who holds the apply lock.
    "CREATE TABLE catalog (
        path BYTEA PRIMARY KEY, address TEXT, size BIGINT NOT NULL, mtime BIGINT NOT NULL,
        sha256 TEXT NOT NULL, mismatch TEXT, files BIGINT,
        first_seen BIGINT NOT NULL, last_verified BIGINT NOT NULL
     );
     CREATE TABLE observation (
        id INT PRIMARY KEY CHECK (id = 1), taken_at BIGINT NOT NULL,
        fingerprint TEXT NOT NULL, body TEXT NOT NULL
     );
     CREATE TABLE journal (
        seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, run TEXT NOT NULL,
        action TEXT NOT NULL, kind TEXT NOT NULL, address TEXT NOT NULL, step TEXT NOT NULL,
        outcome TEXT, message TEXT, duration_ms BIGINT, sha256 TEXT, output TEXT
     );
     CREATE INDEX journal_by_kind ON journal (kind, step);
     CREATE TABLE findings (
        id BIGSERIAL PRIMARY KEY, source TEXT NOT NULL, address TEXT NOT NULL,
        code TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,
        appeared BIGINT NOT NULL, last_seen BIGINT NOT NULL, resolved BIGINT
     );
     CREATE INDEX findings_open ON findings (source, resolved);
     CREATE TABLE runs (at BIGINT NOT NULL, source TEXT NOT NULL, findings BIGINT NOT NULL);
     CREATE TABLE imports (dir BYTEA PRIMARY KEY, at BIGINT NOT NULL);
     CREATE TABLE apply_lock (
        key BIGINT PRIMARY KEY, id TEXT NOT NULL, operation TEXT NOT NULL, who TEXT NOT NULL,
        pid BIGINT NOT NULL, created BIGINT NOT NULL
     );",
    // 2: where each catalog hash came from; the rows of version 1 vouch for nothing.
    "ALTER TABLE catalog ADD COLUMN origin TEXT NOT NULL DEFAULT 'first-seen';",
];

pub struct Postgres {
    db: Client,
    url: String,
    url_env: String,
}

fn version_known() -> i32 {
    i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX)
}

impl Postgres {
    /// Connects to the server at `url` (named by the variable `url_env` in messages, so
    /// that a password in the URL never reaches output) and migrates its schema.
    pub fn connect(url: &str, url_env: &str) -> Result<Self, StateError> {
        let place = format!("postgres (${url_env})");
        let db = Client::connect(url, NoTls).map_err(|source| StateError::Postgres {
            place: place.clone(),
            source,
        })?;
        let mut backend = Self {
            db,
            url: url.to_owned(),
            url_env: url_env.to_owned(),
        };
        backend.migrate()?;
        Ok(backend)
    }

    fn error(&self) -> impl Fn(postgres::Error) -> StateError + use<> {
        let place = self.place();
        move |source| StateError::Postgres {
            place: place.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), StateError> {
        let err = self.error();
        let place = self.place();
        let mut tx = self.db.transaction().map_err(&err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(&err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL)")
            .map_err(&err)?;
        let version: i32 = tx
            .query_opt("SELECT max(version) FROM schema_version", &[])
            .map_err(&err)?
            .and_then(|r| r.get::<_, Option<i32>>(0))
            .unwrap_or(0);
        if version > version_known() {
            return Err(StateError::TooNew {
                place,
                found: i64::from(version),
                known: i64::from(version_known()),
            });
        }
        for (done, migration) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.batch_execute(migration).map_err(&err)?;
            let reached = i32::try_from(done + 1).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&reached],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    /// The holder of the apply lock, given a moment to describe itself: a holder writes its
    /// row just after taking the lock, so a refusal right then would not name it.
    fn holder_after_taking(&mut self) -> Result<Option<LockInfo>, StateError> {
        let started = Instant::now();
        loop {
            let holder = self.holder()?;
            if holder.is_some() || started.elapsed() >= Duration::from_secs(2) {
                return Ok(holder);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The holder of the apply lock as it described itself, if the row is there.
    fn holder(&mut self) -> Result<Option<LockInfo>, StateError> {
        let row = self
            .db
            .query_opt(
                "SELECT id, operation, who, pid, created FROM apply_lock WHERE key = $1",
                &[&APPLY_LOCK],
            )
            .map_err(self.error())?;
        Ok(row.map(|r| LockInfo {
            id: r.get(0),
            operation: r.get(1),
            who: r.get(2),
            pid: u32::try_from(r.get::<_, i64>(3)).unwrap_or(0),
            created: from_nanos(r.get(4)),
        }))
    }
}

fn entry_of(row: &Row) -> CatalogEntry {
    CatalogEntry {
        path: path_of(row.get(0)),
        address: row.get(1),
        size: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
        mtime: from_nanos(row.get(3)),
        sha256: row.get(4),
        mismatch: row.get(5),
        files: row
            .get::<_, Option<i64>>(6)
            .and_then(|f| u64::try_from(f).ok()),
        first_seen: from_nanos(row.get(7)),
        last_verified: from_nanos(row.get(8)),
        origin: HashOrigin::from_stored(row.get(9)),
    }
}

fn line_of(row: &Row) -> JournalLine {
    JournalLine {
        at: from_nanos(row.get(0)),
        run: row.get(1),
        action: row.get(2),
        kind: row.get(3),
        address: row.get(4),
        step: row.get(5),
        outcome: row.get(6),
        message: row.get(7),
        duration_ms: row
            .get::<_, Option<i64>>(8)
            .and_then(|d| u64::try_from(d).ok()),
        sha256: row.get(9),
        output: row.get(10),
    }
}

const JOURNAL_COLUMNS: &str =
    "at, run, action, kind, address, step, outcome, message, duration_ms, sha256, output";

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The apply lock's session: its own connection, so that the lock lives exactly as long as
/// the apply (the process's death closes the socket, and the server ends the session).
struct Session {
    db: Client,
    id: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.db.execute(
            "DELETE FROM apply_lock WHERE key = $1 AND id = $2",
            &[&APPLY_LOCK, &self.id],
        );
        let _ = self
            .db
            .execute("SELECT pg_advisory_unlock($1)", &[&APPLY_LOCK]);
    }
}

impl Backend for Postgres {
    fn place(&self) -> String {
        format!("postgres (${})", self.url_env)
    }

    fn load_catalog(&mut self) -> Result<Catalog, StateError> {
        let rows = self
            .db
            .query(&format!("SELECT {CATALOG_COLUMNS} FROM catalog"), &[])
            .map_err(self.error())?;
        Ok(Catalog::from_entries(rows.iter().map(entry_of)))
    }

    fn save_catalog(&mut self, catalog: &mut Catalog) -> Result<(), StateError> {
        let (upserted, removed) = catalog.changes();
        if upserted.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let err = self.error();
        let mut tx = self.db.transaction().map_err(&err)?;
        // In batches of arrays: one round trip per ten thousand entries, not per entry.
        for chunk in upserted.chunks(10_000) {
            let paths: Vec<&[u8]> = chunk.iter().map(|e| path_bytes(&e.path)).collect();
            let addresses: Vec<Option<&str>> = chunk.iter().map(|e| e.address.as_deref()).collect();
            let sizes: Vec<i64> = chunk.iter().map(|e| to_i64(e.size)).collect();
            let mtimes: Vec<i64> = chunk.iter().map(|e| to_nanos(e.mtime)).collect();
            let hashes: Vec<&str> = chunk.iter().map(|e| e.sha256.as_str()).collect();
            let mismatches: Vec<Option<&str>> =
                chunk.iter().map(|e| e.mismatch.as_deref()).collect();
            let files: Vec<Option<i64>> = chunk.iter().map(|e| e.files.map(to_i64)).collect();
            let first: Vec<i64> = chunk.iter().map(|e| to_nanos(e.first_seen)).collect();
            let verified: Vec<i64> = chunk.iter().map(|e| to_nanos(e.last_verified)).collect();
            let origins: Vec<&str> = chunk.iter().map(|e| e.origin.as_str()).collect();
            tx.execute(
                &format!(
                    "INSERT INTO catalog ({CATALOG_COLUMNS}) \
                     SELECT * FROM unnest($1::bytea[], $2::text[], $3::int8[], $4::int8[], \
                     $5::text[], $6::text[], $7::int8[], $8::int8[], $9::int8[], $10::text[]) \
                     ON CONFLICT (path) DO UPDATE SET address = excluded.address, \
                     size = excluded.size, mtime = excluded.mtime, sha256 = excluded.sha256, \
                     mismatch = excluded.mismatch, files = excluded.files, \
                     first_seen = excluded.first_seen, last_verified = excluded.last_verified, \
                     origin = excluded.origin"
                ),
                &[
                    &paths,
                    &addresses,
                    &sizes,
                    &mtimes,
                    &hashes,
                    &mismatches,
                    &files,
                    &first,
                    &verified,
                    &origins,
                ],
            )
            .map_err(&err)?;
        }
        for chunk in removed.chunks(10_000) {
            let paths: Vec<&[u8]> = chunk.iter().map(|p| path_bytes(p)).collect();
            tx.execute("DELETE FROM catalog WHERE path = ANY($1)", &[&paths])
                .map_err(&err)?;
        }
        tx.commit().map_err(&err)?;
        catalog.mark_saved();
        Ok(())
    }

    fn last_observation(&mut self) -> Result<Option<(Timestamp, String)>, StateError> {
        let row = self
            .db
            .query_opt("SELECT taken_at, body FROM observation WHERE id = 1", &[])
            .map_err(self.error())?;
        Ok(row.map(|r| (from_nanos(r.get(0)), r.get(1))))
    }

    fn touch_observation(
        &mut self,
        taken_at: Timestamp,
        fingerprint: &str,
    ) -> Result<bool, StateError> {
        let moved = self
            .db
            .execute(
                "UPDATE observation SET taken_at = $1 WHERE id = 1 AND fingerprint = $2",
                &[&to_nanos(taken_at), &fingerprint],
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
        self.db
            .execute(
                "INSERT INTO observation (id, taken_at, fingerprint, body) \
                 VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
                 taken_at = excluded.taken_at, fingerprint = excluded.fingerprint, \
                 body = excluded.body",
                &[&to_nanos(taken_at), &fingerprint, &json],
            )
            .map_err(self.error())?;
        Ok(())
    }

    fn append_journal(&mut self, line: &JournalLine) -> Result<(), StateError> {
        self.db
            .execute(
                &format!(
                    "INSERT INTO journal ({JOURNAL_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &[
                    &to_nanos(line.at),
                    &line.run,
                    &line.action,
                    &line.kind,
                    &line.address,
                    &line.step,
                    &line.outcome,
                    &line.message,
                    &line.duration_ms.map(to_i64),
                    &line.sha256,
                    &line.output,
                ],
            )
            .map_err(self.error())?;
        Ok(())
    }

    fn journal(&mut self) -> Result<Vec<JournalLine>, StateError> {
        let rows = self
            .db
            .query(
                &format!("SELECT {JOURNAL_COLUMNS} FROM journal ORDER BY seq"),
                &[],
            )
            .map_err(self.error())?;
        Ok(rows.iter().map(line_of).collect())
    }

    fn restore_test_lines(&mut self) -> Result<Vec<JournalLine>, StateError> {
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT {JOURNAL_COLUMNS} FROM journal \
                     WHERE kind = $1 AND step = $2 ORDER BY seq"
                ),
                &[&"restore-test", &"end"],
            )
            .map_err(self.error())?;
        Ok(rows.iter().map(line_of).collect())
    }

    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<HeldLock, StateError> {
        let err = self.error();
        let mut session = Client::connect(&self.url, NoTls).map_err(&err)?;
        let info = LockInfo::new(operation);
        let started = Instant::now();
        loop {
            let taken: bool = session
                .query_one("SELECT pg_try_advisory_lock($1)", &[&APPLY_LOCK])
                .map_err(&err)?
                .get(0);
            if taken {
                session
                    .execute(
                        "INSERT INTO apply_lock (key, id, operation, who, pid, created) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE SET \
                         id = excluded.id, operation = excluded.operation, who = excluded.who, \
                         pid = excluded.pid, created = excluded.created",
                        &[
                            &APPLY_LOCK,
                            &info.id,
                            &info.operation,
                            &info.who,
                            &i64::from(info.pid),
                            &to_nanos(info.created),
                        ],
                    )
                    .map_err(&err)?;
                let id = info.id.clone();
                return Ok(HeldLock::new(info, Session { db: session, id }));
            }
            if started.elapsed() >= timeout {
                let holder = self.holder_after_taking()?.map_or_else(
                    || "the apply lock is held by another session".to_owned(),
                    |h| h.describe(),
                );
                return Err(LockError::Held(holder).into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn force_unlock(&mut self, id: &str) -> Result<String, StateError> {
        let holder = self.holder()?;
        Err(LockError::NotHeld(
            id.to_owned(),
            format!(
                ": with PostgreSQL state a lock ends with its holder's session, so there is no \
                 stale lock to remove{}",
                holder.map_or(String::new(), |h| format!(
                    " (the last lock recorded was {})",
                    h.describe()
                ))
            ),
        )
        .into())
    }

    fn record_findings(
        &mut self,
        source: &str,
        at: Timestamp,
        findings: &[FindingSeen],
    ) -> Result<(), StateError> {
        let err = self.error();
        let at = to_nanos(at);
        let mut tx = self.db.transaction().map_err(&err)?;
        // Two machines recording at once would both open the same finding: one at a time.
        tx.execute("LOCK TABLE findings IN SHARE ROW EXCLUSIVE MODE", &[])
            .map_err(&err)?;
        let open: Vec<(i64, String, String)> = tx
            .query(
                "SELECT id, address, code FROM findings WHERE source = $1 AND resolved IS NULL",
                &[&source],
            )
            .map_err(&err)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let keys: Vec<(String, String)> = open
            .iter()
            .map(|(_, a, c)| (a.clone(), c.clone()))
            .collect();
        let reconciled = super::history::reconcile(&keys, findings);
        let resolved: Vec<i64> = reconciled.resolve.iter().map(|&o| open[o].0).collect();
        tx.execute(
            "UPDATE findings SET resolved = $2 WHERE id = ANY($1)",
            &[&resolved, &at],
        )
        .map_err(&err)?;
        for &i in &reconciled.update {
            let f = &findings[i];
            tx.execute(
                "UPDATE findings SET severity = $4, message = $5, last_seen = $6 \
                 WHERE source = $1 AND address = $2 AND code = $3 AND resolved IS NULL",
                &[&source, &f.address, &f.code, &f.severity, &f.message, &at],
            )
            .map_err(&err)?;
        }
        for &i in &reconciled.appear {
            let f = &findings[i];
            tx.execute(
                "INSERT INTO findings (source, address, code, severity, message, appeared, \
                 last_seen) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                &[&source, &f.address, &f.code, &f.severity, &f.message, &at],
            )
            .map_err(&err)?;
        }
        tx.execute(
            "INSERT INTO runs (at, source, findings) VALUES ($1, $2, $3)",
            &[
                &at,
                &source,
                &i64::try_from(findings.len()).unwrap_or(i64::MAX),
            ],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    fn history(&mut self, since: Timestamp) -> Result<Vec<FindingSpan>, StateError> {
        let rows = self
            .db
            .query(
                "SELECT source, address, code, severity, message, appeared, last_seen, resolved \
                 FROM findings WHERE resolved IS NULL OR resolved >= $1 \
                 ORDER BY appeared, address, code",
                &[&to_nanos(since)],
            )
            .map_err(self.error())?;
        Ok(rows
            .iter()
            .map(|r| FindingSpan {
                source: r.get(0),
                address: r.get(1),
                code: r.get(2),
                severity: r.get(3),
                message: r.get(4),
                appeared: from_nanos(r.get(5)),
                last_seen: from_nanos(r.get(6)),
                resolved: r.get::<_, Option<i64>>(7).map(from_nanos),
            })
            .collect())
    }

    fn claim_import(&mut self, dir: &Path) -> Result<bool, StateError> {
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        let key = format!("{}:{}", super::lock::hostname(), key.display());
        let inserted = self
            .db
            .execute(
                "INSERT INTO imports (dir, at) VALUES ($1, $2) ON CONFLICT (dir) DO NOTHING",
                &[&key.as_bytes(), &to_nanos(Timestamp::now())],
            )
            .map_err(self.error())?;
        Ok(inserted == 1)
    }
}
