//! THE emitter: IR → askama templates → `syn::File` → prettyplease. The `.wire` front end
//! and the derive macros both end here.

mod exchange;
pub(crate) mod json;
pub(crate) mod remoting;
pub mod rust;
mod structs;
pub use structs::reads_version;

use crate::ir::*;
use askama::Template;
use rust::{Gen, Locate, RT, camel_allow, ident, lit, pascal, screaming};

#[derive(Template)]
#[template(path = "protocol.rs", escape = "none")]
struct ProtocolView {
    name: String,
    id: String,
    id_lit: String,
    /// The protocol's `///` lines when no protocol type carries them: on `protocol_info`.
    docs: Vec<String>,
    versions: Option<(u32, u32)>,
    limits: (u64, u64, u64, u64, u64),
    /// Each alternative's rules, rendered as a `&[(offset, &[bytes])]` literal.
    detect: Vec<String>,
    enums: Vec<String>,
    structs: Vec<String>,
    frame: Option<String>,
    requests: Vec<RpcView>,
}

struct RpcView {
    docs: Vec<String>,
    const_name: String,
    code: i128,
    ty: String,
}

#[derive(Template)]
#[template(path = "enum.rs", escape = "none")]
struct EnumView {
    /// Emit the `pub enum` itself (false: impls only, for `#[derive(Message)]`).
    definition: bool,
    name: String,
    docs: Vec<String>,
    /// Where it is defined (see [`Gen::at`]).
    at: Vec<String>,
    /// Attributes the build adds to the definition (`Builder::type_attribute`).
    attrs: Vec<String>,
    repr: String,
    open: bool,
    variants: Vec<VariantView>,
    /// Also implement `WireMessage` and `encoded_len` (see [`Options::enum_messages`]).
    message: bool,
    /// The `decode_from` expression when `message`.
    decode: String,
    /// The `write_to` statements when `message`.
    encode: String,
    /// The encoded size when `message`.
    size: usize,
}

struct VariantView {
    rust: String,
    name_lit: String,
    value: String,
    value_doc: String,
    docs: Vec<String>,
}

#[derive(Template)]
#[template(path = "flags.rs", escape = "none")]
struct FlagsView {
    name: String,
    docs: Vec<String>,
    at: Vec<String>,
    /// Attributes the build adds to the definition (`Builder::type_attribute`).
    attrs: Vec<String>,
    repr: String,
    bits: Vec<BitView>,
}

struct BitView {
    name: String,
    bit: i128,
    /// The constant's value: `1 << bit`, or, for an i24's sign bit (bit 23), its
    /// sign-extended value, as decoding gives it.
    value: String,
    docs: Vec<String>,
}

#[derive(Template)]
#[template(path = "struct.rs", escape = "none")]
struct StructView {
    /// Emit the `pub struct` itself (false: impls only, for `#[derive(Message)]`).
    definition: bool,
    name: String,
    docs: Vec<String>,
    at: Vec<String>,
    /// Attributes the build adds to the definition (`Builder::type_attribute`).
    attrs: Vec<String>,
    fields: Vec<FieldView>,
    /// Fields with `@default`; empty means `#[derive(Default)]`.
    defaults: Vec<String>,
    decode: String,
    encode: String,
    size: String,
    extra: String,
    /// The protocol's frame: its `decode_from` is inlined into the codec's batch loop, so
    /// each frame is built where it is handed on rather than returned and moved.
    frame: bool,
}

struct FieldView {
    name: String,
    ty: String,
    docs: Vec<String>,
    /// The `@default` expression.
    default: Option<String>,
}

#[derive(Template)]
#[template(path = "header.rs", escape = "none")]
struct HeaderView {
    name: String,
    docs: Vec<String>,
    at: Vec<String>,
    /// Attributes the build adds to the definition (`Builder::type_attribute`).
    attrs: Vec<String>,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "frame.rs", escape = "none")]
struct FrameView {
    name: String,
    name_lit: String,
    probe: String,
    /// The frame's members depend on the side that sent it: `probe` reads `sender`.
    sided: bool,
    /// The frame has no length prefix (`probe` measures it by reading it).
    delimited: bool,
}

#[derive(Template)]
#[template(path = "union.rs", escape = "none")]
struct UnionView {
    name: String,
    name_lit: String,
    docs: Vec<String>,
    at: Vec<String>,
    /// Attributes the build adds to the definition (`Builder::type_attribute`).
    attrs: Vec<String>,
    /// Width and byte order of the word the members start with.
    width: u8,
    big: bool,
    /// The bits that tell the members apart.
    mask: String,
    arms: Vec<UnionArmView>,
    /// `#[allow(non_camel_case_types)]` when the union's name or a member's (its
    /// variants are named after the members) is not CamelCase.
    allow: &'static str,
    /// A member holds the union again (through a list): decoding counts the depth.
    recursive: bool,
    /// The keys of the members other than the `else` one, as a pattern (`(0x2b | 0x2d)`).
    keyed: String,
    /// Whether a member is the `else` one.
    has_fallback: bool,
    /// The members `from client` and `from server`, when the side that sent the bytes
    /// picks the member.
    sided: Option<(String, String)>,
}

struct UnionArmView {
    name: String,
    name_lit: String,
    docs: Vec<String>,
    /// The member's value of the masked bits.
    key: String,
    /// The `else` member: read when the key is no other member's.
    fallback: bool,
}

fn union_view(g: &Gen, u: &UnionDef) -> UnionView {
    let key = crate::ir::check::union_key(g.p, u);
    let (ty, mask) = key.as_ref().map_or(
        (
            IntType {
                bytes: 1,
                signed: false,
                endian: Endian::Big,
            },
            0,
        ),
        |(k, _)| (k.ty, k.mask),
    );
    let keys = key.map(|(_, keys)| keys).unwrap_or_default();
    let allow = std::iter::once(u.name.as_str())
        .chain(u.arms.iter().map(|a| g.p.types[a.ty].name()))
        .map(camel_allow)
        .find(|a| !a.is_empty())
        .unwrap_or_default();
    let keyed: Vec<String> = crate::ir::check::keyed_values(u, &keys)
        .iter()
        .map(|(_, k)| format!("{k:#x}"))
        .collect();
    UnionView {
        keyed: match keyed.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join(" | ")),
        },
        has_fallback: u.arms.iter().any(|a| a.fallback),
        sided: sided_members(u).map(|(c, s)| {
            (
                g.p.types[c].name().to_string(),
                g.p.types[s].name().to_string(),
            )
        }),
        recursive: union_is_recursive(g.p, u),
        allow,
        name: u.name.clone(),
        name_lit: lit(&u.name),
        docs: docs(&u.docs),
        at: g.at(u.span),
        attrs: g.type_attrs(&u.name),
        width: ty.bytes,
        big: ty.endian == Endian::Big,
        mask: format!("{mask:#x}"),
        arms: u
            .arms
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let name = g.p.types[a.ty].name().to_string();
                UnionArmView {
                    name_lit: lit(&name),
                    name,
                    docs: docs(&a.docs),
                    key: format!("{:#x}", keys.get(n).copied().unwrap_or(0)),
                    fallback: a.fallback,
                }
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "tagged.rs", escape = "none")]
struct TaggedView {
    name: String,
    name_lit: String,
    docs: Vec<String>,
    at: Vec<String>,
    /// Attributes the build adds to the definition (`Builder::type_attribute`).
    attrs: Vec<String>,
    /// Reads a tag from `__r` as u64.
    read_tag: String,
    members: Vec<MemberView>,
    size: String,
}

struct MemberView {
    name: String,
    name_lit: String,
    ty: String,
    docs: Vec<String>,
    tag: String,
    repeated: bool,
    /// Decodes one value from `__r`.
    decode: String,
    /// Writes the tag and the value bound to `x` (a reference) through `dst`.
    encode: String,
}

fn tagged_view(g: &Gen, t: &TaggedDef) -> TaggedView {
    let read_tag = match t.tag {
        Prefix::Int(i) => g.read_word(&i, "__r", &t.name),
        Prefix::Varint { max: None } => format!("__r.varint({})?", lit(&t.name)),
        Prefix::Varint { max: Some(m) } => format!("__r.varint_max({m}, {})?", lit(&t.name)),
    };
    let write_tag = |tag: u64| match t.tag {
        Prefix::Int(i) => g.write_const(&i, tag, "dst"),
        Prefix::Varint { .. } => format!("dst.put_varint({tag:#x});"),
    };
    let tag_len = |tag: u64| match t.tag {
        Prefix::Int(i) => usize::from(i.bytes),
        Prefix::Varint { .. } => structs::varint_len(tag),
    };
    let mut size = Vec::new();
    let members = t
        .members
        .iter()
        .map(|m| {
            let one = rust::sum(vec![tag_len(m.tag).to_string(), g.size(&m.ty, "x", true)]);
            let fixed = g.fixed_size(&m.ty).map(|n| n + tag_len(m.tag));
            size.push(if let Some(n) = fixed {
                if m.repeated {
                    format!("self.{}.len() * {n}", ident(&m.name))
                } else {
                    format!("usize::from(self.{}.is_some()) * {n}", ident(&m.name))
                }
            } else if m.repeated {
                format!(
                    "self.{}.iter().map(|x| {one}).sum::<usize>()",
                    ident(&m.name)
                )
            } else {
                format!("self.{}.as_ref().map_or(0, |x| {one})", ident(&m.name))
            });
            let inner = g.rust_type(&m.ty);
            MemberView {
                name: ident(&m.name),
                name_lit: lit(&m.name),
                ty: if m.repeated {
                    format!("::std::vec::Vec<{inner}>")
                } else {
                    format!("::std::option::Option<{inner}>")
                },
                docs: docs(&m.docs),
                tag: format!("{:#x}", m.tag),
                repeated: m.repeated,
                decode: g.decode(&m.ty, "__r", &m.name),
                encode: format!(
                    "{} {}",
                    write_tag(m.tag),
                    g.encode(&m.ty, "x", true, "dst", &m.name)
                ),
            }
        })
        .collect();
    TaggedView {
        name: t.name.clone(),
        name_lit: lit(&t.name),
        docs: docs(&t.docs),
        at: g.at(t.span),
        attrs: g.type_attrs(&t.name),
        read_tag,
        members,
        size: rust::sum(size),
    }
}

fn docs(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| lit(&format!(" {l}"))).collect()
}

/// The template's view of a struct's stored fields, with their `@default`s.
fn field_views(g: &Gen, s: &StructDef, defaults: &[(String, String)]) -> Vec<FieldView> {
    g.stored_fields(s)
        .into_iter()
        .map(|(name, ty, d)| FieldView {
            default: defaults
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, e)| e.clone()),
            name,
            ty,
            docs: docs(&d),
        })
        .collect()
}

/// `(field ident, expression)` for every `@default` of a struct.
fn field_defaults(p: &Protocol, s: &StructDef) -> Vec<(String, String)> {
    s.fields
        .iter()
        .filter_map(|f| {
            let d = f.default?;
            let expr = match &f.kind {
                FieldKind::Value(Type::Named(i)) => format!(
                    "<{n} as ::polywire::WireEnum>::from_wire_value({d}).unwrap_or_default()",
                    n = p.types[*i].name()
                ),
                _ => d.to_string(),
            };
            Some((ident(&f.name), expr))
        })
        .collect()
}

/// What [`emit_with`] writes. The default is a whole protocol, as a `.wire` file gets.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Emit only these types (indices into [`Protocol::types`]) and nothing protocol-wide
    /// (no `protocol_info`, codec, handshake or services): what `#[derive(Message)]` needs
    /// for one type. `None` emits the whole protocol.
    pub only_types: Option<Vec<usize>>,
    /// Leave out the `pub struct` / `pub enum` definitions (and a struct's `Default`), emitting
    /// only their impls: the type is already in the user's source.
    pub skip_definitions: bool,
    /// Also implement `WireMessage` (and an inherent `encoded_len`) for enums, reading and
    /// writing the enum's integer. A standalone `#[derive(Message)]` struct cannot see the
    /// types it names and encodes each as a message, so a derived enum must be one too.
    /// Its decode errors carry no path of their own (an enum has no fields), so in a field
    /// they read as the field's path (`colour`), as in a protocol.
    pub enum_messages: bool,
    /// Emit code that compiles against `polywire-core` alone: every path names
    /// `::polywire_core` instead of `::polywire`, and the typed service traits, their
    /// registration and the typed clients (which need the runtime) are left out. The frame's
    /// codec, `RemotingFrame`, `Protocol` and `Handshake` impls stay.
    pub codecs_only: bool,
    /// Attributes added to the definitions of generated types, as `(type name, attribute)`;
    /// the name `.` matches every type (`Builder::type_attribute`).
    pub type_attributes: Vec<(String, String)>,
    /// Leave out the server side: the typed service traits and their registration, the
    /// exchange handler trait, its dispatch and `server()` (`Builder::server(false)`).
    pub skip_server: bool,
    /// Leave out the typed clients (`Builder::client(false)`).
    pub skip_client: bool,
}

/// Which sides of the typed glue to emit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sides {
    /// Service traits, handlers and their registration.
    pub server: bool,
    /// Typed clients.
    pub client: bool,
}

/// The crate generated code names by default.
const RUNTIME_PATH: &str = "::polywire::";
/// The crate generated code names with [`Options::codecs_only`].
const CORE_PATH: &str = "::polywire_core::";

/// Emits the Rust source for a checked protocol, formatted.
pub fn emit(p: &Protocol) -> Result<String, String> {
    emit_with(p, &Options::default())
}

/// Emits the Rust source for a checked protocol, formatted, with a doc line on each
/// generated type (the protocol type and each request's and response's types too) saying
/// where `locate` puts its definition (``Defined at `wire/native.wire:42`.``): an error the
/// compiler finds in generated code then leads to the `.wire` file, at the type it is in.
pub fn emit_located(p: &Protocol, locate: Locate<'_>) -> Result<String, String> {
    emit_inner(p, &Options::default(), Some(locate))
}

/// [`emit_located`] as `opts` says.
pub fn emit_located_with(
    p: &Protocol,
    opts: &Options,
    locate: Locate<'_>,
) -> Result<String, String> {
    emit_inner(p, opts, Some(locate))
}

/// The `locate` for [`emit_located`] of a protocol read from `sources`: a span's file as
/// the sources name it and its line (`wire/native.wire:42`).
pub fn locate_in(sources: &crate::Sources) -> impl Fn(crate::Span) -> Option<String> + '_ {
    move |span| {
        let (line, _) = sources.line_col(span.file, span.start);
        Some(format!("{}:{line}", sources.name(span.file)))
    }
}

/// Emits the Rust source for a checked protocol as `opts` says, formatted.
pub fn emit_with(p: &Protocol, opts: &Options) -> Result<String, String> {
    emit_inner(p, opts, None)
}

fn emit_inner(p: &Protocol, opts: &Options, locate: Option<Locate<'_>>) -> Result<String, String> {
    let g = Gen {
        p,
        locate,
        type_attributes: &opts.type_attributes,
    };
    let definition = !opts.skip_definitions;
    let mut enums = Vec::new();
    let mut structs_out = Vec::new();
    for (i, t) in p.types.iter().enumerate() {
        if opts
            .only_types
            .as_ref()
            .is_some_and(|only| !only.contains(&i))
        {
            continue;
        }
        match t {
            TypeDef::Enum(e) => {
                let (decode, encode) = if opts.enum_messages {
                    let me = Type::Named(i);
                    (
                        g.decode(&me, "__r", &e.name),
                        g.encode(&me, "self", true, "dst", &e.name),
                    )
                } else {
                    Default::default()
                };
                enums.push(render(&EnumView {
                    definition,
                    message: opts.enum_messages,
                    decode,
                    encode,
                    size: usize::from(e.repr.bytes),
                    ..enum_view(&g, e)
                })?)
            }
            TypeDef::Flags(f) => enums.push(render(&FlagsView {
                name: f.name.clone(),
                docs: docs(&f.docs),
                at: g.at(f.span),
                attrs: g.type_attrs(&f.name),
                repr: f.repr.rust().into(),
                bits: f
                    .bits
                    .iter()
                    .map(|b| BitView {
                        name: screaming(&b.name),
                        bit: b.value,
                        value: if f.repr.signed && f.repr.bytes == 3 && b.value == 23 {
                            "-0x80_0000".into()
                        } else {
                            format!("1 << {}", b.value)
                        },
                        docs: docs(&b.docs),
                    })
                    .collect(),
            })?),
            TypeDef::Union(u) => structs_out.push(render(&union_view(&g, u))?),
            TypeDef::Tagged(t) => structs_out.push(render(&tagged_view(&g, t))?),
            TypeDef::Struct(s) if s.header_only => {
                structs_out.push(render(&HeaderView {
                    name: s.name.clone(),
                    docs: docs(&s.docs),
                    at: g.at(s.span),
                    attrs: g.type_attrs(&s.name),
                    fields: field_views(&g, s, &[]),
                })?);
            }
            TypeDef::Struct(s) => {
                let b = g.bodies(s);
                let mut extra = b.helpers;
                extra += &json::methods(&g, s);
                // A frame with both roles has them in its `RemotingFrame` impl.
                if Some(i) == p.frame && remoting::remoting_frame(p).is_none() {
                    extra += &frame_accessors(&g, s, true);
                }
                let defaults = field_defaults(p, s);
                structs_out.push(render(&StructView {
                    definition,
                    name: s.name.clone(),
                    docs: docs(&s.docs),
                    at: g.at(s.span),
                    attrs: g.type_attrs(&s.name),
                    fields: field_views(&g, s, &defaults),
                    defaults: defaults.into_iter().map(|(n, _)| n).collect(),
                    decode: b.decode,
                    encode: b.encode,
                    size: b.size,
                    extra,
                    frame: Some(i) == p.frame,
                })?);
                structs_out.push(json::mirrors(&g, s));
            }
        }
    }
    if opts.only_types.is_some() {
        let mut src = enums.concat();
        src += &structs_out.concat();
        return format(&crate_path(src, opts));
    }
    let frame = match p.frame.map(|fi| &p.types[fi]) {
        // A union of the two directions, and each direction's frame of its own.
        Some(TypeDef::Union(u)) if sided_members(u).is_some() => {
            let mut out = render(&FrameView {
                name: u.name.clone(),
                name_lit: lit(&u.name),
                probe: measure_probe(&u.name, "sender"),
                sided: true,
                delimited: true,
            })?;
            for a in &u.arms {
                let name = p.types[a.ty].name();
                out += &render(&FrameView {
                    name: name.to_string(),
                    name_lit: lit(name),
                    probe: measure_probe(name, "::std::option::Option::None"),
                    sided: false,
                    delimited: true,
                })?;
            }
            Some(out)
        }
        Some(TypeDef::Struct(s)) => Some(render(&FrameView {
            name: s.name.clone(),
            name_lit: lit(&s.name),
            probe: probe(p, s, true),
            sided: false,
            delimited: false,
        })?),
        Some(TypeDef::Union(u)) if !has_frame_length(p, u) => Some(render(&FrameView {
            name: u.name.clone(),
            name_lit: lit(&u.name),
            probe: measure_probe(&u.name, "::std::option::Option::None"),
            sided: false,
            delimited: true,
        })?),
        Some(TypeDef::Union(u)) => match u.arms.first().map(|a| &p.types[a.ty]) {
            Some(TypeDef::Struct(first)) => Some(render(&FrameView {
                name: u.name.clone(),
                name_lit: lit(&u.name),
                probe: probe(p, first, false),
                sided: false,
                delimited: false,
            })?),
            _ => None,
        },
        _ => None,
    };
    // Request codes take the type of the frame's `@code` field.
    let code_ty = p
        .frame_struct()
        .and_then(|s| find_marked(p, s, &|f| f.attrs.iter().any(|a| a == "code")))
        .map_or("i64".to_string(), |(_, t)| g.rust_type(&t));
    let requests = p
        .services
        .iter()
        .flat_map(|s| s.rpcs.iter())
        .map(|r| RpcView {
            docs: docs(&r.docs),
            const_name: screaming(&r.name),
            code: r.code,
            ty: code_ty.clone(),
        })
        .collect();
    let view = ProtocolView {
        name: p.name.clone(),
        id: p.id.clone(),
        id_lit: lit(&p.id),
        // The protocol's description goes on its protocol type (`NativeProtocol`); a
        // protocol without one (an `exchange` protocol, a set of messages) has it here.
        docs: match remoting::remoting_frame(p) {
            Some(_) => Vec::new(),
            None => docs(&p.docs),
        },
        versions: p.versions,
        limits: (
            p.limits.max_frame_len,
            p.limits.max_string_len,
            p.limits.max_collection_len,
            p.limits.max_line_len,
            p.limits.max_depth,
        ),
        detect: p
            .detect
            .iter()
            .map(|alt| {
                let rules: Vec<String> = alt
                    .iter()
                    .map(|d| format!("({}, &{:?})", d.at, d.bytes))
                    .collect();
                format!("&[{}]", rules.join(", "))
            })
            .collect(),
        enums,
        structs: structs_out,
        frame,
        requests,
    };
    let mut src = render(&view)?;
    let sides = Sides {
        server: !opts.codecs_only && !opts.skip_server,
        client: !opts.codecs_only && !opts.skip_client,
    };
    src += &remoting::emit(&g, sides);
    src += &exchange::sans_io(&g);
    src += &exchange::service(&g, sides);
    format(&private_alias(crate_path(src, opts), opts))
}

/// The name a protocol's generated code gives the crate's `__private` module (what it
/// names everything through), in one `use` at its top.
const PRIVATE_ALIAS: &str = "__pw";

/// A whole protocol's source naming the items generated code uses through one short
/// alias of the crate's `__private` module (`__pw::Reader`) instead of its full path
/// (`::polywire::__private::Reader`) at each use. Not for `#[derive(Message)]` output,
/// several of which can share a module.
fn private_alias(src: String, opts: &Options) -> String {
    let full = if opts.codecs_only {
        "::polywire_core::__private::"
    } else {
        "::polywire::__private::"
    };
    if !src.contains(full) {
        return src;
    }
    let module = full.trim_end_matches("::");
    format!(
        "use {module} as {PRIVATE_ALIAS};\n{}",
        src.replace(full, &format!("{PRIVATE_ALIAS}::"))
    )
}

/// The emitted source naming the crate `opts` asks for: the templates and emitters all
/// write `::polywire::` paths (through [`rust::RT`] or literally), which
/// [`Options::codecs_only`] turns into `::polywire_core::` ones.
fn crate_path(src: String, opts: &Options) -> String {
    if opts.codecs_only {
        src.replace(RUNTIME_PATH, CORE_PATH)
    } else {
        src
    }
}

fn render(t: &impl Template) -> Result<String, String> {
    t.render().map_err(|e| format!("template error: {e}"))
}

/// Parses and pretty-prints generated source; a parse failure is a bug in the emitter and
/// reports the offending code.
pub fn format(src: &str) -> Result<String, String> {
    match syn::parse_file(src) {
        Ok(file) => Ok(prettyplease::unparse(&file)),
        Err(e) => {
            let start = e.span().start();
            let line = src.lines().nth(start.line.saturating_sub(1)).unwrap_or("");
            Err(format!(
                "polywire-codegen produced invalid Rust ({e}) at {}:{}: {}",
                start.line,
                start.column,
                line.chars()
                    .skip(start.column.saturating_sub(80))
                    .take(200)
                    .collect::<String>()
            ))
        }
    }
}

fn enum_view(g: &Gen, e: &EnumDef) -> EnumView {
    let variants: Vec<VariantView> = e
        .variants
        .iter()
        .map(|v| VariantView {
            rust: pascal(&v.name),
            name_lit: lit(&v.name),
            value: format!("{}", v.value),
            value_doc: lit(&format!(" Wire value `{}` (`{}`).", v.value, v.name)),
            docs: docs(&v.docs),
        })
        .collect();
    EnumView {
        definition: true,
        name: e.name.clone(),
        docs: docs(&e.docs),
        at: g.at(e.span),
        attrs: g.type_attrs(&e.name),
        repr: e.repr.rust().into(),
        open: e.open,
        variants,
        message: false,
        decode: String::new(),
        encode: String::new(),
        size: 0,
    }
}

/// The frame-length probe: reads the fixed prefix up to the `len(..)` field in a buffer that
/// may be incomplete, consuming nothing.
///
/// With `check_consts` false (a union's probe, read through its first member: every member
/// has the same layout up to the length) constants are skipped, not checked: the member's
/// decoder checks its own.
fn probe(p: &Protocol, s: &StructDef, check_consts: bool) -> String {
    let mut out = String::new();
    for f in &s.fields {
        let fl = lit(&f.name);
        match &f.kind {
            FieldKind::Const { ty, .. } if !check_consts => {
                out += &format!("p.skip({});", ty.bytes);
            }
            FieldKind::Const { ty, value } => {
                out += &format!(
                    "p.constant({}, {}, {value:#x}, {fl})?;",
                    ty.bytes,
                    ty.endian == Endian::Big
                );
            }
            FieldKind::Length {
                ty,
                of: LenTarget::From(None),
            } => {
                // The probe steps over the fields before the length, if any.
                let probe = format!("{RT}::Probe::new(buf, {})", lit(&s.name));
                let length = format!("length({}, {fl}, limits)", rust::prefix_expr(ty));
                return if out.is_empty() {
                    format!("{probe}.{length}")
                } else {
                    format!("let mut p = {probe}; {out} p.{length}")
                };
            }
            FieldKind::Value(Type::Varint { .. }) => {
                out += &format!("p.skip_varint({fl})?;");
            }
            other => {
                let w = match other {
                    FieldKind::Bits { ty, .. } | FieldKind::Value(Type::Int(ty)) => {
                        usize::from(ty.bytes)
                    }
                    FieldKind::Value(Type::Named(i)) => match &p.types[*i] {
                        TypeDef::Enum(e) => usize::from(e.repr.bytes),
                        TypeDef::Flags(f) => usize::from(f.repr.bytes),
                        TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => 0,
                    },
                    // Bool; the checker admits nothing else before the length.
                    _ => 1,
                };
                out += &format!("p.skip({w});");
            }
        }
    }
    // The checker guarantees a `len(..)` field; keep the generated code total anyway.
    "let _ = (buf, limits); ::std::result::Result::Ok(::std::option::Option::None)".to_string()
}

/// Whether union `u` holds itself again, at any depth, through its members (each level of
/// such a union counts against `max_depth` when it is read).
pub fn union_is_recursive(p: &Protocol, u: &UnionDef) -> bool {
    reaches(
        p,
        u,
        &mut vec![false; p.types.len()],
        &u.arms.iter().map(|a| a.ty).collect::<Vec<_>>(),
    )
}

/// Whether the types `from` hold union `u` again, at any depth.
fn reaches(p: &Protocol, u: &UnionDef, seen: &mut Vec<bool>, from: &[usize]) -> bool {
    fn named(t: &Type, out: &mut Vec<usize>) {
        match t {
            Type::Named(i) => out.push(*i),
            Type::List { elem, .. } => named(elem, out),
            Type::Map { key, value, .. } => {
                named(key, out);
                named(value, out);
            }
            Type::Optional { inner, .. } => named(inner, out),
            _ => {}
        }
    }
    for &i in from {
        if seen[i] {
            continue;
        }
        seen[i] = true;
        let mut next = Vec::new();
        match &p.types[i] {
            TypeDef::Struct(s) => {
                for f in &s.fields {
                    match &f.kind {
                        FieldKind::Value(t) => named(t, &mut next),
                        FieldKind::Switch { ty, .. } => next.push(*ty),
                        _ => {}
                    }
                }
            }
            TypeDef::Union(w) => next.extend(w.arms.iter().map(|a| a.ty)),
            TypeDef::Tagged(t) => t.members.iter().for_each(|m| named(&m.ty, &mut next)),
            _ => {}
        }
        if next.iter().any(|&n| p.types[n].name() == u.name) || reaches(p, u, seen, &next) {
            return true;
        }
    }
    false
}

/// The members of union `u` read from what the client sends and from what the server
/// sends (type indexes), when it is a union of the two directions (`from client`).
pub fn sided_members(u: &UnionDef) -> Option<(usize, usize)> {
    let of = |side| u.arms.iter().find(|a| a.from == Some(side)).map(|a| a.ty);
    Some((of(Sender::Client)?, of(Sender::Server)?))
}

/// Whether a member of union `u` has a `len(..)` field: without one, a frame of `u` is
/// measured by decoding it (`measure_probe`).
pub fn has_frame_length(p: &Protocol, u: &UnionDef) -> bool {
    u.arms.iter().any(|a| match &p.types[a.ty] {
        TypeDef::Struct(s) => s.fields.iter().any(|f| {
            matches!(
                f.kind,
                FieldKind::Length {
                    of: LenTarget::From(_),
                    ..
                }
            )
        }),
        _ => false,
    })
}

/// The frame-length probe of a frame without a length prefix: decodes it tentatively over
/// the bytes received, consuming nothing; "need more" when they end inside it.
fn measure_probe(name: &str, sender: &str) -> String {
    let frame = lit(name);
    format!(
        "let mut __r = {RT}::Reader::measure(buf, *limits).with_sender({sender}); \
         match <Self as {RT}::WireMessage>::decode_from(&mut __r) {{ \
           ::std::result::Result::Ok(_) => {{ let n = __r.offset(); \
             if n > limits.max_frame_len {{ return ::std::result::Result::Err({RT}::DecodeError::new(0, {frame}, {RT}::DecodeErrorKind::TooLong {{ len: n as u64, max: limits.max_frame_len }})); }} \
             ::std::result::Result::Ok(::std::option::Option::Some(n)) }} \
           ::std::result::Result::Err(e) if e.kind == {RT}::DecodeErrorKind::Incomplete => {{ \
             if buf.len() > limits.max_frame_len {{ return ::std::result::Result::Err({RT}::DecodeError::new(0, {frame}, {RT}::DecodeErrorKind::TooLong {{ len: buf.len() as u64, max: limits.max_frame_len }})); }} \
             ::std::result::Result::Ok(::std::option::Option::None) }} \
           ::std::result::Result::Err(e) => ::std::result::Result::Err(e.within({frame})), }}"
    )
}

/// `correlation_id()` / `kind()` accessors for the frame, from `@correlation` and `@kind`:
/// the methods of its `RemotingFrame` impl, or, for a frame that has none (without both
/// roles), documented inherent methods (`inherent`).
pub(crate) fn frame_accessors(g: &Gen, s: &StructDef, inherent: bool) -> String {
    let doc = |d: &str| -> (&'static str, String) {
        if inherent {
            ("pub ", format!("/// {d}\n #[inline]\n"))
        } else {
            ("", "#[inline]\n".to_string())
        }
    };
    let mut out = String::new();
    if let Some((path, ty)) = find_marked(g.p, s, &|f| f.correlation) {
        let rust = g.rust_type(&ty);
        let (get, set) = if rust == "u64" {
            (format!("self.{path}"), "id".to_string())
        } else {
            (format!("self.{path} as u64"), format!("id as {rust}"))
        };
        let (v, d) = doc(&format!("The correlation id (`{path}`)."));
        out += &format!("{d}{v}fn correlation_id(&self) -> u64 {{ {get} }}\n");
        let (v, d) = doc("Sets the correlation id (truncated to the field's width).");
        out += &format!(
            "{d}{v}fn set_correlation_id(&mut self, id: u64) {{ self.{path} = {set}; }}\n"
        );
    }
    if let Some((path, ty)) = find_marked(g.p, s, &|f| f.kind_marker)
        && let Type::Named(i) = ty
        && let TypeDef::Flags(fl) = &g.p.types[i]
    {
        let bit = |attr: &str| {
            fl.bits
                .iter()
                .find(|b| b.attrs.iter().any(|a| a == attr))
                .map(|b| format!("{}::{}", fl.name, screaming(&b.name)))
        };
        let resp = bit("response").unwrap_or_default();
        let (oneway_get, oneway_set) = match bit("oneway") {
            Some(o) => (
                format!("self.{path}.contains({o})"),
                format!("self.{path}.set({o}, kind == {RT}::FrameKind::Oneway);"),
            ),
            None => ("false".to_string(), String::new()),
        };
        let (v, d) = doc("Request, response or oneway, from the `@kind` flags.");
        out += &format!(
            "{d}{v}fn kind(&self) -> {RT}::FrameKind {{ {RT}::FrameKind::of(self.{path}.contains({resp}), {oneway_get}) }}\n"
        );
        let (v, d) = doc("Sets the `@kind` flags for `kind`, keeping other bits.");
        out += &format!(
            "{d}{v}fn set_kind(&mut self, kind: {RT}::FrameKind) {{ self.{path}.set({resp}, kind == {RT}::FrameKind::Response); {oneway_set} }}\n"
        );
    } else if !inherent {
        // The checker gives a remoting frame `@kind` flags; the impl stays whole anyway.
        out += &format!(
            "fn kind(&self) -> {RT}::FrameKind {{ {RT}::FrameKind::Request }}\n\
             fn set_kind(&mut self, kind: {RT}::FrameKind) {{ let _ = kind; }}\n"
        );
    }
    out
}

/// Finds a field satisfying `pred` in `s` or in the structs it holds, returning its access
/// path (`header.opaque`) and type.
fn find_marked(
    p: &Protocol,
    s: &StructDef,
    pred: &dyn Fn(&Field) -> bool,
) -> Option<(String, Type)> {
    for f in &s.fields {
        if pred(f)
            && let FieldKind::Value(t) = &f.kind
        {
            // The Rust-side type: a widened integer is held wider than it travels.
            return Some((ident(&f.name), f.widen.map_or_else(|| t.clone(), Type::Int)));
        }
    }
    for f in &s.fields {
        let inner = match &f.kind {
            FieldKind::Value(Type::Named(i)) | FieldKind::Switch { ty: i, .. } => *i,
            _ => continue,
        };
        if let TypeDef::Struct(sub) = &p.types[inner]
            && let Some((path, t)) = find_marked(p, sub, pred)
        {
            return Some((format!("{}.{path}", ident(&f.name)), t));
        }
    }
    None
}

#[cfg(all(test, feature = "dsl"))]
mod tests {
    use super::*;

    const WIRE: &str = r#"protocol located "located" {
    flags Kind : u8 {
        RESPONSE = bit 0 @response
        ONEWAY = bit 1 @oneway
    }
    responses Status : u8 {
        OK = 0 @success
        FAILED = 1 @system_error
    }
    header Meta {
        key: string<u16>
    }
    frame {
        length: u32 = len(..)
        code: u16 @code
        id: u32 @correlation
        kind: Kind @kind
        word: u8 { small: u8 bits 0..4, flag: bool bits 4..5 }
        ext: map<string<u16>, string<u16>> sized_by u16
        body: bytes rest @message
    }
    service Calls {
        request Get = 1 { header Meta in ext }
    }
}
"#;

    /// The line of `.wire` text that `needle` starts on.
    fn line_of(needle: &str) -> usize {
        let at = WIRE.find(needle).expect("in the source");
        WIRE[..at].matches('\n').count() + 1
    }

    #[test]
    fn generated_items_say_where_they_are_defined() {
        let c = crate::load_str("wire/located.wire", WIRE).expect("a valid protocol");
        let locate = locate_in(&c.sources);
        let code = emit_located(&c.ir, &locate).expect("emits");
        // The doc line right above each item (its attributes aside).
        let defined_before = |item: &str| -> String {
            let at = code
                .find(item)
                .unwrap_or_else(|| panic!("no `{item}` in\n{code}"));
            code[..at]
                .lines()
                .rev()
                .find(|l| l.trim_start().starts_with("///"))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        for (item, wire) in [
            ("pub struct Kind(", "flags Kind"),
            ("pub enum Status {", "responses Status"),
            ("pub struct Meta {", "header Meta"),
            ("pub struct Frame {", "frame {"),
            ("pub struct GetRequest", "request Get"),
            ("pub struct GetResponse", "request Get"),
            ("pub struct LocatedProtocol", "protocol located"),
        ] {
            assert_eq!(
                defined_before(item),
                format!("/// Defined at `wire/located.wire:{}`.", line_of(wire)),
                "{item}"
            );
        }
        // Types carry the line, not each of their fields, variants, bits or methods.
        for item in [
            "pub const RESPONSE: Self",
            "    Failed,",
            "pub key:",
            "pub code: u16",
            "pub small: u8",
            "pub const GET:",
            "fn get(",
            "pub async fn get(",
        ] {
            assert!(
                !defined_before(item).contains("Defined at"),
                "{item}: {}",
                defined_before(item)
            );
        }
        // The derive macros' path has no sources to point into: no such lines.
        assert!(!emit(&c.ir).expect("emits").contains("Defined at"));
    }

    #[test]
    fn codecs_only_names_the_core_and_leaves_out_the_services() {
        let c = crate::load_str("wire/located.wire", WIRE).expect("a valid protocol");
        let full = emit(&c.ir).expect("emits");
        assert!(full.contains("::polywire::rt::RemotingClient"));
        assert!(
            full.starts_with("use ::polywire::__private as __pw;"),
            "{full}"
        );
        assert!(!full.contains("::polywire::__private::"), "{full}");
        assert!(full.contains("pub struct GetRequest"));
        let opts = Options {
            codecs_only: true,
            ..Options::default()
        };
        let core = emit_with(&c.ir, &opts).expect("emits");
        assert!(!core.contains("polywire::"), "{core}");
        assert!(!core.contains("rt::"), "{core}");
        assert!(!core.contains("pub struct GetRequest"), "{core}");
        assert!(!core.contains("async fn"), "{core}");
        for kept in [
            "pub type FrameCodec = ::polywire_core::FramedCodec<Frame>;",
            "impl ::polywire_core::Framed for Frame",
            "use ::polywire_core::__private as __pw;",
            "impl __pw::RemotingFrame for Frame",
            "impl __pw::Protocol for LocatedProtocol",
            "pub fn to_fields(",
            "pub const GET:",
        ] {
            assert!(core.contains(kept), "no `{kept}` in\n{core}");
        }
    }
}
