//! What the session targets share: a server `MessageSession` fed a client's bytes, each
//! message answered with the default answer its rule asks for.

use bytes::BytesMut;
use polywire::exchange::{Exchange, Incoming, MessageSession, Role};
use std::time::Instant;

/// Answers `ev` with the default answer its rule asks for, and says what happened.
pub fn answer<E: Exchange>(
    s: &mut MessageSession<E>,
    ev: Incoming<E::Msg>,
    now: Instant,
) -> String {
    let text = format!("{ev:?}");
    let (msg, token) = match ev {
        Incoming::Hello { msg, token } | Incoming::Message { msg, token } => (msg, token),
        _ => return text,
    };
    let Some(member) = token.expect().member() else {
        s.decline(token);
        return text;
    };
    let a = s.exchange().default_answer(&msg, member);
    match s.answer(token, a, now) {
        Ok(t) => format!("{text} -> answered ({t:?})"),
        Err(e) => format!("{text} -> not answered: {e}"),
    }
}

/// Feeds `data` to a server session, cut at `cuts`, reading and answering every message
/// after each piece; `waits(before, after, given)` checks the buffer whenever the session
/// needs more (`before` the call, `after` it, and the input given so far). The events, the
/// bytes written, and the session (for what a target does after the input).
pub fn feed<E: Exchange>(
    exchange: E,
    data: &[u8],
    cuts: &[usize],
    now: Instant,
    waits: impl Fn(&BytesMut, &BytesMut, &[u8]),
) -> (Vec<String>, Vec<u8>, MessageSession<E>) {
    let mut s = MessageSession::new(exchange, Role::Server, now);
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
                    waits(&before, &buf, &data[..from]);
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
    (events, out, s)
}
