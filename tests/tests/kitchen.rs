//! The kitchen-sink protocol (`wire/kitchen.wire`): every feature of the language, generated
//! into this crate under `missing_docs` and clippy. Round trips in both header encodings
//! (JSON and binary, chosen by the `serialize` bits), partial input, sizes, byte layouts and
//! error positions.

use bytes::{Bytes, BytesMut};
use polywire::{Codec, DecodeErrorKind, EncodeError, OrderedMap, Str, WireMessage};
use polywire_tests::kitchen::*;
use proptest::prelude::*;
use proptest::sample::select;
// The kitchen declares types named `Option`, `Result`, `String` and `Vec`, which the glob
// import above would otherwise bring in under these names.
use std::{option::Option, result::Result, string::String, vec::Vec};

const JSON: u8 = 0;
const BINARY: u8 = 1;

fn point(x: i16, y: i16) -> Point {
    Point { x, y }
}

fn header() -> Header {
    let mut ext_fields = OrderedMap::new();
    ext_fields.insert(Str::from("topic"), Str::from("orders"));
    Header {
        code: request_codes::PUT,
        language: Language::Rust,
        version: 3,
        opaque: 7,
        flag: Kind::RESPONSE,
        remark: None,
        level: Some(Level::High),
        color: None,
        tags: vec![Str::from("a"), Str::from("b")],
        ext_fields,
        serial: u64::MAX,
        delta: -1,
        trace: true,
        retries: None,
        origin: Some(point(1, -2)),
        checksum: Bytes::from_static(b"\x01\x02"),
        levels: vec![Level::Low, Level::Unknown(5)],
    }
}

/// A sink with every field set to something other than its default.
fn sink() -> Sink {
    let mut counts = OrderedMap::new();
    counts.insert(Str::from("x"), 1);
    counts.insert(Str::from("y"), 0xdead_beef);
    let mut by_id = OrderedMap::new();
    by_id.insert(9, point(-1, 1));
    let mut nested_map = OrderedMap::new();
    nested_map.insert(300, vec![Str::from("p"), Str::from("q")]);
    Sink {
        a_u8: 0xfe,
        a_i8: -2,
        a_u16: 0x1234,
        a_u16le: 0x1234,
        a_i16: -300,
        a_i16le: -300,
        a_u24: 0x123456,
        a_u24le: 0x123456,
        a_i24: -2,
        a_i24le: -0x123456,
        a_u32: 0x1234_5678,
        a_u32le: 0x1234_5678,
        a_i32: i32::MIN,
        a_i32le: -1,
        a_u64: u64::MAX,
        a_u64le: 0x0102_0304_0506_0708,
        a_i64: i64::MIN,
        a_i64be: -5,
        v: 5,
        sv: -3,
        yes: true,
        s_u8: Str::from("héllo"),
        s_u16: Str::from("sixteen"),
        s_i32: Str::from("thirty-two"),
        s_var: Str::from("var"),
        b_u8: Bytes::from_static(b"\x00\x01"),
        b_u16le: Bytes::from_static(b"le"),
        b_i32: Bytes::from_static(b"i32"),
        b_var: Bytes::from_static(b"varint"),
        name: Str::from("sized by name_len"),
        raw: Bytes::from_static(b"sized by raw_len"),
        blob: Bytes::from_static(b"sized by a u32"),
        text: Str::from("sized by an i32le"),
        maybe_u32: Some(77),
        maybe_var: None,
        maybe_point: Some(point(3, -4)),
        maybe_str: Some(Str::new()),
        empty_str: None,
        empty_bytes: Some(Bytes::from_static(b"present")),
        list_u16: vec![1, 2, 65535],
        points: vec![point(1, 2), point(-3, -4)],
        names: vec![Str::from("ann"), Str::new()],
        opt_list: vec![Some(1), None, Some(u32::MAX)],
        sized_list: vec![10, 20],
        sized_points: vec![point(5, 6)],
        counts,
        by_id,
        nested_map,
        color: Color::Blue,
        level: Level::Unknown(-300),
        mode: Mode::On,
        perms: Perms::READ | Perms::ADMIN,
        kind: Kind::URGENT,
        nibble: 0xa,
        on: true,
        prio: Prio::P7,
        kind_bits: Kind::ONEWAY | Kind::URGENT,
        hi: 0xdead_beef,
        lo: 0x0bad_f00d,
        point: point(i16::MIN, i16::MAX),
        inner: Inner {
            label: Str::from("inner"),
            values: vec![-1, 0, i64::MAX],
        },
        trailer: Trailer {
            pad: 0xaa,
            start: 0xbb,
            pt: point(7, 8),
            tail: Str::from("end"),
        },
    }
}

fn frame(serialize: u8) -> Frame {
    let mut ext = OrderedMap::new();
    ext.insert(Str::from("trace"), Str::from("abc-123"));
    Frame {
        serialize,
        urgent: true,
        prio: Prio::P2,
        header: header(),
        ext,
        sink: sink(),
        body: Bytes::from_static(b"the body"),
    }
}

fn encode(f: &Frame) -> BytesMut {
    let mut buf = BytesMut::new();
    FrameCodec::new().encode(f, &mut buf).expect("encodes");
    buf
}

fn encode_msg<M: WireMessage>(m: &M) -> BytesMut {
    let mut buf = BytesMut::new();
    m.encode_to(&mut buf).expect("encodes");
    buf
}

fn decode_msg<M: WireMessage>(bytes: &[u8]) -> Result<M, polywire::DecodeError> {
    let b = Bytes::copy_from_slice(bytes);
    let mut r = polywire::wire::Reader::new(&b, FrameCodec::new().limits);
    let m = M::decode_from(&mut r)?;
    r.finish("test")?;
    Ok(m)
}

#[test]
fn both_encodings_round_trip_with_exact_sizes() {
    for serialize in [JSON, BINARY] {
        let f = frame(serialize);
        let mut buf = encode(&f);
        assert_eq!(buf.len(), f.encoded_len(), "serialize = {serialize}");
        let back = FrameCodec::new().decode(&mut buf).unwrap().unwrap();
        assert!(buf.is_empty());
        assert_eq!(back, f);
    }
    // Every message also round-trips on its own.
    let s = sink();
    let buf = encode_msg(&s);
    assert_eq!(buf.len(), s.encoded_len());
    assert_eq!(decode_msg::<Sink>(&buf).unwrap(), s);
}

#[test]
fn frame_prefix_is_as_declared() {
    for serialize in [JSON, BINARY] {
        let f = frame(serialize);
        let buf = encode(&f);
        assert_eq!(&buf[..4], b"KTCH", "a u32le magic");
        let length = i32::from_be_bytes(buf[4..8].try_into().unwrap());
        assert_eq!(
            length as usize,
            buf.len() - 8,
            "len(..) counts what follows"
        );
        let word = u32::from_be_bytes(buf[8..12].try_into().unwrap());
        assert_eq!(word >> 30, u32::from(serialize), "serialize: bits 30..32");
        assert_eq!((word >> 29) & 1, 1, "urgent: bit 29");
        assert_eq!((word >> 26) & 7, 2, "prio: bits 26..29");
        assert_eq!((word >> 24) & 3, 2, "era: the constant 2 in bits 24..26");
        let header_len = (word & 0xff_ffff) as usize;
        let header = &buf[12..12 + header_len];
        let expected = if serialize == JSON {
            let mut out = BytesMut::new();
            f.header.encode_json(&mut out).unwrap();
            assert_eq!(header_len, f.header.json_len());
            out
        } else {
            encode_msg(&f.header)
        };
        assert_eq!(header, &expected[..], "header_len = len(header)");
        // The string headers: an i32 byte size and the entries, without a count.
        let at = 12 + header_len;
        assert_eq!(
            &buf[at..at + 6],
            b"\0\0\0\x10\0\x05",
            "16 bytes: 2 + 5 + 2 + 7"
        );
        assert_eq!(&buf[at + 6..at + 20], b"trace\0\x07abc-123");
    }
}

#[test]
fn json_header_is_renamed_sorted_and_omits_none() {
    let mut out = BytesMut::new();
    header().encode_json(&mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"{"checksum":[1,2],"code":10,"delta":-1,"extFields":{"topic":"orders"},"flag":1,"language":"RUST","level":"HIGH","levels":[-1,5],"opaqueId":7,"origin":{"X":1,"Y":-2},"serial":18446744073709551615,"tags":["a","b"],"trace":true,"version":3}"#
    );
    // Optional values present, an open enum value without a name, by name and by number.
    let h = Header {
        remark: Some(Str::from("hi")),
        level: Some(Level::Unknown(42)),
        color: Some(Color::Green),
        retries: Some(0),
        origin: None,
        ..header()
    };
    let mut out = BytesMut::new();
    h.encode_json(&mut out).unwrap();
    let text = std::str::from_utf8(&out).unwrap();
    assert!(text.contains(r#""color":1,"#), "{text}");
    assert!(text.contains(r#""level":42,"#), "{text}");
    assert!(text.contains(r#""remark":"hi","#), "{text}");
    assert!(text.contains(r#""retries":0,"#), "{text}");
    assert!(!text.contains("origin"), "{text}");
    let out = out.freeze();
    let mut r = polywire::wire::Reader::new(&out, polywire::Limits::DEFAULT);
    assert_eq!(Header::decode_json(&mut r).unwrap(), h);
}

#[test]
fn json_encoding_with_no_fields_is_its_constants() {
    let mut out = BytesMut::new();
    Marker {}.encode_json(&mut out).unwrap();
    assert_eq!(&out[..], br#"{"v":2}"#);
    let out = out.freeze();
    let mut r = polywire::wire::Reader::new(&out, polywire::Limits::DEFAULT);
    assert_eq!(Marker::decode_json(&mut r).unwrap(), Marker {});
}

#[test]
fn json_header_reads_leniently() {
    // Unknown keys are ignored, missing ones take their defaults, enums by name or number.
    let text = br#"{"extra":[1,2],"language":1,"level":"LOW","opaqueId":-9,"code":3}"#;
    let text = Bytes::from_static(text);
    let mut r = polywire::wire::Reader::new(&text, polywire::Limits::DEFAULT);
    let h = Header::decode_json(&mut r).unwrap();
    assert_eq!(
        h,
        Header {
            code: 3,
            language: Language::Rust,
            opaque: -9,
            level: Some(Level::Low),
            ..Header::default()
        }
    );
}

#[test]
fn sink_layout_by_hand() {
    let buf = encode_msg(&sink());
    // u8, i8, u16, u16le, i16, i16le
    assert_eq!(
        &buf[..10],
        &[0xfe, 0xfe, 0x12, 0x34, 0x34, 0x12, 0xfe, 0xd4, 0xd4, 0xfe]
    );
    // u24 big-endian, u24 little-endian.
    assert_eq!(&buf[10..13], &[0x12, 0x34, 0x56]);
    assert_eq!(&buf[13..16], &[0x56, 0x34, 0x12], "a little-endian u24");
    // i24 -2, i24le -0x123456 (two's complement 0xedcbaa).
    assert_eq!(&buf[16..19], &[0xff, 0xff, 0xfe]);
    assert_eq!(&buf[19..22], &[0xaa, 0xcb, 0xed]);
    // u32, u32le, i32, i32le, u64, u64le, i64, i64be
    assert_eq!(&buf[22..26], &[0x12, 0x34, 0x56, 0x78]);
    assert_eq!(&buf[26..30], &[0x78, 0x56, 0x34, 0x12]);
    assert_eq!(&buf[30..34], &[0x80, 0, 0, 0]);
    assert_eq!(&buf[34..38], &[0xff; 4]);
    assert_eq!(&buf[38..46], &[0xff; 8]);
    assert_eq!(&buf[46..54], &[8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(&buf[54..62], &[0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        &buf[62..70],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb]
    );
    // varint 5, svarint -3 (zigzag 5), bool.
    assert_eq!(
        &buf[70..73],
        &[0x05, 0x05, 0x01],
        "a negative svarint is zigzagged"
    );
    // string<u8> "héllo" (6 bytes), string<u16> "sixteen".
    assert_eq!(&buf[73..80], b"\x06h\xc3\xa9llo");
    assert_eq!(&buf[80..89], b"\x00\x07sixteen");
}

#[test]
fn svarint_and_u24le_bytes() {
    for (sv, bytes) in [
        (0i64, &[0x00][..]),
        (-1, &[0x01]),
        (1, &[0x02]),
        (-64, &[0x7f]),
        (-65, &[0x81, 0x01]),
        (
            i64::MIN,
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        ),
    ] {
        let s = Sink {
            sv,
            ..Sink::default()
        };
        let buf = encode_msg(&s);
        // Everything before `sv` is fixed-size in a default sink: 70 bytes, then `v` (1).
        assert_eq!(&buf[71..71 + bytes.len()], bytes, "svarint {sv}");
        assert_eq!(buf.len(), s.encoded_len());
        assert_eq!(decode_msg::<Sink>(&buf).unwrap(), s);
    }
    let s = Sink {
        a_u24le: 0xabcdef,
        perms: Perms::ADMIN | Perms::READ,
        ..Sink::default()
    };
    let buf = encode_msg(&s);
    assert_eq!(&buf[13..16], &[0xef, 0xcd, 0xab]);
}

#[test]
fn enums_constants_and_packed_words_by_hand() {
    let s = sink();
    let buf = encode_msg(&s);
    // The enums, flags, constants and packed words come right before `point`, `inner` and
    // `trailer`.
    let end = buf.len() - s.point.encoded_len() - s.inner.encoded_len() - s.trailer.encoded_len();
    let named = &buf[end - 27..end - 16];
    // color u8 2, level i16 -300, mode u32le 0x10000, perms u24le READ|ADMIN, kind u8 URGENT
    assert_eq!(named, &[2, 0xfe, 0xd4, 0, 0, 1, 0, 0x01, 0x00, 0x80, 0x80]);
    let consts = &buf[end - 16..end - 10];
    assert_eq!(
        consts,
        &[0x7e, 0xff, 0xfe, 0x56, 0x34, 0x12],
        "tag, neg = -2, mark (u24le)"
    );
    // packed (u16): kind_bits 0x82 in bits 8..16; prio 7, on and nibble 0xa below.
    assert_eq!(&buf[end - 10..end - 8], &[0x82, 0xe0 | 0x10 | 0x0a]);
    // wide (u64le): lo in bits 0..32, hi in bits 32..64.
    assert_eq!(
        &buf[end - 8..end],
        &[0x0d, 0xf0, 0xad, 0x0b, 0xef, 0xbe, 0xad, 0xde]
    );
}

#[test]
fn computed_lengths_by_hand() {
    let inner = Inner {
        label: Str::from("ab"),
        values: vec![-1],
    };
    // varint len(..) = 1 + 2 + 1 + 1 bytes, then the label and the values.
    assert_eq!(&encode_msg(&inner)[..], &[5, 2, b'a', b'b', 1, 1]);
    let trailer = Trailer {
        pad: 0xaa,
        start: 0xbb,
        pt: point(1, 2),
        tail: Str::from("z"),
    };
    // n: u16le = len(start..) skips `pad`; pt_len: u8 = len(pt).
    assert_eq!(
        &encode_msg(&trailer)[..],
        &[8, 0, 0xaa, 0xbb, 4, 0, 1, 2, 0, 1, b'z']
    );
    assert_eq!(trailer.encoded_len(), 11);
}

#[test]
fn every_strict_prefix_needs_more_and_consumes_nothing() {
    for serialize in [JSON, BINARY] {
        let full = encode(&frame(serialize));
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
}

#[test]
fn unknown_discriminator_is_reported_at_the_header() {
    let mut buf = encode(&frame(BINARY));
    // serialize is bits 30..32 of the big-endian word at byte 8.
    buf[8] = (buf[8] & 0x3f) | (2 << 6);
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnknownDiscriminator(2));
    assert_eq!(e.offset, 12, "the header region starts after the word");
    assert_eq!(e.path_string(), "Frame.header");

    let mut dst = BytesMut::from(&b"kept"[..]);
    let err = FrameCodec::new().encode(&frame(3), &mut dst).unwrap_err();
    assert_eq!(
        err,
        EncodeError::UnknownDiscriminator {
            path: "header",
            value: 3
        }
    );
    assert_eq!(&dst[..], b"kept", "a failed frame leaves nothing behind");
}

#[test]
fn bad_bit_constant_and_negative_length_are_located() {
    let mut buf = encode(&frame(JSON));
    buf[8] ^= 0x03; // era, bits 24..26
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!((e.offset, e.path_string()), (8, "Frame.era".to_string()));
    assert_eq!(
        e.kind,
        DecodeErrorKind::BadConstant {
            expected: 2,
            found: 1
        }
    );

    let mut buf = encode(&frame(JSON));
    buf[4] = 0x80; // length: i32 < 0
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!((e.offset, e.path_string()), (4, "Frame.length".to_string()));
    assert!(matches!(e.kind, DecodeErrorKind::NegativeLength(_)), "{e}");
}

#[test]
fn bad_json_header_is_located() {
    let f = frame(JSON);
    let mut buf = encode(&f);
    // Corrupt the JSON header's first byte (`{`).
    buf[12] = b'x';
    let e = FrameCodec::new().decode(&mut buf).unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::Json(_)), "{e}");
    assert_eq!(e.offset, 12);
    assert_eq!(e.path[..2], ["Frame", "header"]);
}

#[test]
fn values_that_do_not_fit_fail_to_encode() {
    let too_big = [
        Sink {
            a_u24: 1 << 24,
            ..Sink::default()
        },
        Sink {
            a_u24le: u32::MAX,
            ..Sink::default()
        },
        Sink {
            a_i24: 1 << 23,
            ..Sink::default()
        },
        Sink {
            a_i24le: -(1 << 23) - 1,
            ..Sink::default()
        },
        Sink {
            perms: Perms::from_bits(1 << 24),
            ..Sink::default()
        },
        Sink {
            nibble: 16,
            ..Sink::default()
        },
        Sink {
            s_u16: Str::from("x".repeat(301)),
            ..Sink::default()
        },
        Sink {
            list_u16: vec![0; 256],
            ..Sink::default()
        },
    ];
    for s in too_big {
        let mut buf = BytesMut::new();
        assert!(s.encode_to(&mut buf).is_err(), "{s:?}");
    }
    // The extremes that do fit.
    let s = Sink {
        a_u24: (1 << 24) - 1,
        a_i24: (1 << 23) - 1,
        a_i24le: -(1 << 23),
        perms: Perms::from_bits((1 << 24) - 1),
        ..Sink::default()
    };
    assert_eq!(decode_msg::<Sink>(&encode_msg(&s)).unwrap(), s);
}

#[test]
fn accessors_follow_the_markers_in_the_header() {
    let mut f = frame(JSON);
    f.set_correlation_id(99);
    f.set_kind(polywire::FrameKind::Oneway);
    assert_eq!((f.header.opaque, f.correlation_id()), (99, 99));
    assert_eq!(f.kind(), polywire::FrameKind::Oneway);
    assert!(!f.header.flag.contains(Kind::RESPONSE));
    assert_eq!(
        polywire::RemotingFrame::code(&f),
        i64::from(request_codes::PUT)
    );
}

#[test]
fn typed_requests_travel_in_the_frame() {
    let put = PutRequest {
        header: PutHeader {
            key: Str::from("k"),
            ttl: Some(30),
            lang: Language::Go,
            sync: true,
        },
        body: Bytes::from_static(b"v"),
    };
    let f = put.to_frame(frame(BINARY)).unwrap();
    assert_eq!(f.ext.get("ttl").map(|s| s.as_str()), Some("30"));
    let mut buf = encode(&f);
    let back = FrameCodec::new().decode(&mut buf).unwrap().unwrap();
    assert_eq!(PutRequest::from_frame(&back).unwrap(), put);

    let get = GetResponse { body: point(-2, 9) };
    let f = get.to_frame(Frame::default()).unwrap();
    assert_eq!(&f.body[..], br#"{"X":-2,"Y":9}"#);
    assert_eq!(GetResponse::from_frame(&f).unwrap(), get);
    assert_eq!(KitchenProtocol::SUCCESS, 0);
}

#[test]
fn protocol_metadata() {
    assert_eq!(protocol_info::ID, "polywire-kitchen");
    assert_eq!(protocol_info::VERSIONS, (1, 4));
    assert_eq!(
        protocol_info::DETECT,
        &[&[(0, &b"KT"[..]), (2, &b"CH"[..])][..]]
    );
    assert_eq!(protocol_info::LIMITS.max_collection_len, 1024);
    let hello = encode_msg(&Hello {
        min_version: 1,
        max_version: 4,
        features: Perms::WRITE,
    });
    assert_eq!(&hello[..], b"KTCH\x01\x04\x02\x00\x00");
    assert_eq!(Status::from_repr(-7), Status::Denied);
    assert_eq!(Status::from_name("BUSY"), Some(Status::Busy));
    assert_eq!(Color::from_repr(9), None);
}

#[test]
fn fields_named_like_locals_and_keywords() {
    for other in [0, 1] {
        let n = Names {
            r: 1,
            n: 2,
            at: 3,
            v: 4,
            rs: 5,
            other,
            m: 6,
            k: 7,
            x: point(-8, 9),
            r#type: Str::from("t"),
            self_: 10,
        };
        let buf = encode_msg(&n);
        assert_eq!(buf.len(), n.encoded_len());
        assert_eq!(decode_msg::<Names>(&buf).unwrap(), n);
        assert_eq!(buf[buf.len() - 1], 0x0d, "the constant `dst` comes last");
    }
    let mut buf = encode_msg(&Names::default());
    buf[7] = 2; // other, after r, n, at, size (u16), v and rs
    let e = decode_msg::<Names>(&buf).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnknownDiscriminator(2));
    assert_eq!((e.offset, e.path_string()), (10, "x".to_string()));
}

#[test]
fn two_lengths_in_one_word_are_both_written() {
    let m = TwoLens {
        x: Bytes::from_static(&[1, 2]),
        y: Bytes::from_static(&[3]),
    };
    let buf = encode_msg(&m);
    assert_eq!(&buf[..], [0x02, 0x01, 0x01, 0x02, 0x03]);
    assert_eq!(buf.len(), m.encoded_len());
    assert_eq!(decode_msg::<TwoLens>(&buf).unwrap(), m);
}

#[test]
fn stored_constant_and_computed_parts_share_a_word() {
    let m = AllParts {
        s: 5,
        x: Bytes::from_static(&[1, 2, 3]),
        y: 9,
        z: Str::from("ab"),
    };
    let buf = encode_msg(&m);
    // all = 7 (everything after the word), x_len = 3, c = 0xA, s = 5, from_y = 4.
    assert_eq!(
        &buf[..],
        [0x07, 0x03, 0xa5, 0x04, 1, 2, 3, 9, 2, b'a', b'b']
    );
    assert_eq!(buf.len(), m.encoded_len());
    assert_eq!(decode_msg::<AllParts>(&buf).unwrap(), m);
    // `len(..)` bounds a region: a byte after it is not part of the message.
    let mut longer = buf.clone();
    longer[0] = 6;
    assert!(decode_msg::<AllParts>(&longer).is_err());
}

#[test]
fn names_like_keywords_and_std_items_round_trip() {
    use polywire_tests::kitchen as k;
    let mut r#where = OrderedMap::new();
    r#where.insert(Str::from("w"), k::Default::Type);
    for r#type in [0, 1] {
        let m = Keywords {
            r#async: k::String {
                s: Str::from("async"),
            },
            r#type,
            r#match: Some(k::Option { some: 2 }),
            r#fn: vec![k::Vec { v: vec![3, 4] }],
            r#await: k::Box {
                b: Bytes::from_static(b"box"),
            },
            r#dyn: k::Default::Self_,
            super_: k::Result {
                ok: 5,
                err: Str::from("err"),
            },
            crate_: k::Bytes::SELF | k::Bytes::UNDERSCORE,
            underscore: 6,
            r#in: 7,
            r#for: true,
            self_: 5,
            r#gen: Str::from("gen"),
            r#mod: point(8, -9),
            r#where: r#where.clone(),
            r#impl: vec![k::Str::Err, k::Str::Unknown(300)],
            r#enum: 300,
        };
        let buf = encode_msg(&m);
        assert_eq!(buf.len(), m.encoded_len());
        assert_eq!(decode_msg::<Keywords>(&buf).unwrap(), m);
        // `async` (a one-byte string and its prefix), then `type`.
        assert_eq!(&buf[..7], [5, b'a', b's', b'y', b'n', b'c', r#type]);
        // `static` is the length of the rest: `const` (2 bytes) and `enum` (300, a 2-byte
        // varint).
        let at = buf.len() - 4;
        assert_eq!(usize::from(buf[at - 1]), buf.len() - at);
        assert_eq!(&buf[at..at + 2], [0x00, 0xc0]);
    }
    assert_eq!(k::Default::from_name("SELF"), Some(k::Default::Self_));
    assert_eq!(k::Default::Self_.to_repr(), 2);
    assert_eq!(k::Default::default(), k::Default::None);
    assert_eq!(k::Bytes::UNDERSCORE.bits(), 4);

    let j = KeywordsJson {
        r#type: 1,
        self_: Str::from("me"),
        r#match: k::Default::Self_,
    };
    let mut out = BytesMut::new();
    j.encode_json(&mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"{"type":1,"self":"me","match":"SELF"}"#
    );
    let out = out.freeze();
    let mut r = polywire::wire::Reader::new(&out, polywire::Limits::DEFAULT);
    assert_eq!(KeywordsJson::decode_json(&mut r).unwrap(), j);

    let h = KeywordsHeader {
        r#type: Str::from("t"),
        self_: Some(9),
        r#match: k::Default::Ok,
    };
    let mut map = OrderedMap::new();
    h.to_fields(&mut map);
    assert_eq!(map.get("self").map(|s| s.as_str()), Some("9"));
    assert_eq!(KeywordsHeader::from_fields(&map).unwrap(), h);

    // Requests named `Type`, `Self` and `Match`, of a service named `Self`.
    assert_eq!(
        (
            request_codes::TYPE,
            request_codes::SELF,
            request_codes::MATCH
        ),
        (14, 15, 16)
    );
    let req = MatchRequest {
        body: k::Option { some: 4 },
    };
    let f = req.to_frame(Frame::default()).unwrap();
    assert_eq!(MatchRequest::from_frame(&f).unwrap(), req);
    let f = TypeRequest { header: h.clone() }
        .to_frame(Frame::default())
        .unwrap();
    assert_eq!(TypeRequest::from_frame(&f).unwrap().header, h);
}

/// The service named `Self`: its trait is `Self_`, its methods `r#type`, `self_` and
/// `r#match`.
struct KeywordService;

impl SelfNow for KeywordService {
    fn r#type(
        &self,
        _: &polywire::rt::RequestContext,
        _: TypeRequest,
    ) -> Result<TypeResponse, polywire::rt::ProcessError> {
        Ok(TypeResponse {})
    }
    fn self_(
        &self,
        _: &polywire::rt::RequestContext,
        _: SelfRequest,
    ) -> Result<(), polywire::rt::ProcessError> {
        Ok(())
    }
    fn r#match(
        &self,
        _: &polywire::rt::RequestContext,
        request: MatchRequest,
    ) -> Result<MatchResponse, polywire::rt::ProcessError> {
        Ok(MatchResponse {
            body: KeywordsJson {
                r#type: request.body.some,
                ..KeywordsJson::default()
            },
        })
    }
}

#[test]
fn a_service_named_self_answers() {
    let ctx = polywire::rt::RequestContext {
        peer: "test".into(),
        protocol: protocol_info::ID,
        transport: polywire::rt::TransportKind::Stream,
        negotiated: None,
        connection_id: 1,
    };
    let request = MatchRequest {
        body: polywire_tests::kitchen::Option { some: 3 },
    };
    let response = SelfNow::r#match(&KeywordService, &ctx, request).unwrap();
    assert_eq!(response.body.r#type, 3);
    assert!(SelfNow::self_(&KeywordService, &ctx, SelfRequest {}).is_ok());
    let server =
        polywire::rt::RemotingServer::new(KitchenProtocol, polywire::rt::ServerConfig::default());
    serve_self_now(&server, std::sync::Arc::new(KeywordService));
}

// ---- property tests ----

fn s(max: usize) -> impl Strategy<Value = Str> {
    proptest::collection::vec(any::<char>(), 0..=max)
        .prop_map(|c| Str::from(c.into_iter().collect::<String>()))
}

fn nonempty_s() -> impl Strategy<Value = Str> {
    "[a-z]{1,8}".prop_map(Str::from)
}

fn b(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

fn any_point() -> impl Strategy<Value = Point> {
    (any::<i16>(), any::<i16>()).prop_map(|(x, y)| point(x, y))
}

fn map<K: std::fmt::Debug, V: std::fmt::Debug>(
    kv: impl Strategy<Value = (K, V)>,
) -> impl Strategy<Value = OrderedMap<K, V>> {
    proptest::collection::vec(kv, 0..4).prop_map(|v| v.into_iter().collect())
}

prop_compose! {
    fn any_header()(
        code in any::<i16>(),
        language in select(Language::ALL),
        version in any::<u16>(),
        opaque in any::<i32>(),
        flag in any::<u8>(),
        remark in proptest::option::of(nonempty_s()),
        level in proptest::option::of(any::<i16>()),
        color in proptest::option::of(select(Color::ALL)),
        tags in proptest::collection::vec(s(6), 0..4),
        ext_fields in map((s(6), s(6))),
        (serial, delta, trace) in (any::<u64>(), any::<i64>(), any::<bool>()),
        (retries, origin, checksum, levels) in (
            proptest::option::of(any::<u32>()),
            proptest::option::of(any_point()),
            b(8),
            proptest::collection::vec(any::<i16>().prop_map(Level::from_repr), 0..4),
        ),
    ) -> Header {
        Header {
            code, language, version, opaque, flag: Kind::from_bits(flag), remark,
            level: level.map(Level::from_repr), color, tags, ext_fields, serial, delta, trace,
            retries, origin, checksum, levels,
        }
    }
}

type Ints = (u8, i8, u16, u16, i16, i16, u32, u32, i32, i32);
type Ints2 = (u32, u32, i32, i32, u64, u64, i64, i64, u64, i64, bool);

fn ints() -> impl Strategy<Value = (Ints, Ints2)> {
    let u24 = 0u32..1 << 24;
    let i24 = -(1i32 << 23)..1 << 23;
    (
        (
            any::<u8>(),
            any::<i8>(),
            any::<u16>(),
            any::<u16>(),
            any::<i16>(),
            any::<i16>(),
            u24.clone(),
            u24,
            i24.clone(),
            i24,
        ),
        (
            any::<u32>(),
            any::<u32>(),
            any::<i32>(),
            any::<i32>(),
            any::<u64>(),
            any::<u64>(),
            any::<i64>(),
            any::<i64>(),
            any::<u64>(),
            any::<i64>(),
            any::<bool>(),
        ),
    )
}

type Texts = (
    Str,
    Str,
    Str,
    Str,
    Bytes,
    Bytes,
    Bytes,
    Bytes,
    Str,
    Bytes,
    Bytes,
    Str,
);

fn texts() -> impl Strategy<Value = Texts> {
    (
        (s(8), s(20), s(8), s(10), b(8), b(8), b(100), b(8)),
        (s(8), b(8), b(8), s(8)),
    )
        .prop_map(|((a, b_, c, d, e, f, g, h), (i, j, k, l))| (a, b_, c, d, e, f, g, h, i, j, k, l))
}

type Optionals = (
    Option<u32>,
    Option<u64>,
    Option<Point>,
    Option<Str>,
    Option<Str>,
    Option<Bytes>,
);

fn optionals() -> impl Strategy<Value = Optionals> {
    (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any_point()),
        proptest::option::of(s(6)),
        // `@empty_is_none`: an empty value reads back as `None`.
        proptest::option::of(nonempty_s()),
        proptest::option::of(b(6).prop_filter("non-empty", |b| !b.is_empty())),
    )
}

type Lists = (
    Vec<u16>,
    Vec<Point>,
    Vec<Str>,
    Vec<Option<u32>>,
    Vec<u32>,
    Vec<Point>,
    OrderedMap<Str, u32>,
    OrderedMap<u8, Point>,
    OrderedMap<u64, Vec<Str>>,
);

fn lists() -> impl Strategy<Value = Lists> {
    use proptest::collection::vec;
    (
        vec(any::<u16>(), 0..5),
        vec(any_point(), 0..4),
        vec(s(5), 0..4),
        vec(proptest::option::of(any::<u32>()), 0..4),
        vec(any::<u32>(), 0..4),
        vec(any_point(), 0..4),
        map((s(5), any::<u32>())),
        map((any::<u8>(), any_point())),
        map((any::<u64>(), vec(s(4), 0..3))),
    )
}

type Named = (
    Color,
    Level,
    Mode,
    Perms,
    Kind,
    u8,
    bool,
    Prio,
    Kind,
    u32,
    u32,
);

fn named() -> impl Strategy<Value = Named> {
    (
        select(Color::ALL),
        any::<i16>().prop_map(Level::from_repr),
        select(Mode::ALL),
        (0u32..1 << 24).prop_map(Perms::from_bits),
        any::<u8>().prop_map(Kind::from_bits),
        0u8..16,
        any::<bool>(),
        select(Prio::ALL),
        any::<u8>().prop_map(Kind::from_bits),
        any::<u32>(),
        any::<u32>(),
    )
}

prop_compose! {
    fn any_nested()(
        point in any_point(),
        label in s(8),
        values in proptest::collection::vec(any::<i64>(), 0..5),
        pad in any::<u8>(),
        start in any::<u8>(),
        pt in any_point(),
        tail in s(8),
    ) -> (Point, Inner, Trailer) {
        (point, Inner { label, values }, Trailer { pad, start, pt, tail })
    }
}

prop_compose! {
    fn any_sink()(
        (i, j) in ints(),
        t in texts(),
        o in optionals(),
        l in lists(),
        n in named(),
        (point, inner, trailer) in any_nested(),
    ) -> Sink {
        Sink {
            a_u8: i.0, a_i8: i.1, a_u16: i.2, a_u16le: i.3, a_i16: i.4, a_i16le: i.5,
            a_u24: i.6, a_u24le: i.7, a_i24: i.8, a_i24le: i.9,
            a_u32: j.0, a_u32le: j.1, a_i32: j.2, a_i32le: j.3, a_u64: j.4, a_u64le: j.5,
            a_i64: j.6, a_i64be: j.7, v: j.8, sv: j.9, yes: j.10,
            s_u8: t.0, s_u16: t.1, s_i32: t.2, s_var: t.3,
            b_u8: t.4, b_u16le: t.5, b_i32: t.6, b_var: t.7,
            name: t.8, raw: t.9, blob: t.10, text: t.11,
            maybe_u32: o.0, maybe_var: o.1, maybe_point: o.2, maybe_str: o.3,
            empty_str: o.4, empty_bytes: o.5,
            list_u16: l.0, points: l.1, names: l.2, opt_list: l.3, sized_list: l.4,
            sized_points: l.5, counts: l.6, by_id: l.7, nested_map: l.8,
            color: n.0, level: n.1, mode: n.2, perms: n.3, kind: n.4,
            nibble: n.5, on: n.6, prio: n.7, kind_bits: n.8, hi: n.9, lo: n.10,
            point, inner, trailer,
        }
    }
}

prop_compose! {
    fn any_frame()(
        serialize in prop_oneof![Just(JSON), Just(BINARY)],
        urgent in any::<bool>(),
        prio in select(Prio::ALL),
        header in any_header(),
        ext in map((s(6), s(6))),
        sink in any_sink(),
        body in b(64),
    ) -> Frame {
        Frame { serialize, urgent, prio, header, ext, sink, body }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn frames_round_trip_in_both_encodings(f in any_frame()) {
        let mut buf = encode(&f);
        prop_assert_eq!(buf.len(), f.encoded_len());
        let full = buf.clone();
        let back = FrameCodec::new().decode(&mut buf).unwrap().unwrap();
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&back, &f);
        // Re-encoding the decoded frame gives the same bytes.
        prop_assert_eq!(&encode(&back)[..], &full[..]);
    }

    #[test]
    fn strict_prefixes_need_more_and_consume_nothing(f in any_frame(), cut in any::<prop::sample::Index>()) {
        let full = encode(&f);
        let n = cut.index(full.len());
        let mut part = BytesMut::from(&full[..n]);
        prop_assert_eq!(FrameCodec::new().decode(&mut part).unwrap(), None);
        prop_assert_eq!(&part[..], &full[..n]);
    }

    #[test]
    fn sinks_round_trip(s in any_sink()) {
        let buf = encode_msg(&s);
        prop_assert_eq!(buf.len(), s.encoded_len());
        prop_assert_eq!(decode_msg::<Sink>(&buf).unwrap(), s);
    }

    #[test]
    fn headers_round_trip_as_json(h in any_header()) {
        let mut out = BytesMut::new();
        h.encode_json(&mut out).unwrap();
        prop_assert_eq!(out.len(), h.json_len());
        let out = out.freeze();
    let mut r = polywire::wire::Reader::new(&out, polywire::Limits::DEFAULT);
        prop_assert_eq!(Header::decode_json(&mut r).unwrap(), h);
    }

    /// Arbitrary bytes after a valid prefix never panic the decoder.
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut buf = BytesMut::from(&b"KTCH"[..]);
        buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        buf.extend_from_slice(&bytes);
        let _ = FrameCodec::new().decode(&mut buf);
    }
}
