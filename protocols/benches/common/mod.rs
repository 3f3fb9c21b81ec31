//! What the codec benches share: one frame's encode, decode and both, timed the way a
//! connection uses its buffers.

use bytes::BytesMut;
use criterion::{Criterion, Throughput};
use polywire::Codec;
use std::hint::black_box;

/// The group `name` of three benches over `f`, whose bytes are `encoded`: encode into a
/// reused buffer (as a connection's write queue does); decode from a reused read buffer the
/// bytes are copied into (as a socket read would), the frame dropped before the next round so
/// that the buffer's storage is reused; and both through that buffer. `size` is what each
/// round hands to `black_box` of the decoded frame.
pub fn encode_decode<C: Codec>(
    c: &mut Criterion,
    name: &str,
    codec: &mut C,
    f: &C::Frame,
    encoded: &[u8],
    size: fn(&C::Frame) -> usize,
) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    let mut buf = BytesMut::with_capacity(4096);
    g.bench_function("encode", |b| {
        b.iter(|| {
            buf.clear();
            codec.encode(black_box(f), &mut buf).expect("encodes");
            black_box(buf.len())
        })
    });
    let mut rbuf = BytesMut::with_capacity(64 * 1024);
    g.bench_function("decode", |b| {
        b.iter(|| {
            rbuf.extend_from_slice(black_box(encoded));
            let frame = codec.decode(&mut rbuf).expect("decodes").expect("whole");
            black_box(size(&frame))
        })
    });
    g.bench_function("encode+decode", |b| {
        b.iter(|| {
            codec.encode(black_box(f), &mut rbuf).expect("encodes");
            let frame = codec.decode(&mut rbuf).expect("decodes").expect("whole");
            black_box(size(&frame))
        })
    });
    g.finish();
}
