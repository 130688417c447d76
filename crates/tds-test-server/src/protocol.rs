//! TDS 7.4 wire format: packet framing, PRELOGIN, LOGIN7, RPC requests and the response tokens
//! (MS-TDS §2.2). Knows bytes, not SQL: nothing here looks at the catalog.

use std::fmt;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub(crate) const HEADER_LEN: usize = 8;
/// Refuse client messages larger than this instead of buffering without bound.
const MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;

/// Packet types (MS-TDS §2.2.3.1.1) the server receives or sends.
pub(crate) mod packet_type {
    pub(crate) const SQL_BATCH: u8 = 0x01;
    pub(crate) const RPC: u8 = 0x03;
    pub(crate) const TABULAR_RESULT: u8 = 0x04;
    pub(crate) const ATTENTION: u8 = 0x06;
    pub(crate) const LOGIN7: u8 = 0x10;
    pub(crate) const PRELOGIN: u8 = 0x12;
}

const STATUS_EOM: u8 = 0x01;

/// Why the server gave up on a connection. Never a panic: malformed input ends up here.
#[derive(Debug)]
pub(crate) enum ProtocolError {
    Io(std::io::Error),
    Malformed(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Io(e) => write!(f, "i/o: {e}"),
            ProtocolError::Malformed(m) => write!(f, "malformed TDS: {m}"),
        }
    }
}

impl From<std::io::Error> for ProtocolError {
    fn from(e: std::io::Error) -> Self {
        ProtocolError::Io(e)
    }
}

fn malformed(what: impl Into<String>) -> ProtocolError {
    ProtocolError::Malformed(what.into())
}

/// One client message: the payloads of its packets up to the end-of-message packet.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) packet_type: u8,
    pub(crate) payload: Vec<u8>,
}

/// Reads whole messages. Cancel safe: bytes read so far stay in `buf`, so a `select!` that
/// drops `next_message` (to watch for an attention while stalling) loses nothing.
pub(crate) struct MessageReader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> MessageReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self::with_buffered(inner, Vec::new())
    }

    /// A reader that first hands out `buf`, bytes already read from `inner`.
    pub(crate) fn with_buffered(inner: R, buf: Vec<u8>) -> Self {
        Self { inner, buf }
    }

    /// The stream and what was read from it beyond the messages taken so far.
    pub(crate) fn into_parts(self) -> (R, Vec<u8>) {
        (self.inner, self.buf)
    }

    /// `Ok(None)` on a clean end of stream between messages.
    pub(crate) async fn next_message(&mut self) -> Result<Option<Message>, ProtocolError> {
        loop {
            if let Some(message) = self.take_message()? {
                return Ok(Some(message));
            }
            let mut chunk = [0u8; 8192];
            let n = self.inner.read(&mut chunk).await?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(malformed("connection closed inside a message"))
                };
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Cuts one complete message out of the buffer if all its packets have arrived.
    fn take_message(&mut self) -> Result<Option<Message>, ProtocolError> {
        let mut offset = 0;
        let mut payload_len = 0;
        let mut packet_type = None;
        loop {
            let Some(header) = self.buf.get(offset..offset + HEADER_LEN) else {
                return Ok(None);
            };
            let ty = header[0];
            let status = header[1];
            let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
            if length < HEADER_LEN {
                return Err(malformed(format!(
                    "packet length {length} below header size"
                )));
            }
            match packet_type {
                None => packet_type = Some(ty),
                Some(first) if first != ty => {
                    return Err(malformed(format!(
                        "packet type changed from {first} to {ty} inside a message"
                    )));
                }
                Some(_) => {}
            }
            if self.buf.len() < offset + length {
                return Ok(None);
            }
            payload_len += length - HEADER_LEN;
            if payload_len > MAX_MESSAGE_LEN {
                return Err(malformed("message too large"));
            }
            offset += length;
            if status & STATUS_EOM != 0 {
                break;
            }
        }
        let mut payload = Vec::with_capacity(payload_len);
        let mut pos = 0;
        while pos < offset {
            let length = usize::from(u16::from_be_bytes([self.buf[pos + 2], self.buf[pos + 3]]));
            payload.extend_from_slice(&self.buf[pos + HEADER_LEN..pos + length]);
            pos += length;
        }
        self.buf.drain(..offset);
        Ok(packet_type.map(|packet_type| Message {
            packet_type,
            payload,
        }))
    }
}

/// Writes `payload` as a tabular-result message split into packets of at most `packet_size`
/// bytes. With `end_of_message == false` the last packet lacks EOM (used to cut a reply short).
pub(crate) async fn write_message<W: AsyncWrite + Unpin>(
    out: &mut W,
    spid: u16,
    packet_size: usize,
    payload: &[u8],
    end_of_message: bool,
) -> Result<(), ProtocolError> {
    let chunk_len = packet_size.saturating_sub(HEADER_LEN).max(1);
    let mut chunks: Vec<&[u8]> = payload.chunks(chunk_len).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    let mut bytes = Vec::with_capacity(payload.len() + HEADER_LEN * chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let status = if i == last && end_of_message {
            STATUS_EOM
        } else {
            0
        };
        let length =
            u16::try_from(chunk.len() + HEADER_LEN).map_err(|_| malformed("packet size"))?;
        bytes.push(packet_type::TABULAR_RESULT);
        bytes.push(status);
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(&spid.to_be_bytes());
        // Packet id wraps modulo 256, as the spec allows.
        bytes.push(u8::try_from((i + 1) % 256).unwrap_or(0));
        bytes.push(0);
        bytes.extend_from_slice(chunk);
    }
    out.write_all(&bytes).await?;
    out.flush().await?;
    Ok(())
}

/// Bounds-checked little-endian reader over a payload.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| malformed("length overflow"))?;
        let slice = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| malformed("truncated payload"))?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ProtocolError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ProtocolError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ProtocolError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn i16(&mut self) -> Result<i16, ProtocolError> {
        let b = self.take(2)?;
        Ok(i16::from_le_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, ProtocolError> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64, ProtocolError> {
        Ok(i64::from_le_bytes(self.u64()?.to_le_bytes()))
    }

    fn utf16(&mut self, chars: usize) -> Result<String, ProtocolError> {
        let bytes = self.take(
            chars
                .checked_mul(2)
                .ok_or_else(|| malformed("length overflow"))?,
        )?;
        utf16_le(bytes)
    }

    fn b_varchar(&mut self) -> Result<String, ProtocolError> {
        let n = usize::from(self.u8()?);
        self.utf16(n)
    }
}

pub(crate) fn utf16_le(bytes: &[u8]) -> Result<String, ProtocolError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(malformed("odd UTF-16 byte count"));
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| malformed("invalid UTF-16"))
}

// ---------------------------------------------------------------------------------------------
// PRELOGIN and LOGIN7
// ---------------------------------------------------------------------------------------------

/// The server's PRELOGIN reply: version, `ENCRYPT_NOT_SUP`, no instance name, MARS off.
pub(crate) fn prelogin_response(version: [u8; 4], encryption: u8) -> Vec<u8> {
    // (token, data) pairs; offsets are computed from the option table size.
    let options: [(u8, Vec<u8>); 5] = [
        (
            0x00,
            vec![version[0], version[1], version[2], version[3], 0, 0],
        ), // VERSION + sub-build
        (0x01, vec![encryption]), // ENCRYPTION: the server's answer
        (0x02, vec![0x00]),       // INSTOPT: accepted
        (0x03, vec![]),           // THREADID: empty from a server
        (0x04, vec![0x00]),       // MARS off
    ];
    let mut table = Vec::new();
    let mut data = Vec::new();
    let mut offset = options.len() * 5 + 1;
    for (token, value) in &options {
        table.push(*token);
        table.extend_from_slice(&u16::try_from(offset).unwrap_or(0).to_be_bytes());
        table.extend_from_slice(&u16::try_from(value.len()).unwrap_or(0).to_be_bytes());
        data.extend_from_slice(value);
        offset += value.len();
    }
    table.push(0xFF);
    table.extend_from_slice(&data);
    table
}

/// Validates the client's PRELOGIN and returns its ENCRYPTION option (`ENCRYPT_NOT_SUP` when
/// absent).
pub(crate) fn check_prelogin(payload: &[u8]) -> Result<u8, ProtocolError> {
    let mut c = Cursor::new(payload);
    let mut encryption = 0x02;
    loop {
        let token = c.u8()?;
        if token == 0xFF {
            return Ok(encryption);
        }
        let b = c.take(4)?;
        let offset = usize::from(u16::from_be_bytes([b[0], b[1]]));
        let length = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if offset + length > payload.len() {
            return Err(malformed("PRELOGIN option points outside the payload"));
        }
        if token == 0x01 && length >= 1 {
            encryption = payload[offset];
        }
    }
}

/// The fields of LOGIN7 (MS-TDS §2.2.6.4) the server acts on.
#[derive(Debug)]
pub(crate) struct Login7 {
    pub(crate) tds_version: u32,
    pub(crate) packet_size: u32,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) database: String,
}

pub(crate) fn parse_login7(payload: &[u8]) -> Result<Login7, ProtocolError> {
    let mut c = Cursor::new(payload);
    let length = c.u32()? as usize;
    if length > payload.len() || length < 94 {
        return Err(malformed("LOGIN7 length"));
    }
    let tds_version = c.u32()?;
    let packet_size = c.u32()?;
    // ClientProgVer, ClientPID, ConnectionID, 4 option bytes, ClientTimeZone, ClientLCID.
    c.take(4 + 4 + 4 + 4 + 4 + 4)?;
    // Offset/length table: HostName, UserName, Password, AppName, ServerName, Extension,
    // CltIntName, Language, Database; each (u16 byte offset, u16 character count).
    let mut fields = [(0usize, 0usize); 9];
    for field in &mut fields {
        *field = (usize::from(c.u16()?), usize::from(c.u16()?));
    }
    let read = |(offset, chars): (usize, usize)| -> Result<Vec<u8>, ProtocolError> {
        let end = offset + chars * 2;
        payload
            .get(offset..end)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| malformed("LOGIN7 field outside payload"))
    };
    let mut password = read(fields[2])?;
    // Undo the password obfuscation: XOR 0xA5 then swap the nibbles back.
    for byte in &mut password {
        let x = *byte ^ 0xA5;
        *byte = x.rotate_left(4);
    }
    Ok(Login7 {
        tds_version,
        packet_size,
        username: utf16_le(&read(fields[1])?)?,
        password: utf16_le(&password)?,
        database: utf16_le(&read(fields[8])?)?,
    })
}

// ---------------------------------------------------------------------------------------------
// SQL batch and RPC requests
// ---------------------------------------------------------------------------------------------

/// Skips `ALL_HEADERS` (MS-TDS §2.2.5.3), present in TDS 7.2+ batch and RPC requests.
fn skip_all_headers(c: &mut Cursor<'_>, payload: &[u8]) -> Result<(), ProtocolError> {
    if payload.len() < 4 {
        return Ok(());
    }
    let total = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]) as usize;
    if total < 4 || total > payload.len() {
        return Err(malformed("ALL_HEADERS length"));
    }
    c.take(total)?;
    Ok(())
}

pub(crate) fn parse_sql_batch(payload: &[u8]) -> Result<String, ProtocolError> {
    let mut c = Cursor::new(payload);
    skip_all_headers(&mut c, payload)?;
    let rest = c.take(payload.len() - c.pos)?;
    utf16_le(rest)
}

/// A value sent as an RPC parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParamValue {
    Null,
    Int(i64),
    Bit(bool),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone)]
pub(crate) struct RpcParam {
    pub(crate) name: String,
    pub(crate) value: ParamValue,
}

#[derive(Debug)]
pub(crate) struct RpcRequest {
    /// Either the well-known procedure id (10 = `sp_executesql`) or a procedure name.
    pub(crate) procedure: RpcProcedure,
    pub(crate) params: Vec<RpcParam>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum RpcProcedure {
    Id(u16),
    Name(String),
}

pub(crate) const SP_EXECUTESQL: u16 = 10;

pub(crate) fn parse_rpc(payload: &[u8]) -> Result<RpcRequest, ProtocolError> {
    let mut c = Cursor::new(payload);
    skip_all_headers(&mut c, payload)?;
    let name_len = c.u16()?;
    let procedure = if name_len == 0xFFFF {
        RpcProcedure::Id(c.u16()?)
    } else {
        RpcProcedure::Name(c.utf16(usize::from(name_len))?)
    };
    let _option_flags = c.u16()?;
    let mut params = Vec::new();
    while !c.is_empty() {
        let first = c.data.get(c.pos).copied().unwrap_or(0);
        // A batch flag (0x80/0xFF) would start the next RPC of the same request; one is enough.
        if first == 0x80 || first == 0xFF {
            break;
        }
        let name = c.b_varchar()?;
        let _status = c.u8()?;
        let value = read_param_value(&mut c)?;
        params.push(RpcParam { name, value });
    }
    Ok(RpcRequest { procedure, params })
}

/// Reads `TYPE_INFO` followed by the value, for the types tiberius sends as parameters.
fn read_param_value(c: &mut Cursor<'_>) -> Result<ParamValue, ProtocolError> {
    let ty = c.u8()?;
    match ty {
        // Fixed-length types.
        0x30 => Ok(ParamValue::Int(i64::from(c.u8()?))),
        0x34 => Ok(ParamValue::Int(i64::from(c.i16()?))),
        0x38 => Ok(ParamValue::Int(i64::from(c.i32()?))),
        0x7F => Ok(ParamValue::Int(c.i64()?)),
        0x32 => Ok(ParamValue::Bit(c.u8()? != 0)),
        0x3E => Ok(ParamValue::Float(f64::from_bits(c.u64()?))),
        0x1F => Ok(ParamValue::Null),
        // INTN
        0x26 => {
            let _max = c.u8()?;
            match c.u8()? {
                0 => Ok(ParamValue::Null),
                1 => Ok(ParamValue::Int(i64::from(c.u8()?))),
                2 => Ok(ParamValue::Int(i64::from(c.i16()?))),
                4 => Ok(ParamValue::Int(i64::from(c.i32()?))),
                8 => Ok(ParamValue::Int(c.i64()?)),
                n => Err(malformed(format!("INTN length {n}"))),
            }
        }
        // BITN
        0x68 => {
            let _max = c.u8()?;
            match c.u8()? {
                0 => Ok(ParamValue::Null),
                1 => Ok(ParamValue::Bit(c.u8()? != 0)),
                n => Err(malformed(format!("BITN length {n}"))),
            }
        }
        // FLOATN
        0x6D => {
            let _max = c.u8()?;
            match c.u8()? {
                0 => Ok(ParamValue::Null),
                4 => Ok(ParamValue::Float(f64::from(f32::from_bits(c.u32()?)))),
                8 => Ok(ParamValue::Float(f64::from_bits(c.u64()?))),
                n => Err(malformed(format!("FLOATN length {n}"))),
            }
        }
        // NVARCHAR / NCHAR, short or PLP (max).
        0xE7 | 0xEF => {
            let max = c.u16()?;
            let _collation = c.take(5)?;
            if max == 0xFFFF {
                read_plp(c)?.map_or(Ok(ParamValue::Null), |b| utf16_le(&b).map(ParamValue::Str))
            } else {
                let len = c.u16()?;
                if len == 0xFFFF {
                    Ok(ParamValue::Null)
                } else {
                    c.utf16(usize::from(len) / 2).map(ParamValue::Str)
                }
            }
        }
        other => Err(malformed(format!(
            "unsupported RPC parameter type 0x{other:02X}"
        ))),
    }
}

/// Partially length-prefixed bytes: u64 total (or unknown), then u32-prefixed chunks up to 0.
fn read_plp(c: &mut Cursor<'_>) -> Result<Option<Vec<u8>>, ProtocolError> {
    let total = c.u64()?;
    if total == u64::MAX {
        return Ok(None);
    }
    let mut out = Vec::new();
    loop {
        let chunk = c.u32()? as usize;
        if chunk == 0 {
            return Ok(Some(out));
        }
        out.extend_from_slice(c.take(chunk)?);
        if out.len() > MAX_MESSAGE_LEN {
            return Err(malformed("PLP value too large"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Result values and response tokens
// ---------------------------------------------------------------------------------------------

/// Column types the server sends, each as SQL Server itself sends that column type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SqlType {
    /// INTN length 4.
    Int,
    /// BITN.
    Bit,
    /// NVARCHARTYPE, maximum length in characters.
    NVarChar(u16),
    /// BIGCHARTYPE (`char(n)`), single-byte, Latin1 collation.
    Char(u16),
    /// DATETIMN length 8 (`datetime`, what msdb stores).
    DateTime,
    /// NUMERICN with precision and scale 0 (LSNs and sizes in msdb are `numeric(25|20,0)`).
    Numeric(u8),
}

/// One cell. Dates are milliseconds since 1900-01-01T00:00:00 (the `datetime` epoch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Bit(bool),
    Str(String),
    DateTime(i64),
    Numeric(u128),
}

#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) ty: SqlType,
}

impl Column {
    pub(crate) fn new(name: &str, ty: SqlType) -> Self {
        Self {
            name: name.to_string(),
            ty,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ResultSet {
    pub(crate) columns: Vec<Column>,
    pub(crate) rows: Vec<Vec<Value>>,
}

/// `SQL_Latin1_General_CP1_CI_AS`, the default server collation of the era.
const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

/// DONE status bits (MS-TDS §2.2.7.6).
pub(crate) mod done {
    pub(crate) const FINAL: u16 = 0x00;
    pub(crate) const MORE: u16 = 0x01;
    pub(crate) const ERROR: u16 = 0x02;
    pub(crate) const COUNT: u16 = 0x10;
    pub(crate) const ATTN: u16 = 0x20;
}

/// `CurCmd` values used in DONE tokens.
pub(crate) mod cur_cmd {
    pub(crate) const NONE: u16 = 0x00;
    pub(crate) const SELECT: u16 = 0xC1;
}

/// Accumulates the tokens of one response message.
#[derive(Default)]
pub(crate) struct TokenWriter {
    pub(crate) buf: Vec<u8>,
}

fn push_b_varchar(buf: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(255).collect();
    buf.push(u8::try_from(units.len()).unwrap_or(u8::MAX));
    for u in units {
        buf.extend_from_slice(&u.to_le_bytes());
    }
}

fn push_us_varchar(buf: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(usize::from(u16::MAX)).collect();
    buf.extend_from_slice(&u16::try_from(units.len()).unwrap_or(u16::MAX).to_le_bytes());
    for u in units {
        buf.extend_from_slice(&u.to_le_bytes());
    }
}

fn numeric_len(precision: u8) -> u8 {
    match precision {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

impl TokenWriter {
    /// A token whose body is prefixed by its u16 length.
    fn sized(&mut self, token: u8, body: &[u8]) {
        self.buf.push(token);
        self.buf
            .extend_from_slice(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_le_bytes());
        self.buf.extend_from_slice(body);
    }

    pub(crate) fn env_change_str(&mut self, ty: u8, new: &str, old: &str) {
        let mut body = vec![ty];
        push_b_varchar(&mut body, new);
        push_b_varchar(&mut body, old);
        self.sized(0xE3, &body);
    }

    pub(crate) fn env_change_collation(&mut self) {
        let mut body = vec![0x07, 5];
        body.extend_from_slice(&COLLATION);
        body.push(0);
        self.sized(0xE3, &body);
    }

    pub(crate) fn login_ack(&mut self, tds_version: u32, prog_name: &str, version: [u8; 4]) {
        let mut body = vec![0x01]; // interface: SQL_TSQL
        body.extend_from_slice(&tds_version.to_be_bytes());
        push_b_varchar(&mut body, prog_name);
        body.extend_from_slice(&version);
        self.sized(0xAD, &body);
    }

    fn message(&mut self, token: u8, number: u32, state: u8, class: u8, text: &str, server: &str) {
        let mut body = Vec::new();
        body.extend_from_slice(&number.to_le_bytes());
        body.push(state);
        body.push(class);
        push_us_varchar(&mut body, text);
        push_b_varchar(&mut body, server);
        push_b_varchar(&mut body, "");
        body.extend_from_slice(&1u32.to_le_bytes()); // line number
        self.sized(token, &body);
    }

    pub(crate) fn error(&mut self, number: u32, state: u8, class: u8, text: &str, server: &str) {
        self.message(0xAA, number, state, class, text, server);
    }

    pub(crate) fn info(&mut self, number: u32, state: u8, class: u8, text: &str, server: &str) {
        self.message(0xAB, number, state, class, text, server);
    }

    fn done_token(&mut self, token: u8, status: u16, cmd: u16, rows: u64) {
        self.buf.push(token);
        self.buf.extend_from_slice(&status.to_le_bytes());
        self.buf.extend_from_slice(&cmd.to_le_bytes());
        self.buf.extend_from_slice(&rows.to_le_bytes());
    }

    pub(crate) fn done(&mut self, status: u16, cmd: u16, rows: u64) {
        self.done_token(0xFD, status, cmd, rows);
    }

    pub(crate) fn done_in_proc(&mut self, status: u16, cmd: u16, rows: u64) {
        self.done_token(0xFF, status, cmd, rows);
    }

    pub(crate) fn done_proc(&mut self, status: u16, cmd: u16, rows: u64) {
        self.done_token(0xFE, status, cmd, rows);
    }

    pub(crate) fn return_status(&mut self, value: i32) {
        self.buf.push(0x79);
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn col_metadata(&mut self, columns: &[Column]) {
        self.buf.push(0x81);
        self.buf
            .extend_from_slice(&u16::try_from(columns.len()).unwrap_or(0).to_le_bytes());
        for column in columns {
            self.buf.extend_from_slice(&0u32.to_le_bytes()); // UserType
            self.buf.extend_from_slice(&0x0001u16.to_le_bytes()); // Flags: nullable
            match column.ty {
                SqlType::Int => self.buf.extend_from_slice(&[0x26, 4]),
                SqlType::Bit => self.buf.extend_from_slice(&[0x68, 1]),
                SqlType::DateTime => self.buf.extend_from_slice(&[0x6F, 8]),
                SqlType::Numeric(precision) => {
                    self.buf
                        .extend_from_slice(&[0x6C, numeric_len(precision), precision, 0]);
                }
                SqlType::NVarChar(chars) => {
                    self.buf.push(0xE7);
                    self.buf
                        .extend_from_slice(&chars.saturating_mul(2).to_le_bytes());
                    self.buf.extend_from_slice(&COLLATION);
                }
                SqlType::Char(len) => {
                    self.buf.push(0xAF);
                    self.buf.extend_from_slice(&len.to_le_bytes());
                    self.buf.extend_from_slice(&COLLATION);
                }
            }
            push_b_varchar(&mut self.buf, &column.name);
        }
    }

    pub(crate) fn row(&mut self, columns: &[Column], row: &[Value]) {
        self.buf.push(0xD1);
        for (column, value) in columns.iter().zip(row) {
            self.value(column.ty, value);
        }
    }

    fn value(&mut self, ty: SqlType, value: &Value) {
        let b = &mut self.buf;
        match (ty, value) {
            (SqlType::NVarChar(_) | SqlType::Char(_), Value::Null) => {
                b.extend_from_slice(&0xFFFFu16.to_le_bytes());
            }
            (_, Value::Null) => b.push(0),
            (SqlType::Int, Value::Int(v)) => {
                b.push(4);
                b.extend_from_slice(&i32::try_from(*v).unwrap_or(i32::MAX).to_le_bytes());
            }
            (SqlType::Bit, Value::Bit(v)) => b.extend_from_slice(&[1, u8::from(*v)]),
            (SqlType::DateTime, Value::DateTime(ms)) => {
                let days = ms.div_euclid(86_400_000);
                let in_day = ms.rem_euclid(86_400_000);
                // 1/300 s ticks, rounded like SQL Server rounds .xx7 milliseconds.
                let ticks = (in_day * 3 + 5) / 10;
                b.push(8);
                b.extend_from_slice(&i32::try_from(days).unwrap_or(0).to_le_bytes());
                b.extend_from_slice(&u32::try_from(ticks).unwrap_or(0).to_le_bytes());
            }
            (SqlType::Numeric(precision), Value::Numeric(v)) => {
                let len = numeric_len(precision);
                b.push(len);
                b.push(1); // positive
                b.extend_from_slice(&v.to_le_bytes()[..usize::from(len - 1)]);
            }
            (SqlType::NVarChar(_), Value::Str(s)) => {
                let units: Vec<u16> = s.encode_utf16().collect();
                b.extend_from_slice(&u16::try_from(units.len() * 2).unwrap_or(0).to_le_bytes());
                for u in units {
                    b.extend_from_slice(&u.to_le_bytes());
                }
            }
            (SqlType::Char(len), Value::Str(s)) => {
                // char(n) is blank padded; the collation is Latin1 so map chars to single bytes.
                let mut bytes: Vec<u8> = s
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                    .collect();
                bytes.resize(usize::from(len), b' ');
                b.extend_from_slice(&len.to_le_bytes());
                b.extend_from_slice(&bytes);
            }
            (ty, value) => {
                // A programming error in a result builder; send NULL rather than a broken row.
                debug_assert!(false, "value {value:?} does not fit column type {ty:?}");
                match ty {
                    SqlType::NVarChar(_) | SqlType::Char(_) => {
                        b.extend_from_slice(&0xFFFFu16.to_le_bytes());
                    }
                    _ => b.push(0),
                }
            }
        }
    }
}
