//! The sans-IO codec traits that generated protocols implement.
//!
//! No I/O and no clock here: a codec turns bytes into frames and frames into bytes, so
//! it can be unit-tested, fuzzed and driven by any transport.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Limits, Reader};
use bytes::BytesMut;

/// A message with a binary wire layout (generated for every `struct` and `frame`).
pub trait WireMessage: Sized {
    /// Reads one message from `r`, which holds complete data (running out is an error).
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Appends the message's bytes to `dst`.
    fn encode_to(&self, dst: &mut BytesMut) -> Result<(), EncodeError>;
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

    /// Appends one encoded frame to `dst`.
    fn encode(&mut self, frame: &Self::Frame, dst: &mut BytesMut) -> Result<(), EncodeError>;

    /// The limits this codec enforces.
    fn limits(&self) -> &Limits;
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

/// Implemented by generated enums: conversion to and from wire values and declared names.
pub trait WireEnum: Copy + Sized {
    /// The declared name (`None` for an unknown value kept by an open enum).
    fn wire_name(self) -> Option<&'static str>;
    /// The variant with a declared name.
    fn from_wire_name(name: &str) -> Option<Self>;
    /// The wire value, widened.
    fn wire_value(self) -> i64;
    /// The variant for a wire value (`None` if a closed enum has no such variant or the value
    /// does not fit the representation).
    fn from_wire_value(v: i64) -> Option<Self>;
}
