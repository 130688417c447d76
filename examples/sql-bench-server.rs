//! The SQL Servers of the SQL discovery benchmark (`benches/sql.sh`): N instances of the TDS
//! test server on 127.0.0.1, each holding D databases with B backups each in msdb history
//! (full, differential and log, with a consistent LSN chain) and one restore test per database
//! in restore history. The catalogs are built in memory, not read from a fixture.
//!
//!     cargo run --release --example sql-bench-server -- [--instances 10] [--databases 2000] [--backups 100]
//!
//! Once every instance listens it prints one line per instance, `ID 127.0.0.1 PORT`, then
//! `ready`. On SIGUSR1 it prints, per instance, the connections and SQL texts received since
//! the previous report (`counts ID connections=C queries=Q unrecognized=U`), then `end`; on
//! SIGTERM or SIGINT the totals (`total ...`), and exits.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Parser;
use tds_test_server::{
    BackupSet, BackupType, Catalog, Database, DatabaseFile, Faults, Login, PathMapping,
    RecoveryModel, RestoreHistory, ServerInfo, SqlDateTime, TdsServer,
};

#[derive(Parser)]
struct Args {
    /// SQL Server instances to serve, each on its own port.
    #[arg(long, default_value_t = 10)]
    instances: usize,
    /// User databases per instance (the four system databases come on top).
    #[arg(long, default_value_t = 2000)]
    databases: usize,
    /// Backups per user database in msdb history.
    #[arg(long, default_value_t = 100)]
    backups: usize,
    /// The folder SQL Server writes backups to (the desired state's `sql-path`).
    #[arg(long, default_value = r"\\bench-bk\backup")]
    sql_path: String,
    /// Where `sql-path` lies on this machine (the desired state's store `path`).
    #[arg(long, default_value = "/tmp/standby-sql-bench/store")]
    store: PathBuf,
    /// The site directory under the store that backups are filed in.
    #[arg(long, default_value = "bench")]
    site: String,
    /// The servers' clock: the newest backup finishes shortly before it.
    #[arg(long, default_value = "2026-11-22T01:00:00")]
    clock: String,
    #[arg(long, default_value = "standby")]
    user: String,
    #[arg(long, default_value = "S3cret!pw")]
    password: String,
}

/// One backup every six hours: a full one a week, a differential a day, logs in between.
const SLOT_MS: i64 = 6 * 3_600_000;
const SLOTS_PER_FULL: usize = 28;
const SLOTS_PER_DIFF: usize = 4;
const MB: u128 = 1_000_000;

fn main() {
    let args = Args::parse();
    let clock = SqlDateTime::parse(&args.clock).expect("--clock is YYYY-MM-DDTHH:MM:SS");
    let servers: Vec<(String, TdsServer)> = (0..args.instances)
        .map(|i| {
            let id = instance_id(i);
            let catalog = catalog(&args, i, clock);
            (id, TdsServer::start(catalog, Faults::default()))
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for (id, server) in &servers {
        writeln!(out, "{id} 127.0.0.1 {}", server.port()).expect("write to stdout");
    }
    writeln!(out, "ready").expect("write to stdout");
    out.flush().expect("flush stdout");
    drop(out);
    serve_until_stopped(&servers);
}

fn instance_id(i: usize) -> String {
    format!("sql{i:02}")
}

/// The name of database `d` of instance `i`: unique across instances, so one site can
/// declare them all.
fn database_name(i: usize, d: usize) -> String {
    format!("sql{i:02}_db{d:05}")
}

fn catalog(args: &Args, i: usize, clock: SqlDateTime) -> Catalog {
    let mut databases: Vec<Database> = ["master", "tempdb", "model", "msdb"]
        .iter()
        .zip(1..)
        .map(|(name, id)| Database {
            name: (*name).to_string(),
            database_id: id,
            state_desc: "ONLINE".to_string(),
            recovery_model_desc: RecoveryModel::Simple,
            last_log_backup_lsn: None,
            files: files(name),
            current_lsn: None,
            redo_lsn: None,
            restored_base_lsn: None,
        })
        .collect();
    let mut backups = Vec::with_capacity(args.databases * args.backups);
    let mut restores = Vec::with_capacity(args.databases * 2);
    for d in 0..args.databases {
        let name = database_name(i, d);
        let database_id = i32::try_from(d + 5).expect("database ids fit an int");
        let chain_end = history(args, &name, database_id, clock, &mut backups, &mut restores);
        databases.push(Database {
            files: files(&name),
            name,
            database_id,
            state_desc: "ONLINE".to_string(),
            recovery_model_desc: RecoveryModel::Full,
            last_log_backup_lsn: chain_end,
            current_lsn: None,
            redo_lsn: None,
            restored_base_lsn: None,
        });
    }
    Catalog {
        server: ServerInfo {
            name: format!("SQL{i:02}\\RTC"),
            ..ServerInfo::default()
        },
        login: Login {
            user: args.user.clone(),
            password: args.password.clone(),
        },
        clock: Some(clock),
        path_mappings: vec![PathMapping {
            sql_prefix: args.sql_path.clone(),
            local_dir: args.store.clone(),
            create_dirs: true,
        }],
        databases,
        backups,
        restores,
    }
}

fn files(name: &str) -> Vec<DatabaseFile> {
    vec![
        DatabaseFile {
            name: name.to_string(),
            type_desc: "ROWS".to_string(),
            physical_name: format!("D:\\Data\\{name}.mdf"),
            size: 12_800,
        },
        DatabaseFile {
            name: format!("{name}_log"),
            type_desc: "LOG".to_string(),
            physical_name: format!("E:\\Logs\\{name}_log.ldf"),
            size: 2_560,
        },
    ]
}

/// Appends the backup history of one database, oldest first, and a restore test of its
/// newest full backup; returns the end of its log chain.
fn history(
    args: &Args,
    name: &str,
    database_id: i32,
    clock: SqlDateTime,
    backups: &mut Vec<BackupSet>,
    restores: &mut Vec<RestoreHistory>,
) -> Option<u128> {
    let id = u128::try_from(database_id).expect("positive database id");
    // Databases differ in size and start their jobs a few minutes apart.
    let full_size = (50 + id * 7_919 % 200) * MB;
    let offset_ms = i64::try_from(id % 60).expect("small") * 60_000;
    let checksum = database_id % 50 != 0;
    let compressed = database_id % 3 == 0;
    let mut full_lsn = 0u128; // the checkpoint LSN of the newest full backup
    let mut chain_end: Option<u128> = None;
    let mut newest_full: Option<(i32, SqlDateTime)> = None;
    for slot in 0..args.backups {
        let vlf = 40 + u128::try_from(slot).expect("small") * 3;
        let lsn = |block: u128, record: u128| vlf * 10u128.pow(15) + block * 100_000 + record;
        let back = i64::try_from(args.backups - slot).expect("small");
        let start = clock.plus_millis(-back * SLOT_MS + offset_ms);
        let (backup_type, first_lsn, last_lsn, base_lsn, size) = if slot % SLOTS_PER_FULL == 0 {
            let base = full_lsn;
            full_lsn = lsn(100, 37);
            chain_end.get_or_insert(full_lsn);
            (BackupType::Full, full_lsn, lsn(200, 1), base, full_size)
        } else if slot % SLOTS_PER_DIFF == 0 {
            let changed = u128::try_from(slot % SLOTS_PER_FULL).expect("small");
            (
                BackupType::Differential,
                lsn(100, 37),
                lsn(200, 1),
                full_lsn,
                full_size * changed / 40,
            )
        } else {
            let first = chain_end.unwrap_or(full_lsn);
            let last = lsn(900, 1);
            chain_end = Some(last);
            (BackupType::Log, first, last, full_lsn, (1 + id % 8) * MB)
        };
        // 40 MB/s, as the test server's own BACKUP reports.
        let seconds = i64::try_from(size / (40 * MB)).expect("small") + 2;
        let finish = start.plus_millis(seconds * 1000);
        let (kind, extension) = match backup_type {
            BackupType::Full => ("full", "bak"),
            BackupType::Differential => ("diff", "bak"),
            BackupType::Log => ("log", "trn"),
        };
        let backup_set_id = i32::try_from(backups.len() + 1).expect("backup set ids fit an int");
        if backup_type == BackupType::Full {
            newest_full = Some((backup_set_id, finish));
        }
        backups.push(BackupSet {
            backup_set_id,
            database_name: name.to_string(),
            backup_type,
            backup_start_date: start,
            backup_finish_date: finish,
            first_lsn,
            last_lsn,
            database_backup_lsn: base_lsn,
            has_backup_checksums: Some(checksum),
            is_copy_only: Some(false),
            backup_size: size,
            compressed_backup_size: Some(if compressed { size * 2 / 5 } else { size }),
            physical_device_name: format!(
                "{}\\{}\\database\\{name}\\{kind}\\{name}_{kind}_{}.{extension}",
                args.sql_path.trim_end_matches('\\'),
                args.site,
                stamp(start)
            ),
            checkpoint_lsn: None,
            fork_point_lsn: None,
            database_guid: None,
            family_guid: None,
            position: None,
            family_sequence_number: None,
            media_family_count: None,
        });
    }
    if let Some((backup_set_id, finished)) = newest_full {
        let destination = format!("standby-restoretest-{name}");
        let test_start = finished.plus_millis(2 * 3_600_000);
        for (restore_type, after_ms) in [("D", 0), ("L", 60_000)] {
            restores.push(RestoreHistory {
                restore_history_id: i32::try_from(restores.len() + 1).expect("ids fit an int"),
                destination_database_name: destination.clone(),
                restore_date: test_start.plus_millis(after_ms),
                restore_type: restore_type.to_string(),
                backup_set_id: Some(backup_set_id),
            });
        }
    }
    chain_end
}

/// `20261121T010000Z`, as standby names backup files.
fn stamp(t: SqlDateTime) -> String {
    let (year, month, day, hour, minute, second, _) = t.parts();
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// Answers SIGUSR1 with the counts since the last report until SIGTERM or SIGINT.
#[cfg(unix)]
fn serve_until_stopped(servers: &[(String, TdsServer)]) {
    use tokio::signal::unix::{SignalKind, signal};
    signal_runtime().block_on(async {
        let mut report = signal(SignalKind::user_defined1()).expect("SIGUSR1 handler");
        let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
        let mut seen = vec![(0u64, 0usize); servers.len()];
        loop {
            tokio::select! {
                _ = report.recv() => print_counts(servers, &mut seen, "counts"),
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
            }
        }
        print_totals(servers);
    });
}

/// Windows has no SIGUSR1: the counts are printed once, at Ctrl+C.
#[cfg(windows)]
fn serve_until_stopped(servers: &[(String, TdsServer)]) {
    signal_runtime().block_on(async {
        let _ = tokio::signal::ctrl_c().await;
        print_totals(servers);
    });
}

/// A runtime that waits for signals.
fn signal_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for signals")
}

/// Prints the counts since the server started.
fn print_totals(servers: &[(String, TdsServer)]) {
    let mut from_start = vec![(0u64, 0usize); servers.len()];
    print_counts(servers, &mut from_start, "total");
}

/// Prints connections and SQL texts per instance received since `seen`, and updates it.
fn print_counts(servers: &[(String, TdsServer)], seen: &mut [(u64, usize)], label: &str) {
    let mut out = std::io::stdout().lock();
    for ((id, server), (connections_seen, queries_seen)) in servers.iter().zip(seen.iter_mut()) {
        let connections = server.connection_count();
        let log = server.query_log();
        let new = log.get(*queries_seen..).unwrap_or_default();
        let unrecognized = new.iter().filter(|q| !q.recognized).count();
        let _ = writeln!(
            out,
            "{label} {id} connections={} queries={} unrecognized={unrecognized}",
            connections - *connections_seen,
            new.len()
        );
        *connections_seen = connections;
        *queries_seen = log.len();
    }
    let _ = writeln!(out, "end");
    let _ = out.flush();
}
