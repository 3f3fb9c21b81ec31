//! JSON encodings (`encoding X json { ... }`): serde mirror structs that borrow the message
//! for writing (keys in the declared or sorted order, renamed) and own the data when
//! reading (unknown keys ignored, missing keys defaulted).

use super::rust::{Gen, RT, ident, lit, rename_case};
use crate::ir::*;

struct JsonField {
    rust: String,
    wire: String,
    ty: Type,
    by_name: bool,
}

fn json_fields(g: &Gen, s: &StructDef, enc: &Encoding) -> Vec<JsonField> {
    let mut out = Vec::new();
    let mut push = |name: &str, ty: &Type| {
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
            rust: ident(name),
            wire,
            ty: ty.clone(),
            by_name: enc.by_name.iter().any(|n| n == name),
        });
    };
    for f in &s.fields {
        match &f.kind {
            FieldKind::Value(t) => push(&f.name, t),
            FieldKind::Bits { parts, .. } => {
                for p in parts.iter().filter(|p| p.value == PartValue::Stored) {
                    push(&p.name, &p.ty);
                }
            }
            _ => {}
        }
    }
    if enc.flags.iter().any(|f| f == "sort_keys") {
        out.sort_by(|a, b| a.wire.cmp(&b.wire));
    }
    let _ = g;
    out
}

/// The mirror's field type, attributes, and conversions to and from the message's value.
fn mirror(g: &Gen, f: &JsonField, omit_none: bool) -> (String, String, String, String) {
    let src = format!("self.{}", f.rust);
    let de = format!("m.{}", f.rust);
    let (inner, opt) = match &f.ty {
        Type::Optional { inner, .. } => (&**inner, true),
        t => (t, false),
    };
    let mut attrs = format!("#[serde(rename = {})]", lit(&f.wire));
    if opt && omit_none {
        attrs += "#[serde(skip_serializing_if = \"::std::option::Option::is_none\")]";
    }
    match inner {
        Type::Named(i) => match &g.p.types[*i] {
            TypeDef::Enum(e) => {
                let with = if f.by_name {
                    "enum_by_name"
                } else {
                    "enum_by_number"
                };
                let ty = if opt {
                    format!("::std::option::Option<{}>", e.name)
                } else {
                    e.name.clone()
                };
                if opt {
                    // serde's `with` does not reach into Option; go through the wire value.
                    let rust = if f.by_name {
                        "::polywire::__private::serde_json::Value".to_string()
                    } else {
                        "::std::option::Option<i64>".into()
                    };
                    let (ser, back) = if f.by_name {
                        (
                            format!(
                                "{src}.map(|v| match ::polywire::WireEnum::wire_name(v) {{ ::std::option::Option::Some(n) => ::polywire::__private::serde_json::Value::from(n), ::std::option::Option::None => ::polywire::__private::serde_json::Value::from(::polywire::WireEnum::wire_value(v)) }}).unwrap_or_default()"
                            ),
                            format!(
                                "match &{de} {{ ::polywire::__private::serde_json::Value::String(n) => {}::from_name(n), v => v.as_i64().and_then(<{} as ::polywire::WireEnum>::from_wire_value) }}",
                                e.name, e.name
                            ),
                        )
                    } else {
                        (
                            format!("{src}.map(::polywire::WireEnum::wire_value)"),
                            format!(
                                "{de}.and_then(<{} as ::polywire::WireEnum>::from_wire_value)",
                                e.name
                            ),
                        )
                    };
                    let _ = ty;
                    return (rust, attrs, ser, back);
                }
                attrs += &format!("#[serde(with = \"{RT}::{with}\")]");
                (ty, attrs, src, de)
            }
            TypeDef::Flags(fl) => {
                let repr = fl.repr.rust();
                if opt {
                    (
                        format!("::std::option::Option<{repr}>"),
                        attrs,
                        format!("{src}.map(|v| v.bits())"),
                        format!("{de}.map({}::from_bits)", fl.name),
                    )
                } else {
                    (
                        repr.to_string(),
                        attrs,
                        format!("{src}.bits()"),
                        format!("{}::from_bits({de})", fl.name),
                    )
                }
            }
            TypeDef::Struct(_) => (g.rust_type(&f.ty), attrs, format!("{src}.clone()"), de),
        },
        t => {
            let copy = matches!(t, Type::Int(_) | Type::Varint { .. } | Type::Bool);
            let ser = if copy { src } else { format!("{src}.clone()") };
            (g.rust_type(&f.ty), attrs, ser, de)
        }
    }
}

/// `decode_<enc>`, `encode_<enc>` and `<enc>_len` methods for each JSON encoding.
pub fn methods(g: &Gen, s: &StructDef) -> String {
    let mut out = String::new();
    for enc in s.encodings.iter().filter(|e| e.format == Format::Json) {
        let omit = enc.flags.iter().any(|f| f == "omit_none");
        let fields = json_fields(g, s, enc);
        let n = &enc.name;
        let ser_ty = format!("__{}{}Ser", s.name, rust_case(n));
        let de_ty = format!("__{}{}De", s.name, rust_case(n));
        let ser_init: Vec<String> = fields
            .iter()
            .map(|f| format!("{}: {}", f.rust, mirror(g, f, omit).2))
            .collect();
        let de_init: Vec<String> = fields
            .iter()
            .map(|f| {
                let (_, _, _, back) = mirror(g, f, omit);
                format!("{}: {back}", f.rust)
            })
            .collect();
        let missing: Vec<String> = g
            .stored_fields(s)
            .into_iter()
            .filter(|(name, _, _)| !fields.iter().any(|f| f.rust == *name))
            .map(|(name, _, _)| format!("{name}: ::std::default::Default::default()"))
            .collect();
        let all_init = de_init
            .into_iter()
            .chain(missing)
            .collect::<Vec<_>>()
            .join(", ");
        out += &format!(
            "/// Decodes the `{n}` encoding from the whole of `r`.\n\
             pub fn decode_{n}(r: &mut {RT}::Reader) -> ::std::result::Result<Self, {RT}::DecodeError> {{\n\
                 let at = r.offset(); let bytes = r.rest();\n\
                 let m: {de_ty} = {RT}::from_json(&bytes, at, \"{n}\")?;\n\
                 ::std::result::Result::Ok(Self {{ {all_init} }})\n\
             }}\n\
             fn {n}_mirror(&self) -> {ser_ty} {{ {ser_ty} {{ {ser} }} }}\n\
             /// Writes the `{n}` encoding into `dst`.\n\
             pub fn encode_{n}(&self, dst: &mut {RT}::BytesMut) -> ::std::result::Result<(), {RT}::EncodeError> {{\n\
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
        let omit = enc.flags.iter().any(|f| f == "omit_none");
        let fields = json_fields(g, s, enc);
        let n = rust_case(&enc.name);
        let mut ser = String::new();
        let mut de = String::new();
        for f in &fields {
            let (ty, attrs, _, _) = mirror(g, f, omit);
            ser += &format!("{attrs} {}: {ty},", f.rust);
            let de_attrs = attrs.replace(
                "#[serde(skip_serializing_if = \"::std::option::Option::is_none\")]",
                "",
            );
            de += &format!("{de_attrs} {}: {ty},", f.rust);
        }
        out += &format!(
            "#[doc(hidden)] #[derive({RT}::serde::Serialize)] #[serde(crate = \"{RT}::serde\")] \
             pub struct __{s}{n}Ser {{ {ser} }}\n\
             #[doc(hidden)] #[derive({RT}::serde::Deserialize, ::std::default::Default)] #[serde(crate = \"{RT}::serde\", default)] \
             pub struct __{s}{n}De {{ {de} }}\n",
            s = s.name
        );
    }
    out
}

fn rust_case(s: &str) -> String {
    super::rust::pascal(s)
}
