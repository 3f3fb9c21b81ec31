//! The generated RocketMQ codec: round trips in both header encodings, partial frames,
//! oversized frames, and the JSON header text Java writes.

use bytes::{Bytes, BytesMut};
use polywire::{Codec, DecodeErrorKind, OrderedMap, Str};
use polywire_protocols::rocketmq::*;
use proptest::prelude::*;

fn encode(f: &Frame) -> BytesMut {
    let mut b = BytesMut::new();
    FrameCodec::new().encode(f, &mut b).expect("encodes");
    b
}

fn sample(serialize: u8) -> Frame {
    let mut ext = OrderedMap::new();
    ext.insert(Str::from("topic"), Str::from("TopicTest"));
    ext.insert(Str::from("queueId"), Str::from("3"));
    Frame {
        serialize,
        header: Header {
            code: 310,
            language: LanguageCode::Java,
            version: 479,
            opaque: 42,
            flag: RpcFlag::empty(),
            remark: None,
            ext_fields: Some(ext),
        },
        body: Bytes::from_static(b"hello"),
    }
}

#[test]
fn json_header_is_what_fastjson_writes() {
    let b = encode(&sample(0));
    let header_len = u32::from_be_bytes([0, b[5], b[6], b[7]]) as usize;
    assert_eq!(b[4], 0, "JSON type byte");
    let json = std::str::from_utf8(&b[8..8 + header_len]).unwrap();
    assert_eq!(
        json,
        r#"{"code":310,"extFields":{"topic":"TopicTest","queueId":"3"},"flag":0,"language":"JAVA","opaque":42,"serializeTypeCurrentRPC":"JSON","version":479}"#
    );
    assert_eq!(&b[8 + header_len..], b"hello");
    assert_eq!(
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
        b.len() - 4
    );
}

#[test]
fn binary_header_layout() {
    let mut f = sample(1);
    f.header.ext_fields = None;
    f.header.remark = Some(Str::from("hi"));
    let b = encode(&f);
    assert_eq!(&b[4..8], &[1, 0, 0, 23], "type 1, header length 21 + 2");
    // code 310, JAVA, version 479, opaque 42, flag 0, remark len 2 "hi", ext len 0
    assert_eq!(
        &b[8..31],
        &[
            0x01, 0x36, 0, 0x01, 0xdf, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 2, b'h', b'i', 0, 0, 0, 0
        ]
    );
}

#[test]
fn a_json_header_tolerates_what_java_tolerates() {
    // Other key order, unknown keys, nulls, a numeric language, numbers in extFields.
    let json = br#"{"flag":0,"opaque":7,"remark":null,"extra":{"x":[1,2]},"language":12,"code":105,"extFields":{"queueId":3,"topic":"t"}}"#;
    let mut b = BytesMut::new();
    b.extend_from_slice(&((4 + json.len()) as u32).to_be_bytes());
    b.extend_from_slice(&(json.len() as u32).to_be_bytes());
    b.extend_from_slice(json);
    let f = FrameCodec::new().decode(&mut b).unwrap().unwrap();
    assert_eq!(f.header.code, 105);
    assert_eq!(f.header.language, LanguageCode::Rust);
    assert_eq!(f.header.version, 0, "missing version stays 0");
    assert_eq!(f.header.remark, None);
    let ext = f.header.ext_fields.unwrap();
    assert_eq!(
        ext.get("queueId").map(|v| v.to_string()),
        Some("3".to_string())
    );
}

#[test]
fn every_strict_prefix_needs_more_in_both_encodings() {
    for s in [0, 1] {
        let full = encode(&sample(s));
        for n in 0..full.len() {
            let mut part = BytesMut::from(&full[..n]);
            assert_eq!(
                FrameCodec::new().decode(&mut part).unwrap(),
                None,
                "encoding {s}, {n} bytes"
            );
            assert_eq!(part.len(), n, "nothing consumed");
        }
    }
}

#[test]
fn oversized_frames_are_refused_from_the_length_alone() {
    let mut b = BytesMut::from(&[0x00, 0xff, 0xff, 0xfd][..]);
    let e = FrameCodec::new().decode(&mut b).unwrap_err();
    assert_eq!((e.offset, e.path_string()), (0, "Frame.length".to_string()));
    assert!(
        matches!(
            e.kind,
            DecodeErrorKind::TooLong {
                len: 16777217,
                max: 16777216
            }
        ),
        "{e}"
    );
    // A header length larger than the frame.
    let mut b = BytesMut::from(&[0, 0, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0][..]);
    assert!(FrameCodec::new().decode(&mut b).is_err());
}

#[test]
fn code_is_truncated_to_16_bits_in_binary_as_java_does() {
    let mut f = sample(1);
    f.header.code = 200050; // POP_MESSAGE
    let mut b = encode(&f);
    let back = FrameCodec::new().decode(&mut b).unwrap().unwrap();
    assert_eq!(back.header.code, 3442);
}

fn s() -> impl Strategy<Value = Str> {
    "[ -~\u{1}\u{2}é消]{0,12}".prop_map(Str::from)
}

prop_compose! {
    fn any_frame(serialize: u8)(
        code in any::<i16>(),
        language in 0u8..20,
        version in any::<i16>(),
        opaque in any::<i32>(),
        flag in any::<i32>(),
        remark in proptest::option::of(s()),
        ext in proptest::option::of(proptest::collection::vec((s(), s()), 0..5)),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) -> Frame {
        let ext = ext.map(|v| v.into_iter().collect::<OrderedMap<Str, Str>>());
        Frame {
            serialize,
            header: Header {
                code: i32::from(code),
                language: LanguageCode::from_repr(language),
                version: i32::from(version),
                opaque,
                flag: RpcFlag::from_bits(flag),
                remark,
                ext_fields: ext,
            },
            body: Bytes::from(body),
        }
    }
}

/// What survives a binary round trip: empty strings and empty maps read back as absent.
fn binary_view(mut f: Frame) -> Frame {
    f.header.remark = f.header.remark.filter(|r| !r.is_empty());
    f.header.ext_fields = f.header.ext_fields.filter(|m| !m.is_empty());
    f
}

proptest! {
    #[test]
    fn json_frames_round_trip(f in any_frame(0)) {
        // Unknown language bytes have no name in JSON; Java writes names only.
        prop_assume!(f.header.language.name().is_some());
        let mut b = encode(&f);
        let back = FrameCodec::new().decode(&mut b).unwrap().unwrap();
        prop_assert_eq!(back, f);
    }

    #[test]
    fn binary_frames_round_trip(f in any_frame(1)) {
        let mut b = encode(&f);
        let back = FrameCodec::new().decode(&mut b).unwrap().unwrap();
        prop_assert_eq!(back, binary_view(f));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let mut b = BytesMut::from(&bytes[..]);
        let _ = FrameCodec::new().decode(&mut b);
    }
}
