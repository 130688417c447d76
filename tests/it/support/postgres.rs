//! A throwaway PostgreSQL cluster for the state tests: `initdb` and `postgres` from
//! Debian's `postgresql` package (scripts/test installs it), listening only on a Unix
//! socket in a temporary directory. One cluster per test binary run; each test gets its own
//! database. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
//!
//! The server is started under a small shell that waits on a pipe from this process: when
//! the test binary exits, however it exits, the pipe closes, the shell stops the server and
//! removes the directory. No system service, nothing left behind.

use std::io::BufRead as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Cluster {
    socket_dir: PathBuf,
    /// Kept open for the life of the test binary: its end is the server's end.
    _lifeline: Mutex<ChildStdin>,
    _keeper: Mutex<Child>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The newest PostgreSQL server binaries Debian installed.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL must be installed (scripts/test installs Debian's postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    versions
        .pop()
        .expect("no /usr/lib/postgresql/*/bin/initdb: install Debian's postgresql")
}

fn as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program args…`, as the `postgres` user when this process is root.
fn server_command(program: &Path) -> Command {
    if as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn start() -> Cluster {
    let bin = bin_dir();
    let root = tempfile::Builder::new()
        .prefix("standby-pg-")
        .tempdir()
        .expect("tempdir")
        .keep();
    if as_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&root)
            .status()
            .expect("chown runs");
        assert!(status.success(), "chown postgres {}", root.display());
    }
    let data = root.join("data");
    let init = server_command(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .output()
        .expect("initdb runs");
    assert!(
        init.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let script = r#"
        "$1" -D "$2" -k "$3" -c listen_addresses= -c fsync=off -c max_connections=200 \
            >"$3/server.log" 2>&1 &
        pid=$!
        read -r _
        kill -INT "$pid"
        wait "$pid"
        rm -rf "$3"
    "#;
    let mut keeper = server_command(Path::new("/bin/sh"))
        .args(["-c", script, "sh"])
        .arg(bin.join("postgres"))
        .arg(&data)
        .arg(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres");
    let lifeline = keeper.stdin.take().expect("the keeper's stdin");
    let socket = root.join(".s.PGSQL.5432");
    let started = Instant::now();
    while !socket.exists() {
        if let Ok(Some(status)) = keeper.try_wait() {
            panic!("postgres exited at once ({status})");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "postgres did not start: {}",
            std::fs::read_to_string(root.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let cluster = Cluster {
        socket_dir: root,
        _lifeline: Mutex::new(lifeline),
        _keeper: Mutex::new(keeper),
    };
    // Accepting connections, not only listening.
    let started = Instant::now();
    while postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "postgres does not accept connections"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster
}

impl Cluster {
    /// The connection string of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!(
            "host={} user=postgres dbname={name}",
            self.socket_dir.display()
        )
    }

    /// A new, empty database; its connection string.
    pub fn database(&self) -> String {
        let name = format!("t{}", DATABASES.fetch_add(1, Ordering::SeqCst));
        let mut admin =
            postgres::Client::connect(&self.url("postgres"), postgres::NoTls).expect("connect");
        // A name made here, not input: no parameter needed (and none allowed in DDL).
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        self.url(&name)
    }

    /// The server's log so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::File::open(self.socket_dir.join("server.log"))
            .map(|f| {
                std::io::BufReader::new(f)
                    .lines()
                    .map_while(Result::ok)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }
}

/// The cluster of this test binary run, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(start)
}
