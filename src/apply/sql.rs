//! The SQL Server actions: BACKUP into a store through its `sql-path`, RESTORE VERIFYONLY,
//! ALTER DATABASE ... SET RECOVERY, and test restores. Each action opens its own
//! connection; failures carry SQL Server's error number.
//!
//! A BACKUP writes to a temporary name in the store, like every backup standby writes; the
//! file is then fsynced, hashed and renamed into place here, so a crash mid-BACKUP never
//! leaves a partial file under a final name.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::desired::{Desired, SqlInstance};
use crate::io::atomic;
use crate::io::hash;
use crate::io::sql::{self, Connection, Timeouts, describe};
use crate::layout::RESTORE_TEST_PREFIX;
use crate::plan::{RestoreFile, RestoreOptions, restore_statements};

pub(super) struct SqlActions<'a> {
    pub desired: &'a Desired,
    pub timeouts: Timeouts,
}

/// What a BACKUP left in the store.
pub(super) struct Written {
    pub bytes: u64,
    pub sha256: String,
}

impl SqlActions<'_> {
    fn instance(&self, site: &str, id: &str) -> Result<&SqlInstance, String> {
        self.desired
            .site(site)
            .and_then(|s| s.sql_instances.iter().find(|i| i.id.value == id))
            .ok_or_else(|| format!("sql-instance `{id}` of site `{site}` is not declared"))
    }

    /// Runs `work` on a fresh connection to the instance.
    fn with_connection<T>(
        &self,
        site: &str,
        id: &str,
        work: impl AsyncFnOnce(&mut Connection) -> Result<T, String>,
    ) -> Result<T, String> {
        let instance = self.instance(site, id)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the SQL Server client: {e}"))?;
        // The statement runs on this thread (a current-thread runtime), so its progress
        // messages set this action's meter.
        sql::with_percent_messages(|| {
            runtime.block_on(async {
                let mut connection = Box::pin(sql::connect(instance, self.timeouts)).await?;
                work(&mut connection).await
            })
        })
    }

    /// `BACKUP ... TO DISK` into a temporary name beside `local`, then fsync, hash and
    /// rename into place.
    pub(super) fn backup(
        &self,
        site: &str,
        instance: &str,
        database: &str,
        backup_type: &str,
        disk: &str,
        local: &Path,
    ) -> Result<Written, String> {
        let temp = crate::layout::temp_path(local);
        let temp_name = temp
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp_disk = match disk.rsplit_once('\\') {
            Some((dir, _)) => format!("{dir}\\{temp_name}"),
            None => temp_name,
        };
        if let Some(dir) = local.parent() {
            // SQL Server does not create directories (it fails with Msg 3201).
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let statement = backup_statement(database, backup_type, &temp_disk);
        let result = self.with_connection(site, instance, async |c| run(c, &statement).await);
        let written = result.and_then(|()| seal(&temp, local));
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }

    pub(super) fn verify_only(&self, site: &str, instance: &str, disk: &str) -> Result<(), String> {
        let statement = format!(
            "RESTORE VERIFYONLY FROM DISK = N'{}' WITH CHECKSUM, STATS = 5",
            text(disk)
        );
        self.with_connection(site, instance, async |c| run(c, &statement).await)
    }

    pub(super) fn set_recovery_model(
        &self,
        site: &str,
        instance: &str,
        database: &str,
        model: &str,
    ) -> Result<(), String> {
        if !matches!(model, "FULL" | "SIMPLE" | "BULK_LOGGED") {
            return Err(format!("`{model}` is not a recovery model"));
        }
        let statement = format!(
            "ALTER DATABASE [{}] SET RECOVERY {model} WITH NO_WAIT",
            name(database)
        );
        self.with_connection(site, instance, async |c| run(c, &statement).await)
    }

    /// Restores `chain` as `test`, checks it with DBCC CHECKDB and drops it, whatever
    /// happened. Returns how long the restore itself took.
    pub(super) fn restore_test(
        &self,
        site: &str,
        instance: &str,
        database: &str,
        test: &str,
        chain: &[RestoreFile],
        moves: &[(String, String)],
    ) -> Result<Duration, String> {
        // The only database standby ever drops is its own test restore.
        if !test.starts_with(RESTORE_TEST_PREFIX) || test.eq_ignore_ascii_case(database) {
            return Err(format!(
                "refusing to restore over `{test}`: test restores are named {RESTORE_TEST_PREFIX}<database>"
            ));
        }
        if chain.is_empty() {
            return Err("nothing to restore".into());
        }
        let statements = restore_statements(
            test,
            chain,
            &RestoreOptions {
                moves,
                replace: true,
                stop_at: None,
            },
        );
        let check = format!("DBCC CHECKDB([{}]) WITH NO_INFOMSGS", name(test));
        let drop = format!("DROP DATABASE [{}]", name(test));
        self.with_connection(site, instance, async |c| {
            let started = Instant::now();
            let mut result = Ok(());
            for statement in &statements {
                result = run(c, statement).await;
                if result.is_err() {
                    break;
                }
            }
            let restored = started.elapsed();
            if result.is_ok() {
                result = run(c, &check)
                    .await
                    .map_err(|e| format!("DBCC CHECKDB found problems: {e}"));
            }
            // Drop on failure too: a half-restored test database holds disk space.
            let dropped = run(c, &drop).await;
            match (result, dropped) {
                (Ok(()), Ok(())) => Ok(restored),
                (Ok(()), Err(e)) => Err(format!(
                    "the test restore passed, but dropping [{test}] failed: {e}"
                )),
                (Err(e), Ok(())) => Err(e),
                (Err(e), Err(d)) => Err(format!("{e}; dropping [{test}] failed too: {d}")),
            }
        })
    }
}

/// Runs one statement to its end; the first SQL Server error fails it.
async fn run(connection: &mut Connection, statement: &str) -> Result<(), String> {
    let stream = connection
        .simple_query(statement)
        .await
        .map_err(|e| describe(&e))?;
    stream.into_results().await.map_err(|e| describe(&e))?;
    Ok(())
}

/// fsyncs what SQL Server wrote at `temp`, hashes it and renames it to `local`.
fn seal(temp: &Path, local: &Path) -> Result<Written, String> {
    let file = std::fs::File::open(temp).map_err(|e| {
        format!(
            "SQL Server reported success, but {} cannot be opened ({e}): are the store's path and sql-path the same folder?",
            temp.display()
        )
    })?;
    crate::platform::sync_path(temp)
        .map_err(|e| format!("cannot fsync {}: {e}", temp.display()))?;
    let bytes = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", temp.display()))?
        .len();
    drop(file);
    let sha256 =
        hash::sha256_file(temp).map_err(|e| format!("cannot read {}: {e}", temp.display()))?;
    super::handle::rename_new_path(temp, local).map_err(|e| {
        format!(
            "cannot rename {} to {}: {e}",
            temp.display(),
            local.display()
        )
    })?;
    if let Some(dir) = local.parent() {
        atomic::sync_dir(dir).map_err(|e| format!("cannot fsync {}: {e}", dir.display()))?;
    }
    Ok(Written { bytes, sha256 })
}

fn backup_statement(database: &str, backup_type: &str, disk: &str) -> String {
    let (verb, options) = match backup_type {
        "log" => ("LOG", "CHECKSUM, INIT, STATS = 5"),
        "diff" => ("DATABASE", "DIFFERENTIAL, CHECKSUM, INIT, STATS = 5"),
        _ => ("DATABASE", "CHECKSUM, INIT, STATS = 5"),
    };
    format!(
        "BACKUP {verb} [{}] TO DISK = N'{}' WITH {options}",
        name(database),
        text(disk)
    )
}

/// A name inside `[...]`.
fn name(name: &str) -> String {
    name.replace(']', "]]")
}

/// Text inside `N'...'`.
fn text(text: &str) -> String {
    text.replace('\'', "''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_quote_names_and_paths() {
        assert_eq!(
            backup_statement("o]dd", "log", r"\\bk\it's\x.trn"),
            r"BACKUP LOG [o]]dd] TO DISK = N'\\bk\it''s\x.trn' WITH CHECKSUM, INIT, STATS = 5"
        );
        assert_eq!(
            backup_statement("rtc", "diff", r"D:\b.bak"),
            r"BACKUP DATABASE [rtc] TO DISK = N'D:\b.bak' WITH DIFFERENTIAL, CHECKSUM, INIT, STATS = 5"
        );
    }
}
