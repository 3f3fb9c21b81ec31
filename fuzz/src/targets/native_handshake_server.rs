//! The server side of native's handshake reading a client's hello, as
//! `runtime/src/rt/server.rs` drives it: bytes arrive in pieces, each piece is offered to
//! `server_read_hello` until it is not `NeedMore`.
//!
//! Checked: "need more" consumes nothing and writes no reply; the outcome (event, reply,
//! bytes consumed) does not depend on how the input was cut; an accepted version lies in
//! both ranges with features both sides have; the reply reads back, with the client's
//! `client_read_reply`, as the same outcome.

use crate::native::*;
use crate::{SLACK, bounded, check_partial, cuts};
use bytes::BytesMut;
use polywire::{Handshake, HandshakeEvent, Negotiated};

const OURS: (u32, u32) = protocol_info::VERSIONS;
const FEATURES: u64 = 0b11;

type Outcome = Result<(HandshakeEvent, BytesMut, usize), String>;

fn feed(data: &[u8], cuts: &[usize]) -> Outcome {
    let hs = NativeProtocol;
    let mut buf = BytesMut::new();
    let mut from = 0;
    for &to in cuts {
        buf.extend_from_slice(&data[from..to]);
        from = to;
        let before = buf.clone();
        let mut out = BytesMut::new();
        match hs.server_read_hello(&mut buf, OURS, FEATURES, &mut out) {
            Ok(HandshakeEvent::NeedMore) => {
                assert_eq!(buf, before, "`need more` consumed bytes");
                assert!(out.is_empty(), "`need more` wrote a reply");
            }
            Ok(ev) => return Ok((ev, out, to - buf.len())),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok((HandshakeEvent::NeedMore, BytesMut::new(), 0))
}

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let bound = data.len() + SLACK;
    let whole = bounded("reading a hello", bound, || feed(data, &[data.len()]));
    let cuts = cuts(data);
    let pieces = bounded("reading a hello in pieces", bound, || feed(data, &cuts));
    assert_eq!(whole, pieces, "in pieces ending at {cuts:?}");
    let hello = check_partial::<Hello>(data, protocol_info::LIMITS);
    let Ok((event, reply, used)) = whole else {
        assert!(
            hello.is_none(),
            "a hello that decodes is refused: {whole:?}"
        );
        return;
    };
    let client = NativeProtocol;
    match event {
        HandshakeEvent::NeedMore => assert!(hello.is_none()),
        HandshakeEvent::Done(Negotiated { version, features }) => {
            let (h, len) = hello.expect("accepted a hello that does not decode");
            assert_eq!(used, len);
            let theirs = (u32::from(h.min_version), u32::from(h.max_version));
            assert!(version >= OURS.0.max(theirs.0) && version <= OURS.1.min(theirs.1));
            assert_eq!(features, FEATURES & u64::from(h.features.bits()));
            let mut r = reply.clone();
            assert_eq!(
                client.client_read_reply(&mut r),
                Ok(HandshakeEvent::Done(Negotiated { version, features })),
                "the client reads the accept {reply:02x?}"
            );
            assert!(r.is_empty());
        }
        HandshakeEvent::Rejected { min, max } => {
            let (h, len) = hello.expect("rejected a hello that does not decode");
            assert_eq!(used, len);
            assert_eq!(
                (min, max),
                (u32::from(h.min_version), u32::from(h.max_version))
            );
            assert!(polywire::protocol::negotiate(OURS, (min, max), true).is_none());
            let mut r = reply.clone();
            assert_eq!(
                client.client_read_reply(&mut r),
                Ok(HandshakeEvent::Rejected {
                    min: OURS.0,
                    max: OURS.1
                }),
                "the client reads the reject {reply:02x?}"
            );
            assert!(r.is_empty());
        }
    }
}
