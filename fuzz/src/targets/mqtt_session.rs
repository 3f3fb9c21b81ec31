//! MQTT's `exchange` block carried out by a server `MessageSession` on the bytes a client
//! sends: the hello, rules, correlation, keepalive and farewells, each message answered with
//! its default answer, then silence past any keepalive.
//!
//! Checked: "need more" consumes nothing; the events, the answers and the violation do not
//! depend on how the input was cut; everything the session writes decodes as whole packets
//! under the version the hello set; no allocation exceeds the frame limit plus [`SLACK`].

use crate::mqtt::{Packet, PacketCodec};
use crate::{SLACK, bounded, cuts};
use bytes::BytesMut;
use polywire::Codec;
use polywire::exchange::{Exchange, Incoming, MessageSession, Role};
use std::time::{Duration, Instant};

/// What a session did with an input: its events, the bytes it wrote and its version.
type Outcome = (Vec<String>, Vec<u8>, Option<u32>);

/// Answers `ev` with the default answer its rule asks for, and says what happened.
fn answer(s: &mut MessageSession<Packet>, ev: Incoming<Packet>, now: Instant) -> String {
    let text = format!("{ev:?}");
    let (msg, token) = match ev {
        Incoming::Hello { msg, token } | Incoming::Message { msg, token } => (msg, token),
        _ => return text,
    };
    let Some(member) = token.expect().member() else {
        s.decline(token);
        return text;
    };
    let a = <Packet as Exchange>::default_answer(&msg, member);
    match s.answer(token, a, now) {
        Ok(t) => format!("{text} -> answered ({t:?})"),
        Err(e) => format!("{text} -> not answered: {e}"),
    }
}

fn feed(data: &[u8], cuts: &[usize], now: Instant) -> Outcome {
    let mut s = MessageSession::<Packet>::new(Role::Server, now);
    let mut buf = BytesMut::new();
    let (mut events, mut out) = (Vec::new(), Vec::new());
    let mut from = 0;
    'feed: for &to in cuts {
        buf.extend_from_slice(&data[from..to]);
        from = to;
        loop {
            let before = buf.clone();
            match s.receive(&mut buf, now) {
                Ok(None) => {
                    assert_eq!(buf, before, "`need more` consumed bytes");
                    break;
                }
                Ok(Some(ev)) => events.push(answer(&mut s, ev, now)),
                Err(v) => {
                    events.push(format!("violation: {v}"));
                    break 'feed;
                }
            }
        }
        out.extend_from_slice(&s.take_output());
    }
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
