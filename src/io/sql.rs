//! Connecting to one declared `sql-instance` with tiberius: address, named instances through
//! SQL Browser, encryption, the password from its environment variable, timeouts, and SQL
//! Server errors turned into messages that carry the error number.

use std::time::Duration;

use tiberius::{AuthMethod, Client, Config, EncryptionLevel, SqlBrowser as _};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt as _};

use crate::desired::SqlInstance;

pub type Connection = Client<Compat<TcpStream>>;

/// How long standby waits for SQL Server.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect plus PRELOGIN/LOGIN7.
    pub connect: Duration,
    /// The longest silence while waiting for the answer to one statement. A BACKUP sends
    /// nothing until it is done, so maintenance statements need a far longer bound than
    /// discovery queries.
    pub command: Duration,
}

impl Timeouts {
    pub const DISCOVERY: Self = Self {
        connect: Duration::from_secs(15),
        command: Duration::from_secs(60),
    };

    /// The timeouts of maintenance statements (BACKUP, RESTORE, DBCC CHECKDB) in `apply`.
    pub fn maintenance(command: Duration) -> Self {
        Self {
            connect: Self::DISCOVERY.connect,
            command,
        }
    }
}

/// Where a connection goes, for messages: `host\instance` or `host:port`.
pub fn server_name(instance: &SqlInstance) -> String {
    match (&instance.instance, instance.port) {
        (Some(name), None) => format!("{}\\{name}", instance.host.value),
        (Some(name), Some(port)) => format!("{}\\{name}:{port}", instance.host.value),
        (None, port) => format!("{}:{}", instance.host.value, port.unwrap_or(1433)),
    }
}

/// Reads the password from the instance's `password-env` variable. The value is handed to
/// tiberius and nowhere else: never to a message, the journal or the observation.
fn credentials(instance: &SqlInstance) -> Result<AuthMethod, String> {
    let (Some(user), Some(variable)) = (&instance.user, &instance.password_env) else {
        return Err(format!(
            "sql-instance `{}` declares no `user` and `password-env`: standby logs in with SQL \
             Server authentication only",
            instance.id.value
        ));
    };
    match std::env::var(&variable.value) {
        Ok(password) => Ok(AuthMethod::sql_server(user, password)),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "environment variable {} is not set (password-env of sql-instance `{}`)",
            variable.value, instance.id.value
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "environment variable {} is not valid UTF-8 (password-env of sql-instance `{}`)",
            variable.value, instance.id.value
        )),
    }
}

fn config(instance: &SqlInstance, timeouts: Timeouts) -> Result<Config, String> {
    let mut config = Config::new();
    config.host(&instance.host.value);
    match (instance.port, &instance.instance) {
        (Some(port), _) => config.port(port),
        // Without a port, tiberius asks SQL Browser (UDP 1434) for the named instance's port.
        (None, Some(name)) => config.instance_name(name),
        (None, None) => config.port(1433),
    }
    config.application_name("standby");
    config.authentication(credentials(instance)?);
    config.encryption(if instance.encrypt {
        EncryptionLevel::Required
    } else {
        EncryptionLevel::NotSupported
    });
    if instance.trust_cert {
        config.trust_cert();
    }
    config.handshake_timeout(Some(timeouts.connect));
    config.command_timeout(Some(timeouts.command));
    Ok(config)
}

/// Opens a logged-in connection, within `timeouts.connect`.
pub async fn connect(instance: &SqlInstance, timeouts: Timeouts) -> Result<Connection, String> {
    let config = config(instance, timeouts)?;
    let server = server_name(instance);
    let tcp = tokio::time::timeout(timeouts.connect, TcpStream::connect_named(&config))
        .await
        .map_err(|_| {
            format!(
                "cannot connect to {server}: no answer within {}",
                seconds(timeouts.connect)
            )
        })?
        .map_err(|e| format!("cannot connect to {server}: {}", describe(&e)))?;
    // Small request/response exchanges: do not wait to fill a segment.
    tcp.set_nodelay(true)
        .map_err(|e| format!("cannot connect to {server}: {e}"))?;
    Box::pin(Client::connect(config, tcp.compat_write()))
        .await
        .map_err(|e| format!("cannot log in to {server}: {}", describe(&e)))
}

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}

/// A tiberius error as an operator reads it; SQL Server's own errors keep their number
/// (`SQL Server error 18456`), which is what its documentation and forums are keyed on.
pub fn describe(error: &tiberius::error::Error) -> String {
    match error {
        tiberius::error::Error::Server(token) => format!(
            "SQL Server error {} (severity {}, state {}): {}",
            token.code(),
            token.class(),
            token.state(),
            token.message()
        ),
        tiberius::error::Error::Io { kind, message } if *kind == std::io::ErrorKind::TimedOut => {
            format!("timed out waiting for SQL Server ({message})")
        }
        other => other.to_string(),
    }
}

/// Runs `work` (a statement on this thread's connection) while SQL Server's progress messages
/// ("45 percent processed.", sent for `WITH STATS`) set this thread's [`meter`]. tiberius
/// hands informational messages to nothing but `tracing`, as DEBUG events: a subscriber for
/// this thread alone reads them, and everything else `tracing` says is dropped.
///
/// [`meter`]: super::meter
pub fn with_percent_messages<T>(work: impl FnOnce() -> T) -> T {
    tracing::subscriber::with_default(PercentMessages, work)
}

/// The percent in SQL Server's message 3211, `N percent processed.`
fn percent_processed(message: &str) -> Option<u64> {
    message
        .trim()
        .strip_suffix(" percent processed.")
        .and_then(|n| n.trim().parse().ok())
}

struct PercentMessages;

impl tracing::Subscriber for PercentMessages {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.is_event() && metadata.target().starts_with("tiberius")
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        struct Message(Option<String>);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        let mut message = Message(None);
        event.record(&mut message);
        if let Some(percent) = message.0.as_deref().and_then(percent_processed) {
            super::meter::percent(percent);
        }
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_messages_are_read_and_nothing_else() {
        assert_eq!(percent_processed("45 percent processed."), Some(45));
        assert_eq!(
            percent_processed("Processed 8 pages for database 'rtc'"),
            None
        );
    }
}
