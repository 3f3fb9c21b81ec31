//! Quickstart: servers for the bundled native protocol (`protocols/wire/native.wire`) and
//! for RocketMQ remoting (`protocols/wire/rocketmq.wire`) on one ephemeral loopback port,
//! told apart by their first bytes; a typed native client that talks to it — one call at a
//! time, many at once, a pipeline of 10 000, a oneway request and an unknown request code;
//! RocketMQ clients in both header encodings; both protocols again over TLS (the port is in
//! permissive mode, with a certificate made at start); and bytes neither protocol claims.
//!
//! Run with `cargo run --release --example quickstart`.

use bytes::Bytes;
use polywire::Str;
use polywire::rt::{
    ClientConfig, MultiServer, MultiServerConfig, ProcessError, RemotingClient, RemotingServer,
    RequestContext, ServerConfig, TlsMode, TlsSettings,
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let multi = MultiServer::new(MultiServerConfig {
        tls: Some(TlsSettings {
            mode: TlsMode::Permissive,
            config: Arc::new(tls),
        }),
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
            let id = pipe.send(EchoRequest { body: body.clone() }.into_request())?;
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

    // RocketMQ on the same port, in both header encodings: each connection is handed to
    // the RocketMQ server by its first frame.
    for (serialize, name) in [(0u8, "JSON"), (1, "binary")] {
        let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
        client.add_hook(HeaderEncoding(serialize));
        let mut req = polywire::Protocol::request(&RocketmqProtocol, 2001);
        req.body = Bytes::from_static(b"hello, rocketmq");
        let t = Instant::now();
        let resp = client
            .invoke(&addr.to_string(), req, Duration::from_secs(3))
            .await?;
        println!(
            "rocketmq echo ({name} header) -> code {} {:?} in {:?}",
            resp.header.code,
            resp.body,
            t.elapsed()
        );
    }

    // Both over TLS on the same port: the generated clients with a rustls configuration
    // trusting the certificate (native's version handshake runs inside the session).
    let tls = ClientConfig {
        tls: Some(client_tls),
        ..ClientConfig::default()
    };
    let t = Instant::now();
    let secure = BasicClient::new(
        RemotingClient::new(NativeProtocol, tls.clone()),
        addr.to_string(),
    );
    let reply = secure
        .echo(EchoRequest {
            body: Bytes::from_static(b"hello over tls"),
        })
        .await?;
    println!(
        "native echo over TLS -> {:?} in {:?}",
        reply.body,
        t.elapsed()
    );
    let t = Instant::now();
    let mut req = polywire::Protocol::request(&RocketmqProtocol, 2001);
    req.body = Bytes::from_static(b"hello over tls");
    let resp = RemotingClient::new(RocketmqProtocol, tls)
        .invoke(&addr.to_string(), req, Duration::from_secs(3))
        .await?;
    println!(
        "rocketmq echo over TLS -> code {} {:?} in {:?}",
        resp.header.code,
        resp.body,
        t.elapsed()
    );

    // Bytes neither protocol claims: the connection is closed.
    let mut stray = tokio::net::TcpStream::connect(addr).await?;
    stray.write_all(b"GET / HTTP/1.1\r\n\r\n").await?;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stray.read_to_end(&mut rest)).await??;
    println!(
        "an HTTP request on that port -> closed ({} unclaimed connection)",
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
