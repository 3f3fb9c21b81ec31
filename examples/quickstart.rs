//! Quickstart: encode and decode frames of the bundled native protocol with the code that
//! `polywire-codegen` generated from `protocols/wire/native.wire`.
//!
//! Run with `cargo run --release --example quickstart`.

use bytes::{Bytes, BytesMut};
use polywire::{Codec, FrameKind, OrderedMap, Str};
use polywire_protocols::native::{Flags, Frame, FrameCodec, request_codes};

fn main() {
    let mut codec = FrameCodec::new();
    let mut wire = BytesMut::new();

    // A request, a oneway and a response, written back to back.
    let mut headers = OrderedMap::new();
    headers.insert(Str::from("trace"), Str::from("t-1"));
    let request = Frame {
        version: 1,
        code: request_codes::ECHO,
        id: 1,
        flags: Flags::empty(),
        headers,
        body: Bytes::from_static(b"hello, polywire"),
    };
    let mut oneway = request.clone();
    oneway.id = 2;
    oneway.set_kind(FrameKind::Oneway);
    let mut response = request.clone();
    response.set_kind(FrameKind::Response);
    response.code = 0;
    for f in [&request, &oneway, &response] {
        codec.encode(f, &mut wire).expect("frames fit the limits");
    }
    println!("encoded 3 frames into {} bytes", wire.len());

    // Feed the bytes in 7-byte chunks, as a socket might deliver them.
    let mut inbox = BytesMut::new();
    let mut decoded = Vec::new();
    for chunk in wire.chunks(7) {
        inbox.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut inbox).expect("valid frames") {
            println!(
                "decoded {:?} id={} code={} headers={:?} body={:?}",
                frame.kind(),
                frame.correlation_id(),
                frame.code,
                frame.headers,
                frame.body
            );
            decoded.push(frame);
        }
    }
    assert_eq!(decoded, vec![request, oneway, response]);

    // A corrupted frame is refused with the byte offset and field path.
    let mut bad = BytesMut::from(&b"PX\x01\x00"[..]);
    let err = codec.decode(&mut bad).expect_err("bad magic");
    println!("corrupted input: {err}");
}
