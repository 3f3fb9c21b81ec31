//! Protocols at run time: an interpreter of the polywire IR.
//!
//! A [`Schema`] is a protocol loaded from a `.wire` file (or any checked
//! [`Protocol`]) while the program runs. Its frames decode
//! into [`Value`]s, which keep the protocol's own type and field names and serialize
//! with serde, and encode back from them. The interpreter reads through the same
//! [`Reader`] as generated code and follows the emitter's
//! order of reads, so that for every input it gives the same bytes, the same limits, the
//! same "need more" and the same [`DecodeError`] (offset, field path, kind) as the codec
//! generated from the same file. The workspace's `tests/tests/dynamic_parity.rs` holds it
//! to that for every bundled protocol ([`parity::check`]).
//!
//! Beside the codec: [`DynProtocol`] serves and calls such a protocol with the runtime's
//! `RemotingServer` and `RemotingClient` (its handshake included), [`DynExchange`] carries
//! out its `exchange { .. }` block for the runtime's `MessageServer` and `MessageClient`
//! (RESP or MQTT from their `.wire` files, with handlers over [`Value`]s), [`dissector`] writes a
//! Wireshark dissector for it and [`doc`] a Markdown reference; the `polywire` command
//! uses all of them.
//!
//! ```
//! use polywire_dynamic::{DynCodec, Schema};
//! use polywire_core::Codec;
//!
//! let schema = Schema::from_str("ping.wire", r#"
//!     protocol ping "ping" {
//!         frame { length: u16 = len(..)  seq: u32  note: string<u8> }
//!     }
//! "#).unwrap();
//! let mut codec = DynCodec::new(&schema).unwrap();
//! let mut src = bytes::BytesMut::from(&b"\x00\x07\x00\x00\x00\x07\x02hi"[..]);
//! let frame = codec.decode(&mut src).unwrap().unwrap();
//! assert_eq!(frame.to_json().to_string(), r#"{"seq":7,"note":"hi"}"#);
//! ```

#![deny(unsafe_code)]

mod decode;
pub mod dissector;
pub mod doc;
mod encode;
pub mod exchange;
mod json;
mod mirror;
pub mod parity;
pub mod remoting;

use bytes::{Bytes, BytesMut};
use polywire_codegen::ir::{Protocol, TypeDef};
use polywire_core::wire::{Limits, Reader, Sender};
use polywire_core::{Codec, DecodeError, DecodeErrorKind, EncodeError, FrameReading, Str};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

pub use decode::Node;
pub use exchange::DynExchange;
pub use json::JsonError;
pub use remoting::{DynFrame, DynFrameCodec, DynProtocol};

/// A decoded value of any protocol: what the generated types hold, without their types.
///
/// Structs keep their fields in wire order under their declared names; a conditional
/// field that is absent is left out (an optional that is there but empty is [`Value::Null`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An optional value that is absent.
    Null,
    /// A bool.
    Bool(bool),
    /// An integer of any width (fixed, varint or decimal text).
    Int(i128),
    /// UTF-8 text.
    Str(Str),
    /// Raw bytes.
    Bytes(Bytes),
    /// A list.
    List(Vec<Value>),
    /// A map, in wire order.
    Map(Vec<(Value, Value)>),
    /// An enum's value, and its declared name when it has one.
    Enum {
        /// The wire value.
        value: i128,
        /// The variant's name (`None`: an open enum's unknown value).
        name: Option<&'static str>,
    },
    /// A flags value, as its representation holds it.
    Flags(i128),
    /// A struct or a tagged list: its members by name.
    Struct {
        /// The type's name.
        ty: &'static str,
        /// The fields that are there, in wire order.
        fields: Vec<(&'static str, Value)>,
    },
    /// A member of a union.
    Union {
        /// The member's type name.
        member: &'static str,
        /// Its value (a [`Value::Struct`] or, for a union of unions, a [`Value::Union`]).
        value: Box<Value>,
    },
}

impl Value {
    /// The field `name` of a struct value.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct { fields, .. } => fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v),
            Value::Union { value, .. } => value.field(name),
            _ => None,
        }
    }

    /// The integer held (an int, an enum's value or flags' bits).
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(v) | Value::Flags(v) | Value::Enum { value: v, .. } => Some(*v),
            Value::Bool(b) => Some(i128::from(*b)),
            _ => None,
        }
    }

    /// An empty string, bytes, list or map (what `@empty_is_none` reads as absent).
    fn is_empty(&self) -> bool {
        match self {
            Value::Str(s) => s.is_empty(),
            Value::Bytes(b) => b.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Map(m) => m.is_empty(),
            _ => false,
        }
    }
}

/// A protocol loaded at run time.
#[derive(Debug, Clone)]
pub struct Schema {
    ir: Protocol,
    /// What decoding and encoding ask of the protocol again and again, worked out once.
    facts: Arc<Facts>,
}

/// Properties of a protocol derived from its IR, computed when it is loaded rather than
/// for each frame.
#[derive(Debug)]
pub(crate) struct Facts {
    /// Whether a condition reads `@version` (only then do `@version` fields set it).
    pub reads_version: bool,
    /// Per type index: a union's facts.
    pub unions: Vec<Option<UnionFacts>>,
}

/// A union's facts.
#[derive(Debug)]
pub(crate) struct UnionFacts {
    /// It holds itself again: each level counts against `max_depth`.
    pub recursive: bool,
    /// Its discriminating word and each member's key (see `ir::check::union_key`).
    pub key: Option<(polywire_codegen::ir::UnionKey, Vec<u64>)>,
}

impl Facts {
    fn of(p: &Protocol) -> Facts {
        Facts {
            reads_version: polywire_codegen::emit::reads_version(p),
            unions: p
                .types
                .iter()
                .map(|t| match t {
                    TypeDef::Union(u) => Some(UnionFacts {
                        recursive: polywire_codegen::emit::union_is_recursive(p, u),
                        key: polywire_codegen::ir::check::union_key(p, u),
                    }),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// Why a schema could not be loaded or used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError(pub String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SchemaError {}

impl Schema {
    /// Loads and checks a `.wire` file and its imports. The error holds the rendered
    /// diagnostics (file:line:col and the offending text).
    pub fn load(path: impl AsRef<Path>) -> Result<Schema, SchemaError> {
        Schema::load_with(path, &[])
    }

    /// [`load`](Self::load), looking for an import that is not next to its importing file
    /// in each of the `include` folders in turn.
    pub fn load_with(
        path: impl AsRef<Path>,
        include: &[std::path::PathBuf],
    ) -> Result<Schema, SchemaError> {
        polywire_codegen::load_with(path.as_ref(), include)
            .map(|c| Schema::from_ir(c.ir))
            .map_err(|e| SchemaError(e.to_string()))
    }

    /// Parses and checks `.wire` text named `name` (imports are not resolved).
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(name: &str, text: &str) -> Result<Schema, SchemaError> {
        polywire_codegen::load_str(name, text)
            .map(|c| Schema::from_ir(c.ir))
            .map_err(|e| SchemaError(e.to_string()))
    }

    /// A schema over a protocol that has passed the checks (from either front end).
    pub fn from_ir(ir: Protocol) -> Schema {
        let facts = Arc::new(Facts::of(&ir));
        Schema { ir, facts }
    }

    /// The protocol.
    pub fn ir(&self) -> &Protocol {
        &self.ir
    }

    /// The protocol's declared limits, as the generated `protocol_info::LIMITS` holds them.
    pub fn limits(&self) -> Limits {
        let l = &self.ir.limits;
        let sat = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Limits {
            max_frame_len: sat(l.max_frame_len),
            max_string_len: sat(l.max_string_len),
            max_collection_len: sat(l.max_collection_len),
            max_line_len: sat(l.max_line_len),
            max_depth: sat(l.max_depth),
        }
    }

    /// The index of the message type `name` (a struct, union or tagged list).
    pub fn message(&self, name: &str) -> Option<usize> {
        self.ir
            .type_index(name)
            .filter(|&i| self.ir.types[i].is_message())
    }

    /// Decodes a whole message of type `ty` from `buf` (every byte must be used), as the
    /// generated type's decoder does with a reader over `buf`.
    pub fn decode_message(&self, ty: usize, buf: &Bytes) -> Result<Value, DecodeError> {
        let mut r = Reader::new(buf, self.limits());
        let v = decode::Dec::new(self).message(ty, &mut r)?;
        r.finish(self.name(ty))?;
        Ok(v)
    }

    /// Encodes `value`, a message of type `ty`, at the end of `dst` (nothing is written
    /// on error).
    pub fn encode_message(
        &self,
        ty: usize,
        value: &Value,
        version: u32,
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let start = dst.len();
        let r = encode::Enc::new(self, version).message(ty, value, dst);
        if r.is_err() {
            dst.truncate(start);
        }
        r
    }

    /// A type's name, interned.
    fn name(&self, ty: usize) -> &'static str {
        intern(self.ir.types[ty].name())
    }
}

/// Names live as long as the program: error paths and values hold `&'static str`, as
/// generated code's do. Each distinct name is stored once, however often protocols load.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(n);
    n
}

/// How a frame's extent is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// From the leading fields up to the `len(..)` (constants checked when `true`).
    Prefixed(usize, bool),
    /// By decoding tentatively (a frame without a length prefix).
    Measured,
}

/// The sans-IO codec of a protocol's frames, interpreted: the same boundaries, limits and
/// errors as the generated `FramedCodec`.
#[derive(Debug, Clone)]
pub struct DynCodec {
    schema: Arc<Schema>,
    ty: usize,
    framing: Framing,
    /// Limits in force (the protocol's by default).
    pub limits: Limits,
    /// The protocol version in effect.
    pub version: u32,
    /// The side whose bytes are read, for unions of the two directions.
    pub sender: Option<Sender>,
}

impl DynCodec {
    /// The codec of the protocol's frame.
    pub fn new(schema: &Schema) -> Result<DynCodec, SchemaError> {
        let ty = schema.ir.frame.ok_or_else(|| {
            SchemaError(format!("protocol `{}` declares no frame", schema.ir.name))
        })?;
        Self::for_type(schema, ty)
    }

    /// The codec of message type `name` read as a frame of its own (a direction of a
    /// union of the two, `Command`).
    pub fn for_message(schema: &Schema, name: &str) -> Result<DynCodec, SchemaError> {
        let ty = schema
            .message(name)
            .ok_or_else(|| SchemaError(format!("no message named `{name}`")))?;
        Self::for_type(schema, ty)
    }

    fn for_type(schema: &Schema, ty: usize) -> Result<DynCodec, SchemaError> {
        let p = &schema.ir;
        let framing = if Some(ty) != p.frame {
            Framing::Measured
        } else {
            match &p.types[ty] {
                TypeDef::Struct(_) => Framing::Prefixed(ty, true),
                TypeDef::Union(u)
                    if polywire_codegen::emit::sided_members(u).is_none()
                        && polywire_codegen::emit::has_frame_length(p, u) =>
                {
                    Framing::Prefixed(u.arms[0].ty, false)
                }
                _ => Framing::Measured,
            }
        };
        Ok(DynCodec {
            schema: Arc::new(schema.clone()),
            ty,
            framing,
            limits: schema.limits(),
            version: 0,
            sender: None,
        })
    }

    /// The codec reading the bytes `sender` sends.
    pub fn sent_by(mut self, sender: Sender) -> Self {
        self.sender = Some(sender);
        self
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    fn name(&self) -> &'static str {
        self.schema.name(self.ty)
    }

    fn self_delimited(&self) -> bool {
        self.framing == Framing::Measured
    }

    /// Decodes one whole frame (as [`Codec::decode`] found it) again, recording where
    /// each part is: the value (or the error) and the parts read, in order.
    pub fn trace(&self, frame: &[u8]) -> (Result<Value, DecodeError>, Vec<Node>) {
        let buf = Bytes::copy_from_slice(frame);
        let nodes = std::cell::RefCell::new(Vec::new());
        let mut r = Reader::within(&buf, 0..buf.len(), self.limits)
            .with_version(self.version)
            .with_sender(self.sender);
        let dec = decode::Dec::new(&self.schema).tracing(&nodes);
        let v = dec
            .message(self.ty, &mut r)
            .map_err(|e| e.within(self.name()))
            .and_then(|v| r.finish(self.name()).map(|()| v));
        (v, nodes.into_inner())
    }

    /// Reads the frame at the front of `chunk` in one pass (frames without a length
    /// prefix): the frame and its length, `None` when the bytes end inside it.
    pub fn decode_shared(&self, chunk: &Bytes) -> Result<Option<(Value, usize)>, DecodeError> {
        let dec = decode::Dec::new(&self.schema);
        self.reading().shared(chunk, |r| dec.message(self.ty, r))
    }

    /// The rules of frame reading the generated codecs follow, for this codec.
    fn reading(&self) -> FrameReading {
        FrameReading {
            limits: self.limits,
            version: self.version,
            sender: self.sender,
            name: self.name(),
        }
    }
}

impl Codec for DynCodec {
    type Frame = Value;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Value>, DecodeError> {
        let mut frame = None;
        self.decode_batch(src, 1, |f| frame = Some(f))?;
        Ok(frame)
    }

    fn decode_batch<G: FnMut(Value)>(
        &mut self,
        src: &mut BytesMut,
        max: usize,
        f: G,
    ) -> Result<usize, DecodeError> {
        let dec = decode::Dec::new(&self.schema);
        let read = |r: &mut Reader<'_>| dec.message(self.ty, r);
        if self.self_delimited() && max > 1 {
            return self.reading().delimited(src, max, read, f);
        }
        self.reading()
            .framed(src, max, |buf| self.frame_len(buf), read, f)
    }

    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        match self.framing {
            // Errors name the struct the probe reads, as the generated probe's do (a union
            // frame's first member).
            Framing::Prefixed(layout, check_consts) => decode::probe(
                &self.schema,
                self.schema.ir.struct_def(layout),
                self.schema.name(layout),
                check_consts,
                buf,
                &self.limits,
            ),
            Framing::Measured => {
                let mut r = Reader::measure(buf, self.limits).with_sender(self.sender);
                let name = self.name();
                let max = self.limits.max_frame_len;
                match decode::Dec::new(&self.schema).message(self.ty, &mut r) {
                    Ok(_) => {
                        let n = r.offset();
                        if n > max {
                            return Err(too_long(name, n, max));
                        }
                        Ok(Some(n))
                    }
                    Err(e) if e.kind == DecodeErrorKind::Incomplete => {
                        if buf.len() > max {
                            return Err(too_long(name, buf.len(), max));
                        }
                        Ok(None)
                    }
                    Err(e) => Err(e.within(name)),
                }
            }
        }
    }

    fn encode(&mut self, frame: &Value, dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.reading().encode(dst, |dst| {
            self.schema
                .encode_message(self.ty, frame, self.version, dst)
        })
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn set_version(&mut self, version: u32) {
        self.version = version;
    }
}

fn too_long(name: &'static str, n: usize, max: usize) -> DecodeError {
    DecodeError::new(0, name, DecodeErrorKind::TooLong { len: n as u64, max })
}
