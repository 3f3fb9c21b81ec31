//! AST → IR: name and type resolution for `.wire` files. Everything that can be said
//! about the resolved IR is left to [`super::check`], which the derive macros share.

use super::*;
use crate::diag::Diagnostic;
use crate::dsl::ast;

/// Built-in type names, for "did you mean" hints and messages.
pub const BUILTIN_TYPES: &[&str] = &[
    "u8", "u16", "u24", "u32", "u64", "i8", "i16", "i24", "i32", "i64", "varint", "svarint",
    "bool", "string", "bytes", "list", "map",
];

/// The one field attribute that takes a value: `@default(n)`.
const FIELD_DEFAULT: &str = "default";

/// Attributes of enum variants and flag bits.
const VARIANT_ATTRS: &[&str] = &[
    "success",
    "not_supported",
    "system_error",
    "busy",
    "response",
    "oneway",
];

/// Whether `name` is an attribute the language knows anywhere.
fn known_attr(name: &str) -> bool {
    FIELD_MARKERS.contains(&name) || name == FIELD_DEFAULT || VARIANT_ATTRS.contains(&name)
}

/// Lowers the main file (with its protocol) plus the files it imports (already parsed,
/// dependencies first) into one IR. All errors are collected.
pub fn lower(main: &ast::File, imports: &[&ast::File]) -> Result<Protocol, Vec<Diagnostic>> {
    lower_recovering(main, imports, &[])
}

/// Like [`lower()`], for files whose items named in `broken` failed to parse and were left
/// out: references to those names are not reported as unknown types.
pub fn lower_recovering(
    main: &ast::File,
    imports: &[&ast::File],
    broken: &[String],
) -> Result<Protocol, Vec<Diagnostic>> {
    let mut cx = Lower {
        broken: broken.to_vec(),
        ..Lower::default()
    };
    let proto = match &main.protocol {
        Some(p) => p,
        None => {
            return Err(vec![Diagnostic::error(
                crate::diag::Span::default(),
                "this file declares no protocol",
                "expected `protocol name { ... }`",
            )
            .code("E0120")
            .help("add a `protocol` block; files with only shared definitions are imported by others")]);
        }
    };
    cx.endian = match proto.endian.last() {
        None => Endian::Big,
        Some(n) if n.text == "big" => Endian::Big,
        Some(n) if n.text == "little" => Endian::Little,
        Some(n) => {
            cx.err(
                Diagnostic::error(
                    n.span,
                    format!("unknown byte order `{}`", n.text),
                    "not a byte order",
                )
                .code("E0121")
                .help("write `endian big` or `endian little`"),
            );
            Endian::Big
        }
    };

    // Pass 1: names of every type, in definition order.
    let mut structs: Vec<(&ast::StructDef, bool)> = Vec::new();
    let mut all_items: Vec<&ast::Item> = Vec::new();
    for f in imports {
        all_items.extend(f.items.iter());
    }
    all_items.extend(main.items.iter());
    all_items.extend(proto.items.iter());
    for item in &all_items {
        match item {
            ast::Item::Enum(e) => cx.declare(&e.name),
            ast::Item::Flags(f) => cx.declare(&f.name),
            ast::Item::Struct(s) | ast::Item::Header(s) => {
                cx.declare(&s.name);
                structs.push((s, false));
            }
            ast::Item::Union(u) => cx.declare(&u.name),
            ast::Item::Tagged(t) => cx.declare(&t.name),
            ast::Item::Encoding(_) => {}
        }
    }
    for r in &proto.responses {
        cx.declare(&r.name);
    }
    for f in &proto.frames {
        cx.declare(&f.name);
        structs.push((f, true));
    }
    if let Some(second) = proto.frames.get(1) {
        cx.err(
            Diagnostic::error(second.name.span, "a protocol has one frame", "second frame")
                .code("E0122")
                .note(proto.frames[0].name.span, "first frame here")
                .help("describe variants inside the one frame, e.g. with a discriminator"),
        );
    }

    // Pass 2: definitions.
    let mut types = Vec::new();
    for item in &all_items {
        match item {
            ast::Item::Enum(e) => types.push(TypeDef::Enum(cx.enum_def(e))),
            ast::Item::Flags(f) => types.push(TypeDef::Flags(cx.flags_def(f))),
            ast::Item::Struct(s) => types.push(TypeDef::Struct(cx.struct_def(s))),
            ast::Item::Header(s) => {
                let mut def = cx.struct_def(s);
                def.header_only = true;
                types.push(TypeDef::Struct(def));
            }
            ast::Item::Union(u) => types.push(TypeDef::Union(cx.union_def(u))),
            ast::Item::Tagged(t) => types.push(TypeDef::Tagged(cx.tagged_def(t))),
            ast::Item::Encoding(_) => {}
        }
    }
    let responses = proto.responses.first().map(|r| {
        types.push(TypeDef::Enum(cx.enum_def(r)));
        types.len() - 1
    });
    let mut frame = proto.frames.first().map(|f| {
        types.push(TypeDef::Struct(cx.struct_def(f)));
        types.len() - 1
    });
    for used in &proto.frame_uses {
        if let Some(first) = proto
            .frames
            .first()
            .map(|f| f.name.span)
            .or_else(|| frame.and(proto.frame_uses.first().map(|n| n.span)))
        {
            cx.err(
                Diagnostic::error(used.span, "a protocol has one frame", "second frame")
                    .code("E0122")
                    .note(first, "first frame here")
                    .help("make the frame a `union` of the layouts it may have"),
            );
            continue;
        }
        match cx.lookup(used) {
            Some(i) if i < types.len() && types[i].is_message() => frame = Some(i),
            Some(_) => cx.err(
                Diagnostic::error(
                    used.span,
                    format!("`{}` cannot be the frame", used.text),
                    "not a struct or union",
                )
                .code("E0152")
                .help("the frame is a `struct` or a `union` of structs"),
            ),
            None => cx.unknown_type(used),
        }
    }

    // Encodings attach to their struct.
    for item in &all_items {
        if let ast::Item::Encoding(e) = item {
            let enc = cx.encoding(e);
            match cx.lookup(&e.target).map(|i| &mut types[i]) {
                Some(TypeDef::Struct(s)) => s.encodings.push(enc),
                Some(_) => cx.err(
                    Diagnostic::error(
                        e.target.span,
                        format!("`{}` is not a struct", e.target.text),
                        "encodings apply to structs",
                    )
                    .code("E0123"),
                ),
                None => cx.unknown_type(&e.target),
            }
        }
    }

    let versions = proto.versions.last().map(|r| {
        let end = if r.inclusive {
            r.end.value
        } else {
            r.end.value - 1
        };
        if r.start.value < 0 || end < r.start.value || end > i128::from(u32::MAX) {
            cx.err(
                Diagnostic::error(
                    r.span,
                    "empty or invalid version range",
                    "no version is in this range",
                )
                .code("E0124")
                .help("write the lowest and highest version, e.g. `versions 1..=3`"),
            );
        }
        (
            r.start.value.clamp(0, u32::MAX as i128) as u32,
            end.clamp(0, u32::MAX as i128) as u32,
        )
    });

    let mut limits = LimitsDecl::default();
    for (n, v) in &proto.limits {
        let value = v.value.clamp(0, u64::MAX as i128) as u64;
        let written = Some((v.value, v.span));
        match n.text.as_str() {
            "max_frame_len" => (limits.max_frame_len, limits.written[0]) = (value, written),
            "max_string_len" => (limits.max_string_len, limits.written[1]) = (value, written),
            "max_collection_len" => {
                (limits.max_collection_len, limits.written[2]) = (value, written)
            }
            "max_line_len" => (limits.max_line_len, limits.written[3]) = (value, written),
            "max_depth" => (limits.max_depth, limits.written[4]) = (value, written),
            other => cx.err(
                Diagnostic::error(n.span, format!("unknown limit `{other}`"), "not a limit")
                    .code("E0125")
                    .help("limits are max_frame_len, max_string_len and max_collection_len"),
            ),
        }
    }

    let handshake = proto.handshakes.first().and_then(|h| cx.handshake(h));
    for extra in proto.exchanges.iter().skip(1) {
        cx.err(
            Diagnostic::error(
                extra.span,
                "a protocol has one `exchange` block",
                "second block",
            )
            .code("E0153")
            .note(proto.exchanges[0].span, "first block")
            .help("write every rule in the one `exchange` block"),
        );
    }
    let exchange = proto.exchanges.first().and_then(|e| {
        let names: Vec<String> = cx.names.iter().map(|(n, _)| n.clone()).collect();
        let (x, errs) = exchange(e, &names, &cx.broken, &types);
        cx.errors.extend(errs);
        x
    });
    let services = proto.services.iter().map(|s| cx.service(s)).collect();
    let mut detect = Vec::new();
    for alt in &proto.detect {
        if alt.rules.is_empty() {
            cx.err(
                Diagnostic::error(
                    // The opening brace: the block may span lines.
                    Span {
                        end: alt.span.start + 1,
                        ..alt.span
                    },
                    "a detection alternative with no rule would claim every connection",
                    "this alternative is empty",
                )
                .code("E0126")
                .help("write at least one `prefix \"MAGIC\" at 0`"),
            );
            continue;
        }
        detect.push(
            alt.rules
                .iter()
                .map(|d| DetectRule {
                    at: d.at,
                    bytes: d.bytes.clone(),
                })
                .collect(),
        );
    }

    let ir = Protocol {
        name: proto.name.text.clone(),
        id: proto.id.clone().unwrap_or_else(|| proto.name.text.clone()),
        docs: proto.docs.clone(),
        endian: cx.endian,
        versions,
        limits,
        types,
        frame,
        handshake,
        services,
        responses,
        detect,
        exchange,
        span: proto.span,
    };
    if cx.errors.is_empty() {
        Ok(ir)
    } else {
        Err(cx.errors)
    }
}

#[derive(Default)]
struct Lower {
    names: Vec<(String, Span)>,
    /// Items that failed to parse: not reported again as unknown.
    broken: Vec<String>,
    endian: Endian,
    errors: Vec<Diagnostic>,
}

impl Lower {
    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn declare(&mut self, n: &ast::Name) {
        if let Some((_, first)) = self.names.iter().find(|(t, _)| *t == n.text) {
            let first = *first;
            self.err(
                Diagnostic::error(
                    n.span,
                    format!("type `{}` is defined twice", n.text),
                    "second definition",
                )
                .code("E0127")
                .note(first, "first defined here")
                .help("rename one of them"),
            );
            // Keep indices aligned with `types` by still registering it.
        }
        self.names.push((n.text.clone(), n.span));
    }

    fn lookup(&self, n: &ast::Name) -> Option<usize> {
        self.names.iter().position(|(t, _)| *t == n.text)
    }

    fn int_type(&self, name: &str) -> Option<IntType> {
        IntType::parse(name, self.endian)
    }

    fn repr(&mut self, n: &ast::Name) -> IntType {
        match self.int_type(&n.text) {
            Some(t) => t,
            None => {
                self.err(
                    Diagnostic::error(
                        n.span,
                        format!("`{}` cannot represent this type", n.text),
                        "expected an integer type",
                    )
                    .code("E0128")
                    .help("use an integer type such as u8, u16, i32"),
                );
                IntType {
                    bytes: 1,
                    signed: false,
                    endian: self.endian,
                }
            }
        }
    }

    /// The `max = n` of a type, if written.
    fn max_arg(t: &ast::TypeExpr) -> Option<u64> {
        t.args.iter().find_map(|a| match a {
            ast::TypeArg::Max(m) => Some(m.value.clamp(0, u64::MAX as i128) as u64),
            _ => None,
        })
    }

    /// `varint` or `varint<max = n>` as a prefix; None for anything else.
    fn varint_prefix(t: &ast::TypeExpr) -> Option<Prefix> {
        let only_max = t.args.iter().all(|a| matches!(a, ast::TypeArg::Max(_)));
        (t.name.text == "varint" && only_max && !t.optional).then(|| Prefix::Varint {
            max: Self::max_arg(t),
        })
    }

    fn prefix(&mut self, t: &ast::TypeExpr) -> Option<Prefix> {
        if let Some(p) = Self::varint_prefix(t) {
            return Some(p);
        }
        match self.int_type(&t.name.text) {
            Some(i) if t.args.is_empty() && !t.optional => Some(Prefix::Int(i)),
            _ => {
                self.err(
                    Diagnostic::error(
                        t.span,
                        format!("`{}` cannot be a length prefix", t.name.text),
                        "expected an integer type or `varint`",
                    )
                    .code("E0129")
                    .help("write e.g. `string<u16>` or `list<Item, varint>`"),
                );
                None
            }
        }
    }

    fn unknown_type(&mut self, n: &ast::Name) {
        if self.broken.contains(&n.text) {
            return;
        }
        let mut d = Diagnostic::error(
            n.span,
            format!("unknown type `{}`", n.text),
            "not a built-in or declared type",
        )
        .code("E0130");
        let candidates = BUILTIN_TYPES
            .iter()
            .map(|s| s.to_string())
            .chain(self.names.iter().map(|(t, _)| t.clone()));
        d = match crate::util::closest(&n.text, candidates) {
            Some(c) => d.help(format!("did you mean `{c}`?")),
            None => {
                d.help("declare it with `struct`, `enum` or `flags`, or import the file that does")
            }
        };
        self.err(d);
    }

    fn ty(&mut self, t: &ast::TypeExpr, empty_is_none: bool) -> Type {
        let base = self.base_ty(t);
        if t.optional {
            Type::Optional {
                inner: Box::new(base),
                repr: if empty_is_none {
                    OptRepr::EmptyIsNone
                } else {
                    OptRepr::Presence
                },
            }
        } else {
            base
        }
    }

    fn arity(&mut self, t: &ast::TypeExpr, min: usize, max: usize, usage: &str) -> bool {
        let n = t
            .args
            .iter()
            .filter(|a| matches!(a, ast::TypeArg::Type(_)))
            .count();
        if n < min || n > max {
            self.err(
                Diagnostic::error(
                    t.span,
                    format!(
                        "`{}` takes {} type argument(s), found {n}",
                        t.name.text,
                        if min == max {
                            min.to_string()
                        } else {
                            format!("{min} to {max}")
                        }
                    ),
                    "wrong number of arguments",
                )
                .code("E0131")
                .help(format!("write `{usage}`")),
            );
            return false;
        }
        true
    }

    fn base_ty(&mut self, t: &ast::TypeExpr) -> Type {
        let targs: Vec<&ast::TypeExpr> = t
            .args
            .iter()
            .filter_map(|a| match a {
                ast::TypeArg::Type(t) => Some(t),
                ast::TypeArg::Max(_) => None,
            })
            .collect();
        let max = Self::max_arg(t);
        if max.is_some() && !matches!(t.name.text.as_str(), "string" | "bytes" | "varint") {
            self.err(
                Diagnostic::error(
                    t.span,
                    "`max` applies to strings, bytes and `varint`",
                    "unexpected `max`",
                )
                .code("E0132"),
            );
        }
        let name = t.name.text.as_str();
        if let Some(i) = self.int_type(name) {
            self.arity(t, 0, 0, name);
            return Type::Int(i);
        }
        match name {
            "varint" | "svarint" => {
                self.arity(t, 0, 0, name);
                Type::Varint {
                    signed: name == "svarint",
                    max,
                }
            }
            "bool" => {
                self.arity(t, 0, 0, "bool");
                Type::Bool
            }
            "string" | "bytes" => {
                let prefix = if self.arity(t, 0, 1, &format!("{name}<u16>")) {
                    targs.first().and_then(|p| self.prefix(p))
                } else {
                    None
                };
                if name == "string" {
                    Type::String { prefix, max }
                } else {
                    Type::Bytes { prefix, max }
                }
            }
            "list" => {
                if !self.arity(t, 1, 2, "list<Elem, u16>") {
                    return Type::Bool;
                }
                let elem = Box::new(self.ty(targs[0], false));
                let count = targs.get(1).and_then(|p| self.prefix(p));
                Type::List {
                    elem,
                    count: count.or(if targs.len() == 1 {
                        Some(Prefix::Varint { max: None })
                    } else {
                        None
                    }),
                }
            }
            "map" => {
                if !self.arity(t, 2, 3, "map<Key, Value, u16>") {
                    return Type::Bool;
                }
                let key = Box::new(self.ty(targs[0], false));
                let value = Box::new(self.ty(targs[1], false));
                let count = targs.get(2).and_then(|p| self.prefix(p));
                Type::Map {
                    key,
                    value,
                    count: count.or(if targs.len() == 2 {
                        Some(Prefix::Varint { max: None })
                    } else {
                        None
                    }),
                }
            }
            _ => match self.lookup(&t.name) {
                Some(i) => {
                    self.arity(t, 0, 0, name);
                    Type::Named(i)
                }
                None => {
                    self.unknown_type(&t.name);
                    Type::Bool
                }
            },
        }
    }

    fn attrs(&mut self, attrs: &[ast::Attr], known: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for a in attrs {
            if !known.contains(&a.name.text.as_str()) {
                // `@name`, without the arguments.
                let mut at = a.span;
                at.end = a.name.span.end;
                self.err(
                    Diagnostic::error(
                        at,
                        if known_attr(&a.name.text) {
                            format!("attribute `@{}` does not apply here", a.name.text)
                        } else {
                            format!("unknown attribute `@{}`", a.name.text)
                        },
                        "not an attribute here",
                    )
                    .code("E0133")
                    .help(attr_help(&a.name.text, known)),
                );
            } else if out.contains(&a.name.text) {
                self.err(
                    Diagnostic::error(
                        a.span,
                        format!("attribute `@{}` is given twice", a.name.text),
                        "repeated",
                    )
                    .code("E0134"),
                );
            } else {
                out.push(a.name.text.clone());
            }
        }
        out
    }

    fn variants(&mut self, vs: &[ast::Variant], known: &[&str]) -> Vec<Variant> {
        vs.iter()
            .map(|v| Variant {
                name: v.name.text.clone(),
                docs: v.docs.clone(),
                value: v.value.value,
                attrs: self.attrs(&v.attrs, known),
                message: v.attrs.iter().find_map(|a| match a.args.first() {
                    Some(ast::AttrArg::Str(s, _)) => Some(s.clone()),
                    _ => None,
                }),
                span: v.value.span,
                name_span: v.name.span,
            })
            .collect()
    }

    fn enum_def(&mut self, e: &ast::EnumDef) -> EnumDef {
        EnumDef {
            name: e.name.text.clone(),
            docs: e.docs.clone(),
            repr: self.repr(&e.repr),
            open: e.open,
            variants: self.variants(
                &e.variants,
                &["success", "not_supported", "system_error", "busy"],
            ),
            span: e.name.span,
        }
    }

    fn flags_def(&mut self, f: &ast::FlagsDef) -> FlagsDef {
        FlagsDef {
            name: f.name.text.clone(),
            docs: f.docs.clone(),
            repr: self.repr(&f.repr),
            bits: self.variants(&f.bits, &["response", "oneway"]),
            span: f.name.span,
        }
    }

    fn len_target(v: &ast::ValueSpec) -> Option<LenTarget> {
        match v {
            ast::ValueSpec::Const(_) | ast::ValueSpec::Present(..) => None,
            ast::ValueSpec::LenOf(n, _) => Some(LenTarget::Field(n.text.clone())),
            ast::ValueSpec::LenFrom(n, _) => {
                Some(LenTarget::From(n.as_ref().map(|n| n.text.clone())))
            }
        }
    }

    fn field(&mut self, f: &ast::Field) -> Field {
        let known: Vec<&str> = FIELD_MARKERS
            .iter()
            .copied()
            .chain([FIELD_DEFAULT])
            .collect();
        let attrs = self.attrs(&f.attrs, &known);
        let empty_is_none = attrs.iter().any(|a| a == "empty_is_none");
        // `decimal<i64>`: an integer written as ASCII decimal.
        let decimal = (f.ty.name.text == "decimal").then(|| self.decimal_int(&f.ty));
        let kind = if let Some((b, sp)) = &f.literal {
            if b.is_empty() {
                self.err(
                    Diagnostic::error(*sp, "a literal field needs at least one byte", "empty")
                        .code("E0112")
                        .help("write the bytes the field stands for, e.g. `crlf: \"\\r\\n\"`"),
                );
            }
            FieldKind::Literal(b.clone())
        } else if let Some(i) = decimal {
            match &f.value {
                None => FieldKind::Value(Type::Int(i)),
                Some(v @ (ast::ValueSpec::LenOf(..) | ast::ValueSpec::LenFrom(..))) => {
                    FieldKind::Length {
                        ty: Prefix::Int(i),
                        of: Self::len_target(v).expect("len"),
                    }
                }
                Some(v) => {
                    self.err(
                        Diagnostic::error(
                            value_span(v),
                            "a decimal field is a value or a computed length",
                            "not here",
                        )
                        .code("E0113")
                        .help("drop the `=`, or write `= len(field)`"),
                    );
                    FieldKind::Value(Type::Int(i))
                }
            }
        } else if let Some(parts) = &f.bits {
            let ty = self.repr(&f.ty.name);
            let parts = parts
                .iter()
                .map(|p| {
                    let pty = self.ty(&p.ty, false);
                    let hi = if p.range.inclusive {
                        p.range.end.value + 1
                    } else {
                        p.range.end.value
                    };
                    let value = match &p.value {
                        None => PartValue::Stored,
                        // Two's complement: a negative constant fits no narrower part.
                        Some(ast::ValueSpec::Const(c)) => {
                            PartValue::Const(c.value.clamp(i64::MIN.into(), u64::MAX.into()) as u64)
                        }
                        Some(ast::ValueSpec::Present(n, _)) => PartValue::Present(n.text.clone()),
                        Some(v) => PartValue::Length(Self::len_target(v).expect("len")),
                    };
                    let attrs = self.attrs(&p.attrs, &["echo"]);
                    BitPart {
                        name: p.name.text.clone(),
                        docs: p.docs.clone(),
                        ty: pty,
                        lo: p.range.start.value.clamp(0, 1024) as u32,
                        hi: hi.clamp(0, 1024) as u32,
                        value,
                        attrs,
                        span: p.span,
                        at: PartSpans {
                            name: p.name.span,
                            ty: p.ty.span,
                            value: p.value.as_ref().map_or_else(Span::default, value_span),
                            ..PartSpans::default()
                        },
                    }
                })
                .collect();
            FieldKind::Bits { ty, parts }
        } else if let Some(by) = &f.by {
            let ty = match self.lookup(&f.ty.name) {
                Some(i) => i,
                None => {
                    self.unknown_type(&f.ty.name);
                    0
                }
            };
            let arms = by
                .arms
                .iter()
                .map(|(k, enc)| {
                    let v = match k {
                        ast::ArmKey::Int(i) => i.value,
                        ast::ArmKey::Name(n) => {
                            self.err(
                                Diagnostic::error(
                                    n.span,
                                    "a discriminator arm needs a number",
                                    "a name here",
                                )
                                .code("E0135")
                                .help("write the discriminator's value, e.g. `0 => json`"),
                            );
                            i128::MIN
                        }
                    };
                    (v, enc.text.clone())
                })
                .collect();
            FieldKind::Switch {
                ty,
                disc: by.disc.text.clone(),
                arms,
            }
        } else {
            match &f.value {
                Some(ast::ValueSpec::Const(c)) => {
                    let ty = self.repr(&f.ty.name);
                    let value = c.value;
                    if value < ty.min_value() || value > i128::from(ty.max_value()) {
                        self.err(
                            Diagnostic::error(
                                c.span,
                                format!("constant {} does not fit in `{}`", value, f.ty.name.text),
                                "out of range",
                            )
                            .code("E0136"),
                        );
                    }
                    FieldKind::Const {
                        ty,
                        value: (value as i64) as u64 & mask(ty.bits()),
                    }
                }
                Some(ast::ValueSpec::Present(_, span)) => {
                    self.err(
                        Diagnostic::error(
                            *span,
                            "`present(..)` is the value of a bit part",
                            "not on a whole field",
                        )
                        .code("E0150")
                        .help("pack it into a word: `flags: u8 { has_x: bool bits 0..1 = present(x) }`"),
                    );
                    FieldKind::Value(Type::Bool)
                }
                Some(v) => {
                    let ty = Self::varint_prefix(&f.ty)
                        .or_else(|| self.int_type(&f.ty.name.text).map(Prefix::Int));
                    let ty = ty.unwrap_or_else(|| {
                        self.err(
                            Diagnostic::error(
                                f.ty.span,
                                format!("a length cannot be a `{}`", f.ty.name.text),
                                "expected an integer type or `varint`",
                            )
                            .code("E0137"),
                        );
                        Prefix::Varint { max: None }
                    });
                    FieldKind::Length {
                        ty,
                        of: Self::len_target(v).expect("len"),
                    }
                }
                None => FieldKind::Value(self.ty(&f.ty, empty_is_none)),
            }
        };
        if let Some(v) = &f.len_else {
            match &kind {
                FieldKind::Length { ty, .. } => {
                    let (lo, hi) = match ty {
                        Prefix::Int(i) => (i.min_value(), i128::from(i.max_value())),
                        Prefix::Varint { max } => (0, i128::from(max.unwrap_or(u64::MAX))),
                    };
                    if !(lo..=hi).contains(&v.value) {
                        self.err(
                            Diagnostic::error(
                                v.span,
                                format!("`else {}` does not fit `{}`", v.value, f.name.text),
                                "out of range",
                            )
                            .code("E0117")
                            .help(format!("`{}` holds {lo} to {hi}", f.name.text)),
                        );
                    }
                }
                _ => self.err(
                    Diagnostic::error(
                        v.span,
                        format!("`else` on `{}`, which is no computed length", f.name.text),
                        "no `= len(..)` to stand in for",
                    )
                    .code("E0116")
                    .help("`else` follows `= len(x)`, where `x` is a conditional field"),
                ),
            }
        }
        let region = match (&f.rest, &f.sized_by) {
            _ if f.until.is_some() || f.count.is_some() => {
                let extra = [
                    f.rest.is_some(),
                    f.sized_by.is_some(),
                    f.until.is_some(),
                    f.count.is_some(),
                ];
                if extra.iter().filter(|x| **x).count() > 1 {
                    self.err(
                        Diagnostic::error(
                            f.span,
                            "a field has one extent: `rest`, `sized_by`, `until` or `count`",
                            "more than one",
                        )
                        .code("E0114")
                        .help("keep one of them"),
                    );
                }
                match (&f.until, &f.count) {
                    (Some((d, sp)), _) => {
                        if d.is_empty() {
                            self.err(
                                Diagnostic::error(
                                    *sp,
                                    "`until` needs at least one byte",
                                    "empty delimiter",
                                )
                                .code("E0112")
                                .help("write the delimiter, e.g. `until \"\\r\\n\"`"),
                            );
                        }
                        Region::Until(d.clone())
                    }
                    (None, Some(n)) => Region::Count(n.text.clone()),
                    (None, None) => Region::Inline,
                }
            }
            (Some(_), None) => Region::Rest,
            (None, Some(t)) => {
                if let Some(p) = Self::varint_prefix(t) {
                    Region::Prefixed(p)
                } else if let Some(i) = self.int_type(&t.name.text)
                    && t.args.is_empty()
                {
                    Region::Prefixed(Prefix::Int(i))
                } else if t.args.is_empty() && !t.optional {
                    Region::SizedBy(t.name.text.clone())
                } else {
                    self.err(
                        Diagnostic::error(
                            t.span,
                            format!("`sized_by` takes a length field or a prefix type, not `{}`", t.name.text),
                            "not a length",
                        )
                        .code("E0151")
                        .help("write `sized_by len_field`, `sized_by u16` or `sized_by varint<max = 268435455>`"),
                    );
                    Region::Inline
                }
            }
            (Some(r), Some(n)) => {
                self.err(
                    Diagnostic::error(*r, "`rest` and `sized_by` exclude each other", "choose one")
                        .code("E0138")
                        .note(n.span, "sized here"),
                );
                Region::Rest
            }
            (None, None) => Region::Inline,
        };
        // A list or map whose extent comes from its region reads elements until the region
        // ends, unless a count prefix was written explicitly.
        let mut kind = kind;
        if region != Region::Inline
            && let FieldKind::Value(ty) = &mut kind
        {
            let explicit =
                f.ty.args
                    .iter()
                    .filter(|a| matches!(a, ast::TypeArg::Type(_)))
                    .count();
            let inner = match ty {
                Type::Optional { inner, .. } => &mut **inner,
                t => t,
            };
            match inner {
                Type::List { count, .. } if explicit < 2 => *count = None,
                Type::Map { count, .. } if explicit < 3 => *count = None,
                _ => {}
            }
        }
        Field {
            name: f.name.text.clone(),
            docs: f.docs.clone(),
            kind,
            region,
            correlation: attrs.iter().any(|a| a == "correlation"),
            kind_marker: attrs.iter().any(|a| a == "kind"),
            attrs,
            widen: f.widen.as_ref().and_then(|w| {
                let t = self.int_type(&w.text);
                if t.is_none() {
                    self.err(
                        Diagnostic::error(
                            w.span,
                            format!("`{}` is not an integer type", w.text),
                            "expected an integer type",
                        )
                        .code("E0139")
                        .help("write e.g. `code: i16 as i32`"),
                    );
                }
                t
            }),
            cond: f.cond.as_ref().map(|(c, _)| c.clone()),
            decimal: decimal.is_some(),
            len_else: f.len_else.as_ref().map(|i| i.value),
            default: f
                .attrs
                .iter()
                .find(|a| a.name.text == "default")
                .and_then(|a| match a.args.first() {
                    Some(ast::AttrArg::Int(i)) => Some(i.value),
                    _ => {
                        self.err(
                            Diagnostic::error(a.span, "`@default` takes an integer", "no value")
                                .code("E0140")
                                .help("write e.g. `@default(479)`"),
                        );
                        None
                    }
                }),
            span: f.span,
            at: field_spans(f),
        }
    }

    /// The integer type of `decimal<T>`: any integer type up to `i64` (a `u64` could
    /// hold values its text form, read as `i64`, cannot).
    fn decimal_int(&mut self, t: &ast::TypeExpr) -> IntType {
        let inner = match t.args.as_slice() {
            [ast::TypeArg::Type(a)] if a.args.is_empty() && !a.optional => {
                self.int_type(&a.name.text)
            }
            _ => None,
        };
        match inner {
            Some(i) if i.bytes != 8 || i.signed => i,
            _ => {
                self.err(
                    Diagnostic::error(
                        t.span,
                        "`decimal` takes one integer type, at most `i64`",
                        "not a decimal type",
                    )
                    .code("E0115")
                    .help("write e.g. `decimal<i64>`"),
                );
                IntType {
                    bytes: 8,
                    signed: true,
                    endian: Endian::Big,
                }
            }
        }
    }

    fn union_def(&mut self, u: &ast::UnionDef) -> UnionDef {
        let mut arms = Vec::new();
        for (docs, n, fallback, from) in &u.arms {
            match self.lookup(n) {
                Some(ty) => arms.push(UnionArm {
                    ty,
                    docs: docs.clone(),
                    fallback: *fallback,
                    from: *from,
                    span: n.span,
                }),
                None => self.unknown_type(n),
            }
        }
        UnionDef {
            name: u.name.text.clone(),
            docs: u.docs.clone(),
            arms,
            span: u.name.span,
        }
    }

    fn tagged_def(&mut self, t: &ast::TaggedDef) -> TaggedDef {
        let tag = self.prefix(&t.tag).unwrap_or(Prefix::Varint { max: None });
        let members = t
            .members
            .iter()
            .map(|m| TaggedMember {
                name: m.name.text.clone(),
                docs: m.docs.clone(),
                tag: m.tag.value.clamp(0, u64::MAX as i128) as u64,
                ty: self.ty(&m.ty, false),
                repeated: m.repeated,
                span: m.name.span,
                tag_span: m.tag.span,
            })
            .collect();
        TaggedDef {
            name: t.name.text.clone(),
            docs: t.docs.clone(),
            tag,
            members,
            span: t.name.span,
        }
    }

    fn struct_def(&mut self, s: &ast::StructDef) -> StructDef {
        StructDef {
            name: s.name.text.clone(),
            docs: s.docs.clone(),
            fields: s.fields.iter().map(|f| self.field(f)).collect(),
            encodings: Vec::new(),
            header_only: false,
            span: s.name.span,
        }
    }

    fn encoding(&mut self, e: &ast::EncodingDef) -> Encoding {
        let format = match e.format.text.as_str() {
            "json" => Format::Json,
            other => {
                self.err(
                    Diagnostic::error(
                        e.format.span,
                        format!("unknown encoding format `{other}`"),
                        "not a format",
                    )
                    .code("E0141")
                    .help(if other.eq_ignore_ascii_case("json") {
                        "format names are lower case: write `json`"
                    } else {
                        "the formats are `json` (and the struct's own binary layout, `binary`)"
                    }),
                );
                Format::Json
            }
        };
        let mut enc = Encoding {
            name: e.format.text.clone(),
            format,
            rename_all: None,
            renames: vec![],
            by_name: vec![],
            flags: vec![],
            constants: vec![],
            span: e.span,
            rule_spans: e
                .rules
                .iter()
                .filter_map(|r| match r {
                    ast::EncRule::Rename(f, _) | ast::EncRule::As(f, _) => {
                        Some((f.text.clone(), f.span))
                    }
                    _ => None,
                })
                .collect(),
        };
        for r in &e.rules {
            match r {
                ast::EncRule::RenameAll(c) => {
                    if ![
                        "camelCase",
                        "snake_case",
                        "PascalCase",
                        "SCREAMING_SNAKE_CASE",
                        "kebab-case",
                        "lowercase",
                    ]
                    .contains(&c.text.as_str())
                    {
                        self.err(
                            Diagnostic::error(
                                c.span,
                                format!("unknown case `{}`", c.text),
                                "not a case",
                            )
                            .code("E0142")
                            .help("use camelCase, snake_case, PascalCase, SCREAMING_SNAKE_CASE, kebab-case or lowercase"),
                        );
                    }
                    enc.rename_all = Some(c.text.clone());
                }
                ast::EncRule::Rename(f, to) => enc.renames.push((f.text.clone(), to.clone())),
                ast::EncRule::As(f, how) => match how.text.as_str() {
                    "name" => enc.by_name.push(f.text.clone()),
                    "number" => {}
                    other => self.err(
                        Diagnostic::error(
                            how.span,
                            format!("unknown representation `{other}`"),
                            "expected `name` or `number`",
                        )
                        .code("E0143"),
                    ),
                },
                ast::EncRule::Const(k, v) => enc.constants.push((k.clone(), v.clone())),
                ast::EncRule::Flag(f) => {
                    if !["sort_keys", "omit_none"].contains(&f.text.as_str()) {
                        self.err(Diagnostic::error(f.span, format!("unknown encoding rule `{}`", f.text), "not a rule").code("E0144").help("rules are rename_all, rename, `field as name`, sort_keys, omit_none"));
                    }
                    enc.flags.push(f.text.clone());
                }
            }
        }
        enc
    }

    fn struct_ref(&mut self, n: &ast::Name) -> Option<usize> {
        match self.lookup(n) {
            Some(i) => Some(i),
            None => {
                self.unknown_type(n);
                None
            }
        }
    }

    fn handshake(&mut self, h: &ast::Handshake) -> Option<Handshake> {
        let (mut hello, mut accept, mut reject, mut choose, mut timeout) =
            (None, None, None, "highest".to_string(), 5000u64);
        for (k, v) in &h.rules {
            match (k.text.as_str(), v) {
                ("hello", ast::HsValue::Name(n)) => hello = self.struct_ref(n),
                ("accept", ast::HsValue::Name(n)) => accept = self.struct_ref(n),
                ("reject", ast::HsValue::Name(n)) => reject = self.struct_ref(n),
                ("choose", ast::HsValue::Name(n)) if n.text == "highest" || n.text == "lowest" => choose = n.text.clone(),
                ("timeout_ms", ast::HsValue::Int(i)) => timeout = i.value.clamp(0, u64::MAX as i128) as u64,
                _ => self.err(Diagnostic::error(k.span, format!("invalid handshake rule `{}`", k.text), "not understood")
                    .code("E0145")
                    .help("rules are `hello Struct`, `accept Struct`, `reject Struct`, `choose highest|lowest`, `timeout_ms N`")),
            }
        }
        // A message whose definition failed to parse was reported already.
        let broken = h
            .rules
            .iter()
            .any(|(_, v)| matches!(v, ast::HsValue::Name(n) if self.broken.contains(&n.text)));
        if broken {
            return None;
        }
        if hello.is_none() || accept.is_none() {
            self.err(Diagnostic::error(h.span, "a handshake needs `hello` and `accept` messages", "incomplete handshake")
                .code("E0146")
                .help("name the client's first message with `hello Struct` and the server's answer with `accept Struct`"));
            return None;
        }
        Some(Handshake {
            docs: h.docs.clone(),
            hello: hello?,
            accept: accept?,
            reject,
            choose,
            timeout_ms: timeout,
            span: h.span,
        })
    }

    fn payload(&mut self, parts: &[ast::RpcPart]) -> Payload {
        let mut p = Payload::default();
        for part in parts {
            match part.kind.text.as_str() {
                "header" => {
                    let ty = self.struct_ref(&part.ty.name).unwrap_or(0);
                    let carrier = match &part.carrier {
                        Some(c) => c.text.clone(),
                        None => {
                            self.err(
                                Diagnostic::error(
                                    part.ty.span,
                                    "a header needs the frame field that carries it",
                                    "missing `in field`",
                                )
                                .code("E0147")
                                .help(format!(
                                    "write `header {} in <map field of the frame>`",
                                    part.ty.name.text
                                )),
                            );
                            String::new()
                        }
                    };
                    p.header = Some(HeaderPart { ty, carrier });
                }
                "body" => {
                    let ty = self.ty(&part.ty, false);
                    let encoding = part
                        .encoding
                        .as_ref()
                        .map_or("binary".into(), |e| e.text.clone());
                    p.body = Some(BodyPart { ty, encoding });
                }
                other => self.err(
                    Diagnostic::error(
                        part.kind.span,
                        format!("unknown payload part `{other}`"),
                        "expected `header` or `body`",
                    )
                    .code("E0148"),
                ),
            }
        }
        p
    }

    fn service(&mut self, s: &ast::Service) -> Service {
        // Reported here rather than in `check`, where only the request code has a span.
        for r in s.rpcs.iter().filter(|r| r.oneway) {
            let parts = r.response.as_deref().unwrap_or_default();
            if let (Some(first), Some(last)) = (parts.first(), parts.last()) {
                let end = [&last.carrier, &last.encoding]
                    .into_iter()
                    .flatten()
                    .map(|n| n.span.end)
                    .fold(last.ty.span.end, u32::max);
                let mut span = first.kind.span;
                span.end = end;
                self.err(
                    Diagnostic::error(
                        span,
                        format!("oneway request `{}` declares a response", r.name.text),
                        "a oneway request gets no response",
                    )
                    .code("E0149")
                    .help("remove `-> { ... }` or make it a `request`"),
                );
            }
        }
        Service {
            name: s.name.text.clone(),
            docs: s.docs.clone(),
            rpcs: s
                .rpcs
                .iter()
                .map(|r| Rpc {
                    name: r.name.text.clone(),
                    docs: r.docs.clone(),
                    code: r.code.value,
                    oneway: r.oneway,
                    request: self.payload(&r.request),
                    response: r
                        .response
                        .as_ref()
                        .map(|p| self.payload(p))
                        .unwrap_or_default(),
                    span: r.code.span,
                })
                .collect(),
        }
    }
}

/// "did you mean" for a misspelt attribute, else the attributes allowed in that place.
fn attr_help(name: &str, known: &[&str]) -> String {
    let list = known
        .iter()
        .map(|k| format!("`@{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match crate::util::closest(name, known.iter().map(|k| k.to_string())) {
        Some(k) => format!("did you mean `@{k}`?"),
        None if known.is_empty() => "no attributes are allowed here".into(),
        None => format!("known here: {list}"),
    }
}

/// Where a `= ..` value was written.
fn value_span(v: &ast::ValueSpec) -> Span {
    match v {
        ast::ValueSpec::Const(c) => c.span,
        ast::ValueSpec::LenOf(_, s)
        | ast::ValueSpec::LenFrom(_, s)
        | ast::ValueSpec::Present(_, s) => *s,
    }
}

/// Where the parts of a field were written.
fn field_spans(f: &ast::Field) -> PartSpans {
    let arm = |(k, enc): &(ast::ArmKey, ast::Name)| {
        let mut s = match k {
            ast::ArmKey::Int(i) => i.span,
            ast::ArmKey::Name(n) => n.span,
        };
        s.end = enc.span.end;
        s
    };
    PartSpans {
        name: f.name.span,
        ty: f.ty.span,
        value: f.value.as_ref().map_or_else(Span::default, value_span),
        default: f
            .attrs
            .iter()
            .find(|a| a.name.text == FIELD_DEFAULT)
            .map_or_else(Span::default, |a| a.span),
        region: f
            .rest
            .or_else(|| f.sized_by.as_ref().map(|n| n.span))
            .unwrap_or_default(),
        disc: f.by.as_ref().map_or_else(Span::default, |b| b.disc.span),
        len_else: f.len_else.as_ref().map_or_else(Span::default, |i| i.span),
        arms: f
            .by
            .as_ref()
            .map_or_else(Vec::new, |b| b.arms.iter().map(arm).collect()),
        attrs: f
            .attrs
            .iter()
            .map(|a| (a.name.text.clone(), a.span))
            .collect(),
        cond: f.cond.as_ref().map_or_else(Span::default, |(_, s)| *s),
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Resolves an `exchange` block (from a `.wire` file or from the text of
/// `#[polywire::protocol(exchange = "..")]`) against the protocol's type names, in IR
/// order, and `status` values named as variants against `types` (the lowered types, in
/// the same order). Names in `broken` failed to parse and are not reported again. What the
/// IR can express (membership of the frame union, conditions, fields) is left to the
/// checker; `None` when something here is wrong, with the errors.
pub fn exchange(
    ex: &ast::Exchange,
    names: &[String],
    broken: &[String],
    types: &[TypeDef],
) -> (Option<Exchange>, Vec<Diagnostic>) {
    let mut errs = Vec::new();
    let resolve = |n: &ast::Name, errs: &mut Vec<Diagnostic>| -> Option<usize> {
        if let Some(i) = names.iter().position(|t| *t == n.text) {
            return Some(i);
        }
        if !broken.contains(&n.text) {
            let d = Diagnostic::error(
                n.span,
                format!("unknown message `{}`", n.text),
                "not a declared type",
            )
            .code("E0130");
            errs.push(match crate::util::closest(&n.text, names.iter().cloned()) {
                Some(c) => d.help(format!("did you mean `{c}`?")),
                None => d.help("an exchange names the structs of the protocol's frame union"),
            });
        }
        None
    };
    let mut ok = true;
    let mut hello: Option<(Rule, Span)> = None;
    let mut rules = Vec::new();
    let mut correlate: Option<(String, Span)> = None;
    let mut order: Option<Span> = None;
    let mut push = Vec::new();
    let mut keepalive: Option<(&ast::ExKeepalive, Keepalive)> = None;
    let mut accept: Option<Cond> = None;
    let mut farewells: Vec<Farewell> = Vec::new();
    let mut statuses: Vec<StatusDecl> = Vec::new();
    let twice = |errs: &mut Vec<Diagnostic>, at: Span, first: Span, what: &str, help: &str| {
        errs.push(
            Diagnostic::error(at, format!("an exchange has one {what}"), "written again")
                .code("E0153")
                .note(first, "first written here")
                .help(help.to_string()),
        );
    };
    for item in &ex.items {
        match item {
            ast::ExItem::Rule(r) => {
                let on = resolve(&r.on, &mut errs);
                let mut answers = Vec::new();
                for a in &r.answers {
                    let reply = match &a.reply {
                        ast::ExReply::Nothing => Some(Reply::Nothing),
                        ast::ExReply::Close => Some(Reply::Close),
                        ast::ExReply::Message(n) => resolve(n, &mut errs).map(Reply::Message),
                        ast::ExReply::MessageThenClose(n) => {
                            resolve(n, &mut errs).map(Reply::MessageThenClose)
                        }
                        ast::ExReply::Only(n, failure) => {
                            resolve(n, &mut errs).map(|msg| Reply::Only {
                                msg,
                                failure: *failure,
                            })
                        }
                        ast::ExReply::Series(i, e) => {
                            let item = resolve(i, &mut errs);
                            let end = resolve(e, &mut errs);
                            item.zip(end).map(|(item, end)| Reply::Series { item, end })
                        }
                    };
                    match reply {
                        Some(reply) => answers.push(Answer {
                            reply,
                            cond: a.cond.as_ref().map(|(c, _)| c.clone()),
                            span: a.span,
                        }),
                        None => ok = false,
                    }
                }
                if let Some((c, at)) = &r.accept {
                    if r.hello.is_some() {
                        accept = Some(c.clone());
                    } else {
                        errs.push(
                            Diagnostic::error(*at, format!("`accept if` on `{}`, which is not the hello", r.on.text), "only the hello's answer accepts")
                                .code("E0157")
                                .help(format!("`accept if` says when the answer to the message that opens a connection accepts it: move it to the `hello` rule, or mark this one `hello {} -> ..`", r.on.text)),
                        );
                        ok = false;
                    }
                }
                let Some(on) = on else {
                    ok = false;
                    continue;
                };
                let rule = Rule {
                    on,
                    answers,
                    span: r.span,
                };
                match (r.hello, &hello) {
                    (Some(at), Some((_, first))) => {
                        twice(
                            &mut errs,
                            at,
                            *first,
                            "`hello`",
                            "the hello is the one message that opens a connection: mark one rule with `hello`",
                        );
                        ok = false;
                    }
                    (Some(at), None) => hello = Some((rule, at)),
                    (None, _) => rules.push(rule),
                }
            }
            ast::ExItem::Correlate(f, at) => {
                let first = correlate.as_ref().map(|c| c.1).or(order);
                if let Some(first) = first {
                    errs.push(
                        Diagnostic::error(*at, format!("`correlate {}` after another way of matching answers", f.text), "second way of matching")
                            .code("E0154")
                            .note(first, "answers are matched here already")
                            .help("write one `correlate FIELD` (answers carry the request's field) or `order` (answers come in order)"),
                    );
                    ok = false;
                }
                correlate = Some((f.text.clone(), *at));
            }
            ast::ExItem::Order(at) => {
                if let Some(first) = correlate.as_ref().map(|c| c.1).or(order) {
                    errs.push(
                        Diagnostic::error(*at, "`order` after another way of matching answers", "second way of matching")
                            .code("E0154")
                            .note(first, "answers are matched here already")
                            .help("write one `correlate FIELD` (answers carry the request's field) or `order` (answers come in order)"),
                    );
                    ok = false;
                }
                order = Some(*at);
            }
            ast::ExItem::Push(ns) => {
                for n in ns {
                    match resolve(n, &mut errs) {
                        Some(i) => push.push(i),
                        None => ok = false,
                    }
                }
            }
            ast::ExItem::Farewell(f) => {
                let Some(on) = Failure::from_keyword(&f.on.text) else {
                    // The grammar admits the four keywords only.
                    ok = false;
                    continue;
                };
                if let Some(first) = farewells.iter().find(|x| x.on == on) {
                    twice(
                        &mut errs,
                        f.span,
                        first.span,
                        &format!("`on {}`", f.on.text),
                        "a side sends one message before it closes on each failure: keep one `on` line",
                    );
                    ok = false;
                    continue;
                }
                let Some(msg) = resolve(&f.msg, &mut errs) else {
                    ok = false;
                    continue;
                };
                let sets = f
                    .sets
                    .iter()
                    .map(|x| FieldSet {
                        field: x.field.text.clone(),
                        value: match &x.value {
                            ast::ExValue::Int(v) => SetValue::Int(*v),
                            ast::ExValue::Str(v) => SetValue::Str(v.clone()),
                            ast::ExValue::Name(n) if n.text == "true" => SetValue::Bool(true),
                            ast::ExValue::Name(n) if n.text == "false" => SetValue::Bool(false),
                            ast::ExValue::Name(n) => SetValue::Variant(n.text.clone()),
                        },
                        span: x.span,
                    })
                    .collect();
                farewells.push(Farewell {
                    on,
                    msg,
                    sets,
                    cond: f.cond.as_ref().map(|(c, _)| c.clone()),
                    span: f.span,
                });
            }
            ast::ExItem::Status(st) => {
                let Some(msg) = resolve(&st.msg, &mut errs) else {
                    ok = false;
                    continue;
                };
                if let Some(first) = statuses.iter().find(|x| x.msg == msg) {
                    twice(
                        &mut errs,
                        st.span,
                        first.span,
                        &format!("`status` for `{}`", st.msg.text),
                        "an answer says whether it succeeded in one field: keep one `status` line per message",
                    );
                    ok = false;
                    continue;
                }
                let Some(range) = status_range(st, types, msg, &mut errs) else {
                    ok = false;
                    continue;
                };
                statuses.push(StatusDecl {
                    msg,
                    field: st.field.text.clone(),
                    ok: range,
                    message: st.message.iter().map(|n| n.text.clone()).collect(),
                    span: st.span,
                });
            }
            ast::ExItem::Keepalive(k) => {
                if let Some((first, _)) = &keepalive {
                    twice(
                        &mut errs,
                        k.span,
                        first.span,
                        "`keepalive`",
                        "keep the one `keepalive` line",
                    );
                    ok = false;
                    continue;
                }
                if resolve(&k.msg, &mut errs).is_none() {
                    ok = false;
                }
                let ping = resolve(&k.ping, &mut errs);
                let grace = keepalive_permille(&k.factor.text);
                if grace.is_none() {
                    errs.push(
                        Diagnostic::error(k.factor.span, format!("`{}` is not a keepalive factor", k.factor.text), "not 0.001 to 1000")
                            .code("E0155")
                            .help("write how many intervals of silence close a connection, above 0 and at most 1000, with at most 3 decimals: `* 1.5`"),
                    );
                }
                match (ping, grace) {
                    (Some(ping), Some(grace_permille)) => {
                        keepalive = Some((
                            k,
                            Keepalive {
                                field: k.field.text.clone(),
                                unit_ms: if k.unit.text == "millis" { 1 } else { 1000 },
                                grace_permille,
                                ping,
                                span: k.span,
                            },
                        ))
                    }
                    _ => ok = false,
                }
            }
        }
    }
    // The interval is the hello's: a connection's first message sets it.
    if let (Some((k, _)), Some((h, _))) = (&keepalive, &hello)
        && names.get(h.on).is_some_and(|n| *n != k.msg.text)
    {
        errs.push(
            Diagnostic::error(k.msg.span, format!("the keepalive reads `{}`, which is not the hello", k.msg.text), "not the hello's message")
                .code("E0156")
                .note(h.span, "the hello")
                .help(format!("the interval is a field of the message that opens the connection: write `keepalive {}.FIELD ..`", names[h.on])),
        );
        ok = false;
    }
    if !ok || !errs.is_empty() {
        return (None, errs);
    }
    let ex = Exchange {
        docs: ex.docs.clone(),
        hello: hello.map(|(r, _)| r),
        rules,
        matching: correlate.map_or(Matching::Order, |(f, _)| Matching::Correlate(f)),
        push,
        keepalive: keepalive.map(|(_, k)| k),
        farewells,
        accept,
        statuses,
        span: ex.span,
    };
    (Some(ex), errs)
}

/// The values of `ok` in a `status` line (`0..0` when left out), with variant names read
/// as the wire values of the field's enum. A name the field cannot take is an error
/// (E0394, `None`); when the message or field is not one a status can read, names are
/// left as 0 for the checker, which reports the field (E0393).
fn status_range(
    st: &ast::ExStatus,
    types: &[TypeDef],
    msg: usize,
    errs: &mut Vec<Diagnostic>,
) -> Option<(i128, i128)> {
    let Some((lo, hi, _)) = &st.ok else {
        return Some((0, 0));
    };
    let field_type = match types.get(msg) {
        Some(TypeDef::Struct(s)) => {
            s.fields
                .iter()
                .find(|f| f.name == st.field.text)
                .and_then(|f| match &f.kind {
                    FieldKind::Value(Type::Optional { inner, .. }) => Some(&**inner),
                    FieldKind::Value(t) => Some(t),
                    _ => None,
                })
        }
        _ => None,
    };
    let mut value = |v: &ast::ExValue| -> Option<i128> {
        let n = match v {
            ast::ExValue::Int(i) => return Some(*i),
            // `ok` takes no string (the grammar says so).
            ast::ExValue::Str(_) => return None,
            ast::ExValue::Name(n) => n,
        };
        let e = match field_type {
            Some(Type::Named(i)) => match types.get(*i) {
                Some(TypeDef::Enum(e)) => e,
                _ => return Some(0),
            },
            Some(Type::Int(_) | Type::Varint { .. }) => {
                errs.push(
                    Diagnostic::error(
                        n.span,
                        format!(
                            "`status`: `{}.{}` is an integer, not an enum",
                            st.msg.text, st.field.text
                        ),
                        format!("`{}` is not a number", n.text),
                    )
                    .code("E0394")
                    .help("write the values of success as integers: `ok 0` or `ok 0x00..0x7F`"),
                );
                return None;
            }
            // Not a field a status reads: the checker says so.
            _ => return Some(0),
        };
        if let Some(v) = e.variants.iter().find(|x| x.name == n.text) {
            return Some(v.value);
        }
        let d = Diagnostic::error(
            n.span,
            format!("`status`: `{}` has no variant `{}`", e.name, n.text),
            "not a variant",
        )
        .code("E0394");
        errs.push(
            match crate::util::closest(&n.text, e.variants.iter().map(|x| x.name.clone())) {
                Some(c) => d.help(format!("did you mean `{c}`?")),
                None => d.help(format!(
                    "write a variant of `{}` or its value as an integer",
                    e.name
                )),
            },
        );
        None
    };
    let lo_v = value(lo);
    let hi_v = match hi {
        Some(h) => value(h),
        None => lo_v,
    };
    Some((lo_v?, hi_v?))
}

/// A keepalive factor (`1.5`, `2`, `0.25`) in thousandths: `None` with more than 3
/// decimals, for zero, or above 1000.
fn keepalive_permille(text: &str) -> Option<u32> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || whole.len() > 4 || whole.is_empty() {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let frac: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").parse().ok()?
    };
    let v = whole * 1000 + frac;
    (1..=1_000_000).contains(&v).then_some(v)
}

#[cfg(test)]
mod exchange_tests {
    use super::keepalive_permille;

    #[test]
    fn keepalive_factors() {
        assert_eq!(keepalive_permille("1.5"), Some(1500));
        assert_eq!(keepalive_permille("2"), Some(2000));
        assert_eq!(keepalive_permille("0.001"), Some(1));
        assert_eq!(keepalive_permille("1000"), Some(1_000_000));
        assert_eq!(keepalive_permille("1000.001"), None);
        assert_eq!(keepalive_permille("0"), None);
        assert_eq!(keepalive_permille("0.000"), None);
        assert_eq!(keepalive_permille("1.0005"), None);
        assert_eq!(keepalive_permille("99999999999"), None);
    }
}
