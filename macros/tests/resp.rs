//! RESP written with `#[polywire::protocol]` (`common/resp.rs`: literal fields, `until`
//! lines, decimals, counts and lengths of absent values) against the codec generated from
//! `resp.wire` in `polywire-protocols`: the same values from the same recorded bytes, the
//! same bytes back, and the same errors for malformed input.

use bytes::{Bytes, BytesMut};
use polywire::{Codec, DecodeErrorKind};
use polywire_protocols::resp as dsl;

include!("common/resp.rs");
use resp as mac;

/// Every reply recorded from redis-server, RESP2 and RESP3.
fn vectors() -> Vec<(String, Vec<u8>)> {
    let files = [
        include_str!("../../protocols/tests/vectors/resp2.txt"),
        include_str!("../../protocols/tests/vectors/resp3.txt"),
    ];
    files
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, hex) = l.split_once(' ').expect("name hex");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (name.to_string(), bytes)
        })
        .collect()
}

/// Decodes all of `bytes` with `codec`, re-encoding each value: the values' `Debug`
/// text (the two modules' types print alike) and the bytes written.
fn run<C: Codec>(mut codec: C, bytes: &[u8]) -> (Vec<String>, Vec<u8>)
where
    C::Frame: std::fmt::Debug,
{
    let mut src = BytesMut::from(bytes);
    let (mut seen, mut out) = (Vec::new(), BytesMut::new());
    while !src.is_empty() {
        let v = codec.decode(&mut src).expect("decodes").expect("whole");
        codec.encode(&v, &mut out).expect("encodes");
        seen.push(format!("{v:?}"));
    }
    (seen, out.to_vec())
}

#[test]
fn both_front_ends_read_and_write_every_recorded_reply_alike() {
    let all = vectors();
    assert!(all.len() >= 60);
    for (name, bytes) in all {
        let (d, d_out) = run(dsl::ValueCodec::new(), &bytes);
        let (m, m_out) = run(mac::ValueCodec::new(), &bytes);
        assert_eq!(d, m, "{name}");
        assert_eq!(d_out, bytes, "{name}: the DSL's codec writes it back");
        assert_eq!(m_out, bytes, "{name}: the macro's codec writes it back");
    }
}

#[test]
fn both_front_ends_refuse_malformed_values_alike() {
    for bad in [
        &b"$-2\r\n"[..],
        b"*-3\r\n",
        b"$1x\r\n",
        b"$3\r\nabcXY",
        b"?\r\n",
        b"%-1\r\n",
    ] {
        let d = dsl::ValueCodec::new()
            .decode(&mut BytesMut::from(bad))
            .expect_err("refused");
        let m = mac::ValueCodec::new()
            .decode(&mut BytesMut::from(bad))
            .expect_err("refused");
        assert_eq!((d.offset, &d.kind), (m.offset, &m.kind), "{bad:?}");
    }
    let e = mac::ValueCodec::new()
        .decode(&mut BytesMut::from(&b"$-2\r\n"[..]))
        .expect_err("refused");
    assert_eq!(
        e.kind,
        DecodeErrorKind::AbsentLength {
            expected: -1,
            found: -2
        }
    );
}

#[test]
fn a_command_built_from_the_macros_types_is_byte_exact() {
    let bulk = |b: &'static [u8]| {
        mac::Value::BulkString(mac::BulkString {
            data: Some(Bytes::from_static(b)),
        })
    };
    let cmd = mac::Value::Array(mac::Array {
        items: Some(vec![bulk(b"GET"), bulk(b"key")]),
    });
    let mut out = BytesMut::new();
    mac::ValueCodec::new()
        .encode(&cmd, &mut out)
        .expect("encodes");
    assert_eq!(&out[..], b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
}
