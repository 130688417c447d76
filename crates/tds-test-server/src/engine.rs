//! Executes recognised statements against the catalog the way SQL Server would: discovery
//! result sets, BACKUP/RESTORE with real files through the path mapping, and SQL Server's own
//! error numbers and texts when it would refuse. Returns messages and rows, never bytes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::ErrorKind;

use crate::catalog::{
    BackupSet, BackupType, Catalog, Database, DatabaseFile, RecoveryModel, RestoreHistory,
};
use crate::media::{self, MediaFile, MediaHeader};
use crate::protocol::{Column, ResultSet, SqlType, Value};
use crate::release::Release;
use crate::sql::{BackupStatement, Query, RestoreStatement, SqlError, Statement};

/// A message of one statement, in the order SQL Server sends them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Notice {
    Info(SqlError),
    Error(SqlError),
}

#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) notices: Vec<Notice>,
    pub(crate) result: Option<ResultSet>,
    /// `USE` switched the database.
    pub(crate) new_database: Option<String>,
    pub(crate) nocount: Option<bool>,
}

impl Outcome {
    pub(crate) fn failed(&self) -> bool {
        self.notices.iter().any(|n| matches!(n, Notice::Error(_)))
    }

    fn errors(errors: Vec<SqlError>) -> Self {
        Outcome {
            notices: errors.into_iter().map(Notice::Error).collect(),
            ..Outcome::default()
        }
    }

    fn info(&mut self, number: u32, text: String) {
        self.notices
            .push(Notice::Info(SqlError::new(number, 1, 0, text)));
    }
}

pub(crate) fn execute(
    catalog: &mut Catalog,
    statement: &Statement,
    params: &[(String, crate::protocol::ParamValue)],
    fail_backups: bool,
) -> Outcome {
    match statement {
        Statement::Query(query) => run_query(catalog, *query, params),
        Statement::SelectOne => Outcome {
            result: Some(ResultSet {
                columns: vec![Column::new("", SqlType::Int)],
                rows: vec![vec![Value::Int(1)]],
            }),
            ..Outcome::default()
        },
        Statement::ServerProperty(properties) => server_property(catalog, properties),
        Statement::Backup(b) => backup(catalog, b, fail_backups),
        Statement::VerifyOnly { disk, checksum } => verify_only(catalog, disk, *checksum),
        Statement::Restore(r) => restore(catalog, r),
        Statement::AlterRecovery { database, model } => alter_recovery(catalog, database, *model),
        Statement::CheckDb {
            database,
            no_infomsgs,
        } => check_db(catalog, database, *no_infomsgs),
        Statement::DropDatabase { databases } => drop_databases(catalog, databases),
        Statement::Use { database } => match catalog.database(database) {
            Some(db) => Outcome {
                new_database: Some(db.name.clone()),
                ..Outcome::default()
            },
            None => Outcome::errors(vec![no_such_database(database)]),
        },
        Statement::SetOption { option, on } => Outcome {
            nocount: option.eq_ignore_ascii_case("NOCOUNT").then_some(*on),
            ..Outcome::default()
        },
    }
}

fn no_such_database(name: &str) -> SqlError {
    SqlError::new(
        911,
        1,
        16,
        format!("Database '{name}' does not exist. Make sure that the name is entered correctly."),
    )
}

fn terminating(verb: &str) -> SqlError {
    SqlError::new(3013, 1, 16, format!("{verb} is terminating abnormally."))
}

fn cannot_open_device(path: &str, os_error: u32, os_text: &str) -> SqlError {
    SqlError::new(
        3201,
        1,
        16,
        format!(
            "Cannot open backup device '{path}'. Operating system error {os_error}({os_text})."
        ),
    )
}

fn path_not_found(path: &str) -> SqlError {
    if path.starts_with("\\\\") && path.matches('\\').count() <= 3 {
        cannot_open_device(path, 53, "The network path was not found.")
    } else {
        cannot_open_device(path, 3, "The system cannot find the path specified.")
    }
}

fn ci_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase().cmp(&b.to_lowercase())
}

fn nvarchar(s: &str) -> Value {
    Value::Str(s.to_string())
}

fn lsn(v: u128) -> Value {
    Value::Numeric(v)
}

/// `SERVERPROPERTY` as the release the server plays answers it. SQL Server sends
/// `sql_variant`; this server sends `nvarchar(128)`, which every client reads as text.
fn server_property(catalog: &Catalog, properties: &[(String, String)]) -> Outcome {
    let release = Release::of(&catalog.server);
    let server = &catalog.server;
    let (machine, instance) = match server.name.split_once('\\') {
        Some((machine, instance)) => (machine, Some(instance)),
        None => (server.name.as_str(), None),
    };
    let value = |name: &str| -> Value {
        match name.to_ascii_lowercase().as_str() {
            "productversion" => nvarchar(&server.product_version),
            "productlevel" => nvarchar(release.product_level()),
            "edition" => nvarchar("Standard Edition (64-bit)"),
            "engineedition" => nvarchar("2"),
            "servername" => nvarchar(&server.name),
            "machinename" => nvarchar(machine),
            "instancename" => instance.map_or(Value::Null, nvarchar),
            // SERVERPROPERTY answers NULL for a name it does not know.
            _ => Value::Null,
        }
    };
    Outcome {
        result: Some(ResultSet {
            columns: properties
                .iter()
                .map(|(_, column)| Column::new(column, SqlType::NVarChar(128)))
                .collect(),
            rows: vec![properties.iter().map(|(name, _)| value(name)).collect()],
        }),
        ..Outcome::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery queries
// ---------------------------------------------------------------------------------------------

fn run_query(
    catalog: &Catalog,
    query: Query,
    params: &[(String, crate::protocol::ParamValue)],
) -> Outcome {
    let result = match query {
        Query::Version => ResultSet {
            columns: vec![
                Column::new("version", SqlType::NVarChar(300)),
                Column::new("utc_offset_minutes", SqlType::Int),
            ],
            rows: vec![vec![
                nvarchar(&catalog.server.version_string),
                Value::Int(i64::from(catalog.server.utc_offset_minutes)),
            ]],
        },
        Query::Databases => {
            let mut dbs: Vec<&Database> = catalog.databases.iter().collect();
            dbs.sort_by(|a, b| ci_cmp(&a.name, &b.name));
            ResultSet {
                columns: vec![
                    Column::new("name", SqlType::NVarChar(128)),
                    Column::new("database_id", SqlType::Int),
                    Column::new("state_desc", SqlType::NVarChar(60)),
                    Column::new("recovery_model_desc", SqlType::NVarChar(60)),
                    Column::new("log_chain", SqlType::Bit),
                    Column::new("last_log_backup_lsn", SqlType::Numeric(25)),
                ],
                rows: dbs
                    .iter()
                    .map(|d| {
                        vec![
                            nvarchar(&d.name),
                            Value::Int(i64::from(d.database_id)),
                            nvarchar(&d.state_desc),
                            nvarchar(d.recovery_model_desc.as_str()),
                            Value::Bit(d.last_log_backup_lsn.is_some()),
                            d.last_log_backup_lsn.map_or(Value::Null, lsn),
                        ]
                    })
                    .collect(),
            }
        }
        Query::Files => {
            let mut dbs: Vec<&Database> = catalog.databases.iter().collect();
            dbs.sort_by_key(|d| d.database_id);
            ResultSet {
                columns: vec![
                    Column::new("database_name", SqlType::NVarChar(128)),
                    Column::new("database_id", SqlType::Int),
                    Column::new("logical_name", SqlType::NVarChar(128)),
                    Column::new("type_desc", SqlType::NVarChar(60)),
                    Column::new("physical_name", SqlType::NVarChar(260)),
                    Column::new("size", SqlType::Int),
                ],
                rows: dbs
                    .iter()
                    .flat_map(|d| {
                        d.files.iter().map(move |f| {
                            vec![
                                nvarchar(&d.name),
                                Value::Int(i64::from(d.database_id)),
                                nvarchar(&f.name),
                                nvarchar(&f.type_desc),
                                nvarchar(&f.physical_name),
                                Value::Int(i64::from(f.size)),
                            ]
                        })
                    })
                    .collect(),
            }
        }
        Query::BackupHistory | Query::BackupHistory2005 => {
            if query == Query::BackupHistory && catalog.server.major_version() < 10 {
                return Outcome::errors(vec![SqlError::new(
                    207,
                    1,
                    16,
                    "Invalid column name 'compressed_backup_size'.",
                )]);
            }
            let keep = params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("@P1"))
                .and_then(|(_, v)| match v {
                    crate::protocol::ParamValue::Int(i) => Some(*i),
                    _ => None,
                });
            let Some(keep) = keep else {
                return Outcome::errors(vec![SqlError::new(
                    245,
                    1,
                    16,
                    "Conversion failed when converting the nvarchar value to data type int.",
                )]);
            };
            backup_history(catalog, keep)
        }
        Query::RestoreHistory => restore_history(catalog),
    };
    Outcome {
        result: Some(result),
        ..Outcome::default()
    }
}

fn backup_history(catalog: &Catalog, keep: i64) -> ResultSet {
    let mut sets: Vec<&BackupSet> = catalog.backups.iter().collect();
    // Lower-cased once per set, not once per comparison: histories of the benchmark have
    // hundreds of thousands of sets.
    sets.sort_by_cached_key(|b| {
        (
            b.database_name.to_lowercase(),
            b.backup_type.code(),
            std::cmp::Reverse(b.last_lsn),
        )
    });
    let compressed_column = catalog.server.major_version() >= 10;
    let mut rows = Vec::new();
    let mut rank = 0i64;
    let mut group: Option<(String, char)> = None;
    for b in sets {
        let key = (b.database_name.to_lowercase(), b.backup_type.code());
        if group.as_ref() == Some(&key) {
            rank += 1;
        } else {
            group = Some(key);
            rank = 1;
        }
        if rank > keep {
            continue;
        }
        rows.push(vec![
            Value::Int(i64::from(b.backup_set_id)),
            nvarchar(&b.database_name),
            Value::Str(b.backup_type.code().to_string()),
            Value::DateTime(b.backup_start_date.0),
            Value::DateTime(b.backup_finish_date.0),
            lsn(b.first_lsn),
            lsn(b.last_lsn),
            lsn(b.database_backup_lsn),
            b.has_backup_checksums.map_or(Value::Null, Value::Bit),
            b.is_copy_only.map_or(Value::Null, Value::Bit),
            Value::Numeric(b.backup_size),
            if compressed_column {
                b.compressed_backup_size.map_or(Value::Null, Value::Numeric)
            } else {
                Value::Null
            },
            nvarchar(&b.physical_device_name),
            lsn(b.checkpoint_lsn.unwrap_or(b.first_lsn)),
            b.fork_point_lsn.map_or(Value::Null, lsn),
            nvarchar(
                &b.database_guid
                    .clone()
                    .unwrap_or_else(|| BackupSet::guid_of(&b.database_name)),
            ),
            nvarchar(
                &b.family_guid
                    .clone()
                    .unwrap_or_else(|| BackupSet::guid_of(&b.database_name)),
            ),
            Value::Int(i64::from(b.position.unwrap_or(1))),
            Value::Int(i64::from(b.family_sequence_number.unwrap_or(1))),
            Value::Int(i64::from(b.media_family_count.unwrap_or(1))),
        ]);
    }
    ResultSet {
        columns: vec![
            Column::new("backup_set_id", SqlType::Int),
            Column::new("database_name", SqlType::NVarChar(128)),
            Column::new("type", SqlType::Char(1)),
            Column::new("backup_start_date", SqlType::DateTime),
            Column::new("backup_finish_date", SqlType::DateTime),
            Column::new("first_lsn", SqlType::Numeric(25)),
            Column::new("last_lsn", SqlType::Numeric(25)),
            Column::new("database_backup_lsn", SqlType::Numeric(25)),
            Column::new("has_backup_checksums", SqlType::Bit),
            Column::new("is_copy_only", SqlType::Bit),
            Column::new("backup_size", SqlType::Numeric(20)),
            Column::new("compressed_backup_size", SqlType::Numeric(20)),
            Column::new("physical_device_name", SqlType::NVarChar(260)),
            Column::new("checkpoint_lsn", SqlType::Numeric(25)),
            Column::new("fork_point_lsn", SqlType::Numeric(25)),
            Column::new("database_guid", SqlType::NVarChar(36)),
            Column::new("family_guid", SqlType::NVarChar(36)),
            Column::new("position", SqlType::Int),
            Column::new("family_sequence_number", SqlType::Int),
            Column::new("media_family_count", SqlType::Int),
        ],
        rows,
    }
}

fn restore_history(catalog: &Catalog) -> ResultSet {
    // Keyed by the lower-cased destination, so the result comes out in case-insensitive
    // name order.
    let mut latest: BTreeMap<String, &RestoreHistory> = BTreeMap::new();
    for r in &catalog.restores {
        latest
            .entry(r.destination_database_name.to_lowercase())
            .and_modify(|l| {
                if (r.restore_date, r.restore_history_id) > (l.restore_date, l.restore_history_id) {
                    *l = r;
                }
            })
            .or_insert(r);
    }
    let wanted: HashSet<i32> = latest.values().filter_map(|r| r.backup_set_id).collect();
    let sources: HashMap<i32, &BackupSet> = catalog
        .backups
        .iter()
        .filter(|b| wanted.contains(&b.backup_set_id))
        .map(|b| (b.backup_set_id, b))
        .collect();
    let rows = latest
        .values()
        .map(|r| {
            let source = r.backup_set_id.and_then(|id| sources.get(&id).copied());
            vec![
                Value::Int(i64::from(r.restore_history_id)),
                nvarchar(&r.destination_database_name),
                Value::DateTime(r.restore_date.0),
                if r.restore_type.is_empty() {
                    Value::Null
                } else {
                    Value::Str(r.restore_type.clone())
                },
                source.map_or(Value::Null, |b| nvarchar(&b.database_name)),
                source.map_or(Value::Null, |b| Value::DateTime(b.backup_finish_date.0)),
            ]
        })
        .collect();
    ResultSet {
        columns: vec![
            Column::new("restore_history_id", SqlType::Int),
            Column::new("destination_database_name", SqlType::NVarChar(128)),
            Column::new("restore_date", SqlType::DateTime),
            Column::new("restore_type", SqlType::Char(1)),
            Column::new("source_database_name", SqlType::NVarChar(128)),
            Column::new("source_backup_finish_date", SqlType::DateTime),
        ],
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// BACKUP
// ---------------------------------------------------------------------------------------------

/// LSN distance between two consecutive backups of the same database.
const LSN_STEP: u128 = 100_000_000_000;
/// Assumed throughput for the durations SQL Server reports (and the clock advances by).
const MB_PER_SECOND: f64 = 40.0;

#[allow(clippy::cast_possible_truncation)] // a few seconds at most
fn duration_ms(pages: u32) -> i64 {
    let mb = f64::from(pages) * 8.0 / 1024.0;
    ((mb / MB_PER_SECOND) * 1000.0).round().max(3.0) as i64
}

#[allow(clippy::cast_precision_loss)] // milliseconds of a short backup
fn speed_text(verb: &str, pages: u32) -> String {
    let ms = duration_ms(pages);
    let secs = ms as f64 / 1000.0;
    let mb = f64::from(pages) * 8.0 / 1024.0;
    format!(
        "{verb} successfully processed {pages} pages in {secs:.3} seconds ({:.3} MB/sec).",
        mb / secs
    )
}

fn backup(catalog: &mut Catalog, b: &BackupStatement, fail_backups: bool) -> Outcome {
    let verb = match b.backup_type {
        BackupType::Log => "BACKUP LOG",
        _ => "BACKUP DATABASE",
    };
    let fail = |e: SqlError| Outcome::errors(vec![e, terminating(verb)]);
    let Some(db) = catalog.database(&b.database).cloned() else {
        return fail(no_such_database(&b.database));
    };
    if db.state_desc.eq_ignore_ascii_case("RESTORING") {
        return fail(SqlError::new(
            927,
            2,
            14,
            format!(
                "Database '{}' cannot be opened. It is in the middle of a restore.",
                db.name
            ),
        ));
    }
    if fail_backups {
        return fail(path_not_found(&b.disk));
    }
    let last_full = catalog
        .backups
        .iter()
        .filter(|s| {
            s.database_name.eq_ignore_ascii_case(&db.name)
                && s.backup_type == BackupType::Full
                && s.is_copy_only != Some(true)
        })
        .max_by_key(|s| s.last_lsn)
        .cloned();
    match b.backup_type {
        BackupType::Log => {
            if db.recovery_model_desc == RecoveryModel::Simple {
                return fail(SqlError::new(
                    4208,
                    1,
                    16,
                    "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or change the recovery model using ALTER DATABASE.",
                ));
            }
            if db.last_log_backup_lsn.is_none() {
                return fail(SqlError::new(
                    4214,
                    1,
                    16,
                    "BACKUP LOG cannot be performed because there is no current database backup.",
                ));
            }
        }
        BackupType::Differential => {
            if last_full.is_none() {
                return fail(SqlError::new(
                    3035,
                    1,
                    16,
                    format!(
                        "Cannot perform a differential backup for database \"{}\", because a current database backup does not exist. Perform a full database backup by reissuing BACKUP DATABASE, omitting the WITH DIFFERENTIAL option.",
                        db.name
                    ),
                ));
            }
        }
        BackupType::Full => {}
    }
    let Some((local, mapping)) = catalog.map_path(&b.disk) else {
        return fail(path_not_found(&b.disk));
    };
    let create_dirs = mapping.create_dirs;
    let root_exists = mapping.local_dir.is_dir();
    if let Some(parent) = local.parent()
        && !parent.is_dir()
        && (!(create_dirs && root_exists) || std::fs::create_dir_all(parent).is_err())
    {
        return fail(cannot_open_device(
            &b.disk,
            3,
            "The system cannot find the path specified.",
        ));
    }

    // Work happened since the last backup: the new one starts past everything seen so far.
    let start_lsn = catalog.current_lsn(&db.name) + LSN_STEP / 10;
    let last_lsn = start_lsn + LSN_STEP;
    let data_pages: u32 = db
        .files
        .iter()
        .filter(|f| f.type_desc.eq_ignore_ascii_case("ROWS"))
        .map(|f| u32::try_from(f.size).unwrap_or(0))
        .sum();
    let log_file = db
        .files
        .iter()
        .find(|f| f.type_desc.eq_ignore_ascii_case("LOG"));
    let (first_lsn, database_backup_lsn, pages) = match b.backup_type {
        BackupType::Full => (
            start_lsn,
            last_full.as_ref().map_or(0, |f| f.first_lsn),
            data_pages.max(8) + 2,
        ),
        BackupType::Differential => (
            start_lsn,
            last_full.as_ref().map_or(0, |f| f.first_lsn),
            (data_pages / 10).max(8) + 2,
        ),
        BackupType::Log => (
            db.last_log_backup_lsn.unwrap_or(start_lsn),
            last_full.as_ref().map_or(0, |f| f.first_lsn),
            120,
        ),
    };
    let started = catalog.now();
    let finished = started.plus_millis(duration_ms(pages));
    let header = MediaHeader {
        backup_type: b.backup_type,
        database_name: db.name.clone(),
        recovery_model: db.recovery_model_desc,
        first_lsn,
        last_lsn,
        database_backup_lsn,
        checksums: b.checksum,
        start: started,
        pages,
        files: db
            .files
            .iter()
            .map(|f| MediaFile {
                logical_name: f.name.clone(),
                type_desc: f.type_desc.clone(),
                physical_name: f.physical_name.clone(),
            })
            .collect(),
    };
    let bytes = media::encode(&header);
    if let Err(e) = std::fs::write(&local, &bytes) {
        return fail(match e.kind() {
            ErrorKind::NotFound => {
                cannot_open_device(&b.disk, 3, "The system cannot find the path specified.")
            }
            _ => cannot_open_device(&b.disk, 5, "Access is denied."),
        });
    }

    let size = bytes.len() as u128;
    let backup_set_id = catalog.next_backup_set_id();
    catalog.backups.push(BackupSet {
        backup_set_id,
        database_name: db.name.clone(),
        backup_type: b.backup_type,
        backup_start_date: started,
        backup_finish_date: finished,
        first_lsn,
        last_lsn,
        database_backup_lsn,
        has_backup_checksums: Some(b.checksum),
        is_copy_only: Some(b.copy_only),
        backup_size: size,
        compressed_backup_size: Some(size),
        physical_device_name: b.disk.clone(),
        checkpoint_lsn: None,
        fork_point_lsn: None,
        database_guid: None,
        family_guid: None,
        position: None,
        family_sequence_number: None,
        media_family_count: None,
    });
    catalog.advance_clock(finished);
    if let Some(d) = catalog.database_mut(&db.name) {
        d.current_lsn = Some(last_lsn);
        match b.backup_type {
            // A full backup starts the log chain in FULL/BULK_LOGGED (copy-only ones do not).
            BackupType::Full
                if d.recovery_model_desc != RecoveryModel::Simple
                    && !b.copy_only
                    && d.last_log_backup_lsn.is_none() =>
            {
                d.last_log_backup_lsn = Some(first_lsn);
            }
            BackupType::Log if !b.copy_only => d.last_log_backup_lsn = Some(last_lsn),
            _ => {}
        }
    }

    let mut out = Outcome::default();
    if let Some(every) = b.stats {
        for percent in (every..=100).step_by(every as usize) {
            out.info(3211, format!("{percent} percent processed."));
        }
    }
    if b.backup_type == BackupType::Log {
        let name = log_file.map_or_else(|| format!("{}_log", db.name), |f| f.name.clone());
        out.info(
            4035,
            format!(
                "Processed {pages} pages for database '{}', file '{name}' on file 1.",
                db.name
            ),
        );
        out.info(3014, speed_text("BACKUP LOG", pages));
    } else {
        for f in db
            .files
            .iter()
            .filter(|f| f.type_desc.eq_ignore_ascii_case("ROWS"))
        {
            let file_pages = if b.backup_type == BackupType::Full {
                f.size.max(8)
            } else {
                (f.size / 10).max(8)
            };
            out.info(
                4035,
                format!(
                    "Processed {file_pages} pages for database '{}', file '{}' on file 1.",
                    db.name, f.name
                ),
            );
        }
        if let Some(f) = log_file {
            out.info(
                4035,
                format!(
                    "Processed 2 pages for database '{}', file '{}' on file 1.",
                    db.name, f.name
                ),
            );
        }
        let verb = if b.backup_type == BackupType::Full {
            "BACKUP DATABASE"
        } else {
            "BACKUP DATABASE WITH DIFFERENTIAL"
        };
        out.info(3014, speed_text(verb, pages));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// RESTORE VERIFYONLY / RESTORE DATABASE / RESTORE LOG
// ---------------------------------------------------------------------------------------------

/// Reads and checks a backup file the way RESTORE opens its device.
fn open_media(catalog: &Catalog, disk: &str) -> Result<MediaHeader, SqlError> {
    let Some((local, _)) = catalog.map_path(disk) else {
        return Err(path_not_found(disk));
    };
    let bytes = std::fs::read(&local).map_err(|e| match e.kind() {
        ErrorKind::NotFound if local.parent().is_some_and(std::path::Path::is_dir) => {
            cannot_open_device(disk, 2, "The system cannot find the file specified.")
        }
        ErrorKind::NotFound => {
            cannot_open_device(disk, 3, "The system cannot find the path specified.")
        }
        _ => cannot_open_device(disk, 5, "Access is denied."),
    })?;
    media::decode(&bytes).ok_or_else(|| {
        SqlError::new(
            3241,
            0,
            16,
            format!("The media family on device '{disk}' is incorrectly formed. SQL Server cannot process this media family."),
        )
    })
}

fn no_checksums() -> SqlError {
    SqlError::new(
        3187,
        1,
        16,
        "RESTORE WITH CHECKSUM cannot be specified because the backup set does not contain checksum information.",
    )
}

fn verify_only(catalog: &Catalog, disk: &str, checksum: bool) -> Outcome {
    let verb = "VERIFY DATABASE";
    match open_media(catalog, disk) {
        Err(e) => Outcome::errors(vec![e, terminating(verb)]),
        Ok(h) if checksum && !h.checksums => {
            Outcome::errors(vec![no_checksums(), terminating(verb)])
        }
        Ok(_) => {
            let mut out = Outcome::default();
            out.info(3262, "The backup set on file 1 is valid.".to_string());
            out
        }
    }
}

fn restore(catalog: &mut Catalog, r: &RestoreStatement) -> Outcome {
    let verb = if r.log {
        "RESTORE LOG"
    } else {
        "RESTORE DATABASE"
    };
    let fail = |errors: Vec<SqlError>| {
        let mut errors = errors;
        errors.push(terminating(verb));
        Outcome::errors(errors)
    };
    let not_ready = || {
        SqlError::new(
            3117,
            1,
            16,
            "The log or differential backup cannot be restored because no files are ready to rollforward.",
        )
    };
    let target = catalog.database(&r.database).cloned();
    let restoring = target
        .as_ref()
        .is_some_and(|t| t.state_desc.eq_ignore_ascii_case("RESTORING"));

    let Some(disk) = &r.disk else {
        // RESTORE DATABASE x WITH RECOVERY: finish a restore sequence.
        return match (target, r.recovery) {
            (Some(t), true) if restoring => {
                if let Some(d) = catalog.database_mut(&t.name) {
                    d.state_desc = "ONLINE".to_string();
                    d.redo_lsn = None;
                    d.restored_base_lsn = None;
                }
                let mut out = Outcome::default();
                out.info(3014, speed_text(verb, 0));
                out
            }
            (Some(_), true) => fail(vec![SqlError::new(
                3153,
                2,
                16,
                "The database is already fully recovered.",
            )]),
            (None, _) => fail(vec![no_such_database(&r.database)]),
            (Some(_), false) => fail(vec![not_ready()]),
        };
    };
    let header = match open_media(catalog, disk) {
        Ok(h) => h,
        Err(e) => return fail(vec![e]),
    };
    if r.checksum && !header.checksums {
        return fail(vec![no_checksums()]);
    }
    match (r.log, header.backup_type) {
        (true, BackupType::Log) | (false, BackupType::Full | BackupType::Differential) => {}
        (true, _) => {
            return fail(vec![SqlError::new(
                3135,
                2,
                16,
                format!(
                    "The backup set in file '{disk}' was created by BACKUP DATABASE and cannot be used for this restore operation."
                ),
            )]);
        }
        (false, _) => {
            return fail(vec![SqlError::new(
                3135,
                2,
                16,
                format!(
                    "The backup set in file '{disk}' was created by BACKUP LOG and cannot be used for this restore operation."
                ),
            )]);
        }
    }

    let now = catalog.now();
    let name = target
        .as_ref()
        .map_or_else(|| r.database.clone(), |t| t.name.clone());
    match header.backup_type {
        BackupType::Full => {
            if let Some(t) = &target
                && !r.replace
                && !restoring
            {
                if !t.name.eq_ignore_ascii_case(&header.database_name) {
                    return fail(vec![SqlError::new(
                        3154,
                        4,
                        16,
                        format!(
                            "The backup set holds a backup of a database other than the existing '{}' database.",
                            t.name
                        ),
                    )]);
                }
                return fail(vec![SqlError::new(
                    3159,
                    1,
                    16,
                    format!(
                        "The tail of the log for the database \"{}\" has not been backed up. Use BACKUP LOG WITH NORECOVERY to backup the log if it contains work you do not want to lose. Use the WITH REPLACE or WITH STOPAT clause of the RESTORE statement to just overwrite the contents of the log.",
                        t.name
                    ),
                )]);
            }
            for (logical, _) in &r.moves {
                if !header
                    .files
                    .iter()
                    .any(|f| f.logical_name.eq_ignore_ascii_case(logical))
                {
                    return fail(vec![SqlError::new(
                        3234,
                        2,
                        16,
                        format!(
                            "Logical file '{logical}' is not part of database '{name}'. Use RESTORE FILELISTONLY to list the logical file names."
                        ),
                    )]);
                }
            }
            let files: Vec<DatabaseFile> = header
                .files
                .iter()
                .map(|f| DatabaseFile {
                    name: f.logical_name.clone(),
                    type_desc: f.type_desc.clone(),
                    physical_name: r
                        .moves
                        .iter()
                        .find(|(l, _)| l.eq_ignore_ascii_case(&f.logical_name))
                        .map_or_else(|| f.physical_name.clone(), |(_, to)| to.clone()),
                    size: i32::try_from(header.pages).unwrap_or(i32::MAX),
                })
                .collect();
            // Never overwrite another database's files: the classic forgotten WITH MOVE.
            for f in &files {
                let owner = catalog.databases.iter().find(|d| {
                    !d.name.eq_ignore_ascii_case(&name)
                        && d.files
                            .iter()
                            .any(|o| o.physical_name.eq_ignore_ascii_case(&f.physical_name))
                });
                if let Some(owner) = owner {
                    return fail(vec![
                        SqlError::new(
                            1834,
                            1,
                            16,
                            format!(
                                "The file '{}' cannot be overwritten.  It is being used by database '{}'.",
                                f.physical_name, owner.name
                            ),
                        ),
                        SqlError::new(
                            3156,
                            4,
                            16,
                            format!(
                                "File '{}' cannot be restored to '{}'. Use WITH MOVE to identify a valid location for the file.",
                                f.name, f.physical_name
                            ),
                        ),
                        SqlError::new(
                            3119,
                            1,
                            16,
                            "Problems were identified while planning for the RESTORE statement. Previous messages provide details.",
                        ),
                    ]);
                }
            }
            let database_id = target
                .as_ref()
                .map_or_else(|| catalog.next_database_id(), |t| t.database_id);
            catalog
                .databases
                .retain(|d| !d.name.eq_ignore_ascii_case(&name));
            catalog.databases.push(Database {
                name: name.clone(),
                database_id,
                state_desc: if r.recovery { "ONLINE" } else { "RESTORING" }.to_string(),
                recovery_model_desc: header.recovery_model,
                last_log_backup_lsn: None,
                files,
                current_lsn: Some(header.last_lsn),
                redo_lsn: (!r.recovery).then_some(header.last_lsn),
                restored_base_lsn: (!r.recovery).then_some(header.first_lsn),
            });
        }
        BackupType::Differential | BackupType::Log => {
            let Some(t) = target.filter(|_| restoring) else {
                return fail(vec![not_ready()]);
            };
            if header.backup_type == BackupType::Differential {
                if t.restored_base_lsn != Some(header.database_backup_lsn) {
                    return fail(vec![SqlError::new(
                        3136,
                        1,
                        16,
                        "This differential backup cannot be restored because the database has not been restored to the correct earlier state.",
                    )]);
                }
            } else {
                let redo = t.redo_lsn.unwrap_or(0);
                if header.first_lsn > redo {
                    return fail(vec![SqlError::new(
                        4305,
                        1,
                        16,
                        format!(
                            "The log in this backup set begins at LSN {}, which is too recent to apply to the database. An earlier log backup that includes LSN {redo} can be restored.",
                            header.first_lsn
                        ),
                    )]);
                }
                if header.last_lsn < redo {
                    return fail(vec![SqlError::new(
                        4326,
                        1,
                        16,
                        format!(
                            "The log in this backup set terminates at LSN {}, which is too early to apply to the database. A more recent log backup that includes LSN {redo} can be restored.",
                            header.last_lsn
                        ),
                    )]);
                }
            }
            if let Some(d) = catalog.database_mut(&t.name) {
                d.redo_lsn = Some(header.last_lsn);
                d.current_lsn = Some(header.last_lsn);
            }
        }
    }
    if let Some(d) = catalog.database_mut(&name) {
        if r.recovery {
            d.state_desc = "ONLINE".to_string();
            d.redo_lsn = None;
            d.restored_base_lsn = None;
            if d.recovery_model_desc != RecoveryModel::Simple {
                d.last_log_backup_lsn = Some(header.last_lsn);
            }
        } else {
            d.state_desc = "RESTORING".to_string();
        }
    }

    let backup_set_id = catalog
        .backups
        .iter()
        .filter(|b| b.physical_device_name.eq_ignore_ascii_case(disk))
        .max_by_key(|b| b.backup_set_id)
        .map(|b| b.backup_set_id);
    let restore_history_id = catalog.next_restore_history_id();
    catalog.restores.push(RestoreHistory {
        restore_history_id,
        destination_database_name: name.clone(),
        restore_date: now,
        restore_type: header.backup_type.code().to_string(),
        backup_set_id,
    });
    catalog.advance_clock(now.plus_millis(duration_ms(header.pages)));

    let mut out = Outcome::default();
    for f in &header.files {
        let pages = if f.type_desc.eq_ignore_ascii_case("LOG") {
            2
        } else {
            header.pages.saturating_sub(2)
        };
        if header.backup_type == BackupType::Log && !f.type_desc.eq_ignore_ascii_case("LOG") {
            continue;
        }
        out.info(
            4035,
            format!(
                "Processed {pages} pages for database '{name}', file '{}' on file 1.",
                f.logical_name
            ),
        );
    }
    out.info(3014, speed_text(verb, header.pages));
    out
}

// ---------------------------------------------------------------------------------------------
// ALTER DATABASE, DBCC CHECKDB, DROP DATABASE
// ---------------------------------------------------------------------------------------------

fn alter_recovery(catalog: &mut Catalog, database: &str, model: RecoveryModel) -> Outcome {
    let Some(db) = catalog.database_mut(database) else {
        return Outcome::errors(vec![
            SqlError::new(
                5011,
                5,
                14,
                format!(
                    "User does not have permission to alter database '{database}', the database does not exist, or the database is not in a state that allows access checks."
                ),
            ),
            SqlError::new(5069, 1, 16, "ALTER DATABASE statement failed."),
        ]);
    };
    db.recovery_model_desc = model;
    // Switching to SIMPLE truncates the log: the chain is broken until the next full backup.
    if model == RecoveryModel::Simple {
        db.last_log_backup_lsn = None;
    }
    Outcome::default()
}

fn check_db(catalog: &Catalog, database: &str, no_infomsgs: bool) -> Outcome {
    let Some(db) = catalog.database(database) else {
        return Outcome::errors(vec![SqlError::new(
            2520,
            11,
            16,
            format!(
                "Could not find database '{database}'. The database either does not exist, or was dropped before a statement tried to use it. Verify if the database exists by querying the sys.databases catalog view."
            ),
        )]);
    };
    if !db.state_desc.eq_ignore_ascii_case("ONLINE") {
        return Outcome::errors(vec![SqlError::new(
            927,
            2,
            14,
            format!(
                "Database '{}' cannot be opened. It is in the middle of a restore.",
                db.name
            ),
        )]);
    }
    let mut out = Outcome::default();
    if !no_infomsgs {
        out.info(
            8989,
            format!(
                "CHECKDB found 0 allocation errors and 0 consistency errors in database '{}'.",
                db.name
            ),
        );
        out.info(2528, "DBCC execution completed. If DBCC printed error messages, contact your system administrator.".to_string());
    }
    out
}

fn drop_databases(catalog: &mut Catalog, names: &[String]) -> Outcome {
    let mut out = Outcome::default();
    for name in names {
        if catalog.database(name).is_none() {
            out.notices.push(Notice::Error(SqlError::new(
                3701,
                1,
                11,
                format!("Cannot drop the database '{name}', because it does not exist or you do not have permission."),
            )));
            continue;
        }
        catalog
            .databases
            .retain(|d| !d.name.eq_ignore_ascii_case(name));
    }
    out
}
