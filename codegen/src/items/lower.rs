//! syn → IR: the macro front end. It builds the same [`Protocol`] the `.wire` lowering
//! builds, in the same type order (plain definitions, then `responses`, then the frame), so
//! the one checker and the one emitter take it from here.
//!
//! Every IR span is an index into [`Spans`], which keeps the tokens it came from: a
//! diagnostic of the shared checker maps back to the attribute or field it is about.

use super::attr::{self, FieldAttrs, ItemAttrs, TypeSpec};
use crate::emit::rust::{pascal, screaming};
use crate::ir::*;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Fields, GenericArgument, Ident, PathArguments};

/// The tokens behind each IR span (`Span::start` indexes this table).
#[derive(Default)]
pub struct Spans(pub Vec<TokenStream>);

impl Spans {
    /// Registers the tokens of `t`, returning the IR span that stands for them.
    pub fn add(&mut self, t: &dyn ToTokens) -> crate::diag::Span {
        self.0.push(t.to_token_stream());
        let i = self.0.len() - 1;
        crate::diag::Span::new(0, i, i + 1)
    }

    /// Registers a bare span.
    pub fn at(&mut self, s: Span) -> crate::diag::Span {
        self.add(&Ident::new("x", s))
    }

    /// The tokens an IR span stands for.
    pub fn tokens(&self, s: crate::diag::Span) -> TokenStream {
        self.0.get(s.start as usize).cloned().unwrap_or_default()
    }
}

/// A struct or enum as both front ends see it: a `mod` item or a derive input.
pub struct Item<'a> {
    /// Its name.
    pub ident: &'a Ident,
    /// Its attributes.
    pub attrs: &'a [syn::Attribute],
    /// Fields or variants.
    pub body: Body<'a>,
}

/// The shape of an [`Item`].
pub enum Body<'a> {
    /// Named fields.
    Struct(&'a Fields),
    /// Variants.
    Enum(&'a syn::punctuated::Punctuated<syn::Variant, syn::Token![,]>),
}

/// Lowering state: the span table, every error so far, and the names types resolve to.
pub struct Cx {
    /// Span table.
    pub spans: Spans,
    /// Errors, all reported together.
    pub errors: Vec<syn::Error>,
    /// Default byte order.
    pub endian: Endian,
    /// Type names in IR order.
    pub names: Vec<String>,
    /// Standalone `#[derive(Message)]`: unknown names become placeholder structs (encoded
    /// through their `WireMessage` impl, which derived enums also have), and fields that are
    /// not stored cannot exist.
    pub derive: bool,
    /// Placeholder types a derive refers to (appended after its own type).
    pub placeholders: Vec<TypeDef>,
}

const INTS: &[&str] = &["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64"];

impl Cx {
    /// A fresh context.
    pub fn new(derive: bool) -> Self {
        Cx {
            spans: Spans::default(),
            errors: Vec::new(),
            endian: Endian::Big,
            names: Vec::new(),
            derive,
            placeholders: Vec::new(),
        }
    }

    /// Records an error at `t`.
    pub fn err(&mut self, t: &dyn ToTokens, msg: impl std::fmt::Display) {
        self.errors
            .push(syn::Error::new_spanned(t.to_token_stream(), msg));
    }

    /// Records an error at a bare span.
    pub fn err_at(&mut self, s: Span, msg: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(s, msg));
    }

    /// `u16`, `u24`, `i32le`, ... with the default byte order unless suffixed.
    pub fn int_name(&self, name: &str, little: Option<bool>) -> Option<IntType> {
        let default = match little {
            Some(true) => Endian::Little,
            Some(false) => Endian::Big,
            None => self.endian,
        };
        IntType::parse(name, default)
    }

    fn prefix(&mut self, name: &(String, Span), little: Option<bool>) -> Option<Prefix> {
        if name.0 == "varint" {
            return Some(Prefix::Varint { max: None });
        }
        if name.0.contains('<') {
            return self.prefix_text(&name.0, name.1, little);
        }
        match self.int_name(&name.0, little) {
            Some(i) => Some(Prefix::Int(i)),
            None => {
                self.err_at(
                    name.1,
                    format!(
                        "`{}` cannot be a length prefix\n\nhelp: write an integer type or `varint`, e.g. `prefix = u16`",
                        name.0
                    ),
                );
                None
            }
        }
    }

    /// A prefix written as `.wire` text, `"varint<max = 268435455>"`, read with the
    /// language's own type rule.
    #[cfg(feature = "dsl")]
    fn prefix_text(&mut self, text: &str, at: Span, little: Option<bool>) -> Option<Prefix> {
        use crate::dsl::ast::TypeArg;
        let help = "write an integer type, `varint` or `\"varint<max = N>\"`, e.g. `sized_by = \"varint<max = 268435455>\"`";
        let t = match crate::dsl::parse::parse_type(text) {
            Ok(t) => t,
            Err(d) => {
                let why = d.message.trim_start_matches("syntax error: ");
                self.err_at(
                    at,
                    format!("`{text}` does not parse as a type: {why}\n\nhelp: {help}"),
                );
                return None;
            }
        };
        let only_max = t.args.iter().all(|a| matches!(a, TypeArg::Max(_)));
        let max = t.args.iter().find_map(|a| match a {
            TypeArg::Max(m) => Some(m.value.clamp(0, i128::from(u64::MAX)) as u64),
            TypeArg::Type(_) => None,
        });
        if t.name.text == "varint" && only_max && !t.optional {
            return Some(Prefix::Varint { max });
        }
        match self.int_name(&t.name.text, little) {
            Some(i) if t.args.is_empty() && !t.optional => Some(Prefix::Int(i)),
            _ => {
                self.err_at(
                    at,
                    format!("`{text}` cannot be a length prefix\n\nhelp: {help}"),
                );
                None
            }
        }
    }

    /// Without the `.wire` grammar, a prefix is a bare name.
    #[cfg(not(feature = "dsl"))]
    fn prefix_text(&mut self, text: &str, at: Span, _little: Option<bool>) -> Option<Prefix> {
        self.err_at(at, format!("`{text}` is read with the `.wire` grammar, which this build of polywire-codegen leaves out\n\nhelp: enable polywire-codegen's `dsl` feature"));
        None
    }

    /// A condition written as `.wire` text, `#[wire(if = "qos > 0")]`, read with the
    /// language's own `cond` rule; every span in it points at the string.
    #[cfg(feature = "dsl")]
    fn cond(&mut self, text: &str, at: Span) -> Option<Cond> {
        match crate::dsl::parse::parse_cond(text) {
            Ok(mut c) => {
                let span = self.spans.at(at);
                relocate(&mut c, span);
                Some(c)
            }
            Err(d) => {
                let help = d.help.unwrap_or_else(|| {
                    "write the condition as after `if` in a `.wire` field: earlier fields and bit parts, integers, `@version`, `@more`, `== != < <= > >=`, `!`, `&&`, `||`, e.g. `if = \"qos > 0\"`".to_string()
                });
                let why = d.message.trim_start_matches("syntax error: ");
                self.err_at(
                    at,
                    format!("the condition `{text}` does not parse: {why}\n\nhelp: {help}"),
                );
                None
            }
        }
    }

    /// Without the `.wire` grammar, conditions cannot be read.
    #[cfg(not(feature = "dsl"))]
    fn cond(&mut self, text: &str, at: Span) -> Option<Cond> {
        self.err_at(at, format!("the condition `{text}` is read with the `.wire` grammar, which this build of polywire-codegen leaves out\n\nhelp: enable polywire-codegen's `dsl` feature"));
        None
    }

    /// The last path segment of a type, with its generic arguments.
    fn segment(ty: &syn::Type) -> Option<(String, Vec<&syn::Type>)> {
        let syn::Type::Path(p) = ty else { return None };
        if p.qself.is_some() {
            return None;
        }
        let seg = p.path.segments.last()?;
        let args = match &seg.arguments {
            PathArguments::AngleBracketed(a) => a
                .args
                .iter()
                .filter_map(|g| match g {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Some((seg.ident.to_string(), args))
    }

    /// Keys of `spec` that do not apply to a type of this kind are errors.
    fn misplaced(&mut self, spec: &TypeSpec, allowed: &[&str], what: &str) {
        let keys: [(&str, Option<Span>); 6] = [
            ("varint", spec.varint.as_ref().map(|v| v.1)),
            ("repr", spec.repr.as_ref().map(|v| v.1)),
            ("prefix", spec.prefix.as_ref().map(|v| v.1)),
            ("max", spec.max.as_ref().map(|v| v.1)),
            ("count", spec.count.as_ref().map(|v| v.1)),
            ("be", spec.little.as_ref().map(|v| v.1)),
        ];
        for (k, s) in keys {
            if let Some(s) = s
                && !allowed.contains(&k)
            {
                let help = match k {
                    "prefix" => "`prefix` and `max` apply to `Str` and `Bytes` fields",
                    "max" => {
                        "`max` applies to `Str` and `Bytes` fields, and beside `varint` to a `u64`"
                    }
                    "count" => "`count` applies to `Vec<T>` and `OrderedMap<K, V>` fields",
                    "varint" => "`varint` applies to `u64` (varint) and `i64` (zigzag) fields",
                    _ => "`repr`, `be` and `le` apply to integer fields",
                };
                self.err_at(s, format!("`{k}` does not apply to {what}\n\nhelp: {help}"));
            }
        }
        for (k, sub) in [
            ("elem", &spec.elem),
            ("key", &spec.key),
            ("value", &spec.value),
        ] {
            if sub.is_some() && !allowed.contains(&k) {
                self.err_at(
                    Span::call_site(),
                    format!("`{k}(..)` does not apply to {what}"),
                );
            }
        }
    }

    /// The IR type of a Rust field type as `spec` qualifies it; `widen` receives the Rust
    /// integer when the wire integer is narrower (`repr = i16` on an `i32`).
    pub fn ty(&mut self, rust: &syn::Type, spec: &TypeSpec, widen: &mut Option<IntType>) -> Type {
        let unsupported = |cx: &mut Cx, name: &str| {
            cx.err(
                rust,
                format!(
                    "unsupported field type `{name}`\n\nhelp: wire fields are integers (u8..u64, i8..i64), bool, Str, Bytes, Vec<T>, OrderedMap<K, V>, Option<T> or a type declared with the protocol"
                ),
            );
            Type::Bool
        };
        let Some((name, args)) = Self::segment(rust) else {
            let text = rust.to_token_stream().to_string();
            return unsupported(self, &text);
        };
        let little = spec.little.as_ref().map(|l| l.0);
        match name.as_str() {
            "Option" if args.len() == 1 => Type::Optional {
                inner: Box::new(self.ty(args[0], spec, widen)),
                repr: OptRepr::Presence,
            },
            "Box" if args.len() == 1 => {
                let inner = self.ty(args[0], spec, widen);
                if !matches!(inner, Type::Named(_)) {
                    self.err(rust, "a `Box` holds a message type (a struct, union or tagged list declared with the protocol)\n\nhelp: write the field's type without the `Box`".to_string());
                }
                inner
            }
            "Vec" if args.len() == 1 => {
                self.misplaced(spec, &["count", "elem"], "a list");
                let elem_spec = spec.elem.as_deref().cloned().unwrap_or_default();
                let elem = self.ty(args[0], &elem_spec, &mut None);
                let count = match &spec.count {
                    Some(c) => self.prefix(c, little),
                    None => Some(Prefix::Varint { max: None }),
                };
                Type::List {
                    elem: Box::new(elem),
                    count,
                }
            }
            "OrderedMap" if args.len() == 2 => {
                self.misplaced(spec, &["count", "key", "value"], "a map");
                let ks = spec.key.as_deref().cloned().unwrap_or_default();
                let vs = spec.value.as_deref().cloned().unwrap_or_default();
                let key = self.ty(args[0], &ks, &mut None);
                let value = self.ty(args[1], &vs, &mut None);
                let count = match &spec.count {
                    Some(c) => self.prefix(c, little),
                    None => Some(Prefix::Varint { max: None }),
                };
                Type::Map {
                    key: Box::new(key),
                    value: Box::new(value),
                    count,
                }
            }
            "Str" | "Bytes" if args.is_empty() => {
                self.misplaced(spec, &["prefix", "max", "be"], "a string or bytes");
                let prefix = match &spec.prefix {
                    Some(p) => self.prefix(p, little),
                    None => None,
                };
                let max = spec.max.as_ref().map(|m| m.0);
                if name == "Str" {
                    Type::String { prefix, max }
                } else {
                    Type::Bytes { prefix, max }
                }
            }
            "bool" => {
                self.misplaced(spec, &[], "a bool");
                Type::Bool
            }
            n if INTS.contains(&n) => {
                let allowed: &[&str] = if spec.varint.is_some() {
                    &["varint", "max", "repr", "be"]
                } else {
                    &["varint", "repr", "be"]
                };
                self.misplaced(spec, allowed, "an integer");
                let held = self.int_name(n, little).expect("integer name");
                if let Some((_, s)) = &spec.varint {
                    let max = spec.max.as_ref().map(|m| m.0);
                    return match n {
                        "u64" => Type::Varint { signed: false, max },
                        "i64" => Type::Varint { signed: true, max },
                        _ => {
                            self.err_at(*s, format!("a varint is held in a `u64` (or a zigzag `i64`), not a `{n}`\n\nhelp: change the field's type to `u64`"));
                            Type::Varint { signed: false, max }
                        }
                    };
                }
                match &spec.repr {
                    Some((r, s)) => match self.int_name(r, little) {
                        Some(wire) => {
                            if wire.rust() != n {
                                *widen = Some(held);
                            }
                            Type::Int(wire)
                        }
                        None => {
                            self.err_at(*s, format!("`{r}` is not an integer type\n\nhelp: write e.g. `repr = u24` or `repr = i16`"));
                            Type::Int(held)
                        }
                    },
                    None => Type::Int(held),
                }
            }
            "String" | "f32" | "f64" | "usize" | "isize" | "u128" | "i128" | "char" => {
                let help = match name.as_str() {
                    "String" => {
                        "\n\nhelp: strings are `polywire::Str` (UTF-8 borrowed from the frame)"
                    }
                    "f32" | "f64" => {
                        "\n\nhelp: the wire has no floating point; carry the bits in a `u32`/`u64`, or a scaled integer"
                    }
                    "usize" | "isize" => {
                        "\n\nhelp: give the width the value has on the wire, e.g. `u32` or `u64`"
                    }
                    _ => {
                        "\n\nhelp: wire integers are 8 to 64 bits; a `char` travels as a `u32` or inside a `Str`"
                    }
                };
                self.err(rust, format!("unsupported field type `{name}`{help}"));
                Type::Bool
            }
            _ if !args.is_empty() => {
                let text = rust.to_token_stream().to_string().replace(' ', "");
                unsupported(self, &text)
            }
            _ => {
                self.misplaced(spec, &[], "a named type");
                self.named(rust, &name)
            }
        }
    }

    /// A user type by name.
    fn named(&mut self, at: &dyn ToTokens, name: &str) -> Type {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Type::Named(i);
        }
        if self.derive {
            // A standalone derive cannot see other items: refer to a message by name. A
            // derived enum is a message too (`emit::Options::enum_messages`).
            let span = self.spans.add(at);
            self.names.push(name.to_string());
            self.placeholders.push(TypeDef::Struct(StructDef {
                name: name.to_string(),
                docs: vec![],
                fields: vec![],
                encodings: vec![],
                header_only: false,
                span,
            }));
            return Type::Named(self.names.len() - 1);
        }
        let hint = crate::util::closest(name, self.names.iter().cloned())
            .map(|c| format!("did you mean `{c}`?"))
            .unwrap_or_else(|| {
                "declare it as a struct or enum inside the protocol module".to_string()
            });
        self.err(at, format!("unknown type `{name}`\n\nhelp: {hint}"));
        Type::Bool
    }

    fn named_struct(&mut self, rust: &syn::Type) -> usize {
        let name = Self::segment(rust).map(|s| s.0).unwrap_or_default();
        match self.named(rust, &name) {
            Type::Named(i) => i,
            _ => 0,
        }
    }

    /// A struct.
    pub fn struct_def(&mut self, item: &Item, ia: &ItemAttrs) -> StructDef {
        let Body::Struct(fields) = &item.body else {
            unreachable!("struct_def on an enum")
        };
        let saved = self.endian;
        for (f, _) in &ia.flags {
            match f.as_str() {
                "be" => self.endian = Endian::Big,
                "le" => self.endian = Endian::Little,
                _ => {}
            }
        }
        let named: Vec<&syn::Field> = match fields {
            Fields::Named(n) => n.named.iter().collect(),
            Fields::Unit => Vec::new(),
            Fields::Unnamed(_) => {
                self.err(
                    fields,
                    "a wire struct has named fields\n\nhelp: write `struct Name { field: Type, .. }`",
                );
                Vec::new()
            }
        };
        let parsed: Vec<(&syn::Field, FieldAttrs)> = named
            .into_iter()
            .map(|f| {
                let fa = attr::field(&f.attrs).unwrap_or_else(|e| {
                    self.errors.push(e);
                    FieldAttrs::default()
                });
                (f, fa)
            })
            .collect();
        let mut out = Vec::new();
        let mut words = 0;
        let mut i = 0;
        while i < parsed.len() {
            let (f, fa) = &parsed[i];
            if fa.bits.is_none() {
                if let Some((_, s)) = &fa.packed {
                    self.err_at(
                        *s,
                        "`packed` starts a group of bit parts and needs `bits = lo..hi` beside it",
                    );
                }
                out.push(self.field(f, fa));
                i += 1;
                continue;
            }
            // A group: this part and the following ones without `packed`.
            let mut j = i + 1;
            while j < parsed.len() && parsed[j].1.bits.is_some() && parsed[j].1.packed.is_none() {
                j += 1;
            }
            out.push(self.bits_group(&parsed[i..j], &mut words));
            i = j;
        }
        self.endian = saved;
        StructDef {
            name: item.ident.to_string(),
            docs: attr::docs(item.attrs),
            fields: out,
            encodings: Vec::new(),
            header_only: ia.flags.iter().any(|(f, _)| f == "header"),
            span: self.spans.add(item.ident),
        }
    }

    fn bits_group(&mut self, group: &[(&syn::Field, FieldAttrs)], words: &mut usize) -> Field {
        let (first, fa) = &group[0];
        let ty = match &fa.packed {
            Some((name, s)) => self.int_name(name, None).unwrap_or_else(|| {
                self.err_at(*s, format!("`{name}` cannot carry bit parts\n\nhelp: write an integer type, e.g. `packed = u32`"));
                IntType { bytes: 4, signed: false, endian: self.endian }
            }),
            None => {
                let s = fa.bits.as_ref().map_or(Span::call_site(), |b| b.1);
                self.err_at(s, "the first bit part of a group says which integer holds it\n\nhelp: add `packed = u32` (or the carrier's type) beside `bits`");
                IntType { bytes: 4, signed: false, endian: self.endian }
            }
        };
        *words += 1;
        let name = match &fa.carrier {
            Some((c, _)) => c.clone(),
            None if *words == 1 => "word".to_string(),
            None => format!("word{words}"),
        };
        let mut parts = Vec::new();
        for (f, pa) in group {
            let (lo, hi) = pa.bits.as_ref().map_or((0, 0), |b| b.0);
            let value = if let Some((c, _)) = pa.constant {
                PartValue::Const(c.clamp(0, u64::MAX as i128) as u64)
            } else if let Some((l, _)) = &pa.len {
                PartValue::Length(l.clone())
            } else if let Some((x, _)) = &pa.present {
                PartValue::Present(x.clone())
            } else {
                PartValue::Stored
            };
            for (k, s) in [
                ("if", pa.cond.as_ref().map(|c| c.1)),
                ("tag", pa.tag.as_ref().map(|t| t.1)),
            ] {
                if let Some(s) = s {
                    self.err_at(s, format!("`{k}` does not apply to a bit part\n\nhelp: bit parts take `constant`, `len`, `present` and `echo`"));
                }
            }
            if self.derive && value != PartValue::Stored {
                self.not_stored(f);
            }
            let pty = self.ty(&f.ty, &pa.spec, &mut None);
            if self.derive
                && let Type::Named(i) = pty
                && i > 0
            {
                // The checker would ask for an enum: the derive cannot see that it is one.
                let name = &self.names[i];
                self.err(
                    &f.ty,
                    format!("a standalone `#[derive(Message)]` cannot see what `{name}` is, so it cannot be a bit part\n\nhelp: declare both types inside a `#[polywire::protocol]` module, or hold the bits in an integer field and convert with `{name}::from_repr`"),
                );
            }
            let attrs = pa
                .markers
                .iter()
                .filter(|(m, s)| {
                    if m == "echo" {
                        true
                    } else {
                        self.err_at(*s, format!("`{m}` does not apply to a bit part\n\nhelp: bit parts take `constant`, `len`, `present` and `echo`"));
                        false
                    }
                })
                .map(|(m, _)| m.clone())
                .collect();

            parts.push(BitPart {
                name: field_name(f),
                docs: attr::docs(&f.attrs),
                ty: pty,
                lo,
                hi,
                value,
                attrs,
                span: self.spans.add(&pa.bits_tokens),
                at: PartSpans::default(),
            });
        }
        Field {
            name,
            docs: vec![],
            kind: FieldKind::Bits { ty, parts },
            region: Region::Inline,
            correlation: false,
            kind_marker: false,
            attrs: vec![],
            widen: None,
            default: None,
            cond: None,
            decimal: false,
            len_else: None,
            span: self.spans.add(first),
            at: PartSpans::default(),
        }
    }

    /// A derive's `by(..)` field names a type it cannot see: take the `json` its arms
    /// choose as declared (the derived type's `#[wire(json)]` gives the public
    /// `decode_json` / `encode_json` / `json_len` the switch calls; without it rustc reports
    /// them missing). No other encoding can exist outside a protocol module.
    fn switch_encodings(&mut self, ty: usize, arms: &[(i128, String)], at: Span) {
        for (_, enc) in arms {
            if enc == "binary" {
                continue;
            }
            if enc != "json" {
                self.err_at(
                    at,
                    format!("a derived struct has no `{enc}` encoding: besides `binary` it has only `json` (`#[wire(json)]` on the struct)\n\nhelp: choose `json` or `binary`, or declare the types inside a `#[polywire::protocol]` module"),
                );
                continue;
            }
            let span = self.spans.at(at);
            if let Some(TypeDef::Struct(p)) = self.placeholders.get_mut(ty - 1)
                && !p.encodings.iter().any(|e| e.name == "json")
            {
                p.encodings.push(Encoding {
                    name: "json".into(),
                    format: Format::Json,
                    rename_all: None,
                    renames: vec![],
                    by_name: vec![],
                    flags: vec![],
                    constants: vec![],
                    span,
                    rule_spans: vec![],
                });
            }
        }
    }

    /// A derive's JSON encoding cannot hold a type the derive cannot see: how it is written
    /// in JSON (a number, a name, a nested object through private mirrors) depends on what
    /// it is. Reports each stored field that names one.
    pub fn json_names_unseen(&mut self, item: &Item, s: &StructDef) {
        let Body::Struct(fields) = &item.body else {
            return;
        };
        for f in fields.iter() {
            let name = field_name(f);
            let Some(t) = s.fields.iter().find_map(|g| match &g.kind {
                FieldKind::Value(t) if g.name == name => Some(t),
                _ => None,
            }) else {
                continue;
            };
            if let Some(i) = named_in(t).filter(|i| *i > 0) {
                let other = &self.names[i];
                let msg = format!(
                    "the JSON encoding of a standalone `#[derive(Message)]` struct cannot hold `{other}`: the derive cannot see `{other}`, so it cannot tell how it is written in JSON\n\nhelp: declare `{}` and `{other}` inside a `#[polywire::protocol]` module (each struct with `#[wire(json)]`), or remove `#[wire(json)]` from `{}`",
                    item.ident, item.ident
                );
                self.err(&f.ty, msg);
            }
        }
    }

    fn not_stored(&mut self, f: &syn::Field) {
        self.err(
            f,
            "a `#[derive(Message)]` struct holds only stored fields; constants and computed lengths are not stored\n\nhelp: declare the struct inside a `#[polywire::protocol]` module, where such fields are written as fields",
        );
    }

    fn field(&mut self, f: &syn::Field, fa: &FieldAttrs) -> Field {
        let empty_is_none = fa.markers.iter().any(|(m, _)| m == "empty_is_none");
        let mut widen = None;
        if let Some((_, s)) = &fa.present {
            self.err_at(*s, "`present` is the value of a bit part, not of a whole field\n\nhelp: pack it into an integer: `#[wire(bits = 0..1, packed = u8, present = \"x\")] has_x: bool`");
        }
        if let Some((_, s)) = &fa.tag {
            self.err_at(*s, "`tag` marks a member of a tagged list, and this struct is not one\n\nhelp: mark the struct with `#[wire(tagged = u8)]` (the type its tags are written as)");
        }
        let cond = fa
            .cond
            .as_ref()
            .and_then(|((text, lit), _)| self.cond(text, *lit));
        // A field present on a condition is held as an `Option` of its wire type.
        let stored = fa.constant.is_none() && fa.len.is_none() && fa.literal.is_none();
        // `count = "n"` names the field holding the element count; `count = u16` is a
        // count prefix.
        let count_field = fa.spec.count.as_ref().and_then(|(n, _)| {
            (n != "varint" && !n.contains('<') && self.int_name(n, None).is_none())
                .then(|| n.clone())
        });
        let spec = if count_field.is_some() {
            TypeSpec {
                count: None,
                ..fa.spec.clone()
            }
        } else {
            fa.spec.clone()
        };
        let held = match &fa.cond {
            Some(_) if stored => match option_of(&f.ty) {
                Some(t) => t,
                None => {
                    self.err(&f.ty, format!("a field present on a condition is held as an `Option`\n\nhelp: write `Option<{}>`", f.ty.to_token_stream().to_string().replace(' ', "")));
                    &f.ty
                }
            },
            _ => &f.ty,
        };
        let kind = if let Some((b, s)) = &fa.literal {
            if self.derive {
                self.not_stored(f);
            }
            if b.is_empty() {
                self.err_at(*s, "a literal field needs at least one byte\n\nhelp: write the bytes the field stands for, e.g. `literal = \"\\r\\n\"`");
            }
            if !matches!(&f.ty, syn::Type::Tuple(t) if t.elems.is_empty()) {
                self.err(&f.ty, "a literal field holds nothing: its type is `()`");
            }
            FieldKind::Literal(b.clone())
        } else if let Some(((disc, arms), s)) = &fa.by {
            let ty = self.named_struct(held);
            if self.derive && ty > 0 {
                self.switch_encodings(ty, arms, *s);
            }
            FieldKind::Switch {
                ty,
                disc: disc.clone(),
                arms: arms.clone(),
            }
        } else if let Some((c, s)) = fa.constant {
            if self.derive {
                self.not_stored(f);
            }
            let ty = self.field_int(f, fa);
            if c < ty.min_value() || c > i128::from(ty.max_value()) {
                self.err_at(s, format!("constant {c} does not fit in the field's type"));
            }
            FieldKind::Const {
                ty,
                value: (c as i64) as u64 & mask(ty.bits()),
            }
        } else if let Some((of, _)) = &fa.len {
            if self.derive {
                self.not_stored(f);
            }
            let ty = if fa.spec.varint.is_some() {
                Prefix::Varint {
                    max: fa.spec.max.as_ref().map(|m| m.0),
                }
            } else {
                if let Some((_, s)) = &fa.spec.max {
                    self.err_at(*s, "`max` bounds a `varint` length\n\nhelp: add `varint` beside it, or remove `max`");
                }
                Prefix::Int(self.field_int(f, fa))
            };
            FieldKind::Length { ty, of: of.clone() }
        } else {
            let mut t = self.ty(held, &spec, &mut widen);
            if empty_is_none && let Type::Optional { repr, .. } = &mut t {
                *repr = OptRepr::EmptyIsNone;
            }
            if let Some((_, s)) = fa.decimal
                && !matches!(&t, Type::Int(i) if i.bytes != 8 || i.signed)
            {
                self.err_at(s, "`decimal` writes an integer no wider than `i64` as ASCII decimal\n\nhelp: give the field a type such as `i64`");
            }
            FieldKind::Value(t)
        };
        let extents = [
            fa.rest.as_ref().map(|r| r.1),
            fa.sized_by.as_ref().map(|r| r.1),
            fa.until.as_ref().map(|r| r.1),
            count_field
                .as_ref()
                .and(fa.spec.count.as_ref().map(|r| r.1)),
        ];
        if let [_, second, ..] = extents.iter().flatten().collect::<Vec<_>>()[..] {
            self.err_at(*second, "a field has one extent: `rest`, `sized_by`, `until` or `count = \"field\"`\n\nhelp: keep one of them");
        }
        if let Some((v, s)) = fa.len_else {
            match &fa.len {
                None => self.err_at(s, "`else` follows `len = \"x\"`, where `x` is a conditional field\n\nhelp: drop it"),
                Some(_) => {
                    let i = self.field_int(f, fa);
                    if !(i.min_value()..=i128::from(i.max_value())).contains(&v) {
                        self.err_at(s, format!("`else = {v}` does not fit the length's type"));
                    }
                }
            }
        }
        let region = match (&fa.rest, &fa.sized_by) {
            _ if fa.until.is_some() || count_field.is_some() => match (&fa.until, &count_field) {
                (Some((d, s)), _) => {
                    if d.is_empty() {
                        self.err_at(*s, "`until` needs at least one byte\n\nhelp: write the delimiter, e.g. `until = \"\\r\\n\"`");
                    }
                    Region::Until(d.clone())
                }
                (None, Some(n)) => Region::Count(n.clone()),
                (None, None) => Region::Inline,
            },
            (Some(_), None) => Region::Rest,
            (None, Some((n, s))) => {
                if n == "varint" || n.contains('<') {
                    let p = self.prefix(&(n.clone(), *s), None);
                    Region::Prefixed(p.unwrap_or(Prefix::Varint { max: None }))
                } else if let Some(i) = self.int_name(n, None) {
                    Region::Prefixed(Prefix::Int(i))
                } else {
                    Region::SizedBy(n.clone())
                }
            }
            (Some((_, s)), Some(_)) => {
                self.err_at(
                    *s,
                    "`rest` and `sized_by` exclude each other\n\nhelp: keep one",
                );
                Region::Rest
            }
            (None, None) => Region::Inline,
        };
        // As in the DSL: a list or map read to the end of its region has no count prefix
        // unless one is written.
        let mut kind = kind;
        if region != Region::Inline
            && spec.count.is_none()
            && let FieldKind::Value(ty) = &mut kind
        {
            let inner = match ty {
                Type::Optional { inner, .. } => &mut **inner,
                t => t,
            };
            if let Type::List { count, .. } | Type::Map { count, .. } = inner {
                *count = None;
            }
        }
        let mut attrs: Vec<String> = fa.markers.iter().map(|(m, _)| m.clone()).collect();
        if fa.default.is_some() {
            attrs.push("default".into());
        }
        Field {
            name: field_name(f),
            docs: attr::docs(&f.attrs),
            kind,
            region,
            correlation: attrs.iter().any(|a| a == "correlation"),
            kind_marker: attrs.iter().any(|a| a == "kind"),
            attrs,
            widen,
            default: fa.default.map(|d| d.0),
            cond,
            decimal: fa.decimal.is_some(),
            len_else: fa.len_else.map(|v| v.0),
            span: self.spans.add(f),
            at: PartSpans {
                cond: fa
                    .cond
                    .as_ref()
                    .map_or_else(Default::default, |((_, lit), _)| self.spans.at(*lit)),
                ..PartSpans::default()
            },
        }
    }

    /// The integer type of a constant or length field.
    fn field_int(&mut self, f: &syn::Field, fa: &FieldAttrs) -> IntType {
        let little = fa.spec.little.as_ref().map(|l| l.0);
        let name = match &fa.spec.repr {
            Some((r, _)) => r.clone(),
            None => Self::segment(&f.ty).map(|s| s.0).unwrap_or_default(),
        };
        self.int_name(&name, little).unwrap_or_else(|| {
            self.err(
                &f.ty,
                format!("a constant or length is an integer, not `{name}`\n\nhelp: give the field an integer type such as `u32`"),
            );
            IntType { bytes: 4, signed: false, endian: self.endian }
        })
    }

    /// An enum, a flags set or the responses enum.
    pub fn enum_def(&mut self, item: &Item, ia: &ItemAttrs) -> TypeDef {
        let Body::Enum(variants) = &item.body else {
            unreachable!("enum_def on a struct")
        };
        let has = |f: &str| ia.flags.iter().any(|(x, _)| x == f);
        let little = if has("le") {
            Some(true)
        } else if has("be") {
            Some(false)
        } else {
            None
        };
        let repr = item
            .attrs
            .iter()
            .find(|a| a.path().is_ident("repr"))
            .and_then(|a| a.parse_args::<Ident>().ok());
        let repr = match repr {
            Some(r) => self.int_name(&r.to_string(), little).unwrap_or_else(|| {
                self.err(&r, format!("`{r}` cannot represent a wire enum\n\nhelp: use an integer type such as `u8`, `u16` or `i32`"));
                IntType { bytes: 1, signed: false, endian: self.endian }
            }),
            None => {
                self.err(
                    item.ident,
                    format!("the wire enum `{}` needs an integer representation\n\nhelp: add `#[repr(u8)]` (or the width it has on the wire)", item.ident),
                );
                IntType { bytes: 1, signed: false, endian: self.endian }
            }
        };
        let flags = has("flags");
        let known: &[&str] = if flags {
            &["response", "oneway"]
        } else {
            &["success", "not_supported", "system_error", "busy"]
        };
        let mut next: i128 = 0;
        let mut vs = Vec::new();
        for v in variants.iter() {
            if !matches!(v.fields, Fields::Unit) {
                self.err(&v.fields, "wire enum variants carry no data\n\nhelp: remove the fields; a variant stands for one number");
            }
            let value = match &v.discriminant {
                Some((_, e)) => match int_expr(e) {
                    Some(x) => x,
                    None => {
                        self.err(e, "a variant's value is an integer literal");
                        next
                    }
                },
                None => next,
            };
            next = value + 1;
            let va = attr::variant(&v.attrs).unwrap_or_else(|e| {
                self.errors.push(e);
                Default::default()
            });
            for m in &va.markers {
                if !known.contains(&m.as_str()) {
                    self.err(
                        &v.ident,
                        format!(
                            "`{m}` does not apply to {}\n\nhelp: known here: {}",
                            if flags {
                                "a flag bit"
                            } else {
                                "an enum variant"
                            },
                            known.join(", ")
                        ),
                    );
                }
            }
            let name = match &va.rename {
                Some((r, _)) => r.clone(),
                None => screaming(&v.ident.to_string()),
            };
            if self.derive && !flags && v.ident != pascal(&name) {
                let at = va.rename.as_ref().map_or(v.ident.span(), |r| r.1);
                self.err_at(at, format!("the wire name `{name}` makes the variant `{}`, but it is named `{}`\n\nhelp: rename the variant `{}` or choose a wire name that maps to it", pascal(&name), v.ident, pascal(&name)));
            }
            vs.push(Variant {
                name,
                docs: attr::docs(&v.attrs),
                value,
                attrs: va.markers,
                message: va.message,
                span: self.spans.add(v),
                name_span: crate::diag::Span::default(),
            });
        }
        let name = item.ident.to_string();
        let docs = attr::docs(item.attrs);
        let span = self.spans.add(item.ident);
        if flags {
            TypeDef::Flags(FlagsDef {
                name,
                docs,
                repr,
                bits: vs,
                span,
            })
        } else {
            TypeDef::Enum(EnumDef {
                name,
                docs,
                repr,
                open: has("open") || has("responses"),
                variants: vs,
                span,
            })
        }
    }

    /// A tagged list: a struct marked `#[wire(tagged = u8)]` whose fields are its members,
    /// each with `#[wire(tag = N)]`, held as `Option<T>` (at most once) or `Vec<T>`
    /// (repeated).
    pub fn tagged_def(&mut self, item: &Item, ia: &ItemAttrs) -> TaggedDef {
        let Body::Struct(fields) = &item.body else {
            unreachable!("tagged_def on an enum")
        };
        let saved = self.endian;
        for (f, _) in &ia.flags {
            match f.as_str() {
                "be" => self.endian = Endian::Big,
                "le" => self.endian = Endian::Little,
                _ => {}
            }
        }
        let tag = match &ia.tagged {
            Some(t) => self.prefix(t, None),
            None => None,
        }
        .unwrap_or(Prefix::Varint { max: None });
        let named: Vec<&syn::Field> = match fields {
            Fields::Named(n) => n.named.iter().collect(),
            Fields::Unit => Vec::new(),
            Fields::Unnamed(_) => {
                self.err(fields, "a tagged list has named fields, one per member\n\nhelp: write `struct Name { #[wire(tag = 0x01)] member: Option<u8>, .. }`");
                Vec::new()
            }
        };
        let mut members = Vec::new();
        for f in named {
            let fa = match attr::field(&f.attrs) {
                Ok(fa) => fa,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            let keys = [
                ("default", fa.default.as_ref().map(|x| x.1)),
                ("constant", fa.constant.as_ref().map(|x| x.1)),
                ("len", fa.len.as_ref().map(|x| x.1)),
                ("rest", fa.rest.as_ref().map(|x| x.1)),
                ("sized_by", fa.sized_by.as_ref().map(|x| x.1)),
                ("bits", fa.bits.as_ref().map(|x| x.1)),
                ("packed", fa.packed.as_ref().map(|x| x.1)),
                ("carrier", fa.carrier.as_ref().map(|x| x.1)),
                ("by", fa.by.as_ref().map(|x| x.1)),
                ("rename", fa.rename.as_ref().map(|x| x.1)),
                ("as_name", fa.as_name.as_ref().map(|x| x.1)),
                ("if", fa.cond.as_ref().map(|x| x.1)),
                ("present", fa.present.as_ref().map(|x| x.1)),
            ];
            let markers = fa.markers.iter().map(|(m, s)| (m.as_str(), Some(*s)));
            for (k, s) in keys.into_iter().chain(markers) {
                if let Some(s) = s {
                    self.err_at(s, format!("`{k}` does not apply to a member of a tagged list\n\nhelp: a member takes `tag` and what its type needs (`prefix`, `max`, `count`, `varint`, `be`/`le`, ..)"));
                }
            }
            let Some((tag_value, tag_at)) = fa.tag else {
                self.err(f, "a member of a tagged list needs its tag\n\nhelp: add `#[wire(tag = N)]`, e.g. `#[wire(tag = 0x01)]`");
                continue;
            };
            let (inner, repeated) = match Self::segment(&f.ty) {
                Some((n, args)) if n == "Option" && args.len() == 1 => (args[0], false),
                Some((n, args)) if n == "Vec" && args.len() == 1 => (args[0], true),
                _ => {
                    let t = f.ty.to_token_stream().to_string().replace(' ', "");
                    self.err(&f.ty, format!("a member of a tagged list is held as an `Option` (present at most once) or a `Vec` (repeated), not `{t}`\n\nhelp: write `Option<{t}>`, or `Vec<{t}>` when the tag may repeat"));
                    continue;
                }
            };
            let mut widen = None;
            let ty = self.ty(inner, &fa.spec, &mut widen);
            if widen.is_some() {
                let at = fa.spec.repr.as_ref().map_or(tag_at, |r| r.1);
                self.err_at(at, "a member of a tagged list is held as its wire type\n\nhelp: give the field the Rust type of its `repr`");
            }
            members.push(TaggedMember {
                name: field_name(f),
                docs: attr::docs(&f.attrs),
                tag: tag_value,
                ty,
                repeated,
                span: self.spans.add(&f.ident),
                tag_span: self.spans.at(tag_at),
            });
        }
        self.endian = saved;
        TaggedDef {
            name: item.ident.to_string(),
            docs: attr::docs(item.attrs),
            tag,
            members,
            span: self.spans.add(item.ident),
        }
    }

    /// A union: an enum marked `#[wire(union)]` whose variants each hold one struct of the
    /// protocol and are named after it, `Connect(Connect)`.
    pub fn union_def(&mut self, item: &Item) -> UnionDef {
        let Body::Enum(variants) = &item.body else {
            unreachable!("union_def on a struct")
        };
        let mut arms = Vec::new();
        for v in variants.iter() {
            let ty = match &v.fields {
                Fields::Unnamed(u) if u.unnamed.len() == 1 => &u.unnamed[0].ty,
                _ => {
                    let n = &v.ident;
                    self.err(v, format!("a variant of a union holds one struct, named like it\n\nhelp: write `{n}({n})` with `{n}` a struct of the protocol"));
                    continue;
                }
            };
            if let Some((_, e)) = &v.discriminant {
                self.err(e, "a variant of a union has no value: the constant bits its struct starts with tell it apart\n\nhelp: remove `= ..`");
            }
            let mut fallback = false;
            let mut from = None;
            if let Some(a) = v.attrs.iter().find(|a| a.path().is_ident("wire")) {
                let r = a.parse_nested_meta(|m| {
                    if m.path.is_ident("fallback") {
                        fallback = true;
                        Ok(())
                    } else if m.path.is_ident("from") {
                        let s: syn::LitStr = m.value()?.parse()?;
                        from = Some(match s.value().as_str() {
                            "client" => crate::ir::Sender::Client,
                            "server" => crate::ir::Sender::Server,
                            _ => return Err(m.error("unknown")),
                        });
                        Ok(())
                    } else {
                        Err(m.error("unknown"))
                    }
                });
                if r.is_err() {
                    self.err(a, "a variant of a union takes only `#[wire(fallback)]` (the member read when the first word is no other member's) and `#[wire(from = \"client\")]` / `#[wire(from = \"server\")]` (the member read from what that side sends)\n\nhelp: describe the member on its struct");
                }
            }
            let Some((name, _)) = Self::segment(ty).filter(|(_, a)| a.is_empty()) else {
                let t = ty.to_token_stream().to_string().replace(' ', "");
                self.err(
                    ty,
                    format!("a variant of a union holds a struct of the protocol, not `{t}`"),
                );
                continue;
            };
            if v.ident != name {
                self.err(&v.ident, format!("a variant of a union is named after the struct it holds: `{name}`, not `{}`\n\nhelp: write `{name}({name})`", v.ident));
            }
            match self.named(ty, &name) {
                Type::Named(i) => arms.push(UnionArm {
                    ty: i,
                    docs: attr::docs(&v.attrs),
                    fallback,
                    from,
                    span: self.spans.add(&v.ident),
                }),
                _ => continue,
            }
        }
        UnionDef {
            name: item.ident.to_string(),
            docs: attr::docs(item.attrs),
            arms,
            span: self.spans.add(item.ident),
        }
    }

    /// The struct's JSON encoding from `#[wire(json(..))]` and its fields' `rename` /
    /// `as_name`.
    pub fn encoding(&mut self, item: &Item, ia: &ItemAttrs) -> Option<Encoding> {
        let Body::Struct(fields) = &item.body else {
            return None;
        };
        let mut renames = Vec::new();
        let mut by_name = Vec::new();
        for f in fields.iter() {
            let Ok(fa) = attr::field(&f.attrs) else {
                continue;
            };
            if let Some((r, s)) = &fa.rename {
                if ia.json.is_none() {
                    self.err_at(*s, "`rename` names the field in the struct's JSON encoding, which it does not declare\n\nhelp: add `#[wire(json)]` to the struct");
                }
                renames.push((field_name(f), r.clone()));
            }
            if let Some((_, s)) = &fa.as_name {
                if ia.json.is_none() {
                    self.err_at(*s, "`as_name` applies to the struct's JSON encoding, which it does not declare\n\nhelp: add `#[wire(json)]` to the struct");
                }
                by_name.push(field_name(f));
            }
        }
        let j = ia.json.as_ref()?;
        Some(Encoding {
            name: "json".into(),
            format: Format::Json,
            rename_all: j.rename_all.as_ref().map(|r| r.0.clone()),
            renames,
            by_name,
            flags: j.flags.clone(),
            constants: j.constants.clone(),
            span: self.spans.at(j.span),
            rule_spans: vec![],
        })
    }
}

/// `T` of `Option<T>`.
fn option_of(t: &syn::Type) -> Option<&syn::Type> {
    match Cx::segment(t) {
        Some((n, args)) if n == "Option" && args.len() == 1 => Some(args[0]),
        _ => None,
    }
}

/// Points every span of a condition at `at` (the attribute it was written in).
#[cfg(feature = "dsl")]
pub(super) fn relocate(c: &mut Cond, at: crate::diag::Span) {
    match c {
        Cond::Int(_, s) | Cond::Ref(_, s) => *s = at,
        Cond::Not(x) => relocate(x, at),
        Cond::Cmp(_, a, b) | Cond::And(a, b) | Cond::Or(a, b) => {
            relocate(a, at);
            relocate(b, at);
        }
        Cond::Version | Cond::More => {}
    }
}

/// The first named type in `t` (through options, lists and maps).
fn named_in(t: &Type) -> Option<usize> {
    match t {
        Type::Named(i) => Some(*i),
        Type::Optional { inner, .. } => named_in(inner),
        Type::List { elem, .. } => named_in(elem),
        Type::Map { key, value, .. } => named_in(key).or_else(|| named_in(value)),
        _ => None,
    }
}

/// A field's name as the IR keeps it (raw identifiers unraw).
pub fn field_name(f: &syn::Field) -> String {
    f.ident.as_ref().map_or_else(String::new, |i| {
        let s = i.to_string();
        s.strip_prefix("r#").map_or(s.clone(), str::to_string)
    })
}

/// An integer literal, possibly negated.
pub fn int_expr(e: &syn::Expr) -> Option<i128> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => int_expr(&u.expr).map(|v| -v),
        syn::Expr::Group(g) => int_expr(&g.expr),
        syn::Expr::Paren(p) => int_expr(&p.expr),
        _ => None,
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}
