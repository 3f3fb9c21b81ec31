//! The protocol IR: plain, serde-serializable data that both front ends (the `.wire`
//! parser and the derive macros) produce and the one emitter consumes.
//!
//! Types are resolved (a [`Type::Named`] holds an index into [`Protocol::types`]) and the
//! IR has passed every check in [`check`] before it reaches the emitter. Spans stay so
//! that checks can point at the user's source.

pub mod check;
#[cfg(feature = "dsl")]
pub mod lower;
pub mod print;

use crate::diag::Span;
use serde::{Deserialize, Serialize};

/// Byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Endian {
    /// Most significant byte first.
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// Field markers (attributes without a value), in both front ends: `@correlation` in a
/// `.wire` file, `#[wire(correlation)]` on a Rust field.
pub const FIELD_MARKERS: &[&str] = &[
    "correlation",
    "kind",
    "code",
    "message",
    "empty_is_none",
    "min_version",
    "max_version",
    "version",
    "features",
    "echo",
];

/// A fixed-width integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntType {
    /// Width in bytes: 1, 2, 3, 4 or 8.
    pub bytes: u8,
    /// Two's complement.
    pub signed: bool,
    /// Byte order.
    pub endian: Endian,
}

impl IntType {
    /// Reads an integer type name (`u8` .. `u64`, `i8` .. `i64`, `u24`/`i24`), with an
    /// optional `le`/`be` suffix; unsuffixed names take `default`. Both front ends use it.
    pub fn parse(name: &str, default: Endian) -> Option<IntType> {
        let (base, endian) = if let Some(b) = name.strip_suffix("le") {
            (b, Endian::Little)
        } else if let Some(b) = name.strip_suffix("be") {
            (b, Endian::Big)
        } else {
            (name, default)
        };
        let signed = match base.as_bytes().first()? {
            b'u' => false,
            b'i' => true,
            _ => return None,
        };
        let bytes = match &base[1..] {
            "8" => 1,
            "16" => 2,
            "24" => 3,
            "32" => 4,
            "64" => 8,
            _ => return None,
        };
        Some(IntType {
            bytes,
            signed,
            endian,
        })
    }
}

impl IntType {
    /// Width in bits.
    pub fn bits(&self) -> u32 {
        u32::from(self.bytes) * 8
    }

    /// Largest value the type holds, as u64.
    pub fn max_value(&self) -> u64 {
        let bits = self.bits() - u32::from(self.signed);
        if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        }
    }

    /// Smallest value.
    pub fn min_value(&self) -> i128 {
        if self.signed {
            -(1i128 << (self.bits() - 1))
        } else {
            0
        }
    }

    /// The Rust type holding it.
    pub fn rust(&self) -> &'static str {
        match (self.bytes, self.signed) {
            (1, false) => "u8",
            (1, true) => "i8",
            (2, false) => "u16",
            (2, true) => "i16",
            (3, false) | (4, false) => "u32",
            (3, true) | (4, true) => "i32",
            (_, false) => "u64",
            (_, true) => "i64",
        }
    }
}

/// How a length or count is written in front of its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prefix {
    /// A fixed-width integer.
    Int(IntType),
    /// An unsigned LEB128 varint, optionally bounded (`varint<max = 268435455>`: no value
    /// above it, and no more bytes than it needs).
    Varint {
        /// The largest value.
        #[serde(default)]
        max: Option<u64>,
    },
}

impl Prefix {
    /// Largest length the prefix can express.
    pub fn max_len(&self) -> u64 {
        match self {
            Prefix::Int(i) => i.max_value(),
            Prefix::Varint { max } => max.unwrap_or(u64::MAX),
        }
    }

    /// Smallest encoded size.
    pub fn min_size(&self) -> usize {
        match self {
            Prefix::Int(i) => usize::from(i.bytes),
            Prefix::Varint { .. } => 1,
        }
    }
}

/// A resolved field type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Type {
    /// A fixed-width integer.
    Int(IntType),
    /// LEB128 varint (`varint`: u64, `svarint`: zigzag i64).
    Varint {
        /// Zigzag signed.
        signed: bool,
        /// `varint<max = n>`: the largest value, which also bounds the bytes read.
        #[serde(default)]
        max: Option<u64>,
    },
    /// One byte, 0 or 1.
    Bool,
    /// UTF-8 text; `prefix` None means the extent comes from the field's region.
    String {
        /// Length prefix.
        prefix: Option<Prefix>,
        /// Declared maximum length.
        max: Option<u64>,
    },
    /// Raw bytes; like `String`.
    Bytes {
        /// Length prefix.
        prefix: Option<Prefix>,
        /// Declared maximum length.
        max: Option<u64>,
    },
    /// A sequence; `count` None means "until the region ends".
    List {
        /// Element type.
        elem: Box<Type>,
        /// Element-count prefix.
        count: Option<Prefix>,
    },
    /// An ordered map written as key, value pairs.
    Map {
        /// Key type.
        key: Box<Type>,
        /// Value type.
        value: Box<Type>,
        /// Entry-count prefix.
        count: Option<Prefix>,
    },
    /// An optional value.
    Optional {
        /// The inner type.
        inner: Box<Type>,
        /// How absence is written.
        repr: OptRepr,
    },
    /// A user type: index into [`Protocol::types`].
    Named(usize),
}

/// How an optional value is marked on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptRepr {
    /// A presence byte (0 absent, 1 present) before the value.
    Presence,
    /// An empty string/bytes means absent (`@empty_is_none`).
    EmptyIsNone,
}

/// A user-defined type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypeDef {
    /// An enum with an integer representation.
    Enum(EnumDef),
    /// A set of bit flags.
    Flags(FlagsDef),
    /// A struct (or the frame).
    Struct(StructDef),
    /// One of several structs.
    Union(UnionDef),
    /// A list of tagged members.
    Tagged(TaggedDef),
}

impl TypeDef {
    /// The type's name.
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Enum(e) => &e.name,
            TypeDef::Flags(f) => &f.name,
            TypeDef::Struct(s) => &s.name,
            TypeDef::Union(u) => &u.name,
            TypeDef::Tagged(t) => &t.name,
        }
    }

    /// Where it was defined.
    pub fn span(&self) -> Span {
        match self {
            TypeDef::Enum(e) => e.span,
            TypeDef::Flags(f) => f.span,
            TypeDef::Struct(s) => s.span,
            TypeDef::Union(u) => u.span,
            TypeDef::Tagged(t) => t.span,
        }
    }

    /// A message with a binary layout of its own: a struct (not a `header`), a union or a
    /// tagged list.
    pub fn is_message(&self) -> bool {
        match self {
            TypeDef::Struct(s) => !s.header_only,
            TypeDef::Union(_) | TypeDef::Tagged(_) => true,
            TypeDef::Enum(_) | TypeDef::Flags(_) => false,
        }
    }
}

/// A union: a value that is one of several structs. Each starts with a field holding
/// constant bits; the bits constant in every member tell them apart (`mask`, and each
/// arm's `key`), found by the checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionDef {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// The members in declaration order.
    pub arms: Vec<UnionArm>,
    /// Definition.
    pub span: Span,
}

/// A member of a union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionArm {
    /// The struct (index into [`Protocol::types`]).
    pub ty: usize,
    /// Docs.
    pub docs: Vec<String>,
    /// `else Name`: the member read when the first word is no other member's (it need not
    /// start with constant bits; RESP's inline commands are lines of words).
    #[serde(default)]
    pub fallback: bool,
    /// `Name from client`: the member read from the bytes that side sent, in a union whose
    /// members are the two directions of a connection (each may itself be a union).
    #[serde(default)]
    pub from: Option<Sender>,
    /// Where it is named.
    pub span: Span,
}

/// A side of a connection: the one that sends a union member `from client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The side that opened the connection.
    Client,
    /// The side that accepted it.
    Server,
}

impl Sender {
    /// Its name in `.wire` files.
    pub fn name(self) -> &'static str {
        match self {
            Sender::Client => "client",
            Sender::Server => "server",
        }
    }
}

/// The discriminating word of a union: the first field of every member, an integer of one
/// type, and the bits that are constant in all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnionKey {
    /// The word's type.
    pub ty: IntType,
    /// The bits constant in every member.
    pub mask: u64,
}

/// A tagged list: each present member written as its tag, then its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedDef {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// How tags are written.
    pub tag: Prefix,
    /// Members in declaration order (the order they are written in).
    pub members: Vec<TaggedMember>,
    /// Definition.
    pub span: Span,
}

/// A member of a tagged list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedMember {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Its tag.
    pub tag: u64,
    /// Its value's type.
    pub ty: Type,
    /// May appear more than once (held as a `Vec`; otherwise an `Option`).
    pub repeated: bool,
    /// Where.
    pub span: Span,
    /// Where its tag was written (not serialized).
    #[serde(skip)]
    pub tag_span: Span,
}

/// A condition on earlier fields, bit parts and the protocol version in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cond {
    /// An integer.
    Int(i128, #[serde(skip)] Span),
    /// An earlier field or bit part (an integer, bool, enum or flags value), by name.
    Ref(String, #[serde(skip)] Span),
    /// `@version`: the protocol version in effect.
    Version,
    /// `@more`: bytes are left in the region (when decoding); the field is there (when
    /// encoding). An optional tail.
    More,
    /// `!c`.
    Not(Box<Cond>),
    /// `a op b`.
    Cmp(CmpOp, Box<Cond>, Box<Cond>),
    /// `a && b`.
    And(Box<Cond>, Box<Cond>),
    /// `a || b`.
    Or(Box<Cond>, Box<Cond>),
}

impl Cond {
    /// Every name the condition refers to, with where.
    pub fn refs(&self) -> Vec<(&str, Span)> {
        let mut out = Vec::new();
        self.walk(&mut |c| {
            if let Cond::Ref(n, s) = c {
                out.push((n.as_str(), *s));
            }
        });
        out
    }

    /// Calls `f` on this condition and every one inside it.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Cond)) {
        f(self);
        match self {
            Cond::Not(c) => c.walk(f),
            Cond::Cmp(_, a, b) | Cond::And(a, b) | Cond::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Cond::Int(..) | Cond::Ref(..) | Cond::Version | Cond::More => {}
        }
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// An enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumDef {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Representation.
    pub repr: IntType,
    /// Unknown values are kept in an `Unknown(_)` variant.
    pub open: bool,
    /// Variants.
    pub variants: Vec<Variant>,
    /// Definition.
    pub span: Span,
}

/// An enum variant or flag bit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Name as written (e.g. `SEND_MESSAGE`).
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Value (for flags: the bit index).
    pub value: i128,
    /// Attribute names (`success`, `not_supported`, `response`, `oneway`).
    pub attrs: Vec<String>,
    /// The message template of a status the runtime answers with, e.g.
    /// `@not_supported(" request type {code} not supported")`.
    #[serde(default)]
    pub message: Option<String>,
    /// Where (the value).
    pub span: Span,
    /// Where its name was written (`Span::default()` when unknown; not serialized).
    #[serde(skip)]
    pub name_span: Span,
}

/// Bit flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagsDef {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Representation.
    pub repr: IntType,
    /// Named bits.
    pub bits: Vec<Variant>,
    /// Definition.
    pub span: Span,
}

/// A struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructDef {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Fields in wire order.
    pub fields: Vec<Field>,
    /// Alternate encodings declared for it.
    pub encodings: Vec<Encoding>,
    /// Declared with `header`: carried as strings in a map, no binary layout.
    #[serde(default)]
    pub header_only: bool,
    /// Definition.
    pub span: Span,
}

/// A field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// What the field is.
    pub kind: FieldKind,
    /// Its extent.
    pub region: Region,
    /// `@correlation`: the request/response correlation id.
    pub correlation: bool,
    /// `@kind`: the flags field that tells request, response and oneway apart.
    pub kind_marker: bool,
    /// Other attributes by name (checked for being known).
    pub attrs: Vec<String>,
    /// `i16 as i32`: the Rust-side type of a narrower wire integer.
    #[serde(default)]
    pub widen: Option<IntType>,
    /// `@default(v)`: the value a new message starts with (integers and enums by value).
    #[serde(default)]
    pub default: Option<i128>,
    /// `if cond`: present only when the condition holds (held as an `Option`).
    #[serde(default)]
    pub cond: Option<Cond>,
    /// `decimal<i64>`: the integer (a value or a computed length) travels as ASCII decimal
    /// text, an optional `-` and digits, over the field's region (`until ..` or `rest`).
    #[serde(default)]
    pub decimal: bool,
    /// `= len(x) else -1`: the value a computed length takes when the conditional field it
    /// measures is absent (written on encode, required on decode whenever `x` is absent).
    /// Without it an absent field's length is 0, and nothing is required of it.
    #[serde(default)]
    pub len_else: Option<i128>,
    /// Where.
    pub span: Span,
    /// Where its parts were written, so that checks can point at one of them (not
    /// serialized: like every span, it points into one text only).
    #[serde(skip)]
    pub at: PartSpans,
}

/// Where the parts of a field or bit part were written. A part left at `Span::default()`
/// is unknown (the derive macros do not record it): diagnostics fall back to the whole
/// field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartSpans {
    /// The name.
    pub name: Span,
    /// The type.
    pub ty: Span,
    /// The constant or `len(..)` after `=`.
    pub value: Span,
    /// The `@default(..)` attribute.
    pub default: Span,
    /// `rest` or `sized_by ..`.
    pub region: Span,
    /// The discriminator named by `by`.
    pub disc: Span,
    /// Each `by` arm, in the order of [`FieldKind::Switch`]'s arms.
    pub arms: Vec<Span>,
    /// Each attribute, as `(name, span)`.
    pub attrs: Vec<(String, Span)>,
    /// The condition after `if`.
    pub cond: Span,
    /// The value after `else`.
    pub len_else: Span,
}

impl PartSpans {
    /// `part` when it is known, else `whole`.
    pub fn or(part: Span, whole: Span) -> Span {
        if part == Span::default() { whole } else { part }
    }
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldKind {
    /// A value stored in the struct.
    Value(Type),
    /// Constant bytes (`crlf: "\r\n"`): checked on decode, written on encode, not stored.
    Literal(Vec<u8>),
    /// A constant (magic, tag): checked on decode, written on encode, not stored.
    Const {
        /// Its integer type.
        ty: IntType,
        /// Its value.
        value: u64,
    },
    /// A length computed on encode and used on decode, not stored.
    Length {
        /// How it is written.
        ty: Prefix,
        /// What it measures.
        of: LenTarget,
    },
    /// An integer packed with parts.
    Bits {
        /// The carrier integer.
        ty: IntType,
        /// The parts, each a stored value, a constant or a computed length.
        parts: Vec<BitPart>,
    },
    /// A struct whose encoding is chosen by another field.
    Switch {
        /// The struct (index into [`Protocol::types`]).
        ty: usize,
        /// The discriminator field or bit part name.
        disc: String,
        /// value → encoding name (`binary` or a declared [`Encoding`]).
        arms: Vec<(i128, String)>,
    },
}

/// What a computed length measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LenTarget {
    /// One field.
    Field(String),
    /// From a field (None: the next one) to the end of the enclosing struct.
    From(Option<String>),
}

/// A part of a packed integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitPart {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Stored type (an integer, bool or enum), when stored.
    pub ty: Type,
    /// Lowest bit (0 = least significant).
    pub lo: u32,
    /// One past the highest bit.
    pub hi: u32,
    /// What gives the value.
    pub value: PartValue,
    /// Attribute names (`echo`).
    #[serde(default)]
    pub attrs: Vec<String>,
    /// Where.
    pub span: Span,
    /// Where its parts were written (not serialized).
    #[serde(skip)]
    pub at: PartSpans,
}

/// Where a bit part's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartValue {
    /// A struct field.
    Stored,
    /// A constant.
    Const(u64),
    /// A computed length.
    Length(LenTarget),
    /// `present(field)`: 1 when the optional field is there.
    Present(String),
}

/// How far a field reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Region {
    /// Its own encoding says (prefixes, fixed sizes).
    Inline,
    /// To the end of the enclosing region.
    Rest,
    /// As many bytes as a computed length field (or bit part) says.
    SizedBy(String),
    /// An inline byte-length prefix in front of it.
    Prefixed(Prefix),
    /// Up to the next occurrence of these bytes (`until "\r\n"`), which are consumed
    /// and are not part of the value.
    Until(Vec<u8>),
    /// A list of as many elements as an earlier field says (`count n`): a computed length
    /// (`n: .. = len(items)`, the element count) or a stored integer.
    Count(String),
}

/// An alternate encoding of a struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encoding {
    /// Its name as referenced from `by` arms (`json`).
    pub name: String,
    /// Format.
    pub format: Format,
    /// `rename_all` case.
    pub rename_all: Option<String>,
    /// Per-field wire names.
    pub renames: Vec<(String, String)>,
    /// Enum fields written by variant name rather than number.
    pub by_name: Vec<String>,
    /// Flags such as `sort_keys`, `omit_none`.
    pub flags: Vec<String>,
    /// Members always written and ignored when read: `(key, JSON value text)`.
    #[serde(default)]
    pub constants: Vec<(String, String)>,
    /// Where.
    pub span: Span,
    /// Where each `rename` and `as` rule names its field: `(field, span)` (empty when
    /// unknown; not serialized).
    #[serde(skip)]
    pub rule_spans: Vec<(String, Span)>,
}

/// Encoding formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// JSON through serde.
    Json,
}

/// Version negotiation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handshake {
    /// Docs.
    pub docs: Vec<String>,
    /// Client's first message (struct index).
    pub hello: usize,
    /// Server's acceptance (struct index).
    pub accept: usize,
    /// Server's refusal (struct index).
    pub reject: Option<usize>,
    /// `highest` or `lowest` common version.
    pub choose: String,
    /// Handshake time limit.
    pub timeout_ms: u64,
    /// Where.
    pub span: Span,
}

/// How the messages of a union frame are exchanged (`exchange { .. }`): what answers each
/// message, how answers find their requests, what either side sends unasked, keepalive.
/// The runtime carries these out; handlers only supply the answers' contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Docs.
    pub docs: Vec<String>,
    /// `hello Connect -> ConnAck`: the message that opens a connection (a client's first,
    /// sent once) and how the server answers it. Its `@version` field, if any, sets the
    /// version for the rest of the connection.
    pub hello: Option<Rule>,
    /// One rule per other message that is answered, closes, or is answered by nothing.
    pub rules: Vec<Rule>,
    /// How answers find their requests.
    pub matching: Matching,
    /// Messages a side may send unasked (a server's push to a subscriber), by type index.
    pub push: Vec<usize>,
    /// The keepalive, if any.
    pub keepalive: Option<Keepalive>,
    /// `on FAILURE -> Msg(..)`: what a side sends before it closes a connection on a
    /// failure, at most one per [`Failure`].
    #[serde(default)]
    pub farewells: Vec<Farewell>,
    /// `hello A -> B accept if cond`: when the hello's one answer message means the hello
    /// was accepted (a condition over that answer's fields and bit parts, and `@version`).
    /// A client offering a version in the hello's `@version` field may try a lower one
    /// when the answer does not satisfy it.
    #[serde(default)]
    pub accept: Option<Cond>,
    /// `status Msg.field ok LO..HI message PATH`: which field of an answer says whether the
    /// request succeeded, and where its text is; at most one per message.
    #[serde(default)]
    pub statuses: Vec<StatusDecl>,
    /// Where.
    pub span: Span,
}

/// `status PubAck.reason ok 0x00..0x7F message properties.reason_string`: an answer's
/// field saying whether its request succeeded, and the text saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDecl {
    /// The answer message (type index; a member of the frame union answering some rule).
    pub msg: usize,
    /// A top-level integer or enum field of the message. When it is conditional and absent,
    /// it holds its default value (0, or the enum's variant of value 0).
    pub field: String,
    /// The values meaning success, inclusive (an enum compares by its wire value).
    pub ok: (i128, i128),
    /// The path to a string field holding the message (`properties.reason_string`): a
    /// top-level field, then fields of structs or members of tagged lists, each possibly
    /// optional; empty when there is none.
    pub message: Vec<String>,
    /// Where.
    pub span: Span,
}

/// `on malformed -> Disconnect(reason = MALFORMED_PACKET) if @version >= 5`: the message a
/// side sends before closing a connection on a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Farewell {
    /// The failure.
    pub on: Failure,
    /// The message sent (type index; a member of the frame union).
    pub msg: usize,
    /// The fields set, each a top-level field of the message; the others take their
    /// defaults (conditional fields are left out).
    pub sets: Vec<FieldSet>,
    /// `if cond`, over `@version` only: when it does not hold, nothing is sent.
    pub cond: Option<Cond>,
    /// Where.
    pub span: Span,
}

/// Why a side closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Failure {
    /// `malformed`: bytes that do not decode.
    Malformed,
    /// `violation`: a message out of order (before the hello, a second hello, one never
    /// sent to this side).
    Violation,
    /// `keepalive`: silence past the keepalive's grace.
    Keepalive,
    /// `shutdown`: the server stops.
    Shutdown,
}

impl Failure {
    /// Every failure, in the order they are printed.
    pub const ALL: [Failure; 4] = [
        Failure::Malformed,
        Failure::Violation,
        Failure::Keepalive,
        Failure::Shutdown,
    ];

    /// The keyword (`malformed`).
    pub fn keyword(self) -> &'static str {
        match self {
            Failure::Malformed => "malformed",
            Failure::Violation => "violation",
            Failure::Keepalive => "keepalive",
            Failure::Shutdown => "shutdown",
        }
    }

    /// The failure a keyword names.
    pub fn from_keyword(word: &str) -> Option<Failure> {
        Failure::ALL.into_iter().find(|f| f.keyword() == word)
    }
}

/// `field = value` in a [`Farewell`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSet {
    /// A top-level field of the message.
    pub field: String,
    /// Its value.
    pub value: SetValue,
    /// Where.
    pub span: Span,
}

/// A value a [`FieldSet`] gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetValue {
    /// An integer, for an integer field.
    Int(i128),
    /// `true` or `false`, for a bool field.
    Bool(bool),
    /// A variant of the field's enum, named as declared.
    Variant(String),
    /// A string, for a string field.
    Str(String),
}

/// `Msg -> A if cond, B, ...`: what answers a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The message (type index; a member of the frame union).
    pub on: usize,
    /// The answers, tried in order: the first whose condition holds (or that has none) is
    /// the answer; when none holds, the message is answered by nothing.
    pub answers: Vec<Answer>,
    /// Where.
    pub span: Span,
}

/// One possible answer of a [`Rule`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// What is sent back.
    pub reply: Reply,
    /// `if cond`, over the request's fields and bit parts (and `@version`).
    pub cond: Option<Cond>,
    /// Where.
    pub span: Span,
}

/// What answers a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// `nothing`: the message is not answered.
    Nothing,
    /// One message (type index; a member of the frame union).
    Message(usize),
    /// `Msg then close`: one message, then the connection is closed.
    MessageThenClose(usize),
    /// `close`: the connection is closed, nothing is sent.
    Close,
    /// `Msg on failure` / `Msg on success`: one message, sent only when its `status` reports
    /// a failure (`failure`) or a success; otherwise nothing is sent, and the requester does
    /// not wait for it.
    Only {
        /// The message (type index; a member of the frame union).
        msg: usize,
        /// Sent on failure (else on success).
        failure: bool,
    },
    /// `Item* then End`: any number of `item` messages, then `end`, which ends the answer
    /// (type indexes; members of the frame union).
    Series {
        /// The repeated message.
        item: usize,
        /// The message that ends the series.
        end: usize,
    },
}

impl Reply {
    /// The message that ends the answer (the one message, or a series' end).
    pub fn ending(&self) -> Option<usize> {
        match *self {
            Reply::Message(m)
            | Reply::MessageThenClose(m)
            | Reply::Series { end: m, .. }
            | Reply::Only { msg: m, .. } => Some(m),
            Reply::Nothing | Reply::Close => None,
        }
    }

    /// Every message the answer sends.
    pub fn messages(&self) -> Vec<usize> {
        match *self {
            Reply::Series { item, end } => vec![item, end],
            _ => self.ending().into_iter().collect(),
        }
    }
}

/// How answers find their requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Matching {
    /// `correlate field`: messages holding the integer field `field` are matched by its
    /// value (the sender picks values, never 0); the others by order.
    Correlate(String),
    /// `order` (the default): answers come back in the order of their requests.
    Order,
}

/// `keepalive Connect.keep_alive seconds * 1.5 ping PingReq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keepalive {
    /// The hello's integer field holding the interval (0 turns keepalive off).
    pub field: String,
    /// Milliseconds per unit of the field (1000 for `seconds`, 1 for `millis`).
    pub unit_ms: u64,
    /// A side closes a connection silent for this many thousandths of the interval
    /// (1500 for `* 1.5`).
    pub grace_permille: u32,
    /// The message a client sends when it has sent nothing for an interval (type index).
    pub ping: usize,
    /// Where.
    pub span: Span,
}

/// A service: a named group of requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Requests.
    pub rpcs: Vec<Rpc>,
}

/// One request code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rpc {
    /// Name.
    pub name: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Request code.
    pub code: i128,
    /// No response expected.
    pub oneway: bool,
    /// Request header and body.
    pub request: Payload,
    /// Response header and body.
    pub response: Payload,
    /// Where.
    pub span: Span,
}

/// A typed header and body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// Header struct, carried as strings in a frame map field.
    pub header: Option<HeaderPart>,
    /// Body type.
    pub body: Option<BodyPart>,
}

/// A typed header carried in a map field of the frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderPart {
    /// Struct index.
    pub ty: usize,
    /// Frame field holding the string map.
    pub carrier: String,
}

/// A typed body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyPart {
    /// Body type (`bytes` or a struct).
    pub ty: Type,
    /// Encoding name (`binary` or a declared one).
    pub encoding: String,
}

/// A detection rule: bytes expected at an offset of a new connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectRule {
    /// Offset from the first byte.
    pub at: usize,
    /// Expected bytes.
    pub bytes: Vec<u8>,
}

/// Decoder limits declared by the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsDecl {
    /// Largest frame.
    pub max_frame_len: u64,
    /// Largest string/bytes.
    pub max_string_len: u64,
    /// Largest collection.
    pub max_collection_len: u64,
    /// Longest delimiter-terminated field.
    #[serde(default = "default_line_len")]
    pub max_line_len: u64,
    /// Deepest nesting of recursive values.
    #[serde(default = "default_depth")]
    pub max_depth: u64,
    /// The values as written (frame, string, collection, line, depth), negative ones
    /// included, and where; `None` for a limit left at its default (not serialized).
    #[serde(skip)]
    pub written: [Option<(i128, Span)>; 5],
}

fn default_line_len() -> u64 {
    64 * 1024
}

fn default_depth() -> u64 {
    32
}

impl Default for LimitsDecl {
    fn default() -> Self {
        LimitsDecl {
            max_frame_len: 16 * 1024 * 1024,
            max_string_len: 16 * 1024 * 1024,
            max_collection_len: 1024 * 1024,
            max_line_len: default_line_len(),
            max_depth: default_depth(),
            written: [None; 5],
        }
    }
}

/// A whole protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    /// The Rust-facing name (`native`).
    pub name: String,
    /// The protocol id (`polywire-native`).
    pub id: String,
    /// Docs.
    pub docs: Vec<String>,
    /// Default byte order.
    pub endian: Endian,
    /// Supported versions (inclusive).
    pub versions: Option<(u32, u32)>,
    /// Decoder limits.
    pub limits: LimitsDecl,
    /// All types, imported ones included, in definition order.
    pub types: Vec<TypeDef>,
    /// The frame struct (index into `types`).
    pub frame: Option<usize>,
    /// Handshake.
    pub handshake: Option<Handshake>,
    /// Services.
    pub services: Vec<Service>,
    /// Response codes enum (index into `types`).
    pub responses: Option<usize>,
    /// Detection: any one of these sets of rules, each holding as a whole.
    pub detect: Vec<Vec<DetectRule>>,
    /// How a union frame's messages are exchanged.
    pub exchange: Option<Exchange>,
    /// Where.
    pub span: Span,
}

impl Protocol {
    /// The struct at `idx` (panics if it is not a struct; checks guarantee it).
    pub fn struct_def(&self, idx: usize) -> &StructDef {
        match &self.types[idx] {
            TypeDef::Struct(s) => s,
            other => panic!("type {} is not a struct", other.name()),
        }
    }

    /// How the frame union holds type `ty`: `[ty]` for its member, `[outer, ty]` for a
    /// member of its member `outer` when the frame is a union of the two directions
    /// (`Value from server` holds `SimpleError`). `None` when it does not hold it.
    pub fn frame_path(&self, ty: usize) -> Option<Vec<usize>> {
        let TypeDef::Union(u) = self.types.get(self.frame?)? else {
            return None;
        };
        if u.arms.iter().any(|a| a.ty == ty) {
            return Some(vec![ty]);
        }
        u.arms
            .iter()
            .filter(|a| a.from.is_some())
            .find_map(|a| match &self.types[a.ty] {
                TypeDef::Union(inner) if inner.arms.iter().any(|b| b.ty == ty) => {
                    Some(vec![a.ty, ty])
                }
                _ => None,
            })
    }

    /// The frame, when it is a struct (not a union).
    pub fn frame_struct(&self) -> Option<&StructDef> {
        match &self.types[self.frame?] {
            TypeDef::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// The struct whose leading fields give the frame's length: the frame itself, or a
    /// union frame's first member (all members start alike).
    pub fn frame_layout(&self) -> Option<&StructDef> {
        match &self.types[self.frame?] {
            TypeDef::Struct(s) => Some(s),
            TypeDef::Union(u) => match &self.types[u.arms.first()?.ty] {
                TypeDef::Struct(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// Looks a type up by name.
    pub fn type_index(&self, name: &str) -> Option<usize> {
        self.types.iter().position(|t| t.name() == name)
    }
}

/// "did you mean" for a misspelt name.
pub(crate) fn lower_hint(name: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    crate::util::closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}
