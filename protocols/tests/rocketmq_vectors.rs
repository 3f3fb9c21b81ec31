//! Every RocketMQ byte vector in `../shared/vectors/rocketmq/` decodes to the documented
//! fields and re-encodes to the identical bytes, in both header encodings. The files are read
//! at test time; if the folder is absent the tests say so loudly and pass.

use bytes::BytesMut;
use polywire::{Codec, DecodeErrorKind};
use polywire_protocols::rocketmq::*;
use serde_json::Value;
use std::path::PathBuf;

fn vectors_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/rocketmq");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n!!!!!!!! RocketMQ vectors not found at {} — vector tests SKIPPED !!!!!!!!\n",
            dir.display()
        );
        None
    }
}

fn load(file: &str) -> Vec<Value> {
    let Some(dir) = vectors_dir() else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(dir.join(file)).expect("readable vector file");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    v["vectors"].as_array().expect("a vectors array").clone()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decodes one vector, checks the documented fields, re-encodes and compares the bytes.
fn check_frame(v: &Value) {
    let id = v["id"].as_str().unwrap_or("?");
    let bytes = hex(v["frame_hex"].as_str().expect("frame_hex"));
    let mut buf = BytesMut::from(&bytes[..]);
    let frame = FrameCodec::new()
        .decode(&mut buf)
        .unwrap_or_else(|e| panic!("{id}: {e}"))
        .unwrap_or_else(|| panic!("{id}: incomplete"));
    assert!(buf.is_empty(), "{id}: bytes left over");
    let d = &v["decoded"];
    let h = &frame.header;
    let serialize = match v["serialize_type"].as_str() {
        Some("JSON") => 0,
        Some("ROCKETMQ") => 1,
        other => panic!("{id}: serialize type {other:?}"),
    };
    assert_eq!(frame.serialize, serialize, "{id}: serialize type");
    assert_eq!(i64::from(h.code), d["code"].as_i64().unwrap(), "{id}: code");
    assert_eq!(
        i64::from(h.language.to_repr()),
        d["language_code"].as_i64().unwrap(),
        "{id}: language"
    );
    assert_eq!(
        h.language.name(),
        d["language"].as_str(),
        "{id}: language name"
    );
    assert_eq!(
        i64::from(h.version),
        d["version"].as_i64().unwrap(),
        "{id}: version"
    );
    assert_eq!(
        i64::from(h.opaque),
        d["opaque"].as_i64().unwrap(),
        "{id}: opaque"
    );
    assert_eq!(
        i64::from(h.flag.bits()),
        d["flag"].as_i64().unwrap(),
        "{id}: flag"
    );
    assert_eq!(h.remark.as_deref(), d["remark"].as_str(), "{id}: remark");
    match d["ext_fields"].as_array() {
        None => assert_eq!(h.ext_fields, None, "{id}: no extFields"),
        Some(pairs) => {
            let got: Vec<(String, Option<String>)> = h
                .ext_fields
                .iter()
                .flat_map(|m| m.iter())
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Some(v.to_string()).filter(|v| !v.is_empty() || serialize == 0),
                    )
                })
                .collect();
            let want: Vec<(String, Option<String>)> = pairs
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_string(),
                        p[1].as_str().map(str::to_string),
                    )
                })
                .collect();
            assert_eq!(got, want, "{id}: extFields in wire order");
        }
    }
    let body = d["body_hex"].as_str().map(hex).unwrap_or_default();
    assert_eq!(&frame.body[..], &body[..], "{id}: body");
    let mut out = BytesMut::new();
    FrameCodec::new()
        .encode(&frame, &mut out)
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(
        to_hex(&out),
        to_hex(&bytes),
        "{id}: re-encoded bytes differ"
    );
}

#[test]
fn frames_decode_and_reencode_identically() {
    let vs = load("frames.json");
    for v in &vs {
        check_frame(v);
    }
    assert!(vs.is_empty() || vs.len() >= 28, "all frames were checked");
}

#[test]
fn real_captures_decode_and_reencode_identically() {
    let vs = load("captures.json");
    for v in &vs {
        check_frame(v);
    }
    assert!(vs.is_empty() || vs.len() == 6);
}

#[test]
fn java_harness_frames_decode_and_reencode_identically() {
    let vs = load("java_harness_frames.json");
    for v in &vs {
        check_frame(v);
    }
    assert!(vs.is_empty() || vs.len() == 24);
}

/// The type/header-length word our codec writes matches the two literals Java's tests assert
/// (`00000105` for a 261-byte JSON header, `01ffffff` for a 16777215-byte binary one): a frame
/// whose header has exactly that length is encoded, its word compared, and decoded back.
#[test]
fn header_words_match_the_java_literals() {
    let limits = polywire::Limits {
        max_frame_len: 1 << 25,
        ..FrameCodec::new().limits
    };
    for v in &load("header_words.json") {
        let want = v["word_hex"].as_str().unwrap();
        let serialize = v["input"]["serialize_code"].as_u64().unwrap() as u8;
        let header_len = v["input"]["header_length"].as_u64().unwrap() as usize;
        let frame_with = |pad: usize| Frame {
            serialize,
            header: Header {
                // An empty binary remark reads back as absent, so write it absent.
                remark: (pad > 0 || serialize == 0).then(|| polywire::Str::from("x".repeat(pad))),
                ..Header::default()
            },
            body: Default::default(),
        };
        let mut codec = FrameCodec::with_limits(limits);
        let mut base = BytesMut::new();
        codec.encode(&frame_with(0), &mut base).unwrap();
        let base_len = base.len() - 8;
        assert!(header_len >= base_len, "{}", v["id"]);
        let frame = frame_with(header_len - base_len);
        let mut out = BytesMut::new();
        codec.encode(&frame, &mut out).unwrap();
        assert_eq!(to_hex(&out[4..8]), want, "{}", v["id"]);
        let back = codec.decode(&mut out).unwrap().unwrap();
        assert_eq!(back, frame, "{}", v["id"]);
    }
}

#[test]
fn invalid_inputs_are_rejected_as_java_rejects_them() {
    for v in &load("invalid.json") {
        let id = v["id"].as_str().unwrap();
        match v["kind"].as_str() {
            Some("reject") => {
                let mut buf = BytesMut::from(&hex(v["hex"].as_str().unwrap())[..]);
                let res = FrameCodec::new().decode(&mut buf);
                assert!(res.is_err(), "{id}: accepted {res:?}");
            }
            Some("limit") => {
                // The largest accepted length: only the prefix arrived, so "need more".
                let mut buf = BytesMut::from(&hex(v["hex_prefix"].as_str().unwrap())[..]);
                assert_eq!(FrameCodec::new().decode(&mut buf).unwrap(), None, "{id}");
            }
            Some("decode-semantics") => {
                let mut buf = BytesMut::from(&hex(v["hex"].as_str().unwrap())[..]);
                let f = FrameCodec::new().decode(&mut buf).unwrap().unwrap();
                assert_eq!(f.header.remark, None, "{id}: empty remark reads as absent");
                let ext = f.header.ext_fields.expect("ext present");
                assert_eq!(
                    ext.get("k").map(|v| v.len()),
                    Some(0),
                    "{id}: k -> empty (Java: null)"
                );
            }
            other => panic!("{id}: unknown kind {other:?}"),
        }
    }
}

#[test]
fn specific_rejections_say_why() {
    if vectors_dir().is_none() {
        return;
    }
    let mut too_long = BytesMut::from(&hex("00fffffd00000000")[..]);
    let e = FrameCodec::new().decode(&mut too_long).unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::TooLong { .. }), "{e}");
    let mut bad_type =
        BytesMut::from(&hex("0000001902000015000000000000000000000000000000000000000000")[..]);
    let e = FrameCodec::new().decode(&mut bad_type).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnknownDiscriminator(2), "{e}");
    assert_eq!(e.path_string(), "Frame.header");
}
