//! MQTT's `exchange` block carried out by a server `MessageSession` on the bytes a client
//! sends: the hello, rules, correlation, keepalive and farewells, each message answered with
//! its default answer, then silence past any keepalive.
//!
//! Checked: "need more" consumes nothing; the events, the answers and the violation do not
//! depend on how the input was cut; everything the session writes decodes as whole packets
//! under the version the hello set; no allocation exceeds the frame limit plus [`SLACK`].

use crate::mqtt::{MqttExchange, PacketCodec};
use crate::session::feed as session;
use crate::{SLACK, bounded, cuts};
use bytes::BytesMut;
use polywire::Codec;
use std::time::{Duration, Instant};

/// What a session did with an input: its events, the bytes it wrote and its version.
type Outcome = (Vec<String>, Vec<u8>, Option<u32>);

fn feed(data: &[u8], cuts: &[usize], now: Instant) -> Outcome {
    let (mut events, mut out, mut s) =
        session(MqttExchange, data, cuts, now, |before, after, _| {
            assert_eq!(after, before, "`need more` consumed bytes")
        });
    if let Err(v) = s.tick(now + Duration::from_secs(1_000_000)) {
        events.push(format!("violation: {v}"));
    }
    out.extend_from_slice(&s.take_output());
    (events, out, s.version())
}

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let now = Instant::now();
    let limit = PacketCodec::new().limits().max_frame_len + SLACK;
    let whole = bounded("a session on the whole input", limit, || {
        feed(data, &[data.len()], now)
    });
    let cuts = cuts(data);
    let pieces = bounded("a session on the input in pieces", limit, || {
        feed(data, &cuts, now)
    });
    assert_eq!(whole, pieces, "in pieces ending at {cuts:?}");
    // What the session wrote is whole packets under its version.
    let (_, out, version) = whole;
    let mut codec = PacketCodec::new();
    codec.set_version(version.unwrap_or(4));
    let mut src = BytesMut::from(&out[..]);
    while !src.is_empty() {
        match codec.decode(&mut src) {
            Ok(Some(_)) => {}
            other => panic!("the session wrote {other:?} with {} bytes left", src.len()),
        }
    }
}
