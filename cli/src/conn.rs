//! `probe`'s connection: plain TCP, or TLS over it with the runtime's rustls (blocking, as
//! the rest of `probe`: one connection, bounded waits).

use polywire::rt::tls::{self, rustls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How `probe` speaks to its server.
#[derive(Debug, Clone, Default)]
pub enum Security {
    /// Plain TCP.
    #[default]
    Plain,
    /// TLS, trusting `trust`; the server's certificate must name `server_name` (by default
    /// the host of the address).
    Tls {
        /// Which server certificates are accepted.
        trust: Trust,
        /// The name the certificate must carry, and the one sent in the hello (SNI).
        server_name: Option<String>,
    },
}

/// Which server certificates a TLS probe accepts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Those that chain to a CA of this PEM file.
    Ca(PathBuf),
    /// Any (the server still proves it holds the certificate's key).
    Any,
}

/// An open connection: TCP, or a TLS session over it.
pub struct Conn {
    /// The socket, for its read timeout (shared with `io`).
    tcp: TcpStream,
    io: Box<dyn ReadWrite>,
    /// Whether TLS is on.
    pub tls: bool,
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

impl Conn {
    /// Connects to `addr` before `deadline` and, with TLS, completes the TLS handshake.
    pub fn connect(addr: &str, security: &Security, deadline: Instant) -> Result<Conn, String> {
        let tcp = tcp_connect(addr, deadline)?;
        let Security::Tls { trust, server_name } = security else {
            let io = tcp
                .try_clone()
                .map_err(|e| format!("cannot use the connection to {addr}: {e}"))?;
            return Ok(Conn {
                tcp,
                io: Box::new(io),
                tls: false,
            });
        };
        let config = match trust {
            Trust::Ca(ca) => {
                tls::client_config_from_pem(ca, None).map_err(|e| format!("--ca {e}"))?
            }
            Trust::Any => any_certificate()?,
        };
        let name = server_name
            .clone()
            .unwrap_or_else(|| host_of(addr).to_string());
        let name = ServerName::try_from(name.clone()).map_err(|e| {
            format!("`{name}` cannot be a TLS server name ({e}): give --server-name")
        })?;
        let mut session = rustls::ClientConnection::new(Arc::new(config), name)
            .map_err(|e| format!("cannot start TLS: {e}"))?;
        let mut sock = tcp
            .try_clone()
            .map_err(|e| format!("cannot use the connection to {addr}: {e}"))?;
        while session.is_handshaking() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no TLS handshake with {addr} in time"));
            }
            let _ = tcp.set_read_timeout(Some(left));
            let _ = tcp.set_write_timeout(Some(left));
            if let Err(e) = session.complete_io(&mut sock) {
                return Err(handshake_error(addr, &e));
            }
        }
        Ok(Conn {
            tcp,
            io: Box::new(rustls::StreamOwned::new(session, sock)),
            tls: true,
        })
    }

    /// How long a read may wait.
    pub fn set_read_timeout(&self, wait: Duration) {
        let _ = self
            .tcp
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.io.read(buf)
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.io.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.io.flush()
    }
}

/// A TCP connection to the first of `addr`'s addresses that answers before `deadline`.
fn tcp_connect(addr: &str, deadline: Instant) -> Result<TcpStream, String> {
    let addrs = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let mut last = format!("cannot connect to {addr}: it names no address");
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("cannot connect to {addr}: no answer in time"));
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    Err(last)
}

/// The host part of `host:port` (`[::1]:80` gives `::1`).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// What went wrong in a TLS handshake, in a sentence: rustls's reason (a certificate that
/// does not verify, an alert), or the connection's fate.
fn handshake_error(addr: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        let hint = match tls {
            rustls::Error::InvalidCertificate(_) => {
                " (trust its CA with --ca, name it with --server-name, or skip the check with --insecure)"
            }
            _ => "",
        };
        return format!("TLS handshake with {addr} failed: {tls}{hint}");
    }
    match e.kind() {
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => format!(
            "the server closed the connection during the TLS handshake: does {addr} speak TLS?"
        ),
        WouldBlock | TimedOut => format!("no TLS handshake with {addr} in time"),
        _ => format!("TLS handshake with {addr} failed: {e}"),
    }
}

/// A client configuration that accepts any server certificate (`--insecure`).
fn any_certificate() -> Result<rustls::ClientConfig, String> {
    let provider = tls::provider();
    Ok(
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot start TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    )
}

/// Accepts every certificate, but still checks the handshake's signatures: the server must
/// hold the key of the certificate it shows.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_of_an_address() {
        assert_eq!(host_of("127.0.0.1:9876"), "127.0.0.1");
        assert_eq!(host_of("localhost:1"), "localhost");
        assert_eq!(host_of("[::1]:80"), "::1");
        assert_eq!(host_of("example.org"), "example.org");
    }
}
