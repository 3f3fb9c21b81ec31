//! Quickstart: servers for the bundled native protocol (`protocols/wire/native.wire`) and
//! for RocketMQ remoting (`protocols/wire/rocketmq.wire`) on one ephemeral loopback port,
//! told apart by their first bytes; a typed native client that talks to it — one call at a
//! time, many at once, a pipeline of 10 000, a oneway request and an unknown request code;
//! then a table of each protocol over each transport (TCP, WebSocket and HTTP/2, each plain
//! and inside TLS; RocketMQ in both header encodings) on that port, in permissive TLS mode
//! with a certificate made at start; and bytes neither protocol claims.
//!
//! Run with `cargo run --release --example quickstart`.

use bytes::Bytes;
use polywire::Protocol as _;
use polywire::Str;
use polywire::rt::h2::H2Settings;
use polywire::rt::ws::WsSettings;
use polywire::rt::{
    Attempt, ClientConfig, MultiServer, MultiServerConfig, Negotiation, ProcessError,
    RemotingClient, RemotingClientFactory, RemotingServer, RequestContext, ServerConfig, TlsMode,
    TlsSettings, Transport,
};
use polywire_protocols::native::*;
use polywire_protocols::rocketmq::{self as rmq, HeaderEncoding, ResponseCode, RocketmqProtocol};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// The service implementation: everything protocol-specific was generated.
struct Service {
    logs: mpsc::UnboundedSender<String>,
}

impl Basic for Service {
    async fn echo(
        &self,
        _ctx: RequestContext,
        request: EchoRequest,
    ) -> Result<EchoResponse, ProcessError> {
        Ok(EchoResponse { body: request.body })
    }

    async fn ping(
        &self,
        _ctx: RequestContext,
        _request: PingRequest,
    ) -> Result<PingResponse, ProcessError> {
        Ok(PingResponse {})
    }

    async fn log(&self, ctx: RequestContext, request: LogRequest) -> Result<(), ProcessError> {
        let line = format!(
            "[{} level {}] {}",
            request.header.source,
            request.header.level,
            String::from_utf8_lossy(&request.body)
        );
        self.logs.send(format!("{line} (from {})", ctx.peer))?;
        Ok(())
    }
}

/// Makes the call `call` makes twice; returns how long each took and the second's result.
async fn timed_twice<T, E, F>(call: impl Fn() -> F) -> Result<(Duration, Duration, T), E>
where
    F: std::future::Future<Output = Result<T, E>>,
{
    let t = Instant::now();
    call().await?;
    let first = t.elapsed();
    let t = Instant::now();
    let last = call().await?;
    Ok((first, t.elapsed(), last))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    polywire_examples::logging::from_env();
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
    let (logs, mut log_rx) = mpsc::unbounded_channel();
    serve_basic(&server, Arc::new(Service { logs }));
    // RocketMQ's test code 2001 answered with the request's body and extFields.
    let rocketmq = RemotingServer::new(RocketmqProtocol, ServerConfig::default());
    rocketmq.register_processor(
        2001,
        |_ctx: RequestContext, mut req: rmq::Frame| async move {
            req.header.code = ResponseCode::Success.to_repr();
            Ok::<_, ProcessError>(req)
        },
    );
    // TLS and plaintext on the same port, with a self-signed certificate made now.
    let (tls, client_tls) = polywire_examples::self_signed::localhost()?;
    // WebSocket (upgrades on /polywire) and HTTP/2 (cleartext with prior knowledge, and
    // inside TLS by ALPN) on that port as well.
    let multi = MultiServer::new(MultiServerConfig {
        tls: Some(TlsSettings {
            mode: TlsMode::Permissive,
            config: Arc::new(tls),
        }),
        websocket: Some(WsSettings::default()),
        http2: Some(H2Settings::default()),
        ..MultiServerConfig::default()
    });
    multi.add(server.clone())?;
    multi.add(rocketmq)?;
    let addr = multi.bind("127.0.0.1:0").await?;
    println!("one port for {:?}: {addr}", multi.protocols());

    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let basic = BasicClient::new(client.clone(), addr.to_string());

    // One call, awaited like a function call.
    let t = Instant::now();
    let reply = basic
        .echo(EchoRequest {
            body: Bytes::from_static(b"hello, polywire"),
        })
        .await?;
    let conn = client.connection(&addr.to_string()).await?;
    println!(
        "echo -> {:?} in {:?} (negotiated {:?})",
        reply.body,
        t.elapsed(),
        conn.negotiated()
    );

    // 1000 calls in flight at once on the one connection.
    let t = Instant::now();
    let calls = (0..1000u32).map(|i| {
        let basic = basic.clone();
        tokio::spawn(async move {
            let body = Bytes::from(i.to_be_bytes().to_vec());
            let reply = basic.echo(EchoRequest { body: body.clone() }).await?;
            assert_eq!(reply.body, body, "responses are matched to their requests");
            Ok::<_, polywire::rt::RemotingError>(())
        })
    });
    let mut ok = 0;
    for c in calls.collect::<Vec<_>>() {
        c.await??;
        ok += 1;
    }
    println!(
        "{ok} concurrent echoes, each matched to its request, in {:?}",
        t.elapsed()
    );

    // The same through a pipeline: a window of 64 requests, no future per call.
    let t = Instant::now();
    let mut pipe = basic.pipeline(64).await?;
    let mut sent = std::collections::HashMap::new();
    let mut matched = 0;
    for i in 0..=10_000u32 {
        // Take responses while the window is full, and at the end until none is left.
        while !pipe.has_room() || (i == 10_000 && pipe.outstanding() > 0) {
            for (id, frame) in pipe.recv().await {
                let reply = EchoResponse::from_response(frame?)?;
                assert_eq!(reply.body, sent.remove(&id).expect("sent"), "matched");
                matched += 1;
            }
        }
        if i < 10_000 {
            let body = Bytes::from(i.to_be_bytes().to_vec());
            let id = pipe.send(EchoRequest { body: body.clone() }.into_request()?)?;
            sent.insert(id, body);
        }
    }
    println!(
        "{matched} pipelined echoes (window 64), each matched to its request, in {:?}",
        t.elapsed()
    );
    drop(pipe);

    // A oneway request: no response; the server's log shows it arrived.
    basic
        .log(LogRequest {
            header: LogHeader {
                level: 2,
                source: Str::from("quickstart"),
            },
            body: Bytes::from_static(b"a oneway log line"),
        })
        .await?;
    let line = tokio::time::timeout(Duration::from_secs(5), log_rx.recv()).await?;
    println!(
        "oneway log received by the server: {}",
        line.unwrap_or_default()
    );

    // A code no processor handles gets the protocol's NOT_SUPPORTED status.
    let unknown = polywire::Protocol::request(&NativeProtocol, 999);
    let resp = client
        .invoke(&addr.to_string(), unknown, Duration::from_secs(3))
        .await?;
    println!(
        "unknown code 999 -> status {:?} ({:?})",
        Status::from_repr(resp.code),
        String::from_utf8_lossy(&resp.body)
    );

    // Each protocol over each transport on the same port: a fresh client per row, so the
    // first call includes connecting, TLS, the WebSocket upgrade or HTTP/2 set-up, and
    // native's version handshake; then one more call.
    let factory = RemotingClientFactory::default().with_tls(client_tls);
    println!(
        "\n{:<18} {:<14} {:<12} {:>12} {:>12}",
        "protocol", "transport", "negotiated", "first call", "round trip"
    );
    let target = addr.to_string();
    let transports = [Transport::Tcp, Transport::websocket(), Transport::Http2];
    for (kind, tls) in transports.iter().flat_map(|t| [(t, false), (t, true)]) {
        let attempt = Attempt::new(kind.clone());
        let attempt = if tls { attempt.tls() } else { attempt };
        let transport = attempt.to_string();
        let config = factory
            .builder(NativeProtocol)
            .negotiation(Negotiation::Explicit(attempt))
            .build_config();
        let client = RemotingClient::new(NativeProtocol, config.clone());
        let basic = BasicClient::new(client.clone(), target.clone());
        let body = || EchoRequest {
            body: Bytes::from_static(b"hello"),
        };
        let (first, again, reply) = timed_twice(|| basic.echo(body())).await?;
        assert_eq!(&reply.body[..], b"hello", "native echoes over {transport}");
        let conn = client.connection(&target).await?;
        assert_eq!(
            conn.transport().as_str(),
            transport,
            "native connected over {transport}"
        );
        let negotiated = conn
            .negotiated()
            .map_or("-".into(), |n| format!("version {}", n.version));
        println!(
            "{:<18} {transport:<14} {negotiated:<12} {:>12?} {:>12?}",
            NativeProtocol.id(),
            first,
            again
        );
        for (serialize, header) in [(0u8, "JSON"), (1, "binary")] {
            let client = RemotingClient::new(RocketmqProtocol, config.clone());
            client.add_hook(HeaderEncoding(serialize));
            let call = || {
                let mut req = RocketmqProtocol.request(2001);
                req.body = Bytes::from_static(b"hello");
                client.invoke(&target, req, Duration::from_secs(3))
            };
            let (first, again, resp) = timed_twice(call).await?;
            assert_eq!(
                (resp.header.code, &resp.body[..]),
                (ResponseCode::Success.to_repr(), &b"hello"[..]),
                "rocketmq echoes over {transport} with {header} headers"
            );
            println!(
                "{:<18} {:<14} {:<12} {:>12?} {:>12?}",
                RocketmqProtocol.id(),
                format!("{transport}, {header}"),
                "-",
                first,
                again
            );
        }
    }
    println!();

    // Bytes neither protocol claims: the connection is closed.
    let mut stray = tokio::net::TcpStream::connect(addr).await?;
    stray.write_all(b"\x01\x02 not a protocol\r\n").await?;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stray.read_to_end(&mut rest)).await??;
    // An HTTP request that is not a WebSocket upgrade: answered by the HTTP layer, closed.
    let mut http = tokio::net::TcpStream::connect(addr).await?;
    http.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), http.read_to_end(&mut answer)).await??;
    let status = String::from_utf8_lossy(&answer);
    println!(
        "stray bytes and {:?} on that port -> closed ({} unclaimed connections)",
        status.lines().next().unwrap_or("no answer"),
        multi.unclaimed()
    );

    let m = server.metrics();
    println!(
        "server metrics: {} requests, {} responses, {} errors, {} B in, {} B out, p50 <= {:?}, p99 <= {:?}",
        m.requests,
        m.responses,
        m.errors,
        m.bytes_in,
        m.bytes_out,
        m.latency_quantile(0.5).unwrap_or_default(),
        m.latency_quantile(0.99).unwrap_or_default()
    );
    multi.shutdown().await;
    println!("servers shut down cleanly");
    Ok(())
}
