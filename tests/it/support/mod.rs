//! Running the real binary in a scratch directory and reading what it printed.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// (address, code) of every finding of a JSON report.
    /// Whether the JSON output has a finding `code` on `address`.
    #[cfg_attr(
        not(unix),
        expect(dead_code, reason = "its callers are the Unix-only modules")
    )]
    pub fn has_finding(&self, address: &str, code: &str) -> bool {
        self.finding_codes()
            .contains(&(address.to_owned(), code.to_owned()))
    }

    pub fn finding_codes(&self) -> std::collections::BTreeSet<(String, String)> {
        self.json()["findings"]
            .as_array()
            .expect("a findings array")
            .iter()
            .map(|f| {
                (
                    f["address"].as_str().unwrap_or_default().to_owned(),
                    f["code"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The repository root, where `desired/`, `docs/` and `tests/` live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The password of the TDS test servers, and the variable `sql_instance` names for it.
pub const SQL_PASSWORD_ENV: &str = "STANDBY_TEST_SQL_PASSWORD";
pub const SQL_PASSWORD: &str = "S3cret!pw";

/// Runs `standby ARGS` in `dir` with colour off and the test servers' password set.
pub fn standby(dir: &Path, args: &[&str]) -> Output {
    standby_with(dir, args, &[(SQL_PASSWORD_ENV, SQL_PASSWORD)])
}

/// A TDS test server holding `databases`, online, each with one full backup SQL Server
/// remembers taking long ago to its own disk: for tests about files, where SQL Server has
/// nothing to report.
pub fn quiet_sql_server(databases: &[&str]) -> tds_test_server::TdsServer {
    let databases: Vec<serde_json::Value> = databases
        .iter()
        .enumerate()
        .map(|(i, name)| {
            serde_json::json!({
                "name": name, "database_id": i + 5, "recovery_model_desc": "SIMPLE",
                "files": [
                    { "name": name, "type_desc": "ROWS", "physical_name": format!(r"D:\Data\{name}.mdf"), "size": 128 },
                    { "name": format!("{name}_log"), "type_desc": "LOG", "physical_name": format!(r"E:\Logs\{name}.ldf"), "size": 128 },
                ],
            })
        })
        .collect();
    let backups: Vec<serde_json::Value> = databases
        .iter()
        .map(|db| {
            serde_json::json!({
                "database_name": db["name"], "type": "D",
                "backup_start_date": "2020-01-01T01:00:00", "backup_finish_date": "2020-01-01T01:01:00",
                "first_lsn": 1000, "last_lsn": 2000, "database_backup_lsn": 0,
                "has_backup_checksums": true, "is_copy_only": false,
                "backup_size": 1_048_576, "compressed_backup_size": null,
                "physical_device_name": format!(r"D:\OldBackups\{}.bak", db["name"].as_str().unwrap_or("db")),
            })
        })
        .collect();
    let fixture = serde_json::json!({
        "login": { "user": "standby", "password": SQL_PASSWORD },
        "databases": databases,
        "backups": backups,
    });
    let catalog = tds_test_server::Catalog::from_json(&fixture.to_string()).expect("a catalog");
    tds_test_server::TdsServer::start(catalog, tds_test_server::Faults::default())
}

/// The KDL of `sql-instance ID` reaching `server`.
pub fn sql_instance(id: &str, server: &tds_test_server::TdsServer) -> String {
    format!(
        r#"sql-instance "{id}" host="127.0.0.1" port={} user="standby" password-env="{SQL_PASSWORD_ENV}" encrypt=#false"#,
        server.port()
    )
}

/// [`standby`] with extra environment variables.
pub fn standby_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_standby"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied())
        .output()
        .expect("the standby binary runs");
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// (address, code) pairs, as [`Output::finding_codes`] gives them.
pub fn pairs(items: &[(&str, &str)]) -> std::collections::BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, c)| ((*a).to_owned(), (*c).to_owned()))
        .collect()
}

/// Copies a file or every file of a directory into `dest` (created).
pub fn copy_into(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).expect("create the destination");
    if src.is_dir() {
        for entry in std::fs::read_dir(src).expect("read the case directory") {
            let path = entry.expect("a directory entry").path();
            std::fs::copy(&path, dest.join(path.file_name().expect("a file name")))
                .expect("copy a case file");
        }
    } else {
        std::fs::copy(src, dest.join(src.file_name().expect("a file name")))
            .expect("copy the case file");
    }
}

/// Every file under `dir` with its content, to prove a command wrote nothing.
pub fn snapshot_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = std::fs::read(&path).expect("read file");
                out.push((path, content));
            }
        }
    }
    out.sort();
    out
}

// The PostgreSQL cluster runs as the `postgres` user on a Unix socket: Unix only.
#[cfg(unix)]
pub mod postgres;

/// The journal lines in the local state database of `state_dir`, as JSON values (what
/// `journal.jsonl` held before the state moved into a database); none before there is one.
/// Read through SQLite directly and read-only, so that polling it while an apply runs
/// (tests/it/crash.rs) costs the apply little.
pub fn journal(state_dir: &Path) -> Vec<serde_json::Value> {
    let file = state_dir.join(standby::state::local::FILE_NAME);
    let Ok(db) = rusqlite::Connection::open_with_flags(
        &file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return Vec::new();
    };
    let _ = db.busy_timeout(std::time::Duration::from_secs(10));
    let Ok(mut rows) = db.prepare(
        "SELECT json_object('at', at, 'run', run, 'action', action, 'kind', kind, \
         'address', address, 'step', step, 'outcome', outcome, 'message', message, \
         'duration_ms', duration_ms, 'sha256', sha256, 'output', output) \
         FROM journal ORDER BY seq",
    ) else {
        // Not created yet (the apply is still migrating it).
        return Vec::new();
    };
    rows.query_map([], |r| r.get::<_, String>(0))
        .expect("read the journal")
        .map(|line| serde_json::from_str(&line.expect("a row")).expect("JSON"))
        .collect()
}
