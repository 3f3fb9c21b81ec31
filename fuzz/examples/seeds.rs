//! Writes the seed corpora under `fuzz/seeds/<target>/` from the project's own vectors:
//! frames and messages built like the tests build them (`protocols/tests/`,
//! `tests/tests/kitchen.rs`), the RocketMQ frames of `../shared/vectors/rocketmq/` (real
//! Java traffic and frames mirrored from apache/rocketmq's tests) and the repository's
//! `.wire` files. Run from the repository root:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds [path/to/shared/vectors/rocketmq]
//! ```
//!
//! The output is checked in; rerun it when a protocol's layout changes.

use bytes::{Bytes, BytesMut};
use polywire::rt::Request;
use polywire::{Codec, Handshake, OrderedMap, Str, WireMessage};
// Named one by one: the kitchen sink declares types called `Vec`, `Str`, `Option`, ...
use polywire_fuzz::kitchen::{
    Color, Frame, FrameCodec, GetRequest, Header, Inner, Kind, KitchenProtocol, Language, Level,
    Mode, Names, Perms, Point, Prio, PutHeader, PutRequest, Sink, Trailer, request_codes,
};
use polywire_fuzz::{native, rocketmq};
use std::path::{Path, PathBuf};

struct Seeds {
    root: PathBuf,
    count: usize,
}

impl Seeds {
    fn put(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("seed directory");
        std::fs::write(dir.join(name), bytes).expect("seed file");
        self.count += 1;
    }
}

fn encode<M: WireMessage>(m: &M) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode_to(&mut b).expect("encodes");
    b.to_vec()
}

fn with_selector(which: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![which];
    v.extend_from_slice(bytes);
    v
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn native_seeds(s: &mut Seeds) {
    use native::*;
    let mut codec = FrameCodec::new();
    let mut frames = Vec::new();
    let echo = EchoRequest {
        body: Bytes::from_static(b"hello body"),
    }
    .into_request()
    .expect("a request");
    frames.push(("echo", echo.clone()));
    let mut reply = EchoResponse {
        body: Bytes::from_static(b"hello body"),
    }
    .into_frame(echo.clone())
    .expect("a response");
    polywire::RemotingFrame::set_kind(&mut reply, polywire::FrameKind::Response);
    frames.push(("echo-response", reply));
    frames.push(("ping", PingRequest {}.into_request().expect("a request")));
    let mut log = LogRequest {
        header: LogHeader {
            level: 3,
            source: Str::from("fuzz"),
        },
        body: Bytes::from_static(b"a log line"),
    }
    .into_request()
    .expect("a request");
    polywire::RemotingFrame::set_kind(&mut log, polywire::FrameKind::Oneway);
    log.version = 3;
    log.id = 300;
    frames.push(("log", log));
    let mut err = polywire::Protocol::error_response(
        &NativeProtocol,
        9,
        polywire::ErrorStatus::NotSupported,
        "no processor for 9",
    );
    err.id = u64::MAX;
    frames.push(("not-supported", err));
    let mut stream = Vec::new();
    for (name, f) in &frames {
        let mut b = BytesMut::new();
        codec.encode(f, &mut b).expect("encodes");
        s.put("native_frame", name, &b);
        s.put("native_messages", name, &with_selector(4, &b));
        stream.extend_from_slice(&b);
    }
    s.put("native_frame", "stream", &stream);
    // protocols/tests/native_codec.rs and allocation_limits.rs: hostile lengths and counts.
    s.put("native_frame", "huge-length", b"PW\x01\x80\x80\x80\x80\x04");
    s.put("native_frame", "header-only", b"PW\x01");
    s.put(
        "native_frame",
        "huge-entry-count",
        &[b'P', b'W', 1, 9, 0, 1, 5, 0, 0x80, 0x80, 0x80, 0x80, 1],
    );

    let hs = NativeProtocol;
    for (name, min, max) in [
        ("hello-1-3", 1, 3),
        ("hello-2-5", 2, 5),
        ("hello-4-9", 4, 9),
    ] {
        let mut hello = BytesMut::new();
        hs.client_hello(min, max, 0b11, &mut hello).expect("hello");
        s.put("native_handshake_server", name, &hello);
        s.put("native_messages", name, &with_selector(0, &hello));
        let mut out = BytesMut::new();
        hs.server_read_hello(&mut hello.clone(), (1, 3), 0b01, &mut out)
            .expect("a reply");
        s.put("native_handshake_client", &format!("reply-to-{name}"), &out);
        let which = if out[0] == 1 { 1 } else { 2 };
        s.put(
            "native_messages",
            &format!("reply-to-{name}"),
            &with_selector(which, &out),
        );
        // The first frame right behind the handshake message, as a peer may send it.
        out.extend_from_slice(&stream[..16]);
        s.put(
            "native_handshake_client",
            &format!("reply-to-{name}-then-frame"),
            &out,
        );
        hello.extend_from_slice(&stream);
        s.put(
            "native_handshake_server",
            &format!("{name}-then-frames"),
            &hello,
        );
    }
    s.put(
        "native_messages",
        "log-header",
        &with_selector(
            3,
            &encode(&LogHeader {
                level: 5,
                source: Str::from("src"),
            }),
        ),
    );
}

fn rocketmq_seeds(s: &mut Seeds, vectors: &Path) {
    use rocketmq::*;
    let mut all = Vec::new();
    for file in [
        "frames.json",
        "captures.json",
        "java_harness_frames.json",
        "invalid.json",
    ] {
        let path = vectors.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("no {}: its RocketMQ seeds are skipped", path.display());
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).expect("vector JSON");
        for e in v["vectors"].as_array().expect("vectors") {
            let id = e["id"].as_str().expect("an id");
            let Some(frame) = e["frame_hex"].as_str().or(e["hex"].as_str()) else {
                continue;
            };
            let frame = hex(frame);
            s.put("rocketmq_frame", id, &frame);
            s.put("rocketmq_messages", id, &with_selector(10, &frame));
            all.extend_from_slice(&frame);
            if let Some(h) = e["header_hex"].as_str() {
                let json = e["serialize_type"].as_str() == Some("JSON");
                let which = if json { 1 } else { 0 };
                s.put(
                    "rocketmq_messages",
                    &format!("{id}-header"),
                    &with_selector(which, &hex(h)),
                );
            }
            if e["decoded"]["code"].as_i64() == Some(34)
                && let Some(b) = e["decoded"]["body_hex"].as_str()
            {
                s.put(
                    "rocketmq_messages",
                    &format!("{id}-heartbeat"),
                    &with_selector(3, &hex(b)),
                );
            }
        }
    }
    s.put("rocketmq_frame", "all-vectors", &all);
    // Frames of our own encoder, in both header encodings.
    let mut codec = FrameCodec::new();
    let mut ext = OrderedMap::new();
    ext.insert(Str::from("topic"), Str::from("TopicTest"));
    let hb = HeartbeatData {
        client_id: Str::from("127.0.0.1@1"),
        producer_data_set: vec![ProducerData {
            group_name: Str::from("p"),
        }],
        consumer_data_set: vec![ConsumerData {
            group_name: Str::from("c"),
            subscription_data_set: vec![SubscriptionData {
                topic: Str::from("t"),
                sub_string: Str::from("*"),
                tags_set: vec![Str::from("a")],
                code_set: vec![97],
                expression_type: Some(Str::from("TAG")),
                ..Default::default()
            }],
            ..Default::default()
        }],
        heartbeat_fingerprint: Some(7),
        without_sub: Some(false),
    };
    let mut json = BytesMut::new();
    hb.encode_json(&mut json).expect("JSON");
    s.put(
        "rocketmq_messages",
        "heartbeat-json",
        &with_selector(3, &json),
    );
    s.put(
        "rocketmq_messages",
        "heartbeat-binary",
        &with_selector(2, &encode(&hb)),
    );
    for serialize in [0u8, 1] {
        let mut f = HeartBeatRequest {
            header: Default::default(),
            body: hb.clone(),
        }
        .into_request()
        .expect("a request");
        f.serialize = serialize;
        f.header.remark = Some(Str::from("remark"));
        f.header
            .ext_fields
            .get_or_insert_with(Default::default)
            .insert(Str::from("topic"), Str::from("TopicTest"));
        let mut b = BytesMut::new();
        codec.encode(&f, &mut b).expect("encodes");
        s.put("rocketmq_frame", &format!("heartbeat-{serialize}"), &b);
    }
}

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

fn kitchen_seeds(s: &mut Seeds) {
    let mut codec = FrameCodec::new();
    let mut stream = Vec::new();
    for serialize in [0u8, 1] {
        let mut ext = OrderedMap::new();
        ext.insert(Str::from("trace"), Str::from("abc-123"));
        let f = Frame {
            serialize,
            urgent: true,
            prio: Prio::P2,
            header: header(),
            ext,
            sink: sink(),
            body: Bytes::from_static(b"the body"),
        };
        let mut b = BytesMut::new();
        codec.encode(&f, &mut b).expect("encodes");
        s.put("kitchen_frame", &format!("full-{serialize}"), &b);
        s.put(
            "kitchen_messages",
            &format!("frame-{serialize}"),
            &with_selector(13, &b),
        );
        stream.extend_from_slice(&b);
        let empty = Frame {
            serialize,
            ..Default::default()
        };
        let mut b = BytesMut::new();
        codec.encode(&empty, &mut b).expect("encodes");
        s.put("kitchen_frame", &format!("default-{serialize}"), &b);
        stream.extend_from_slice(&b);
    }
    let put = PutRequest {
        header: PutHeader {
            key: Str::from("k"),
            ttl: Some(60),
            lang: Language::Go,
            sync: true,
        },
        body: Bytes::from_static(b"v"),
    }
    .into_request()
    .expect("a request");
    let get = GetRequest { body: point(3, -3) }
        .into_request()
        .expect("a request");
    for (name, f) in [("put", put), ("get", get)] {
        let mut b = BytesMut::new();
        codec.encode(&f, &mut b).expect("encodes");
        s.put("kitchen_frame", name, &b);
        stream.extend_from_slice(&b);
    }
    s.put("kitchen_frame", "stream", &stream);
    let mut json = BytesMut::new();
    header().encode_json(&mut json).expect("JSON");
    let mut pjson = BytesMut::new();
    point(-1, 1).encode_json(&mut pjson).expect("JSON");
    let names = Names {
        r: 1,
        x: point(2, 3),
        other: 1,
        r#type: Str::from("t"),
        ..Default::default()
    };
    let messages: Vec<(&str, u8, Vec<u8>)> = vec![
        ("sink", 0, encode(&sink())),
        ("header", 1, encode(&header())),
        ("header-json", 2, json.to_vec()),
        ("point", 3, encode(&point(-1, 1))),
        ("point-json", 4, pjson.to_vec()),
        ("inner", 5, encode(&sink().inner)),
        ("trailer", 6, encode(&sink().trailer)),
        ("names", 7, encode(&names)),
    ];
    for (name, which, bytes) in messages {
        s.put("kitchen_messages", name, &with_selector(which, &bytes));
    }
    let hs = KitchenProtocol;
    let mut hello = BytesMut::new();
    hs.client_hello(1, 4, 3, &mut hello).expect("hello");
    s.put("kitchen_messages", "hello", &with_selector(8, &hello));
    s.put(
        "kitchen_messages",
        "hello-partial",
        &with_selector(11, &hello),
    );
    for ours in [(1, 4), (6, 7)] {
        let mut out = BytesMut::new();
        hs.server_read_hello(&mut hello.clone(), ours, 1, &mut out)
            .expect("a reply");
        let (accept, partial) = if out[0] == 1 { (9, 9) } else { (10, 12) };
        s.put(
            "kitchen_messages",
            &format!("reply-{}", ours.0),
            &with_selector(accept, &out),
        );
        s.put(
            "kitchen_messages",
            &format!("reply-{}-partial", ours.0),
            &with_selector(partial, &out),
        );
    }
}

fn wire_seeds(s: &mut Seeds, repo: &Path) {
    for (name, path) in [
        ("native", "protocols/wire/native.wire"),
        ("rocketmq", "protocols/wire/rocketmq.wire"),
        ("rocketmq_headers", "protocols/wire/rocketmq_headers.wire"),
        ("mqtt", "protocols/wire/mqtt.wire"),
        ("resp", "protocols/wire/resp.wire"),
        ("catalog", "tests/wire/catalog.wire"),
        ("chat", "tests/user-crate/chat.wire"),
        ("common", "tests/wire/common.wire"),
    ] {
        let text = std::fs::read(repo.join(path)).expect("a .wire file");
        s.put("wire_parser", name, &text);
    }
    // The kitchen sink with its import inlined (the fuzzed text is named inside
    // `protocols/wire`, where `common.wire` is not).
    let kitchen = std::fs::read_to_string(repo.join("tests/wire/kitchen.wire")).expect("kitchen");
    let common = std::fs::read_to_string(repo.join("tests/wire/common.wire")).expect("common");
    let inlined = kitchen.replace("import \"common.wire\"\n", &common);
    assert_ne!(inlined, kitchen, "kitchen.wire imports common.wire");
    s.put("wire_parser", "kitchen", inlined.as_bytes());
}

/// The connections mosquitto's clients and broker made (`protocols/tests/vectors/mqtt/
/// streams.txt`): for `mqtt_frame` each side's bytes after the version byte (odd: 5.0, read
/// from the CONNECT's protocol level), for `mqtt_session` the client's bytes as they are.
fn mqtt_seeds(s: &mut Seeds, repo: &Path) {
    let text = std::fs::read_to_string(repo.join("protocols/tests/vectors/mqtt/streams.txt"))
        .expect("the recorded MQTT streams");
    let mut conns: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with("# ") && !line.starts_with("# Captured") {
            conns.push((Vec::new(), Vec::new()));
        } else if let Some((dir, hex)) = line.split_once(' ')
            && let Some(c) = conns.last_mut()
        {
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"));
            match dir {
                "c" => c.0.extend(bytes),
                "s" => c.1.extend(bytes),
                _ => {}
            }
        }
    }
    for (i, (client, server)) in conns.iter().enumerate() {
        let level = client
            .windows(4)
            .position(|w| w == b"MQTT")
            .and_then(|at| client.get(at + 4))
            .copied()
            .expect("a CONNECT with its protocol level");
        let selector = u8::from(level >= 5);
        for (side, bytes) in [("c", client), ("s", server)] {
            let mut seed = vec![selector];
            seed.extend_from_slice(bytes);
            s.put("mqtt_frame", &format!("conn{i}-{side}"), &seed);
        }
        s.put("mqtt_session", &format!("conn{i}-c"), client);
    }
}

/// The replies redis-server sent (`protocols/tests/vectors/resp2.txt`, `resp3.txt`), one
/// value per seed, and all of a file's values back to back.
fn resp_seeds(s: &mut Seeds, repo: &Path) {
    for file in ["resp2", "resp3"] {
        let text =
            std::fs::read_to_string(repo.join(format!("protocols/tests/vectors/{file}.txt")))
                .expect("the recorded RESP replies");
        let mut all = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (name, hex) = line.split_once(' ').expect("a name and hex");
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            s.put("resp_frame", &format!("{file}-{name}"), &bytes);
            all.extend(bytes);
        }
        s.put("resp_frame", &format!("{file}-all"), &all);
    }
}

fn main() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = fuzz.join("..");
    let vectors = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/vectors/rocketmq"));
    let root = fuzz.join("seeds");
    let _ = std::fs::remove_dir_all(&root);
    let mut s = Seeds { root, count: 0 };
    native_seeds(&mut s);
    rocketmq_seeds(&mut s, &vectors);
    kitchen_seeds(&mut s);
    wire_seeds(&mut s, &repo);
    mqtt_seeds(&mut s, &repo);
    resp_seeds(&mut s, &repo);
    // Every seed passes its target's checks.
    for (name, run) in polywire_fuzz::targets::ALL {
        for entry in std::fs::read_dir(s.root.join(name)).expect("seeds of every target") {
            run(&std::fs::read(entry.expect("an entry").path()).expect("a seed"));
        }
    }
    println!("{} seeds under {}", s.count, s.root.display());
}
