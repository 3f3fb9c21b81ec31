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
pub use error::{
    DecodeError, DecodeErrorDetail, DecodeErrorKind, DecodeResult, EncodeError, EncodeResult,
};
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

/// The methods of a bit-flags type, a tuple struct over its integer representation
/// (`pub struct Flags(pub u8);`, with its bits as associated constants): what generated
/// code writes for a `flags` type, one line after its definition.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
/// pub struct Perms(pub u8);
/// impl Perms {
///     pub const READ: Self = Self(1 << 0);
///     pub const WRITE: Self = Self(1 << 1);
/// }
/// polywire_core::impl_flags!(Perms, u8);
///
/// let mut p = Perms::READ | Perms::WRITE;
/// assert!(p.contains(Perms::WRITE) && p.bits() == 3);
/// p.remove(Perms::READ);
/// assert_eq!(p, Perms::from_bits(2));
/// p.set(Perms::READ, true);
/// assert!(p.contains(Perms::READ | Perms::WRITE) && !Perms::empty().contains(Perms::READ));
/// ```
#[macro_export]
macro_rules! impl_flags {
    ($name:ident, $repr:ty) => {
        impl $name {
            /// No bit set.
            pub const fn empty() -> Self {
                Self(0)
            }

            /// From the raw value; unknown bits are kept.
            #[inline]
            pub const fn from_bits(bits: $repr) -> Self {
                Self(bits)
            }

            /// The raw value.
            #[inline]
            pub const fn bits(self) -> $repr {
                self.0
            }

            /// True when every bit of `other` is set.
            #[inline]
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Sets the bits of `other`.
            #[inline]
            pub fn insert(&mut self, other: Self) {
                self.0 |= other.0;
            }

            /// Clears the bits of `other`.
            #[inline]
            pub fn remove(&mut self, other: Self) {
                self.0 &= !other.0;
            }

            /// Sets the bits of `other` when `on`, else clears them.
            #[inline]
            pub fn set(&mut self, other: Self, on: bool) {
                if on {
                    self.insert(other)
                } else {
                    self.remove(other)
                }
            }
        }

        impl ::std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }
    };
}

/// The [`WireEnum`] impl of an enum with the inherent `const fn`s a generated enum has
/// (`from_repr`, `to_repr`, `name`) and `from_name`: what generated code writes for an
/// `enum` or `responses` type, one line after its methods. `open` for an enum that keeps
/// unknown values (its `from_repr` gives `Self`), `closed` for one that does not (`Option`).
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// pub enum Level { Low, High }
/// impl Level {
///     pub const fn from_repr(v: u8) -> Option<Self> {
///         match v { 1 => Some(Level::Low), 2 => Some(Level::High), _ => None }
///     }
///     pub const fn to_repr(self) -> u8 {
///         match self { Level::Low => 1, Level::High => 2 }
///     }
///     pub const fn name(self) -> Option<&'static str> {
///         match self { Level::Low => Some("LOW"), Level::High => Some("HIGH") }
///     }
///     pub fn from_name(name: &str) -> Option<Self> {
///         match name { "LOW" => Some(Level::Low), "HIGH" => Some(Level::High), _ => None }
///     }
/// }
/// polywire_core::impl_wire_enum!(Level, u8, closed);
///
/// use polywire_core::WireEnum;
/// assert_eq!(Level::from_wire_value(2), Some(Level::High));
/// assert_eq!(Level::from_wire_value(300), None);
/// assert_eq!((Level::Low.wire_value(), Level::Low.wire_name()), (1, Some("LOW")));
/// ```
#[macro_export]
macro_rules! impl_wire_enum {
    ($name:ident, $repr:ty, open) => {
        $crate::impl_wire_enum!(@impl $name, $repr, |v| ::std::option::Option::Some($name::from_repr(v)));
    };
    ($name:ident, $repr:ty, closed) => {
        $crate::impl_wire_enum!(@impl $name, $repr, $name::from_repr);
    };
    (@impl $name:ident, $repr:ty, $from:expr) => {
        impl $crate::WireEnum for $name {
            const WIRE_U64: bool = <$repr as $crate::codec::WireRepr>::U64;

            fn wire_name(self) -> ::std::option::Option<&'static str> {
                self.name()
            }

            fn from_wire_name(name: &str) -> ::std::option::Option<Self> {
                Self::from_name(name)
            }

            fn wire_value(self) -> i64 {
                $crate::codec::WireRepr::to_wire(self.to_repr())
            }

            fn from_wire_value(v: i64) -> ::std::option::Option<Self> {
                <$repr as $crate::codec::WireRepr>::from_wire(v).and_then($from)
            }
        }
    };
}

/// What generated codecs name. Not a stable API for hand-written code.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{
        Codec, FrameKind, Framed, FramedCodec, SessionCodec, WireEnum, WireMessage,
    };
    pub use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError, EncodeResult};
    pub use crate::exchange::{Exchange, Expect, Failure, Status};
    pub use crate::json::{
        enum_by_name, enum_by_number, from_json, json_len, json_present, to_json,
    };
    pub use crate::protocol::*;
    pub use crate::types::{OrderedMap, Str};
    pub use crate::wire::*;
    pub use crate::{impl_flags, impl_wire_enum};
    pub use bytes::{self, Buf, BufMut, Bytes, BytesMut};
    pub use serde;
    pub use serde_json;
}
