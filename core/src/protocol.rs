//! What the runtime needs to know about a protocol. Generated code implements these traits;
//! a hand-written protocol may too.

use crate::codec::{Codec, FrameKind, WireMessage};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Limits, Reader, Writer};
use bytes::BytesMut;

/// A frame the remoting layer can route: it has a correlation id, a kind and a code.
pub trait RemotingFrame: Send + Sync + Sized + 'static {
    /// The correlation id (`@correlation`).
    fn correlation_id(&self) -> u64;
    /// Sets the correlation id.
    fn set_correlation_id(&mut self, id: u64);
    /// Request, response or oneway (`@kind`).
    fn kind(&self) -> FrameKind;
    /// Sets the kind.
    fn set_kind(&mut self, kind: FrameKind);
    /// The request code, or the status code of a response (`@code`).
    fn code(&self) -> i64;
    /// Sets the code.
    fn set_code(&mut self, code: i64);

    /// The values of the request's `@echo` fields (e.g. the header encoding), packed, so that
    /// the server can copy them onto the response with [`RemotingFrame::apply_echo`].
    fn echo(&self) -> u64 {
        0
    }

    /// Copies `@echo` values taken from the request with [`RemotingFrame::echo`].
    fn apply_echo(&mut self, echo: u64) {
        let _ = echo;
    }
}

/// The result of a negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The version both sides speak.
    pub version: u32,
    /// Feature bits both sides support.
    pub features: u64,
}

/// What a handshake step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeEvent {
    /// More bytes are needed.
    NeedMore,
    /// Done: the negotiated version (the server also has `reply` bytes to send).
    Done(Negotiated),
    /// The peer's versions do not overlap ours.
    Rejected {
        /// Lowest version the peer supports.
        min: u32,
        /// Highest version the peer supports.
        max: u32,
    },
}

/// Sans-IO version negotiation, generated from a `.wire` `handshake` block.
///
/// Client: write [`Handshake::client_hello`], then feed received bytes to
/// [`Handshake::client_read_reply`] until it is not `NeedMore`.
/// Server: feed received bytes to [`Handshake::server_read_hello`]; it appends the reply to
/// `out` once the hello is complete.
pub trait Handshake: Send + Sync + 'static {
    /// The versions this side speaks, inclusive.
    fn versions(&self) -> (u32, u32);
    /// Appends the client's hello offering `min..=max` and `features`.
    fn client_hello(
        &self,
        min: u32,
        max: u32,
        features: u64,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError>;
    /// Consumes the server's reply from `buf`.
    fn client_read_reply(&self, buf: &mut BytesMut) -> Result<HandshakeEvent, DecodeError>;
    /// Consumes a hello from `buf` and appends the reply (accept or reject) to `out`; the
    /// server speaks `ours` and supports `features`.
    fn server_read_hello(
        &self,
        buf: &mut BytesMut,
        ours: (u32, u32),
        features: u64,
        out: &mut BytesMut,
    ) -> Result<HandshakeEvent, DecodeError>;
}

/// A version handshake described by its messages: what the generated code implements for
/// a protocol with a `handshake` block. [`Handshake`], the state machine the runtime drives,
/// follows from it: decoding partial input, choosing the version, answering with the
/// accept or the reject.
pub trait VersionHandshake: Send + Sync + 'static {
    /// The client's first message.
    type Hello: WireMessage;
    /// The server's answer when a version is common.
    type Accept: WireMessage;
    /// The server's answer when none is ([`NoReject`] when the protocol declares none).
    type Reject: WireMessage;
    /// The versions the protocol speaks, inclusive.
    const VERSIONS: (u32, u32);
    /// The limits its messages are decoded with.
    const LIMITS: Limits;
    /// `choose highest` (else the lowest common version).
    const HIGHEST: bool;
    /// Whether a reject message is declared.
    const REJECTS: bool;

    /// The hello offering `min..=max` and `features`.
    fn hello(min: u32, max: u32, features: u64) -> Self::Hello;
    /// What a hello offers: lowest and highest version, features.
    fn offer(hello: &Self::Hello) -> (u32, u32, u64);
    /// The accept for `version` and `features`.
    fn accept(version: u32, features: u64) -> Self::Accept;
    /// What an accept agrees on.
    fn accepted(accept: &Self::Accept) -> Negotiated;
    /// The reject telling a client the server speaks `ours` (`None` when none is declared).
    fn reject(ours: (u32, u32)) -> Option<Self::Reject>;
    /// The versions a reject says the server speaks.
    fn rejected(reject: &Self::Reject) -> (u32, u32);
}

/// The reject message of a handshake that declares none: it never exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoReject {}

impl WireMessage for NoReject {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Err(r.error("reject", crate::error::DecodeErrorKind::MissingField))
    }

    fn write_to(&self, _w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match *self {}
    }
}

impl<T: VersionHandshake> Handshake for T {
    fn versions(&self) -> (u32, u32) {
        T::VERSIONS
    }

    fn client_hello(
        &self,
        min: u32,
        max: u32,
        features: u64,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        T::hello(min, max, features).encode_to(out)
    }

    fn client_read_reply(&self, buf: &mut BytesMut) -> Result<HandshakeEvent, DecodeError> {
        read_reply(&Typed::<T>(std::marker::PhantomData), buf)
    }

    fn server_read_hello(
        &self,
        buf: &mut BytesMut,
        ours: (u32, u32),
        features: u64,
        out: &mut BytesMut,
    ) -> Result<HandshakeEvent, DecodeError> {
        answer_hello(
            &Typed::<T>(std::marker::PhantomData),
            buf,
            ours,
            features,
            out,
        )
    }
}

/// The messages of a version handshake and what they say, for the rules of
/// [`read_reply`] and [`answer_hello`]: generated protocols have them through
/// [`VersionHandshake`], protocols loaded at run time from their description.
pub trait HandshakeSteps {
    /// The client's hello.
    type Hello;
    /// The server's acceptance.
    type Accept;
    /// The server's refusal.
    type Reject;
    /// The hello at the front of `buf`, taken off it (`None` while it is incomplete).
    fn read_hello(&self, buf: &mut BytesMut) -> Result<Option<Self::Hello>, DecodeError>;
    /// The acceptance at the front of `buf`, likewise.
    fn read_accept(&self, buf: &mut BytesMut) -> Result<Option<Self::Accept>, DecodeError>;
    /// The refusal at the front of `buf`, likewise.
    fn read_reject(&self, buf: &mut BytesMut) -> Result<Option<Self::Reject>, DecodeError>;
    /// Whether the protocol has a refusal message.
    fn rejects(&self) -> bool;
    /// Whether the highest common version is chosen (else the lowest).
    fn highest(&self) -> bool;
    /// The range and features a hello offers.
    fn offer(&self, hello: &Self::Hello) -> (u32, u32, u64);
    /// What an acceptance agrees.
    fn accepted(&self, accept: &Self::Accept) -> Negotiated;
    /// The range a refusal says the server speaks.
    fn rejected(&self, reject: &Self::Reject) -> (u32, u32);
    /// Writes the acceptance of `version` with `features`.
    fn write_accept(
        &self,
        version: u32,
        features: u64,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError>;
    /// Writes the refusal saying the server speaks `ours` (nothing without one).
    fn write_reject(&self, ours: (u32, u32), out: &mut BytesMut) -> Result<(), EncodeError>;
}

/// A [`VersionHandshake`]'s messages as [`HandshakeSteps`].
struct Typed<T>(std::marker::PhantomData<T>);

impl<T: VersionHandshake> HandshakeSteps for Typed<T> {
    type Hello = T::Hello;
    type Accept = T::Accept;
    type Reject = T::Reject;
    fn read_hello(&self, buf: &mut BytesMut) -> Result<Option<T::Hello>, DecodeError> {
        decode_partial(buf, T::LIMITS)
    }
    fn read_accept(&self, buf: &mut BytesMut) -> Result<Option<T::Accept>, DecodeError> {
        decode_partial(buf, T::LIMITS)
    }
    fn read_reject(&self, buf: &mut BytesMut) -> Result<Option<T::Reject>, DecodeError> {
        decode_partial(buf, T::LIMITS)
    }
    fn rejects(&self) -> bool {
        T::REJECTS
    }
    fn highest(&self) -> bool {
        T::HIGHEST
    }
    fn offer(&self, hello: &T::Hello) -> (u32, u32, u64) {
        T::offer(hello)
    }
    fn accepted(&self, accept: &T::Accept) -> Negotiated {
        T::accepted(accept)
    }
    fn rejected(&self, reject: &T::Reject) -> (u32, u32) {
        T::rejected(reject)
    }
    fn write_accept(
        &self,
        version: u32,
        features: u64,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        T::accept(version, features).encode_to(out)
    }
    fn write_reject(&self, ours: (u32, u32), out: &mut BytesMut) -> Result<(), EncodeError> {
        match T::reject(ours) {
            Some(m) => m.encode_to(out),
            None => Ok(()),
        }
    }
}

/// A client reading the server's answer to its hello: an acceptance, or, when the bytes
/// are not an acceptance's first constant and the protocol has one, a refusal.
pub fn read_reply<S: HandshakeSteps + ?Sized>(
    s: &S,
    buf: &mut BytesMut,
) -> Result<HandshakeEvent, DecodeError> {
    match s.read_accept(buf) {
        Ok(Some(m)) => Ok(HandshakeEvent::Done(s.accepted(&m))),
        Ok(None) => Ok(HandshakeEvent::NeedMore),
        // Not an accept's first constant: a reject, if the protocol has one.
        Err(e)
            if s.rejects()
                && matches!(e.kind, crate::error::DecodeErrorKind::BadConstant { .. })
                && e.offset == 0 =>
        {
            match s.read_reject(buf)? {
                Some(m) => {
                    let (min, max) = s.rejected(&m);
                    Ok(HandshakeEvent::Rejected { min, max })
                }
                None => Ok(HandshakeEvent::NeedMore),
            }
        }
        Err(e) => Err(e),
    }
}

/// A server reading a client's hello and answering it: the version both speak, accepted
/// with the features both have, or a refusal naming the server's range.
pub fn answer_hello<S: HandshakeSteps + ?Sized>(
    s: &S,
    buf: &mut BytesMut,
    ours: (u32, u32),
    features: u64,
    out: &mut BytesMut,
) -> Result<HandshakeEvent, DecodeError> {
    let Some(h) = s.read_hello(buf)? else {
        return Ok(HandshakeEvent::NeedMore);
    };
    let (min, max, offered) = s.offer(&h);
    let reply = |what: &'static str, e: EncodeError| {
        DecodeError::new(0, what, crate::error::DecodeErrorKind::Reply(e.to_string()))
    };
    match negotiate(ours, (min, max), s.highest()) {
        Some(version) => {
            let features = offered & features;
            s.write_accept(version, features, out)
                .map_err(|e| reply("accept", e))?;
            Ok(HandshakeEvent::Done(Negotiated { version, features }))
        }
        None => {
            s.write_reject(ours, out).map_err(|e| reply("reject", e))?;
            Ok(HandshakeEvent::Rejected { min, max })
        }
    }
}

/// What a connection's first bytes say about a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// These bytes are this protocol's.
    Match,
    /// They are not.
    NoMatch,
    /// At least this many bytes are needed to tell.
    NeedMore(usize),
}

/// Recognises a protocol from the first bytes of a connection (`detect` hints).
pub trait Detector: Send + Sync + 'static {
    /// Looks at the first bytes; never blocks.
    fn detect(&self, first: &[u8]) -> Detection;
}

/// A protocol the runtime can serve and call.
pub trait Protocol: Send + Sync + 'static {
    /// The frame type.
    type Frame: RemotingFrame;
    /// The codec.
    type Codec: Codec<Frame = Self::Frame> + Clone + Send + Sync + 'static;

    /// The protocol id (`"polywire-native"`).
    fn id(&self) -> &'static str;

    /// A new codec with the protocol's limits (a protocol loaded at run time holds what
    /// its codec needs, so there is no `Default` to fall back on).
    fn codec(&self) -> Self::Codec;

    /// An empty request frame for `code` (the client fills in the rest).
    fn request(&self, code: i64) -> Self::Frame;

    /// The response to a request with `request_code` for an outcome the runtime decides (no
    /// processor, overload, processor failure), carrying `status` and a human-readable
    /// `message` where the protocol has a place for it. The runtime sets the correlation id
    /// and kind.
    fn error_response(&self, request_code: i64, status: ErrorStatus, message: &str) -> Self::Frame;

    /// The version negotiation, if the protocol has one.
    fn handshake(&self) -> Option<&dyn Handshake> {
        None
    }

    /// The detector for shared ports.
    fn detector(&self) -> Option<&dyn Detector> {
        None
    }

    /// Whether `code` is one of the protocol's response statuses (its `responses` enum;
    /// every code when it declares none). A handler's [`Status`] outside them is answered
    /// as a system error.
    fn is_status(&self, code: i64) -> bool {
        let _ = code;
        true
    }

    /// A response carrying status `status` and `message` (a handler's [`Status`]): the
    /// system-error response with its code set to `status`, and `message` where the frame
    /// keeps its message.
    fn status_response(&self, request_code: i64, status: i64, message: &str) -> Self::Frame {
        let mut f = self.error_response(request_code, ErrorStatus::SystemError, message);
        f.set_code(status);
        f
    }

    /// The text a response carries (its `@message` field), if it has one and it is not
    /// empty.
    fn message(&self, response: &Self::Frame) -> Option<String> {
        let _ = response;
        None
    }

    /// True when a response's code means success.
    fn is_success(&self, response: &Self::Frame) -> bool;
}

/// A handler's answer that is a status of the protocol's `responses` and a message rather
/// than a response: return it as the handler's error (`Err(Status::new(4, "no such
/// key").into())`) and the caller's typed client gets `RemotingError::Remote` with both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The status code (a value of the protocol's `responses`).
    pub code: i64,
    /// What went wrong, for the caller.
    pub message: String,
}

impl Status {
    /// Status `code` with `message`.
    pub fn new(code: impl Into<i64>, message: impl Into<String>) -> Status {
        Status {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status {}: {}", self.code, self.message)
    }
}

impl std::error::Error for Status {}

/// Outcomes the runtime answers on a processor's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStatus {
    /// No processor handles the request code.
    NotSupported,
    /// The processor failed or the server is shutting down.
    SystemError,
    /// Too many requests in flight.
    Busy,
}

impl ErrorStatus {
    /// The one of three values that belongs to this outcome (a protocol's status code for
    /// each, say).
    #[inline]
    pub fn pick<T>(self, not_supported: T, system_error: T, busy: T) -> T {
        match self {
            ErrorStatus::NotSupported => not_supported,
            ErrorStatus::SystemError => system_error,
            ErrorStatus::Busy => busy,
        }
    }
}

/// The text of the response the runtime answers for an outcome ([`ErrorStatus`]): the
/// protocol's template for its status when it declares one (`{code}` in it standing for
/// `request_code`), else the runtime's `message`.
pub fn status_text<'a>(
    template: Option<&'static str>,
    request_code: i64,
    message: &'a str,
) -> std::borrow::Cow<'a, str> {
    match template {
        Some(t) if t.contains("{code}") => {
            std::borrow::Cow::Owned(t.replacen("{code}", &request_code.to_string(), 1))
        }
        Some(t) => std::borrow::Cow::Borrowed(t),
        None => std::borrow::Cow::Borrowed(message),
    }
}

/// Detects by fixed bytes at offsets (the `detect { prefix ... }` hints).
#[derive(Debug, Clone, Copy)]
pub struct PrefixDetector(pub &'static [(usize, &'static [u8])]);

impl Detector for PrefixDetector {
    fn detect(&self, first: &[u8]) -> Detection {
        let mut need = 0;
        for (at, bytes) in self.0 {
            let end = at + bytes.len();
            let have = first.len().min(end);
            if have > *at && first[*at..have] != bytes[..have - at] {
                return Detection::NoMatch;
            }
            need = need.max(end);
        }
        if first.len() < need {
            Detection::NeedMore(need)
        } else {
            Detection::Match
        }
    }
}

/// Detects by alternatives, each a set of fixed bytes at offsets (`detect { .. } or { .. }`):
/// a match when all of one alternative's bytes are there.
#[derive(Debug, Clone, Copy)]
pub struct AnyPrefix(pub &'static [&'static [(usize, &'static [u8])]]);

impl Detector for AnyPrefix {
    fn detect(&self, first: &[u8]) -> Detection {
        detect_any(
            self.0.iter().map(|alt| alt.iter().map(|(at, b)| (*at, *b))),
            first,
        )
    }
}

/// [`AnyPrefix`]'s rule over rules held any way (a protocol loaded at run time holds its
/// own): any one set of `(offset, bytes)` rules, each holding, matches; "need more" while a
/// set is still undecided.
pub fn detect_any<'a, A, R>(alts: A, first: &[u8]) -> Detection
where
    A: IntoIterator<Item = R>,
    R: IntoIterator<Item = (usize, &'a [u8])>,
{
    let mut need: Option<usize> = None;
    for alt in alts {
        let mut n = 0;
        let mut no = false;
        for (at, bytes) in alt {
            let end = at + bytes.len();
            let have = first.len().min(end);
            if have > at && first[at..have] != bytes[..have - at] {
                no = true;
                break;
            }
            n = n.max(end);
        }
        if no {
            continue;
        }
        if first.len() >= n {
            return Detection::Match;
        }
        need = Some(need.map_or(n, |m| m.min(n)));
    }
    need.map_or(Detection::NoMatch, Detection::NeedMore)
}

/// The version both sides speak: the highest (or lowest) in the overlap of the two ranges.
pub fn negotiate(ours: (u32, u32), theirs: (u32, u32), highest: bool) -> Option<u32> {
    let lo = ours.0.max(theirs.0);
    let hi = ours.1.min(theirs.1);
    (lo <= hi).then_some(if highest { hi } else { lo })
}

/// Decodes one message from the front of a buffer that may hold only part of it (for
/// handshake messages, which have no frame length): `Ok(None)` when more bytes are needed,
/// consuming nothing; on success the message's bytes are removed.
pub fn decode_partial<M: crate::codec::WireMessage>(
    buf: &mut BytesMut,
    limits: crate::wire::Limits,
) -> Result<Option<M>, DecodeError> {
    decode_partial_with(buf, limits, M::decode_from)
}

/// [`decode_partial`] with the message read by `decode` (a message known only at run
/// time, say).
pub fn decode_partial_with<M>(
    buf: &mut BytesMut,
    limits: crate::wire::Limits,
    decode: impl FnOnce(&mut crate::wire::Reader<'_>) -> Result<M, DecodeError>,
) -> Result<Option<M>, DecodeError> {
    let bytes = bytes::Bytes::copy_from_slice(&buf[..buf.len().min(limits.max_frame_len)]);
    let mut r = crate::wire::Reader::new(&bytes, limits);
    match decode(&mut r) {
        Ok(m) => {
            let used = r.offset();
            let _ = buf.split_to(used);
            Ok(Some(m))
        }
        Err(e)
            if matches!(e.kind, crate::error::DecodeErrorKind::Truncated { .. })
                && buf.len() < limits.max_frame_len =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_within_the_overlap() {
        assert_eq!(negotiate((1, 3), (2, 5), true), Some(3));
        assert_eq!(negotiate((1, 3), (2, 5), false), Some(2));
        assert_eq!(negotiate((1, 1), (2, 5), true), None);
        assert_eq!(negotiate((4, 9), (1, 4), true), Some(4));
    }

    #[test]
    fn any_prefix_matches_one_alternative_and_waits_for_the_undecided() {
        // RocketMQ's two header encodings: JSON (`{` after the header length) or binary.
        let d = AnyPrefix(&[&[(0, &[0]), (4, &[0]), (8, b"{")], &[(0, &[0]), (4, &[1])]]);
        assert_eq!(d.detect(b""), Detection::NeedMore(5));
        assert_eq!(d.detect(b"\0\0\0\x20\x01"), Detection::Match);
        assert_eq!(d.detect(b"\0\0\0\x20\0\0\0"), Detection::NeedMore(9));
        assert_eq!(d.detect(b"\0\0\0\x20\0\0\0\x10{"), Detection::Match);
        assert_eq!(d.detect(b"\0\0\0\x20\0\0\0\x10["), Detection::NoMatch);
        assert_eq!(d.detect(b"\0\0\0\x20\x02"), Detection::NoMatch);
        assert_eq!(d.detect(b"PWNH\x01"), Detection::NoMatch);
        assert_eq!(AnyPrefix(&[]).detect(b"x"), Detection::NoMatch);
    }

    #[test]
    fn error_statuses_pick_their_code_and_text() {
        for (status, code) in [
            (ErrorStatus::NotSupported, 2),
            (ErrorStatus::SystemError, 1),
            (ErrorStatus::Busy, 3),
        ] {
            assert_eq!(status.pick(2, 1, 3), code);
        }
        assert_eq!(status_text(None, 7, "failed"), "failed");
        assert_eq!(status_text(Some("busy"), 7, "failed"), "busy");
        assert_eq!(
            status_text(Some("request {code} not supported"), 17, "x"),
            "request 17 not supported"
        );
        assert_eq!(FrameKind::of(true, true), FrameKind::Response);
        assert_eq!(FrameKind::of(false, true), FrameKind::Oneway);
        assert_eq!(FrameKind::of(false, false), FrameKind::Request);
    }

    #[test]
    fn prefix_detector_needs_then_matches() {
        let d = PrefixDetector(&[(0, b"PWNH")]);
        assert_eq!(d.detect(b""), Detection::NeedMore(4));
        assert_eq!(d.detect(b"PW"), Detection::NeedMore(4));
        assert_eq!(d.detect(b"PX"), Detection::NoMatch);
        assert_eq!(d.detect(b"PWNH\x01"), Detection::Match);
    }
}
