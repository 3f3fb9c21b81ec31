//! Reading a struct's `encoding X json` as the generated code does: serde drives the same
//! `serde_json` deserializer through the same visitors (a derived struct with
//! `#[serde(default)]`, the primitives' own `Deserialize`, `Str`, `OrderedMap`, the enum
//! helpers), so that what parses, what fails and the error text are the same. Enums held
//! inside lists, maps and optionals are converted after the parse, in field order, as
//! the generated `*_from_mirror` does.

use crate::json::{JsonField, json_fields};
use crate::{Value, intern};
use bytes::Bytes;
use polywire_codegen::ir::*;
use polywire_core::{DecodeError, DecodeErrorKind, Str};
use serde::Deserialize;
use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use std::fmt;

/// A value as the mirror holds it, before conversion.
pub(crate) enum M {
    /// Final already.
    V(Value),
    /// An enum inside a list, map or optional, by number.
    EnumNum(i64),
    /// An enum inside a list, map or optional, by name (or number).
    EnumJson(serde_json::Value),
    List(Vec<M>),
    Map(Vec<(M, M)>),
    Opt(Option<Box<M>>),
    /// A struct's members, one slot per JSON field in declaration order (`None`: left out).
    Struct(usize, Vec<Option<M>>),
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    p: &'a Protocol,
    enc: &'a str,
    by_name: bool,
}

/// Parses `bytes` (at frame offset `at`) as struct `ty`'s JSON encoding `enc`.
pub(crate) fn parse(
    p: &Protocol,
    ty: usize,
    enc: &str,
    bytes: &[u8],
    at: usize,
) -> Result<Value, DecodeError> {
    let path = intern(enc);
    let ctx = Ctx {
        p,
        enc,
        by_name: false,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let m = StructSeed { ctx, ty }
        .deserialize(&mut de)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| {
            // serde_json reports line/column; the column of a one-line document is the offset.
            let off = if e.line() == 1 {
                e.column().saturating_sub(1)
            } else {
                0
            };
            DecodeError::new(at + off, path, DecodeErrorKind::Json(e.to_string()))
        })?;
    convert_struct(p, enc, ty, m, at)
}

/// The mirror struct's name, as serde's messages give it.
fn mirror_name(s: &str, enc: &str) -> String {
    format!(
        "__{s}{}De",
        polywire_codegen::emit::rust::pascal_prefix(enc)
    )
}

struct StructSeed<'a> {
    ctx: Ctx<'a>,
    ty: usize,
}

impl<'de> DeserializeSeed<'de> for StructSeed<'_> {
    type Value = M;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<M, D::Error> {
        d.deserialize_struct(
            "",
            &[],
            StructVisitor {
                ctx: self.ctx,
                ty: self.ty,
            },
        )
    }
}

struct StructVisitor<'a> {
    ctx: Ctx<'a>,
    ty: usize,
}

impl StructVisitor<'_> {
    fn fields(&self) -> Option<(&StructDef, Vec<JsonField<'_>>, bool)> {
        match &self.ctx.p.types[self.ty] {
            TypeDef::Struct(s) => {
                let e = s.encodings.iter().find(|e| e.name == self.ctx.enc)?;
                Some((
                    s,
                    json_fields(s, e),
                    e.flags.iter().any(|f| f == "sort_keys"),
                ))
            }
            _ => None,
        }
    }

    fn seed(&self, f: &JsonField<'_>) -> FieldSeed<'_> {
        FieldSeed {
            ctx: Ctx {
                by_name: f.by_name,
                ..self.ctx
            },
            ty: if f.cond {
                // Held as an optional; `present`: an optional of the optional.
                Wrapped::Cond(f.ty.clone(), f.present)
            } else {
                Wrapped::Plain(f.ty.clone())
            },
        }
    }
}

impl<'de> Visitor<'de> for StructVisitor<'_> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.ctx.p.types[self.ty].name();
        write!(f, "struct {}", mirror_name(name, self.ctx.enc))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<M, A::Error> {
        let Some((_, fields, _)) = self.fields() else {
            return Err(A::Error::custom("no such encoding"));
        };
        let mut slots: Vec<Option<M>> = fields.iter().map(|_| None).collect();
        while let Some(key) = a.next_key::<Key>()? {
            match fields.iter().position(|f| f.wire == key.0) {
                Some(i) => {
                    if slots[i].is_some() {
                        return Err(A::Error::custom(format_args!(
                            "duplicate field `{}`",
                            fields[i].wire
                        )));
                    }
                    slots[i] = Some(a.next_value_seed(self.seed(&fields[i]))?);
                }
                None => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(M::Struct(self.ty, slots))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<M, A::Error> {
        let Some((_, fields, sorted)) = self.fields() else {
            return Err(A::Error::custom("no such encoding"));
        };
        // Elements come in the mirror's member order.
        let mut order: Vec<usize> = (0..fields.len()).collect();
        if sorted {
            order.sort_by(|&x, &y| fields[x].wire.cmp(&fields[y].wire));
        }
        let mut slots: Vec<Option<M>> = fields.iter().map(|_| None).collect();
        for i in order {
            match a.next_element_seed(self.seed(&fields[i]))? {
                Some(m) => slots[i] = Some(m),
                None => break,
            }
        }
        Ok(M::Struct(self.ty, slots))
    }
}

/// A member name (serde's field identifier: any string).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        d.deserialize_identifier(V)
    }
}

enum Wrapped {
    Plain(Type),
    /// A conditional field: `Option<T>`, or with `true` `Option<Option<T>>` read by
    /// `json_present`.
    Cond(Type, bool),
}

struct FieldSeed<'a> {
    ctx: Ctx<'a>,
    ty: Wrapped,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = M;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<M, D::Error> {
        match &self.ty {
            // `#[serde(with = "enum_by_name"/"enum_by_number")]` on a plain enum field.
            Wrapped::Plain(Type::Named(i)) if matches!(self.ctx.p.types[*i], TypeDef::Enum(_)) => {
                let TypeDef::Enum(e) = &self.ctx.p.types[*i] else {
                    unreachable!()
                };
                with_enum(e, self.ctx.by_name, d).map(M::V)
            }
            Wrapped::Plain(t) => TypeSeed {
                ctx: self.ctx,
                ty: t,
            }
            .deserialize(d),
            Wrapped::Cond(t, false) => OptSeed(TypeSeed {
                ctx: self.ctx,
                ty: t,
            })
            .deserialize(d),
            // `json_present`: the member is there, `null` included.
            Wrapped::Cond(t, true) => TypeSeed {
                ctx: self.ctx,
                ty: t,
            }
            .deserialize(d)
            .map(|m| M::Opt(Some(Box::new(m)))),
        }
    }
}

#[derive(Clone, Copy)]
struct TypeSeed<'a> {
    ctx: Ctx<'a>,
    ty: &'a Type,
}

impl<'de> DeserializeSeed<'de> for TypeSeed<'_> {
    type Value = M;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<M, D::Error> {
        let p = self.ctx.p;
        Ok(match self.ty {
            Type::Int(i) => M::V(Value::Int(int(i, d)?)),
            Type::Varint { signed: false, .. } => {
                M::V(Value::Int(i128::from(u64::deserialize(d)?)))
            }
            Type::Varint { signed: true, .. } => M::V(Value::Int(i128::from(i64::deserialize(d)?))),
            Type::Bool => M::V(Value::Bool(bool::deserialize(d)?)),
            Type::String { .. } => M::V(Value::Str(Str::deserialize(d)?)),
            Type::Bytes { .. } => M::V(Value::Bytes(Bytes::from(Vec::<u8>::deserialize(d)?))),
            Type::List { elem, .. } => d.deserialize_seq(ListVisitor(TypeSeed {
                ctx: self.ctx,
                ty: elem,
            }))?,
            Type::Map { key, value, .. } => d.deserialize_map(MapVisitor(
                TypeSeed {
                    ctx: self.ctx,
                    ty: key,
                },
                TypeSeed {
                    ctx: self.ctx,
                    ty: value,
                },
            ))?,
            Type::Optional { inner, .. } => OptSeed(TypeSeed {
                ctx: self.ctx,
                ty: inner,
            })
            .deserialize(d)?,
            Type::Named(i) => match &p.types[*i] {
                TypeDef::Enum(_) if self.ctx.by_name => {
                    M::EnumJson(serde_json::Value::deserialize(d)?)
                }
                TypeDef::Enum(e) if e.repr.rust() == "u64" => {
                    M::EnumNum(u64::deserialize(d)? as i64)
                }
                TypeDef::Enum(_) => M::EnumNum(i64::deserialize(d)?),
                TypeDef::Flags(f) => M::V(Value::Flags(int(&f.repr, d)?)),
                TypeDef::Struct(_) => StructSeed {
                    ctx: self.ctx,
                    ty: *i,
                }
                .deserialize(d)?,
                TypeDef::Union(_) | TypeDef::Tagged(_) => {
                    return Err(D::Error::custom(
                        "unions and tagged lists have no JSON form",
                    ));
                }
            },
        })
    }
}

/// An integer through the `Deserialize` of the Rust type holding `i`.
fn int<'de, D: Deserializer<'de>>(i: &IntType, d: D) -> Result<i128, D::Error> {
    Ok(match i.rust() {
        "u8" => i128::from(u8::deserialize(d)?),
        "i8" => i128::from(i8::deserialize(d)?),
        "u16" => i128::from(u16::deserialize(d)?),
        "i16" => i128::from(i16::deserialize(d)?),
        "u32" => i128::from(u32::deserialize(d)?),
        "i32" => i128::from(i32::deserialize(d)?),
        "u64" => i128::from(u64::deserialize(d)?),
        _ => i128::from(i64::deserialize(d)?),
    })
}

struct OptSeed<'a>(TypeSeed<'a>);

impl<'de> DeserializeSeed<'de> for OptSeed<'_> {
    type Value = M;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<M, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptSeed<'_> {
    type Value = M;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<M, E> {
        Ok(M::Opt(None))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<M, E> {
        Ok(M::Opt(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<M, D::Error> {
        self.0.deserialize(d).map(|m| M::Opt(Some(Box::new(m))))
    }
}

struct ListVisitor<'a>(TypeSeed<'a>);

impl<'de> Visitor<'de> for ListVisitor<'_> {
    type Value = M;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<M, A::Error> {
        let mut out = Vec::new();
        while let Some(m) = a.next_element_seed(self.0)? {
            out.push(m);
        }
        Ok(M::List(out))
    }
}

struct MapVisitor<'a>(TypeSeed<'a>, TypeSeed<'a>);

impl<'de> Visitor<'de> for MapVisitor<'_> {
    type Value = M;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<M, A::Error> {
        let mut out = Vec::new();
        while let Some(e) = a.next_entry_seed(self.0, self.1)? {
            out.push(e);
        }
        Ok(M::Map(out))
    }
}

/// `enum_by_name` / `enum_by_number` of `polywire_core::json`, for an enum known only by
/// its IR: the same untagged helpers, so the same messages.
fn with_enum<'de, D: Deserializer<'de>>(
    e: &EnumDef,
    by_name: bool,
    d: D,
) -> Result<Value, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NameOrNumber {
        Name(String),
        Number(Number),
    }
    #[derive(Debug, Clone, Copy, Deserialize)]
    #[serde(untagged)]
    enum Number {
        Signed(i64),
        Unsigned(u64),
    }
    let u64_repr = e.repr.rust() == "u64";
    let number = |n: Number| -> Result<Value, D::Error> {
        let found = match n {
            Number::Signed(v) if u64_repr && v < 0 => None,
            Number::Signed(v) => from_wire_value(e, v),
            Number::Unsigned(v) if u64_repr => from_wire_value(e, v as i64),
            Number::Unsigned(_) => None,
        };
        found.ok_or_else(|| match n {
            Number::Signed(v) => D::Error::custom(format_args!("unknown value {v}")),
            Number::Unsigned(v) => D::Error::custom(format_args!("unknown value {v}")),
        })
    };
    if by_name {
        match NameOrNumber::deserialize(d)? {
            NameOrNumber::Name(n) => {
                from_name(e, &n).ok_or_else(|| D::Error::custom(format_args!("unknown name `{n}`")))
            }
            NameOrNumber::Number(n) => number(n),
        }
    } else {
        number(Number::deserialize(d)?)
    }
}

/// `WireEnum::from_wire_value`: `None` for a closed enum's unknown value or one the
/// representation cannot hold (for a `u64` representation, `v` is the bit pattern).
fn from_wire_value(e: &EnumDef, v: i64) -> Option<Value> {
    let value = if e.repr.rust() == "u64" {
        i128::from(v as u64)
    } else {
        let (min, max) = crate::decode::rust_range(&e.repr);
        let v = i128::from(v);
        if !(min..=max).contains(&v) {
            return None;
        }
        v
    };
    enum_value(e, value)
}

fn from_name(e: &EnumDef, n: &str) -> Option<Value> {
    e.variants
        .iter()
        .find(|v| v.name == n)
        .and_then(|v| enum_value(e, v.value))
}

fn enum_value(e: &EnumDef, value: i128) -> Option<Value> {
    let name = e
        .variants
        .iter()
        .find(|v| v.value == value)
        .map(|v| intern(&v.name));
    (name.is_some() || e.open).then_some(Value::Enum { value, name })
}

/// `*_from_mirror`: the struct's value, converting in field order; a missing member takes
/// the mirror's default.
fn convert_struct(
    p: &Protocol,
    enc: &str,
    ty: usize,
    m: M,
    at: usize,
) -> Result<Value, DecodeError> {
    let (TypeDef::Struct(s), M::Struct(_, slots)) = (&p.types[ty], m) else {
        return Err(DecodeError::new(
            at,
            intern(enc),
            DecodeErrorKind::Json("expected a struct".into()),
        ));
    };
    let Some(e) = s.encodings.iter().find(|x| x.name == enc) else {
        return Err(DecodeError::new(
            at,
            intern(enc),
            DecodeErrorKind::Json("no such encoding".into()),
        ));
    };
    let mut fields = Vec::new();
    for (f, slot) in json_fields(s, e).into_iter().zip(slots) {
        let name = intern(f.name);
        let v = match (slot, f.cond) {
            (None | Some(M::Opt(None)), true) => continue,
            (Some(M::Opt(Some(x))), true) => convert(p, enc, &f, *x, at)?,
            (Some(x), _) => convert(p, enc, &f, x, at)?,
            (None, false) => mirror_default(p, enc, &f.ty, at)?,
        };
        fields.push((name, v));
    }
    Ok(Value::Struct {
        ty: intern(&s.name),
        fields,
    })
}

fn convert(
    p: &Protocol,
    enc: &str,
    f: &JsonField<'_>,
    m: M,
    at: usize,
) -> Result<Value, DecodeError> {
    let field = intern(f.name);
    Ok(match m {
        M::V(v) => v,
        M::Opt(None) => Value::Null,
        M::Opt(Some(x)) => convert(p, enc, f, *x, at)?,
        M::List(items) => Value::List(
            items
                .into_iter()
                .map(|x| convert(p, enc, f, x, at))
                .collect::<Result<_, _>>()?,
        ),
        M::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, x)| Ok((convert(p, enc, f, k, at)?, convert(p, enc, f, x, at)?)))
                .collect::<Result<_, DecodeError>>()?,
        ),
        M::EnumNum(v) => {
            let e = enum_of(p, &f.ty);
            e.and_then(|e| from_wire_value(e, v))
                .ok_or_else(|| DecodeError::new(at, field, DecodeErrorKind::UnknownEnum(v)))?
        }
        M::EnumJson(j) => {
            let e = enum_of(p, &f.ty);
            let found = e.and_then(|e| match &j {
                serde_json::Value::String(n) => from_name(e, n),
                v => {
                    let n = if e.repr.rust() == "u64" {
                        v.as_u64().map(|v| v as i64)
                    } else {
                        v.as_i64()
                    };
                    n.and_then(|n| from_wire_value(e, n))
                }
            });
            found.ok_or_else(|| {
                let name = e.map_or("", |e| e.name.as_str());
                DecodeError::new(
                    at,
                    field,
                    DecodeErrorKind::Json(format!("no `{name}` has this name or value")),
                )
            })?
        }
        M::Struct(ty, slots) => convert_struct(p, enc, ty, M::Struct(ty, slots), at)?,
    })
}

/// The enum a field's type holds, through lists, maps' values and optionals.
fn enum_of<'p>(p: &'p Protocol, t: &Type) -> Option<&'p EnumDef> {
    match t {
        Type::Named(i) => match &p.types[*i] {
            TypeDef::Enum(e) => Some(e),
            _ => None,
        },
        Type::List { elem, .. } => enum_of(p, elem),
        Type::Map { key, value, .. } => enum_of(p, value).or_else(|| enum_of(p, key)),
        Type::Optional { inner, .. } => enum_of(p, inner),
        _ => None,
    }
}

/// A member left out: the mirror's `Default` (the first variant for a plain enum, 0,
/// empty, absent; a nested struct's mirror default, converted).
fn mirror_default(p: &Protocol, enc: &str, t: &Type, at: usize) -> Result<Value, DecodeError> {
    Ok(match t {
        Type::Optional { .. } => Value::Null,
        Type::Int(_) | Type::Varint { .. } => Value::Int(0),
        Type::Bool => Value::Bool(false),
        Type::String { .. } => Value::Str(Str::default()),
        Type::Bytes { .. } => Value::Bytes(Bytes::new()),
        Type::List { .. } => Value::List(Vec::new()),
        Type::Map { .. } => Value::Map(Vec::new()),
        Type::Named(i) => match &p.types[*i] {
            TypeDef::Enum(e) => match e.variants.first() {
                Some(v) => Value::Enum {
                    value: v.value,
                    name: Some(intern(&v.name)),
                },
                None => Value::Enum {
                    value: 0,
                    name: None,
                },
            },
            TypeDef::Flags(_) => Value::Flags(0),
            TypeDef::Struct(s) => {
                let slots = s
                    .encodings
                    .iter()
                    .find(|e| e.name == enc)
                    .map_or(0, |e| json_fields(s, e).len());
                convert_struct(
                    p,
                    enc,
                    *i,
                    M::Struct(*i, (0..slots).map(|_| None).collect()),
                    at,
                )?
            }
            TypeDef::Union(_) | TypeDef::Tagged(_) => Value::Null,
        },
    })
}
