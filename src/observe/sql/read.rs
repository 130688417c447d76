//! Runs the discovery queries on one connection and decodes their rows into the
//! observation. Rows are decoded as they stream in, so a large history never sits in memory
//! twice.

use futures_util::TryStreamExt as _;
use jiff::Timestamp;
use tiberius::numeric::Numeric;
use tiberius::{FromSql, Row};

use super::observation::{SqlBackup, SqlDatabase, SqlFile, SqlInstanceObservation, SqlRestore};
use super::queries;
use crate::io::sql::{Connection, describe};

/// One query's rows, each handed to `each` as it arrives.
async fn rows(
    connection: &mut Connection,
    name: &str,
    sql: &str,
    depth: Option<i32>,
    observation: &mut SqlInstanceObservation,
    mut each: impl FnMut(&Row, &mut SqlInstanceObservation) -> Result<(), String>,
) -> Result<(), String> {
    let failed = |e: &tiberius::error::Error| format!("query `{name}` failed: {}", describe(e));
    observation.queries += 1;
    let stream = match depth {
        Some(depth) => connection.query(sql, &[&depth]).await,
        None => connection.simple_query(sql).await,
    }
    .map_err(|e| failed(&e))?;
    let mut stream = stream.into_row_stream();
    while let Some(row) = stream.try_next().await.map_err(|e| failed(&e))? {
        each(&row, observation).map_err(|e| format!("query `{name}`: {e}"))?;
    }
    Ok(())
}

pub(super) async fn everything(
    connection: &mut Connection,
    depth: u32,
    observation: &mut SqlInstanceObservation,
) -> Result<(), String> {
    rows(
        connection,
        "version",
        queries::VERSION,
        None,
        observation,
        |row, o| {
            o.version = Some(text(row, 0)?);
            o.utc_offset_minutes = value::<i32>(row, 1)?;
            Ok(())
        },
    )
    .await?;
    rows(
        connection,
        "databases",
        queries::DATABASES,
        None,
        observation,
        |row, o| {
            o.databases.push(SqlDatabase {
                name: text(row, 0)?,
                state: text(row, 2)?,
                recovery_model: text(row, 3)?,
                log_chain: value::<bool>(row, 4)?,
                files: Vec::new(),
            });
            Ok(())
        },
    )
    .await?;
    // `ORDER BY d.name` and `ORDER BY database_id`: different orders, so look names up.
    let mut index: std::collections::HashMap<String, usize> = observation
        .databases
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.to_lowercase(), i))
        .collect();
    rows(
        connection,
        "files",
        queries::FILES,
        None,
        observation,
        |row, o| {
            let database = text(row, 0)?;
            let file = SqlFile {
                logical_name: text(row, 2)?,
                kind: text(row, 3)?,
                physical_name: text(row, 4)?,
                size_bytes: u64::try_from(value::<i32>(row, 5)?).unwrap_or(0) * 8192,
            };
            if let Some(&i) = index.get(&database.to_lowercase()) {
                o.databases[i].files.push(file);
            }
            Ok(())
        },
    )
    .await?;
    index.clear();
    let (name, sql) = if is_sql_server_2005(observation.version.as_deref()) {
        ("backup_history_2005", queries::BACKUP_HISTORY_2005)
    } else {
        ("backup_history", queries::BACKUP_HISTORY)
    };
    let depth = i32::try_from(depth).unwrap_or(i32::MAX);
    rows(connection, name, sql, Some(depth), observation, |row, o| {
        let offset = o.utc_offset_minutes;
        o.backups.push(SqlBackup {
            database: text(row, 1)?,
            backup_type: match text(row, 2)?.as_str() {
                "D" => "full",
                "I" => "diff",
                "L" => "log",
                other => other.trim(),
            }
            .to_owned(),
            started: time(row, 3, offset)?,
            finished: time(row, 4, offset)?,
            first_lsn: lsn(row, 5)?,
            last_lsn: lsn(row, 6)?,
            database_backup_lsn: lsn(row, 7)?,
            // Both columns are nullable in msdb (rows written by old or third-party tools);
            // NULL is read as "no" for that row, never as a failed discovery.
            checksum: optional::<bool>(row, 8)?.unwrap_or(false),
            copy_only: optional::<bool>(row, 9)?.unwrap_or(false),
            size: bytes(row, 10)?.unwrap_or(0),
            compressed_size: bytes(row, 11)?,
            device: text(row, 12)?,
            checkpoint_lsn: lsn(row, 13)?,
            fork_point_lsn: optional::<Numeric>(row, 14)?.map(|n| n.value().to_string()),
            database_guid: optional::<&str>(row, 15)?.map(str::to_owned),
            family_guid: optional::<&str>(row, 16)?.map(str::to_owned),
            position: count(row, 17)?,
            family_sequence_number: count(row, 18)?,
            media_family_count: count(row, 19)?,
        });
        Ok(())
    })
    .await?;
    rows(
        connection,
        "restore_history",
        queries::RESTORE_HISTORY,
        None,
        observation,
        |row, o| {
            let offset = o.utc_offset_minutes;
            o.restores.push(SqlRestore {
                destination: text(row, 1)?,
                restored_at: time(row, 2, offset)?,
                restore_type: optional::<&str>(row, 3)?.map(str::to_owned),
                source_database: optional::<&str>(row, 4)?.map(str::to_owned),
                source_backup_finished: optional::<chrono::NaiveDateTime>(row, 5)?
                    .map(|t| utc(t, offset)),
            });
            Ok(())
        },
    )
    .await
}

/// `@@VERSION` of SQL Server 2005 (9.x), which lacks `compressed_backup_size`.
fn is_sql_server_2005(version: Option<&str>) -> bool {
    version.is_some_and(|v| v.contains(" - 9.") || v.starts_with("Microsoft SQL Server 2005"))
}

fn optional<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<Option<T>, String> {
    row.try_get::<T, usize>(index).map_err(|e| {
        let column = row.columns().get(index).map_or("?", |c| c.name());
        format!("column {column}: {}", describe(&e))
    })
}

fn value<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, String> {
    optional(row, index)?.ok_or_else(|| {
        let column = row.columns().get(index).map_or("?", |c| c.name());
        format!("column {column} is NULL")
    })
}

fn text(row: &Row, index: usize) -> Result<String, String> {
    value::<&str>(row, index).map(str::to_owned)
}

fn lsn(row: &Row, index: usize) -> Result<String, String> {
    Ok(optional::<Numeric>(row, index)?.map_or_else(|| "0".to_owned(), |n| n.value().to_string()))
}

/// A small positive `int` column (a position, a count); NULL or nonsense reads as 1.
fn count(row: &Row, index: usize) -> Result<u32, String> {
    Ok(optional::<i32>(row, index)?
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(1))
}

fn bytes(row: &Row, index: usize) -> Result<Option<u64>, String> {
    Ok(optional::<Numeric>(row, index)?.map(|n| u64::try_from(n.value()).unwrap_or(0)))
}

fn time(row: &Row, index: usize, offset_minutes: i32) -> Result<Timestamp, String> {
    value::<chrono::NaiveDateTime>(row, index).map(|t| utc(t, offset_minutes))
}

/// A server-local `datetime` as a UTC timestamp.
fn utc(local: chrono::NaiveDateTime, offset_minutes: i32) -> Timestamp {
    let utc = local.and_utc();
    let seconds = utc.timestamp() - i64::from(offset_minutes) * 60;
    let nanos = i32::try_from(utc.timestamp_subsec_nanos()).unwrap_or(0);
    Timestamp::new(seconds, nanos).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_server_times_become_utc() {
        let local = chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
            .and_then(|d| d.and_hms_opt(3, 30, 0))
            .expect("valid date");
        assert_eq!(utc(local, 120).to_string(), "2026-11-21T01:30:00Z");
        assert_eq!(utc(local, -300).to_string(), "2026-11-21T08:30:00Z");
    }

    #[test]
    fn sql_server_2005_is_recognised_by_its_version() {
        assert!(is_sql_server_2005(Some(
            "Microsoft SQL Server 2005 - 9.00.4035.00 (X64)"
        )));
        assert!(!is_sql_server_2005(Some(
            "Microsoft SQL Server 2008 R2 (SP2) - 10.50.4000.0 (X64)"
        )));
        assert!(!is_sql_server_2005(None));
    }
}
