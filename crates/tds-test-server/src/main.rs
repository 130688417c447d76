//! `tds-test-server`: the SQL Server stand-in of standby's tests as a program, for trying
//! standby, `FreeTDS` or any other TDS client against it by hand. It prints `port N`, then
//! `ready` once it listens, and serves until it is killed.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Parser;
use tds_test_server::{Catalog, Encryption, Faults, Options, Release, TdsServer, Tls};

/// A SQL Server stand-in that understands the statements standby sends; not a database.
#[derive(Parser)]
#[command(name = "tds-test-server")]
struct Args {
    /// The catalog to serve: server, login, databases, backup and restore history (JSON; see
    /// the crate's README.md).
    #[arg(long, value_name = "FILE")]
    fixture: PathBuf,
    /// The TCP port on 127.0.0.1; 0 picks a free one.
    #[arg(long, value_name = "P", default_value_t = 0)]
    port: u16,
    /// The SQL Server release to play: LOGINACK's TDS version (7.2, 7.3A, 7.3B, 7.4),
    /// `@@VERSION`, `SERVERPROPERTY` and what that release rejects. Default: the fixture's
    /// `server.product_version`.
    #[arg(long, value_name = "2005|2008|2008r2|2019")]
    version: Option<Release>,
    /// Encrypt with `CERT_DIR/cert.pem` (the certificate, then its chain) and
    /// `CERT_DIR/key.pem`, the TLS handshake carried in PRELOGIN packets as SQL Server does.
    /// Without it the server answers `ENCRYPT_NOT_SUP`.
    #[arg(long, value_name = "CERT_DIR")]
    tls: Option<PathBuf>,
    /// With `--tls`: `off` encrypts the login only unless the client asks for more (SQL
    /// Server's default), `on` and `required` (Force Encryption) encrypt everything.
    #[arg(
        long,
        value_name = "off|on|required",
        default_value = "off",
        requires = "tls"
    )]
    encryption: Encryption,
    /// Failures to inject, comma-separated: `reject-logins`, `fail-backups`,
    /// `drop:KIND:ROWS`, `stall:KIND:SECONDS` (KIND: `backup-history`, `verify-only`, ...).
    #[arg(long, value_name = "LIST", default_value = "")]
    faults: Faults,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let catalog = match Catalog::from_file(&args.fixture) {
        Ok(catalog) => catalog,
        Err(e) => {
            eprintln!("tds-test-server: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let tls = match args
        .tls
        .as_deref()
        .map(|dir| Tls::from_dir(dir, args.encryption))
    {
        Some(Err(e)) => {
            eprintln!("tds-test-server: {e}");
            return std::process::ExitCode::FAILURE;
        }
        Some(Ok(tls)) => Some(tls),
        None => None,
    };
    let options = Options {
        port: args.port,
        release: args.version,
        tls,
    };
    let server = match TdsServer::start_with(catalog, args.faults, &options) {
        Ok(server) => server,
        Err(e) => {
            eprintln!(
                "tds-test-server: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "port {}", server.port());
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}
