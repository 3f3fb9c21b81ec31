//! # polywire-core
//!
//! The sans-IO part of polywire: what a generated codec compiles against, with no async
//! runtime underneath (its only dependencies are `bytes`, `serde`, `serde_json` and
//! `thiserror`).
//!
//! It holds the wire primitives ([`wire`]), the codec traits ([`Codec`], [`WireMessage`],
//! [`WireEnum`]), the traits a protocol implements for the remoting runtime ([`protocol`]),
//! the value types ([`Str`], [`OrderedMap`]), the error types and the JSON helpers. The
//! `polywire` crate re-exports all of it and adds the runtime (servers, clients,
//! transports).
//!
//! Code generated with `polywire_codegen::configure().codecs_only(true)` names only this
//! crate:
//!
//! ```toml
//! [dependencies]
//! polywire-core = "0.1"
//! [build-dependencies]
//! polywire-codegen = "0.1"
//! ```
//!
//! ```ignore
//! // build.rs
//! fn main() {
//!     polywire_codegen::configure().codecs_only(true).compile(&["wire/chat.wire"]).unwrap();
//! }
//! // src/lib.rs
//! polywire_core::include_protocol!("chat");
//! ```

// The audited `unsafe` blocks (`Str::as_str`, the writer's buffer length) carry their own
// `allow`; everything else is safe code.
#![deny(unsafe_code)]

pub mod codec;
pub mod error;
pub mod exchange;
pub mod json;
pub mod protocol;
pub mod types;
pub mod wire;

/// The byte buffers generated codecs read and write.
pub use bytes;
pub use codec::{
    Codec, FrameKind, FrameReading, Framed, FramedCodec, SessionCodec, WireEnum, WireMessage,
};
pub use error::{DecodeError, DecodeErrorDetail, DecodeErrorKind, EncodeError};
pub use protocol::{
    Detection, Detector, ErrorStatus, Handshake, HandshakeEvent, Negotiated, NoReject, Protocol,
    RemotingFrame, Status, VersionHandshake, detect_any,
};
pub use types::{OrderedMap, Str};
pub use wire::{Limits, Sender};

/// Includes the code that `polywire-codegen` generated for protocol `name` (the `.wire`
/// file's stem) from `OUT_DIR`.
///
/// ```ignore
/// pub mod native {
///     polywire_core::include_protocol!("native");
/// }
/// ```
#[macro_export]
macro_rules! include_protocol {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $name, ".rs"));
    };
}

/// What generated codecs name. Not a stable API for hand-written code.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{
        Codec, FrameKind, Framed, FramedCodec, SessionCodec, WireEnum, WireMessage,
    };
    pub use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
    pub use crate::exchange::{Exchange, Expect, Failure, Status};
    pub use crate::json::{
        enum_by_name, enum_by_number, from_json, json_len, json_present, to_json,
    };
    pub use crate::protocol::*;
    pub use crate::types::{OrderedMap, Str};
    pub use crate::wire::*;
    pub use bytes::{self, Buf, BufMut, Bytes, BytesMut};
    pub use serde;
    pub use serde_json;
}
