//! The syntax tree of a `.wire` file. Every node keeps its [`Span`] so that later passes
//! can point at the user's text.

use crate::diag::Span;

/// A name with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The text.
    pub text: String,
    /// Where it stands.
    pub span: Span,
}

/// An integer literal with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntLit {
    /// Its value.
    pub value: i128,
    /// Where it stands.
    pub span: Span,
}

/// One parsed file.
#[derive(Debug, Clone, Default)]
pub struct File {
    /// `import "x.wire"` paths as written.
    pub imports: Vec<(String, Span)>,
    /// Top-level shared definitions.
    pub items: Vec<Item>,
    /// The protocol block, if any.
    pub protocol: Option<Protocol>,
}

/// A protocol block.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The Rust-facing name.
    pub name: Name,
    /// The protocol id string (defaults to the name).
    pub id: Option<String>,
    /// `endian ...` declarations.
    pub endian: Vec<Name>,
    /// `versions a..=b` declarations.
    pub versions: Vec<Range>,
    /// `limits { ... }` entries.
    pub limits: Vec<(Name, IntLit)>,
    /// Definitions inside the protocol.
    pub items: Vec<Item>,
    /// Frame blocks.
    pub frames: Vec<StructDef>,
    /// `frame Name`: the frame is a type declared elsewhere.
    pub frame_uses: Vec<Name>,
    /// Handshake blocks.
    pub handshakes: Vec<Handshake>,
    /// Services.
    pub services: Vec<Service>,
    /// Response code blocks.
    pub responses: Vec<EnumDef>,
    /// Detection alternatives (`detect { .. } or { .. }`), each a set of rules.
    pub detect: Vec<DetectAlt>,
    /// `exchange { .. }` blocks (at most one is valid).
    pub exchanges: Vec<Exchange>,
    /// The whole block.
    pub span: Span,
}

/// A range `a..b` or `a..=b`.
#[derive(Debug, Clone)]
pub struct Range {
    /// Start.
    pub start: IntLit,
    /// End as written.
    pub end: IntLit,
    /// `..=`.
    pub inclusive: bool,
    /// Whole range.
    pub span: Span,
}

/// A definition.
#[derive(Debug, Clone)]
pub enum Item {
    /// `enum`.
    Enum(EnumDef),
    /// `flags`.
    Flags(FlagsDef),
    /// `struct`.
    Struct(StructDef),
    /// `header`: a struct carried as strings in a map.
    Header(StructDef),
    /// `encoding`.
    Encoding(EncodingDef),
    /// `union`: one of several structs.
    Union(UnionDef),
    /// `tagged`: a list of tagged members.
    Tagged(TaggedDef),
}

/// `union Name { A, B }`.
#[derive(Debug, Clone)]
pub struct UnionDef {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// The members, with their docs, whether each is the `else` member, and the side it is
    /// read from (`from client`).
    pub arms: Vec<(Vec<String>, Name, bool, Option<crate::ir::Sender>)>,
    /// The whole definition.
    pub span: Span,
}

/// `tagged Name : tag-type { tag name: type [repeated] }`.
#[derive(Debug, Clone)]
pub struct TaggedDef {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// How each tag is written.
    pub tag: TypeExpr,
    /// Members.
    pub members: Vec<TaggedMember>,
    /// The whole definition.
    pub span: Span,
}

/// `0x26 user_property: Pair repeated`.
#[derive(Debug, Clone)]
pub struct TaggedMember {
    /// Docs.
    pub docs: Vec<String>,
    /// The tag.
    pub tag: IntLit,
    /// Name.
    pub name: Name,
    /// Type of the value.
    pub ty: TypeExpr,
    /// May appear more than once.
    pub repeated: bool,
    /// The whole member.
    pub span: Span,
}

/// `enum Name : repr [open] { ... }`.
#[derive(Debug, Clone)]
pub struct EnumDef {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// Representation type name.
    pub repr: Name,
    /// Unknown values kept.
    pub open: bool,
    /// Variants.
    pub variants: Vec<Variant>,
}

/// `NAME = value @attrs`.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// Value.
    pub value: IntLit,
    /// Attributes.
    pub attrs: Vec<Attr>,
}

/// `flags Name : repr { A = bit 0 }`.
#[derive(Debug, Clone)]
pub struct FlagsDef {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// Representation.
    pub repr: Name,
    /// Bits.
    pub bits: Vec<Variant>,
}

/// A struct or frame.
#[derive(Debug, Clone)]
pub struct StructDef {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// Fields in wire order.
    pub fields: Vec<Field>,
    /// The whole definition.
    pub span: Span,
}

/// A field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// Type.
    pub ty: TypeExpr,
    /// `= ...`.
    pub value: Option<ValueSpec>,
    /// `{ part ... }`.
    pub bits: Option<Vec<BitPart>>,
    /// `by disc { ... }`.
    pub by: Option<ByClause>,
    /// `sized_by x` (a length field) or `sized_by u16` (a prefix type).
    pub sized_by: Option<TypeExpr>,
    /// `if cond`, and where it was written.
    pub cond: Option<(crate::ir::Cond, Span)>,
    /// `rest`.
    pub rest: Option<Span>,
    /// `as i32`: the Rust-side integer type of a narrower wire integer.
    pub widen: Option<Name>,
    /// `until "\r\n"`: the delimiter, and where.
    pub until: Option<(Vec<u8>, Span)>,
    /// `count n`: the field holding the element count.
    pub count: Option<Name>,
    /// `else -1` after `= len(x)`: the length written when `x` is absent.
    pub len_else: Option<IntLit>,
    /// `crlf: "\r\n"`: a literal field's bytes (its `ty` is then a placeholder), and where.
    pub literal: Option<(Vec<u8>, Span)>,
    /// Attributes.
    pub attrs: Vec<Attr>,
    /// The whole field.
    pub span: Span,
}

/// What follows `=` on a field.
#[derive(Debug, Clone)]
pub enum ValueSpec {
    /// A constant.
    Const(IntLit),
    /// `len(field)`.
    LenOf(Name, Span),
    /// `len(..)` (None: everything after this field) or `len(field..)`.
    LenFrom(Option<Name>, Span),
    /// `present(field)`.
    Present(Name, Span),
}

/// A part of a packed integer.
#[derive(Debug, Clone)]
pub struct BitPart {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// Type.
    pub ty: TypeExpr,
    /// Bit range (end exclusive after normalisation by the parser's caller).
    pub range: Range,
    /// `= ...`.
    pub value: Option<ValueSpec>,
    /// Attributes.
    pub attrs: Vec<Attr>,
    /// Whole part.
    pub span: Span,
}

/// `by disc { value => encoding }`.
#[derive(Debug, Clone)]
pub struct ByClause {
    /// The discriminator field.
    pub disc: Name,
    /// Arms.
    pub arms: Vec<(ArmKey, Name)>,
    /// Whole clause.
    pub span: Span,
}

/// The left side of a `by` arm.
#[derive(Debug, Clone)]
pub enum ArmKey {
    /// An integer value.
    Int(IntLit),
    /// An enum variant name.
    Name(Name),
}

/// `@name(args)`.
#[derive(Debug, Clone)]
pub struct Attr {
    /// Name.
    pub name: Name,
    /// Arguments as written.
    pub args: Vec<AttrArg>,
    /// Whole attribute.
    pub span: Span,
}

/// An attribute argument.
#[derive(Debug, Clone)]
pub enum AttrArg {
    /// Integer.
    Int(IntLit),
    /// String.
    Str(String, Span),
    /// Name.
    Name(Name),
}

/// A type as written.
#[derive(Debug, Clone)]
pub struct TypeExpr {
    /// The head name.
    pub name: Name,
    /// `<...>` arguments.
    pub args: Vec<TypeArg>,
    /// `?`.
    pub optional: bool,
    /// Whole type.
    pub span: Span,
}

/// A generic argument.
#[derive(Debug, Clone)]
pub enum TypeArg {
    /// A type.
    Type(TypeExpr),
    /// `max = n`.
    Max(IntLit),
}

/// `encoding Struct format { rules }`.
#[derive(Debug, Clone)]
pub struct EncodingDef {
    /// Docs.
    pub docs: Vec<String>,
    /// The struct.
    pub target: Name,
    /// The format (`json`).
    pub format: Name,
    /// Rules.
    pub rules: Vec<EncRule>,
    /// Whole definition.
    pub span: Span,
}

/// An encoding rule.
#[derive(Debug, Clone)]
pub enum EncRule {
    /// `rename_all camelCase`.
    RenameAll(Name),
    /// `rename field = "wire"`.
    Rename(Name, String),
    /// `field as name|number`.
    As(Name, Name),
    /// A bare flag such as `sort_keys`.
    Flag(Name),
    /// `constant "key" = value`: the value as JSON text.
    Const(String, String),
}

/// `handshake { key value ... }`.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// Docs.
    pub docs: Vec<String>,
    /// Rules.
    pub rules: Vec<(Name, HsValue)>,
    /// The `handshake` keyword (diagnostics point there).
    pub span: Span,
}

/// A handshake rule's value.
#[derive(Debug, Clone)]
pub enum HsValue {
    /// A name.
    Name(Name),
    /// A number.
    Int(IntLit),
}

/// `service Name { ... }`.
#[derive(Debug, Clone)]
pub struct Service {
    /// Docs.
    pub docs: Vec<String>,
    /// Name.
    pub name: Name,
    /// Calls.
    pub rpcs: Vec<Rpc>,
}

/// A request declaration.
#[derive(Debug, Clone)]
pub struct Rpc {
    /// Docs.
    pub docs: Vec<String>,
    /// `request` or `oneway`.
    pub oneway: bool,
    /// Name.
    pub name: Name,
    /// Request code.
    pub code: IntLit,
    /// Request parts.
    pub request: Vec<RpcPart>,
    /// Response parts (`-> {...}`).
    pub response: Option<Vec<RpcPart>>,
    /// Whole declaration.
    pub span: Span,
}

/// `header T in field as enc` / `body T as enc`.
#[derive(Debug, Clone)]
pub struct RpcPart {
    /// `header` or `body`.
    pub kind: Name,
    /// The type.
    pub ty: TypeExpr,
    /// `in field`.
    pub carrier: Option<Name>,
    /// `as encoding`.
    pub encoding: Option<Name>,
}

/// One `{ .. }` of a `detect` block: all its rules hold.
#[derive(Debug, Clone)]
pub struct DetectAlt {
    /// The rules.
    pub rules: Vec<DetectRule>,
    /// The braces.
    pub span: Span,
}

/// `prefix bytes [at offset]`.
#[derive(Debug, Clone)]
pub struct DetectRule {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Offset.
    pub at: usize,
    /// Whole rule.
    pub span: Span,
}

/// `exchange { .. }`, or the text of `#[polywire::protocol(exchange = "..")]`: the items as
/// written, in order; names are resolved by the lowering.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Docs.
    pub docs: Vec<String>,
    /// The items.
    pub items: Vec<ExItem>,
    /// The `exchange` keyword (the whole text for an attribute).
    pub span: Span,
}

/// One item of an `exchange` block.
#[derive(Debug, Clone)]
pub enum ExItem {
    /// `[hello] Msg -> answers`.
    Rule(ExRule),
    /// `correlate field`, with the keyword's place.
    Correlate(Name, Span),
    /// `order`.
    Order(Span),
    /// `push A, B`.
    Push(Vec<Name>),
    /// `keepalive Msg.field unit * factor ping Msg`.
    Keepalive(ExKeepalive),
    /// `on FAILURE -> Msg(field = value, ..) if cond`.
    Farewell(ExFarewell),
    /// `status Msg.field ok LO..HI message PATH`.
    Status(ExStatus),
}

/// `status Msg.field ok LO..HI message a.b`.
#[derive(Debug, Clone)]
pub struct ExStatus {
    /// The answer message.
    pub msg: Name,
    /// Its field.
    pub field: Name,
    /// `ok LO` or `ok LO..HI`, and where the clause was written; `None` means `ok 0`.
    pub ok: Option<(ExValue, Option<ExValue>, Span)>,
    /// `message a.b`: the path, empty when left out.
    pub message: Vec<Name>,
    /// The whole item.
    pub span: Span,
}

/// `on FAILURE -> Msg(field = value, ..) if cond`.
#[derive(Debug, Clone)]
pub struct ExFarewell {
    /// The failure keyword (`malformed`).
    pub on: Name,
    /// The message sent.
    pub msg: Name,
    /// The fields set, in order.
    pub sets: Vec<ExSet>,
    /// `if cond`, and where it was written.
    pub cond: Option<(crate::ir::Cond, Span)>,
    /// The whole item.
    pub span: Span,
}

/// `field = value` in a farewell.
#[derive(Debug, Clone)]
pub struct ExSet {
    /// The field.
    pub field: Name,
    /// The value.
    pub value: ExValue,
    /// The whole assignment.
    pub span: Span,
}

/// A value as written: a number or a name (`true`, `false`, an enum variant).
#[derive(Debug, Clone)]
pub enum ExValue {
    /// An integer literal.
    Int(i128),
    /// A string literal (a farewell's value of a string field).
    Str(String),
    /// A name.
    Name(Name),
}

/// `[hello] Msg -> answer, answer if cond`.
#[derive(Debug, Clone)]
pub struct ExRule {
    /// The `hello` keyword, when written.
    pub hello: Option<Span>,
    /// The message answered.
    pub on: Name,
    /// The answers in order.
    pub answers: Vec<ExAnswer>,
    /// `accept if cond`: the condition, and where the clause was written.
    pub accept: Option<(crate::ir::Cond, Span)>,
    /// The whole rule.
    pub span: Span,
}

/// One answer of a rule.
#[derive(Debug, Clone)]
pub struct ExAnswer {
    /// What is sent back.
    pub reply: ExReply,
    /// `if cond`, and where it was written.
    pub cond: Option<(crate::ir::Cond, Span)>,
    /// The whole answer.
    pub span: Span,
}

/// What an answer sends.
#[derive(Debug, Clone)]
pub enum ExReply {
    /// `nothing`.
    Nothing,
    /// `close`.
    Close,
    /// `Msg`.
    Message(Name),
    /// `Msg then close`.
    MessageThenClose(Name),
    /// `Item* then End`.
    Series(Name, Name),
    /// `Msg on failure` (true) or `Msg on success` (false).
    Only(Name, bool),
}

/// `keepalive Msg.field unit * factor ping Msg`.
#[derive(Debug, Clone)]
pub struct ExKeepalive {
    /// The message holding the interval.
    pub msg: Name,
    /// The field holding it.
    pub field: Name,
    /// `seconds` or `millis`.
    pub unit: Name,
    /// The factor as written (`1.5`).
    pub factor: Name,
    /// The ping message.
    pub ping: Name,
    /// The whole item.
    pub span: Span,
}
