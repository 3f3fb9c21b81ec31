//! Faults from peers, each while a well-behaved client keeps calling: the server must keep
//! answering it (every call succeeds, none slower than [`BOUND`]) and must drop or bound
//! the misbehaving peer. Native's echo server on loopback, real sockets.

use bytes::{Bytes, BytesMut};
use polywire::rt::{
    ClientConfig, MultiServer, MultiServerConfig, RemotingClient, RemotingServer, ServerConfig,
    TlsMode, TlsSettings,
};
use polywire::{Codec as _, Protocol as _, WireMessage as _};
use polywire_examples::echo;
use polywire_protocols::native::*;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The slowest answer the well-behaved client may see while a fault goes on. Generous:
/// tests run side by side on two cores; a stalled server takes seconds.
const BOUND: Duration = Duration::from_millis(750);

async fn native_server(config: ServerConfig) -> (RemotingServer<NativeProtocol>, SocketAddr) {
    let server = echo::native(config);
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    (server, addr)
}

/// Calls echo every few milliseconds until `stop`; returns (calls, slowest).
fn well_behaved(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(u32, Duration)> {
    tokio::spawn(async move {
        let basic = BasicClient::new(
            RemotingClient::new(NativeProtocol, ClientConfig::default()),
            addr.to_string(),
        );
        let (mut calls, mut slowest) = (0u32, Duration::ZERO);
        while !stop.load(Ordering::Relaxed) {
            let body = Bytes::from(format!("call {calls}"));
            let started = Instant::now();
            let reply = tokio::time::timeout(
                Duration::from_secs(5),
                basic.echo(EchoRequest { body: body.clone() }),
            )
            .await
            .expect("answered within 5 s")
            .expect("answered");
            assert_eq!(reply.body, body);
            slowest = slowest.max(started.elapsed());
            calls += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (calls, slowest)
    })
}

/// Runs `fault` while the well-behaved client calls, and checks its calls.
async fn while_served<F: std::future::Future>(addr: SocketAddr, fault: F) -> F::Output {
    let stop = Arc::new(AtomicBool::new(false));
    let calls = well_behaved(addr, stop.clone());
    // Let it connect first.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let out = fault.await;
    stop.store(true, Ordering::Relaxed);
    let (n, slowest) = calls.await.expect("no panic");
    assert!(n >= 5, "only {n} calls were made");
    eprintln!("{n} calls answered, the slowest in {slowest:?}");
    assert!(
        slowest <= BOUND,
        "the well-behaved client waited {slowest:?} for an answer"
    );
    out
}

/// A raw connection that has done the native handshake.
async fn handshaken(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut hello = BytesMut::new();
    Hello {
        min_version: 1,
        max_version: 3,
        features: Features::empty(),
    }
    .encode_to(&mut hello)
    .unwrap();
    s.write_all(&hello).await.unwrap();
    let mut reply = [0u8; 6];
    s.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply[0], 1, "accepted");
    s
}

/// An encoded native request with `code` and `body`.
fn request(code: u16, body: &[u8]) -> BytesMut {
    let mut f = NativeProtocol.request(i64::from(code));
    f.version = 3;
    f.id = 1;
    f.body = Bytes::copy_from_slice(body);
    let mut out = BytesMut::new();
    NativeProtocol.codec().encode(&f, &mut out).unwrap();
    out
}

/// Waits (bounded) until the server counts `n` open connections.
async fn connections_reach(server: &RemotingServer<NativeProtocol>, n: u64) -> bool {
    for _ in 0..500 {
        if server.metrics().connections == n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_that_reset_mid_frame() {
    let (server, addr) = native_server(ServerConfig::default()).await;
    while_served(addr, async {
        for _ in 0..50 {
            let mut s = handshaken(addr).await;
            let frame = request(request_codes::ECHO, &[7u8; 4096]);
            s.write_all(&frame[..frame.len() / 2]).await.unwrap();
            // An RST instead of a FIN.
            s.set_zero_linger().unwrap();
            drop(s);
        }
    })
    .await;
    // Only the well-behaved client's connection is left (it was dropped: none).
    assert!(
        connections_reach(&server, 0).await,
        "{:?}",
        server.metrics()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_peers_sending_a_byte_at_a_time() {
    let (server, addr) = native_server(ServerConfig::default()).await;
    while_served(addr, async {
        let mut slow = Vec::new();
        for _ in 0..20 {
            slow.push((
                handshaken(addr).await,
                request(request_codes::ECHO, b"slow"),
            ));
        }
        // 40 rounds of one byte each, 25 ms apart: a second of trickling frames.
        for round in 0..40 {
            for (s, frame) in &mut slow {
                if round < frame.len() {
                    s.write_all(&frame[round..round + 1]).await.unwrap();
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        // Each trickled frame was whole by then and is answered.
        for (s, frame) in &mut slow {
            let mut reply = vec![0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut reply))
                .await
                .expect("answered")
                .unwrap();
            assert!(
                frame.len() <= 40 && n > 0,
                "an answer to the whole trickled frame"
            );
        }
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_its_answers_is_held_back() {
    let high_water = 1 << 20;
    let (server, addr) = native_server(ServerConfig {
        write_high_water: high_water,
        ..ServerConfig::default()
    })
    .await;
    let taken = while_served(addr, async {
        let mut s = handshaken(addr).await;
        let frame = request(request_codes::ECHO, &[1u8; 64 * 1024]);
        // Up to 256 MiB of echo requests whose answers are never read: the server must stop
        // reading once its write queue is full, so the writes block.
        let mut written = 0usize;
        while written < 256 << 20 {
            match tokio::time::timeout(Duration::from_millis(500), s.write_all(&frame)).await {
                Ok(Ok(())) => written += frame.len(),
                Ok(Err(e)) => panic!("the server closed the connection: {e}"),
                Err(_) => break,
            }
        }
        written
    })
    .await;
    eprintln!(
        "a peer that never reads got {} MiB taken",
        taken as f64 / (1 << 20) as f64
    );
    // What the server took: the kernel's buffers on both sides (a few MiB on loopback),
    // the write queue up to its high-water mark and one read's worth of requests.
    assert!(
        taken < 64 << 20,
        "the server kept reading: {} MiB taken from a peer that reads nothing",
        taken >> 20
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_oneways() {
    let (server, addr) = native_server(ServerConfig::default()).await;
    let sent = while_served(addr, async {
        let basic = BasicClient::new(
            RemotingClient::new(NativeProtocol, ClientConfig::default()),
            addr.to_string(),
        );
        let mut sent = 0u64;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            for _ in 0..1000 {
                basic
                    .log(LogRequest {
                        header: LogHeader {
                            level: 1,
                            source: "flood".into(),
                        },
                        body: Bytes::from_static(b"line"),
                    })
                    .await
                    .expect("queued");
                sent += 1;
            }
            tokio::task::yield_now().await;
        }
        sent
    })
    .await;
    assert!(sent >= 1000);
    // Every oneway is processed (none lost), the calls of the other client counted too.
    let mut processed = 0;
    for _ in 0..500 {
        processed = server.metrics().requests;
        if processed >= sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(processed >= sent, "{processed} of {sent} oneways processed");
    server.shutdown().await;
}

/// A TLS 1.0 ClientHello offering one cipher suite and no extensions.
fn tls10_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x01];
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0x00, 0x02, 0x00, 0x2f]); // TLS_RSA_WITH_AES_128_CBC_SHA
    body.extend_from_slice(&[0x01, 0x00]); // no compression
    let mut hs = vec![0x01, 0, 0, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01, 0, hs.len() as u8];
    record.extend_from_slice(&hs);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_downgrades_and_plaintext_on_an_enforcing_port() {
    let (tls, client_tls) = polywire_examples::self_signed::localhost().unwrap();
    let multi = MultiServer::new(MultiServerConfig {
        tls: Some(TlsSettings {
            config: Arc::new(tls),
            mode: TlsMode::Enforcing,
        }),
        ..MultiServerConfig::default()
    });
    let server = echo::native(ServerConfig::default());
    multi.add(server.clone()).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap();

    let call = |client: RemotingClient<NativeProtocol>| async move {
        BasicClient::new(client, addr.to_string())
            .echo(EchoRequest {
                body: Bytes::from_static(b"over tls"),
            })
            .await
    };
    let secure = || {
        RemotingClient::new(
            NativeProtocol,
            ClientConfig {
                tls: Some(client_tls.clone()),
                ..ClientConfig::default()
            },
        )
    };
    call(secure()).await.expect("TLS works");

    let refused_before = multi.failed_setups() + multi.unclaimed();
    for _ in 0..20 {
        // A TLS 1.0 ClientHello: refused with an alert or a close, never served.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&tls10_client_hello()).await.unwrap();
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                Err(_) => panic!("a TLS 1.0 hello was left hanging"),
            }
        }
        assert!(
            got.is_empty() || got[0] == 0x15,
            "only an alert answers a TLS 1.0 hello: {got:02x?}"
        );
        // Plaintext native on the enforcing port: closed.
        let mut p = TcpStream::connect(addr).await.unwrap();
        p.write_all(b"PWNH\x01\x03\x00\x00\x00\x00").await.unwrap();
        let closed = tokio::time::timeout(Duration::from_secs(2), p.read(&mut buf))
            .await
            .expect("closed, not left hanging");
        assert!(matches!(closed, Ok(0) | Err(_)), "plaintext was answered");
    }
    assert!(multi.failed_setups() + multi.unclaimed() >= refused_before + 40);
    call(secure()).await.expect("TLS still works");
    multi.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_connections() {
    // 4,000 here (each end is a descriptor of this process); `load --idle` measures more.
    const IDLE: u64 = 4000;
    let (server, addr) = native_server(ServerConfig {
        max_connections: 10_000,
        ..ServerConfig::default()
    })
    .await;
    let idle = while_served(addr, async {
        let mut idle = Vec::with_capacity(IDLE as usize);
        for _ in 0..IDLE {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        assert!(
            connections_reach(&server, IDLE + 1).await,
            "{:?}",
            server.metrics().connections
        );
        idle
    })
    .await;
    drop(idle);
    assert!(connections_reach(&server, 0).await);
    server.shutdown().await;
}
