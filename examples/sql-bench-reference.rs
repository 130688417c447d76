//! The reference of the SQL discovery benchmark (`benches/sql.sh`): bare tiberius sending
//! standby's discovery queries to every instance at once and counting the rows, nothing
//! kept. The floor for `standby discover` against the same servers: what it costs to fetch and
//! decode the rows, without building an observation or writing it.
//!
//!     sql-bench-reference PORTS_FILE [DEPTH]
//!
//! `PORTS_FILE` holds `ID HOST PORT` lines (as `sql-bench-server` prints them); the password
//! is read from `STANDBY_BENCH_SQL_PASSWORD`, the user is `standby`. `DEPTH` (default 100) is
//! the history query's `@P1`, as standby derives it from the deepest declared `keep`.

use futures_util::TryStreamExt as _;
use standby::observe::sql::queries;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, SqlBrowser as _};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncWriteCompatExt as _;

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The queries standby sends to SQL Server 2008 and later, in its order; `true` takes DEPTH.
const QUERIES: [(&str, &str, bool); 5] = [
    ("version", queries::VERSION, false),
    ("databases", queries::DATABASES, false),
    ("files", queries::FILES, false),
    ("backup_history", queries::BACKUP_HISTORY, true),
    ("restore_history", queries::RESTORE_HISTORY, false),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let ports_file = args
        .next()
        .expect("usage: sql-bench-reference PORTS_FILE [DEPTH]");
    let depth: i32 = args
        .next()
        .map_or(100, |d| d.parse().expect("DEPTH is a number"));
    let password =
        std::env::var("STANDBY_BENCH_SQL_PASSWORD").expect("STANDBY_BENCH_SQL_PASSWORD is set");
    let text = std::fs::read_to_string(&ports_file).expect("read the ports file");
    let instances: Vec<(String, u16)> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let (_, host, port) = (parts.next()?, parts.next()?, parts.next()?);
            Some((host.to_string(), port.parse().ok()?))
        })
        .collect();
    // Standby's runtime: one worker per instance, at most one per core.
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(instances.len().clamp(1, cores))
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let counts = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for (host, port) in instances {
            let password = password.clone();
            // Boxed, as standby boxes its instance probes: tiberius futures are large.
            tasks.spawn(async move { Box::pin(count_rows(&host, port, &password, depth)).await });
        }
        let mut total = [0u64; QUERIES.len()];
        while let Some(done) = tasks.join_next().await {
            let rows = done
                .expect("an instance task")
                .expect("an instance answers");
            for (sum, n) in total.iter_mut().zip(rows) {
                *sum += n;
            }
        }
        total
    });
    for ((name, _, _), rows) in QUERIES.iter().zip(counts) {
        println!("{name} {rows}");
    }
}

/// Rows of each query on one instance.
async fn count_rows(
    host: &str,
    port: u16,
    password: &str,
    depth: i32,
) -> Result<[u64; QUERIES.len()], tiberius::error::Error> {
    let mut config = Config::new();
    config.host(host);
    config.port(port);
    config.application_name("standby");
    config.authentication(AuthMethod::sql_server("standby", password));
    config.encryption(EncryptionLevel::NotSupported);
    // standby's `--sql-timeout` default, for the handshake and for each answer.
    config.handshake_timeout(Some(TIMEOUT));
    config.command_timeout(Some(TIMEOUT));
    let tcp = TcpStream::connect_named(&config).await?;
    tcp.set_nodelay(true)?;
    let mut client = Box::pin(Client::connect(config, tcp.compat_write())).await?;
    let mut counts = [0u64; QUERIES.len()];
    for ((_, sql, takes_depth), count) in QUERIES.iter().zip(&mut counts) {
        let stream = if *takes_depth {
            client.query(*sql, &[&depth]).await?
        } else {
            client.simple_query(*sql).await?
        };
        let mut rows = stream.into_row_stream();
        while rows.try_next().await?.is_some() {
            *count += 1;
        }
    }
    Ok(counts)
}
