//! The generated native codec: round trips, partial input, limits and error positions.

use bytes::{Bytes, BytesMut};
use polywire::{Codec, DecodeErrorKind, OrderedMap, Str, WireMessage};
use polywire_protocols::native::*;
use proptest::prelude::*;

fn frame() -> Frame {
    let mut headers = OrderedMap::new();
    headers.insert(Str::from("topic"), Str::from("orders"));
    headers.insert(Str::from("trace"), Str::from("abc-123"));
    Frame {
        version: 2,
        code: 1,
        id: 300,
        flags: Flags::ONEWAY,
        headers,
        body: Bytes::from_static(b"hello body"),
    }
}

fn encode(f: &Frame) -> BytesMut {
    let mut buf = BytesMut::new();
    FrameCodec::new().encode(f, &mut buf).expect("encodes");
    buf
}

#[test]
fn frame_layout_is_as_declared() {
    let buf = encode(&frame());
    // magic "PW", version, varint length of the rest.
    assert_eq!(&buf[..3], b"PW\x02");
    let rest = buf.len() - 4;
    assert_eq!(
        buf[3] as usize, rest,
        "one-byte varint length covers the rest"
    );
    // code u16 BE, id varint 300 = ac 02, flags.
    assert_eq!(&buf[4..9], &[0x00, 0x01, 0xac, 0x02, 0x02]);
    assert_eq!(frame().encoded_len(), buf.len());
}

#[test]
fn decode_consumes_exactly_one_frame() {
    let mut buf = encode(&frame());
    let second = encode(&Frame { id: 7, ..frame() });
    buf.extend_from_slice(&second);
    let mut codec = FrameCodec::new();
    let a = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(a, frame());
    assert_eq!(buf.len(), second.len());
    let b = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(b.id, 7);
    assert!(buf.is_empty());
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
}

#[test]
fn every_strict_prefix_needs_more_and_consumes_nothing() {
    let full = encode(&frame());
    let mut codec = FrameCodec::new();
    for n in 0..full.len() {
        let mut part = BytesMut::from(&full[..n]);
        assert_eq!(
            codec.decode(&mut part).unwrap(),
            None,
            "prefix of {n} bytes"
        );
        assert_eq!(&part[..], &full[..n], "prefix of {n} bytes was consumed");
    }
}

#[test]
fn byte_by_byte_arrival_yields_the_frame_once() {
    let full = encode(&frame());
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &b in full.iter() {
        buf.extend_from_slice(&[b]);
        if let Some(f) = codec.decode(&mut buf).unwrap() {
            got.push(f);
        }
    }
    assert_eq!(got, vec![frame()]);
}

#[test]
fn bad_magic_is_reported_at_offset_zero() {
    let mut buf = encode(&frame());
    buf[0] = b'X';
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!(e.offset, 0);
    assert_eq!(e.path_string(), "Frame.magic");
    assert_eq!(
        e.kind,
        DecodeErrorKind::BadConstant {
            expected: 0x5057,
            found: 0x5857
        }
    );
    assert_eq!(
        e.to_string(),
        "at byte 0 in `Frame.magic`: expected constant 0x5057, found 0x5857"
    );
}

#[test]
fn oversized_frame_length_is_rejected_before_buffering() {
    // magic, version, varint length = 1 GiB: rejected with only 8 bytes seen.
    let mut buf = BytesMut::from(&b"PW\x01\x80\x80\x80\x80\x04"[..]);
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!(e.path_string(), "Frame.length");
    assert_eq!(e.offset, 3);
    assert!(
        matches!(e.kind, DecodeErrorKind::TooLong { max: 16777216, .. }),
        "{e}"
    );
    assert!(
        buf.capacity() < 1024,
        "nothing was reserved for the announced size"
    );
}

/// A frame whose body region says `n` header entries follow.
fn frame_with_raw_headers(raw: &[u8]) -> BytesMut {
    let mut inner = vec![0x00, 0x01, 0x05, 0x00]; // code, id, flags
    inner.extend_from_slice(raw);
    let mut buf = BytesMut::from(&b"PW\x01"[..]);
    polywire::wire::put_varint(&mut buf, inner.len() as u64);
    buf.extend_from_slice(&inner);
    buf
}

#[test]
fn oversized_collection_count_is_rejected_before_allocating() {
    // Count 2^28 entries: above the protocol's max_collection_len (4096).
    let mut buf = frame_with_raw_headers(&[0x80, 0x80, 0x80, 0x80, 0x01]);
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!(e.path_string(), "Frame.headers");
    assert_eq!(e.offset, 8);
    assert_eq!(
        e.kind,
        DecodeErrorKind::TooLong {
            len: 1 << 28,
            max: 4096
        }
    );
    // Count 1000 (under the limit) but only 0 bytes left: each entry needs >= 2 bytes.
    let mut buf = frame_with_raw_headers(&[0xe8, 0x07]);
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert!(
        matches!(
            e.kind,
            DecodeErrorKind::Truncated {
                needed: 2000,
                available: 0
            }
        ),
        "{e}"
    );
}

#[test]
fn oversized_string_length_is_rejected_before_allocating() {
    // One entry whose key claims 2^30 bytes (over max_string_len = 1 MiB).
    let mut buf = frame_with_raw_headers(&[0x01, 0x80, 0x80, 0x80, 0x80, 0x04]);
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!(e.path_string(), "Frame.headers");
    assert_eq!(
        e.kind,
        DecodeErrorKind::TooLong {
            len: 1 << 30,
            max: 1048576
        }
    );
}

#[test]
fn declared_string_maximum_is_enforced_both_ways() {
    let r = Reject {
        min_version: 1,
        max_version: 3,
        reason: Str::from("x".repeat(1025)),
    };
    let mut buf = BytesMut::new();
    let e = r.encode_to(&mut buf).unwrap_err();
    assert!(e.to_string().contains("reason"), "{e}");
    // Hand-made Reject with a 1025-byte reason.
    let mut raw = vec![2u8, 1, 3];
    polywire::wire::put_varint(&mut buf, 0);
    buf.clear();
    polywire::wire::put_varint(&mut buf, 1025);
    raw.extend_from_slice(&buf);
    raw.extend(std::iter::repeat_n(b'x', 1025));
    let raw = Bytes::from(raw);
    let mut reader = polywire::wire::Reader::new(&raw, polywire::Limits::DEFAULT);
    let e = Reject::decode_from(&mut reader).unwrap_err();
    assert_eq!(e.path, vec!["reason"]);
    assert_eq!(
        e.kind,
        DecodeErrorKind::TooLong {
            len: 1025,
            max: 1024
        }
    );
}

#[test]
fn invalid_utf8_is_reported_with_its_offset() {
    // One header entry: key "\xff" (1 byte), value "" .
    let mut buf = frame_with_raw_headers(&[0x01, 0x01, 0xff, 0x00]);
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::InvalidUtf8);
    assert_eq!(e.offset, 10);
}

/// `n` frames (ids 0..n, bodies of different lengths) in one buffer.
fn frames(n: u64) -> (Vec<Frame>, BytesMut) {
    let all: Vec<Frame> = (0..n)
        .map(|i| Frame {
            id: i,
            body: Bytes::from(vec![i as u8; (i as usize * 37) % 300]),
            ..frame()
        })
        .collect();
    let mut buf = BytesMut::new();
    for f in &all {
        buf.extend_from_slice(&encode(f));
    }
    (all, buf)
}

#[test]
fn a_batch_decodes_the_same_frames_as_one_at_a_time() {
    // More frames than one call takes (64), then a partial frame that must stay.
    let (all, mut buf) = frames(150);
    let partial = encode(&frame());
    buf.extend_from_slice(&partial[..partial.len() - 1]);
    let mut codec = FrameCodec::new();
    let mut got = Vec::new();
    let mut calls = Vec::new();
    loop {
        let n = codec
            .decode_batch(&mut buf, usize::MAX, |f| got.push(f))
            .unwrap();
        if n == 0 {
            break;
        }
        calls.push(n);
    }
    assert_eq!(got, all);
    assert_eq!(calls, vec![64, 64, 22]);
    assert_eq!(
        &buf[..],
        &partial[..partial.len() - 1],
        "the partial frame stays"
    );
    // `max` bounds a call.
    let (all, mut buf) = frames(5);
    let mut got = Vec::new();
    assert_eq!(codec.decode_batch(&mut buf, 2, |f| got.push(f)).unwrap(), 2);
    assert_eq!(got, all[..2]);
    assert_eq!(codec.decode_batch(&mut buf, 0, |f| got.push(f)).unwrap(), 0);
    assert_eq!(codec.decode_batch(&mut buf, 9, |f| got.push(f)).unwrap(), 3);
    assert_eq!(got, all);
    assert!(buf.is_empty());
}

#[test]
fn a_bad_frame_in_a_batch_comes_after_the_good_ones_with_its_own_offset() {
    // Bad UTF-8 inside the third frame's body of headers, and bad magic in the third
    // frame's prefix: either way the first two are handed over, and the error's offset
    // counts from the bad frame's start, as when it is decoded alone.
    for (bad, offset) in [
        (frame_with_raw_headers(&[0x01, 0x01, 0xff, 0x00]), 10),
        (
            {
                let mut b = encode(&frame());
                b[0] = b'X';
                b
            },
            0,
        ),
    ] {
        let alone = FrameCodec::new().decode(&mut bad.clone()).unwrap_err();
        assert_eq!(alone.offset, offset);
        let (all, mut buf) = frames(2);
        buf.extend_from_slice(&bad);
        buf.extend_from_slice(&encode(&frame()));
        let mut got = Vec::new();
        let e = FrameCodec::new()
            .decode_batch(&mut buf, usize::MAX, |f| got.push(f))
            .unwrap_err();
        assert_eq!(got, all);
        assert_eq!(e, alone);
    }
}

#[test]
fn kind_and_correlation_accessors_follow_the_markers() {
    let mut f = frame();
    assert_eq!(f.kind(), polywire::FrameKind::Oneway);
    f.set_kind(polywire::FrameKind::Response);
    assert!(f.flags.contains(Flags::RESPONSE) && !f.flags.contains(Flags::ONEWAY));
    assert_eq!(f.kind(), polywire::FrameKind::Response);
    f.set_correlation_id(99);
    assert_eq!((f.id, f.correlation_id()), (99, 99));
}

#[test]
fn enums_keep_unknown_values_when_open() {
    assert_eq!(Status::from_repr(3), Status::Busy);
    assert_eq!(Status::from_repr(999), Status::Unknown(999));
    assert_eq!(Status::Unknown(999).to_repr(), 999);
    assert_eq!(
        Status::from_name("NOT_SUPPORTED"),
        Some(Status::NotSupported)
    );
    assert_eq!(Status::Busy.name(), Some("BUSY"));
}

fn s() -> impl Strategy<Value = Str> {
    ".{0,12}".prop_map(Str::from)
}

fn flags() -> impl Strategy<Value = Flags> {
    any::<u8>().prop_map(Flags::from_bits)
}

prop_compose! {
    fn any_frame()(
        version in any::<u8>(),
        code in any::<u16>(),
        id in any::<u64>(),
        flags in flags(),
        headers in proptest::collection::vec((s(), s()), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) -> Frame {
        Frame { version, code, id, flags, headers: headers.into_iter().collect(), body: Bytes::from(body) }
    }
}

fn round_trip<M: WireMessage + PartialEq + std::fmt::Debug>(m: &M) -> M {
    let mut buf = BytesMut::new();
    m.encode_to(&mut buf).expect("encodes");
    let buf = buf.freeze();
    let mut r = polywire::wire::Reader::new(&buf, polywire::Limits::DEFAULT);
    let back = M::decode_from(&mut r).expect("decodes");
    r.finish("test").expect("consumes everything");
    back
}

proptest! {
    #[test]
    fn frames_round_trip(f in any_frame()) {
        let mut buf = encode(&f);
        prop_assert_eq!(buf.len(), f.encoded_len());
        let back = FrameCodec::new().decode(&mut buf).unwrap().unwrap();
        prop_assert!(buf.is_empty());
        prop_assert_eq!(back, f);
    }

    #[test]
    fn hello_round_trips(min in any::<u8>(), max in any::<u8>(), features in any::<u32>()) {
        let m = Hello { min_version: min, max_version: max, features: Features::from_bits(features) };
        prop_assert_eq!(round_trip(&m), m);
    }

    #[test]
    fn accept_round_trips(version in any::<u8>(), features in any::<u32>()) {
        let m = Accept { version, features: Features::from_bits(features) };
        prop_assert_eq!(round_trip(&m), m);
    }

    #[test]
    fn reject_round_trips(min in any::<u8>(), max in any::<u8>(), reason in ".{0,40}") {
        let m = Reject { min_version: min, max_version: max, reason: Str::from(reason) };
        prop_assert_eq!(round_trip(&m), m);
    }

    #[test]
    fn log_header_round_trips(level in any::<u8>(), source in s()) {
        let m = LogHeader { level, source };
        prop_assert_eq!(round_trip(&m), m);
    }

    /// Arbitrary bytes never panic the decoder, and an error consumes at most one frame.
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = FrameCodec::new().decode(&mut buf);
    }
}
