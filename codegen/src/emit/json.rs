//! JSON encodings (`encoding X json { ... }`): serde mirror structs, one written from the
//! message (keys in the declared or sorted order, renamed, constants included) and one read
//! into (unknown keys ignored, missing keys defaulted), and the conversions between a
//! message's values and theirs.
//!
//! A value whose Rust type serde handles as it is (integers, bools, strings, and lists, maps
//! and optionals of them) is copied; the others are converted: bytes become arrays of
//! numbers, flags their integer, enums their number or (`field as name`) their name, and a
//! nested struct its own encoding of the same name.

use super::rust::{Gen, RT, camel_allow, ident, lit, pascal_prefix, rename_case};
use crate::ir::*;

struct JsonField {
    /// The field's name as written in the protocol (error paths).
    name: String,
    rust: String,
    wire: String,
    ty: Type,
    by_name: bool,
    /// An optional field present on a condition, `Option<Option<T>>`: absent is left out
    /// of the JSON and `Some(None)` written as `null`, so that both read back.
    present: bool,
}

fn json_fields(s: &StructDef, enc: &Encoding) -> Vec<JsonField> {
    let mut out = Vec::new();
    let mut push = |name: &str, ty: &Type, present: bool| {
        let wire = enc
            .renames
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, w)| w.clone())
            .unwrap_or_else(|| {
                enc.rename_all
                    .as_deref()
                    .map_or(name.to_string(), |c| rename_case(name, c))
            });
        out.push(JsonField {
            name: name.to_string(),
            rust: ident(name),
            wire,
            ty: ty.clone(),
            by_name: enc.by_name.iter().any(|n| n == name),
            present,
        });
    };
    for f in &s.fields {
        match &f.kind {
            // A widened integer is its Rust type in JSON; a conditional field is held (and
            // written) as an optional.
            FieldKind::Value(t) => {
                let t = f.widen.map_or_else(|| t.clone(), Type::Int);
                match f.cond {
                    Some(_) => {
                        let present = matches!(t, Type::Optional { .. });
                        let t = Type::Optional {
                            inner: Box::new(t),
                            repr: OptRepr::Presence,
                        };
                        push(&f.name, &t, present)
                    }
                    None => push(&f.name, &t, false),
                }
            }
            // The struct a discriminator chooses the binary encoding of is, in JSON, a
            // nested struct like any other.
            FieldKind::Switch { ty, .. } => push(&f.name, &Type::Named(*ty), false),
            FieldKind::Bits { parts, .. } => {
                for p in parts.iter().filter(|p| p.value == PartValue::Stored) {
                    push(&p.name, &p.ty, false);
                }
            }
            _ => {}
        }
    }
    out
}

fn sorted(enc: &Encoding) -> bool {
    enc.flags.iter().any(|f| f == "sort_keys")
}

/// The mirror structs' names.
pub(crate) fn mirror_names(s: &str, enc: &str) -> (String, String) {
    let e = pascal_prefix(enc);
    (format!("__{s}{e}Ser"), format!("__{s}{e}De"))
}

/// The mirror type (for writing when `ser`, else for reading) and the conversions of one
/// encoding's values.
struct Json<'a> {
    g: &'a Gen<'a>,
    /// The encoding's name: nested structs use theirs of the same name.
    enc: &'a str,
    /// Enums by name rather than number.
    by_name: bool,
    /// The field, for error paths.
    field: &'a str,
}

/// How a mirror value turns back into the message's value.
enum De {
    /// It is the value.
    Same,
    /// A function of it (`Kind::from_bits`), usable as a path in `map`.
    Func(String),
    /// An expression that cannot fail.
    Expr(String),
    /// An expression giving a `Result<_, DecodeError>`.
    Fallible(String),
}

impl Json<'_> {
    /// True when the message's Rust type is serialised as it is.
    fn same(&self, t: &Type) -> bool {
        match t {
            Type::Int(_) | Type::Varint { .. } | Type::Bool | Type::String { .. } => true,
            Type::List { elem, .. } => self.same(elem),
            Type::Map { key, value, .. } => self.same(key) && self.same(value),
            Type::Optional { inner, .. } => self.same(inner),
            Type::Bytes { .. } | Type::Named(_) => false,
        }
    }

    /// The struct a nested struct value is written with, if it declares this encoding.
    fn nested(&self, i: usize) -> Option<&StructDef> {
        match &self.g.p.types[i] {
            TypeDef::Struct(s) if s.encodings.iter().any(|e| e.name == self.enc) => Some(s),
            _ => None,
        }
    }

    fn ty(&self, t: &Type, ser: bool) -> String {
        if self.same(t) {
            return self.g.rust_type(t);
        }
        match t {
            Type::Bytes { .. } => "::std::vec::Vec<u8>".into(),
            Type::List { elem, .. } => format!("::std::vec::Vec<{}>", self.ty(elem, ser)),
            Type::Map { key, value, .. } => format!(
                "{RT}::OrderedMap<{}, {}>",
                self.ty(key, ser),
                self.ty(value, ser)
            ),
            Type::Optional { inner, .. } => {
                format!("::std::option::Option<{}>", self.ty(inner, ser))
            }
            Type::Named(i) => match &self.g.p.types[*i] {
                TypeDef::Enum(_) if self.by_name => format!("{RT}::serde_json::Value"),
                // A u64 representation's values over i64::MAX are written as they are.
                TypeDef::Enum(e) if e.repr.rust() == "u64" => "u64".into(),
                TypeDef::Enum(_) => "i64".into(),
                TypeDef::Flags(f) => f.repr.rust().into(),
                TypeDef::Struct(s) => {
                    let (ser_ty, de_ty) = mirror_names(&s.name, self.enc);
                    if self.nested(*i).is_none() {
                        // The checker lets it through; say what is missing where it shows.
                        return format!(
                            "[(); {{ ::std::compile_error!({}); 0 }}]",
                            lit(&format!(
                                "`{}` has no `{}` encoding to write its field `{}` with: declare `encoding {} {} {{}}`",
                                s.name, self.enc, self.field, s.name, self.enc
                            ))
                        );
                    }
                    if ser { ser_ty } else { de_ty }
                }
                // The checker rejects these under a JSON encoding; say so where it shows.
                TypeDef::Union(_) | TypeDef::Tagged(_) => format!(
                    "[(); {{ ::std::compile_error!({}); 0 }}]",
                    lit(&format!(
                        "field `{}`: unions and tagged lists have no JSON form",
                        self.field
                    ))
                ),
            },
            Type::Int(_) | Type::Varint { .. } | Type::Bool | Type::String { .. } => {
                unreachable!("serialised as it is")
            }
        }
    }

    /// An owned mirror value from `x`, an expression of type `&T`.
    fn ser(&self, t: &Type, x: &str) -> String {
        // `&self.f` is used as the place `self.f`.
        let place = x.strip_prefix('&').unwrap_or(x);
        let copy = match x.strip_prefix('&') {
            Some(p) => p.to_string(),
            None => format!("*{x}"),
        };
        if self.same(t) {
            return if is_copy(t) {
                copy
            } else {
                format!("{place}.clone()")
            };
        }
        match t {
            Type::Bytes { .. } => format!("{place}.to_vec()"),
            Type::List { elem, .. } => {
                format!("{place}.iter().map(|x| {}).collect()", self.ser(elem, "x"))
            }
            Type::Map { key, value, .. } => format!(
                "{place}.iter().map(|(k, v)| ({}, {})).collect()",
                self.ser(key, "k"),
                self.ser(value, "v")
            ),
            Type::Optional { inner, .. } => {
                format!("{place}.as_ref().map(|x| {})", self.ser(inner, "x"))
            }
            Type::Named(i) => match &self.g.p.types[*i] {
                TypeDef::Enum(e) if self.by_name => format!(
                    "match {RT}::WireEnum::wire_name({copy}) {{ ::std::option::Option::Some(n) => {RT}::serde_json::Value::from(n), ::std::option::Option::None => {RT}::serde_json::Value::from({}) }}",
                    u64_value(e, &format!("{RT}::WireEnum::wire_value({copy})"))
                ),
                TypeDef::Enum(e) => u64_value(e, &format!("{RT}::WireEnum::wire_value({copy})")),
                TypeDef::Flags(_) => format!("{place}.bits()"),
                TypeDef::Struct(_) if self.nested(*i).is_some() => {
                    format!("{place}.{}_mirror()", self.enc)
                }
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => "[]".into(),
            },
            Type::Int(_) | Type::Varint { .. } | Type::Bool | Type::String { .. } => {
                unreachable!("serialised as it is")
            }
        }
    }

    /// The message's value from `v`, an owned mirror value.
    fn de(&self, t: &Type, v: &str) -> De {
        if self.same(t) {
            return De::Same;
        }
        let err = |kind: String| -> String {
            format!(
                "{RT}::DecodeError::new(at, {}, {RT}::DecodeErrorKind::{kind})",
                lit(self.field)
            )
        };
        match t {
            Type::Bytes { .. } => De::Func(format!("{RT}::Bytes::from")),
            Type::List { elem, .. } => match self.de(elem, "x") {
                De::Same => De::Same,
                De::Func(f) => De::Expr(format!("{v}.into_iter().map({f}).collect()")),
                De::Expr(e) => De::Expr(format!("{v}.into_iter().map(|x| {e}).collect()")),
                De::Fallible(e) => De::Fallible(format!(
                    "{v}.into_iter().map(|x| {e}).collect::<::std::result::Result<_, _>>()"
                )),
            },
            Type::Map { key, value, .. } => {
                let apply = |d: De, x: &str| match d {
                    De::Same => (x.to_string(), false),
                    De::Func(f) => (format!("{f}({x})"), false),
                    De::Expr(e) => (e, false),
                    De::Fallible(e) => (format!("{e}?"), true),
                };
                let (k, kf) = apply(self.de(key, "k"), "k");
                let (x, xf) = apply(self.de(value, "x"), "x");
                if kf || xf {
                    De::Fallible(format!(
                        "{v}.into_iter().map(|(k, x)| ::std::result::Result::Ok(({k}, {x}))).collect::<::std::result::Result<_, {RT}::DecodeError>>()"
                    ))
                } else {
                    De::Expr(format!(
                        "{v}.into_iter().map(|(k, x)| ({k}, {x})).collect()"
                    ))
                }
            }
            Type::Optional { inner, .. } => match self.de(inner, "x") {
                De::Same => De::Same,
                De::Func(f) => De::Expr(format!("{v}.map({f})")),
                De::Expr(e) => De::Expr(format!("{v}.map(|x| {e})")),
                De::Fallible(e) => De::Fallible(format!("{v}.map(|x| {e}).transpose()")),
            },
            Type::Named(i) => match &self.g.p.types[*i] {
                TypeDef::Enum(e) if self.by_name => De::Fallible(format!(
                    "match {v} {{ {RT}::serde_json::Value::String(n) => {name}::from_name(&n), v => v.{number}.and_then(<{name} as {RT}::WireEnum>::from_wire_value) }}.ok_or_else(|| {})",
                    err(format!(
                        "Json({}.to_string())",
                        lit(&format!("no `{}` has this name or value", e.name))
                    )),
                    name = e.name,
                    number = if e.repr.rust() == "u64" {
                        "as_u64().map(|v| v as i64)"
                    } else {
                        "as_i64()"
                    }
                )),
                TypeDef::Enum(e) if e.repr.rust() == "u64" => De::Fallible(format!(
                    "<{name} as {RT}::WireEnum>::from_wire_value({v} as i64).ok_or_else(|| {})",
                    err(format!("UnknownEnum({v} as i64)")),
                    name = e.name
                )),
                TypeDef::Enum(e) => De::Fallible(format!(
                    "<{name} as {RT}::WireEnum>::from_wire_value({v}).ok_or_else(|| {})",
                    err(format!("UnknownEnum({v})")),
                    name = e.name
                )),
                TypeDef::Flags(f) => De::Func(format!("{}::from_bits", f.name)),
                TypeDef::Struct(s) => {
                    De::Fallible(format!("{}::{}_from_mirror({v}, at)", s.name, self.enc))
                }
                TypeDef::Union(_) | TypeDef::Tagged(_) => {
                    De::Expr("::std::default::Default::default()".into())
                }
            },
            Type::Int(_) | Type::Varint { .. } | Type::Bool | Type::String { .. } => {
                unreachable!("serialised as it is")
            }
        }
    }
}

/// `value`, an enum's `WireEnum::wire_value`, as JSON writes
/// it: a u64 representation's bit pattern back to the u64 it is.
fn u64_value(e: &EnumDef, value: &str) -> String {
    if e.repr.rust() == "u64" {
        format!("{value} as u64")
    } else {
        value.to_string()
    }
}

/// Values that are `Copy` (cloning them is a lint).
fn is_copy(t: &Type) -> bool {
    match t {
        Type::Int(_) | Type::Varint { .. } | Type::Bool => true,
        Type::Optional { inner, .. } => is_copy(inner),
        _ => false,
    }
}

/// A field of the mirrors: its type for writing and for reading, serde attributes for each,
/// and the conversions.
struct MirrorField {
    rust: String,
    ser_ty: String,
    de_ty: String,
    ser_attrs: String,
    de_attrs: String,
    ser: String,
    de: String,
    fallible: bool,
}

fn mirror_field(g: &Gen, f: &JsonField, enc: &Encoding) -> MirrorField {
    let j = Json {
        g,
        enc: &enc.name,
        by_name: f.by_name,
        field: &f.name,
    };
    let src = format!("&self.{}", f.rust);
    let m = format!("m.{}", f.rust);
    let rename = format!("#[serde(rename = {})]", lit(&f.wire));
    // A plain enum goes through serde's `with`, which reports a bad value with its position.
    if let Type::Named(i) = &f.ty
        && let TypeDef::Enum(e) = &g.p.types[*i]
    {
        let with = if f.by_name {
            "enum_by_name"
        } else {
            "enum_by_number"
        };
        let attrs = format!("{rename}#[serde(with = \"{RT}::{with}\")]");
        return MirrorField {
            rust: f.rust.clone(),
            ser_ty: e.name.clone(),
            de_ty: e.name.clone(),
            ser_attrs: attrs.clone(),
            de_attrs: attrs,
            ser: format!("self.{}", f.rust),
            de: m,
            fallible: false,
        };
    }
    let omit = f.present
        || (enc.flags.iter().any(|x| x == "omit_none") && matches!(f.ty, Type::Optional { .. }));
    let de_attrs = if f.present {
        format!("{rename}#[serde(default, deserialize_with = \"{RT}::json_present\")]")
    } else {
        rename.clone()
    };
    let ser_attrs = if omit {
        format!("{rename}#[serde(skip_serializing_if = \"::std::option::Option::is_none\")]")
    } else {
        rename.clone()
    };
    let (de, fallible) = match j.de(&f.ty, &m) {
        De::Same => (m, false),
        De::Func(func) => (format!("{func}({m})"), false),
        De::Expr(e) => (e, false),
        De::Fallible(e) => (format!("{e}?"), true),
    };
    MirrorField {
        rust: f.rust.clone(),
        ser_ty: j.ty(&f.ty, true),
        de_ty: j.ty(&f.ty, false),
        ser_attrs,
        de_attrs,
        ser: j.ser(&f.ty, &src),
        de,
        fallible,
    }
}

/// `decode_<enc>`, `encode_<enc>` and `<enc>_len` methods for each JSON encoding, and the
/// conversions to and from its mirrors.
pub fn methods(g: &Gen, s: &StructDef) -> String {
    let mut out = String::new();
    for enc in s.encodings.iter().filter(|e| e.format == Format::Json) {
        let fields: Vec<MirrorField> = json_fields(s, enc)
            .iter()
            .map(|f| mirror_field(g, f, enc))
            .collect();
        let n = &enc.name;
        let (ser_ty, de_ty) = mirror_names(&s.name, n);
        let mut ser_init: Vec<String> = fields
            .iter()
            .map(|f| format!("{}: {}", f.rust, f.ser))
            .collect();
        for (i, (_, value)) in enc.constants.iter().enumerate() {
            ser_init.push(format!("__constant{i}: {value}"));
        }
        let missing = g
            .stored_fields(s)
            .into_iter()
            .filter(|(name, ..)| !fields.iter().any(|f| f.rust == *name))
            .map(|(name, ..)| format!("{name}: ::std::default::Default::default()"));
        let all_init = fields
            .iter()
            .map(|f| format!("{}: {}", f.rust, f.de))
            .chain(missing)
            .collect::<Vec<_>>()
            .join(", ");
        let at = if fields.iter().any(|f| f.fallible) {
            "at"
        } else {
            "_at"
        };
        // A struct whose fields all stay out of the encoding reads nothing from its mirror.
        let m = if fields.is_empty() { "_m" } else { "m" };
        out += &format!(
            "/// Decodes the `{n}` encoding from the whole of `r`.\n\
             pub fn decode_{n}(r: &mut {RT}::Reader<'_>) -> {RT}::DecodeResult<Self> {{\n\
                 let at = r.offset(); let bytes = r.rest();\n\
                 let m: {de_ty} = {RT}::from_json(&bytes, at, \"{n}\")?;\n\
                 Self::{n}_from_mirror(m, at)\n\
             }}\n\
             fn {n}_from_mirror({m}: {de_ty}, {at}: usize) -> {RT}::DecodeResult<Self> {{\n\
                 ::std::result::Result::Ok(Self {{ {all_init} }})\n\
             }}\n\
             fn {n}_mirror(&self) -> {ser_ty} {{ {ser_ty} {{ {ser} }} }}\n\
             /// Writes the `{n}` encoding into `dst`.\n\
             pub fn encode_{n}(&self, dst: &mut {RT}::BytesMut) -> {RT}::EncodeResult {{\n\
                 {RT}::to_json(&self.{n}_mirror(), dst, \"{n}\")\n\
             }}\n\
             /// Length of the `{n}` encoding.\n\
             pub fn {n}_len(&self) -> usize {{ {RT}::json_len(&self.{n}_mirror()) }}\n",
            ser = ser_init.join(", ")
        );
    }
    out
}

/// The serde mirror structs for each JSON encoding.
pub fn mirrors(g: &Gen, s: &StructDef) -> String {
    let mut out = String::new();
    for enc in s.encodings.iter().filter(|e| e.format == Format::Json) {
        let json = json_fields(s, enc);
        let fields: Vec<MirrorField> = json.iter().map(|f| mirror_field(g, f, enc)).collect();
        // Members of the written mirror in order: (wire name, declaration).
        let mut ser: Vec<(String, String)> = json
            .iter()
            .zip(&fields)
            .map(|(j, f)| {
                (
                    j.wire.clone(),
                    format!("{} {}: {},", f.ser_attrs, f.rust, f.ser_ty),
                )
            })
            .collect();
        for (i, (key, value)) in enc.constants.iter().enumerate() {
            let ty = if value.starts_with('"') {
                "&'static str"
            } else if value.starts_with('-') {
                "i64"
            } else {
                "u64"
            };
            ser.push((
                key.clone(),
                format!("#[serde(rename = {})] __constant{i}: {ty},", lit(key)),
            ));
        }
        let mut de: Vec<(String, String)> = json
            .iter()
            .zip(&fields)
            .map(|(j, f)| {
                (
                    j.wire.clone(),
                    format!("{} {}: {},", f.de_attrs, f.rust, f.de_ty),
                )
            })
            .collect();
        if sorted(enc) {
            ser.sort_by(|a, b| a.0.cmp(&b.0));
            de.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let ser: String = ser.into_iter().map(|(_, d)| d).collect();
        let de: String = de.into_iter().map(|(_, d)| d).collect();
        let (ser_ty, de_ty) = mirror_names(&s.name, &enc.name);
        let allow = camel_allow(&s.name);
        out += &format!(
            "#[doc(hidden)] {allow} #[derive({RT}::serde::Serialize)] #[serde(crate = \"{RT}::serde\")] \
             pub struct {ser_ty} {{ {ser} }}\n\
             #[doc(hidden)] {allow} #[derive({RT}::serde::Deserialize, ::std::default::Default)] #[serde(crate = \"{RT}::serde\", default)] \
             pub struct {de_ty} {{ {de} }}\n"
        );
    }
    out
}
