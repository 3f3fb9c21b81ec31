//! Encode and decode of one native frame (none or 5 string headers, 1 KiB or 128 B body) with the
//! generated codec, the shape DESIGN.md prices for a RocketMQ frame ("binary header
//! encode+decode 500 ns").
//!
//! `cargo bench -p polywire-protocols --bench native -- --warm-up-time 1 --measurement-time 3`

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use polywire::rt::{RemotingServer, Request, RequestContext, ServerConfig, Session};
use polywire::{Codec, OrderedMap, Str};
use polywire_protocols::native::{
    BasicEcho, EchoRequest, Flags, Frame, FrameCodec, NativeProtocol, request_codes, serve_basic,
    serve_basic_now,
};
use std::hint::black_box;

mod common;
use std::sync::Arc;
use std::task::{Context, Waker};

/// A request frame with `n_headers` (0 to 5) typical headers and a body of `body_len` bytes.
fn frame(n_headers: usize, body_len: usize) -> Frame {
    let mut headers = OrderedMap::new();
    for (k, v) in [
        ("topic", "TopicTest"),
        ("queueId", "3"),
        ("bornTimestamp", "1732512345678"),
        ("flag", "0"),
        ("properties", "KEYS\u{1}order-42\u{2}TAGS\u{1}TagA\u{2}"),
    ]
    .into_iter()
    .take(n_headers)
    {
        headers.push(Str::from(k), Str::from(v));
    }
    Frame {
        version: 3,
        code: request_codes::ECHO,
        id: 123_456,
        flags: Flags::default(),
        headers,
        body: Bytes::from(vec![0x5Au8; body_len]),
    }
}

fn bench(c: &mut Criterion) {
    // The load tool's echo request (no headers), and a frame shaped like a RocketMQ send.
    for (name, n_headers, body_len) in [
        ("echo-1KiB", 0, 1024usize),
        ("1KiB", 5, 1024),
        ("128B", 5, 128),
    ] {
        let f = frame(n_headers, body_len);
        let mut codec = FrameCodec::new();
        let mut encoded = BytesMut::new();
        codec.encode(&f, &mut encoded).expect("encodes");
        let encoded = encoded.freeze();
        {
            // The frame survives the round trip.
            let mut src = BytesMut::from(&encoded[..]);
            let back = codec.decode(&mut src).expect("decodes").expect("whole");
            assert_eq!(back, f);
            assert!(src.is_empty());
        }

        common::encode_decode(
            c,
            &format!("native/{name}"),
            &mut codec,
            &f,
            &encoded,
            |f| f.body.len(),
        );
        let mut rbuf = BytesMut::with_capacity(64 * 1024);

        // One read's worth of 64 frames, taken one at a time (a split of the read buffer per
        // frame) and as one batch (one split for all): per frame, as the group above.
        let mut g = c.benchmark_group(format!("native/{name}/read-of-64"));
        g.throughput(Throughput::Elements(64));
        let read: Vec<u8> = encoded
            .iter()
            .copied()
            .cycle()
            .take(64 * encoded.len())
            .collect();
        g.bench_function("decode-each", |b| {
            b.iter(|| {
                rbuf.extend_from_slice(black_box(&read));
                let mut n = 0;
                while let Some(frame) = codec.decode(&mut rbuf).expect("decodes") {
                    n += frame.body.len();
                }
                black_box(n)
            })
        });
        g.bench_function("decode_batch", |b| {
            b.iter(|| {
                rbuf.extend_from_slice(black_box(&read));
                let mut n = 0;
                let got = codec
                    .decode_batch(&mut rbuf, usize::MAX, |frame| n += frame.body.len())
                    .expect("decodes");
                assert_eq!(got, 64);
                black_box(n)
            })
        });
        g.finish();
    }
}

/// The server's work for one read of 64 echo requests, without sockets: decode, dispatch to
/// the generated `Basic` service, encode the responses (what a connection does per pass).
fn server_session(c: &mut Criterion) {
    // The generated typed service (async, and answering at once), and the same echo as a
    // frame-level processor: the differences are the costs of the typed layer and of a
    // future per request.
    let typed = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic(&typed, Arc::new(BasicEcho));
    let typed_now = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&typed_now, Arc::new(BasicEcho));
    let raw = RemotingServer::new(NativeProtocol, ServerConfig::default());
    raw.register_processor(
        i64::from(request_codes::ECHO),
        |_ctx: RequestContext, mut f: Frame| async move {
            f.code = 0;
            Ok(f)
        },
    );
    for (name, server) in [("typed", typed), ("typed-now", typed_now), ("raw", raw)] {
        server_pass(c, name, &server);
    }
}

fn server_pass(c: &mut Criterion, name: &str, server: &RemotingServer<NativeProtocol>) {
    const N: usize = 64;
    let mut session = Session::new(server, "bench", None);
    let mut codec = FrameCodec::new();
    let mut input = BytesMut::new();
    for id in 0..N as u64 {
        let mut f = EchoRequest {
            body: Bytes::from(vec![0xA5u8; 1024]),
        }
        .into_request()
        .expect("encodes");
        f.id = id;
        codec.encode(&f, &mut input).expect("encodes");
    }
    let input = input.freeze();
    let mut cx = Context::from_waker(Waker::noop());
    let mut buf = BytesMut::with_capacity(128 * 1024);
    let mut out = BytesMut::with_capacity(128 * 1024);
    {
        buf.extend_from_slice(&input);
        session.serve(&mut buf, &mut out, &mut cx).expect("serves");
        assert!(buf.is_empty() && session.in_flight() == 0);
        let mut n = 0;
        while let Some(f) = codec.decode(&mut out).expect("responses decode") {
            assert_eq!((f.id, f.body.len()), (n, 1024));
            n += 1;
        }
        assert_eq!(n, N as u64, "every request answered");
    }
    let mut g = c.benchmark_group("server");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(format!("session-64x1KiB-echo-{name}"), |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(&input));
            out.clear();
            session.serve(&mut buf, &mut out, &mut cx).expect("serves");
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench, server_session);
criterion_main!(benches);
