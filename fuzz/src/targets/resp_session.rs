//! RESP's `exchange` block carried out by a server `MessageSession` on the bytes a client
//! sends: commands read as the client's member of the two-direction frame, one at a time
//! from the received bytes frozen at once (self-delimited frames), each answered in order
//! with its default value, empty lines with nothing, and a protocol error before the close.
//!
//! Checked: the events, the answers and the violation do not depend on how the input was
//! cut into reads; on "need more" the buffer holds bytes of the input, never more than were
//! given; everything the session writes decodes as whole values; no allocation exceeds the
//! frame limit plus [`SLACK`].

use crate::resp::{RespExchange, ValueCodec};
use crate::session::feed as session;
use crate::{SLACK, bounded, cuts};
use bytes::BytesMut;
use polywire::Codec;
use std::time::Instant;

/// What a session did with an input: its events and the bytes it wrote.
type Outcome = (Vec<String>, Vec<u8>);

fn feed(data: &[u8], cuts: &[usize], now: Instant) -> Outcome {
    let (events, out, _) = session(RespExchange, data, cuts, now, |_, after, given| {
        // What waits is the end of what was given.
        assert!(
            given.ends_with(after),
            "the buffer holds bytes that were not given last"
        )
    });
    (events, out)
}

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let now = Instant::now();
    let limit = ValueCodec::new().limits().max_frame_len + SLACK;
    let whole = bounded("a session on the whole input", limit, || {
        feed(data, &[data.len()], now)
    });
    let cuts = cuts(data);
    let pieces = bounded("a session on the input in pieces", limit, || {
        feed(data, &cuts, now)
    });
    assert_eq!(whole, pieces, "in pieces ending at {cuts:?}");
    // What the session wrote is whole values.
    let (_, out) = whole;
    let mut codec = ValueCodec::new();
    let mut src = BytesMut::from(&out[..]);
    while !src.is_empty() {
        match codec.decode(&mut src) {
            Ok(Some(_)) => {}
            other => panic!("the session wrote {other:?} with {} bytes left", src.len()),
        }
    }
}
