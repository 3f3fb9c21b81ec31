//! TLS on a shared `MultiServer` port in RocketMQ's three modes, client certificates, and
//! an independent client (`openssl s_client`).

use bytes::{Bytes, BytesMut};
use polywire::rt::tls::{self, rustls};
use polywire::rt::{
    ClientConfig, MultiServer, MultiServerConfig, RemotingClient, ServerConfig, TlsMode,
    TlsSettings,
};
use polywire::{Codec as _, Protocol as _};
use polywire_examples::echo;
use polywire_protocols::native::NativeProtocol;
use polywire_protocols::rocketmq::{Frame, ResponseCode, RocketmqProtocol};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A directory of PEM files for one test; removed on drop.
struct Pems {
    dir: PathBuf,
    /// The server's self-signed certificate, for the clients to trust.
    cert: CertificateDer<'static>,
}

impl Pems {
    fn new(case: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("polywire-tls-{}-{case}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rcgen::CertifiedKey { cert, key_pair } =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key_pair.serialize_pem()).unwrap();
        Pems {
            dir,
            cert: cert.der().clone(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Pems {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// RocketMQ (echo of code 2001) and native on one port with TLS in `mode`.
async fn start(pems: &Pems, mode: TlsMode, client_ca: Option<PathBuf>) -> (MultiServer, String) {
    let config = tls::server_config_from_pem(
        &pems.path("cert.pem"),
        &pems.path("key.pem"),
        client_ca.as_deref(),
    )
    .unwrap();
    let multi = MultiServer::new(MultiServerConfig {
        tls: Some(TlsSettings {
            mode,
            config: Arc::new(config),
        }),
        ..MultiServerConfig::default()
    });
    multi.add(echo::native(ServerConfig::default())).unwrap();
    multi.add(echo::rocketmq(ServerConfig::default())).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    (multi, addr)
}

/// A RocketMQ request for code 2001 with body `ping`, encoded.
fn request_bytes() -> BytesMut {
    let mut req = RocketmqProtocol.request(2001);
    req.body = Bytes::from_static(b"ping");
    let mut out = BytesMut::new();
    RocketmqProtocol.codec().encode(&req, &mut out).unwrap();
    out
}

/// Sends one RocketMQ request over `io` and reads its answer: `None` when the server closes
/// the connection (or it fails) first.
async fn round_trip<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) -> Option<Frame> {
    io.write_all(&request_bytes()).await.ok()?;
    let mut codec = RocketmqProtocol.codec();
    let mut buf = BytesMut::new();
    let read = async {
        loop {
            if let Some(f) = codec.decode(&mut buf).ok()? {
                return Some(f);
            }
            if io.read_buf(&mut buf).await.ok()? == 0 {
                return None;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("answered or closed in time")
}

fn is_echo(f: Option<Frame>) -> bool {
    f.is_some_and(|f| f.header.code == ResponseCode::Success.to_repr() && &f.body[..] == b"ping")
}

/// A TLS client trusting `pems`' certificate, with a client certificate when given.
fn connector(
    pems: &Pems,
    client_cert: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
) -> tokio_rustls::TlsConnector {
    tokio_rustls::TlsConnector::from(Arc::new(client_config(pems, client_cert)))
}

/// The rustls client configuration behind [`connector`] and [`client_tls`].
fn client_config(
    pems: &Pems,
    client_cert: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pems.cert.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    match client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
    }
}

/// A RocketMQ round trip over TLS: `None` when the handshake or the call fails.
async fn tls_round_trip(connector: &tokio_rustls::TlsConnector, addr: &str) -> Option<Frame> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut session = connector.connect(name, tcp).await.ok()?;
    round_trip(&mut session).await
}

/// The same request through the generated RocketMQ client.
async fn generated_echo(
    client: &RemotingClient<RocketmqProtocol>,
    addr: &str,
) -> Result<Frame, polywire::rt::RemotingError> {
    let mut req = RocketmqProtocol.request(2001);
    req.body = Bytes::from_static(b"ping");
    client.invoke(addr, req, Duration::from_secs(3)).await
}

/// A RocketMQ round trip in plaintext.
async fn plain_round_trip(addr: &str) -> Option<Frame> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    round_trip(&mut tcp).await
}

#[tokio::test]
async fn permissive_takes_tls_and_plaintext_on_one_port() {
    let pems = Pems::new("permissive");
    let (multi, addr) = start(&pems, TlsMode::Permissive, None).await;
    assert!(is_echo(
        tls_round_trip(&connector(&pems, None), &addr).await
    ));
    assert!(is_echo(plain_round_trip(&addr).await));
    // Plaintext through the generated client too.
    let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    assert!(is_echo(generated_echo(&client, &addr).await.ok()));
    assert_eq!(multi.unclaimed(), 0);
    multi.shutdown().await;
}

#[tokio::test]
async fn enforcing_refuses_plaintext() {
    let pems = Pems::new("enforcing");
    let (multi, addr) = start(&pems, TlsMode::Enforcing, None).await;
    assert!(is_echo(
        tls_round_trip(&connector(&pems, None), &addr).await
    ));
    assert!(
        plain_round_trip(&addr).await.is_none(),
        "plaintext is closed"
    );
    assert_eq!(multi.unclaimed(), 1);
    assert!(is_echo(
        tls_round_trip(&connector(&pems, None), &addr).await
    ));
    multi.shutdown().await;
}

#[tokio::test]
async fn disabled_serves_plaintext_and_closes_tls() {
    let pems = Pems::new("disabled");
    let (multi, addr) = start(&pems, TlsMode::Disabled, None).await;
    assert!(is_echo(plain_round_trip(&addr).await));
    assert!(
        tls_round_trip(&connector(&pems, None), &addr)
            .await
            .is_none()
    );
    assert_eq!(multi.unclaimed(), 1);
    multi.shutdown().await;
}

#[tokio::test]
async fn client_certificates_are_required_when_a_client_ca_is_set() {
    let pems = Pems::new("client-ca");
    // A CA, and a client certificate it signed.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    std::fs::write(pems.path("ca.pem"), ca.pem()).unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let client_cert = rcgen::CertificateParams::new(vec!["client".to_string()])
        .unwrap()
        .signed_by(&client_key, &ca, &ca_key)
        .unwrap();
    let key = PrivateKeyDer::try_from(client_key.serialize_der()).unwrap();

    let (multi, addr) = start(&pems, TlsMode::Enforcing, Some(pems.path("ca.pem"))).await;
    let with_cert = connector(&pems, Some((client_cert.der().clone(), key)));
    assert!(is_echo(tls_round_trip(&with_cert, &addr).await));
    assert!(
        tls_round_trip(&connector(&pems, None), &addr)
            .await
            .is_none(),
        "a client without a certificate is refused"
    );
    assert_eq!(multi.failed_setups(), 1, "and counted");
    multi.shutdown().await;
}

#[tokio::test]
async fn openssl_s_client_talks_rocketmq_over_tls() {
    // As the other tests of outside clients do: said loudly, not failed, on a machine
    // without the tool (`.ci/run` installs it, so CI always runs this test).
    if !std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("\n!!!!!!!! openssl not found: s_client TLS test SKIPPED !!!!!!!!\n");
        return;
    }
    let pems = Pems::new("openssl");
    let (multi, addr) = start(&pems, TlsMode::Enforcing, None).await;
    let cafile = pems.path("cert.pem");
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut child = std::process::Command::new("openssl")
            .args(["s_client", "-quiet", "-connect", &addr])
            .args([
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
            ])
            .arg(&cafile)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl runs");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&request_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (mut codec, mut buf) = (RocketmqProtocol.codec(), BytesMut::new());
        let mut chunk = [0u8; 4096];
        let found = loop {
            if let Some(f) = codec.decode(&mut buf).unwrap() {
                break Some(f);
            }
            match stdout.read(&mut chunk) {
                Ok(0) | Err(_) => break None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        drop(stdin);
        found
    });
    let answer = tokio::time::timeout(Duration::from_secs(20), answer)
        .await
        .expect("openssl answered in time")
        .unwrap();
    assert!(is_echo(answer));
    multi.shutdown().await;
}

/// A client configuration speaking TLS to `localhost`, trusting `pems`' certificate.
fn client_tls(pems: &Pems) -> polywire::rt::ClientTls {
    polywire::rt::ClientTls {
        config: Arc::new(client_config(pems, None)),
        server_name: ServerName::try_from("localhost").unwrap(),
    }
}

#[tokio::test]
async fn the_generated_clients_speak_tls() {
    use polywire_protocols::native::{BasicClient, EchoRequest};
    let pems = Pems::new("clients");
    let (multi, addr) = start(&pems, TlsMode::Enforcing, None).await;
    let config = ClientConfig {
        tls: Some(client_tls(&pems)),
        ..ClientConfig::default()
    };
    // Native: its version handshake runs inside the TLS session.
    let client = RemotingClient::new(NativeProtocol, config.clone());
    let native = BasicClient::new(client.clone(), addr.clone());
    let reply = native
        .echo(EchoRequest {
            body: Bytes::from_static(b"secret"),
        })
        .await
        .unwrap();
    assert_eq!(&reply.body[..], b"secret");
    assert!(
        client
            .connection(&addr)
            .await
            .unwrap()
            .negotiated()
            .is_some()
    );
    // RocketMQ.
    let rmq = RemotingClient::new(RocketmqProtocol, config);
    assert!(is_echo(generated_echo(&rmq, &addr).await.ok()));
    // A plaintext client is refused by the enforcing port.
    let plain = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    assert!(generated_echo(&plain, &addr).await.is_err());
    multi.shutdown().await;
}

#[tokio::test]
async fn client_tls_loads_from_a_configuration_file() {
    use polywire::rt::{ClientFactoryConfig, RemotingClientFactory};
    let pems = Pems::new("client-files");
    let (multi, addr) = start(&pems, TlsMode::Enforcing, None).await;
    let text = format!(
        r#"
        [protocols.rocketmq-remoting.tls]
        ca = {ca:?}
        server_name = "localhost"
        "#,
        ca = pems.path("cert.pem").display().to_string()
    );
    let config: ClientFactoryConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let factory = RemotingClientFactory::new(config);
    let rmq = factory.create_client::<RocketmqProtocol>();
    assert!(is_echo(generated_echo(&rmq, &addr).await.ok()));
    // The port enforces TLS: a client whose settings have none is refused.
    let plain = factory.create_client::<NativeProtocol>();
    assert!(plain.connection(&addr).await.is_err());
    // A CA file that is not there, or a certificate without its key, says which.
    let missing = text.replace("cert.pem", "missing.pem");
    let e = toml::from_str::<ClientFactoryConfig>(&missing)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("missing.pem"), "{e}");
    let half = format!(
        "{text}cert = {:?}\n",
        pems.path("cert.pem").display().to_string()
    );
    let e = toml::from_str::<ClientFactoryConfig>(&half)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("without `key`"), "{e}");
    multi.shutdown().await;
}
