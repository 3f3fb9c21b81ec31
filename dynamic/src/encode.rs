//! Encoding by walking the IR: the bytes the generated `write_to` writes.
//!
//! A struct is written in three passes: each field's own bytes in order (conditions and
//! `@version` fields take effect in that order), then its computed lengths from the last
//! to the first (a length measures only what follows it, or one field), then the bytes in
//! order. Generated code writes once and patches fixed-width lengths in place; the
//! result is the same.

use crate::decode::{Dec, Len, Locals, cast, is_length, length_of, lengths, mask};
use crate::{Schema, Value, intern};
use bytes::{BufMut, BytesMut};
use polywire_codegen::ir::*;
use polywire_core::EncodeError;
use polywire_core::wire::{
    check_bits, check_encode_len, check_max_value, check_no_delimiter, zigzag,
};

pub(crate) struct Enc<'s> {
    s: &'s Schema,
    p: &'s Protocol,
    dec: Dec<'s>,
    /// The version in effect (`@version` fields set it for what follows).
    version: std::cell::Cell<u32>,
}

fn mismatch(path: &'static str, expected: &'static str) -> EncodeError {
    EncodeError::Mismatch { path, expected }
}

impl<'s> Enc<'s> {
    pub fn new(s: &'s Schema, version: u32) -> Self {
        Enc {
            s,
            p: &s.ir,
            dec: Dec::new(s),
            version: std::cell::Cell::new(version),
        }
    }

    /// A struct, union or tagged list (`WireMessage::write_to`).
    pub fn message(&self, ty: usize, v: &Value, dst: &mut BytesMut) -> Result<(), EncodeError> {
        match &self.p.types[ty] {
            TypeDef::Struct(s) => self.structure(s, v, dst),
            TypeDef::Union(u) => self.union(ty, u, v, dst),
            TypeDef::Tagged(t) => self.tagged(t, v, dst),
            TypeDef::Enum(_) | TypeDef::Flags(_) => {
                Err(mismatch(intern(self.p.types[ty].name()), "a message type"))
            }
        }
    }

    fn union(
        &self,
        ty: usize,
        u: &UnionDef,
        v: &Value,
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let name = intern(&u.name);
        let Value::Union { member, value } = v else {
            return Err(mismatch(name, "a member of the union"));
        };
        let Some(arm) = u.arms.iter().find(|a| self.p.types[a.ty].name() == *member) else {
            return Err(mismatch(name, "one of the union's members"));
        };
        let at = dst.len();
        self.message(arm.ty, value, dst)?;
        if arm.fallback
            && let Some((key, keys)) = self.s.facts.unions[ty]
                .as_ref()
                .and_then(|f| f.key.as_ref())
        {
            // Bytes that start with another member's key would read back as that one.
            let width = usize::from(key.ty.bytes);
            if let Some(s) = dst.get(at..at + width) {
                let word = if key.ty.endian == Endian::Big {
                    s.iter().fold(0u64, |k, x| k << 8 | u64::from(*x))
                } else {
                    s.iter().rev().fold(0u64, |k, x| k << 8 | u64::from(*x))
                };
                let keyed = polywire_codegen::ir::check::keyed_values(u, keys);
                if keyed.iter().any(|(_, k)| *k == word & key.mask) {
                    return Err(EncodeError::ClaimedKey {
                        path: intern(self.p.types[arm.ty].name()),
                        value: word & key.mask,
                    });
                }
            }
        }
        Ok(())
    }

    fn tagged(&self, t: &TaggedDef, v: &Value, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let name = intern(&t.name);
        let Value::Struct { fields, .. } = v else {
            return Err(mismatch(name, "a tagged list's members"));
        };
        for m in &t.members {
            let mname = intern(&m.name);
            let Some((_, x)) = fields.iter().find(|(n, _)| *n == m.name) else {
                continue;
            };
            let one = |x: &Value, dst: &mut BytesMut| -> Result<(), EncodeError> {
                match t.tag {
                    Prefix::Int(i) => put_uint(dst, m.tag, i.bytes, i.endian),
                    Prefix::Varint { .. } => put_varint(dst, m.tag),
                }
                self.value(&m.ty, x, dst, mname)
            };
            match (m.repeated, x) {
                (true, Value::List(items)) => {
                    for x in items {
                        one(x, dst)?;
                    }
                }
                (true, _) => return Err(mismatch(mname, "a list of the member's values")),
                (false, Value::Null) => {}
                (false, x) => one(x, dst)?,
            }
        }
        Ok(())
    }

    /// `Gen::encode`: a value of type `ty`.
    pub fn value(
        &self,
        ty: &Type,
        v: &Value,
        dst: &mut BytesMut,
        f: &'static str,
    ) -> Result<(), EncodeError> {
        match ty {
            Type::Int(i) => {
                let n = v.as_int().ok_or_else(|| mismatch(f, "an integer"))?;
                write_int(i, n, dst, f)
            }
            Type::Varint { signed: false, max } => {
                let n = v.as_int().ok_or_else(|| mismatch(f, "an integer"))?;
                let n = u64::try_from(n).map_err(|_| mismatch(f, "an integer from 0 to 2^64-1"))?;
                let n = match max {
                    Some(m) => check_max_value(n, *m, f)?,
                    None => n,
                };
                put_varint(dst, n);
                Ok(())
            }
            Type::Varint { signed: true, .. } => {
                let n = v.as_int().ok_or_else(|| mismatch(f, "an integer"))?;
                let n = i64::try_from(n).map_err(|_| mismatch(f, "a 64-bit signed integer"))?;
                put_varint(dst, zigzag(n));
                Ok(())
            }
            Type::Bool => match v {
                Value::Bool(b) => {
                    dst.put_u8(u8::from(*b));
                    Ok(())
                }
                _ => Err(mismatch(f, "a bool")),
            },
            Type::String { prefix, max } | Type::Bytes { prefix, max } => {
                let bytes: &[u8] = match (ty, v) {
                    (Type::String { .. }, Value::Str(s)) => s.as_bytes(),
                    (Type::Bytes { .. }, Value::Bytes(b)) => b,
                    (Type::String { .. }, _) => return Err(mismatch(f, "a string")),
                    _ => return Err(mismatch(f, "bytes")),
                };
                if let Some(m) = max {
                    check_encode_len(bytes.len(), *m, f)?;
                }
                if let Some(p) = prefix {
                    write_prefix(p, bytes.len(), dst, f)?;
                }
                dst.put_slice(bytes);
                Ok(())
            }
            Type::List { elem, count } => {
                let Value::List(items) = v else {
                    return Err(mismatch(f, "a list"));
                };
                if let Some(p) = count {
                    write_prefix(p, items.len(), dst, f)?;
                }
                for x in items {
                    self.value(elem, x, dst, f)?;
                }
                Ok(())
            }
            Type::Map { key, value, count } => {
                let Value::Map(entries) = v else {
                    return Err(mismatch(f, "a map"));
                };
                if let Some(p) = count {
                    write_prefix(p, entries.len(), dst, f)?;
                }
                for (k, x) in entries {
                    self.value(key, k, dst, f)?;
                    self.value(value, x, dst, f)?;
                }
                Ok(())
            }
            Type::Optional {
                inner,
                repr: OptRepr::Presence,
            } => match v {
                Value::Null => {
                    dst.put_u8(0);
                    Ok(())
                }
                x => {
                    dst.put_u8(1);
                    self.value(inner, x, dst, f)
                }
            },
            Type::Optional {
                inner,
                repr: OptRepr::EmptyIsNone,
            } => match v {
                Value::Null => self.value(inner, &empty(inner), dst, f),
                x => self.value(inner, x, dst, f),
            },
            Type::Named(i) => match &self.p.types[*i] {
                TypeDef::Enum(e) => {
                    let n = v.as_int().ok_or_else(|| mismatch(f, "an enum value"))?;
                    write_int(&e.repr, n, dst, f)
                }
                TypeDef::Flags(fl) => {
                    let n = v.as_int().ok_or_else(|| mismatch(f, "flags"))?;
                    if fl.repr.bytes == 3 {
                        let bits = if fl.repr.signed {
                            i24_bits(n)
                        } else {
                            n as u64
                        };
                        let bits = check_bits(bits, 24, f)?;
                        put_uint(dst, bits, 3, fl.repr.endian);
                        Ok(())
                    } else {
                        write_int(&fl.repr, n, dst, f)
                    }
                }
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => {
                    self.message(*i, v, dst)
                }
            },
        }
    }

    /// A struct (`Bodies::encode`).
    fn structure(&self, s: &StructDef, v: &Value, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let sname = intern(&s.name);
        let Value::Struct { fields: given, .. } = v else {
            return Err(mismatch(sname, "a struct's fields"));
        };
        let get = |name: &str| given.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        // What conditions see: stored values, presence bits, and lengths measuring one
        // field (counted or sized from its value).
        let mut l = Locals::default();
        for (n, x) in given {
            l.values.push((*n, x.clone()));
        }
        for f in &s.fields {
            if let FieldKind::Bits { parts, .. } = &f.kind {
                for p in parts {
                    if let PartValue::Present(x) = &p.value {
                        l.values.push((&p.name, Value::Bool(get(x).is_some())));
                    }
                }
            }
        }
        let conds_read_lengths = s.fields.iter().any(|f| {
            f.cond
                .as_ref()
                .is_some_and(|c| c.refs().iter().any(|(n, _)| is_length(s, n)))
        });
        if conds_read_lengths {
            for (name, of) in lengths(s) {
                if let LenTarget::Field(x) = of {
                    let value = self.target_value(s, name, x, get(x))?;
                    l.lens.push((name, Len { value, at: 0 }));
                }
            }
        }

        // Pass 1: each field's own bytes (lengths wait), in order.
        let n = s.fields.len();
        let mut out: Vec<Option<BytesMut>> = vec![None; n];
        let mut words: Vec<u64> = vec![0; n];
        for (fi, f) in s.fields.iter().enumerate() {
            let fl = intern(&f.name);
            let cond = |present: bool| -> Result<bool, EncodeError> {
                match &f.cond {
                    Some(c) => self
                        .dec
                        .cond(s, c, &l, None, Some((self.version.get(), present)))
                        .map_err(|_| mismatch(fl, "a condition that can be evaluated")),
                    None => Ok(true),
                }
            };
            match &f.kind {
                FieldKind::Literal(b) => {
                    if cond(true)? {
                        out[fi] = Some(BytesMut::from(&b[..]));
                    } else {
                        out[fi] = Some(BytesMut::new());
                    }
                }
                FieldKind::Const { ty, value } => {
                    let mut b = BytesMut::new();
                    put_uint(&mut b, *value, ty.bytes, ty.endian);
                    out[fi] = Some(b);
                }
                FieldKind::Length { .. } => {}
                FieldKind::Bits { parts, .. } => {
                    let mut w = 0u64;
                    for p in parts {
                        let pl = intern(&p.name);
                        let bits = match &p.value {
                            PartValue::Stored => {
                                let x = get(&p.name).ok_or_else(|| mismatch(pl, "a value"))?;
                                self.part_bits(p, x, pl)?
                            }
                            PartValue::Const(c) => *c,
                            PartValue::Length(_) => 0,
                            PartValue::Present(x) => u64::from(get(x).is_some()),
                        };
                        w |= if p.lo >= 64 { 0 } else { bits << p.lo };
                    }
                    words[fi] = w;
                }
                FieldKind::Value(_) | FieldKind::Switch { .. } => {
                    let x = get(&f.name);
                    let write = match (&f.cond, x) {
                        (None, Some(_)) => true,
                        (None, None) => return Err(mismatch(fl, "a value")),
                        (Some(c), x) if presence_of(s, c, &f.name) => x.is_some(),
                        (Some(_), x) => match (x.is_some(), cond(x.is_some())?) {
                            (true, true) => true,
                            (false, false) => false,
                            (false, true) => return Err(EncodeError::MissingField { path: fl }),
                            (true, false) => return Err(EncodeError::UnexpectedField { path: fl }),
                        },
                    };
                    if let (true, Some(x)) = (write, x) {
                        let mut b = BytesMut::new();
                        self.field(s, f, fl, x, &l, &mut b)?;
                        if f.attrs.iter().any(|a| a == "version")
                            && self.s.facts.reads_version
                            && let Some(v) = x.as_int()
                        {
                            self.version.set(u32::try_from(v).unwrap_or(u32::MAX));
                        }
                        out[fi] = Some(b);
                    }
                }
            }
        }

        // Pass 2: computed lengths, the last first.
        for fi in (0..n).rev() {
            let f = &s.fields[fi];
            let fl = intern(&f.name);
            match &f.kind {
                FieldKind::Length { ty, of } => {
                    let present = match of {
                        LenTarget::Field(x) => out[index(s, x)].is_some(),
                        LenTarget::From(_) => true,
                    };
                    let value = self.length(s, fi, of, &out, &l)?;
                    let mut b = BytesMut::new();
                    if f.decimal {
                        put_decimal(&mut b, value);
                        if let Region::Until(dl) = &f.region {
                            b.put_slice(dl);
                        }
                    } else {
                        match ty {
                            Prefix::Int(i) if present => {
                                let n = check_encode_len(value.max(0) as usize, i.max_value(), fl)?;
                                put_uint(&mut b, n, i.bytes, i.endian);
                            }
                            Prefix::Int(i) => {
                                let absent = f.len_else.map_or(0, |v| (v as u64) & mask(i.bits()));
                                put_uint(&mut b, absent, i.bytes, i.endian);
                            }
                            Prefix::Varint { max } => {
                                let n = match max {
                                    Some(m) => check_encode_len(value.max(0) as usize, *m, fl)?,
                                    None => value as u64,
                                };
                                put_varint(&mut b, n);
                            }
                        }
                    }
                    out[fi] = Some(b);
                }
                FieldKind::Bits { ty, parts } => {
                    let mut w = words[fi];
                    for p in parts {
                        if let PartValue::Length(of) = &p.value {
                            let present = match of {
                                LenTarget::Field(x) => out[index(s, x)].is_some(),
                                LenTarget::From(_) => true,
                            };
                            if present {
                                let value = self.length(s, fi, of, &out, &l)?;
                                let n = check_bits(value as u64, p.hi - p.lo, intern(&p.name))?;
                                w |= n << p.lo;
                            }
                        }
                    }
                    let mut b = BytesMut::new();
                    put_uint(&mut b, w & mask(ty.bits()), ty.bytes, ty.endian);
                    out[fi] = Some(b);
                }
                _ => {}
            }
        }
        for b in out.into_iter().flatten() {
            dst.put_slice(&b);
        }
        Ok(())
    }

    /// The value computed length number `fi` (or a part of it) writes: the bytes it
    /// measures (written already in `out`), or the elements of the list it counts; for an
    /// absent field its `else` value, else 0.
    fn length(
        &self,
        s: &StructDef,
        fi: usize,
        of: &LenTarget,
        out: &[Option<BytesMut>],
        l: &Locals<'_>,
    ) -> Result<i64, EncodeError> {
        Ok(match of {
            LenTarget::Field(x) => {
                let xi = index(s, x);
                let g = &s.fields[xi];
                match &out[xi] {
                    None => s.fields[fi].len_else.map_or(0, |v| v as i64),
                    Some(_) if matches!(g.region, Region::Count(_)) => match l.value(x) {
                        Some(Value::List(items)) => items.len() as i64,
                        _ => return Err(mismatch(intern(x), "a list")),
                    },
                    Some(b) => {
                        // The value's bytes, without the delimiter of an `until` region.
                        let delim = match &g.region {
                            Region::Until(d) => d.len(),
                            _ => 0,
                        };
                        (b.len() - delim) as i64
                    }
                }
            }
            LenTarget::From(start) => {
                let from = match start {
                    None => fi + 1,
                    Some(x) => index(s, x),
                };
                (from..s.fields.len())
                    .map(|j| out[j].as_ref().map_or(0, |b| b.len()))
                    .sum::<usize>() as i64
            }
        })
    }

    /// The value a length measuring field `x` has, seen from a condition: elements of a
    /// counted list, bytes of a value, the `else` value for an absent field.
    fn target_value(
        &self,
        s: &StructDef,
        len: &str,
        x: &str,
        v: Option<&Value>,
    ) -> Result<i64, EncodeError> {
        let lf = s.fields.iter().find(|f| f.name == len);
        let g = &s.fields[index(s, x)];
        Ok(match v {
            None => lf.and_then(|f| f.len_else).map_or(0, |v| v as i64),
            Some(Value::List(items)) if matches!(g.region, Region::Count(_)) => items.len() as i64,
            Some(v) => {
                let mut b = BytesMut::new();
                self.field_value(g, intern(&g.name), v, &Locals::default(), &mut b)?;
                b.len() as i64
            }
        })
    }

    /// A stored field with its region (`Prefixed`, `until`), without computed lengths.
    fn field(
        &self,
        s: &StructDef,
        f: &Field,
        fl: &'static str,
        v: &Value,
        l: &Locals<'_>,
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let mut body = BytesMut::new();
        self.field_value(f, fl, v, l, &mut body)?;
        if let Region::Until(dl) = &f.region {
            match (&f.kind, v) {
                (FieldKind::Value(Type::String { .. }), Value::Str(x)) => {
                    check_no_delimiter(x.as_bytes(), dl, fl)?
                }
                (FieldKind::Value(Type::Bytes { .. }), Value::Bytes(x)) => {
                    check_no_delimiter(x, dl, fl)?
                }
                _ => {}
            }
            body.put_slice(dl);
        }
        let sized = !matches!(f.region, Region::Count(_))
            && (length_of(s, &f.name).is_some() || matches!(f.region, Region::SizedBy(_)));
        match (&f.region, sized) {
            (Region::Prefixed(Prefix::Int(i)), false) => {
                let n = check_encode_len(body.len(), i.max_value(), fl)?;
                put_uint(dst, n, i.bytes, i.endian);
            }
            (Region::Prefixed(Prefix::Varint { max }), false) => {
                let n = match max {
                    Some(m) => check_encode_len(body.len(), *m, fl)?,
                    None => body.len() as u64,
                };
                put_varint(dst, n);
            }
            _ => {}
        }
        dst.put_slice(&body);
        Ok(())
    }

    /// A stored field's value alone.
    fn field_value(
        &self,
        f: &Field,
        fl: &'static str,
        v: &Value,
        l: &Locals<'_>,
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        match &f.kind {
            FieldKind::Value(Type::Int(_)) if f.decimal => {
                let n = v.as_int().ok_or_else(|| mismatch(fl, "an integer"))?;
                put_decimal(dst, n as i64);
                Ok(())
            }
            FieldKind::Value(Type::Int(i)) if f.widen.is_some() => {
                let n = v.as_int().ok_or_else(|| mismatch(fl, "an integer"))?;
                write_int(i, cast(n, i), dst, fl)
            }
            FieldKind::Value(t) => self.value(t, v, dst, fl),
            FieldKind::Switch { ty, disc, arms } => {
                let d = l
                    .value(disc)
                    .and_then(Value::as_int)
                    .ok_or_else(|| mismatch(intern(disc), "a discriminator value"))?;
                match arms.iter().find(|(x, _)| *x == d) {
                    Some((_, enc)) if enc == "binary" => self.message(*ty, v, dst),
                    Some((_, enc)) => crate::json::encode(self.s, *ty, enc, v, dst),
                    None => Err(EncodeError::UnknownDiscriminator {
                        path: fl,
                        value: d as u64,
                    }),
                }
            }
            _ => Err(mismatch(fl, "a stored field")),
        }
    }

    /// A stored bit part's bits (`part_to_word`), checked to fit.
    fn part_bits(&self, p: &BitPart, v: &Value, pl: &'static str) -> Result<u64, EncodeError> {
        let width = p.hi - p.lo;
        let raw = match (&p.ty, v) {
            (Type::Bool, Value::Bool(b)) => u64::from(*b),
            (Type::Bool, _) => return Err(mismatch(pl, "a bool")),
            (Type::Int(_), x) => x.as_int().ok_or_else(|| mismatch(pl, "an integer"))? as u64,
            (Type::Named(n), x) => {
                let value = x.as_int().ok_or_else(|| mismatch(pl, "a value"))?;
                match &self.p.types[*n] {
                    TypeDef::Enum(e) if e.repr.signed => {
                        let bits = e.repr.bits().min(32 + 32 * u32::from(e.repr.bytes == 8));
                        if width >= bits || width >= 64 {
                            return Ok((value as u64) & mask(width));
                        }
                        let half = 1i128 << (width - 1);
                        if !(-half..half).contains(&value) {
                            return Err(EncodeError::Overflow {
                                path: pl,
                                value: value as u64,
                                bits: width,
                            });
                        }
                        return Ok((value as u64) & mask(width));
                    }
                    TypeDef::Enum(_) => value as u64,
                    TypeDef::Flags(fl) if fl.repr.signed && fl.repr.bytes == 3 => i24_bits(value),
                    TypeDef::Flags(fl) if fl.repr.signed => (value as u64) & mask(fl.repr.bits()),
                    TypeDef::Flags(_) => value as u64,
                    _ => 0,
                }
            }
            _ => 0,
        };
        check_bits(raw, width, pl)
    }
}

/// The index of field `name`.
fn index(s: &StructDef, name: &str) -> usize {
    s.fields.iter().position(|f| f.name == name).unwrap_or(0)
}

/// Whether `c` is just the presence bit of field `field`.
fn presence_of(s: &StructDef, c: &Cond, field: &str) -> bool {
    let Cond::Ref(n, _) = c else { return false };
    s.fields.iter().any(|f| match &f.kind {
        FieldKind::Bits { parts, .. } => parts
            .iter()
            .any(|p| p.name == *n && p.value == PartValue::Present(field.to_string())),
        _ => false,
    })
}

/// The empty value of a string, bytes, list or map type.
fn empty(t: &Type) -> Value {
    match t {
        Type::String { .. } => Value::Str(Default::default()),
        Type::Bytes { .. } => Value::Bytes(Default::default()),
        Type::List { .. } => Value::List(Vec::new()),
        Type::Map { .. } => Value::Map(Vec::new()),
        _ => Value::Null,
    }
}

/// Bit 23 of an i24 is its sign bit.
fn i24_bits(v: i128) -> u64 {
    if (-0x80_0000..0).contains(&v) {
        (v as u64) & 0xFF_FFFF
    } else {
        v as u64 & 0xFFFF_FFFF
    }
}

pub(crate) fn put_uint(dst: &mut BytesMut, v: u64, bytes: u8, endian: Endian) {
    let n = usize::from(bytes);
    let be = v.to_be_bytes();
    let le = v.to_le_bytes();
    match endian {
        Endian::Big => dst.put_slice(&be[8 - n..]),
        Endian::Little => dst.put_slice(&le[..n]),
    }
}

pub(crate) fn put_varint(dst: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        dst.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    dst.put_u8(v as u8);
}

fn put_decimal(dst: &mut BytesMut, v: i64) {
    dst.put_slice(v.to_string().as_bytes());
}

/// `Gen::write_int`: a 24-bit value out of range fails; others are written in their
/// width (a value outside its type's range fails too: generated types cannot hold one).
fn write_int(i: &IntType, v: i128, dst: &mut BytesMut, f: &'static str) -> Result<(), EncodeError> {
    let (min, max) = crate::decode::rust_range(i);
    match (i.bytes, i.signed) {
        (3, false) => {
            let bits = if (0..=max).contains(&v) {
                v as u64
            } else {
                return Err(mismatch(f, "an integer in the type's range"));
            };
            check_bits(bits, 24, f)?;
        }
        (3, true) if !(-0x80_0000..0x80_0000).contains(&v) => {
            return Err(EncodeError::Overflow {
                path: f,
                value: v as u64,
                bits: 24,
            });
        }
        (3, true) => {}
        _ if !(min..=max).contains(&v) => {
            return Err(mismatch(f, "an integer in the type's range"));
        }
        _ => {}
    }
    put_uint(dst, v as u64, i.bytes, i.endian);
    Ok(())
}

/// `Gen::write_prefix`.
fn write_prefix(
    p: &Prefix,
    n: usize,
    dst: &mut BytesMut,
    f: &'static str,
) -> Result<(), EncodeError> {
    match p {
        Prefix::Int(i) => {
            let n = check_encode_len(n, i.max_value(), f)?;
            put_uint(dst, n, i.bytes, i.endian);
        }
        Prefix::Varint { max: None } => put_varint(dst, n as u64),
        Prefix::Varint { max: Some(m) } => put_varint(dst, check_encode_len(n, *m, f)?),
    }
    Ok(())
}
