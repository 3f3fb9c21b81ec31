//! Codecs generated with `codecs_only` work with `polywire-core` alone: frames round-trip,
//! the handshake runs sans-IO, and no async runtime is in the dependency tree.

use polywire_core::bytes::{Bytes, BytesMut};
use polywire_core::{Codec, HandshakeEvent, OrderedMap, Protocol, RemotingFrame, Str};
use polywire_core_user::{native, rocketmq};
use std::process::Command;

fn native_frame() -> native::Frame {
    let mut headers = OrderedMap::new();
    headers.insert(Str::from("topic"), Str::from("orders"));
    native::Frame {
        version: 2,
        code: native::request_codes::ECHO,
        id: 300,
        flags: native::Flags::empty(),
        headers,
        body: Bytes::from_static(b"hello body"),
    }
}

#[test]
fn a_native_frame_round_trips() {
    let frame = native_frame();
    let mut codec = native::FrameCodec::new();
    let mut buf = BytesMut::new();
    codec.encode(&frame, &mut buf).expect("encodes");
    assert_eq!(&buf[..3], b"PW\x02");
    assert_eq!(buf.len(), frame.encoded_len());
    // Half a frame is not a frame yet, and nothing is consumed.
    let mut half = BytesMut::from(&buf[..buf.len() / 2]);
    assert_eq!(codec.decode(&mut half).expect("decodes"), None);
    assert_eq!(half.len(), buf.len() / 2);
    let back = codec
        .decode(&mut buf)
        .expect("decodes")
        .expect("a whole frame");
    assert_eq!(back, frame);
    assert!(buf.is_empty());
    assert_eq!(RemotingFrame::correlation_id(&back), 300);
}

#[test]
fn the_native_handshake_runs_without_io() {
    let p = native::NativeProtocol;
    let hs = p.handshake().expect("native has a handshake");
    let mut wire = BytesMut::new();
    hs.client_hello(1, 3, 0, &mut wire).expect("hello encodes");
    let mut reply = BytesMut::new();
    let server = hs
        .server_read_hello(&mut wire, (2, 5), 0, &mut reply)
        .expect("hello decodes");
    let HandshakeEvent::Done(agreed) = server else {
        panic!("the server did not accept: {server:?}");
    };
    assert_eq!(agreed.version, 3);
    assert_eq!(
        hs.client_read_reply(&mut reply).expect("reply decodes"),
        HandshakeEvent::Done(agreed)
    );
}

#[test]
fn a_rocketmq_frame_round_trips_in_both_header_encodings() {
    for serialize in [0, 1] {
        let mut ext = OrderedMap::new();
        ext.insert(Str::from("topic"), Str::from("TopicTest"));
        let frame = rocketmq::Frame {
            serialize,
            header: rocketmq::Header {
                code: 310,
                language: rocketmq::LanguageCode::Java,
                version: 479,
                opaque: 42,
                flag: rocketmq::RpcFlag::empty(),
                remark: None,
                ext_fields: Some(ext),
            },
            body: Bytes::from_static(b"hello"),
        };
        let mut codec = rocketmq::FrameCodec::new();
        let mut buf = BytesMut::new();
        codec.encode(&frame, &mut buf).expect("encodes");
        assert_eq!(buf[4], serialize, "the header encoding byte");
        let back = codec
            .decode(&mut buf)
            .expect("decodes")
            .expect("a whole frame");
        assert_eq!(back, frame);
        assert!(buf.is_empty());
    }
}

/// What must never be in the tree of a crate built on the core alone.
const RUNTIME_CRATES: &[&str] = &["polywire", "tokio", "tokio-util", "futures", "mio"];

#[test]
fn no_runtime_crate_is_a_dependency() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "polywire-core-user",
            "-e",
            "normal",
        ])
        .args(["--prefix", "none", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"polywire-core"), "{stdout}");
    for krate in RUNTIME_CRATES {
        assert!(
            !names.contains(krate),
            "`{krate}` is in the tree:\n{stdout}"
        );
    }
}
