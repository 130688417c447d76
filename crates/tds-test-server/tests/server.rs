//! The TDS test server against the real tiberius client over 127.0.0.1: the fixture the
//! SQL Server provider is tested with must behave like SQL Server on the wire.

// tiberius's client futures are large by design; boxing them in tests would only add noise.
#![allow(clippy::large_futures)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use tds_test_server::{
    Catalog, DropMidResult, Faults, PathMapping, RecoveryModel, Stall, StatementKind, TdsServer,
};
use tiberius::numeric::Numeric;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, Row};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

const FIXTURE: &str = include_str!("../fixture.example.json");
const USER: &str = "standby";
const PASSWORD: &str = "S3cret!pw";
const SHARE: &str = r"\\rdm-bk01\backup";

type Sql = Client<Compat<TcpStream>>;

/// A fresh store directory under the target dir (no tempfile crate in the scratch project).
fn store_dir(test: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tds-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create store dir");
    dir
}

fn catalog(store: &Path) -> Catalog {
    let mut catalog = Catalog::from_json(FIXTURE).expect("example fixture parses");
    catalog.path_mappings = vec![PathMapping {
        sql_prefix: SHARE.to_string(),
        local_dir: store.to_path_buf(),
        create_dirs: true,
    }];
    catalog
}

fn start(test: &str) -> (TdsServer, PathBuf) {
    let store = store_dir(test);
    (TdsServer::start(catalog(&store), Faults::default()), store)
}

async fn connect_as(server: &TdsServer, user: &str, password: &str) -> tiberius::Result<Sql> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(server.port());
    config.authentication(AuthMethod::sql_server(user, password));
    config.encryption(EncryptionLevel::NotSupported);
    let tcp = TcpStream::connect(server.addr()).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config, tcp.compat_write()).await
}

async fn connect(server: &TdsServer) -> Sql {
    connect_as(server, USER, PASSWORD)
        .await
        .expect("login succeeds")
}

async fn batch(client: &mut Sql, sql: &str) -> tiberius::Result<Vec<Vec<Row>>> {
    client.simple_query(sql).await?.into_results().await
}

fn server_code(result: tiberius::Result<impl std::fmt::Debug>) -> u32 {
    match result {
        Err(tiberius::error::Error::Server(e)) => e.code(),
        other => panic!("expected a server error, got {other:?}"),
    }
}

fn query_text(name: &str) -> String {
    let md = include_str!("../QUERIES.md");
    let marker = format!("/* standby:{name} */");
    let start = md.find(&marker).expect("documented query");
    let end = md[start..].find("```").expect("end of block") + start;
    md[start..end].trim().to_string()
}

fn numeric(row: &Row, column: &str) -> Option<i128> {
    row.get::<Numeric, _>(column)
        .map(tiberius::numeric::Numeric::value)
}

fn date(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").expect("test date")
}

#[tokio::test]
async fn login_and_select_version() {
    let (server, _) = start("version");
    let mut client = connect(&server).await;
    let rows = batch(&mut client, &query_text("version"))
        .await
        .expect("version");
    let version: &str = rows[0][0].get(0).expect("a version string");
    assert!(
        version.starts_with("Microsoft SQL Server 2008 R2"),
        "{version}"
    );
    // Same text with the marker, through sp_executesql.
    let row = client
        .query(query_text("version"), &[])
        .await
        .expect("query")
        .into_row()
        .await
        .expect("row")
        .expect("one row");
    assert!(
        row.get::<&str, _>(0)
            .is_some_and(|v| v.contains("10.50.4000.0"))
    );
    assert_eq!(server.queries().len(), 2);
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn wrong_password_and_login_fault_fail_with_18456() {
    let (server, _) = start("login");
    assert_eq!(server_code(connect_as(&server, USER, "wrong").await), 18456);
    assert_eq!(
        server_code(connect_as(&server, "sa", PASSWORD).await),
        18456
    );
    server.set_faults(Faults {
        reject_logins: true,
        ..Faults::default()
    });
    match connect_as(&server, USER, PASSWORD).await {
        Err(tiberius::error::Error::Server(e)) => {
            assert_eq!((e.code(), e.class(), e.state()), (18456, 14, 1));
            assert_eq!(e.message(), "Login failed for user 'standby'.");
        }
        Err(other) => panic!("wrong error {other:?}"),
        Ok(_) => panic!("login should fail"),
    }
    server.set_faults(Faults::default());
    connect(&server).await;
}

#[tokio::test]
async fn databases_query_decodes_types() {
    let (server, _) = start("databases");
    let mut client = connect(&server).await;
    let rows = batch(&mut client, &query_text("databases"))
        .await
        .expect("databases")
        .remove(0);
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.get::<&str, _>("name"))
        .collect();
    assert_eq!(names, ["LcsCDR", "master", "rtc", "rtcdyn"]);
    let rtc = &rows[2];
    assert_eq!(rtc.get::<i32, _>("database_id"), Some(5));
    assert_eq!(rtc.get::<&str, _>("state_desc"), Some("ONLINE"));
    assert_eq!(rtc.get::<&str, _>("recovery_model_desc"), Some("FULL"));
    assert_eq!(rtc.get::<bool, _>("log_chain"), Some(true));
    assert_eq!(
        numeric(rtc, "last_log_backup_lsn"),
        Some(34_000_000_047_200_001)
    );
    let cdr = &rows[0];
    assert_eq!(cdr.get::<bool, _>("log_chain"), Some(false));
    assert_eq!(numeric(cdr, "last_log_backup_lsn"), None);
}

#[tokio::test]
async fn files_query_lists_master_files() {
    let (server, _) = start("files");
    let mut client = connect(&server).await;
    let rows = batch(&mut client, &query_text("files"))
        .await
        .expect("files")
        .remove(0);
    assert_eq!(rows.len(), 8);
    let rtc: Vec<(&str, &str, &str, i32)> = rows
        .iter()
        .filter(|r| r.get::<&str, _>("database_name") == Some("rtc"))
        .map(|r| {
            (
                r.get("logical_name").expect("logical"),
                r.get("type_desc").expect("type"),
                r.get("physical_name").expect("physical"),
                r.get("size").expect("size"),
            )
        })
        .collect();
    assert_eq!(
        rtc,
        [
            ("rtc", "ROWS", r"D:\Data\rtc.mdf", 12800),
            ("rtc_log", "LOG", r"E:\Logs\rtc.ldf", 2560)
        ]
    );
}

#[tokio::test]
async fn backup_history_ranks_per_database_and_type_with_a_parameter() {
    let (server, _) = start("history");
    let mut client = connect(&server).await;
    let keep = 1i32;
    let rows = client
        .query(query_text("backup_history"), &[&keep])
        .await
        .expect("query")
        .into_first_result()
        .await
        .expect("rows");
    let keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.get("database_name").expect("db"),
                r.get("type").expect("type"),
            )
        })
        .collect();
    assert_eq!(keys, [("rtc", "D"), ("rtc", "L"), ("rtcdyn", "D")]);
    let full = &rows[0];
    assert_eq!(full.get::<i32, _>("backup_set_id"), Some(2));
    assert_eq!(
        full.get::<NaiveDateTime, _>("backup_start_date"),
        Some(date("2026-11-21T01:00:00"))
    );
    assert_eq!(
        full.get::<NaiveDateTime, _>("backup_finish_date"),
        Some(date("2026-11-21T01:04:02"))
    );
    assert_eq!(numeric(full, "first_lsn"), Some(34_000_000_031_000_037));
    assert_eq!(numeric(full, "last_lsn"), Some(34_000_000_031_200_001));
    assert_eq!(full.get::<bool, _>("has_backup_checksums"), Some(true));
    assert_eq!(full.get::<bool, _>("is_copy_only"), Some(false));
    assert_eq!(numeric(full, "backup_size"), Some(105_250_816));
    assert_eq!(
        full.get::<&str, _>("physical_device_name"),
        Some(r"\\rdm-bk01\backup\redmond\database\rtc\full\rtc_full_20261121T010000Z.bak")
    );
    assert_eq!(numeric(&rows[2], "compressed_backup_size"), None);

    let keep = 10i64;
    let rows = client
        .query(query_text("backup_history"), &[&keep])
        .await
        .expect("query")
        .into_first_result()
        .await
        .expect("rows");
    assert_eq!(rows.len(), 5);
    // In a plain batch the parameter is undeclared, as on SQL Server.
    assert_eq!(
        server_code(batch(&mut client, &query_text("backup_history")).await),
        137
    );
    let log = server.query_log();
    assert!(log[0].rpc && log[0].recognized && log[0].params[0].0 == "@P1");
}

#[tokio::test]
async fn restore_history_returns_latest_per_destination() {
    let (server, _) = start("restores");
    let mut client = connect(&server).await;
    let rows = batch(&mut client, &query_text("restore_history"))
        .await
        .expect("restores")
        .remove(0);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        r.get::<&str, _>("destination_database_name"),
        Some("standby-restoretest-rtc")
    );
    assert_eq!(
        r.get::<NaiveDateTime, _>("restore_date"),
        Some(date("2026-11-01T03:10:00"))
    );
    assert_eq!(r.get::<&str, _>("restore_type"), Some("L"));
    assert_eq!(r.get::<&str, _>("source_database_name"), Some("rtc"));
    assert_eq!(
        r.get::<NaiveDateTime, _>("source_backup_finish_date"),
        Some(date("2026-11-21T22:00:03"))
    );
}

#[tokio::test]
async fn several_result_sets_in_one_batch() {
    let (server, _) = start("multi");
    let mut client = connect(&server).await;
    let sql = format!("{}\n{}", query_text("version"), query_text("databases"));
    let sets = batch(&mut client, &sql).await.expect("two result sets");
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1].len(), 4);
}

#[tokio::test]
async fn unrecognised_sql_is_an_error_not_an_empty_result() {
    let (server, _) = start("unknown");
    let mut client = connect(&server).await;
    assert_eq!(
        server_code(batch(&mut client, "SELECT name FROM sys.objects").await),
        208
    );
    assert_eq!(
        server_code(batch(&mut client, "SELECT name FROM sys.databases").await),
        102
    );
    assert_eq!(server_code(batch(&mut client, "EXEC sp_who").await), 102);
    // A compile error rejects the whole batch: the BACKUP before it does not run.
    let sql = format!(r"BACKUP DATABASE [rtc] TO DISK = N'{SHARE}\x.bak'; SELEC 1");
    assert_eq!(server_code(batch(&mut client, &sql).await), 102);
    assert_eq!(server.catalog().backups.len(), 5);
    assert!(!server.query_log().iter().any(|q| q.recognized));
    // The connection is still usable.
    batch(&mut client, &query_text("version"))
        .await
        .expect("still connected");
}

#[tokio::test]
async fn backup_writes_the_file_and_records_history() {
    let (server, store) = start("backup");
    let mut client = connect(&server).await;
    let path = format!(r"{SHARE}\redmond\database\rtc\full\rtc_full_20261122T010000Z.bak");
    let sql = format!("BACKUP DATABASE [rtc] TO DISK = N'{path}' WITH CHECKSUM, INIT");
    client
        .execute(sql.as_str(), &[])
        .await
        .expect("backup succeeds");

    let local = store.join("redmond/database/rtc/full/rtc_full_20261122T010000Z.bak");
    let size = std::fs::metadata(&local)
        .expect("backup file written")
        .len();
    assert!((2_000..64_000).contains(&size), "{size}");
    let catalog = server.catalog();
    let set = catalog.backups.last().expect("history row");
    assert_eq!(
        (
            set.database_name.as_str(),
            set.physical_device_name.as_str()
        ),
        ("rtc", path.as_str())
    );
    assert_eq!(
        (set.has_backup_checksums, set.is_copy_only),
        (Some(true), Some(false))
    );
    assert_eq!(set.backup_size, u128::from(size));
    assert!(set.first_lsn > 34_000_000_047_200_001);
    assert_eq!(set.backup_start_date.to_string(), "2026-11-22T01:00:00");

    // Visible through the history query, and a log + differential follow the chain.
    let log_path = format!(r"{SHARE}\redmond\database\rtc\log\rtc_log_20261122T020000Z.trn");
    let diff_path = format!(r"{SHARE}\redmond\database\rtc\diff\rtc_diff_20261122T030000Z.bak");
    client
        .execute(
            "BACKUP LOG @P1 TO DISK = @P2 WITH CHECKSUM, INIT",
            &[&"rtc", &log_path.as_str()],
        )
        .await
        .expect("log backup with parameters");
    batch(
        &mut client,
        &format!(
            "BACKUP DATABASE [rtc] TO DISK = N'{diff_path}' WITH DIFFERENTIAL, CHECKSUM, INIT"
        ),
    )
    .await
    .expect("diff");
    let keep = 1i32;
    let rows = client
        .query(query_text("backup_history"), &[&keep])
        .await
        .expect("query")
        .into_first_result()
        .await
        .expect("rows");
    let rtc: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.get::<&str, _>("database_name") == Some("rtc"))
        .map(|r| {
            (
                r.get("type").expect("type"),
                r.get("physical_device_name").expect("device"),
            )
        })
        .collect();
    assert_eq!(
        rtc,
        [
            ("D", path.as_str()),
            ("I", diff_path.as_str()),
            ("L", log_path.as_str())
        ]
    );
    let catalog = server.catalog();
    // The log chain continues from the fixture's last log backup, not from the new full.
    let log = &catalog.backups[6];
    assert_eq!(log.first_lsn, 34_000_000_047_200_001);
    assert_eq!(
        catalog.database("rtc").and_then(|d| d.last_log_backup_lsn),
        Some(log.last_lsn)
    );
    assert!(
        store
            .join("redmond/database/rtc/log/rtc_log_20261122T020000Z.trn")
            .is_file()
    );
}

#[tokio::test]
async fn backup_refusals_use_sql_server_messages() {
    let (server, _) = start("refusals");
    let mut client = connect(&server).await;
    let simple = batch(
        &mut client,
        &format!(r"BACKUP LOG [rtcdyn] TO DISK = N'{SHARE}\rtcdyn.trn' WITH CHECKSUM, INIT"),
    )
    .await;
    match simple {
        Err(tiberius::error::Error::Server(e)) => {
            assert_eq!((e.code(), e.class()), (4208, 16));
            assert!(e.message().starts_with(
                "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE."
            ));
        }
        other => panic!("{other:?}"),
    }
    let no_full = batch(
        &mut client,
        &format!(r"BACKUP LOG [LcsCDR] TO DISK = N'{SHARE}\cdr.trn' WITH INIT"),
    )
    .await;
    assert_eq!(server_code(no_full), 4214);
    let no_diff_base = batch(
        &mut client,
        &format!(r"BACKUP DATABASE [LcsCDR] TO DISK = N'{SHARE}\cdr.bak' WITH DIFFERENTIAL"),
    )
    .await;
    assert_eq!(server_code(no_diff_base), 3035);
    let unmapped = batch(
        &mut client,
        r"BACKUP DATABASE [rtc] TO DISK = N'\\other-host\share\rtc.bak' WITH INIT",
    )
    .await;
    assert_eq!(server_code(unmapped), 3201);
    assert_eq!(
        server_code(
            batch(
                &mut client,
                &format!(r"BACKUP DATABASE [nope] TO DISK = N'{SHARE}\n.bak'")
            )
            .await
        ),
        911
    );
    assert_eq!(server.catalog().backups.len(), 5);
}

#[tokio::test]
async fn backup_fault_fails_with_3201_then_3013() {
    let (server, store) = start("backup-fault");
    server.set_faults(Faults {
        fail_backups: true,
        ..Faults::default()
    });
    let mut client = connect(&server).await;
    let path = format!(r"{SHARE}\redmond\database\rtc\full\rtc.bak");
    match batch(
        &mut client,
        &format!("BACKUP DATABASE [rtc] TO DISK = N'{path}' WITH CHECKSUM, INIT"),
    )
    .await
    {
        Err(tiberius::error::Error::Server(e)) => {
            assert_eq!(e.code(), 3201);
            assert_eq!(
                e.message(),
                format!(
                    "Cannot open backup device '{path}'. Operating system error 3(The system cannot find the path specified.)."
                )
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!store.join("redmond").exists());
    assert_eq!(server.catalog().backups.len(), 5);
}

#[tokio::test]
async fn verifyonly_accepts_intact_files_and_rejects_a_flipped_byte() {
    let (server, store) = start("verify");
    let mut client = connect(&server).await;
    let path = format!(r"{SHARE}\rtc\rtc_full.bak");
    batch(
        &mut client,
        &format!("BACKUP DATABASE [rtc] TO DISK = N'{path}' WITH CHECKSUM, INIT"),
    )
    .await
    .expect("backup");
    let verify = format!("RESTORE VERIFYONLY FROM DISK = N'{path}' WITH CHECKSUM");
    batch(&mut client, &verify)
        .await
        .expect("intact backup verifies");

    let local = store.join("rtc/rtc_full.bak");
    let mut bytes = std::fs::read(&local).expect("read backup");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&local, bytes).expect("corrupt backup");
    match batch(&mut client, &verify).await {
        Err(tiberius::error::Error::Server(e)) => {
            assert_eq!(e.code(), 3241);
            assert!(
                e.message().contains("is incorrectly formed"),
                "{}",
                e.message()
            );
        }
        other => panic!("{other:?}"),
    }
    let missing = batch(
        &mut client,
        &format!(r"RESTORE VERIFYONLY FROM DISK = N'{SHARE}\rtc\missing.bak'"),
    )
    .await;
    assert_eq!(server_code(missing), 3201);
    // WITH CHECKSUM on a backup taken without checksums.
    let plain = format!(r"{SHARE}\rtc\plain.bak");
    batch(
        &mut client,
        &format!("BACKUP DATABASE [rtc] TO DISK = N'{plain}' WITH INIT"),
    )
    .await
    .expect("backup");
    assert_eq!(
        server_code(
            batch(
                &mut client,
                &format!("RESTORE VERIFYONLY FROM DISK = N'{plain}' WITH CHECKSUM")
            )
            .await
        ),
        3187
    );
}

#[tokio::test]
async fn alter_database_changes_the_recovery_model() {
    let (server, _) = start("alter");
    let mut client = connect(&server).await;
    batch(
        &mut client,
        "ALTER DATABASE [rtc] SET RECOVERY SIMPLE WITH NO_WAIT",
    )
    .await
    .expect("alter");
    let rtc = server.catalog().database("rtc").cloned().expect("rtc");
    assert_eq!(
        (rtc.recovery_model_desc, rtc.last_log_backup_lsn),
        (RecoveryModel::Simple, None)
    );
    batch(&mut client, "ALTER DATABASE rtcdyn SET RECOVERY FULL")
        .await
        .expect("alter");
    let rows = batch(&mut client, &query_text("databases"))
        .await
        .expect("databases")
        .remove(0);
    let models: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.get("name").expect("name"),
                r.get("recovery_model_desc").expect("model"),
            )
        })
        .collect();
    assert!(models.contains(&("rtc", "SIMPLE")) && models.contains(&("rtcdyn", "FULL")));
    assert_eq!(
        server_code(batch(&mut client, "ALTER DATABASE [nope] SET RECOVERY FULL").await),
        5011
    );
}

#[tokio::test]
async fn restore_test_sequence_restore_checkdb_drop() {
    let (server, store) = start("restore");
    let mut client = connect(&server).await;
    let full = format!(r"{SHARE}\rtc\full.bak");
    let log = format!(r"{SHARE}\rtc\log1.trn");
    batch(
        &mut client,
        &format!("BACKUP DATABASE [rtc] TO DISK = N'{full}' WITH CHECKSUM, INIT"),
    )
    .await
    .expect("full");
    batch(
        &mut client,
        &format!("BACKUP LOG [rtc] TO DISK = N'{log}' WITH CHECKSUM, INIT"),
    )
    .await
    .expect("log");

    let target = "standby-restoretest-rtc";
    // Forgetting WITH MOVE would overwrite production's files: refused like SQL Server does.
    let no_move = batch(
        &mut client,
        &format!("RESTORE DATABASE [{target}] FROM DISK = N'{full}' WITH NORECOVERY, CHECKSUM"),
    )
    .await;
    assert_eq!(server_code(no_move), 1834);

    let restore = format!(
        "RESTORE DATABASE [{target}] FROM DISK = N'{full}' WITH MOVE N'rtc' TO N'D:\\Restore\\{target}.mdf', \
         MOVE N'rtc_log' TO N'D:\\Restore\\{target}.ldf', NORECOVERY, REPLACE, CHECKSUM"
    );
    batch(&mut client, &restore).await.expect("restore full");
    assert_eq!(
        server
            .catalog()
            .database(target)
            .map(|d| d.state_desc.clone())
            .as_deref(),
        Some("RESTORING")
    );
    assert_eq!(
        server_code(
            batch(
                &mut client,
                &format!("DBCC CHECKDB([{target}]) WITH NO_INFOMSGS")
            )
            .await
        ),
        927
    );
    batch(
        &mut client,
        &format!("RESTORE LOG [{target}] FROM DISK = N'{log}' WITH RECOVERY, CHECKSUM"),
    )
    .await
    .expect("restore log");
    let restored = server
        .catalog()
        .database(target)
        .cloned()
        .expect("restored database");
    assert_eq!(restored.state_desc, "ONLINE");
    assert_eq!(
        restored.files[0].physical_name,
        format!("D:\\Restore\\{target}.mdf")
    );
    batch(
        &mut client,
        &format!("DBCC CHECKDB([{target}]) WITH NO_INFOMSGS"),
    )
    .await
    .expect("checkdb");

    let rows = batch(&mut client, &query_text("restore_history"))
        .await
        .expect("history")
        .remove(0);
    assert_eq!(rows[0].get::<&str, _>("restore_type"), Some("L"));
    assert_eq!(
        rows[0]
            .get::<NaiveDateTime, _>("restore_date")
            .map(|d| d > date("2026-11-22T01:00:00")),
        Some(true)
    );
    batch(&mut client, &format!("DROP DATABASE [{target}]"))
        .await
        .expect("drop");
    assert!(server.catalog().database(target).is_none());
    assert_eq!(
        server_code(batch(&mut client, &format!("DROP DATABASE [{target}]")).await),
        3701
    );
    // RESTORE LOG on a database that is not restoring.
    assert_eq!(
        server_code(
            batch(
                &mut client,
                &format!("RESTORE LOG [rtc] FROM DISK = N'{log}'")
            )
            .await
        ),
        3117
    );
    assert!(store.join("rtc/full.bak").is_file());
}

#[tokio::test]
async fn restore_log_out_of_sequence_is_refused() {
    let (server, _) = start("lsn-chain");
    let mut client = connect(&server).await;
    let full = format!(r"{SHARE}\rtc\full.bak");
    let (log1, log2) = (
        format!(r"{SHARE}\rtc\l1.trn"),
        format!(r"{SHARE}\rtc\l2.trn"),
    );
    batch(
        &mut client,
        &format!("BACKUP DATABASE [rtc] TO DISK = N'{full}' WITH CHECKSUM"),
    )
    .await
    .expect("full");
    batch(
        &mut client,
        &format!("BACKUP LOG [rtc] TO DISK = N'{log1}' WITH CHECKSUM"),
    )
    .await
    .expect("log1");
    batch(
        &mut client,
        &format!("BACKUP LOG [rtc] TO DISK = N'{log2}' WITH CHECKSUM"),
    )
    .await
    .expect("log2");
    let t = "standby-restoretest-rtc";
    batch(&mut client, &format!("RESTORE DATABASE [{t}] FROM DISK = N'{full}' WITH MOVE N'rtc' TO N'R:\\t.mdf', MOVE N'rtc_log' TO N'R:\\t.ldf', NORECOVERY")).await.expect("full");
    assert_eq!(
        server_code(
            batch(
                &mut client,
                &format!("RESTORE LOG [{t}] FROM DISK = N'{log2}' WITH NORECOVERY")
            )
            .await
        ),
        4305
    );
    batch(
        &mut client,
        &format!("RESTORE LOG [{t}] FROM DISK = N'{log1}' WITH NORECOVERY"),
    )
    .await
    .expect("log1");
    batch(
        &mut client,
        &format!("RESTORE LOG [{t}] FROM DISK = N'{log2}' WITH NORECOVERY"),
    )
    .await
    .expect("log2");
    batch(
        &mut client,
        &format!("RESTORE DATABASE [{t}] WITH RECOVERY"),
    )
    .await
    .expect("recover");
    assert_eq!(
        server
            .catalog()
            .database(t)
            .map(|d| d.state_desc.clone())
            .as_deref(),
        Some("ONLINE")
    );
}

#[tokio::test]
async fn dropped_connection_mid_result_is_an_error_not_a_hang() {
    let (server, _) = start("drop");
    server.set_faults(Faults {
        drop_mid_result: Some(DropMidResult {
            kind: StatementKind::Databases,
            after_rows: 2,
        }),
        ..Faults::default()
    });
    let mut client = connect(&server).await;
    let outcome = tokio::time::timeout(
        Duration::from_secs(5),
        batch(&mut client, &query_text("databases")),
    )
    .await;
    match outcome {
        Ok(Err(e)) => assert!(!matches!(e, tiberius::error::Error::Server(_)), "{e:?}"),
        Ok(Ok(rows)) => panic!("a cut result must not look complete: {rows:?}"),
        Err(elapsed) => panic!("the client hung: {elapsed}"),
    }
}

#[tokio::test]
async fn stall_times_out_on_the_client_and_attention_recovers_the_connection() {
    let (server, _) = start("stall");
    server.set_faults(Faults {
        stall: Some(Stall {
            kind: StatementKind::Backup,
            duration: Duration::from_secs(30),
        }),
        ..Faults::default()
    });
    let mut client = connect(&server).await;
    let began = Instant::now();
    let sql =
        format!(r"BACKUP DATABASE [rtc] TO DISK = N'{SHARE}\rtc\stalled.bak' WITH CHECKSUM, INIT");
    let outcome = tokio::time::timeout(Duration::from_millis(500), batch(&mut client, &sql)).await;
    assert!(outcome.is_err(), "the stalled statement must time out");
    assert!(began.elapsed() < Duration::from_secs(3));
    // The client cancels with an attention; the server acknowledges with DONE(ATTN).
    tokio::time::timeout(Duration::from_secs(3), client.cancel_query())
        .await
        .expect("attention acknowledged")
        .expect("cancel");
    server.set_faults(Faults::default());
    batch(&mut client, &query_text("version"))
        .await
        .expect("connection usable after attention");
    assert_eq!(
        server.catalog().backups.len(),
        5,
        "the cancelled backup did not run"
    );
}

#[test]
fn works_from_a_plain_test_and_stops_on_drop() {
    let store = store_dir("plain");
    let server = TdsServer::start(catalog(&store), Faults::default());
    let port = server.port();
    // Like a child process would: a separate runtime on this thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut client = connect(&server).await;
        batch(&mut client, "SELECT 1").await.expect("select 1");
    });
    drop(server);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "listener closed after drop"
    );
}

#[test]
fn fixture_round_trips_through_serde() {
    let catalog = Catalog::from_json(FIXTURE).expect("fixture");
    assert_eq!(
        catalog
            .backups
            .iter()
            .map(|b| b.backup_set_id)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let json = serde_json::to_string(&catalog).expect("serialize");
    let again = Catalog::from_json(&json).expect("reparse");
    assert_eq!(again.backups[0].first_lsn, 34_000_000_012_300_037);
    assert_eq!(
        again.clock.map(|c| c.to_string()).as_deref(),
        Some("2026-11-22T01:00:00")
    );
    assert!(Catalog::from_json(r#"{"login":{"user":"a","password":"b"},"bogus":1}"#).is_err());
}

#[tokio::test]
async fn garbage_on_the_wire_closes_that_connection_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, _) = start("garbage");
    for junk in [
        &b"\x12\x01\x00\x03"[..],
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x10\x01\x00\x20\x00\x00\x01\x00short login payload.....",
    ] {
        let mut raw = TcpStream::connect(server.addr()).await.expect("connect");
        raw.write_all(junk).await.expect("write");
        raw.shutdown().await.expect("half close");
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(3), raw.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "server must close, not hang");
    }
    // A well-formed PRELOGIN followed by a LOGIN7 with offsets pointing outside the payload.
    let mut raw = TcpStream::connect(server.addr()).await.expect("connect");
    let prelogin = [
        0x12, 0x01, 0x00, 0x0f, 0, 0, 1, 0, 0x01, 0x00, 0x06, 0x00, 0x01, 0xff, 0x02,
    ];
    let mut bad_login = vec![0x10, 0x01, 0x00, 0x00, 0, 0, 1, 0];
    let mut body = vec![0u8; 100];
    body[0] = 100;
    body[40] = 0xff; // UserName offset far past the end
    body[42] = 0x10;
    bad_login.extend_from_slice(&body);
    let len = u16::try_from(bad_login.len()).expect("len").to_be_bytes();
    bad_login[2] = len[0];
    bad_login[3] = len[1];
    raw.write_all(&prelogin).await.expect("prelogin");
    raw.write_all(&bad_login).await.expect("login");
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), raw.read_to_end(&mut rest))
        .await
        .expect("closed")
        .expect("read");
    assert_eq!(
        rest.first(),
        Some(&0x04),
        "a PRELOGIN reply, then the close"
    );
    // The server is still fine for well-behaved clients.
    let mut client = connect(&server).await;
    batch(&mut client, &query_text("version"))
        .await
        .expect("version");
}

#[tokio::test]
async fn sql_server_2005_has_no_compressed_backup_size() {
    let store = store_dir("sql2005");
    let mut catalog = catalog(&store);
    catalog.server.product_version = "9.00.4035.00".to_string();
    catalog.server.version_string = "Microsoft SQL Server 2005 - 9.00.4035.00 (X64)".to_string();
    let server = TdsServer::start(catalog, Faults::default());
    let mut client = connect(&server).await;
    let keep = 2i32;
    let err = async {
        client
            .query(query_text("backup_history"), &[&keep])
            .await?
            .into_first_result()
            .await
    }
    .await;
    assert_eq!(server_code(err), 207);
    let rows = client
        .query(query_text("backup_history_2005"), &[&keep])
        .await
        .expect("query")
        .into_first_result()
        .await
        .expect("rows");
    assert_eq!(rows.len(), 5, "rtc D×2, rtc L×2, rtcdyn D×1");
    assert!(
        rows.iter()
            .all(|r| numeric(r, "compressed_backup_size").is_none())
    );
}
