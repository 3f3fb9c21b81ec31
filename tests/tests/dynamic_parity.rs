//! The run-time interpreter (`polywire-dynamic`) against the code generated from the same
//! `.wire` files: for every bundled protocol, on the fuzz seeds and on deterministic
//! mutations of them, both give the same frame boundaries ("need more" included), the
//! same errors (offset, field path, kind) and, for what decodes, the same bytes when the
//! frames are encoded again. What decodes also survives the interpreter's JSON form.

use polywire::{Codec, Sender};
use polywire_dynamic::{DynCodec, Schema};
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
            frames += polywire_dynamic::parity::check(g, d, &data)
                .unwrap_or_else(|e| panic!("{target}/{name} mutant {n}: {e}"));
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

#[test]
fn a_union_frame_s_probe_error_names_its_first_member_as_generated_code_does() {
    // MQTT's remaining length running past its four bytes, found by the `dynamic_parity`
    // fuzz target (`fuzz/regressions/dynamic_parity/`): the error's path starts with the
    // struct the probe reads (`Connect`), not the frame (`Packet`).
    let s = schema("../protocols/wire/mqtt.wire");
    let input = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00];
    let mut g = polywire_protocols::mqtt::PacketCodec::new();
    g.set_version(5);
    let mut d = DynCodec::new(&s).unwrap();
    d.set_version(5);
    let e = d.frame_len(&input).unwrap_err();
    assert_eq!(e.path, ["Connect", "length"]);
    polywire_dynamic::parity::check(g, d, &input).unwrap();
}
