//! The run-time interpreter (`polywire-dynamic`) against the code generated from the same
//! `.wire` files: for every bundled protocol, on the fuzz seeds and on deterministic
//! mutations of them, both give the same frame boundaries ("need more" included), the
//! same errors (offset, field path, kind) and, for what decodes, the same bytes when the
//! frames are encoded again. What decodes also survives the interpreter's JSON form.

use bytes::BytesMut;
use polywire::{Codec, Sender};
use polywire_dynamic::{DynCodec, Schema, Value};
use std::fmt::Debug;
use std::path::Path;

/// The seeds of a fuzz target's corpus, by file name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.expect("a directory entry").path();
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("reads the seed"))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

fn schema(path: &str) -> Schema {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    Schema::load(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Deterministic mutations of `data`: bytes replaced, inserted, removed, cut.
fn mutants(data: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15 ^ data.len() as u64;
    for &b in data.iter().take(64) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut next = move || {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        h
    };
    (0..n)
        .map(|_| {
            let mut d = data.to_vec();
            for _ in 0..=(next() % 3) {
                let at = if d.is_empty() {
                    0
                } else {
                    (next() % d.len() as u64) as usize
                };
                let byte = match next() % 4 {
                    // Bytes that matter to text and binary framing alike.
                    0 => *b"\r\n*$:-+0123456789\x00\xff\x7f\x80"
                        .get((next() % 20) as usize)
                        .unwrap_or(&0),
                    _ => next() as u8,
                };
                match next() % 4 {
                    0 if !d.is_empty() => d[at] = byte,
                    1 => d.insert(at, byte),
                    2 if !d.is_empty() => {
                        d.remove(at);
                    }
                    _ => d.truncate(at),
                }
            }
            d
        })
        .collect()
}

/// Both codecs on `input`: the same boundaries of every prefix, the same frames (compared
/// by their encoding), the same error, the same bytes left. Returns the frames decoded.
fn same<C>(what: &str, mut generated: C, mut dynamic: DynCodec, input: &[u8]) -> usize
where
    C: Codec,
    C::Frame: Debug,
{
    let step = (input.len() / 200).max(1);
    for end in (0..=input.len()).step_by(step) {
        assert_eq!(
            generated.frame_len(&input[..end]),
            dynamic.frame_len(&input[..end]),
            "{what}: frame_len of the first {end} bytes"
        );
    }
    let mut frames = 0;
    for batch in [1, 64] {
        let (mut a, mut b) = (BytesMut::from(input), BytesMut::from(input));
        let (mut fa, mut fb) = (Vec::new(), Vec::new());
        for _ in 0..1000 {
            let ra = generated.decode_batch(&mut a, batch, |f| fa.push(f));
            let rb = dynamic.decode_batch(&mut b, batch, |f| fb.push(f));
            assert_eq!(
                fa.len(),
                fb.len(),
                "{what}: frames decoded (batches of {batch})"
            );
            match (ra, rb) {
                (Ok(na), Ok(nb)) => {
                    assert_eq!(na, nb, "{what}: frames in a batch");
                    if na == 0 {
                        break;
                    }
                }
                (Err(ea), Err(eb)) => {
                    assert_eq!(ea, eb, "{what}: the error (batches of {batch})");
                    break;
                }
                (ra, rb) => panic!("{what}: generated {ra:?}, interpreted {rb:?}"),
            }
        }
        assert_eq!(a, b, "{what}: bytes left (batches of {batch})");
        for (x, y) in fa.iter().zip(&fb) {
            let (mut ea, mut eb) = (BytesMut::new(), BytesMut::new());
            let ra = generated.encode(x, &mut ea);
            let rb = dynamic.encode(y, &mut eb);
            assert_eq!(ra, rb, "{what}: encoding {x:?}");
            assert_eq!(ea, eb, "{what}: the bytes of {x:?}");
            json_round_trip(what, &dynamic, y, &eb);
        }
        frames = fa.len();
    }
    frames
}

/// A decoded value written as JSON and read back encodes to the same bytes.
fn json_round_trip(what: &str, dynamic: &DynCodec, v: &Value, bytes: &[u8]) {
    let schema = dynamic.schema();
    let ty = schema
        .message(&frame_name(v, schema))
        .expect("the frame's type");
    let json = v.to_json();
    let back = schema
        .value_from_json(ty, &json)
        .unwrap_or_else(|e| panic!("{what}: {json} does not read back: {e}"));
    let mut dst = BytesMut::new();
    schema
        .encode_message(ty, &back, dynamic.version, &mut dst)
        .unwrap_or_else(|e| panic!("{what}: {json} read back does not encode: {e}"));
    assert_eq!(&dst[..], bytes, "{what}: {json} read back");
}

fn frame_name(v: &Value, schema: &Schema) -> String {
    match v {
        Value::Struct { ty, .. } => (*ty).to_string(),
        Value::Union { member, .. } => schema
            .ir()
            .types
            .iter()
            .find_map(|t| match t {
                polywire_codegen::ir::TypeDef::Union(u)
                    if u.arms
                        .iter()
                        .any(|a| schema.ir().types[a.ty].name() == *member) =>
                {
                    Some(u.name.clone())
                }
                _ => None,
            })
            .expect("a union holds the member"),
        other => panic!("a frame is a struct or a union, not {other:?}"),
    }
}

/// Every seed and 150 mutants of each through both codecs; returns (inputs, frames).
fn corpus<C>(
    target: &str,
    mut pair: impl FnMut(&[u8]) -> Option<(C, DynCodec, Vec<u8>)>,
) -> (usize, usize)
where
    C: Codec,
    C::Frame: Debug,
{
    let (mut inputs, mut frames) = (0, 0);
    for (name, seed) in seeds(target) {
        for (n, input) in std::iter::once(seed.clone())
            .chain(mutants(&seed, 150))
            .enumerate()
        {
            let Some((g, d, data)) = pair(&input) else {
                continue;
            };
            frames += same(&format!("{target}/{name} mutant {n}"), g, d, &data);
            inputs += 1;
        }
    }
    (inputs, frames)
}

#[test]
fn native_frames() {
    let s = schema("../protocols/wire/native.wire");
    let (inputs, frames) = corpus("native_frame", |d| {
        Some((
            polywire_protocols::native::FrameCodec::new(),
            DynCodec::new(&s).unwrap(),
            d.to_vec(),
        ))
    });
    assert!(
        inputs > 1000 && frames > 100,
        "{inputs} inputs, {frames} frames"
    );
}

#[test]
fn rocketmq_frames_in_both_header_encodings() {
    let s = schema("../protocols/wire/rocketmq.wire");
    let (inputs, frames) = corpus("rocketmq_frame", |d| {
        Some((
            polywire_protocols::rocketmq::FrameCodec::new(),
            DynCodec::new(&s).unwrap(),
            d.to_vec(),
        ))
    });
    assert!(
        inputs > 1000 && frames > 1000,
        "{inputs} inputs, {frames} frames"
    );
}

#[test]
fn mqtt_packets_of_both_versions() {
    let s = schema("../protocols/wire/mqtt.wire");
    let (inputs, frames) = corpus("mqtt_frame", |d| {
        let (&first, rest) = d.split_first()?;
        let version = if first & 1 == 1 { 5 } else { 4 };
        let mut g = polywire_protocols::mqtt::PacketCodec::new();
        g.set_version(version);
        let mut dy = DynCodec::new(&s).unwrap();
        dy.set_version(version);
        Some((g, dy, rest.to_vec()))
    });
    assert!(
        inputs > 1000 && frames > 1000,
        "{inputs} inputs, {frames} frames"
    );
}

#[test]
fn resp_values_and_commands_from_either_side() {
    use polywire_protocols::resp::{CommandCodec, MessageCodec, ValueCodec};
    let s = schema("../protocols/wire/resp.wire");
    let (i1, f1) = corpus("resp_frame", |d| {
        Some((
            ValueCodec::new(),
            DynCodec::for_message(&s, "Value").unwrap(),
            d.to_vec(),
        ))
    });
    let (i2, f2) = corpus("resp_frame", |d| {
        Some((
            CommandCodec::new(),
            DynCodec::for_message(&s, "Command").unwrap(),
            d.to_vec(),
        ))
    });
    let (i3, f3) = corpus("resp_frame", |d| {
        let side = if d.len() % 2 == 0 {
            Sender::Client
        } else {
            Sender::Server
        };
        Some((
            MessageCodec::new().sent_by(side),
            DynCodec::new(&s).unwrap().sent_by(side),
            d.to_vec(),
        ))
    });
    assert!(
        i1 + i2 + i3 > 3000 && f1 > 1000 && f2 > 100 && f3 > 1000,
        "{f1} {f2} {f3} frames"
    );
}

#[test]
fn kitchen_sink_frames() {
    let s = schema("wire/kitchen.wire");
    let (inputs, frames) = corpus("kitchen_frame", |d| {
        Some((
            polywire_tests::kitchen::FrameCodec::new(),
            DynCodec::new(&s).unwrap(),
            d.to_vec(),
        ))
    });
    assert!(
        inputs > 500 && frames > 100,
        "{inputs} inputs, {frames} frames"
    );
}
