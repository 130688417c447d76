//! The `tds-test-server` program: it prints its port and `ready`, then a real client logs in.

// tiberius's client futures are large by design.
#![allow(clippy::large_futures)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt as _};

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

async fn connect(port: u16) -> tiberius::Result<Client<Compat<TcpStream>>> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(port);
    config.authentication(AuthMethod::sql_server("standby", "S3cret!pw"));
    config.encryption(EncryptionLevel::NotSupported);
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    Client::connect(config, tcp.compat_write()).await
}

async fn version(port: u16) -> tiberius::Result<String> {
    let mut client = connect(port).await?;
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

/// One TDS packet: header (type, end of message, big-endian length, SPID 0, packet 1) and
/// payload.
fn packet(packet_type: u8, payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(payload.len() + 8).expect("a small packet");
    let mut out = vec![packet_type, 0x01];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&[0, 0, 1, 0]);
    out.extend_from_slice(payload);
    out
}

/// One whole message: the payloads of its packets up to end of message.
fn read_message(tcp: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read as _;
    let mut payload = Vec::new();
    loop {
        let mut header = [0u8; 8];
        tcp.read_exact(&mut header).expect("a packet header");
        let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let mut body = vec![0u8; length - 8];
        tcp.read_exact(&mut body).expect("a packet body");
        payload.extend_from_slice(&body);
        if header[1] & 0x01 != 0 {
            return payload;
        }
    }
}

/// Logs in by hand, asking for TDS 7.4 as tiberius does, and returns the TDS version of the
/// server's LOGINACK (big-endian on the wire, MS-TDS 2.2.7.14).
fn loginack_tds_version(port: u16) -> u32 {
    use std::io::Write as _;
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    // PRELOGIN: VERSION (6 bytes at 11), ENCRYPTION = NOT_SUP (1 byte at 17), terminator.
    let prelogin = [
        0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF, 0, 0, 0, 0, 0, 0, 0x02,
    ];
    tcp.write_all(&packet(0x12, &prelogin))
        .expect("send PRELOGIN");
    read_message(&mut tcp);
    // LOGIN7 with the user and password and every other field empty.
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let user = utf16("standby");
    let password: Vec<u8> = utf16("S3cret!pw")
        .into_iter()
        .map(|b| b.rotate_left(4) ^ 0xA5)
        .collect();
    let mut fixed = Vec::new();
    let total = u32::try_from(94 + user.len() + password.len()).expect("small");
    fixed.extend_from_slice(&total.to_le_bytes());
    fixed.extend_from_slice(&0x7400_0004u32.to_le_bytes()); // TDS 7.4, little-endian here
    fixed.extend_from_slice(&4096u32.to_le_bytes());
    fixed.extend_from_slice(&[0; 24]);
    let chars = |bytes: &[u8]| u16::try_from(bytes.len() / 2).expect("small");
    let after_password = u16::try_from(94 + user.len() + password.len()).expect("small");
    let table: [(u16, u16); 9] = [
        (94, 0),
        (94, chars(&user)),
        (
            u16::try_from(94 + user.len()).expect("small"),
            chars(&password),
        ),
        (after_password, 0),
        (after_password, 0),
        (after_password, 0),
        (after_password, 0),
        (after_password, 0),
        (after_password, 0),
    ];
    for (offset, length) in table {
        fixed.extend_from_slice(&offset.to_le_bytes());
        fixed.extend_from_slice(&length.to_le_bytes());
    }
    fixed.extend_from_slice(&[0; 6]); // ClientID
    for _ in 0..3 {
        fixed.extend_from_slice(&after_password.to_le_bytes()); // SSPI, AtchDBFile, ChangePassword
        fixed.extend_from_slice(&0u16.to_le_bytes());
    }
    fixed.extend_from_slice(&0u32.to_le_bytes()); // cbSSPILong
    assert_eq!(fixed.len(), 94);
    fixed.extend_from_slice(&user);
    fixed.extend_from_slice(&password);
    tcp.write_all(&packet(0x10, &fixed)).expect("send LOGIN7");
    let reply = read_message(&mut tcp);
    // ENVCHANGE, INFO and LOGINACK all carry a u16 length after the token byte.
    let mut i = 0;
    while i + 3 <= reply.len() {
        let length = usize::from(u16::from_le_bytes([reply[i + 1], reply[i + 2]]));
        if reply[i] == 0xAD {
            let version = &reply[i + 4..i + 8];
            return u32::from_be_bytes([version[0], version[1], version[2], version[3]]);
        }
        i += 3 + length;
    }
    panic!("no LOGINACK in {reply:02X?}");
}

#[test]
fn each_release_answers_with_its_tds_version_and_its_own_version_text() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for (release, tds, version_text) in [
        (
            "2005",
            0x7209_0002,
            "Microsoft SQL Server 2005 - 9.00.4035.00",
        ),
        (
            "2008",
            0x730A_0003,
            "Microsoft SQL Server 2008 (SP3) - 10.0.5500.0",
        ),
        (
            "2008r2",
            0x730B_0003,
            "Microsoft SQL Server 2008 R2 (SP3) - 10.50.6000.34",
        ),
        (
            "2019",
            0x7400_0004,
            "Microsoft SQL Server 2019 (RTM) - 15.0.2000.5",
        ),
    ] {
        let program = start(&["--fixture", FIXTURE, "--version", release]);
        assert_eq!(
            loginack_tds_version(program.port),
            tds,
            "LOGINACK of {release}"
        );
        let text = runtime
            .block_on(version(program.port))
            .expect("tiberius logs in");
        assert!(text.starts_with(version_text), "{release}: {text}");
    }
}

#[tokio::test]
async fn serverproperty_names_the_release() {
    let program = start(&["--fixture", FIXTURE, "--version", "2005"]);
    let mut client = connect(program.port).await.expect("login");
    let row = client
        .simple_query(
            "SELECT SERVERPROPERTY('ProductVersion') AS v, SERVERPROPERTY('ProductLevel') AS l, \
             SERVERPROPERTY('NoSuchProperty') AS n",
        )
        .await
        .expect("a query")
        .into_row()
        .await
        .expect("a result")
        .expect("a row");
    assert_eq!(row.get::<&str, _>("v"), Some("9.00.4035.00"));
    assert_eq!(row.get::<&str, _>("l"), Some("SP3"));
    assert_eq!(row.get::<&str, _>("n"), None);
}

/// Logs into a TLS server as tiberius configured by `setup` does, and reads `@@VERSION`.
async fn version_over_tls(port: u16, setup: impl FnOnce(&mut Config)) -> tiberius::Result<String> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(port);
    config.authentication(AuthMethod::sql_server("standby", "S3cret!pw"));
    setup(&mut config);
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

/// The TLS handshake travels in PRELOGIN packets and the certificate is checked as a real
/// SQL Server's is: refused when nothing trusts its CA, accepted with the CA or when told
/// to trust any certificate; `ENCRYPT_OFF` encrypts the login only, `ENCRYPT_ON` and
/// `ENCRYPT_REQ` everything.
#[tokio::test]
async fn tls_inside_tds_for_every_encryption_setting() {
    let dir = std::env::temp_dir().join(format!("tds-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    tds_test_server::write_test_certificates(&dir).expect("certificates");
    let ca = dir.join("ca.pem");
    let certs = dir.to_str().expect("a UTF-8 path");
    for encryption in ["off", "on", "required"] {
        let program = start(&[
            "--fixture",
            FIXTURE,
            "--tls",
            certs,
            "--encryption",
            encryption,
        ]);
        let untrusted = version_over_tls(program.port, |c| {
            c.encryption(EncryptionLevel::Required);
        })
        .await;
        match untrusted {
            Err(tiberius::error::Error::Tls(message)) => {
                assert!(message.contains("certificate"), "{encryption}: {message}");
            }
            other => panic!("{encryption}: an untrusted certificate was accepted: {other:?}"),
        }
        for (what, result) in [
            (
                "trust_cert",
                version_over_tls(program.port, |c| {
                    c.encryption(EncryptionLevel::Required);
                    c.trust_cert();
                })
                .await,
            ),
            (
                "trust_cert_ca",
                version_over_tls(program.port, |c| {
                    c.encryption(EncryptionLevel::Required);
                    c.trust_cert_ca(ca.display());
                })
                .await,
            ),
            (
                "login-only",
                version_over_tls(program.port, |c| {
                    c.encryption(EncryptionLevel::Off);
                    c.trust_cert();
                })
                .await,
            ),
        ] {
            let version = result.unwrap_or_else(|e| panic!("{encryption}, {what}: {e:?}"));
            assert!(version.starts_with("Microsoft SQL Server"), "{version}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
