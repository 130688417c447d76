//! The discovery T-SQL, one constant per query. `docs/sql-server.md` shows the same text;
//! a test keeps the two identical. All run on SQL Server 2005 and later, except
//! [`BACKUP_HISTORY`], which reads a 2008 column: 2005 gets [`BACKUP_HISTORY_2005`].

pub const VERSION: &str = "\
/* standby:version */
SELECT @@VERSION AS version,
       DATEDIFF(minute, GETUTCDATE(), GETDATE()) AS utc_offset_minutes;
";

pub const DATABASES: &str = "\
/* standby:databases */
SELECT d.name,
       d.database_id,
       d.state_desc,
       d.recovery_model_desc,
       CAST(CASE WHEN drs.last_log_backup_lsn IS NULL THEN 0 ELSE 1 END AS bit) AS log_chain,
       drs.last_log_backup_lsn
FROM sys.databases AS d
LEFT JOIN sys.database_recovery_status AS drs ON drs.database_id = d.database_id
ORDER BY d.name;
";

pub const FILES: &str = "\
/* standby:files */
SELECT DB_NAME(mf.database_id) AS database_name,
       mf.database_id,
       mf.name AS logical_name,
       mf.type_desc,
       mf.physical_name,
       mf.size
FROM sys.master_files AS mf
ORDER BY mf.database_id, mf.file_id;
";

pub const BACKUP_HISTORY: &str = "\
/* standby:backup_history */
WITH ranked AS (
    SELECT bs.backup_set_id,
           bs.database_name,
           bs.type,
           bs.backup_start_date,
           bs.backup_finish_date,
           bs.first_lsn,
           bs.last_lsn,
           bs.database_backup_lsn,
           bs.has_backup_checksums,
           bs.is_copy_only,
           bs.backup_size,
           bs.compressed_backup_size,
           bs.media_set_id,
           bs.checkpoint_lsn,
           bs.fork_point_lsn,
           bs.database_guid,
           bs.family_guid,
           bs.position,
           ROW_NUMBER() OVER (PARTITION BY bs.database_name, bs.type ORDER BY bs.last_lsn DESC) AS rn
    FROM msdb.dbo.backupset AS bs
)
SELECT r.backup_set_id,
       r.database_name,
       r.type,
       r.backup_start_date,
       r.backup_finish_date,
       r.first_lsn,
       r.last_lsn,
       r.database_backup_lsn,
       r.has_backup_checksums,
       r.is_copy_only,
       r.backup_size,
       r.compressed_backup_size,
       bmf.physical_device_name,
       r.checkpoint_lsn,
       r.fork_point_lsn,
       CAST(r.database_guid AS nvarchar(36)) AS database_guid,
       CAST(r.family_guid AS nvarchar(36)) AS family_guid,
       r.position,
       bmf.family_sequence_number,
       bms.media_family_count
FROM ranked AS r
JOIN msdb.dbo.backupmediafamily AS bmf ON bmf.media_set_id = r.media_set_id
JOIN msdb.dbo.backupmediaset AS bms ON bms.media_set_id = r.media_set_id
WHERE r.rn <= @P1
ORDER BY r.database_name, r.type, r.last_lsn DESC;
";

pub const BACKUP_HISTORY_2005: &str = "\
/* standby:backup_history_2005 */
WITH ranked AS (
    SELECT bs.backup_set_id,
           bs.database_name,
           bs.type,
           bs.backup_start_date,
           bs.backup_finish_date,
           bs.first_lsn,
           bs.last_lsn,
           bs.database_backup_lsn,
           bs.has_backup_checksums,
           bs.is_copy_only,
           bs.backup_size,
           bs.media_set_id,
           bs.checkpoint_lsn,
           bs.fork_point_lsn,
           bs.database_guid,
           bs.family_guid,
           bs.position,
           ROW_NUMBER() OVER (PARTITION BY bs.database_name, bs.type ORDER BY bs.last_lsn DESC) AS rn
    FROM msdb.dbo.backupset AS bs
)
SELECT r.backup_set_id,
       r.database_name,
       r.type,
       r.backup_start_date,
       r.backup_finish_date,
       r.first_lsn,
       r.last_lsn,
       r.database_backup_lsn,
       r.has_backup_checksums,
       r.is_copy_only,
       r.backup_size,
       CAST(NULL AS numeric(20,0)) AS compressed_backup_size,
       bmf.physical_device_name,
       r.checkpoint_lsn,
       r.fork_point_lsn,
       CAST(r.database_guid AS nvarchar(36)) AS database_guid,
       CAST(r.family_guid AS nvarchar(36)) AS family_guid,
       r.position,
       bmf.family_sequence_number,
       bms.media_family_count
FROM ranked AS r
JOIN msdb.dbo.backupmediafamily AS bmf ON bmf.media_set_id = r.media_set_id
JOIN msdb.dbo.backupmediaset AS bms ON bms.media_set_id = r.media_set_id
WHERE r.rn <= @P1
ORDER BY r.database_name, r.type, r.last_lsn DESC;
";

pub const RESTORE_HISTORY: &str = "\
/* standby:restore_history */
WITH ranked AS (
    SELECT rh.restore_history_id,
           rh.destination_database_name,
           rh.restore_date,
           rh.restore_type,
           rh.backup_set_id,
           ROW_NUMBER() OVER (PARTITION BY rh.destination_database_name ORDER BY rh.restore_date DESC, rh.restore_history_id DESC) AS rn
    FROM msdb.dbo.restorehistory AS rh
)
SELECT r.restore_history_id,
       r.destination_database_name,
       r.restore_date,
       r.restore_type,
       bs.database_name AS source_database_name,
       bs.backup_finish_date AS source_backup_finish_date
FROM ranked AS r
LEFT JOIN msdb.dbo.backupset AS bs ON bs.backup_set_id = r.backup_set_id
WHERE r.rn = 1
ORDER BY r.destination_database_name;
";

/// Every query with its marker name, in the order discovery sends them.
pub const ALL: [(&str, &str); 6] = [
    ("version", VERSION),
    ("databases", DATABASES),
    ("files", FILES),
    ("backup_history", BACKUP_HISTORY),
    ("backup_history_2005", BACKUP_HISTORY_2005),
    ("restore_history", RESTORE_HISTORY),
];
