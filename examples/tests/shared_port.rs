//! Several protocols behind one `MultiServer`: one shared port told apart by the first
//! bytes, a port of one protocol's own, unclaimed traffic closed, and protocols replaced
//! and removed while clients run (over TCP, WebSocket and HTTP/2).

use bytes::Bytes;
use polywire::RemotingFrame;
use polywire::rt::{
    ClientConfig, Immediate, MultiServer, MultiServerConfig, ProcessError, RemotingClient,
    RemotingServer, Request, RequestContext, ServerConfig,
};
use polywire_examples::probes::probe_a;
use polywire_protocols::native::{
    BasicClient, BasicEcho, EchoRequest, Frame, NativeProtocol, Status, request_codes,
    serve_basic_now,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A second protocol (made with the macros; its frames start with `PA`) echoing bodies.
struct Echoer;

impl probe_a::Echo for Echoer {
    async fn echo(
        &self,
        _ctx: RequestContext,
        req: probe_a::EchoRequest,
    ) -> Result<probe_a::EchoResponse, ProcessError> {
        Ok(probe_a::EchoResponse { body: req.body })
    }
}

fn probe_server() -> RemotingServer<probe_a::ProbeAProtocol> {
    let server = RemotingServer::new(probe_a::ProbeAProtocol, ServerConfig::default());
    probe_a::serve_echo(&server, Arc::new(Echoer));
    server
}

/// A native server whose echo answers with the request's body.
fn echo_server() -> RemotingServer<NativeProtocol> {
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&server, Arc::new(BasicEcho));
    server
}

/// A native server whose echo answers `tag` whatever the request.
fn tagged_server(tag: &'static [u8]) -> RemotingServer<NativeProtocol> {
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
    server.register_processor(
        i64::from(request_codes::ECHO),
        Immediate(move |_ctx: &RequestContext, mut req: Frame| {
            req.code = Status::Ok.to_repr();
            req.body = Bytes::from_static(tag);
            Ok::<_, ProcessError>(req)
        }),
    );
    server
}

fn native_client(addr: &str) -> BasicClient {
    BasicClient::new(
        RemotingClient::new(NativeProtocol, ClientConfig::default()),
        addr.to_string(),
    )
}

fn probe_client(addr: &str) -> probe_a::EchoClient {
    probe_a::EchoClient::new(
        RemotingClient::new(probe_a::ProbeAProtocol, ClientConfig::default()),
        addr.to_string(),
    )
}

/// Sends `body` through the probe protocol's echo and returns the answer.
async fn probe_echo(client: &probe_a::EchoClient, body: &'static [u8]) -> Bytes {
    client
        .echo(probe_a::EchoRequest {
            body: Bytes::from_static(body),
        })
        .await
        .expect("the probe protocol answers")
        .body
}

async fn echo(
    client: &BasicClient,
    body: &'static [u8],
) -> Result<Bytes, polywire::rt::RemotingError> {
    client
        .echo(EchoRequest {
            body: Bytes::from_static(body),
        })
        .await
        .map(|r| r.body)
}

/// A client calling echo in a loop on its one connection, each answer expected to be
/// `answer` (the tagged servers answer their tag).
struct KeepCalling {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<BasicClient>,
}

impl KeepCalling {
    fn start(client: BasicClient, answer: &'static [u8]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let task = {
            let (stop, done, failed) = (stop.clone(), done.clone(), failed.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match echo(&client, answer).await {
                        Ok(b) if b[..] == *answer => done.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
                client
            })
        };
        KeepCalling {
            stop,
            done,
            failed,
            task,
        }
    }

    /// Stops; asserts that it made progress and that no call failed; returns the client.
    async fn stop_and_check(self) -> BasicClient {
        self.stop.store(true, Ordering::Relaxed);
        let client = self.task.await.unwrap();
        let calls = self.done.load(Ordering::Relaxed);
        assert!(calls > 10, "the busy client made progress ({calls} calls)");
        assert_eq!(self.failed.load(Ordering::Relaxed), 0, "no call failed");
        client
    }
}

/// Reads until the server closes the connection; fails if it stays open for `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut sink = Vec::new();
    matches!(
        tokio::time::timeout(within, stream.read_to_end(&mut sink)).await,
        Ok(Ok(_)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn two_protocols_share_one_port_and_unclaimed_traffic_is_closed() {
    let multi = MultiServer::new(MultiServerConfig {
        detect_timeout: Duration::from_millis(300),
        ..MultiServerConfig::default()
    });
    multi.add(echo_server()).unwrap();
    multi.add(probe_server()).unwrap();
    assert_eq!(
        multi.add(echo_server()),
        Err(polywire::rt::RegistryError::Duplicate("polywire-native"))
    );
    assert_eq!(multi.protocols(), ["polywire-native", "probe-a"]);
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();

    // Each protocol's own client, each with its handshake (or none), on the same port.
    let native = native_client(&addr);
    let probe = probe_client(&addr);
    for _ in 0..20 {
        assert_eq!(&echo(&native, b"hello").await.unwrap()[..], b"hello");
        assert_eq!(&probe_echo(&probe, b"probe").await[..], b"probe");
    }

    // Bytes nobody claims, and a peer that never says enough: both closed, both counted.
    let mut http = TcpStream::connect(&addr).await.unwrap();
    http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut http, Duration::from_secs(5)).await);
    let mut shy = TcpStream::connect(&addr).await.unwrap();
    shy.write_all(b"P").await.unwrap(); // native needs four bytes to tell
    assert!(closed_within(&mut shy, Duration::from_secs(5)).await);
    assert_eq!(multi.unclaimed(), 2);

    // The others keep being served.
    assert_eq!(&echo(&native, b"still").await.unwrap()[..], b"still");
    assert_eq!(&probe_echo(&probe, b"still").await[..], b"still");
    multi.shutdown().await;
}

#[tokio::test]
async fn a_protocol_can_have_a_port_of_its_own() {
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(probe_server()).unwrap();
    multi.add(echo_server()).unwrap();
    let own = multi
        .bind_protocol("probe-a", "127.0.0.1:0")
        .await
        .unwrap()
        .to_string();
    assert_eq!(&probe_echo(&probe_client(&own), b"own").await[..], b"own");
    // Nothing is detected there: a native client is handed to probe-a, which cannot decode it.
    assert!(echo(&native_client(&own), b"x").await.is_err());
    multi.shutdown().await;
}

/// Native under another id and without a detector (no `detect` block): it can only have
/// a port of its own.
struct Undetected;

impl polywire::Protocol for Undetected {
    type Frame = Frame;
    type Codec = polywire_protocols::native::FrameCodec;

    fn id(&self) -> &'static str {
        "undetected"
    }

    fn codec(&self) -> polywire_protocols::native::FrameCodec {
        NativeProtocol.codec()
    }

    fn request(&self, code: i64) -> Frame {
        NativeProtocol.request(code)
    }

    fn error_response(
        &self,
        request_code: i64,
        status: polywire::ErrorStatus,
        message: &str,
    ) -> Frame {
        NativeProtocol.error_response(request_code, status, message)
    }

    fn is_success(&self, response: &Frame) -> bool {
        NativeProtocol.is_success(response)
    }
}

fn undetected_server() -> RemotingServer<Undetected> {
    RemotingServer::new(Undetected, ServerConfig::default())
}

#[tokio::test]
async fn a_protocol_without_a_detector_needs_a_port_of_its_own() {
    use polywire::Protocol as _;
    use polywire::rt::RegistryError;
    // Added once a shared port is bound.
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(echo_server()).unwrap();
    multi.bind("127.0.0.1:0").await.unwrap();
    let e = multi.add(undetected_server()).unwrap_err();
    assert_eq!(e, RegistryError::NoDetector("undetected"));
    // Nor through `replace`.
    let e = multi.replace(undetected_server()).map(|_| ()).unwrap_err();
    assert_eq!(e, RegistryError::NoDetector("undetected"));
    let text = e.to_string();
    for said in ["\"undetected\"", "`detect` block", "bind_protocol"] {
        assert!(text.contains(said), "{text}");
    }
    assert_eq!(multi.protocols(), ["polywire-native"]);
    // With a port of its own it is reachable, and welcome.
    multi
        .bind_protocol("undetected", "127.0.0.1:0")
        .await
        .unwrap();
    multi.add(undetected_server()).unwrap();
    multi.shutdown().await;

    // Registered before a shared port is bound: binding it fails, naming the protocol.
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(echo_server()).unwrap();
    multi.add(undetected_server()).unwrap();
    let e = multi.bind("127.0.0.1:0").await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("\"undetected\""), "{e}");
    #[cfg(unix)]
    {
        let path =
            std::env::temp_dir().join(format!("polywire-undetected-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let e = multi.bind_unix(&path).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(!path.exists(), "no socket is made");
    }
    // Once it has a port of its own, the shared port is bound, and serves the others.
    multi
        .bind_protocol("undetected", "127.0.0.1:0")
        .await
        .unwrap();
    let shared = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    assert_eq!(
        &echo(&native_client(&shared), b"shared").await.unwrap()[..],
        b"shared"
    );
    assert!(Undetected.detector().is_none());
    multi.shutdown().await;
}

#[tokio::test]
async fn protocols_are_replaced_and_removed_while_clients_run() {
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(echo_server()).unwrap();
    multi.add(probe_server()).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();

    // One client keeps calling on its one connection throughout.
    let busy = native_client(&addr);
    assert_eq!(&echo(&busy, b"warm").await.unwrap()[..], b"warm");
    let busy = KeepCalling::start(busy, b"old");
    let stop = busy.stop.clone();
    // And a pipeline keeps 64 requests in flight on a connection of its own.
    let piped = {
        let (stop, addr) = (stop.clone(), addr.clone());
        tokio::spawn(async move {
            let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
            let mut pipe = client
                .pipeline(&addr, 64, Duration::from_secs(3))
                .await
                .expect("pipeline");
            let (mut answered, mut failed) = (0u64, 0u64);
            loop {
                while !stop.load(Ordering::Relaxed) && pipe.has_room() {
                    let req = EchoRequest {
                        body: Bytes::from_static(b"old"),
                    };
                    let req = req.into_request().expect("encodes");
                    pipe.send(req).expect("room in the window");
                }
                if pipe.outstanding() == 0 {
                    return (answered, failed);
                }
                for (_, r) in pipe.recv().await {
                    match r.map(|f| f.body) {
                        Ok(b) if &b[..] == b"old" => answered += 1,
                        _ => failed += 1,
                    }
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;

    // Replaced: new connections get the new definition, the open ones keep the old.
    let old = multi
        .replace(tagged_server(b"new"))
        .expect("a detected protocol")
        .expect("the old server");
    assert_eq!(
        &echo(&native_client(&addr), b"x").await.unwrap()[..],
        b"new"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;

    // Removed: new native connections are closed unclaimed; probe-a is unaffected.
    let replaced = multi.remove("polywire-native").expect("the new server");
    assert!(echo(&native_client(&addr), b"x").await.is_err());
    assert_eq!(&probe_echo(&probe_client(&addr), b"on").await[..], b"on");
    tokio::time::sleep(Duration::from_millis(50)).await;

    busy.stop_and_check().await;
    let (answered, pipe_failed) = piped.await.unwrap();
    assert!(
        answered > 1000,
        "the pipeline made progress ({answered} answers)"
    );
    assert_eq!(pipe_failed, 0, "no pipelined request failed");
    assert_eq!(multi.protocols(), ["probe-a"]);
    multi.shutdown().await;
    old.shutdown().await;
    replaced.shutdown().await;
}

#[tokio::test]
async fn rocketmq_in_both_header_encodings_shares_a_port_with_native() {
    use polywire::Protocol as _;
    use polywire_protocols::rocketmq::{self, HeaderEncoding, ResponseCode, RocketmqProtocol};
    let rmq = RemotingServer::new(RocketmqProtocol, ServerConfig::default());
    rmq.register_processor(
        2001,
        |_ctx: RequestContext, mut req: rocketmq::Frame| async move {
            req.header.code = ResponseCode::Success.to_repr();
            req.header.remark = None;
            Ok::<_, ProcessError>(req)
        },
    );
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(echo_server()).unwrap();
    multi.add(rmq).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    for serialize in [0u8, 1] {
        // A client per encoding: each opens its own connection, detected on its first frame.
        let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
        client.add_hook(HeaderEncoding(serialize));
        let mut req = RocketmqProtocol.request(2001);
        req.body = Bytes::from_static(b"ping");
        let r = client
            .invoke(&addr, req, Duration::from_secs(3))
            .await
            .unwrap_or_else(|e| panic!("serialize type {serialize}: {e}"));
        assert_eq!(r.header.code, ResponseCode::Success.to_repr());
        assert_eq!((&r.body[..], r.serialize), (&b"ping"[..], serialize));
    }
    assert_eq!(
        &echo(&native_client(&addr), b"hi").await.unwrap()[..],
        b"hi"
    );
    assert_eq!(multi.unclaimed(), 0);
    multi.shutdown().await;
}

/// Writes one RocketMQ request with id `id` on `io` by hand, and reads its answer back.
async fn rocketmq_round_trip<S>(io: &mut S, id: u64) -> polywire_protocols::rocketmq::Frame
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use polywire::{Codec as _, Protocol as _};
    use polywire_protocols::rocketmq::RocketmqProtocol;
    let mut codec = RocketmqProtocol.codec();
    let mut req = RocketmqProtocol.request(2001);
    req.set_correlation_id(id);
    req.body = Bytes::from_static(b"ping");
    let mut out = bytes::BytesMut::new();
    codec.encode(&req, &mut out).unwrap();
    io.write_all(&out).await.unwrap();
    let mut buf = bytes::BytesMut::new();
    loop {
        if let Some(f) = codec.decode(&mut buf).unwrap() {
            return f;
        }
        assert!(io.read_buf(&mut buf).await.unwrap() > 0, "closed early");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn unix_sockets_and_any_stream_go_through_the_same_detection() {
    use polywire_protocols::rocketmq::{self, ResponseCode, RocketmqProtocol};
    let rmq = RemotingServer::new(RocketmqProtocol, ServerConfig::default());
    rmq.register_processor(
        2001,
        |_ctx: RequestContext, mut req: rocketmq::Frame| async move {
            req.header.code = ResponseCode::Success.to_repr();
            Ok::<_, ProcessError>(req)
        },
    );
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(echo_server()).unwrap();
    multi.add(rmq).unwrap();
    let ok = ResponseCode::Success.to_repr();

    let path = std::env::temp_dir().join(format!("polywire-shared-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    multi.bind_unix(&path).unwrap();
    let mut uds = tokio::net::UnixStream::connect(&path).await.unwrap();
    let r = rocketmq_round_trip(&mut uds, 7).await;
    assert_eq!(
        (r.header.code, &r.body[..], r.correlation_id()),
        (ok, &b"ping"[..], 7)
    );

    // A stream from a transport of the user's own (here in memory).
    let (mut ours, theirs) = tokio::io::duplex(64 * 1024);
    multi.serve_io(theirs, "in-memory".into());
    let r = rocketmq_round_trip(&mut ours, 8).await;
    assert_eq!(
        (r.header.code, &r.body[..], r.correlation_id()),
        (ok, &b"ping"[..], 8)
    );

    let (mut stray, theirs) = tokio::io::duplex(1024);
    multi.serve_io(theirs, "in-memory".into());
    stray.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut sink = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stray.read_to_end(&mut sink))
        .await
        .expect("closed")
        .unwrap();
    assert_eq!(multi.unclaimed(), 1);
    multi.shutdown().await;
    let _ = std::fs::remove_file(&path);
}

/// p99 of `n` native echo calls made one after another.
async fn echo_p99(client: &BasicClient, n: usize) -> Duration {
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        echo(client, b"x").await.expect("native answers");
        took.push(t.elapsed());
    }
    took.sort();
    took[n * 99 / 100]
}

/// Native's p99 over `calls` calls, without and then with the probe protocol's processors
/// blocked (each request sleeps 20 ms on a thread), `executor_threads` or `pool_size` being
/// the probe server's executor.
async fn native_p99_while_probe_blocks(
    executor_threads: usize,
    pool_size: usize,
    calls: usize,
) -> (Duration, Duration) {
    struct Sleeper;
    impl probe_a::Echo for Sleeper {
        async fn echo(
            &self,
            _ctx: RequestContext,
            req: probe_a::EchoRequest,
        ) -> Result<probe_a::EchoResponse, ProcessError> {
            std::thread::sleep(Duration::from_millis(20)); // blocks its thread
            Ok(probe_a::EchoResponse { body: req.body })
        }
    }
    let blocking = RemotingServer::new(
        probe_a::ProbeAProtocol,
        ServerConfig {
            executor_threads,
            pool_size,
            ..ServerConfig::default()
        },
    );
    probe_a::serve_echo(&blocking, Arc::new(Sleeper));
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(echo_server()).unwrap();
    multi.add(blocking).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    let native = native_client(&addr);
    let unloaded = echo_p99(&native, calls).await;

    // Eight callers keep the probe protocol's processors busy.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..8)
        .map(|_| {
            let (client, stop) = (probe_client(&addr), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    probe_echo(&client, b"slow").await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let loaded = echo_p99(&native, calls).await;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    multi.shutdown().await;
    (unloaded, loaded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protocol_with_blocked_processors_does_not_slow_another_down() {
    // Dedicated threads, then a bounded pool of the shared runtime's blocking threads.
    for (threads, pool, executor) in [(2, 0, "2 threads of its own"), (0, 2, "a pool of 2")] {
        let (unloaded, loaded) = native_p99_while_probe_blocks(threads, pool, 300).await;
        eprintln!(
            "native p99: {unloaded:?} alone, {loaded:?} beside the blocked protocol on {executor}"
        );
        // Were the blocked processors on the shared runtime's threads, native's calls would
        // wait behind their 20 ms sleeps. A bound at half of that tells the two apart on a
        // loaded machine too (a bound relative to the unloaded p99 failed under load).
        assert!(
            loaded < Duration::from_millis(10),
            "native p99 {loaded:?} with the probe protocol blocked on {executor}, {unloaded:?} without"
        );
    }
    // The control: the same processors on the I/O threads hold native up for their sleep.
    let (_, inline) = native_p99_while_probe_blocks(0, 0, 20).await;
    eprintln!("native p99: {inline:?} when the blocked protocol blocks the I/O threads");
    assert!(
        inline >= Duration::from_millis(10),
        "without an executor of its own, native p99 is {inline:?}"
    );
}

#[tokio::test]
async fn replace_and_remove_keep_open_connections_on_websocket_and_http2() {
    use polywire::rt::{Transport, h2::H2Settings, ws::WsSettings};
    let multi = MultiServer::new(MultiServerConfig {
        websocket: Some(WsSettings::default()),
        http2: Some(H2Settings::default()),
        ..MultiServerConfig::default()
    });
    multi.add(tagged_server(b"old")).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    let client_over = |transport: &Transport| {
        BasicClient::new(
            RemotingClient::new(
                NativeProtocol,
                ClientConfig {
                    transport: transport.clone(),
                    ..ClientConfig::default()
                },
            ),
            addr.clone(),
        )
    };
    for transport in [Transport::websocket(), Transport::Http2] {
        // A client keeps calling on its one connection throughout.
        let busy = client_over(&transport);
        assert_eq!(&echo(&busy, b"x").await.unwrap()[..], b"old");
        let busy = KeepCalling::start(busy, b"old");
        tokio::time::sleep(Duration::from_millis(30)).await;
        // New connections get the new definition; the open one keeps the old.
        let old = multi
            .replace(tagged_server(b"new"))
            .expect("a detected protocol")
            .expect("the old server");
        let fresh = client_over(&transport);
        assert_eq!(&echo(&fresh, b"x").await.unwrap()[..], b"new");
        tokio::time::sleep(Duration::from_millis(30)).await;
        // Removed: a new connection is refused, the open one still goes on.
        let new = multi.remove("polywire-native").expect("the new server");
        assert!(echo(&client_over(&transport), b"x").await.is_err());
        tokio::time::sleep(Duration::from_millis(30)).await;
        let client = busy.stop_and_check().await;
        // Once the old server is shut down, the connection it kept stops answering (over
        // HTTP/2 each call is refused with 503, answered as the protocol's error).
        old.shutdown().await;
        assert!(echo(&client, b"x").await.is_err(), "over {transport:?}");
        new.shutdown().await;
        multi.add(tagged_server(b"old")).unwrap();
    }
    multi.shutdown().await;
}
