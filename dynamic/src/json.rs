//! JSON three ways: a struct's declared `encoding X json` (byte-exact with the generated
//! mirrors of `codegen/src/emit/json.rs`), a [`Value`] shown as JSON, and JSON read back
//! into a [`Value`] of a given type.

use crate::decode::rust_range;
use crate::{Schema, Value, intern};
use bytes::{Bytes, BytesMut};
use polywire_codegen::ir::*;
use polywire_core::wire::Reader;
use polywire_core::{DecodeError, EncodeError, Str};
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::Value as Json;

/// JSON whose objects keep their members in the order given.
enum Ordered {
    Null,
    Bool(bool),
    Int(i128),
    Str(String),
    Arr(Vec<Ordered>),
    Obj(Vec<(String, Ordered)>),
    /// JSON text written as it is (an encoding's constants).
    Raw(Json),
}

impl serde::Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Ordered::Null => s.serialize_none(),
            Ordered::Bool(b) => s.serialize_bool(*b),
            Ordered::Int(v) => match (i64::try_from(*v), u64::try_from(*v)) {
                (Ok(v), _) => s.serialize_i64(v),
                (_, Ok(v)) => s.serialize_u64(v),
                _ => s.serialize_str(&v.to_string()),
            },
            Ordered::Str(v) => s.serialize_str(v),
            Ordered::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for x in items {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Ordered::Obj(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Ordered::Raw(j) => j.serialize(s),
        }
    }
}

/// A field as an encoding sees it (`json_fields`).
pub(crate) struct JsonField<'p> {
    pub name: &'p str,
    pub wire: String,
    pub ty: Type,
    pub by_name: bool,
    /// Conditional, so held as an optional (absent is left out or `null`).
    pub cond: bool,
    /// Conditional and itself optional: absent is left out, `null` is there.
    pub present: bool,
}

pub(crate) fn json_fields<'p>(s: &'p StructDef, enc: &Encoding) -> Vec<JsonField<'p>> {
    let mut out = Vec::new();
    let mut push = |name: &'p str, ty: &Type, cond: bool, present: bool| {
        let wire = enc
            .renames
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, w)| w.clone())
            .unwrap_or_else(|| {
                enc.rename_all.as_deref().map_or(name.to_string(), |c| {
                    polywire_codegen::emit::rust::rename_case(name, c)
                })
            });
        out.push(JsonField {
            name,
            wire,
            ty: ty.clone(),
            by_name: enc.by_name.iter().any(|n| n == name),
            cond,
            present,
        });
    };
    for f in &s.fields {
        match &f.kind {
            FieldKind::Value(t) => {
                let t = f.widen.map_or_else(|| t.clone(), Type::Int);
                let present = f.cond.is_some() && matches!(t, Type::Optional { .. });
                push(&f.name, &t, f.cond.is_some(), present)
            }
            FieldKind::Switch { ty, .. } => push(&f.name, &Type::Named(*ty), false, false),
            FieldKind::Bits { parts, .. } => {
                for p in parts.iter().filter(|p| p.value == PartValue::Stored) {
                    push(&p.name, &p.ty, false, false);
                }
            }
            _ => {}
        }
    }
    out
}

fn encoding<'p>(p: &'p Protocol, ty: usize, enc: &str) -> Option<(&'p StructDef, &'p Encoding)> {
    match &p.types[ty] {
        TypeDef::Struct(s) => s.encodings.iter().find(|e| e.name == enc).map(|e| (s, e)),
        _ => None,
    }
}

/// Writes struct `ty`'s value in its JSON encoding `enc` (`encode_<enc>`).
pub(crate) fn encode(
    schema: &Schema,
    ty: usize,
    enc: &str,
    v: &Value,
    dst: &mut BytesMut,
) -> Result<(), EncodeError> {
    let path = intern(enc);
    let o = mirror(&schema.ir, ty, enc, v).map_err(|msg| EncodeError::Json { path, msg })?;
    polywire_core::json::to_json(&o, dst, path)
}

/// The written mirror of a struct value.
fn mirror(p: &Protocol, ty: usize, enc: &str, v: &Value) -> Result<Ordered, String> {
    let Some((s, e)) = encoding(p, ty, enc) else {
        return Err(format!("`{}` has no `{enc}` encoding", p.types[ty].name()));
    };
    let omit_none = e.flags.iter().any(|f| f == "omit_none");
    let mut members: Vec<(String, Ordered)> = Vec::new();
    for f in json_fields(s, e) {
        let x = v.field(f.name);
        let optional = f.cond || matches!(f.ty, Type::Optional { .. });
        let absent = match x {
            None => true,
            Some(Value::Null) => !f.cond,
            Some(_) => false,
        };
        if absent && (f.present || (omit_none && optional)) {
            continue;
        }
        let inner = match (&f.ty, f.cond) {
            (_, true) => f.ty.clone(),
            (Type::Optional { inner, .. }, false) => (**inner).clone(),
            (t, false) => t.clone(),
        };
        let value = match x {
            None | Some(Value::Null) if optional => Ordered::Null,
            None => return Err(format!("`{}` is missing", f.name)),
            Some(x) => ser(p, enc, f.by_name, &inner, x)?,
        };
        members.push((f.wire, value));
    }
    for (key, value) in &e.constants {
        let j: Json = serde_json::from_str(value).map_err(|e| e.to_string())?;
        members.push((key.clone(), Ordered::Raw(j)));
    }
    if e.flags.iter().any(|f| f == "sort_keys") {
        members.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(Ordered::Obj(members))
}

fn ser(p: &Protocol, enc: &str, by_name: bool, t: &Type, v: &Value) -> Result<Ordered, String> {
    Ok(match (t, v) {
        (_, Value::Null) => Ordered::Null,
        (Type::Optional { inner, .. }, x) => ser(p, enc, by_name, inner, x)?,
        (_, Value::Bool(b)) => Ordered::Bool(*b),
        (_, Value::Int(n)) | (_, Value::Flags(n)) => Ordered::Int(*n),
        (_, Value::Str(s)) => Ordered::Str(s.as_str().to_string()),
        (_, Value::Bytes(b)) => {
            Ordered::Arr(b.iter().map(|x| Ordered::Int(i128::from(*x))).collect())
        }
        (Type::List { elem, .. }, Value::List(items)) => Ordered::Arr(
            items
                .iter()
                .map(|x| ser(p, enc, by_name, elem, x))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Map { key, value, .. }, Value::Map(entries)) => Ordered::Obj(
            entries
                .iter()
                .map(|(k, x)| {
                    let k = match k {
                        Value::Str(s) => s.as_str().to_string(),
                        other => other.as_int().map(|n| n.to_string()).unwrap_or_default(),
                    };
                    let _ = key;
                    Ok((k, ser(p, enc, by_name, value, x)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        (Type::Named(i), Value::Enum { value, name }) => {
            let u64_repr = matches!(&p.types[*i], TypeDef::Enum(e) if e.repr.rust() == "u64");
            match name {
                Some(n) if by_name => Ordered::Str((*n).to_string()),
                _ if u64_repr => Ordered::Int(i128::from(*value as u64)),
                _ => Ordered::Int(*value),
            }
        }
        (Type::Named(i), v @ Value::Struct { .. }) => mirror(p, *i, enc, v)?,
        (t, v) => return Err(format!("{v:?} is not a {t:?}")),
    })
}

/// Reads struct `ty` from the whole of `r` in its JSON encoding `enc` (`decode_<enc>`).
pub(crate) fn decode(
    schema: &Schema,
    ty: usize,
    enc: &str,
    r: &mut Reader<'_>,
) -> Result<Value, DecodeError> {
    let at = r.offset();
    let bytes = r.rest();
    crate::mirror::parse(&schema.ir, ty, enc, &bytes, at)
}

/// A missing member's value: the field's `@default`, or its type's default.
pub(crate) fn default(p: &Protocol, t: &Type, s: &StructDef, field: &str) -> Value {
    let declared = s
        .fields
        .iter()
        .find(|f| f.name == field)
        .and_then(|f| f.default);
    match t {
        Type::Optional { .. } => Value::Null,
        Type::Int(_) | Type::Varint { .. } => Value::Int(declared.unwrap_or(0)),
        Type::Bool => Value::Bool(false),
        Type::String { .. } => Value::Str(Str::default()),
        Type::Bytes { .. } => Value::Bytes(Bytes::new()),
        Type::List { .. } => Value::List(Vec::new()),
        Type::Map { .. } => Value::Map(Vec::new()),
        Type::Named(i) => match &p.types[*i] {
            TypeDef::Enum(e) => {
                let v = declared
                    .or_else(|| e.variants.first().map(|v| v.value))
                    .unwrap_or(0);
                Value::Enum {
                    value: v,
                    name: e
                        .variants
                        .iter()
                        .find(|x| x.value == v)
                        .map(|x| intern(&x.name)),
                }
            }
            TypeDef::Flags(_) => Value::Flags(0),
            TypeDef::Struct(d) => Value::Struct {
                ty: intern(&d.name),
                fields: d
                    .fields
                    .iter()
                    .filter(|f| f.cond.is_none())
                    .filter_map(|f| match &f.kind {
                        FieldKind::Value(t) => Some((intern(&f.name), default(p, t, d, &f.name))),
                        _ => None,
                    })
                    .collect(),
            },
            TypeDef::Union(_) | TypeDef::Tagged(_) => Value::Null,
        },
    }
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "sequence",
        Json::Object(_) => "map",
    }
}

fn expected(j: &Json, what: &str) -> String {
    format!("invalid type: {}, expected {what}", kind(j))
}

fn int(j: &Json, (min, max): (i128, i128)) -> Result<i128, String> {
    let v = match j {
        Json::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .ok_or_else(|| format!("invalid type: floating point `{n}`, expected an integer"))?,
        other => return Err(expected(other, "an integer")),
    };
    if !(min..=max).contains(&v) {
        return Err(format!(
            "invalid value: integer `{v}`, expected an integer from {min} to {max}"
        ));
    }
    Ok(v)
}

/// Why JSON could not be read as a value of a protocol's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// The path to the offending member (`Frame.header.code`).
    pub path: String,
    /// What was wrong.
    pub msg: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.msg)
    }
}

impl std::error::Error for JsonError {}

impl Value {
    /// The value as JSON, for people and tools: structs as objects in wire order, a
    /// union's member as `{"Member": {..}}`, enums by name (their number when unnamed),
    /// flags as their number, bytes as a string when they are printable UTF-8 text and as
    /// `{"hex": ".."}` otherwise, maps whose keys are strings, each once, as objects
    /// (others as `[key, value]` pairs). [`Schema::value_from_json`] reads it back.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(n) | Value::Flags(n) => number(*n),
            Value::Str(s) => Json::String(s.as_str().to_string()),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(t)
                    if t.chars()
                        .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n')) =>
                {
                    Json::String(t.to_string())
                }
                _ => serde_json::json!({ "hex": hex(b) }),
            },
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(entries) if string_keys_once(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| match k {
                        Value::Str(s) => (s.as_str().to_string(), v.to_json()),
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
            Value::Map(entries) => Json::Array(
                entries
                    .iter()
                    .map(|(k, v)| Json::Array(vec![k.to_json(), v.to_json()]))
                    .collect(),
            ),
            Value::Enum { value, name } => match name {
                Some(n) => Json::String((*n).to_string()),
                None => number(*value),
            },
            Value::Struct { fields, .. } => Json::Object(
                fields
                    .iter()
                    .map(|(n, v)| ((*n).to_string(), v.to_json()))
                    .collect(),
            ),
            Value::Union { member, value } => {
                let mut o = serde_json::Map::new();
                o.insert((*member).to_string(), value.to_json());
                Json::Object(o)
            }
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Whether every key is a string, each once (an object holds the map as it is).
fn string_keys_once(entries: &[(Value, Value)]) -> bool {
    let mut seen = std::collections::HashSet::new();
    entries.iter().all(|(k, _)| match k {
        Value::Str(s) => seen.insert(s.as_str()),
        _ => false,
    })
}

fn number(n: i128) -> Json {
    match (i64::try_from(n), u64::try_from(n)) {
        (Ok(v), _) => Json::from(v),
        (_, Ok(v)) => Json::from(v),
        _ => Json::String(n.to_string()),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Schema {
    /// Reads JSON in the form [`Value::to_json`] writes as a value of message type `ty`.
    /// Members left out take their `@default` or their type's default (conditional fields
    /// stay absent); bytes may also be given as an array of numbers.
    pub fn value_from_json(&self, ty: usize, j: &Json) -> Result<Value, JsonError> {
        let mut path = vec![self.ir.types[ty].name().to_string()];
        self.message_from_json(ty, j, &mut path)
    }

    fn message_from_json(
        &self,
        ty: usize,
        j: &Json,
        path: &mut Vec<String>,
    ) -> Result<Value, JsonError> {
        let p = &self.ir;
        let err = |path: &[String], msg: String| JsonError {
            path: path.join("."),
            msg,
        };
        match &p.types[ty] {
            TypeDef::Struct(s) => {
                let o = j
                    .as_object()
                    .ok_or_else(|| err(path, expected(j, "an object")))?;
                let mut fields = Vec::new();
                let mut known: Vec<&str> = Vec::new();
                for f in &s.fields {
                    let stored: Vec<(&str, Type, bool, Option<i128>)> = match &f.kind {
                        FieldKind::Value(t) => vec![(
                            f.name.as_str(),
                            f.widen.map_or_else(|| t.clone(), Type::Int),
                            f.cond.is_some(),
                            f.default,
                        )],
                        FieldKind::Switch { ty, .. } => {
                            vec![(f.name.as_str(), Type::Named(*ty), false, None)]
                        }
                        FieldKind::Bits { parts, .. } => parts
                            .iter()
                            .filter(|p| p.value == PartValue::Stored)
                            .map(|p| (p.name.as_str(), p.ty.clone(), false, None))
                            .collect(),
                        _ => Vec::new(),
                    };
                    for (name, t, cond, _) in stored {
                        known.push(name);
                        let v = match o.get(name) {
                            Some(x) => {
                                path.push(name.to_string());
                                let v = self.type_from_json(&t, x, path)?;
                                path.pop();
                                v
                            }
                            None if cond => continue,
                            None => default(p, &t, s, name),
                        };
                        fields.push((intern(name), v));
                    }
                }
                if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
                    return Err(err(path, format!("`{}` has no field `{k}`", s.name)));
                }
                Ok(Value::Struct {
                    ty: intern(&s.name),
                    fields,
                })
            }
            TypeDef::Tagged(t) => {
                let o = j
                    .as_object()
                    .ok_or_else(|| err(path, expected(j, "an object")))?;
                let mut fields = Vec::new();
                for (k, x) in o {
                    let Some(m) = t.members.iter().find(|m| m.name == *k) else {
                        return Err(err(path, format!("`{}` has no member `{k}`", t.name)));
                    };
                    path.push(k.clone());
                    let v = if m.repeated {
                        let items = x
                            .as_array()
                            .ok_or_else(|| err(path, expected(x, "an array")))?;
                        Value::List(
                            items
                                .iter()
                                .map(|x| self.type_from_json(&m.ty, x, path))
                                .collect::<Result<_, _>>()?,
                        )
                    } else {
                        self.type_from_json(&m.ty, x, path)?
                    };
                    path.pop();
                    fields.push((intern(&m.name), v));
                }
                // Members are written in declaration order whatever the JSON's order.
                fields.sort_by_key(|(n, _)| t.members.iter().position(|m| m.name == *n));
                Ok(Value::Struct {
                    ty: intern(&t.name),
                    fields,
                })
            }
            TypeDef::Union(u) => {
                let o = j.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
                    err(
                        path,
                        format!(
                            "expected an object with one member, the `{}` member's name",
                            u.name
                        ),
                    )
                })?;
                let (k, x) = o
                    .iter()
                    .next()
                    .ok_or_else(|| err(path, "empty object".into()))?;
                let Some(a) = u.arms.iter().find(|a| p.types[a.ty].name() == k) else {
                    let names: Vec<&str> = u.arms.iter().map(|a| p.types[a.ty].name()).collect();
                    return Err(err(
                        path,
                        format!(
                            "`{k}` is not a member of `{}` ({})",
                            u.name,
                            names.join(", ")
                        ),
                    ));
                };
                path.push(k.clone());
                let v = self.message_from_json(a.ty, x, path)?;
                path.pop();
                Ok(Value::Union {
                    member: intern(k),
                    value: Box::new(v),
                })
            }
            TypeDef::Enum(_) | TypeDef::Flags(_) => Err(err(path, "not a message type".into())),
        }
    }

    fn type_from_json(
        &self,
        t: &Type,
        j: &Json,
        path: &mut Vec<String>,
    ) -> Result<Value, JsonError> {
        let p = &self.ir;
        let err = |path: &[String], msg: String| JsonError {
            path: path.join("."),
            msg,
        };
        let at = |r: Result<Value, String>, path: &[String]| r.map_err(|m| err(path, m));
        match t {
            Type::Optional { inner, .. } => match j {
                Json::Null => Ok(Value::Null),
                x => self.type_from_json(inner, x, path),
            },
            Type::Int(i) => at(int(j, rust_range(i)).map(Value::Int), path),
            Type::Varint { signed: false, .. } => {
                at(int(j, (0, i128::from(u64::MAX))).map(Value::Int), path)
            }
            Type::Varint { signed: true, .. } => at(
                int(j, (i128::from(i64::MIN), i128::from(i64::MAX))).map(Value::Int),
                path,
            ),
            Type::Bool => j
                .as_bool()
                .map(Value::Bool)
                .ok_or_else(|| err(path, expected(j, "a boolean"))),
            Type::String { .. } => j
                .as_str()
                .map(|s| Value::Str(Str::from(s.to_string())))
                .ok_or_else(|| err(path, expected(j, "a string"))),
            Type::Bytes { .. } => match j {
                Json::String(s) => Ok(Value::Bytes(Bytes::from(s.clone().into_bytes()))),
                Json::Object(o) if o.len() == 1 && o.get("hex").is_some_and(Json::is_string) => o
                    .get("hex")
                    .and_then(Json::as_str)
                    .and_then(unhex)
                    .map(|b| Value::Bytes(Bytes::from(b)))
                    .ok_or_else(|| {
                        err(path, "`hex` holds a character other than hex digits".into())
                    }),
                Json::Array(items) => items
                    .iter()
                    .map(|x| int(x, (0, 255)).map(|v| v as u8))
                    .collect::<Result<Vec<u8>, _>>()
                    .map(|b| Value::Bytes(Bytes::from(b)))
                    .map_err(|m| err(path, m)),
                other => Err(err(
                    path,
                    expected(other, "text, {\"hex\": ..} or an array of bytes"),
                )),
            },
            Type::List { elem, .. } => {
                let items = j
                    .as_array()
                    .ok_or_else(|| err(path, expected(j, "an array")))?;
                let mut out = Vec::with_capacity(items.len());
                for (n, x) in items.iter().enumerate() {
                    path.push(n.to_string());
                    out.push(self.type_from_json(elem, x, path)?);
                    path.pop();
                }
                Ok(Value::List(out))
            }
            Type::Map { key, value, .. } => {
                let mut out = Vec::new();
                match j {
                    Json::Object(o) => {
                        for (k, x) in o {
                            path.push(k.clone());
                            let kv = match self.type_from_json(key, &Json::String(k.clone()), path)
                            {
                                Ok(v) => v,
                                Err(_) => self.type_from_json(
                                    key,
                                    &serde_json::from_str::<Json>(k).unwrap_or(Json::Null),
                                    path,
                                )?,
                            };
                            out.push((kv, self.type_from_json(value, x, path)?));
                            path.pop();
                        }
                    }
                    Json::Array(pairs) => {
                        for (n, pair) in pairs.iter().enumerate() {
                            path.push(n.to_string());
                            let Some([k, x]) = pair
                                .as_array()
                                .and_then(|a| <&[Json; 2]>::try_from(a.as_slice()).ok())
                            else {
                                return Err(err(path, "expected a [key, value] pair".into()));
                            };
                            out.push((
                                self.type_from_json(key, k, path)?,
                                self.type_from_json(value, x, path)?,
                            ));
                            path.pop();
                        }
                    }
                    other => {
                        return Err(err(
                            path,
                            expected(other, "an object or [key, value] pairs"),
                        ));
                    }
                }
                Ok(Value::Map(out))
            }
            Type::Named(i) => match &p.types[*i] {
                TypeDef::Enum(e) => {
                    let value = match j {
                        Json::String(n) => e
                            .variants
                            .iter()
                            .find(|v| v.name == *n)
                            .map(|v| v.value)
                            .ok_or_else(|| {
                                err(path, format!("`{}` has no variant `{n}`", e.name))
                            })?,
                        x => int(x, rust_range(&e.repr)).map_err(|m| err(path, m))?,
                    };
                    crate::decode::Dec::new(self)
                        .enum_value(e, value)
                        .ok_or_else(|| {
                            err(
                                path,
                                format!("`{}` has no variant of value {value}", e.name),
                            )
                        })
                }
                TypeDef::Flags(f) => match j {
                    Json::Array(names) => {
                        let mut bits = 0i128;
                        for n in names {
                            let b = f
                                .bits
                                .iter()
                                .find(|b| Some(b.name.as_str()) == n.as_str())
                                .ok_or_else(|| {
                                    err(path, format!("`{}` has no flag {n}", f.name))
                                })?;
                            bits |= 1i128 << b.value;
                        }
                        Ok(Value::Flags(crate::decode::cast(bits, &f.repr)))
                    }
                    x => at(int(x, rust_range(&f.repr)).map(Value::Flags), path),
                },
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => {
                    self.message_from_json(*i, j, path)
                }
            },
        }
    }
}
