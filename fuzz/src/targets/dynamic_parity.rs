//! The run-time interpreter (`polywire-dynamic`) against the generated codecs: the first
//! byte picks a protocol and a codec (native, RocketMQ, MQTT 3.1.1 or 5.0, RESP values,
//! commands or either side of the two-direction frame, the kitchen sink), the rest is a
//! byte stream read by both. They must agree on every prefix's frame length, the frames
//! (by their bytes encoded again), the error and the bytes left, and a frame's JSON form
//! must read back to the same bytes (`polywire_dynamic::parity::check`).

use polywire::{Codec, Sender};
use polywire_dynamic::{DynCodec, Schema, parity};
use std::sync::OnceLock;

fn schema(cell: &'static OnceLock<Schema>, file: &str) -> &'static Schema {
    cell.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        Schema::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// The target's check on one input.
pub fn run(data: &[u8]) {
    static NATIVE: OnceLock<Schema> = OnceLock::new();
    static ROCKETMQ: OnceLock<Schema> = OnceLock::new();
    static MQTT: OnceLock<Schema> = OnceLock::new();
    static RESP: OnceLock<Schema> = OnceLock::new();
    static KITCHEN: OnceLock<Schema> = OnceLock::new();
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let result = match which % 9 {
        0 => {
            let s = schema(&NATIVE, "../protocols/wire/native.wire");
            parity::check(
                crate::native::FrameCodec::new(),
                DynCodec::new(s).unwrap(),
                rest,
            )
        }
        1 => {
            let s = schema(&ROCKETMQ, "../protocols/wire/rocketmq.wire");
            parity::check(
                crate::rocketmq::FrameCodec::new(),
                DynCodec::new(s).unwrap(),
                rest,
            )
        }
        v @ (2 | 3) => {
            let s = schema(&MQTT, "../protocols/wire/mqtt.wire");
            let version = if v == 3 { 5 } else { 4 };
            let mut g = crate::mqtt::PacketCodec::new();
            g.set_version(version);
            let mut d = DynCodec::new(s).unwrap();
            d.set_version(version);
            parity::check(g, d, rest)
        }
        4 => {
            let s = schema(&RESP, "../protocols/wire/resp.wire");
            parity::check(
                crate::resp::ValueCodec::new(),
                DynCodec::for_message(s, "Value").unwrap(),
                rest,
            )
        }
        5 => {
            let s = schema(&RESP, "../protocols/wire/resp.wire");
            parity::check(
                crate::resp::CommandCodec::new(),
                DynCodec::for_message(s, "Command").unwrap(),
                rest,
            )
        }
        v @ (6 | 7) => {
            let s = schema(&RESP, "../protocols/wire/resp.wire");
            let side = if v == 6 {
                Sender::Client
            } else {
                Sender::Server
            };
            parity::check(
                crate::resp::MessageCodec::new().sent_by(side),
                DynCodec::new(s).unwrap().sent_by(side),
                rest,
            )
        }
        _ => {
            let s = schema(&KITCHEN, "../tests/wire/kitchen.wire");
            parity::check(
                crate::kitchen::FrameCodec::new(),
                DynCodec::new(s).unwrap(),
                rest,
            )
        }
    };
    if let Err(e) = result {
        panic!("the interpreter and the generated code differ: {e}");
    }
}
