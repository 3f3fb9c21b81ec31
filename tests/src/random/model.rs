//! The generator's own model of a protocol: what it writes as `.wire` text and what it
//! builds values from. It mirrors the language, not the compiler's IR, so that the two can
//! disagree.

/// A fixed-width integer type as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntT {
    /// 1, 2, 3, 4 or 8.
    pub bytes: u8,
    /// Two's complement.
    pub signed: bool,
    /// `None`: no suffix (the protocol's default); `Some(true)`: `le`; `Some(false)`: `be`.
    pub little: Option<bool>,
}

impl IntT {
    /// An unsuffixed integer.
    pub fn plain(bytes: u8, signed: bool) -> Self {
        IntT {
            bytes,
            signed,
            little: None,
        }
    }

    /// The `.wire` spelling.
    pub fn wire(&self) -> String {
        let base = format!("{}{}", if self.signed { 'i' } else { 'u' }, self.bytes * 8);
        match self.little {
            None => base,
            Some(true) => format!("{base}le"),
            Some(false) => format!("{base}be"),
        }
    }

    /// The Rust type holding it.
    pub fn rust(&self) -> &'static str {
        match (self.bytes, self.signed) {
            (1, false) => "u8",
            (1, true) => "i8",
            (2, false) => "u16",
            (2, true) => "i16",
            (3 | 4, false) => "u32",
            (3 | 4, true) => "i32",
            (_, false) => "u64",
            (_, true) => "i64",
        }
    }

    /// Smallest value.
    pub fn min(&self) -> i128 {
        if self.signed {
            -(1i128 << (self.bytes as u32 * 8 - 1))
        } else {
            0
        }
    }

    /// Largest value.
    pub fn max(&self) -> i128 {
        let bits = self.bytes as u32 * 8 - u32::from(self.signed);
        (1i128 << bits) - 1
    }
}

/// A length or count prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pfx {
    /// A fixed-width integer.
    Int(IntT),
    /// LEB128.
    Varint,
    /// `varint<max = n>`.
    VarintMax(u64),
}

impl Pfx {
    /// The `.wire` spelling.
    pub fn wire(&self) -> String {
        match self {
            Pfx::Int(i) => i.wire(),
            Pfx::Varint => "varint".into(),
            Pfx::VarintMax(m) => format!("varint<max = {m}>"),
        }
    }

    /// Largest length it holds.
    pub fn max_len(&self) -> u128 {
        match self {
            Pfx::Int(i) => i.max() as u128,
            Pfx::Varint => u64::MAX as u128,
            Pfx::VarintMax(m) => *m as u128,
        }
    }

    /// Bytes it takes at most.
    pub fn size(&self) -> u64 {
        match self {
            Pfx::Int(i) => u64::from(i.bytes),
            Pfx::Varint | Pfx::VarintMax(_) => 10,
        }
    }
}

/// The count of a list or map as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// No count argument: a varint inline, "until the region ends" with a region.
    Default,
    /// An explicit count prefix.
    Explicit(Pfx),
}

/// A field type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// Fixed-width integer.
    Int(IntT),
    /// `varint` (false) / `svarint` (true).
    Varint(bool),
    /// `varint<max = n>`.
    VarintMax(u64),
    /// `bool`.
    Bool,
    /// `string<P, max = M>`.
    Str(Option<Pfx>, Option<u64>),
    /// `bytes<P, max = M>`.
    Bytes(Option<Pfx>, Option<u64>),
    /// `list<T, P>`.
    List(Box<Ty>, Count),
    /// `map<K, V, P>`.
    Map(Box<Ty>, Box<Ty>, Count),
    /// `T?`.
    Opt(Box<Ty>),
    /// A user type (index into [`Proto::defs`]).
    Named(usize),
}

/// What a computed length measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LenT {
    /// `len(x)`.
    Field(String),
    /// `len(..)` (None) or `len(x..)`.
    From(Option<String>),
}

impl LenT {
    /// The `.wire` spelling.
    pub fn wire(&self) -> String {
        match self {
            LenT::Field(f) => format!("len({f})"),
            LenT::From(None) => "len(..)".into(),
            LenT::From(Some(f)) => format!("len({f}..)"),
        }
    }
}

/// A bit part's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartV {
    /// Stored in the struct.
    Stored,
    /// A constant.
    Const(u64),
    /// A computed length.
    Len(LenT),
    /// `present(field)`.
    Present(String),
}

/// A field's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondM {
    /// `if bit` where `bit = present(this field)`.
    Present(String),
    /// `if field op literal` over an earlier integer field.
    Cmp {
        /// The integer field.
        field: String,
        /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
        op: &'static str,
        /// The literal.
        lit: i128,
    },
    /// `if @more`: an optional tail.
    More,
}

impl CondM {
    /// The `.wire` spelling (after `if`).
    pub fn wire(&self) -> String {
        match self {
            CondM::Present(b) => b.clone(),
            CondM::Cmp { field, op, lit } => format!("{field} {op} {lit}"),
            CondM::More => "@more".into(),
        }
    }

    /// Whether the condition holds for `value` of the compared field.
    pub fn holds(op: &str, value: i128, lit: i128) -> bool {
        match op {
            "==" => value == lit,
            "!=" => value != lit,
            "<" => value < lit,
            "<=" => value <= lit,
            ">" => value > lit,
            _ => value >= lit,
        }
    }
}

/// A member of a tagged list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its tag.
    pub tag: u64,
    /// Name.
    pub name: String,
    /// Its value's type.
    pub ty: Ty,
    /// `repeated`.
    pub repeated: bool,
}

/// A part of a packed integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Name.
    pub name: String,
    /// Doc line.
    pub doc: Option<String>,
    /// Integer, bool, enum or flags.
    pub ty: Ty,
    /// Lowest bit.
    pub lo: u32,
    /// One past the highest bit.
    pub hi: u32,
    /// Where the value comes from.
    pub value: PartV,
    /// `@echo`.
    pub echo: bool,
}

/// What a field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A stored value.
    Value(Ty),
    /// A constant (its integer type and value).
    Const(IntT, i128),
    /// A computed length.
    Len(Pfx, LenT),
    /// A packed integer.
    Bits(IntT, Vec<Part>),
    /// A struct whose encoding a discriminator chooses.
    Switch {
        /// The struct.
        ty: usize,
        /// The discriminator (an earlier field or bit part).
        disc: String,
        /// Discriminator value → `binary` or `json`.
        arms: Vec<(u64, String)>,
    },
}

/// A field's extent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    /// Its own encoding.
    Inline,
    /// `rest`.
    Rest,
    /// `sized_by field`.
    SizedBy(String),
    /// `sized_by u16`.
    Prefixed(Pfx),
}

/// A field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Doc line.
    pub doc: Option<String>,
    /// What it is.
    pub kind: Kind,
    /// Its extent.
    pub region: Region,
    /// Marker attributes (`correlation`, `kind`, `code`, `message`, `empty_is_none`, ...).
    pub markers: Vec<&'static str>,
    /// `@default(n)`.
    pub default: Option<i128>,
    /// `as i32`.
    pub widen: Option<IntT>,
    /// `if ...`.
    pub cond: Option<CondM>,
}

impl Field {
    /// A plain stored field.
    pub fn value(name: String, ty: Ty) -> Self {
        Field {
            name,
            doc: None,
            kind: Kind::Value(ty),
            region: Region::Inline,
            markers: vec![],
            default: None,
            widen: None,
            cond: None,
        }
    }

    /// Whether it has marker `m`.
    pub fn has(&self, m: &str) -> bool {
        self.markers.contains(&m)
    }
}

/// A JSON encoding of a struct.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json {
    /// `rename_all`.
    pub rename_all: Option<&'static str>,
    /// `rename f = "w"`.
    pub renames: Vec<(String, String)>,
    /// `f as name` / `f as number`.
    pub as_rules: Vec<(String, &'static str)>,
    /// `sort_keys`, `omit_none`.
    pub flags: Vec<&'static str>,
    /// `constant "k" = v` (v is JSON text: a string literal or an integer).
    pub constants: Vec<(String, String)>,
}

/// A struct (or the frame, or a `header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Struct {
    /// Name.
    pub name: String,
    /// Doc line.
    pub doc: Option<String>,
    /// Fields in wire order.
    pub fields: Vec<Field>,
    /// Declared with `header`.
    pub header: bool,
    /// The protocol's frame.
    pub frame: bool,
    /// Written as `frame {` without a name (it is then `Frame`).
    pub frame_unnamed: bool,
    /// Its JSON encoding.
    pub json: Option<Json>,
}

/// An enum variant or flag bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Name.
    pub name: String,
    /// Doc line.
    pub doc: Option<String>,
    /// Value, or bit index.
    pub value: i128,
    /// Attributes as written (`@success`, `@response`, `@not_supported("...")`).
    pub attrs: Vec<String>,
}

/// A user type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Def {
    /// `enum` (or `responses` when `responses`).
    Enum {
        /// Name.
        name: String,
        /// Doc line.
        doc: Option<String>,
        /// Representation.
        repr: IntT,
        /// `open`.
        open: bool,
        /// Variants.
        variants: Vec<Variant>,
        /// Declared with `responses`.
        responses: bool,
    },
    /// `flags`.
    Flags {
        /// Name.
        name: String,
        /// Doc line.
        doc: Option<String>,
        /// Representation.
        repr: IntT,
        /// Bits.
        bits: Vec<Variant>,
    },
    /// `struct`, `header` or `frame`.
    Struct(Struct),
    /// `union`: member struct indices.
    Union {
        /// Name.
        name: String,
        /// Doc line.
        doc: Option<String>,
        /// The member structs.
        arms: Vec<usize>,
    },
    /// `tagged`.
    Tagged {
        /// Name.
        name: String,
        /// Doc line.
        doc: Option<String>,
        /// How tags are written.
        tag: Pfx,
        /// Members.
        members: Vec<Member>,
    },
}

impl Def {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Def::Enum { name, .. }
            | Def::Flags { name, .. }
            | Def::Union { name, .. }
            | Def::Tagged { name, .. } => name,
            Def::Struct(s) => &s.name,
        }
    }
}

/// An RPC payload part set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload {
    /// `header H in carrier`.
    pub header: Option<(usize, String)>,
    /// `body T [as json]`: `None` type means `bytes`.
    pub body: Option<(Option<usize>, bool)>,
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rpc {
    /// Name.
    pub name: String,
    /// Doc line.
    pub doc: Option<String>,
    /// Request code.
    pub code: i128,
    /// `oneway`.
    pub oneway: bool,
    /// Request parts.
    pub request: Payload,
    /// Response parts (`None`: no `-> { }`).
    pub response: Option<Payload>,
}

/// A service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Name.
    pub name: String,
    /// Doc line.
    pub doc: Option<String>,
    /// Requests.
    pub rpcs: Vec<Rpc>,
}

/// The handshake block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Doc line.
    pub doc: Option<String>,
    /// Struct indices.
    pub hello: usize,
    /// Struct index.
    pub accept: usize,
    /// Struct index.
    pub reject: Option<usize>,
    /// `highest` / `lowest`.
    pub choose: Option<&'static str>,
    /// `timeout_ms`.
    pub timeout_ms: Option<u64>,
}

/// One detection rule: bytes (written as a string when printable) at an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectRule {
    /// Expected bytes.
    pub bytes: Vec<u8>,
    /// Written as a string literal.
    pub as_string: bool,
    /// `at N` (None: omitted).
    pub at: Option<usize>,
}

/// A whole protocol.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Proto {
    /// Name.
    pub name: String,
    /// Id string.
    pub id: Option<String>,
    /// Doc line.
    pub doc: Option<String>,
    /// `endian big|little`.
    pub endian: Option<&'static str>,
    /// `versions a..=b` (inclusive end), with `..` written when the bool is false.
    pub versions: Option<(u32, u32, bool)>,
    /// `limits { ... }`.
    pub limits: Vec<(&'static str, u64)>,
    /// Every type; the frame and responses are in here too.
    pub defs: Vec<Def>,
    /// Index of the frame.
    pub frame: Option<usize>,
    /// Index of the responses enum.
    pub responses: Option<usize>,
    /// The handshake.
    pub handshake: Option<Handshake>,
    /// Services.
    pub services: Vec<Service>,
    /// Detection alternatives.
    pub detect: Vec<Vec<DetectRule>>,
    /// Order the top-level items are written in (indices into `defs`), and which ones go
    /// outside the `protocol` block.
    pub order: Vec<(usize, bool)>,
}

impl Proto {
    /// The struct at `i`.
    pub fn st(&self, i: usize) -> &Struct {
        match &self.defs[i] {
            Def::Struct(s) => s,
            d => panic!("{} is not a struct", d.name()),
        }
    }

    /// Effective decoder limits (string, collection, frame).
    pub fn limit(&self, name: &str) -> u64 {
        self.limits.iter().rev().find(|(n, _)| *n == name).map_or(
            match name {
                "max_collection_len" => 1024 * 1024,
                _ => 16 * 1024 * 1024,
            },
            |(_, v)| *v,
        )
    }
}
