//! A SQL Server stand-in for tests: speaks TDS 7.4 on 127.0.0.1 to the real tiberius client,
//! answers the provider's discovery queries (QUERIES.md) from an in-memory catalog, executes
//! BACKUP/RESTORE/ALTER/DBCC/DROP against it (writing real backup files through a path
//! mapping), and injects faults. Not a SQL engine: unrecognised SQL is a SQL error.
//!
//! ```ignore
//! let server = TdsServer::start(Catalog::from_file("fixture.json")?, Faults::default());
//! // connect tiberius to 127.0.0.1:server.port() with EncryptionLevel::NotSupported
//! ```

mod browser;
mod catalog;
mod engine;
mod faults;
mod media;
mod protocol;
mod release;
mod session;
mod sql;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use browser::Browser;
pub use catalog::{
    BackupSet, BackupType, Catalog, Database, DatabaseFile, Login, PathMapping, RecoveryModel,
    RestoreHistory, ServerInfo, SqlDateTime,
};
pub use faults::{DropMidResult, Faults, Stall};
pub use release::Release;
pub use sql::StatementKind;
pub use tls::{Encryption, Tls, write_test_certificates};

use session::{Shared, lock};

/// One SQL text the server received (a batch, or the statement of an `sp_executesql` call).
#[derive(Debug, Clone)]
pub struct ReceivedSql {
    /// 1-based connection number, in accept order.
    pub connection: u64,
    pub sql: String,
    /// `(name, value)` of `sp_executesql` parameters, values in debug form.
    pub params: Vec<(String, String)>,
    pub rpc: bool,
    /// `false` when the server answered with a compile error (102/137/208...).
    pub recognized: bool,
}

/// How a server listens and presents itself, beyond its catalog.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Play this release (LOGINACK, `@@VERSION`, `SERVERPROPERTY`, what it rejects) instead
    /// of the one the fixture's `server.product_version` names.
    pub release: Option<Release>,
    /// A certificate and how the server uses it. Without one the server answers
    /// `ENCRYPT_NOT_SUP`, which no real SQL Server does (it always has a certificate).
    pub tls: Option<Tls>,
}

/// A running server; dropping it stops it and closes every connection.
pub struct TdsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TdsServer {
    /// Binds 127.0.0.1 on a free port and serves from a thread with its own tokio runtime, so
    /// it works from a plain `#[test]` (e.g. one that runs the binary) and from `#[tokio::test]`.
    pub fn start(catalog: Catalog, faults: Faults) -> TdsServer {
        Self::start_with(catalog, faults, &Options::default())
            .expect("bind 127.0.0.1:0 for the TDS test server")
    }

    /// [`TdsServer::start`] with the choices of [`Options`]; fails when the port is taken.
    pub fn start_with(
        catalog: Catalog,
        faults: Faults,
        options: &Options,
    ) -> std::io::Result<TdsServer> {
        let mut catalog = catalog;
        catalog.assign_ids();
        if let Some(release) = options.release {
            release.apply(&mut catalog.server);
        }
        let listener = std::net::TcpListener::bind(("127.0.0.1", options.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            catalog: Mutex::new(catalog),
            faults: Mutex::new(faults),
            log: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
            queries: sql::canonical_queries(),
            tls: options.tls.clone(),
        });
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let task_shared = Arc::clone(&shared);
        let thread =
            std::thread::Builder::new()
                .name("tds-test-server".to_string())
                .spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                    loop {
                        tokio::select! {
                            _ = &mut stop => break,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    tokio::spawn(session::serve(stream, Arc::clone(&task_shared)));
                                }
                            }
                        }
                    }
                });
                    // Dropping the runtime here cancels every connection task and closes its socket.
                })?;
        Ok(TdsServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every SQL text received, in order (batches and `sp_executesql` statements).
    pub fn queries(&self) -> Vec<String> {
        lock(&self.shared.log)
            .iter()
            .map(|q| q.sql.clone())
            .collect()
    }

    /// The same with connection number, parameters and whether it was recognised.
    pub fn query_log(&self) -> Vec<ReceivedSql> {
        lock(&self.shared.log).clone()
    }

    /// How many connections were accepted so far.
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// A snapshot of the catalog after the statements run so far.
    pub fn catalog(&self) -> Catalog {
        lock(&self.shared.catalog).clone()
    }

    /// Changes the catalog while running (e.g. to age the clock between two runs).
    pub fn update_catalog(&self, change: impl FnOnce(&mut Catalog)) {
        change(&mut lock(&self.shared.catalog));
    }

    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).clone()
    }

    /// Takes effect for the next login or statement.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }
}

impl Drop for TdsServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
