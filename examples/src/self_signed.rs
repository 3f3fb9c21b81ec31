//! A TLS set-up for demos and measurements: a certificate for `localhost` made at start,
//! and the client side that trusts it.

use polywire::rt::ClientTls;
use polywire::rt::tls::rustls;
use std::sync::Arc;

/// A server configuration with a self-signed certificate for `localhost` made now (written
/// to a temporary directory and loaded as PEM files, as a deployment would), and the client
/// TLS settings that trust it.
pub fn localhost() -> Result<(rustls::ServerConfig, ClientTls), Box<dyn std::error::Error>> {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let dir = std::env::temp_dir().join(format!("polywire-self-signed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem())?;
    std::fs::write(&key_path, key_pair.serialize_pem())?;
    let server = polywire::rt::tls::server_config_from_pem(&cert_path, &key_path, None);
    std::fs::remove_dir_all(&dir)?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone())?;
    let client = rustls::ClientConfig::builder_with_provider(polywire::rt::tls::provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = ClientTls {
        config: Arc::new(client),
        server_name: rustls::pki_types::ServerName::try_from("localhost")?,
    };
    Ok((server?, client))
}
