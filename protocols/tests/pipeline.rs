//! The pipelined client API over real loopback sockets: many requests per window matched to
//! their own responses, timeouts, a closing connection, the window counted against the
//! connection's in-flight bound, typed requests and responses, and mixing with `invoke`.

use bytes::Bytes;
use polywire::rt::{
    ClientConfig, Overload, Pipeline, RemotingClient, RemotingError, RemotingServer,
    RequestContext, ServerConfig,
};
use polywire::{Protocol, RemotingFrame};
use polywire_protocols::native::*;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const SLOW: i64 = 100;
const T: Duration = Duration::from_secs(5);

/// The Basic service plus SLOW, which sleeps for ten times the ms in its first body byte.
async fn server() -> (RemotingServer<NativeProtocol>, SocketAddr) {
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
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

/// A SLOW request that takes `tens_of_ms` × 10 ms.
fn slow(tens_of_ms: u8) -> Frame {
    let mut f = NativeProtocol.request(SLOW);
    f.body = Bytes::from(vec![tens_of_ms]);
    f
}

fn echo(i: u32) -> Frame {
    EchoRequest {
        body: Bytes::from(format!("request {i}")),
    }
    .into_request()
    .expect("encodes")
}

/// Drains `pipe`, returning every outcome by correlation id.
async fn drain(pipe: &mut Pipeline<NativeProtocol>) -> HashMap<u64, Result<Frame, RemotingError>> {
    let mut all = HashMap::new();
    let mut batch = Vec::new();
    while pipe.outstanding() > 0 {
        let n = pipe.recv_batch(&mut batch).await;
        assert_eq!(n, batch.len());
        all.extend(batch.drain(..));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_of_requests_gets_every_response_matched() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let mut pipe = client
        .pipeline(&addr.to_string(), 64, T)
        .await
        .expect("pipeline");
    let mut sent = HashMap::new();
    let mut got = HashMap::new();
    let mut batch = Vec::new();
    for i in 0..5000u32 {
        while !pipe.has_room() {
            pipe.recv_batch(&mut batch).await;
            got.extend(batch.drain(..));
        }
        let id = pipe.send(echo(i)).expect("sent");
        assert!(sent.insert(id, i).is_none(), "ids are unique");
    }
    got.extend(drain(&mut pipe).await);
    assert_eq!(got.len(), 5000);
    for (id, outcome) in got {
        let i = sent[&id];
        let r = EchoResponse::from_response(outcome.expect("answered")).expect("typed");
        assert_eq!(r.body, Bytes::from(format!("request {i}")), "id {id}");
    }
    assert_eq!(pipe.outstanding(), 0);
    let m = client.metrics();
    assert_eq!((m.requests, m.responses, m.errors), (5000, 5000, 0));
    server.shutdown().await;
}

/// A pipeline takes correlation ids from the connection in blocks of a few thousand: a
/// slow request keeps its block routed to the pipeline while many later blocks come and
/// go, and `invoke` calls on the same connection get their own responses meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_outlives_many_id_blocks() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let a = addr.to_string();
    let mut pipe = client.pipeline(&a, 16, T).await.unwrap();
    let slow = slow(100); // 1 s
    let slow_id = pipe.send(slow).unwrap();
    let mut fast = 0u32;
    let mut got = HashMap::new();
    let mut batch = Vec::new();
    // Three blocks' worth of fast requests while the slow one is in flight.
    while fast < 15_000 {
        while pipe.has_room() && fast < 15_000 {
            pipe.send(echo(fast)).unwrap();
            fast += 1;
        }
        pipe.recv_batch(&mut batch).await;
        got.extend(batch.drain(..));
        if fast % 5_000 < 16 {
            let basic = BasicClient::new(client.clone(), a.clone());
            let r = basic.echo(EchoRequest {
                body: Bytes::from_static(b"call"),
            });
            assert_eq!(r.await.unwrap().body, Bytes::from_static(b"call"));
        }
    }
    assert!(
        !got.contains_key(&slow_id),
        "the slow request is still in flight"
    );
    got.extend(drain(&mut pipe).await);
    assert_eq!(got.len(), 15_001);
    assert!(
        got.values().all(|r| r.is_ok()),
        "every request answered, the slow one too"
    );
    assert_eq!(client.metrics().late_responses, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_full_window_refuses_more_until_responses_are_taken() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let mut pipe = client.pipeline(&addr.to_string(), 4, T).await.unwrap();
    for i in 0..4 {
        pipe.send(echo(i)).unwrap();
    }
    assert!(!pipe.has_room());
    let err = pipe.send(echo(9)).unwrap_err();
    assert!(
        matches!(err, RemotingError::TooManyInFlight { limit: 4, .. }),
        "{err}"
    );
    let mut batch = Vec::new();
    while batch.is_empty() {
        pipe.recv_batch(&mut batch).await;
    }
    assert!(pipe.has_room());
    pipe.send(echo(5)).unwrap();
    let rest = drain(&mut pipe).await;
    assert_eq!(batch.len() + rest.len(), 5);
    assert_eq!(pipe.recv_batch(&mut batch).await, 0, "nothing outstanding");
    server.shutdown().await;
}

#[tokio::test]
async fn timeouts_complete_the_request_and_late_responses_are_counted() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let a = addr.to_string();
    let mut pipe = client
        .pipeline(&a, 8, Duration::from_millis(50))
        .await
        .unwrap();
    let slow = slow(20); // 200 ms
    let slow_id = pipe.send(slow).unwrap();
    let fast_id = pipe.send(echo(1)).unwrap();
    let all = drain(&mut pipe).await;
    assert!(all[&fast_id].is_ok());
    assert!(
        matches!(all[&slow_id], Err(RemotingError::Timeout { .. })),
        "{:?}",
        all[&slow_id]
    );
    assert_eq!(pipe.outstanding(), 0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The pipeline still works; the late response is counted (when the pipeline next
    // takes responses) and dropped, not mistaken for another.
    let id = pipe.send(echo(2)).unwrap();
    let all = drain(&mut pipe).await;
    assert_eq!(all.keys().collect::<Vec<_>>(), [&id]);
    assert!(all[&id].is_ok());
    assert_eq!(client.metrics().late_responses, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_closing_connection_fails_what_is_outstanding() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let mut pipe = client.pipeline(&addr.to_string(), 8, T).await.unwrap();
    let slow = slow(50); // 500 ms
    let id = pipe.send(slow).unwrap();
    pipe.flush();
    tokio::time::sleep(Duration::from_millis(50)).await;
    pipe.connection().close();
    let all = drain(&mut pipe).await;
    assert!(
        matches!(all[&id], Err(RemotingError::ConnectionClosed { .. })),
        "{:?}",
        all[&id]
    );
    let err = pipe.send(echo(1)).unwrap_err();
    assert!(
        matches!(err, RemotingError::ConnectionClosed { .. }),
        "{err}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_window_counts_against_the_connection_bound() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(
        NativeProtocol,
        ClientConfig {
            max_in_flight: 10,
            overload: Overload::FailFast,
            ..ClientConfig::default()
        },
    );
    let a = addr.to_string();
    let too_big = client.pipeline(&a, 11, T).await.err().expect("refused");
    assert!(
        matches!(too_big, RemotingError::TooManyInFlight { limit: 10, .. }),
        "{too_big}"
    );
    let mut pipe = client.pipeline(&a, 8, T).await.unwrap();
    let second = client.pipeline(&a, 3, T).await.err().expect("only 2 left");
    assert!(matches!(second, RemotingError::TooManyInFlight { .. }));
    // `invoke` shares the connection and its two remaining slots.
    let basic = BasicClient::new(client.clone(), a.clone());
    let r = basic
        .echo(EchoRequest {
            body: Bytes::from_static(b"beside"),
        })
        .await
        .unwrap();
    assert_eq!(&r.body[..], b"beside");
    pipe.send(echo(1)).unwrap();
    assert_eq!(drain(&mut pipe).await.len(), 1);
    drop(pipe);
    // Dropping the pipeline gives its slots back.
    let again = client.pipeline(&a, 10, T).await;
    assert!(again.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn typed_clients_pipeline_and_errors_come_back_typed() {
    let (server, addr) = server().await;
    let basic = BasicClient::new(
        RemotingClient::new(NativeProtocol, ClientConfig::default()),
        addr.to_string(),
    );
    let mut pipe = basic.pipeline(16).await.unwrap();
    let ok = pipe.send(echo(7)).unwrap();
    // A code the server lacks: the response is an error status.
    let unknown = pipe.send(NativeProtocol.request(999)).unwrap();
    let all = drain(&mut pipe).await;
    let mut all = all;
    let r = EchoResponse::from_response(all.remove(&ok).unwrap().unwrap()).unwrap();
    assert_eq!(r.body, Bytes::from_static(b"request 7"));
    let frame = all.remove(&unknown).unwrap().unwrap();
    assert_eq!(frame.code(), i64::from(Status::NotSupported.to_repr()));
    let err = EchoResponse::from_response(frame).unwrap_err();
    assert!(
        matches!(err, RemotingError::Remote { code: 2, .. }),
        "{err}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_frames_survive_partial_writes_in_order_beside_invokes() {
    // The server takes one request at a time and the first one sleeps, so it stops reading
    // while 16 x 512 KiB wait: the client's direct writes stop part-way when the socket is
    // full and its writer task finishes them, while `invoke` calls queue frames on the same
    // connection.
    let server = RemotingServer::new(
        NativeProtocol,
        ServerConfig {
            max_in_flight: 1,
            ..ServerConfig::default()
        },
    );
    serve_basic(&server, Arc::new(BasicEcho));
    server.register_processor(SLOW, |_ctx: RequestContext, mut req: Frame| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        req.code = Status::Ok.to_repr();
        Ok(req)
    });
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let a = addr.to_string();
    let mut pipe = client.pipeline(&a, 17, T).await.unwrap();
    let slow = pipe.send(NativeProtocol.request(SLOW)).unwrap();
    let basic = BasicClient::new(client.clone(), a.clone());
    let calls = tokio::spawn(async move {
        for i in 0..200u32 {
            let body = Bytes::from(format!("small {i}"));
            let r = basic
                .echo(EchoRequest { body: body.clone() })
                .await
                .expect("answered");
            assert_eq!(r.body, body);
        }
    });
    let body_of = |i: u32| -> Bytes {
        (0..512 * 1024u32)
            .map(|j| (j.wrapping_mul(31).wrapping_add(i)) as u8)
            .collect::<Vec<u8>>()
            .into()
    };
    let mut sent = HashMap::new();
    let mut got = HashMap::new();
    let mut batch = Vec::new();
    for i in 0..48u32 {
        while !pipe.has_room() {
            pipe.recv_batch(&mut batch).await;
            got.extend(batch.drain(..));
        }
        let id = pipe
            .send(EchoRequest { body: body_of(i) }.into_request().unwrap())
            .unwrap();
        sent.insert(id, i);
    }
    got.extend(drain(&mut pipe).await);
    calls.await.expect("small calls");
    assert!(got.remove(&slow).expect("slow answered").is_ok());
    assert_eq!(got.len(), 48);
    for (id, outcome) in got {
        let r = EchoResponse::from_response(outcome.expect("answered")).unwrap();
        assert!(r.body == body_of(sent[&id]), "body of request {id} intact");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_pipelines_late_responses_never_reach_the_next_one() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let a = addr.to_string();
    let mut first = client.pipeline(&a, 8, T).await.unwrap();
    let slow = slow(10); // 100 ms
    let slow_id = first.send(slow).unwrap();
    first.flush();
    drop(first);
    // The next pipeline on the connection takes the dropped one's place.
    let mut second = client.pipeline(&a, 8, T).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(second.send(echo(i)).unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = drain(&mut second).await;
    assert_eq!(all.len(), 4, "only its own requests: {:?}", all.keys());
    assert!(!all.contains_key(&slow_id));
    assert!(ids.iter().all(|id| all[id].is_ok()));
    assert_eq!(client.metrics().late_responses, 1);
    assert_eq!(second.outstanding(), 0);
    server.shutdown().await;
}

/// Responses that reached a pipeline but were never taken count as late when it is
/// dropped.
#[tokio::test]
async fn responses_a_dropped_pipeline_never_took_count_as_late() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let mut pipe = client.pipeline(&addr.to_string(), 8, T).await.unwrap();
    for i in 0..4 {
        pipe.send(echo(i)).unwrap();
    }
    pipe.flush();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(client.metrics().late_responses, 0);
    drop(pipe);
    assert_eq!(client.metrics().late_responses, 4);
    server.shutdown().await;
}

/// `recv` hands the outcomes out one by one; a batch dropped half-read still counts every
/// response it held (metrics), and an empty batch means nothing is outstanding.
#[tokio::test]
async fn recv_hands_outcomes_out_and_a_dropped_batch_still_counts() {
    let (server, addr) = server().await;
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let mut pipe = client.pipeline(&addr.to_string(), 16, T).await.unwrap();
    let mut sent = HashMap::new();
    for i in 0..16u32 {
        sent.insert(pipe.send(echo(i)).unwrap(), i);
    }
    let mut seen = 0;
    let mut dropped = 0;
    while pipe.outstanding() > 0 {
        let mut batch = pipe.recv().await;
        let n = batch.len();
        assert!(n > 0, "a request is outstanding");
        // Take the first outcome of each batch, drop the rest unread.
        let (id, outcome) = batch.next().expect("one outcome");
        let r = EchoResponse::from_response(outcome.expect("answered")).expect("typed");
        assert_eq!(r.body, Bytes::from(format!("request {}", sent[&id])));
        assert_eq!(batch.len(), n - 1);
        seen += 1;
        dropped += n - 1;
    }
    assert_eq!(seen + dropped, 16);
    // 16 small requests go out in one write and come back in one pass: some batch held
    // more than one outcome.
    assert!(dropped > 0, "a batch was dropped with outcomes unread");
    assert_eq!(pipe.recv().await.len(), 0, "nothing outstanding");
    let m = client.metrics();
    assert_eq!(
        (m.requests, m.responses, m.errors),
        (16, 16, 0),
        "dropped outcomes are counted as responses"
    );
    server.shutdown().await;
}
