//! RESP's `exchange` block carried out by a server `MessageSession` on the bytes a client
//! sends: commands read as the client's member of the two-direction frame, one at a time
//! from the received bytes frozen at once (self-delimited frames), each answered in order
//! with its default value, empty lines with nothing, and a protocol error before the close.
//!
//! Checked: the events, the answers and the violation do not depend on how the input was
//! cut into reads; on "need more" the buffer holds bytes of the input, never more than were
//! given; everything the session writes decodes as whole values; no allocation exceeds the
//! frame limit plus [`SLACK`].

use crate::resp::{Message, ValueCodec};
use crate::{SLACK, bounded, cuts};
use bytes::BytesMut;
use polywire::Codec;
use polywire::exchange::{Exchange, Incoming, MessageSession, Role};
use std::time::Instant;

/// What a session did with an input: its events and the bytes it wrote.
type Outcome = (Vec<String>, Vec<u8>);

/// Answers `ev` with the default answer its rule asks for, and says what happened.
fn answer(s: &mut MessageSession<Message>, ev: Incoming<Message>, now: Instant) -> String {
    let text = format!("{ev:?}");
    let (msg, token) = match ev {
        Incoming::Hello { msg, token } | Incoming::Message { msg, token } => (msg, token),
        _ => return text,
    };
    let Some(member) = token.expect().member() else {
        s.decline(token);
        return text;
    };
    let a = <Message as Exchange>::default_answer(&msg, member);
    match s.answer(token, a, now) {
        Ok(t) => format!("{text} -> answered ({t:?})"),
        Err(e) => format!("{text} -> not answered: {e}"),
    }
}

fn feed(data: &[u8], cuts: &[usize], now: Instant) -> Outcome {
    let mut s = MessageSession::<Message>::new(Role::Server, now);
    let mut buf = BytesMut::new();
    let (mut events, mut out) = (Vec::new(), Vec::new());
    let mut from = 0;
    'feed: for &to in cuts {
        buf.extend_from_slice(&data[from..to]);
        from = to;
        loop {
            match s.receive(&mut buf, now) {
                Ok(None) => {
                    // What waits is the end of what was given.
                    assert!(
                        data[..from].ends_with(&buf),
                        "the buffer holds bytes that were not given last"
                    );
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
    out.extend_from_slice(&s.take_output());
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
