//! The client side of native's handshake reading the server's reply, as
//! `runtime/src/rt/client.rs` drives it: bytes arrive in pieces, each piece is offered to
//! `client_read_reply` until it is not `NeedMore`.
//!
//! Checked: "need more" consumes nothing; the outcome (event, bytes consumed) does not
//! depend on how the input was cut; `Done` and `Rejected` report what an `Accept` or a
//! `Reject` decoded from the same bytes says, and the bytes after the reply are left for
//! the frames that follow.

use crate::native::*;
use crate::{SLACK, bounded, check_partial, cuts};
use bytes::BytesMut;
use polywire::{Handshake, HandshakeEvent, Negotiated};

type Outcome = Result<(HandshakeEvent, usize), String>;

fn feed(data: &[u8], cuts: &[usize]) -> Outcome {
    let hs = NativeProtocol;
    let mut buf = BytesMut::new();
    let mut from = 0;
    for &to in cuts {
        buf.extend_from_slice(&data[from..to]);
        from = to;
        let before = buf.clone();
        match hs.client_read_reply(&mut buf) {
            Ok(HandshakeEvent::NeedMore) => assert_eq!(buf, before, "`need more` consumed bytes"),
            Ok(ev) => {
                assert_eq!(
                    &buf[..],
                    &data[to - buf.len()..to],
                    "the bytes left are the tail"
                );
                return Ok((ev, to - buf.len()));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok((HandshakeEvent::NeedMore, 0))
}

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let bound = data.len() + SLACK;
    let whole = bounded("reading a reply", bound, || feed(data, &[data.len()]));
    let cuts = cuts(data);
    let pieces = bounded("reading a reply in pieces", bound, || feed(data, &cuts));
    assert_eq!(whole, pieces, "in pieces ending at {cuts:?}");
    let limits = protocol_info::LIMITS;
    match whole {
        Ok((HandshakeEvent::Done(Negotiated { version, features }), used)) => {
            let (a, len) = check_partial::<Accept>(data, limits).expect("`Done` from a bad accept");
            assert_eq!(used, len);
            assert_eq!(version, u32::from(a.version));
            assert_eq!(features, u64::from(a.features.bits()));
        }
        Ok((HandshakeEvent::Rejected { min, max }, used)) => {
            let (r, len) =
                check_partial::<Reject>(data, limits).expect("`Rejected` from a bad reject");
            assert_eq!(used, len);
            assert_eq!(
                (min, max),
                (u32::from(r.min_version), u32::from(r.max_version))
            );
        }
        Ok((HandshakeEvent::NeedMore, _)) | Err(_) => {
            assert!(
                check_partial::<Accept>(data, limits).is_none(),
                "an accept that decodes is not taken: {whole:?}"
            );
        }
    }
}
