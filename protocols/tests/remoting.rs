//! The remoting runtime over real loopback sockets with the generated native protocol:
//! correlation, timeouts, graceful shutdown, hostile peers, limits, hooks, executors.

use bytes::{Bytes, BytesMut};
use polywire::rt::{
    ClientConfig, Hook, Overload, ProcessError, RemotingClient, RemotingError, RemotingServer,
    RequestContext, ServerConfig,
};
use polywire::{Protocol, RemotingFrame, Str, WireMessage};
use polywire_protocols::native::*;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SLOW: i64 = 100;
const BLOCKING: i64 = 101;

/// A server with the Basic service and a SLOW code that sleeps for the ms in its body.
async fn server(config: ServerConfig) -> (RemotingServer<NativeProtocol>, SocketAddr) {
    let server = RemotingServer::new(NativeProtocol, config);
    serve_basic(&server, Arc::new(BasicEcho));
    server.register_processor(SLOW, |_ctx: RequestContext, mut req: Frame| async move {
        let ms = req.body.first().copied().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(u64::from(ms) * 10)).await;
        req.code = Status::Ok.to_repr();
        Ok(req)
    });
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    (server, addr)
}

fn client() -> RemotingClient<NativeProtocol> {
    RemotingClient::new(NativeProtocol, ClientConfig::default())
}

fn slow(tens_of_ms: u8) -> Frame {
    let mut f = NativeProtocol.request(SLOW);
    f.body = Bytes::from(vec![tens_of_ms]);
    f
}

const T: Duration = Duration::from_secs(5);

/// `n` concurrent typed echoes, each with its own body (`"{tag} {i}"`); every caller must
/// get its own body back.
async fn echo_concurrently(basic: &BasicClient, n: u32, tag: &'static str) {
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let basic = basic.clone();
            tokio::spawn(async move {
                let body = Bytes::from(format!("{tag} {i}"));
                let r = basic
                    .echo(EchoRequest { body: body.clone() })
                    .await
                    .expect("answered");
                assert_eq!(r.body, body);
            })
        })
        .collect();
    for c in calls {
        c.await.expect("no panic");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invokes_get_their_own_responses() {
    let (server, addr) = server(ServerConfig::default()).await;
    let basic = BasicClient::new(client(), addr.to_string());
    echo_concurrently(&basic, 2000, "request").await;
    let m = server.metrics();
    assert_eq!((m.requests, m.responses, m.errors), (2000, 2000, 0));
    assert_eq!(m.connections, 1, "all calls shared one pooled connection");
    server.shutdown().await;
}

#[tokio::test]
async fn timeout_fires_and_the_late_response_is_dropped() {
    let (server, addr) = server(ServerConfig::default()).await;
    let client = client();
    let a = addr.to_string();
    let err = client
        .invoke(&a, slow(20), Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(err, RemotingError::Timeout { .. }), "{err}");
    let conn = client.connection(&a).await.unwrap();
    assert_eq!(
        conn.pending(),
        0,
        "the timed-out request left the pending table"
    );
    // The response arrives ~150 ms later and is counted, not delivered.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(client.metrics().late_responses, 1);
    assert_eq!(conn.pending(), 0);
    // The connection still works.
    let r = client.invoke(&a, slow(0), T).await.unwrap();
    assert_eq!(r.kind(), polywire::FrameKind::Response);
    server.shutdown().await;
}

/// `n` concurrent calls to `a` that the server answers after `tens_of_ms` * 10 ms.
fn slow_calls(
    c: &RemotingClient<NativeProtocol>,
    a: &str,
    n: usize,
    tens_of_ms: u8,
) -> Vec<tokio::task::JoinHandle<Result<Frame, RemotingError>>> {
    (0..n)
        .map(|_| {
            let (c, a) = (c.clone(), a.to_string());
            tokio::spawn(async move { c.invoke(&a, slow(tens_of_ms), T).await })
        })
        .collect()
}

/// Waits (bounded) until the server counts `n` open connections.
async fn server_connections_reach(server: &RemotingServer<NativeProtocol>, n: u64) -> bool {
    for _ in 0..200 {
        if server.metrics().connections == n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn dropping_the_client_closes_its_connections() {
    // The server's idle timeout is far away: only the client can close these.
    let (server, addr) = server(ServerConfig {
        idle_timeout: Duration::from_secs(600),
        ..ServerConfig::default()
    })
    .await;
    let a = addr.to_string();
    let clients: Vec<_> = (0..20).map(|_| client()).collect();
    for c in &clients {
        c.invoke(&a, slow(0), T).await.expect("answered");
    }
    assert!(server_connections_reach(&server, 20).await);
    drop(clients);
    assert!(
        server_connections_reach(&server, 0).await,
        "connections still open after their clients were dropped: {}",
        server.metrics().connections
    );

    // A connection a user holds outlives the client, and closes when it is dropped.
    let c = client();
    let conn = c.connection(&a).await.expect("connects");
    let pipe = c.pipeline(&a, 4, T).await.expect("pipeline");
    drop(c);
    let r = conn.invoke(slow(0), T).await.expect("still open");
    assert_eq!(r.kind(), polywire::FrameKind::Response);
    assert!(server_connections_reach(&server, 1).await);
    drop(conn);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.metrics().connections, 1, "the pipeline holds it");
    drop(pipe);
    assert!(server_connections_reach(&server, 0).await);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_shutdown_lets_calls_in_flight_finish_then_closes() {
    let (server, addr) = server(ServerConfig::default()).await;
    let c = client();
    let a = addr.to_string();
    let calls = slow_calls(&c, &a, 50, 10);
    // Every call is on the wire before the shutdown starts.
    let conn = c.connection(&a).await.expect("connects");
    for _ in 0..200 {
        if conn.pending() == 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(conn.pending(), 50);
    let started = std::time::Instant::now();
    c.shutdown(T).await;
    assert!(started.elapsed() >= Duration::from_millis(50), "it waited");
    // Woken by the last response, not by the end of the grace period.
    assert!(started.elapsed() < T / 2, "{:?}", started.elapsed());
    for call in calls {
        let r = call
            .await
            .expect("no panic")
            .expect("answered before the close");
        assert_eq!(r.kind(), polywire::FrameKind::Response);
    }
    assert!(conn.is_closed());
    assert!(matches!(
        c.invoke(&a, slow(0), T).await,
        Err(RemotingError::Shutdown)
    ));
    assert!(matches!(
        conn.invoke(slow(0), T).await,
        Err(RemotingError::Shutdown)
    ));
    assert!(server_connections_reach(&server, 0).await);
    server.shutdown().await;
}

#[tokio::test]
async fn a_version_the_client_did_not_offer_is_refused() {
    // A server that accepts every hello with version 7 (native speaks 1..=3).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 10];
        s.read_exact(&mut hello).await.unwrap();
        s.write_all(&[1, 7, 0, 0, 0, 0]).await.unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    });
    let err = client()
        .connection(&addr.to_string())
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(&err, RemotingError::Handshake { reason, .. } if reason.contains("version 7")),
        "{err}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn an_idle_connection_costs_no_timer_wakeups() {
    let (server, addr) = server(ServerConfig::default()).await;
    let c = client();
    let a = addr.to_string();
    let conn = c.connection(&a).await.expect("connects");
    conn.invoke(slow(0), T).await.expect("answered");
    tokio::time::sleep(Duration::from_millis(30)).await;
    let before = conn.sweeps();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = conn.sweeps() - before;
    assert!(idle <= 1, "{idle} sweeps in 300 ms of idleness");
    // Once parked, the sweeper still wakes for the next call's deadline.
    let err = conn
        .invoke(slow(20), Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(err, RemotingError::Timeout { .. }), "{err}");
    assert!(conn.sweeps() > before + 1, "the sweeper ran for that call");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_answers_every_accepted_request() {
    let (server, addr) = server(ServerConfig::default()).await;
    let c = client();
    let a = addr.to_string();
    let calls = slow_calls(&c, &a, 50, 20);
    // Wait until the server has all 50 in hand, then shut down while they sleep.
    for _ in 0..200 {
        if server.metrics().requests == 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.metrics().requests, 50);
    server.shutdown().await;
    for c in calls {
        let r = c.await.unwrap().expect("answered despite the shutdown");
        assert!(NativeProtocol.is_success(&r));
    }
    // No new connections afterwards.
    let fresh = client();
    assert!(
        fresh
            .invoke(&a, slow(0), Duration::from_millis(500))
            .await
            .is_err()
    );
}

/// Opens a raw connection and completes the native handshake.
async fn raw_connection(addr: SocketAddr) -> TcpStream {
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

/// True when the server closes `s` within a second.
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn hostile_peers_lose_their_connection_and_others_keep_being_served() {
    let (server, addr) = server(ServerConfig::default()).await;
    let basic = BasicClient::new(client(), addr.to_string());
    basic
        .echo(EchoRequest {
            body: Bytes::from_static(b"before"),
        })
        .await
        .unwrap();

    // Garbage after the handshake.
    let mut garbage = raw_connection(addr).await;
    garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert!(
        closed_by_server(&mut garbage).await,
        "garbage closes the connection"
    );

    // A frame announcing 1 GiB.
    let mut huge = raw_connection(addr).await;
    huge.write_all(b"PW\x01\x80\x80\x80\x80\x04").await.unwrap();
    assert!(
        closed_by_server(&mut huge).await,
        "an oversized length closes the connection"
    );

    // Half a frame, then the peer goes away.
    let mut half = raw_connection(addr).await;
    half.write_all(b"PW\x01\x40\x00").await.unwrap();
    drop(half);

    // A handshake that is not one.
    let mut no_hello = TcpStream::connect(addr).await.unwrap();
    no_hello
        .write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut no_hello).await,
        "a bad hello closes the connection"
    );

    let r = basic
        .echo(EchoRequest {
            body: Bytes::from_static(b"after"),
        })
        .await
        .unwrap();
    assert_eq!(r.body, Bytes::from_static(b"after"));
    server.shutdown().await;
}

#[tokio::test]
async fn connection_limit_holds() {
    let cfg = ServerConfig {
        max_connections: 2,
        ..ServerConfig::default()
    };
    let (server, addr) = server(cfg).await;
    let _a = raw_connection(addr).await;
    let _b = raw_connection(addr).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_by_server(&mut c).await,
        "the third connection is closed at once"
    );
    drop(_a);
    // Once one closes, a new one is served.
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let basic =
            BasicClient::new(client(), addr.to_string()).with_timeout(Duration::from_millis(500));
        if basic.ping(PingRequest {}).await.is_ok() {
            ok = true;
            break;
        }
    }
    assert!(ok, "a slot freed up");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_in_flight_bound_holds() {
    let cfg = ServerConfig {
        max_in_flight: 4,
        ..ServerConfig::default()
    };
    let server = RemotingServer::new(NativeProtocol, cfg);
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    {
        let (now, peak) = (now.clone(), peak.clone());
        server.register_processor(SLOW, move |_ctx: RequestContext, req: Frame| {
            let (now, peak) = (now.clone(), peak.clone());
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(req)
            }
        });
    }
    let addr = server.bind("127.0.0.1:0").await.unwrap().to_string();
    let client = client();
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let (client, addr) = (client.clone(), addr.clone());
            tokio::spawn(async move { client.invoke(&addr, slow(0), T).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().expect("all answered");
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&peak),
        "at most 4 processed at once, saw {peak}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn client_in_flight_bound_fails_fast_when_asked() {
    let (server, addr) = server(ServerConfig::default()).await;
    let cfg = ClientConfig {
        max_in_flight: 2,
        overload: Overload::FailFast,
        ..ClientConfig::default()
    };
    let client = RemotingClient::new(NativeProtocol, cfg);
    let a = addr.to_string();
    client.connection(&a).await.unwrap();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let (client, a) = (client.clone(), a.clone());
            tokio::spawn(async move { client.invoke(&a, slow(10), T).await })
        })
        .collect();
    let mut refused = 0;
    let mut answered = 0;
    for c in calls {
        match c.await.unwrap() {
            Ok(_) => answered += 1,
            Err(RemotingError::TooManyInFlight { limit: 2, .. }) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((answered, refused), (2, 1));
    server.shutdown().await;
}

#[derive(Default)]
struct Counting {
    before: AtomicUsize,
    after: AtomicUsize,
}

/// Counts; refuses requests with `token: bad` when `.1` is set.
struct CountingHook(Arc<Counting>, bool);

impl Hook<NativeProtocol> for CountingHook {
    fn before(&self, _ctx: &RequestContext, request: &mut Frame) -> Result<(), String> {
        self.0.before.fetch_add(1, Ordering::SeqCst);
        if self.1 && request.headers.get("token").is_some_and(|t| t == "bad") {
            return Err("bad token".into());
        }
        Ok(())
    }
    fn after(&self, _ctx: &RequestContext, _code: i64, _response: Option<&Frame>) {
        self.0.after.fetch_add(1, Ordering::SeqCst);
    }
}

struct Signer;

impl Hook<NativeProtocol> for Signer {
    fn before(&self, _ctx: &RequestContext, request: &mut Frame) -> Result<(), String> {
        if request.headers.get("token").is_none() {
            request
                .headers
                .insert(Str::from("token"), Str::from("good"));
        }
        Ok(())
    }
}

#[tokio::test]
async fn hooks_see_every_request_on_both_sides() {
    let (server, addr) = server(ServerConfig::default()).await;
    let server_side = Arc::new(Counting::default());
    server.add_hook(CountingHook(server_side.clone(), true));
    server.register_processor(7, |_ctx: RequestContext, mut req: Frame| async move {
        // The client's hook signed the request.
        req.body = Bytes::from(
            req.headers
                .get("token")
                .map(|t| t.to_string())
                .unwrap_or_default(),
        );
        Ok(req)
    });
    let client = client();
    let client_side = Arc::new(Counting::default());
    client.add_hook(Signer);
    client.add_hook(CountingHook(client_side.clone(), false));
    let a = addr.to_string();
    for _ in 0..100 {
        let r = client
            .invoke(&a, NativeProtocol.request(7), T)
            .await
            .unwrap();
        assert_eq!(r.body, Bytes::from_static(b"good"));
    }
    client
        .invoke_oneway(&a, NativeProtocol.request(7))
        .await
        .unwrap();
    // A request the server's hook refuses gets an error status.
    let mut bad = NativeProtocol.request(7);
    bad.headers.insert(Str::from("token"), Str::from("bad"));
    let r = client.invoke(&a, bad, T).await.unwrap();
    assert_eq!(Status::from_repr(r.code), Status::SystemError);
    assert_eq!(r.body, Bytes::from_static(b"bad token"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server_side.before.load(Ordering::SeqCst), 102);
    assert_eq!(server_side.after.load(Ordering::SeqCst), 102);
    assert_eq!(client_side.before.load(Ordering::SeqCst), 102);
    assert_eq!(
        client_side.after.load(Ordering::SeqCst),
        101,
        "oneway has no response"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_codes_get_not_supported_and_typed_clients_report_it() {
    let (server, addr) = server(ServerConfig::default()).await;
    let client = client();
    let r = client
        .invoke(&addr.to_string(), NativeProtocol.request(4242), T)
        .await
        .unwrap();
    assert_eq!(Status::from_repr(r.code), Status::NotSupported);
    assert_eq!(
        r.body,
        Bytes::from_static(b"request code 4242 not supported")
    );
    assert_eq!(r.kind(), polywire::FrameKind::Response);
    server.shutdown().await;
}

#[tokio::test]
async fn handshake_negotiates_and_rejects_disjoint_versions() {
    let (server, addr) = server(ServerConfig {
        versions: Some((1, 2)),
        ..ServerConfig::default()
    })
    .await;
    let a = addr.to_string();
    let conn = client().connection(&a).await.unwrap();
    assert_eq!(
        conn.negotiated().map(|n| n.version),
        Some(2),
        "highest common version"
    );
    let old = RemotingClient::new(
        NativeProtocol,
        ClientConfig {
            versions: Some((3, 3)),
            ..ClientConfig::default()
        },
    );
    match old.connection(&a).await {
        Err(RemotingError::Handshake { reason, .. }) => {
            assert!(reason.contains("1..=2"), "{reason}")
        }
        other => panic!("expected a handshake refusal, got {:?}", other.map(|_| ())),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn client_reconnects_after_the_server_comes_back() {
    let (server, addr) = server(ServerConfig::default()).await;
    let a = addr.to_string();
    let cfg = ClientConfig {
        backoff_min: Duration::from_millis(20),
        ..ClientConfig::default()
    };
    let client = RemotingClient::new(NativeProtocol, cfg);
    client.invoke(&a, slow(0), T).await.unwrap();
    server.shutdown().await;
    let err = client
        .invoke(&a, slow(0), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RemotingError::ConnectionClosed { .. } | RemotingError::Connect { .. }
        ),
        "{err}"
    );
    // Same port again.
    let again = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic(&again, Arc::new(BasicEcho));
    again.register_processor(
        SLOW,
        |_ctx: RequestContext, req: Frame| async move { Ok(req) },
    );
    again.bind(addr).await.expect("rebinds the port");
    let mut ok = false;
    for _ in 0..100 {
        if client
            .invoke(&a, slow(0), Duration::from_millis(300))
            .await
            .is_ok()
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "reconnected after backoff");
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_processor_on_its_own_executor_does_not_stall_others() {
    let (server, addr) = server(ServerConfig::default()).await;
    let pool = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    server.register_processor_on(
        BLOCKING,
        |_ctx: RequestContext, req: Frame| async move {
            std::thread::sleep(Duration::from_millis(300));
            Ok::<_, ProcessError>(req)
        },
        pool.handle().clone(),
    );
    let client = client();
    let a = addr.to_string();
    let blocked = {
        let (client, a) = (client.clone(), a.clone());
        tokio::spawn(async move { client.invoke(&a, NativeProtocol.request(BLOCKING), T).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t = std::time::Instant::now();
    client.invoke(&a, slow(0), T).await.unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "answered while the other blocks: {:?}",
        t.elapsed()
    );
    blocked.await.unwrap().unwrap();
    server.shutdown().await;
    pool.shutdown_background();
}

/// A `BasicNow` service that counts its calls and fails `echo` on an empty body.
#[derive(Default)]
struct CountingNow {
    calls: AtomicUsize,
    logs: AtomicUsize,
}

impl BasicNow for CountingNow {
    fn echo(
        &self,
        ctx: &RequestContext,
        request: EchoRequest,
    ) -> Result<EchoResponse, ProcessError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert_eq!(ctx.protocol, NativeProtocol.id());
        if request.body.is_empty() {
            return Err("empty body".into());
        }
        Ok(EchoResponse { body: request.body })
    }
    fn ping(
        &self,
        _ctx: &RequestContext,
        _request: PingRequest,
    ) -> Result<PingResponse, ProcessError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(PingResponse {})
    }
    fn log(&self, _ctx: &RequestContext, request: LogRequest) -> Result<(), ProcessError> {
        assert_eq!(&request.body[..], b"hello");
        self.logs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_answers_at_once_serves_like_the_async_one() {
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
    let svc = Arc::new(CountingNow::default());
    serve_basic_now(&server, svc.clone());
    // An immediate processor on an executor of its own still answers.
    let pool = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    server.register_processor_on(
        BLOCKING,
        polywire::rt::Immediate(|_ctx: &RequestContext, mut req: Frame| {
            req.code = Status::Ok.to_repr();
            req.body = Bytes::from_static(b"from the pool");
            Ok::<_, ProcessError>(req)
        }),
        pool.handle().clone(),
    );
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let basic = BasicClient::new(client(), addr.to_string());
    echo_concurrently(&basic, 500, "now").await;
    basic.ping(PingRequest {}).await.expect("pong");
    // A handler's error is the peer's system-error response, with its text.
    match basic.echo(EchoRequest { body: Bytes::new() }).await {
        Err(RemotingError::Remote { code, .. }) => {
            assert_eq!(code, i64::from(Status::SystemError.to_repr()))
        }
        other => panic!("expected a remote error, got {other:?}"),
    }
    let c = client();
    let raw = c
        .invoke(
            &addr.to_string(),
            NativeProtocol.request(request_codes::ECHO.into()),
            T,
        )
        .await
        .expect("answered");
    assert!(
        std::str::from_utf8(&raw.body)
            .unwrap()
            .contains("empty body"),
        "{raw:?}"
    );
    basic
        .log(LogRequest {
            header: LogHeader {
                level: 1,
                source: "test".into(),
            },
            body: Bytes::from_static(b"hello"),
        })
        .await
        .expect("sent");
    let r = c
        .invoke(&addr.to_string(), NativeProtocol.request(BLOCKING), T)
        .await
        .expect("answered");
    assert_eq!(&r.body[..], b"from the pool");
    // The oneway arrives after the calls sent before it on the same connection... eventually.
    for _ in 0..200 {
        if svc.logs.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(svc.logs.load(Ordering::SeqCst), 1);
    assert_eq!(svc.calls.load(Ordering::SeqCst), 503);
    server.shutdown().await;
    pool.shutdown_background();
}

#[test]
fn frames_know_their_code_and_kind() {
    let mut f = NativeProtocol.request(2);
    assert_eq!(RemotingFrame::code(&f), 2);
    f.set_kind(polywire::FrameKind::Oneway);
    assert!(f.flags.contains(Flags::ONEWAY));
}

#[tokio::test]
async fn idle_and_silent_connections_are_closed() {
    let cfg = ServerConfig {
        idle_timeout: Duration::from_millis(200),
        handshake_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let (server, addr) = server(cfg).await;
    let t = std::time::Instant::now();
    let mut idle = raw_connection(addr).await;
    assert!(closed_by_server(&mut idle).await, "idle connection closed");
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_by_server(&mut silent).await,
        "no hello within the handshake timeout"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "not before the timeouts"
    );
    server.shutdown().await;
}

/// Processors are found by code whether the code is small (looked up by index) or large
/// (hashed), a code without one gets "not supported", and a new registration applies to
/// sessions opened after it. Driven through `Session`, without sockets.
#[test]
fn processors_are_found_by_small_and_large_codes() {
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
    let tagged = |tag: &'static str| {
        polywire::rt::Immediate(move |_ctx: &RequestContext, mut req: Frame| {
            req.code = Status::Ok.to_repr();
            req.body = Bytes::from_static(tag.as_bytes());
            Ok::<_, ProcessError>(req)
        })
    };
    for (code, tag) in [
        (0, "zero"),
        (7, "seven"),
        (1023, "last dense"),
        (1024, "first hashed"),
        (65535, "largest"),
    ] {
        server.register_processor(code, tagged(tag));
    }
    use polywire::Codec;
    let ask = |server: &RemotingServer<NativeProtocol>, codes: &[u16]| -> Vec<(u16, Bytes)> {
        let mut session = polywire::rt::Session::new(server, "test", None);
        let mut codec = FrameCodec::new();
        let mut input = BytesMut::new();
        for (i, &code) in codes.iter().enumerate() {
            let mut f = NativeProtocol.request(code.into());
            f.id = i as u64;
            codec.encode(&f, &mut input).unwrap();
        }
        let mut out = BytesMut::new();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        session.serve(&mut input, &mut out, &mut cx).unwrap();
        let mut answers = Vec::new();
        codec
            .decode_batch(&mut out, usize::MAX, |f| answers.push((f.code, f.body)))
            .unwrap();
        answers
    };
    let ok = Status::Ok.to_repr();
    let not_supported = Status::NotSupported.to_repr();
    let got = ask(&server, &[0, 7, 500, 1023, 1024, 4242, 65535]);
    assert_eq!(
        got,
        [
            (ok, Bytes::from_static(b"zero")),
            (ok, Bytes::from_static(b"seven")),
            (
                not_supported,
                Bytes::from_static(b"request code 500 not supported")
            ),
            (ok, Bytes::from_static(b"last dense")),
            (ok, Bytes::from_static(b"first hashed")),
            (
                not_supported,
                Bytes::from_static(b"request code 4242 not supported")
            ),
            (ok, Bytes::from_static(b"largest")),
        ]
    );
    server.register_processor(7, tagged("seven again"));
    server.register_processor(500, tagged("five hundred"));
    let got = ask(&server, &[7, 500]);
    assert_eq!(
        got,
        [
            (ok, Bytes::from_static(b"seven again")),
            (ok, Bytes::from_static(b"five hundred")),
        ]
    );
}

#[test]
fn serving_in_chunks_answers_every_request_in_order() {
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
    server.register_processor(
        1,
        polywire::rt::Immediate(|_ctx: &RequestContext, mut req: Frame| {
            req.code = Status::Ok.to_repr();
            Ok::<_, ProcessError>(req)
        }),
    );
    use polywire::Codec;
    let mut codec = FrameCodec::new();
    let mut input = BytesMut::new();
    for i in 0..40u64 {
        let mut f = NativeProtocol.request(1);
        f.id = i;
        f.body = Bytes::from(vec![i as u8; 100]);
        codec.encode(&f, &mut input).unwrap();
    }
    // Half a frame more: a chunk that ends before it says so, the last one does not.
    let mut tail = BytesMut::new();
    codec.encode(&NativeProtocol.request(1), &mut tail).unwrap();
    input.extend_from_slice(&tail[..tail.len() / 2]);
    let mut session = polywire::rt::Session::new(&server, "test", None);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let (mut out, mut ids, mut calls) = (BytesMut::new(), Vec::new(), Vec::new());
    loop {
        let more = session
            .serve_some(&mut input, &mut out, &mut cx, 16)
            .unwrap();
        let mut n = 0;
        codec
            .decode_batch(&mut out, usize::MAX, |f| {
                assert_eq!(f.body, Bytes::from(vec![f.id as u8; 100]));
                ids.push(f.id);
                n += 1;
            })
            .unwrap();
        calls.push((n, more));
        if !more {
            break;
        }
    }
    assert_eq!(calls, [(16, true), (16, true), (8, false)]);
    assert_eq!(ids, (0..40).collect::<Vec<_>>());
    assert_eq!(input.len(), tail.len() / 2, "the partial frame stays");
}
