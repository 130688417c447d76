//! The `tds-test-server` program: it prints its port and `ready`, then a real client logs in.

// tiberius's client futures are large by design.
#![allow(clippy::large_futures)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncWriteCompatExt as _;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixture.example.json");

/// The running program; killed when dropped.
struct Program {
    child: Child,
    port: u16,
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the program and reads its `port N` and `ready` lines.
fn start(args: &[&str]) -> Program {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tds-test-server"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tds-test-server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").expect("readable");
    let port = first
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("`port N` first, got {first:?}"));
    let second = lines.next().expect("a second line").expect("readable");
    assert_eq!(second, "ready");
    Program { child, port }
}

async fn version(port: u16) -> tiberius::Result<String> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(port);
    config.authentication(AuthMethod::sql_server("standby", "S3cret!pw"));
    config.encryption(EncryptionLevel::NotSupported);
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut client = Client::connect(config, tcp.compat_write()).await?;
    let row = client
        .simple_query(
            "SELECT @@VERSION AS version, DATEDIFF(minute, GETUTCDATE(), GETDATE()) AS utc_offset_minutes",
        )
        .await?
        .into_row()
        .await?
        .expect("a row");
    Ok(row.get::<&str, _>(0).unwrap_or_default().to_owned())
}

#[tokio::test]
async fn prints_its_port_and_ready_then_serves_the_fixture() {
    let program = start(&["--fixture", FIXTURE]);
    let version = version(program.port).await.expect("login and query");
    assert!(
        version.starts_with("Microsoft SQL Server 2008 R2"),
        "{version}"
    );
}

#[tokio::test]
async fn injected_login_faults_come_from_the_command_line() {
    let program = start(&["--fixture", FIXTURE, "--faults", "reject-logins"]);
    match version(program.port).await {
        Err(tiberius::error::Error::Server(e)) => assert_eq!(e.code(), 18456),
        other => panic!("expected login failure 18456, got {other:?}"),
    }
}

#[test]
fn a_broken_fixture_is_named_with_its_line_and_column() {
    let dir = std::env::temp_dir().join(format!("tds-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let fixture = dir.join("broken.json");
    std::fs::write(&fixture, "{\n  \"login\": 3\n}\n").expect("write fixture");
    let out = Command::new(env!("CARGO_BIN_EXE_tds-test-server"))
        .args(["--fixture".as_ref(), fixture.as_os_str()])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("broken.json") && stderr.contains("line 2 column"),
        "{stderr}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_tds-test-server"))
        .args(["--fixture", FIXTURE, "--faults", "stall:backup"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("stall:backup"));
    let _ = std::fs::remove_dir_all(&dir);
}
