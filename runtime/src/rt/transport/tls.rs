//! TLS for [`MultiServer`] ports, with rustls, in RocketMQ's three
//! server modes: [`TlsMode::Disabled`], [`TlsMode::Permissive`] (TLS and plaintext on one
//! port, told apart by the first byte: a TLS record starts with 0x16) and
//! [`TlsMode::Enforcing`] (plaintext refused). Inside a TLS session the protocol is
//! detected from the decrypted bytes, as on a plaintext connection. Clients start TLS with
//! [`ClientTls`] before their transport ([`Attempt::tls`](crate::rt::Attempt::tls)).

use super::{Layer, Rewind, Upgrade, Verdict};
use crate::rt::{BoxFuture, Io, MultiServer, MultiServerConfig};
use bytes::BytesMut;
use std::path::Path;
use std::sync::Arc;
pub use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Whether a port takes TLS, plaintext or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Plaintext only: a TLS hello is traffic no protocol claims.
    #[default]
    Disabled,
    /// TLS and plaintext both, told apart by the first byte.
    Permissive,
    /// TLS only: plaintext connections are closed.
    Enforcing,
}

/// TLS settings of a [`MultiServer`]. Deserialized from [`TlsFiles`]
/// (the PEM files are read then).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "TlsFiles")]
pub struct TlsSettings {
    /// Which connections are accepted.
    pub mode: TlsMode,
    /// The rustls server configuration (certificate, key, client verification, ALPN).
    pub config: Arc<rustls::ServerConfig>,
}

/// TLS settings as a configuration file gives them: the mode and the PEM files.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Which connections are accepted.
    #[serde(default)]
    pub mode: TlsMode,
    /// The certificate chain.
    pub cert: std::path::PathBuf,
    /// Its private key.
    pub key: std::path::PathBuf,
    /// CAs that client certificates must chain to (client certificates required).
    #[serde(default)]
    pub client_ca: Option<std::path::PathBuf>,
}

impl TryFrom<TlsFiles> for TlsSettings {
    type Error = TlsError;

    fn try_from(f: TlsFiles) -> Result<Self, TlsError> {
        let config = server_config_from_pem(&f.cert, &f.key, f.client_ca.as_deref())?;
        Ok(TlsSettings {
            mode: f.mode,
            config: Arc::new(config),
        })
    }
}

/// A certificate, key or CA file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct TlsError {
    /// The file (or the configuration step) that failed.
    pub file: String,
    /// What was wrong.
    pub reason: String,
}

impl TlsError {
    fn new(file: &Path, reason: impl std::fmt::Display) -> Self {
        TlsError {
            file: file.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// A rustls server configuration from PEM files: the certificate chain and its private key
/// and, with `client_ca`, client certificates required and verified against those CAs.
/// ALPN offers `h2` and `http/1.1` (for HTTP/2 and WebSocket clients).
pub fn server_config_from_pem(
    cert_chain: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<rustls::ServerConfig, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert_chain)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::new(cert_chain, e))?;
    if certs.is_empty() {
        return Err(TlsError::new(cert_chain, "no CERTIFICATE block"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::new(key, e))?;
    let provider = provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new(cert_chain, e))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca).map_err(|e| TlsError::new(ca, e))? {
                roots
                    .add(c.map_err(|e| TlsError::new(ca, e))?)
                    .map_err(|e| TlsError::new(ca, e))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| TlsError::new(ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::new(cert_chain, e))?;
    // HTTP/2 and WebSocket clients (curl, browsers) choose by ALPN; clients that offer no
    // ALPN (most protocol clients) are served as well.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A client's TLS settings as a configuration file gives them (`[tls]` of a
/// [`ClientConfig`](crate::rt::ClientConfig)): the CAs to trust, the name the server's
/// certificate must carry, and a client certificate for servers that ask for one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTlsFiles {
    /// PEM file of the CA certificates the server's certificate must chain to.
    pub ca: std::path::PathBuf,
    /// The name the server's certificate must carry.
    pub server_name: String,
    /// PEM file of a client certificate chain (with `key`).
    #[serde(default)]
    pub cert: Option<std::path::PathBuf>,
    /// PEM file of the client certificate's private key.
    #[serde(default)]
    pub key: Option<std::path::PathBuf>,
}

impl TryFrom<ClientTlsFiles> for ClientTls {
    type Error = TlsError;

    fn try_from(f: ClientTlsFiles) -> Result<Self, TlsError> {
        let server_name =
            rustls::pki_types::ServerName::try_from(f.server_name.clone()).map_err(|e| {
                TlsError {
                    file: "server_name".into(),
                    reason: format!("{:?}: {e}", f.server_name),
                }
            })?;
        let identity = match (&f.cert, &f.key) {
            (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
            (None, None) => None,
            (Some(c), None) => return Err(TlsError::new(c, "a client certificate without `key`")),
            (None, Some(k)) => return Err(TlsError::new(k, "a key without `cert`")),
        };
        Ok(ClientTls {
            config: Arc::new(client_config_from_pem(&f.ca, identity)?),
            server_name,
        })
    }
}

/// A rustls client configuration from PEM files: the CAs to trust and, optionally, a
/// client certificate chain and its key.
pub fn client_config_from_pem(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(|e| TlsError::new(ca, e))? {
        roots
            .add(c.map_err(|e| TlsError::new(ca, e))?)
            .map_err(|e| TlsError::new(ca, e))?;
    }
    if roots.is_empty() {
        return Err(TlsError::new(ca, "no CERTIFICATE block"));
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new(ca, e))?
        .with_root_certificates(roots);
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let certs = CertificateDer::pem_file_iter(cert)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| TlsError::new(cert, e))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::new(key, e))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| TlsError::new(cert, e))
        }
    }
}

/// The crypto provider: rustls's *ring* one. aws-lc-rs (rustls's default, with
/// post-quantum key exchange, for which rustls 0.23.48 deprecates this function) needs
/// cmake to build, which a fresh machine of this project does not have.
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// True when `first` starts a TLS handshake record (a ClientHello).
pub(crate) fn looks_like_tls(first: &[u8]) -> bool {
    first.first() == Some(&0x16)
}

/// TLS on a shared port (none when the mode is [`TlsMode::Disabled`]).
pub(crate) fn upgrade(config: &MultiServerConfig) -> Option<Arc<dyn Upgrade>> {
    let tls = config
        .tls
        .as_ref()
        .filter(|t| t.mode != TlsMode::Disabled)?;
    Some(Arc::new(TlsUpgrade(tls.clone())))
}

/// TLS as a shared port finds it: a connection as accepted whose first byte starts a TLS
/// record. Inside the session the other transports and the protocols are detected again.
struct TlsUpgrade(TlsSettings);

impl Upgrade for TlsUpgrade {
    fn detect(&self, first: &[u8], layer: Layer) -> Verdict {
        if !matches!(layer, Layer::Outer(_)) || first.is_empty() {
            Verdict::No
        } else if looks_like_tls(first) {
            Verdict::Yes
        } else if self.0.mode == TlsMode::Enforcing {
            Verdict::Refuse("plaintext refused (TLS enforcing)")
        } else {
            Verdict::No
        }
    }

    fn accept(
        &self,
        server: &MultiServer,
        io: Box<dyn Io>,
        first: BytesMut,
        peer: String,
        _layer: Layer,
    ) -> BoxFuture<()> {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.0.config.clone());
        let server = server.clone();
        Box::pin(async move {
            let handshake = acceptor.accept(Rewind::new(first, io));
            if let Some(session) = server.setup("TLS", &peer, handshake).await {
                server.route(Box::new(session), peer, Layer::Tls).await;
            }
        })
    }
}

/// How a client speaks TLS to its servers. Deserialized from [`ClientTlsFiles`].
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "ClientTlsFiles")]
pub struct ClientTls {
    /// The rustls client configuration (trusted roots, client certificate, ALPN).
    pub config: Arc<rustls::ClientConfig>,
    /// The name the server's certificate must carry.
    pub server_name: rustls::pki_types::ServerName<'static>,
}

impl ClientTls {
    /// The client configuration with ALPN `h2` alone, for HTTP/2 inside TLS.
    pub(crate) fn h2_config(&self) -> Arc<rustls::ClientConfig> {
        let mut c = (*self.config).clone();
        c.alpn_protocols = vec![b"h2".to_vec()];
        Arc::new(c)
    }
}

/// Starts TLS on `stream` as a client with `config`, to the server `server_name` names.
pub(crate) async fn connect(
    stream: Box<dyn Io>,
    config: Arc<rustls::ClientConfig>,
    server_name: rustls::pki_types::ServerName<'static>,
) -> Result<Box<dyn Io>, String> {
    let session = tokio_rustls::TlsConnector::from(config)
        .connect(server_name, stream)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    Ok(Box::new(session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_empty_pem_files_say_which_file() {
        let dir = std::env::temp_dir().join(format!("polywire-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let e = server_config_from_pem(&empty, &empty, None).unwrap_err();
        assert!(e.to_string().contains("empty.pem"), "{e}");
        let missing = dir.join("missing.pem");
        let e = server_config_from_pem(&missing, &missing, None).unwrap_err();
        assert!(e.to_string().contains("missing.pem"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
