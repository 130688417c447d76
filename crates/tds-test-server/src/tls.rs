//! TLS inside TDS, as SQL Server does it: the PRELOGIN answer says whether to encrypt, then
//! the TLS handshake travels inside PRELOGIN packets (MS-TDS 2.2.6.5, 3.3.5.1); after it,
//! either everything runs over TLS, or (`ENCRYPT_OFF`) only the LOGIN7 packet did and the
//! connection goes back to plain TDS. Also the certificates tests use, made with `rcgen`.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::protocol::{HEADER_LEN, packet_type};

/// What the server answers a client's PRELOGIN ENCRYPTION option with, as SQL Server
/// configured with a certificate does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Force Encryption off (SQL Server's default): the login packet is encrypted, the rest
    /// only when the client asks for it.
    Off,
    /// Force Encryption on, answered as `ENCRYPT_ON`: everything is encrypted.
    On,
    /// Force Encryption on, answered as `ENCRYPT_REQ`: everything is encrypted.
    Required,
}

impl std::str::FromStr for Encryption {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "off" => Ok(Encryption::Off),
            "on" => Ok(Encryption::On),
            "required" => Ok(Encryption::Required),
            _ => Err(format!(
                "unknown encryption `{text}` (one of off, on, required)"
            )),
        }
    }
}

/// The PRELOGIN ENCRYPTION byte values.
pub(crate) mod encrypt {
    pub(crate) const OFF: u8 = 0x00;
    pub(crate) const ON: u8 = 0x01;
    pub(crate) const NOT_SUP: u8 = 0x02;
    pub(crate) const REQ: u8 = 0x03;
}

/// What a connection does after PRELOGIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negotiated {
    Plain,
    LoginOnly,
    Full,
}

/// The server's ENCRYPTION answer and what follows, from its setting and the client's byte
/// (MS-TDS 2.2.6.5). A client that cannot encrypt meets a server that forces it with the
/// forcing answer; it then ends the connection, or tries TLS after all.
pub(crate) fn negotiate(server: Option<Encryption>, client: u8) -> (u8, Negotiated) {
    match (server, client) {
        (None, _) | (Some(Encryption::Off), encrypt::NOT_SUP) => {
            (encrypt::NOT_SUP, Negotiated::Plain)
        }
        (Some(Encryption::Off), encrypt::OFF) => (encrypt::OFF, Negotiated::LoginOnly),
        (Some(Encryption::Off | Encryption::On), _) => (encrypt::ON, Negotiated::Full),
        (Some(Encryption::Required), _) => (encrypt::REQ, Negotiated::Full),
    }
}

/// The server's certificate and its encryption setting.
#[derive(Clone)]
pub struct Tls {
    pub encryption: Encryption,
    pub(crate) config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("encryption", &self.encryption)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads `cert.pem` (the certificate, then its chain) and `key.pem` from `dir`.
    pub fn from_dir(dir: &Path, encryption: Encryption) -> Result<Tls, String> {
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        let read =
            |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
        let cert_pem = read(&cert_path)?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", cert_path.display()))?;
        if chain.is_empty() {
            return Err(format!("{}: no certificate", cert_path.display()));
        }
        let key = PrivateKeyDer::from_pem_slice(&read(&key_path)?)
            .map_err(|e| format!("{}: {e}", key_path.display()))?;
        // TLS 1.2, as SQL Server speaks it inside TDS 7.x (TLS 1.3 only comes with TDS 8's
        // strict mode, where TLS starts before PRELOGIN).
        let config =
            rustls::ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| format!("{}: {e}", cert_path.display()))?;
        Ok(Tls {
            encryption,
            config: Arc::new(config),
        })
    }
}

/// Writes a test CA (`ca.pem`) and a certificate for `localhost` and 127.0.0.1 signed by it
/// (`cert.pem`, with the CA after it, and `key.pem`) into `dir`. Nothing trusts the CA
/// unless told to: a client validating against the system's store rejects the certificate.
pub fn write_test_certificates(dir: &Path) -> Result<(), String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let error = |e: rcgen::Error| format!("certificate generation: {e}");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(error)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tds-test-server test CA");
    let ca_key = KeyPair::generate().map_err(error)?;
    let ca = ca_params.self_signed(&ca_key).map_err(error)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(error)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().map_err(error)?;
    let cert = params.signed_by(&key, &ca, &ca_key).map_err(error)?;
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text)
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    write("ca.pem", ca.pem())?;
    write("cert.pem", format!("{}{}", cert.pem(), ca.pem()))?;
    write("key.pem", key.serialize_pem())
}

/// The TCP stream during and after the handshake: while handshaking, what TLS writes leaves
/// in PRELOGIN packets and what arrives has their headers taken off; afterwards bytes pass
/// through untouched.
pub(crate) struct PreloginFraming<S> {
    inner: S,
    handshaking: bool,
    header: [u8; HEADER_LEN],
    header_read: usize,
    /// Bytes of the current packet's payload still to hand to TLS.
    remaining: usize,
    /// What TLS wrote since the last flush.
    outgoing: Vec<u8>,
    /// Framed bytes not yet written to the socket.
    pending: Vec<u8>,
}

impl<S> PreloginFraming<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            handshaking: true,
            header: [0; HEADER_LEN],
            header_read: 0,
            remaining: 0,
            outgoing: Vec::new(),
            pending: Vec::new(),
        }
    }

    pub(crate) fn handshake_done(&mut self) {
        self.handshaking = false;
    }

    pub(crate) fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PreloginFraming<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.handshaking {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        while this.remaining == 0 {
            while this.header_read < HEADER_LEN {
                let mut header = ReadBuf::new(&mut this.header[this.header_read..]);
                ready!(Pin::new(&mut this.inner).poll_read(cx, &mut header))?;
                let n = header.filled().len();
                if n == 0 {
                    return Poll::Ready(Ok(()));
                }
                this.header_read += n;
            }
            this.header_read = 0;
            if this.header[0] != packet_type::PRELOGIN {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "packet type {} during the TLS handshake (expected PRELOGIN)",
                        this.header[0]
                    ),
                )));
            }
            let length = usize::from(u16::from_be_bytes([this.header[2], this.header[3]]));
            this.remaining = length.checked_sub(HEADER_LEN).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "packet shorter than its header")
            })?;
        }
        let want = this.remaining.min(buf.remaining());
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(want));
        ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
        let n = limited.filled().len();
        buf.advance(n);
        this.remaining -= n;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PreloginFraming<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.handshaking && this.pending.is_empty() {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        this.outgoing.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.outgoing.is_empty() {
            // One PRELOGIN message per flush, in packets of at most 4,096 bytes.
            let chunks: Vec<&[u8]> = this.outgoing.chunks(4096 - HEADER_LEN).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                let last = i + 1 == chunks.len();
                let length = u16::try_from(chunk.len() + HEADER_LEN).unwrap_or(u16::MAX);
                this.pending.push(packet_type::PRELOGIN);
                this.pending.push(u8::from(last));
                this.pending.extend_from_slice(&length.to_be_bytes());
                this.pending.extend_from_slice(&[0, 0, 1, 0]);
                this.pending.extend_from_slice(chunk);
            }
            this.outgoing.clear();
        }
        while !this.pending.is_empty() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &this.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.pending.drain(..n);
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prelogin_answer_follows_ms_tds() {
        use Negotiated::{Full, LoginOnly, Plain};
        assert_eq!(negotiate(None, encrypt::ON), (encrypt::NOT_SUP, Plain));
        let off = Some(Encryption::Off);
        assert_eq!(negotiate(off, encrypt::OFF), (encrypt::OFF, LoginOnly));
        assert_eq!(negotiate(off, encrypt::NOT_SUP), (encrypt::NOT_SUP, Plain));
        assert_eq!(negotiate(off, encrypt::ON), (encrypt::ON, Full));
        assert_eq!(negotiate(off, encrypt::REQ), (encrypt::ON, Full));
        let required = Some(Encryption::Required);
        assert_eq!(negotiate(required, encrypt::OFF), (encrypt::REQ, Full));
        assert_eq!(
            negotiate(Some(Encryption::On), encrypt::OFF),
            (encrypt::ON, Full)
        );
    }
}
