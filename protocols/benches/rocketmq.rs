//! Encode and decode of one RocketMQ frame with the generated codec, in both header
//! encodings: the frame issue #23 prices (request code 10, `SEND_MESSAGE`, five extFields,
//! a 1 KiB body), and the same with a 128-byte body.
//!
//! `cargo bench -p polywire-protocols --bench rocketmq -- --warm-up-time 1 --measurement-time 3`

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, criterion_group, criterion_main};
use polywire::{Codec, OrderedMap, Str};
use polywire_protocols::rocketmq::{Frame, FrameCodec, Header, LanguageCode, RpcFlag};

mod common;

/// A `SEND_MESSAGE` request as a Java producer sends it: five extFields, `body_len` bytes of
/// body, the header in JSON (`serialize` 0) or RocketMQ's binary encoding (1).
fn frame(serialize: u8, body_len: usize) -> Frame {
    let mut ext = OrderedMap::new();
    for (k, v) in [
        ("topic", "TopicTest"),
        ("queueId", "3"),
        ("bornTimestamp", "1732512345678"),
        ("flag", "0"),
        ("properties", "KEYS\u{1}order-42\u{2}TAGS\u{1}TagA\u{2}"),
    ] {
        ext.insert(Str::from(k), Str::from(v));
    }
    Frame {
        serialize,
        header: Header {
            code: 10,
            language: LanguageCode::Java,
            version: 479,
            opaque: 123_456,
            flag: RpcFlag::empty(),
            remark: None,
            ext_fields: Some(ext),
        },
        body: Bytes::from(vec![0x5Au8; body_len]),
    }
}

fn bench(c: &mut Criterion) {
    for (name, serialize, body_len) in [
        ("binary-1KiB", 1u8, 1024usize),
        ("json-1KiB", 0, 1024),
        ("binary-128B", 1, 128),
        ("json-128B", 0, 128),
    ] {
        let f = frame(serialize, body_len);
        let mut codec = FrameCodec::new();
        let mut encoded = BytesMut::new();
        codec.encode(&f, &mut encoded).expect("encodes");
        {
            // The frame survives the round trip.
            let mut src = encoded.clone();
            let back = codec.decode(&mut src).expect("decodes").expect("whole");
            assert_eq!(back, f);
            assert!(src.is_empty());
        }
        let encoded = encoded.freeze();

        common::encode_decode(
            c,
            &format!("rocketmq/{name}"),
            &mut codec,
            &f,
            &encoded,
            |f| f.body.len(),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
