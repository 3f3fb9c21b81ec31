//! Every protocol over every transport on one shared port: TCP, TLS, WebSocket (plain and
//! inside TLS) and HTTP/2 (prior knowledge and inside TLS), on TCP and Unix sockets, with
//! the generated clients and with independent ones (Python's `websockets`, `curl`).

use bytes::Bytes;
use polywire::Protocol as _;
use polywire::rt::{
    ClientConfig, ClientTls, MultiServer, MultiServerConfig, ProcessError, RemotingClient,
    RequestContext, ServerConfig, TlsMode, TlsSettings, Transport,
};
use polywire::rt::{h2::H2Settings, ws::WsSettings};
use polywire_protocols::native::{BasicClient, EchoRequest, LogHeader, LogRequest, NativeProtocol};
use polywire_protocols::rocketmq::{Frame, HeaderEncoding, ResponseCode, RocketmqProtocol};
use std::sync::Arc;
use std::time::Duration;

struct Server {
    multi: MultiServer,
    addr: String,
    client_tls: ClientTls,
    /// The certificate, for outside clients to trust.
    cert_pem: String,
}

/// Native and RocketMQ (echo of code 2001) on one port: permissive TLS, WebSocket on
/// `/polywire`, HTTP/2.
async fn start() -> Server {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "polywire-transports-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key_pair.serialize_pem()).unwrap();
    let config = polywire::rt::tls::server_config_from_pem(
        &dir.join("cert.pem"),
        &dir.join("key.pem"),
        None,
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let mut roots = polywire::rt::tls::rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let client = polywire::rt::tls::rustls::ClientConfig::builder_with_provider(
        polywire::rt::tls::provider(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client_tls = ClientTls {
        config: Arc::new(client),
        server_name: "localhost".try_into().unwrap(),
    };
    let multi = MultiServer::new(MultiServerConfig {
        tls: Some(TlsSettings {
            mode: TlsMode::Permissive,
            config: Arc::new(config),
        }),
        websocket: Some(WsSettings::default()),
        http2: Some(H2Settings::default()),
        ..MultiServerConfig::default()
    });
    multi
        .add(polywire_examples::echo::native(ServerConfig::default()))
        .unwrap();
    let rmq = polywire_examples::echo::rocketmq(ServerConfig::default());
    // 2002 answers with what carried the request, as the server saw it.
    rmq.register_processor(2002, |ctx: RequestContext, mut req: Frame| async move {
        req.header.code = ResponseCode::Success.to_repr();
        req.body = Bytes::from_static(ctx.transport.as_str().as_bytes());
        Ok::<_, ProcessError>(req)
    });
    multi.add(rmq).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    Server {
        multi,
        addr,
        client_tls,
        cert_pem: cert.pem(),
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

fn transports() -> [(Transport, bool, &'static str); 6] {
    [
        (Transport::Tcp, false, "tcp"),
        (Transport::Tcp, true, "tls"),
        (Transport::websocket(), false, "ws"),
        (Transport::websocket(), true, "wss"),
        (Transport::Http2, false, "h2c"),
        (Transport::Http2, true, "h2"),
    ]
}

fn config(s: &Server, transport: &Transport, tls: bool) -> ClientConfig {
    ClientConfig {
        tls: tls.then(|| s.client_tls.clone()),
        transport: transport.clone(),
        ..ClientConfig::default()
    }
}

/// What carried a request to the server, as its processors see it (`RequestContext`).
async fn served_over(client: &RemotingClient<RocketmqProtocol>, addr: &str) -> String {
    let resp = client
        .invoke(addr, RocketmqProtocol.request(2002), Duration::from_secs(5))
        .await
        .unwrap();
    String::from_utf8(resp.body.to_vec()).unwrap()
}

fn rocketmq_request(body: &'static [u8]) -> Frame {
    let mut req = RocketmqProtocol.request(2001);
    req.body = Bytes::from_static(body);
    req
}

#[tokio::test]
async fn every_protocol_over_every_transport_on_one_port() {
    let s = start().await;
    for (transport, tls, name) in transports() {
        // Native: the version handshake runs over the transport (on HTTP/2, as a request
        // of its own), then calls, a oneway request, and calls again.
        let client = RemotingClient::new(NativeProtocol, config(&s, &transport, tls));
        let basic = BasicClient::new(client.clone(), s.addr.clone());
        for i in 0..3u8 {
            let body = Bytes::from(vec![i; 100 + usize::from(i) * 5000]);
            let reply = basic.echo(EchoRequest { body: body.clone() }).await;
            let reply = reply.unwrap_or_else(|e| panic!("native echo over {name}: {e}"));
            assert_eq!(reply.body, body, "native over {name}");
            basic
                .log(LogRequest {
                    header: LogHeader {
                        level: 1,
                        source: "test".into(),
                    },
                    body: Bytes::from_static(b"oneway"),
                })
                .await
                .unwrap_or_else(|e| panic!("native oneway over {name}: {e}"));
        }
        let conn = client.connection(&s.addr).await.unwrap();
        assert_eq!(conn.transport(), name);
        assert!(conn.negotiated().is_some(), "native negotiated over {name}");
        // Many calls at once: answers are matched to their requests whatever the order.
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..50u32 {
            let basic = basic.clone();
            calls.spawn(async move {
                let body = Bytes::from(i.to_be_bytes().to_vec());
                let reply = basic
                    .echo(EchoRequest { body: body.clone() })
                    .await
                    .unwrap();
                assert_eq!(reply.body, body, "native over {name}, call {i}");
            });
        }
        while let Some(r) = calls.join_next().await {
            r.unwrap();
        }

        // RocketMQ, both header encodings.
        for encoding in [0u8, 1] {
            let client = RemotingClient::new(RocketmqProtocol, config(&s, &transport, tls));
            client.add_hook(HeaderEncoding(encoding));
            let resp = client
                .invoke(&s.addr, rocketmq_request(b"ping"), Duration::from_secs(5))
                .await
                .unwrap_or_else(|e| panic!("rocketmq ({encoding}) over {name}: {e}"));
            assert_eq!(resp.header.code, ResponseCode::Success.to_repr());
            assert_eq!(&resp.body[..], b"ping");
            assert_eq!(resp.serialize, encoding, "{name}");
            let conn = client.connection(&s.addr).await.unwrap();
            assert_eq!(conn.transport(), name);
            assert_eq!(conn.negotiated(), None, "RocketMQ has no handshake");
            assert_eq!(
                served_over(&client, &s.addr).await,
                name,
                "as the server saw it"
            );
        }
    }
    assert_eq!(s.multi.unclaimed(), 0);
    s.multi.shutdown().await;
}

/// A RocketMQ request for code 2001 with body `ping`, encoded (JSON header).
fn request_bytes() -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    polywire::Codec::encode(
        &mut RocketmqProtocol.codec(),
        &rocketmq_request(b"ping"),
        &mut out,
    )
    .unwrap();
    out.to_vec()
}

/// Decodes `bytes` as exactly one RocketMQ frame (nothing before or after it).
fn one_frame(bytes: &[u8]) -> Frame {
    let mut buf = bytes::BytesMut::from(bytes);
    let frame = polywire::Codec::decode(&mut RocketmqProtocol.codec(), &mut buf)
        .unwrap()
        .expect("a whole frame");
    assert!(buf.is_empty(), "{} bytes after the frame", buf.len());
    frame
}

/// Whether an outside tool runs here; when not, the test says so loudly and returns (as the
/// other tests of outside clients do: `.ci/run` installs them, so CI always runs it).
fn tool(program: &str, args: &[&str], test: &str) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("\n!!!!!!!! {program} {args:?} failed: {test} SKIPPED !!!!!!!!\n");
    }
    ok
}

/// Runs `program` off the async threads, with a time limit; its stdout, or why it failed.
async fn run(mut cmd: std::process::Command) -> Result<Vec<u8>, String> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || cmd.output()),
    )
    .await
    .map_err(|_| "timed out".to_string())?
    .unwrap()
    .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// Python's `websockets`: binary messages of one RocketMQ frame each out, and as many back,
/// each exactly one frame.
const WS_CLIENT: &str = r#"
import sys
from websockets.sync.client import connect
with connect(sys.argv[1], open_timeout=10) as ws:
    # Three requests at once: the server answers them together, still one frame a message.
    for _ in range(3):
        ws.send(bytes.fromhex(sys.argv[2]))
    for _ in range(3):
        answer = ws.recv(timeout=10)
        assert isinstance(answer, bytes), "a binary message"
        print(answer.hex())
"#;

#[tokio::test]
async fn python_websockets_talks_rocketmq() {
    let test = "Python websockets test";
    if !tool("python3", &["-c", "import websockets.sync.client"], test) {
        return;
    }
    let s = start().await;
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", WS_CLIENT])
        .arg(format!("ws://{}/polywire", s.addr))
        .arg(hex(&request_bytes()));
    let out = run(cmd).await.expect("the Python client ran");
    let lines: Vec<_> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 3, "three answers");
    for line in lines {
        let frame = one_frame(&unhex(&line));
        assert_eq!(frame.header.code, ResponseCode::Success.to_repr());
        assert_eq!(&frame.body[..], b"ping");
    }
    // A path other than the configured one is refused (and counted).
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", WS_CLIENT])
        .arg(format!("ws://{}/elsewhere", s.addr))
        .arg(hex(&request_bytes()));
    let refused = run(cmd).await.expect_err("no endpoint there");
    assert!(refused.contains("404"), "{refused}");
    assert_eq!(s.multi.unclaimed(), 1);
    // A text message, or a binary one that is not a frame, closes the connection.
    for bad in ["text", "binary"] {
        let mut cmd = std::process::Command::new("python3");
        cmd.args(["-c", WS_BAD_CLIENT])
            .arg(format!("ws://{}/polywire", s.addr))
            .arg(bad);
        let out = run(cmd).await.unwrap_or_else(|e| panic!("{bad}: {e}"));
        assert_eq!(String::from_utf8_lossy(&out).trim(), "closed", "{bad}");
    }
    s.multi.shutdown().await;
}

/// Python's `websockets` sending what is not a frame (after one that starts RocketMQ's
/// detection): prints `closed` when the server closes the connection.
const WS_BAD_CLIENT: &str = r#"
import sys
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
with connect(sys.argv[1], open_timeout=10) as ws:
    if sys.argv[2] == "text":
        ws.send(bytes([0, 0, 0, 32, 0, 0, 0, 16]) + b"{")
        ws.send("a text message")
    else:
        ws.send(bytes([0, 0, 0, 12, 0, 0, 0, 99]) + b"{" * 8)
    try:
        ws.recv(timeout=10)
        print("answered")
    except ConnectionClosed:
        print("closed")
"#;

#[tokio::test]
async fn curl_talks_rocketmq_and_native_errors_over_http2() {
    let test = "curl HTTP/2 test";
    if !tool("curl", &["--version"], test) {
        return;
    }
    let s = start().await;
    let dir = std::env::temp_dir().join(format!(
        "polywire-curl-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (req, ca) = (dir.join("req.bin"), dir.join("cert.pem"));
    std::fs::write(&req, request_bytes()).unwrap();
    std::fs::write(&ca, &s.cert_pem).unwrap();
    let port = s.addr.rsplit(':').next().unwrap().to_string();
    let curl = |url: String, extra: &[&str]| {
        let mut cmd = std::process::Command::new("curl");
        cmd.args([
            "-sS",
            "--max-time",
            "20",
            "-H",
            "content-type: application/x-polywire",
        ])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(extra)
        .arg(url);
        cmd
    };
    let data = format!("@{}", req.display());
    // Cleartext with prior knowledge, and TLS where ALPN picks h2: the answer is one frame.
    for (url, flags) in [
        (
            format!("http://localhost:{port}/rocketmq-remoting/2001"),
            vec!["--http2-prior-knowledge"],
        ),
        (
            format!("https://localhost:{port}/rocketmq-remoting/2001"),
            vec!["--http2", "--cacert", ca.to_str().unwrap()],
        ),
    ] {
        let mut args = flags.clone();
        args.extend([
            "--data-binary",
            &data,
            "-w",
            "\n%{http_version} %{http_code}",
        ]);
        let out = run(curl(url.clone(), &args))
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let split = out.iter().rposition(|&b| b == b'\n').unwrap();
        let trailer = String::from_utf8_lossy(&out[split + 1..]).to_string();
        assert_eq!(trailer, "2 200", "{url}");
        let frame = one_frame(&out[..split]);
        assert_eq!(frame.header.code, ResponseCode::Success.to_repr(), "{url}");
        assert_eq!(&frame.body[..], b"ping", "{url}");
    }
    // What a proxy or a person sees when a call is wrong: a status and a reason.
    let status = |url: &str, extra: &[&str]| {
        let mut args = vec!["--http2-prior-knowledge", "-w", "\n%{http_code}"];
        args.extend(extra);
        run(curl(format!("http://localhost:{port}{url}"), &args))
    };
    let out = String::from_utf8(
        status("/nothing-here/1", &["--data-binary", &data])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        out.ends_with("\n404") && out.contains("no protocol \"nothing-here\""),
        "{out}"
    );
    let out = String::from_utf8(status("/rocketmq-remoting/2001", &[]).await.unwrap()).unwrap();
    assert!(out.ends_with("\n405"), "{out}");
    // A body over the protocol's frame limit is refused before it is read.
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![0u8; 16 * 1024 * 1024 + 1]).unwrap();
    let big = format!("@{}", big.display());
    let out = status("/rocketmq-remoting/2001", &["--data-binary", &big]).await;
    let out = String::from_utf8(out.unwrap()).unwrap();
    assert!(
        out.ends_with("\n413") && out.contains("at most 16777216"),
        "{out}"
    );
    let out = String::from_utf8(
        status(
            "/rocketmq-remoting/2001",
            &["--data-binary", "not a frame at all"],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(out.ends_with("\n400"), "{out}");
    // Native negotiates a version: a call that names none is refused, saying why.
    let out = String::from_utf8(
        status("/polywire-native/1", &["--data-binary", &data])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(out.ends_with("\n400") && out.contains("handshake"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
    s.multi.shutdown().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn http_requests_that_are_not_upgrades_are_answered_and_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start().await;
    let ask = |head: &'static str| {
        let addr = s.addr.clone();
        async move {
            let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tcp.write_all(head.as_bytes()).await.unwrap();
            let mut answer = String::new();
            let read = tcp.read_to_string(&mut answer);
            tokio::time::timeout(Duration::from_secs(5), read)
                .await
                .expect("answered and closed in time")
                .unwrap();
            answer
        }
    };
    let answer = ask("GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");
    assert!(
        answer.contains("upgrades are taken on /polywire"),
        "{answer}"
    );
    let answer = ask("GET /polywire HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
    // A head that never ends is cut off at its limit.
    let long: &'static str = Box::leak(
        format!("GET /polywire HTTP/1.1\r\nX: {}\r\n", "a".repeat(9000)).into_boxed_str(),
    );
    let answer = ask(long).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert_eq!(s.multi.unclaimed(), 3);
    s.multi.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_generated_clients_reach_a_unix_socket_over_every_transport() {
    let s = start().await;
    let path = std::env::temp_dir().join(format!(
        "polywire-transports-{}-{}.sock",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_file(&path);
    s.multi.bind_unix(&path).unwrap();
    let addr = format!("unix:{}", path.display());
    for (transport, tls, name) in transports() {
        let client = RemotingClient::new(NativeProtocol, config(&s, &transport, tls));
        let reply = BasicClient::new(client.clone(), addr.clone())
            .echo(EchoRequest {
                body: Bytes::from_static(b"local"),
            })
            .await
            .unwrap_or_else(|e| panic!("native over {name} on a Unix socket: {e}"));
        assert_eq!(&reply.body[..], b"local");
        let conn = client.connection(&addr).await.unwrap();
        assert_eq!(conn.transport(), name);
        let client = RemotingClient::new(RocketmqProtocol, config(&s, &transport, tls));
        let resp = client
            .invoke(&addr, rocketmq_request(b"ping"), Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("rocketmq over {name} on a Unix socket: {e}"));
        assert_eq!(&resp.body[..], b"ping");
        let seen = if name == "tcp" { "unix" } else { name };
        assert_eq!(
            served_over(&client, &addr).await,
            seen,
            "as the server saw it"
        );
    }
    s.multi.shutdown().await;
    let _ = std::fs::remove_file(&path);
}
