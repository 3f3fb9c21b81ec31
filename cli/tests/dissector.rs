//! `polywire dissector`: the generated Lua dissector run by tshark (Debian's package,
//! installed by `.ci/run`) over captures of native and RocketMQ traffic (JSON and binary
//! headers) written by this test, with frames split across TCP segments and several in
//! one. Every field of every frame must appear in `tshark -T json` with the value the
//! interpreter behind `polywire decode --wire` gives.

use polywire::Codec;
use polywire::bytes::BytesMut;
use polywire_dynamic::{DynCodec, Schema, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// tshark, or a loud skip (a failure under CI).
fn tshark() -> bool {
    let found = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("!!!!!!!! tshark is not installed: the dissector test is SKIPPED");
        assert!(
            std::env::var_os("CI").is_none(),
            "tshark is not installed, and CI must run this test"
        );
    }
    found
}

/// A capture of one TCP connection on loopback: its handshake, then each segment the
/// client sends.
fn pcap(port: u16, segments: &[Vec<u8>]) -> Vec<u8> {
    /// One Ethernet + IPv4 + TCP packet, its ports, sequence and acknowledgement numbers.
    fn packet(
        out: &mut Vec<u8>,
        n: u32,
        (sport, dport): (u16, u16),
        (seq, ack): (u32, u32),
        flags: u8,
        payload: &[u8],
    ) {
        let mut p = vec![0u8; 12];
        p[11] = 1;
        p.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + 20 + payload.len()) as u16;
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&dport.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        for v in [1000, n, p.len() as u32, p.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&p);
    }
    let mut out = Vec::new();
    for v in [
        0xa1b2_c3d4u32.to_le_bytes(),
        [2, 0, 4, 0],
        [0; 4],
        [0; 4],
        65535u32.to_le_bytes(),
        1u32.to_le_bytes(),
    ] {
        out.extend_from_slice(&v);
    }
    let client = 40000;
    let (mut cseq, sseq) = (1000u32, 5001u32);
    packet(&mut out, 1, (client, port), (cseq, 0), 0x02, &[]);
    cseq += 1;
    packet(&mut out, 2, (port, client), (sseq - 1, cseq), 0x12, &[]);
    packet(&mut out, 3, (client, port), (cseq, sseq), 0x10, &[]);
    for (i, s) in segments.iter().enumerate() {
        packet(
            &mut out,
            4 + i as u32,
            (client, port),
            (cseq, sseq),
            0x18,
            s,
        );
        cseq += s.len() as u32;
    }
    out
}

/// `(field, value)` for every field of a decoded value, as tshark names and shows them.
fn flatten(proto: &str, key: &str, v: &Value, out: &mut Vec<(String, String)>) {
    let mut put = |text: String| out.push((format!("{proto}.{key}"), text));
    match v {
        Value::Null => {}
        Value::Bool(b) => put(if *b { "1" } else { "0" }.into()),
        Value::Int(n) | Value::Flags(n) | Value::Enum { value: n, .. } => put(n.to_string()),
        Value::Str(s) => put(s.as_str().to_string()),
        Value::Bytes(b) if b.is_empty() => {}
        Value::Bytes(b) => put(b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":")),
        Value::List(items) => {
            for x in items {
                flatten(proto, &format!("{key}.item"), x, out);
            }
        }
        Value::Map(entries) => {
            for (k, x) in entries {
                flatten(proto, &format!("{key}.key"), k, out);
                flatten(proto, &format!("{key}.value"), x, out);
            }
        }
        Value::Struct { ty, fields } => {
            for (name, x) in fields {
                flatten(proto, &format!("{ty}.{name}"), x, out);
            }
        }
        Value::Union { value, .. } => flatten(proto, key, value, out),
    }
}

/// Every `(field, value)` of `proto` in tshark's JSON, numbers in decimal.
fn collect(proto: &str, j: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match j {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                match v {
                    serde_json::Value::String(s) if k.starts_with(&format!("{proto}.")) => {
                        let s = match s.strip_prefix("0x").map(|h| u64::from_str_radix(h, 16)) {
                            Some(Ok(n)) => n.to_string(),
                            _ => s.clone(),
                        };
                        out.push((k.clone(), s));
                    }
                    serde_json::Value::Array(items) if k.starts_with(&format!("{proto}.")) => {
                        for x in items {
                            let mut one = serde_json::Map::new();
                            one.insert(k.clone(), x.clone());
                            collect(proto, &serde_json::Value::Object(one), out);
                        }
                    }
                    other => collect(proto, other, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|x| collect(proto, x, out)),
        _ => {}
    }
}

/// The frames of the fuzz seeds `names` that decode whole.
fn frames(schema: &Schema, target: &str, names: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for name in names {
        let data = std::fs::read(root().join("fuzz/seeds").join(target).join(name)).unwrap();
        let mut codec = DynCodec::new(schema).unwrap();
        let mut src = BytesMut::from(&data[..]);
        let mut start = 0;
        while let Ok(Some(_)) = codec.decode(&mut src) {
            let end = data.len() - src.len();
            out.push(data[start..end].to_vec());
            start = end;
        }
    }
    assert!(out.len() >= names.len(), "{target}: {} frames", out.len());
    out
}

fn check(wire: &str, target: &str, seeds: &[&str], port: u16) {
    let schema = Schema::load(root().join(wire)).unwrap();
    let proto = polywire_dynamic::dissector::filter_name(schema.ir());
    let frames = frames(&schema, target, seeds);
    let dir =
        std::env::temp_dir().join(format!("polywire-dissector-{proto}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lua = dir.join(format!("{proto}.lua"));
    let out = Command::new(env!("CARGO_BIN_EXE_polywire"))
        .args([
            "dissector",
            root().join(wire).to_str().unwrap(),
            "-o",
            lua.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Segments: the first frame cut in three, the next two in one segment, the rest alone.
    let mut segments: Vec<Vec<u8>> = Vec::new();
    let first = &frames[0];
    let (a, b) = (first.len() / 3, 2 * first.len() / 3);
    segments.extend([
        first[..a].to_vec(),
        first[a..b].to_vec(),
        first[b..].to_vec(),
    ]);
    let mut rest = frames[1..].iter();
    if let (Some(x), Some(y)) = (rest.next(), rest.next()) {
        segments.push([x.clone(), y.clone()].concat());
    }
    segments.extend(rest.cloned());
    let capture = dir.join("capture.pcap");
    std::fs::write(&capture, pcap(port, &segments)).unwrap();
    let out = Command::new("tshark")
        .args([
            "-r",
            capture.to_str().unwrap(),
            "-X",
            &format!("lua_script:{}", lua.display()),
        ])
        .args([
            "-o",
            &format!("{proto}.port:{port}"),
            "-T",
            "json",
            "--no-duplicate-keys",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("tshark's JSON");
    let text = String::from_utf8_lossy(&out.stdout);
    // The dissector's own layers, one per packet that carries frames.
    let layers: Vec<&serde_json::Value> = json
        .as_array()
        .expect("packets")
        .iter()
        .filter_map(|p| p["_source"]["layers"].get(&proto))
        .collect();
    for l in &layers {
        assert!(
            !l.to_string().contains("_ws.expert"),
            "the dissector reported a problem: {l}"
        );
    }
    let pdus: usize = layers
        .iter()
        .map(|l| l.as_array().map_or(1, Vec::len))
        .sum();
    assert_eq!(pdus, frames.len(), "frames shown\n{text}");
    let mut seen = Vec::new();
    collect(&proto, &json, &mut seen);
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for pair in seen {
        *counts.entry(pair).or_default() += 1;
    }
    let mut fields = 0;
    for (n, frame) in frames.iter().enumerate() {
        let mut codec = DynCodec::new(&schema).unwrap();
        let v = codec
            .decode(&mut BytesMut::from(&frame[..]))
            .unwrap()
            .unwrap();
        let mut want = Vec::new();
        flatten(&proto, "", &v, &mut want);
        for pair in want {
            let left = counts.get_mut(&pair);
            assert!(
                left.as_ref().is_some_and(|c| **c > 0),
                "{target} frame {n}: tshark shows no {pair:?}\n{text}"
            );
            *left.unwrap() -= 1;
            fields += 1;
        }
    }
    assert!(
        fields >= 5 * frames.len(),
        "{fields} fields in {} frames",
        frames.len()
    );
}

#[test]
fn tshark_shows_every_native_field_as_decode_does() {
    if !tshark() {
        return;
    }
    check(
        "protocols/wire/native.wire",
        "native_frame",
        &["stream", "echo", "not-supported"],
        7011,
    );
}

#[test]
fn tshark_shows_every_rocketmq_field_in_both_header_encodings() {
    if !tshark() {
        return;
    }
    check(
        "protocols/wire/rocketmq.wire",
        "rocketmq_frame",
        &[
            "json-send-v2-request",
            "rmq-req-remark-ext-body",
            "json-req-body",
            "rmq-send-v2-request",
            "json-resp-echo",
            "rmq-route-request",
        ],
        10911,
    );
}
