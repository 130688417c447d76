//! One client connection: PRELOGIN, LOGIN7, then SQL batches, RPCs and attentions until the
//! client leaves. Turns engine outcomes into token streams and applies the injected faults.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::catalog::Catalog;
use crate::engine::{self, Notice, Outcome};
use crate::protocol::{
    self, Message, MessageReader, ParamValue, ProtocolError, RpcProcedure, TokenWriter, cur_cmd,
    done, packet_type,
};
use crate::release::Release;
use crate::sql::{self, Query, SqlError, Statement, Tok};
use crate::tls::{self, Negotiated, PreloginFraming};

/// The message number of SQL Server's "N percent processed." (`WITH STATS`).
const PERCENT_PROCESSED: u32 = 3211;
use crate::{Faults, ReceivedSql};

/// State shared by the server handle and every connection.
pub(crate) struct Shared {
    pub(crate) catalog: Mutex<Catalog>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) log: Mutex<Vec<ReceivedSql>>,
    pub(crate) connections: AtomicU64,
    pub(crate) queries: Vec<(Query, Vec<Tok>)>,
    pub(crate) tls: Option<tls::Tls>,
}

/// A poisoned lock only means another connection task panicked; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

const DEFAULT_PACKET_SIZE: usize = 4096;

type Reader = Box<dyn AsyncRead + Unpin + Send>;
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

struct Session {
    shared: Arc<Shared>,
    reader: MessageReader<Reader>,
    writer: Writer,
    connection: u64,
    spid: u16,
    packet_size: usize,
    nocount: bool,
    server_name: String,
}

/// How a request ended.
enum Flow {
    Continue,
    Close,
}

pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let connection = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    let _ = stream.set_nodelay(true);
    let server_name = lock(&shared.catalog).server.name.clone();
    let spid = u16::try_from(50 + connection % 1000).unwrap_or(51);
    // Errors only end this connection; the test sees them as a closed socket.
    let Ok(Some((reader, writer, login))) = open(stream, &shared, spid).await else {
        return;
    };
    let mut session = Session {
        shared,
        reader,
        writer,
        connection,
        spid,
        packet_size: DEFAULT_PACKET_SIZE,
        nocount: false,
        server_name,
    };
    let _ = session.run(login).await;
    let _ = session.writer.shutdown().await;
}

/// PRELOGIN, the encryption it settles on and, with TLS, the handshake. Returns the halves
/// the session talks over and, when only the login was encrypted, the LOGIN7 message that
/// came through TLS before the connection went back to plain TDS.
async fn open(
    tcp: TcpStream,
    shared: &Shared,
    spid: u16,
) -> Result<Option<(MessageReader<Reader>, Writer, Option<Message>)>, ProtocolError> {
    let mut reader = MessageReader::new(tcp);
    let Some(prelogin) = reader.next_message().await? else {
        return Ok(None);
    };
    // A client that does not wait for the answer may have sent its LOGIN7 already.
    let (mut tcp, early) = reader.into_parts();
    if prelogin.packet_type != packet_type::PRELOGIN {
        return Err(ProtocolError::Malformed(format!(
            "expected PRELOGIN, got packet type {}",
            prelogin.packet_type
        )));
    }
    let client = protocol::check_prelogin(&prelogin.payload)?;
    let (answer, negotiated) = tls::negotiate(shared.tls.as_ref().map(|t| t.encryption), client);
    let version = lock(&shared.catalog).server.version_bytes();
    let reply = protocol::prelogin_response(version, answer);
    protocol::write_message(&mut tcp, spid, DEFAULT_PACKET_SIZE, &reply, true).await?;
    let Some(config) = shared
        .tls
        .as_ref()
        .filter(|_| negotiated != Negotiated::Plain)
        .map(|t| Arc::clone(&t.config))
    else {
        let (read, write) = tcp.into_split();
        let reader = MessageReader::with_buffered(Box::new(read) as Reader, early);
        return Ok(Some((reader, Box::new(write), None)));
    };
    if !early.is_empty() {
        return Err(ProtocolError::Malformed(
            "data before the TLS handshake".to_string(),
        ));
    }
    let mut stream = tokio_rustls::TlsAcceptor::from(config)
        .accept(PreloginFraming::new(tcp))
        .await?;
    stream.get_mut().0.handshake_done();
    if negotiated == Negotiated::Full {
        let (read, write) = tokio::io::split(stream);
        let reader = MessageReader::new(Box::new(read) as Reader);
        return Ok(Some((reader, Box::new(write), None)));
    }
    let login = MessageReader::new(&mut stream).next_message().await?;
    let (framing, _) = stream.into_inner();
    let (read, write) = framing.into_inner().into_split();
    let reader = MessageReader::new(Box::new(read) as Reader);
    Ok(Some((reader, Box::new(write), login)))
}

impl Session {
    /// Answers LOGIN7 (`login`, when it already came through TLS), then serves requests.
    async fn run(&mut self, login: Option<Message>) -> Result<(), ProtocolError> {
        let login = match login {
            Some(login) => login,
            None => match self.reader.next_message().await? {
                Some(login) => login,
                None => return Ok(()),
            },
        };
        if login.packet_type != packet_type::LOGIN7 {
            return Err(ProtocolError::Malformed(format!(
                "expected LOGIN7, got packet type {}",
                login.packet_type
            )));
        }
        let login = protocol::parse_login7(&login.payload)?;
        if !self.login(&login).await? {
            return Ok(());
        }

        loop {
            let Some(message) = self.reader.next_message().await? else {
                return Ok(());
            };
            let flow = match message.packet_type {
                packet_type::SQL_BATCH => {
                    let text = protocol::parse_sql_batch(&message.payload)?;
                    self.run_sql(&text, &[], false).await?
                }
                packet_type::RPC => self.run_rpc(&message.payload).await?,
                packet_type::ATTENTION => {
                    self.acknowledge_attention().await?;
                    Flow::Continue
                }
                other => {
                    return Err(ProtocolError::Malformed(format!(
                        "unexpected packet type {other}"
                    )));
                }
            };
            if let Flow::Close = flow {
                return Ok(());
            }
        }
    }

    async fn send(&mut self, payload: &[u8], _reply_to: u8) -> Result<(), ProtocolError> {
        protocol::write_message(&mut self.writer, self.spid, self.packet_size, payload, true).await
    }

    async fn acknowledge_attention(&mut self) -> Result<(), ProtocolError> {
        let mut t = TokenWriter::default();
        t.done(done::ATTN, cur_cmd::NONE, 0);
        self.send(&t.buf, packet_type::ATTENTION).await
    }

    /// Answers LOGIN7; `false` when the login failed (the connection is then closed).
    async fn login(&mut self, login: &protocol::Login7) -> Result<bool, ProtocolError> {
        let reject = lock(&self.shared.faults).reject_logins;
        let (expected, database_ok, server) = {
            let catalog = lock(&self.shared.catalog);
            let database_ok =
                login.database.is_empty() || catalog.database(&login.database).is_some();
            (catalog.login.clone(), database_ok, catalog.server.clone())
        };
        let mut t = TokenWriter::default();
        let password_ok = login.username == expected.user && login.password == expected.password;
        if reject || !password_ok || !database_ok {
            if password_ok && !reject && !database_ok {
                t.error(
                    4060,
                    1,
                    11,
                    &format!(
                        "Cannot open database \"{}\" requested by the login. The login failed.",
                        login.database
                    ),
                    &self.server_name,
                );
            }
            t.error(
                18456,
                1,
                14,
                &format!("Login failed for user '{}'.", login.username),
                &self.server_name,
            );
            t.done(done::ERROR, cur_cmd::NONE, 0);
            self.send(&t.buf, packet_type::LOGIN7).await?;
            return Ok(false);
        }
        let database = if login.database.is_empty() {
            "master".to_string()
        } else {
            login.database.clone()
        };
        t.env_change_str(1, &database, "master");
        t.info(
            5701,
            2,
            0,
            &format!("Changed database context to '{database}'."),
            &self.server_name,
        );
        t.env_change_collation();
        t.env_change_str(2, "us_english", "");
        t.info(
            5703,
            1,
            0,
            "Changed language setting to us_english.",
            &self.server_name,
        );
        // What the release speaks, or less when the client asks for less (tiberius asks 7.4).
        let tds_version = Release::of(&server).negotiate(login.tds_version);
        t.login_ack(tds_version, "Microsoft SQL Server", server.version_bytes());
        let requested = usize::try_from(login.packet_size).unwrap_or(DEFAULT_PACKET_SIZE);
        let size = if requested == 0 {
            DEFAULT_PACKET_SIZE
        } else {
            requested.clamp(512, 32767)
        };
        t.env_change_str(4, &size.to_string(), &DEFAULT_PACKET_SIZE.to_string());
        t.done(done::FINAL, cur_cmd::NONE, 0);
        self.send(&t.buf, packet_type::LOGIN7).await?;
        self.packet_size = size;
        Ok(true)
    }

    async fn run_rpc(&mut self, payload: &[u8]) -> Result<Flow, ProtocolError> {
        let request = protocol::parse_rpc(payload)?;
        let is_executesql = match &request.procedure {
            RpcProcedure::Id(id) => *id == protocol::SP_EXECUTESQL,
            RpcProcedure::Name(n) => {
                n.eq_ignore_ascii_case("sp_executesql")
                    || n.eq_ignore_ascii_case("sys.sp_executesql")
            }
        };
        if !is_executesql {
            let name = match &request.procedure {
                RpcProcedure::Id(id) => format!("#{id}"),
                RpcProcedure::Name(n) => n.clone(),
            };
            let mut t = TokenWriter::default();
            t.error(
                2812,
                62,
                16,
                &format!("Could not find stored procedure '{name}'."),
                &self.server_name,
            );
            t.done_proc(done::ERROR, cur_cmd::NONE, 0);
            self.send(&t.buf, packet_type::RPC).await?;
            return Ok(Flow::Continue);
        }
        let mut params = request.params.into_iter();
        let Some(ParamValue::Str(stmt)) = params.next().map(|p| p.value) else {
            let mut t = TokenWriter::default();
            t.error(
                214,
                2,
                16,
                "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.",
                &self.server_name,
            );
            t.done_proc(done::ERROR, cur_cmd::NONE, 0);
            self.send(&t.buf, packet_type::RPC).await?;
            return Ok(Flow::Continue);
        };
        // The second parameter declares the others (`@P1 int,@P2 nvarchar(4000)`).
        let _declarations = params.next();
        let bound: Vec<(String, ParamValue)> = params.map(|p| (p.name, p.value)).collect();
        self.run_sql(&stmt, &bound, true).await
    }

    /// Recognises every statement first (a compile error rejects the whole batch, as on SQL
    /// Server), then runs them one by one.
    async fn run_sql(
        &mut self,
        text: &str,
        params: &[(String, ParamValue)],
        rpc: bool,
    ) -> Result<Flow, ProtocolError> {
        let parsed: Result<Vec<Statement>, SqlError> = sql::tokenize(text).and_then(|statements| {
            statements
                .iter()
                .map(|s| sql::parse(s, params, &self.shared.queries))
                .collect()
        });
        lock(&self.shared.log).push(ReceivedSql {
            connection: self.connection,
            sql: text.to_string(),
            params: params
                .iter()
                .map(|(n, v)| (n.clone(), format!("{v:?}")))
                .collect(),
            rpc,
            recognized: parsed.is_ok(),
        });
        let mut t = TokenWriter::default();
        let statements = match parsed {
            Ok(s) => s,
            Err(e) => {
                t.error(e.number, e.state, e.class, &e.message, &self.server_name);
                self.finish(&mut t, rpc, true, true, cur_cmd::NONE, None);
                self.send(&t.buf, packet_type::SQL_BATCH).await?;
                return Ok(Flow::Continue);
            }
        };
        let mut any_failed = false;
        let count = statements.len();
        for (i, statement) in statements.iter().enumerate() {
            let kind = statement.kind();
            let faults = lock(&self.shared.faults).clone();
            if let Some(stall) = faults.stall.filter(|s| s.kind == kind) {
                // Say nothing for longer than the client waits; an attention ends the stall.
                tokio::select! {
                    () = tokio::time::sleep(stall.duration) => {}
                    message = self.reader.next_message() => {
                        return match message? {
                            Some(m) if m.packet_type == packet_type::ATTENTION => {
                                // Whatever was produced so far is discarded, as a cancelled batch's would be.
                                self.acknowledge_attention().await?;
                                Ok(Flow::Continue)
                            }
                            Some(m) => Err(ProtocolError::Malformed(format!("packet type {} during a request", m.packet_type))),
                            None => Ok(Flow::Close),
                        };
                    }
                }
            }
            let outcome: Outcome = {
                let mut catalog = lock(&self.shared.catalog);
                engine::execute(&mut catalog, statement, params, faults.fail_backups)
            };
            if let Some(db) = &outcome.new_database {
                t.env_change_str(1, db, "master");
            }
            if let Some(nocount) = outcome.nocount {
                self.nocount = nocount;
            }
            // A paced statement's progress messages go out one by one, spread over its pace,
            // each in packets of a message not yet ended, as a real server flushes them.
            let pace = faults.pace.filter(|p| p.kind == kind).map(|p| {
                let steps = outcome
                    .notices
                    .iter()
                    .filter(|n| matches!(n, Notice::Info(m) if m.number == PERCENT_PROCESSED))
                    .count();
                p.duration / u32::try_from(steps.max(1)).unwrap_or(u32::MAX)
            });
            for notice in &outcome.notices {
                match notice {
                    Notice::Info(m) => {
                        t.info(m.number, m.state, m.class, &m.message, &self.server_name);
                        if let Some(step) = pace.filter(|_| m.number == PERCENT_PROCESSED) {
                            tokio::time::sleep(step).await;
                            protocol::write_message(
                                &mut self.writer,
                                self.spid,
                                self.packet_size,
                                &t.buf,
                                false,
                            )
                            .await?;
                            t.buf.clear();
                        }
                    }
                    Notice::Error(e) => {
                        t.error(e.number, e.state, e.class, &e.message, &self.server_name);
                    }
                }
            }
            let failed = outcome.failed();
            any_failed |= failed;
            let last = i + 1 == count;
            match &outcome.result {
                Some(result) => {
                    t.col_metadata(&result.columns);
                    if let Some(cut) = faults.drop_mid_result.filter(|d| d.kind == kind) {
                        for row in result.rows.iter().take(cut.after_rows) {
                            t.row(&result.columns, row);
                        }
                        // Part of the reply, no end-of-message, then the socket goes away.
                        protocol::write_message(
                            &mut self.writer,
                            self.spid,
                            self.packet_size,
                            &t.buf,
                            false,
                        )
                        .await?;
                        return Ok(Flow::Close);
                    }
                    for row in &result.rows {
                        t.row(&result.columns, row);
                    }
                    let rows = u64::try_from(result.rows.len()).unwrap_or(0);
                    self.statement_done(&mut t, rpc, last, failed, cur_cmd::SELECT, Some(rows));
                }
                None => self.statement_done(&mut t, rpc, last, failed, cur_cmd::NONE, None),
            }
        }
        if rpc {
            t.return_status(i32::from(any_failed));
            t.done_proc(
                if any_failed { done::ERROR } else { done::FINAL },
                cur_cmd::NONE,
                0,
            );
        }
        self.send(&t.buf, packet_type::SQL_BATCH).await?;
        Ok(Flow::Continue)
    }

    /// DONE (batch) or DONEINPROC (inside `sp_executesql`) after one statement.
    fn statement_done(
        &self,
        t: &mut TokenWriter,
        rpc: bool,
        last: bool,
        failed: bool,
        cmd: u16,
        rows: Option<u64>,
    ) {
        let mut status = if failed { done::ERROR } else { done::FINAL };
        let count = rows.filter(|_| !self.nocount);
        if count.is_some() {
            status |= done::COUNT;
        }
        if rpc {
            t.done_in_proc(status | done::MORE, cmd, count.unwrap_or(0));
        } else {
            if !last {
                status |= done::MORE;
            }
            t.done(status, cmd, count.unwrap_or(0));
        }
    }

    /// Ends a request that failed to compile.
    fn finish(
        &self,
        t: &mut TokenWriter,
        rpc: bool,
        last: bool,
        failed: bool,
        cmd: u16,
        rows: Option<u64>,
    ) {
        if rpc {
            self.statement_done(t, true, last, failed, cmd, rows);
            t.return_status(1);
            t.done_proc(done::ERROR, cur_cmd::NONE, 0);
        } else {
            self.statement_done(t, false, last, failed, cmd, rows);
        }
    }
}
