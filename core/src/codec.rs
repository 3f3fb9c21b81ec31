//! The sans-IO codec traits that generated protocols implement.
//!
//! No I/O and no clock here: a codec turns bytes into frames and frames into bytes, so
//! it can be unit-tested, fuzzed and driven by any transport.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Limits, Reader, Sender, Writer, check_max};
use bytes::{Bytes, BytesMut};

/// A message with a binary wire layout (generated for every `struct` and `frame`).
pub trait WireMessage: Sized {
    /// Reads one message from `r`, which holds complete data (running out is an error).
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Writes the message's bytes through `w` (generated; nested messages call it with
    /// their parent's writer).
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), EncodeError>;

    /// Appends the message's bytes to `dst`. On error `dst` is left as it was.
    fn encode_to(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode_versioned(dst, 0)
    }

    /// [`encode_to`](WireMessage::encode_to) with protocol version `version` in effect
    /// (what `if @version ...` conditions read).
    fn encode_versioned(&self, dst: &mut BytesMut, version: u32) -> Result<(), EncodeError> {
        let start = dst.len();
        let mut w = Writer::new(dst).with_version(version);
        match self.write_to(&mut w) {
            Ok(()) => {
                w.finish();
                Ok(())
            }
            Err(e) => {
                // Bytes committed while the buffer grew are taken back (the writer's borrow
                // of `dst` ends here, unfinished).
                dst.truncate(start);
                Err(e)
            }
        }
    }
}

/// A boxed message has its message's layout (generated types box their tagged lists).
impl<T: WireMessage> WireMessage for Box<T> {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        T::decode_from(r).map(Box::new)
    }

    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (**self).write_to(w)
    }
}

/// A frame codec over a byte buffer, in the shape of `tokio_util::codec`.
///
/// `decode` returns `Ok(None)` when `src` does not yet hold a whole frame, and then
/// consumes nothing. A frame larger than [`Limits::max_frame_len`] is rejected as soon as
/// its length is known, before it is buffered.
pub trait Codec {
    /// The frame type.
    type Frame;

    /// Decodes one frame from the front of `src`, removing its bytes.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Frame>, DecodeError>;

    /// Decodes up to `max` complete frames from the front of `src`, handing each to `f` in
    /// order, and returns how many (0 when `src` does not yet hold a whole frame).
    ///
    /// Generated codecs find the frames' boundaries first and take all of them out of `src`
    /// in one piece, so the frames' payloads share one buffer (one split per call, not one
    /// per frame). A frame that does not decode ends the batch: the frames before it have
    /// been handed to `f` when the error is returned.
    fn decode_batch<F: FnMut(Self::Frame)>(
        &mut self,
        src: &mut BytesMut,
        max: usize,
        mut f: F,
    ) -> Result<usize, DecodeError>
    where
        Self: Sized,
    {
        let mut n = 0;
        while n < max {
            match self.decode(src) {
                Ok(Some(frame)) => f(frame),
                Ok(None) => break,
                Err(e) => return Err(e),
            }
            n += 1;
        }
        Ok(n)
    }

    /// The length of the frame at the front of `buf` once its length is known (`Ok(None)`
    /// before that); an error for a frame over the limit. Message transports (WebSocket,
    /// HTTP/2) cut a stream of encoded frames into one message per frame with it.
    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError>;

    /// Appends one encoded frame to `dst`.
    fn encode(&mut self, frame: &Self::Frame, dst: &mut BytesMut) -> Result<(), EncodeError>;

    /// The limits this codec enforces.
    fn limits(&self) -> &Limits;

    /// Sets the protocol version in effect for the frames decoded and encoded from now on
    /// (what a negotiation agreed; layouts with `if @version ...` depend on it). Codecs
    /// whose layouts do not depend on it ignore it.
    fn set_version(&mut self, version: u32) {
        let _ = version;
    }
}

/// The most a [`FramedCodec`] reserves ahead of the bytes it has for a frame it knows the
/// length of; larger frames grow their buffer as their bytes arrive.
pub const RESERVE_AHEAD: usize = 64 * 1024;

/// A frame type whose boundaries its own leading fields give: what the generated code
/// implements for a protocol's frame, and all [`FramedCodec`] needs.
pub trait Framed: WireMessage {
    /// The frame's name, for the paths of decode errors.
    const NAME: &'static str;
    /// The limits the protocol declares.
    const LIMITS: Limits;
    /// The frame has no length prefix: only reading it whole finds its end (text frames
    /// such as RESP's). [`FramedCodec`] then reads frames in one pass over the bytes
    /// received, instead of measuring each one first.
    const SELF_DELIMITED: bool = false;

    /// The length of the frame at the front of `buf`, once its length field has arrived
    /// (`Ok(None)` before that); an error for a frame over `limits.max_frame_len`, as soon
    /// as its length is known.
    fn frame_len(buf: &[u8], limits: &Limits) -> Result<Option<usize>, DecodeError>;

    /// [`Framed::frame_len`] of bytes `sender` sent (`None`: unknown), for frames whose
    /// members depend on the side that sends them; the others ignore it.
    fn frame_len_from(
        buf: &[u8],
        limits: &Limits,
        sender: Option<Sender>,
    ) -> Result<Option<usize>, DecodeError> {
        let _ = sender;
        Self::frame_len(buf, limits)
    }
}

/// The sans-IO codec of any [`Framed`] frame: finds frame boundaries, enforces the limits
/// and decodes without copying payloads. Generated protocols name it
/// `pub type FrameCodec = FramedCodec<Frame>`.
pub struct FramedCodec<F> {
    /// Limits enforced while decoding.
    pub limits: Limits,
    /// The protocol version in effect (0 until one is agreed), which `if @version ...`
    /// layouts read.
    pub version: u32,
    /// The side that sends what this codec decodes (`None`: unknown), which frames with
    /// members `from client` / `from server` read; the others ignore it.
    pub sender: Option<Sender>,
    frame: std::marker::PhantomData<fn() -> F>,
}

impl<F: Framed> FramedCodec<F> {
    /// A codec with the protocol's declared limits.
    pub fn new() -> Self {
        Self::with_limits(F::LIMITS)
    }

    /// A codec with other limits.
    pub fn with_limits(limits: Limits) -> Self {
        FramedCodec {
            limits,
            version: 0,
            sender: None,
            frame: std::marker::PhantomData,
        }
    }

    /// The length of the frame at the front of `buf`, once its length field has arrived
    /// (`Ok(None)` before that). Rejects a frame over the limit as soon as its length is
    /// known.
    pub fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        F::frame_len_from(buf, &self.limits, self.sender)
    }

    /// The codec, decoding what `sender` sends.
    pub fn sent_by(mut self, sender: Sender) -> Self {
        self.sender = Some(sender);
        self
    }

    /// Reads the frame at the front of `chunk`, its values sharing `chunk`'s bytes: the frame
    /// and its length, `Ok(None)` when `chunk` ends inside it. One pass, for callers that
    /// keep received bytes frozen (a session reading a batch of self-delimited frames one
    /// at a time).
    pub fn decode_shared(&self, chunk: &Bytes) -> Result<Option<(F, usize)>, DecodeError> {
        self.reading().shared(chunk, F::decode_from)
    }

    /// What reading this codec's frames needs, for the rules shared with other codecs.
    #[inline]
    fn reading(&self) -> FrameReading {
        FrameReading {
            limits: self.limits,
            version: self.version,
            sender: self.sender,
            name: F::NAME,
        }
    }
}

/// The rules every frame codec follows, generated ([`FramedCodec`]) or interpreted at run
/// time, with the frame read by a function: boundaries found before frames are read,
/// self-delimited frames read in one pass, the frame limit, errors under the frame's name.
#[derive(Debug, Clone, Copy)]
pub struct FrameReading {
    /// Limits in force.
    pub limits: Limits,
    /// The protocol version in effect.
    pub version: u32,
    /// The side whose bytes are read.
    pub sender: Option<Sender>,
    /// The frame's name, first in error paths.
    pub name: &'static str,
}

impl FrameReading {
    /// Reads the frame at the front of `chunk` with `decode` in one pass over an open-ended
    /// reader: the frame and its length, `Ok(None)` when `chunk` ends inside it (see
    /// [`FramedCodec::decode_shared`]).
    #[inline]
    pub fn shared<F>(
        &self,
        chunk: &Bytes,
        decode: impl FnOnce(&mut Reader<'_>) -> Result<F, DecodeError>,
    ) -> Result<Option<(F, usize)>, DecodeError> {
        if chunk.is_empty() {
            return Ok(None);
        }
        let limit = self.limits.max_frame_len as u64;
        let mut r = Reader::within(chunk, 0..chunk.len(), self.limits)
            .open_ended()
            .with_version(self.version)
            .with_sender(self.sender);
        match decode(&mut r) {
            Ok(frame) => {
                check_max(r.offset(), limit, 0, self.name)?;
                Ok(Some((frame, r.offset())))
            }
            Err(e) if e.kind == crate::error::DecodeErrorKind::Incomplete => {
                check_max(chunk.len(), limit, 0, self.name)?;
                Ok(None)
            }
            Err(e) => Err(e.within(self.name)),
        }
    }

    /// [`Codec::decode_batch`] of frames without a length prefix: each is read once, over
    /// the bytes received so far; one cut short by their end ("need more") is left in
    /// `src` whole, to be read again when more has come. The frames read share `src`'s
    /// bytes; what is left of them moves to a buffer of its own only when a frame still
    /// holds the old one.
    pub fn delimited<F>(
        &self,
        src: &mut BytesMut,
        max: usize,
        mut decode: impl FnMut(&mut Reader<'_>) -> Result<F, DecodeError>,
        mut f: impl FnMut(F),
    ) -> Result<usize, DecodeError> {
        if src.is_empty() {
            return Ok(0);
        }
        let chunk = src.split().freeze();
        let (mut start, mut n, mut err) = (0usize, 0usize, None);
        while n < max && start < chunk.len() {
            match self.shared(&chunk.slice(start..), &mut decode) {
                Ok(Some((frame, len))) => {
                    f(frame);
                    start += len;
                    n += 1;
                }
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        let rest = chunk.slice(start..);
        drop(chunk);
        *src = match rest.try_into_mut() {
            Ok(m) => m,
            // Frames handed over still hold the buffer: the rest (a frame cut short, or
            // frames beyond `max`) moves.
            Err(b) => BytesMut::from(&b[..]),
        };
        match err {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    /// [`Codec::decode_batch`] of frames whose length `frame_len` finds: the complete
    /// frames' boundaries first (up to 64 per call), so that they leave `src` in one piece,
    /// then each frame read whole with `decode`. An error in a later frame's prefix waits
    /// until the frames before it are handed over.
    #[inline]
    pub fn framed<F>(
        &self,
        src: &mut BytesMut,
        max: usize,
        frame_len: impl Fn(&[u8]) -> Result<Option<usize>, DecodeError>,
        mut decode: impl FnMut(&mut Reader<'_>) -> Result<F, DecodeError>,
        mut f: impl FnMut(F),
    ) -> Result<usize, DecodeError> {
        let mut ends = [0usize; 64];
        let (mut n, mut end, mut err) = (0usize, 0usize, None);
        while n < max.min(ends.len()) {
            match frame_len(&src[end..]) {
                Ok(Some(total)) if src.len() - end >= total => {
                    end += total;
                    ends[n] = end;
                    n += 1;
                }
                Ok(Some(total)) => {
                    // Room for the rest of a frame that is short, but no more than
                    // `RESERVE_AHEAD` beyond what has arrived: a peer announcing a large
                    // frame does not make the buffer grow before its bytes come.
                    if n == 0 {
                        src.reserve((total - src.len()).min(RESERVE_AHEAD));
                    }
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        if n == 0 {
            return match err {
                Some(e) => Err(e),
                None => Ok(0),
            };
        }
        let chunk = src.split_to(end).freeze();
        let mut start = 0;
        for &end in &ends[..n] {
            let mut r = Reader::within(&chunk, start..end, self.limits)
                .with_version(self.version)
                .with_sender(self.sender);
            let frame = decode(&mut r).map_err(|e| e.within(self.name))?;
            r.finish(self.name)?;
            f(frame);
            start = end;
        }
        match err {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    /// Writes a frame with `encode` at the end of `dst` and checks it against the frame
    /// limit; on any error `dst` is left as it was.
    pub fn encode(
        &self,
        dst: &mut BytesMut,
        encode: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = dst.len();
        encode(dst)?;
        if let Err(e) = crate::wire::check_encode_len(
            dst.len() - start,
            self.limits.max_frame_len as u64,
            self.name,
        ) {
            // A frame over the limit must not leave its bytes behind.
            dst.truncate(start);
            return Err(e);
        }
        Ok(())
    }
}

impl<F: Framed> Default for FramedCodec<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F> Clone for FramedCodec<F> {
    fn clone(&self) -> Self {
        FramedCodec {
            limits: self.limits,
            version: self.version,
            sender: self.sender,
            frame: std::marker::PhantomData,
        }
    }
}

impl<F> std::fmt::Debug for FramedCodec<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FramedCodec")
            .field("frame", &std::any::type_name::<F>())
            .field("limits", &self.limits)
            .field("version", &self.version)
            .field("sender", &self.sender)
            .finish()
    }
}

impl<F: Framed> Codec for FramedCodec<F> {
    type Frame = F;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<F>, DecodeError> {
        let mut frame = None;
        self.decode_batch(src, 1, |f| frame = Some(f))?;
        Ok(frame)
    }

    fn decode_batch<G: FnMut(F)>(
        &mut self,
        src: &mut BytesMut,
        max: usize,
        f: G,
    ) -> Result<usize, DecodeError> {
        // One frame at a time is measured and split off (what is left stays in `src`'s
        // allocation); a batch of self-delimited frames is read in one pass.
        let reading = self.reading();
        if F::SELF_DELIMITED && max > 1 {
            return reading.delimited(src, max, F::decode_from, f);
        }
        reading.framed(
            src,
            max,
            |buf| F::frame_len_from(buf, &self.limits, self.sender),
            F::decode_from,
            f,
        )
    }

    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        F::frame_len_from(buf, &self.limits, self.sender)
    }

    fn encode(&mut self, frame: &F, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let version = self.version;
        self.reading()
            .encode(dst, |dst| frame.encode_versioned(dst, version))
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn set_version(&mut self, version: u32) {
        self.version = version;
    }
}

/// A [`Codec`] a connection's exchange reads and writes its frames with (a
/// `MessageSession`): it also knows which side sends what it decodes, and reads
/// self-delimited frames from shared bytes in one pass.
pub trait SessionCodec: Codec + Clone + Send + Sync + 'static {
    /// Sets the side that sends what this codec decodes (`None`: unknown).
    fn set_sender(&mut self, sender: Option<Sender>);

    /// Whether frames have no length prefix, so that only reading one whole finds its end
    /// (see [`Framed::SELF_DELIMITED`]): a session then reads them with
    /// [`Self::decode_shared`].
    fn self_delimited(&self) -> bool;

    /// Reads the frame at the front of `chunk`, its values sharing `chunk`'s bytes: the
    /// frame and its length, `Ok(None)` when `chunk` ends inside it (see
    /// [`FramedCodec::decode_shared`]).
    fn decode_shared(&self, chunk: &Bytes) -> Result<Option<(Self::Frame, usize)>, DecodeError>;
}

impl<F: Framed + Send + Sync + 'static> SessionCodec for FramedCodec<F> {
    #[inline]
    fn set_sender(&mut self, sender: Option<Sender>) {
        self.sender = sender;
    }

    #[inline]
    fn self_delimited(&self) -> bool {
        F::SELF_DELIMITED
    }

    #[inline]
    fn decode_shared(&self, chunk: &Bytes) -> Result<Option<(F, usize)>, DecodeError> {
        FramedCodec::decode_shared(self, chunk)
    }
}

/// What a frame is, from its `@kind` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// A request that expects a response.
    Request,
    /// A response to a request with the same correlation id.
    Response,
    /// A request without a response.
    Oneway,
}

impl FrameKind {
    /// The kind a frame's `@kind` flags say: a response when its response bit is set, else
    /// oneway when its oneway bit is, else a request.
    #[inline]
    pub const fn of(response: bool, oneway: bool) -> FrameKind {
        if response {
            FrameKind::Response
        } else if oneway {
            FrameKind::Oneway
        } else {
            FrameKind::Request
        }
    }
}

/// An integer type that represents an enum on the wire, widened to the `i64` of
/// [`WireEnum`] and narrowed back ([`impl_wire_enum!`](crate::impl_wire_enum) uses it).
pub trait WireRepr: Copy {
    /// `u64`: widened, a value keeps its bit pattern (see [`WireEnum::WIRE_U64`]).
    const U64: bool = false;
    /// The value as i64.
    fn to_wire(self) -> i64;
    /// The value of `v`, if it fits.
    fn from_wire(v: i64) -> Option<Self>;
}

macro_rules! wire_repr {
    ($($t:ty),*) => {$(
        impl WireRepr for $t {
            #[inline]
            fn to_wire(self) -> i64 {
                i64::from(self)
            }
            #[inline]
            fn from_wire(v: i64) -> Option<Self> {
                Self::try_from(v).ok()
            }
        }
    )*};
}
wire_repr!(u8, u16, u32, i8, i16, i32);

impl WireRepr for i64 {
    #[inline]
    fn to_wire(self) -> i64 {
        self
    }
    #[inline]
    fn from_wire(v: i64) -> Option<Self> {
        Some(v)
    }
}

impl WireRepr for u64 {
    const U64: bool = true;
    #[inline]
    fn to_wire(self) -> i64 {
        self as i64
    }
    #[inline]
    fn from_wire(v: i64) -> Option<Self> {
        Some(v as u64)
    }
}

/// Implemented by generated enums: conversion to and from wire values and declared names.
pub trait WireEnum: Copy + Sized {
    /// The declared name (`None` for an unknown value kept by an open enum).
    fn wire_name(self) -> Option<&'static str>;
    /// The variant with a declared name.
    fn from_wire_name(name: &str) -> Option<Self>;
    /// True when the representation is `u64`: [`wire_value`](Self::wire_value) is then the
    /// value's bit pattern (`u64::MAX` is `-1`), and JSON writes and reads the `u64` it is.
    const WIRE_U64: bool = false;
    /// The wire value, widened (for a `u64` representation, its bit pattern).
    fn wire_value(self) -> i64;
    /// The variant for a wire value (`None` if a closed enum has no such variant or the value
    /// does not fit the representation; for a `u64` representation, `v` is the bit pattern).
    fn from_wire_value(v: i64) -> Option<Self>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;

    /// Writes `n` bytes, then fails (as a field over its maximum would).
    struct FailsAfter(u8);

    impl WireMessage for FailsAfter {
        fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Err(r.error("FailsAfter", DecodeErrorKind::MissingField))
        }

        fn write_to(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
            let mut c = w.cursor();
            for i in 0..self.0 {
                c.put_u8(i);
            }
            Err(EncodeError::TooLong {
                path: "last",
                len: 2,
                max: 1,
            })
        }
    }

    #[test]
    fn a_failed_encode_leaves_the_buffer_as_it_was_even_after_it_grew() {
        for n in [0, 1, 5, 100, 255] {
            // Full already: every write past the first few makes the buffer grow, which
            // commits what was written so far.
            let mut dst = BytesMut::with_capacity(4);
            dst.extend_from_slice(b"kept");
            assert!(FailsAfter(n).encode_to(&mut dst).is_err());
            assert_eq!(&dst[..], b"kept", "after {n} bytes");
        }
    }
}
