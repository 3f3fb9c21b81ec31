//! The transport layer through the public API, with a protocol defined here (no generated
//! code): every transport a shared port detects (TLS, WebSocket, HTTP/2, plain) on one TCP
//! port and one Unix socket, each client transport connecting to it, and the kind of
//! transport both sides name the connection by.
#![cfg(all(feature = "tls", feature = "ws", feature = "h2"))]

use bytes::{Buf, BufMut, BytesMut};
use polywire::protocol::{Detection, Detector, ErrorStatus, Protocol, RemotingFrame};
use polywire::rt::{
    Attempt, ClientConfig, MultiServer, MultiServerConfig, Negotiation, RemotingClient,
    RemotingServer, ServerConfig, Transport, TransportKind,
};
use polywire::{Codec, DecodeError, DecodeErrorKind, EncodeError, FrameKind, Limits};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A frame of the test protocol: `MW`, the length of the rest (u32), the kind (0 request,
/// 1 response, 2 oneway), the correlation id (u64), the code (i64), the body.
#[derive(Debug, Clone, Default, PartialEq)]
struct Mini {
    kind: u8,
    id: u64,
    code: i64,
    body: Vec<u8>,
}

const MAGIC: &[u8] = b"MW";
const HEAD: usize = MAGIC.len() + 4;
const FIXED: usize = 1 + 8 + 8;

impl RemotingFrame for Mini {
    fn correlation_id(&self) -> u64 {
        self.id
    }
    fn set_correlation_id(&mut self, id: u64) {
        self.id = id;
    }
    fn kind(&self) -> FrameKind {
        match self.kind {
            0 => FrameKind::Request,
            1 => FrameKind::Response,
            _ => FrameKind::Oneway,
        }
    }
    fn set_kind(&mut self, kind: FrameKind) {
        self.kind = match kind {
            FrameKind::Request => 0,
            FrameKind::Response => 1,
            FrameKind::Oneway => 2,
        };
    }
    fn code(&self) -> i64 {
        self.code
    }
    fn set_code(&mut self, code: i64) {
        self.code = code;
    }
}

#[derive(Debug, Clone, Default)]
struct MiniCodec;

static LIMITS: Limits = Limits {
    max_frame_len: 1 << 16,
    ..Limits::DEFAULT
};

impl Codec for MiniCodec {
    type Frame = Mini;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Mini>, DecodeError> {
        let Some(len) = self.frame_len(src)? else {
            return Ok(None);
        };
        if src.len() < len {
            return Ok(None);
        }
        if &src[..MAGIC.len()] != MAGIC || len < HEAD + FIXED {
            return Err(DecodeError::new(0, "Mini", DecodeErrorKind::InvalidUtf8));
        }
        let mut f = src.split_to(len);
        f.advance(HEAD);
        let (kind, id, code) = (f.get_u8(), f.get_u64(), f.get_i64());
        Ok(Some(Mini {
            kind,
            id,
            code,
            body: f.to_vec(),
        }))
    }

    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        if buf.len() < HEAD {
            return Ok(None);
        }
        let len = HEAD + u32::from_be_bytes(buf[2..6].try_into().expect("4 bytes")) as usize;
        if len > LIMITS.max_frame_len {
            let kind = DecodeErrorKind::TooLong {
                len: len as u64,
                max: LIMITS.max_frame_len,
            };
            return Err(DecodeError::new(0, "Mini", kind));
        }
        Ok(Some(len))
    }

    fn encode(&mut self, f: &Mini, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_slice(MAGIC);
        dst.put_u32((FIXED + f.body.len()) as u32);
        dst.put_u8(f.kind);
        dst.put_u64(f.id);
        dst.put_i64(f.code);
        dst.put_slice(&f.body);
        Ok(())
    }

    fn limits(&self) -> &Limits {
        &LIMITS
    }
}

struct MiniDetector;

impl Detector for MiniDetector {
    fn detect(&self, first: &[u8]) -> Detection {
        let n = first.len().min(MAGIC.len());
        if first[..n] != MAGIC[..n] {
            Detection::NoMatch
        } else if n < MAGIC.len() {
            Detection::NeedMore(MAGIC.len())
        } else {
            Detection::Match
        }
    }
}

struct MiniProtocol;

impl Protocol for MiniProtocol {
    type Frame = Mini;
    type Codec = MiniCodec;

    fn id(&self) -> &'static str {
        "mini"
    }
    fn codec(&self) -> MiniCodec {
        MiniCodec
    }
    fn request(&self, code: i64) -> Mini {
        Mini {
            code,
            ..Mini::default()
        }
    }
    fn error_response(&self, _code: i64, _status: ErrorStatus, message: &str) -> Mini {
        Mini {
            code: -1,
            body: message.as_bytes().to_vec(),
            ..Mini::default()
        }
    }
    fn detector(&self) -> Option<&dyn Detector> {
        Some(&MiniDetector)
    }
    fn is_success(&self, response: &Mini) -> bool {
        response.code == 0
    }
}

/// Code 1: answers with the name of the transport the server saw the request on.
const WHICH: i64 = 1;

fn mini_server() -> RemotingServer<MiniProtocol> {
    let server = RemotingServer::new(MiniProtocol, ServerConfig::default());
    server.register_processor(
        WHICH,
        |ctx: polywire::rt::RequestContext, _req: Mini| async move {
            Ok(Mini {
                body: ctx.transport.as_str().as_bytes().to_vec(),
                ..Mini::default()
            })
        },
    );
    server
}

/// A self-signed certificate for `localhost`: the server's and the client's TLS settings.
fn tls_pair() -> (
    polywire::rt::tls::rustls::ServerConfig,
    polywire::rt::ClientTls,
) {
    use polywire::rt::tls::{self, rustls};
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "polywire-rt-transports-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();
    let server = tls::server_config_from_pem(&cert_path, &key_path, None).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = polywire::rt::ClientTls {
        config: Arc::new(client),
        server_name: rustls::pki_types::ServerName::try_from("localhost").unwrap(),
    };
    (server, client)
}

/// A shared port with every transport on (TLS permissive), serving the test protocol.
async fn multi(mode: polywire::rt::TlsMode) -> (MultiServer, String, polywire::rt::ClientTls) {
    let (server_tls, client_tls) = tls_pair();
    let config = MultiServerConfig {
        detect_timeout: Duration::from_secs(5),
        tls: Some(polywire::rt::TlsSettings {
            mode,
            config: Arc::new(server_tls),
        }),
        websocket: Some(Default::default()),
        http2: Some(Default::default()),
        ..MultiServerConfig::default()
    };
    let multi = MultiServer::new(config);
    multi.add(mini_server()).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    (multi, addr, client_tls)
}

/// Every way a client connects: its transport, inside TLS or not, and the kind it makes.
fn attempts() -> Vec<(Attempt, TransportKind)> {
    use TransportKind::*;
    let mut all = Vec::new();
    for (t, plain, secure) in [
        (Transport::Tcp, Tcp, Tls),
        (Transport::websocket(), Ws, Wss),
        (Transport::Http2, H2c, H2),
    ] {
        all.push((Attempt::new(t.clone()), plain));
        all.push((Attempt::new(t).tls(), secure));
    }
    all
}

fn client(attempt: Attempt, tls: &polywire::rt::ClientTls) -> RemotingClient<MiniProtocol> {
    let mut config = ClientConfig {
        tls: Some(tls.clone()),
        ..ClientConfig::default()
    };
    Negotiation::Explicit(attempt).apply(&mut config);
    RemotingClient::new(MiniProtocol, config)
}

/// Asks the server at `addr` which transport it saw; returns that and the client's kind.
async fn which(client: &RemotingClient<MiniProtocol>, addr: &str) -> (String, TransportKind) {
    let resp = client
        .invoke(addr, MiniProtocol.request(WHICH), Duration::from_secs(5))
        .await
        .unwrap_or_else(|e| panic!("a call to {addr}: {e}"));
    assert_eq!(resp.code, 0, "{resp:?}");
    let conn = client.connection(addr).await.unwrap();
    (String::from_utf8(resp.body).unwrap(), conn.transport())
}

#[tokio::test]
async fn every_transport_is_detected_on_one_port_and_named_alike_on_both_sides() {
    let (multi, addr, tls) = multi(polywire::rt::TlsMode::Permissive).await;
    for (attempt, kind) in attempts() {
        let c = client(attempt.clone(), &tls);
        let (seen, ours) = which(&c, &addr).await;
        assert_eq!(ours, kind, "the client over {attempt}");
        assert_eq!(
            seen,
            kind.as_str(),
            "the server, for a client over {attempt}"
        );
        assert_eq!(kind.is_secure(), attempt.tls, "{kind}");
        c.shutdown(Duration::from_secs(1)).await;
    }
    assert_eq!((multi.unclaimed(), multi.failed_setups()), (0, 0));
    multi.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_unix_socket_detects_the_same_transports() {
    let (multi, _, tls) = multi(polywire::rt::TlsMode::Permissive).await;
    let path = std::env::temp_dir().join(format!(
        "polywire-rt-transports-{}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    multi.bind_unix(&path).unwrap();
    let addr = format!("unix:{}", path.display());
    for (attempt, kind) in attempts() {
        let c = client(attempt.clone(), &tls);
        let (seen, ours) = which(&c, &addr).await;
        assert_eq!(ours, kind, "the client over {attempt}");
        // The protocol's bytes on the socket itself are `unix` to the server.
        let expected = if kind == TransportKind::Tcp {
            TransportKind::Unix
        } else {
            kind
        };
        assert_eq!(
            seen,
            expected.as_str(),
            "the server, for a client over {attempt}"
        );
        c.shutdown(Duration::from_secs(1)).await;
    }
    multi.shutdown().await;
    let _ = std::fs::remove_file(&path);
}

/// Writes one request on `io` and reads the answer's body.
async fn ask_raw<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(io: &mut S) -> String {
    let mut out = BytesMut::new();
    let req = Mini {
        id: 7,
        ..MiniProtocol.request(WHICH)
    };
    MiniCodec.encode(&req, &mut out).unwrap();
    io.write_all(&out).await.unwrap();
    let mut buf = BytesMut::new();
    let resp = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(f) = MiniCodec.decode(&mut buf).unwrap() {
                return f;
            }
            assert!(io.read_buf(&mut buf).await.unwrap() > 0, "closed early");
        }
    })
    .await
    .expect("an answer");
    assert_eq!((resp.id, resp.kind()), (7, FrameKind::Response));
    String::from_utf8(resp.body).unwrap()
}

#[tokio::test]
async fn a_stream_handed_over_is_detected_and_named_stream() {
    let (multi, _, _) = multi(polywire::rt::TlsMode::Permissive).await;
    let (mut ours, theirs) = tokio::io::duplex(1 << 16);
    multi.serve_io(theirs, "in-memory".into());
    assert_eq!(ask_raw(&mut ours).await, "stream");
    drop(ours);
    multi.shutdown().await;
}

/// A shared port with a fallback hands it what nobody claims: a connection silent past the
/// detection timeout, and one whose first bytes no detector matches. Without a fallback both
/// are closed and counted as unclaimed.
#[tokio::test]
async fn a_fallback_protocol_gets_what_nobody_claims() {
    for fallback in [None, Some("mini".to_string())] {
        let multi = MultiServer::new(MultiServerConfig {
            detect_timeout: Duration::from_millis(100),
            fallback: fallback.clone(),
            ..MultiServerConfig::default()
        });
        multi.add(mini_server()).unwrap();
        let addr = multi.bind("127.0.0.1:0").await.unwrap();

        // Silent for three detection timeouts, then a request.
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut req = BytesMut::new();
        MiniCodec
            .encode(
                &Mini {
                    id: 7,
                    ..MiniProtocol.request(WHICH)
                },
                &mut req,
            )
            .unwrap();
        // Closed already without a fallback: the write may fail or the read see the end.
        let _ = silent.write_all(&req).await;
        let mut head = [0u8; 4];
        let answered = tokio::time::timeout(Duration::from_secs(5), silent.read_exact(&mut head))
            .await
            .expect("an answer or the end within 5 s")
            .is_ok();
        assert_eq!(answered, fallback.is_some(), "fallback {fallback:?}");
        if answered {
            assert_eq!(&head[..MAGIC.len()], MAGIC);
        }

        // First bytes that are not the protocol's magic: the fallback's decoder refuses them.
        let mut junk = tokio::net::TcpStream::connect(addr).await.unwrap();
        junk.write_all(b"junk that nobody claims\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), junk.read_to_end(&mut rest))
            .await
            .expect("closed within 5 s");

        let unclaimed = if fallback.is_some() { 0 } else { 2 };
        assert_eq!(multi.unclaimed(), unclaimed, "fallback {fallback:?}");
        multi.shutdown().await;
    }
}

#[tokio::test]
async fn a_server_of_its_own_port_names_its_connections_tcp() {
    let server = mini_server();
    let addr = server.bind("127.0.0.1:0").await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert_eq!(ask_raw(&mut stream).await, "tcp");
    drop(stream);
    server.shutdown().await;
}

#[tokio::test]
async fn tls_enforcing_refuses_plaintext_of_every_kind_and_takes_tls() {
    let (multi, addr, tls) = multi(polywire::rt::TlsMode::Enforcing).await;
    let mut refused = 0;
    for (attempt, kind) in attempts() {
        let c = client(attempt.clone(), &tls);
        let call = c.invoke(&addr, MiniProtocol.request(WHICH), Duration::from_secs(5));
        match call.await {
            Ok(resp) => {
                assert!(attempt.tls, "{attempt} was served");
                assert_eq!(resp.body, kind.as_str().as_bytes());
            }
            Err(e) => {
                assert!(!attempt.tls, "{attempt}: {e}");
                refused += 1;
            }
        }
        c.shutdown(Duration::from_secs(1)).await;
    }
    assert_eq!(refused, 3);
    // Each plaintext connection was refused as its first bytes arrived.
    assert_eq!(multi.unclaimed(), 3);
    multi.shutdown().await;
}

#[test]
fn kinds_print_and_compare_as_their_short_names() {
    use TransportKind::*;
    let names = [Tcp, Unix, Stream, Tls, Ws, Wss, H2c, H2].map(|k| k.to_string());
    assert_eq!(
        names,
        ["tcp", "unix", "stream", "tls", "ws", "wss", "h2c", "h2"]
    );
    assert_eq!(H2c, "h2c");
    assert_eq!("wss", Wss);
    assert_ne!(H2, "h2c");
    assert_eq!(format!("[{:<5}]", Tls), "[tls  ]");
    assert_eq!(Transport::Http2.kind(true), H2);
    assert_eq!(Transport::websocket().kind(false), Ws);
}
