//! Decoding by walking the IR, in the order and with the reader calls of the code the
//! emitter writes (`codegen/src/emit/structs.rs`, `rust.rs` and the templates), so that
//! errors carry the same offsets, paths and kinds.

use crate::{Schema, Value, intern};
use polywire_codegen::ir::check::min_size;
use polywire_codegen::ir::*;
use polywire_core::wire::{
    Limits, Reader, Sender as WireSender, expect_const, peek_uint, peek_varint, peek_varint_max,
    sat_i64,
};
use polywire_core::{DecodeError, DecodeErrorKind};
use std::cell::{Cell, RefCell};

/// A scalar value as text, for an annotated view.
fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Flags(n) => format!("{n:#x}"),
        Value::Enum { value, name } => match name {
            Some(n) => format!("{n} ({value})"),
            None => value.to_string(),
        },
        Value::Str(s) => format!("{:?}", s.as_str()),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t)
                if t.chars()
                    .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n')) =>
            {
                format!("{} bytes {t:?}", b.len())
            }
            _ => format!(
                "{} bytes {}{}",
                b.len(),
                b.iter()
                    .take(32)
                    .map(|x| format!("{x:02x}"))
                    .collect::<String>(),
                if b.len() > 32 { ".." } else { "" }
            ),
        },
        Value::List(_) | Value::Map(_) | Value::Struct { .. } | Value::Union { .. } => return None,
    })
}

/// A computed length read so far: its value and where it was read.
#[derive(Clone, Copy)]
pub(crate) struct Len {
    pub value: i64,
    pub at: usize,
}

/// What a struct's conditions and lengths can name while it is read.
#[derive(Default)]
pub(crate) struct Locals<'p> {
    /// Stored fields and bit parts read so far.
    pub values: Vec<(&'p str, Value)>,
    /// Computed lengths read so far.
    pub lens: Vec<(&'p str, Len)>,
}

impl<'p> Locals<'p> {
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    pub fn len(&self, name: &str) -> Option<Len> {
        self.lens
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, l)| *l)
    }
}

pub(crate) struct Dec<'s> {
    s: &'s Schema,
    p: &'s Protocol,
    /// Where each part was read, when asked for ([`crate::Schema::trace`]).
    trace: Option<&'s RefCell<Vec<Node>>>,
    depth: Cell<usize>,
}

/// One part of a decoded frame, for an annotated view: how deep it is, its name, where
/// its bytes are (offsets from the frame's first byte) and, for a scalar, its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Nesting: 0 for the frame's own fields.
    pub depth: usize,
    /// The field, bit part or member name (`[3]` for a list's element).
    pub name: String,
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// A scalar's value as text (`None` for what has parts of its own).
    pub value: Option<String>,
}

impl<'s> Dec<'s> {
    pub fn new(s: &'s Schema) -> Self {
        Dec {
            s,
            p: &s.ir,
            trace: None,
            depth: Cell::new(0),
        }
    }

    /// The same decoder, recording where each part is read into `trace`.
    pub fn tracing(mut self, trace: &'s RefCell<Vec<Node>>) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Starts a part named `name` at `start`.
    fn open(&self, name: &str, start: usize) -> Option<usize> {
        let t = self.trace?;
        let mut t = t.borrow_mut();
        t.push(Node {
            depth: self.depth.get(),
            name: name.to_string(),
            start,
            end: start,
            value: None,
        });
        self.depth.set(self.depth.get() + 1);
        Some(t.len() - 1)
    }

    /// Ends part `at` at `end`, with its value when it is a scalar.
    fn close(&self, at: Option<usize>, end: usize, v: Option<&Value>) {
        let (Some(t), Some(i)) = (self.trace, at) else {
            return;
        };
        self.depth.set(self.depth.get().saturating_sub(1));
        let mut t = t.borrow_mut();
        t[i].end = end;
        t[i].value = v.and_then(scalar);
    }

    /// `WireMessage::decode_from` of a struct, union or tagged list.
    pub fn message(&self, ty: usize, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
        match &self.p.types[ty] {
            TypeDef::Struct(s) => self.structure(s, r),
            TypeDef::Union(u) => self.union(ty, u, r),
            TypeDef::Tagged(t) => self.tagged(t, r),
            TypeDef::Enum(_) | TypeDef::Flags(_) => Err(r.error(
                intern(self.p.types[ty].name()),
                DecodeErrorKind::Json("an enum or flags type is not a message".into()),
            )),
        }
    }

    fn union(&self, ty: usize, u: &UnionDef, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
        let name = intern(&u.name);
        let facts = self.s.facts.unions[ty].as_ref();
        if facts.is_some_and(|f| f.recursive) {
            r.enter(name)?;
            let v = self.member(u, facts, name, r);
            r.leave();
            v
        } else {
            self.member(u, facts, name, r)
        }
    }

    fn member(
        &self,
        u: &UnionDef,
        facts: Option<&crate::UnionFacts>,
        name: &'static str,
        r: &mut Reader<'_>,
    ) -> Result<Value, DecodeError> {
        let wrap = |ty: usize, v: Value| Value::Union {
            member: intern(self.p.types[ty].name()),
            value: Box::new(v),
        };
        if let Some((client, server)) = polywire_codegen::emit::sided_members(u) {
            let ty = match r.sender() {
                Some(WireSender::Client) => client,
                Some(WireSender::Server) => server,
                None => return Err(r.error(name, DecodeErrorKind::UnknownSender)),
            };
            let node = self.open(self.p.types[ty].name(), r.offset());
            let v = self.message(ty, r).map(|v| wrap(ty, v));
            self.close(node, r.offset(), None);
            return v;
        }
        let key = facts.and_then(|f| f.key.as_ref());
        let (width, big, mask) = key.map_or((1, true, 0), |(k, _)| {
            (usize::from(k.ty.bytes), k.ty.endian == Endian::Big, k.mask)
        });
        let keys: &[u64] = key.map_or(&[], |(_, keys)| keys);
        let word = r.peek_word(width, big, name)? & mask;
        let arm = u
            .arms
            .iter()
            .enumerate()
            .find(|(n, a)| !a.fallback && keys.get(*n).copied().unwrap_or(0) == word)
            .or_else(|| u.arms.iter().enumerate().find(|(_, a)| a.fallback));
        match arm {
            Some((_, a)) => {
                let arm_name = intern(self.p.types[a.ty].name());
                let node = self.open(arm_name, r.offset());
                let v = self
                    .message(a.ty, r)
                    .map(|v| wrap(a.ty, v))
                    .map_err(|e| e.within(arm_name));
                self.close(node, r.offset(), None);
                v
            }
            None => Err(r.error(name, DecodeErrorKind::UnknownDiscriminator(word))),
        }
    }

    fn tagged(&self, t: &TaggedDef, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
        let name = intern(&t.name);
        let mut slots: Vec<Option<Value>> = vec![None; t.members.len()];
        while r.remaining() > 0 {
            let at = r.offset();
            let tag = match t.tag {
                Prefix::Int(i) => read_word(&i, r, name)?,
                Prefix::Varint { max: None } => r.varint(name)?,
                Prefix::Varint { max: Some(m) } => r.varint_max(m, name)?,
            };
            let Some(mi) = t.members.iter().position(|m| m.tag == tag) else {
                return Err(DecodeError::new(at, name, DecodeErrorKind::UnknownTag(tag)));
            };
            let m = &t.members[mi];
            let mname = intern(&m.name);
            if m.repeated {
                let list = slots[mi].get_or_insert_with(|| Value::List(Vec::new()));
                let Value::List(items) = list else {
                    unreachable!()
                };
                r.check_more(items.len(), mname)?;
                let node = self.open(&m.name, at);
                let v = self.value(&m.ty, r, mname)?;
                self.close(node, r.offset(), Some(&v));
                if let Some(Value::List(items)) = &mut slots[mi] {
                    items.push(v);
                }
            } else {
                if slots[mi].is_some() {
                    return Err(DecodeError::new(
                        at,
                        mname,
                        DecodeErrorKind::DuplicateTag(m.tag),
                    ));
                }
                let node = self.open(&m.name, at);
                let v = self.value(&m.ty, r, mname)?;
                self.close(node, r.offset(), Some(&v));
                slots[mi] = Some(v);
            }
        }
        let fields = t
            .members
            .iter()
            .zip(slots)
            .filter_map(|(m, v)| v.map(|v| (intern(&m.name), v)))
            .collect();
        Ok(Value::Struct { ty: name, fields })
    }

    /// `Gen::decode`: a value of type `ty` read from `r`.
    pub fn value(
        &self,
        ty: &Type,
        r: &mut Reader<'_>,
        f: &'static str,
    ) -> Result<Value, DecodeError> {
        Ok(match ty {
            Type::Int(i) => Value::Int(read_int(i, r, f)?),
            Type::Varint {
                signed: false,
                max: Some(m),
            } => Value::Int(i128::from(r.varint_max(*m, f)?)),
            Type::Varint { signed: false, .. } => Value::Int(i128::from(r.varint(f)?)),
            Type::Varint { signed: true, .. } => Value::Int(i128::from(r.svarint(f)?)),
            Type::Bool => Value::Bool(r.bool(f)?),
            Type::String {
                prefix: Some(p),
                max,
            }
            | Type::Bytes {
                prefix: Some(p),
                max,
            } => {
                let at = r.offset();
                let n = read_prefix(p, r, f)?;
                let n = r.check_len(n, at, f)?;
                if let Some(m) = max {
                    polywire_core::wire::check_max(n, *m, at, f)?;
                }
                if matches!(ty, Type::String { .. }) {
                    Value::Str(r.str(n, f)?)
                } else {
                    Value::Bytes(r.bytes(n, f)?)
                }
            }
            Type::String { prefix: None, .. } => {
                let n = r.remaining();
                Value::Str(r.str(n, f)?)
            }
            Type::Bytes { prefix: None, .. } => Value::Bytes(r.rest()),
            Type::List {
                elem,
                count: Some(p),
            } => {
                let min = min_size(self.p, elem);
                let at = r.offset();
                let n = read_prefix(p, r, f)?;
                let n = r.check_count(n, min, at, f)?;
                let mut v = Vec::with_capacity(if min == 0 { n.min(r.remaining()) } else { n });
                for _ in 0..n {
                    v.push(self.element(elem, r, f, v.len())?);
                }
                Value::List(v)
            }
            Type::List { elem, count: None } => {
                let mut v = Vec::new();
                while r.remaining() > 0 {
                    r.check_more(v.len(), f)?;
                    v.push(self.element(elem, r, f, v.len())?);
                }
                Value::List(v)
            }
            Type::Map {
                key,
                value,
                count: Some(p),
            } => {
                let min = min_size(self.p, key) + min_size(self.p, value);
                let at = r.offset();
                let n = read_prefix(p, r, f)?;
                let n = r.check_count(n, min, at, f)?;
                let mut m = Vec::with_capacity(if min == 0 { n.min(r.remaining()) } else { n });
                for _ in 0..n {
                    let entry = self.entry(key, value, r, f, m.len())?;
                    m.push(entry);
                }
                Value::Map(m)
            }
            Type::Map {
                key,
                value,
                count: None,
            } => {
                let mut m = Vec::new();
                while r.remaining() > 0 {
                    r.check_more(m.len(), f)?;
                    let entry = self.entry(key, value, r, f, m.len())?;
                    m.push(entry);
                }
                Value::Map(m)
            }
            Type::Optional {
                inner,
                repr: OptRepr::Presence,
            } => {
                if r.presence(f)? {
                    self.value(inner, r, f)?
                } else {
                    Value::Null
                }
            }
            Type::Optional {
                inner,
                repr: OptRepr::EmptyIsNone,
            } => {
                let v = self.value(inner, r, f)?;
                if v.is_empty() { Value::Null } else { v }
            }
            Type::Named(i) => match &self.p.types[*i] {
                TypeDef::Enum(e) => {
                    let at = r.offset();
                    let raw = read_int(&e.repr, r, f)?;
                    self.enum_value(e, raw).ok_or_else(|| {
                        DecodeError::new(at, f, DecodeErrorKind::UnknownEnum(raw as i64))
                    })?
                }
                TypeDef::Flags(fl) => Value::Flags(read_int(&fl.repr, r, f)?),
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => {
                    self.message(*i, r).map_err(|e| e.within(f))?
                }
            },
        })
    }

    /// Element `n` of a list.
    fn element(
        &self,
        elem: &Type,
        r: &mut Reader<'_>,
        f: &'static str,
        n: usize,
    ) -> Result<Value, DecodeError> {
        if self.trace.is_none() {
            return self.value(elem, r, f);
        }
        let node = self.open(&format!("[{n}]"), r.offset());
        let v = self.value(elem, r, f)?;
        self.close(node, r.offset(), Some(&v));
        Ok(v)
    }

    /// Entry `n` of a map, shown under its key.
    fn entry(
        &self,
        key: &Type,
        value: &Type,
        r: &mut Reader<'_>,
        f: &'static str,
        n: usize,
    ) -> Result<(Value, Value), DecodeError> {
        let node = self.open(&format!("[{n}]"), r.offset());
        let k = self.value(key, r, f)?;
        let v = self.value(value, r, f)?;
        if let (Some(t), Some(i), Some(name)) = (self.trace, node, scalar(&k)) {
            t.borrow_mut()[i].name = name;
        }
        self.close(node, r.offset(), Some(&v));
        Ok((k, v))
    }

    /// An enum value, `None` for a closed enum's unknown value.
    pub fn enum_value(&self, e: &EnumDef, raw: i128) -> Option<Value> {
        let name = e
            .variants
            .iter()
            .find(|v| v.value == raw)
            .map(|v| intern(&v.name));
        if name.is_none() && !e.open {
            return None;
        }
        Some(Value::Enum { value: raw, name })
    }

    /// A struct: `Bodies::decode`.
    fn structure(&self, s: &StructDef, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
        let mut l = Locals::default();
        let mut fields: Vec<(&'static str, Value)> = Vec::new();
        // Regions opened by `len(..)` lengths: the innermost is read from.
        let mut regions: Vec<Reader<'_>> = Vec::new();
        macro_rules! cur {
            () => {
                match regions.last_mut() {
                    Some(x) => x,
                    None => &mut *r,
                }
            };
        }
        for f in &s.fields {
            let fl = intern(&f.name);
            let node = self.open(&f.name, cur!().offset());
            let stored = fields.len();
            if let Some(len) = from_starts(s, &f.name) {
                let k = l.len(len).unwrap_or(Len { value: 0, at: 0 });
                let c = cur!();
                let n = c.region_len(k.value, k.at, fl)?;
                let sub = c.region(n, fl)?;
                regions.push(sub);
            }
            match &f.kind {
                FieldKind::Literal(b) => {
                    let c = cur!();
                    let on = match &f.cond {
                        Some(cond) => self.cond(s, cond, &l, Some(c), None)?,
                        None => true,
                    };
                    if on {
                        c.literal(b, fl)?;
                    }
                }
                FieldKind::Const { ty, value } => {
                    let c = cur!();
                    let at = c.offset();
                    let v = read_word(ty, c, fl)?;
                    expect_const(v, *value, at, fl)?;
                }
                FieldKind::Length { ty, of } => {
                    let c = cur!();
                    let at = c.offset();
                    let value = if f.decimal {
                        read_decimal(f, c, fl)?
                    } else {
                        read_prefix(ty, c, fl)?
                    };
                    l.lens.push((&f.name, Len { value, at }));
                    if *of == LenTarget::From(None) {
                        let n = c.region_len(value, at, fl)?;
                        let sub = c.region(n, fl)?;
                        regions.push(sub);
                    }
                }
                FieldKind::Bits { ty, parts } => {
                    let c = cur!();
                    let at = c.offset();
                    let w = read_word(ty, c, fl)?;
                    for p in parts {
                        let raw = extract(w, p.lo, p.hi, ty.bits());
                        let pl = intern(&p.name);
                        match &p.value {
                            PartValue::Stored => {
                                let v = self.part(p, raw, at, pl)?;
                                l.values.push((&p.name, v.clone()));
                                fields.push((pl, v));
                            }
                            PartValue::Const(k) => expect_const(raw, *k, at, pl)?,
                            PartValue::Length(_) => l.lens.push((
                                &p.name,
                                Len {
                                    value: raw as i64,
                                    at,
                                },
                            )),
                            PartValue::Present(_) => {
                                l.values.push((&p.name, Value::Bool(raw != 0)));
                            }
                        }
                    }
                    for p in parts {
                        if p.value == PartValue::Length(LenTarget::From(None)) {
                            let pl = intern(&p.name);
                            let k = l.len(&p.name).unwrap_or(Len { value: 0, at: 0 });
                            let c = cur!();
                            let n = c.region_len(k.value, k.at, pl)?;
                            let sub = c.region(n, pl)?;
                            regions.push(sub);
                        }
                    }
                }
                FieldKind::Value(_) | FieldKind::Switch { .. } => {
                    let on = match &f.cond {
                        Some(cond) => Some(self.cond(s, cond, &l, Some(cur!()), None)?),
                        None => None,
                    };
                    if on == Some(false) {
                        // A length with `else`: an absent field requires that value of it.
                        if let Some((g, v)) = absent_length(s, &f.name) {
                            let k = l.len(&g.name).unwrap_or(Len { value: 0, at: 0 });
                            if i128::from(k.value) != v {
                                return Err(DecodeError::new(
                                    k.at,
                                    intern(&g.name),
                                    DecodeErrorKind::AbsentLength {
                                        expected: v as i64,
                                        found: k.value,
                                    },
                                ));
                            }
                        }
                        // Absent: no part to show.
                        if let (Some(t), Some(i)) = (self.trace, node) {
                            t.borrow_mut().truncate(i);
                            self.depth.set(self.depth.get().saturating_sub(1));
                        }
                        continue;
                    }
                    let v = self.field(s, f, fl, &l, cur!())?;
                    if f.attrs.iter().any(|a| a == "version")
                        && self.s.facts.reads_version
                        && let Some(n) = v.as_int()
                    {
                        cur!().set_version(u32::try_from(n).unwrap_or(u32::MAX));
                    }
                    l.values.push((&f.name, v.clone()));
                    fields.push((fl, v));
                }
            }
            let end = cur!().offset();
            // What the wire holds beside stored values: lengths, constants, literals.
            let shown = match &f.kind {
                FieldKind::Length { .. } => l.len(&f.name).map(|k| Value::Int(i128::from(k.value))),
                FieldKind::Const { value, .. } => Some(Value::Int(i128::from(*value))),
                FieldKind::Literal(b) => Some(Value::Bytes(bytes::Bytes::copy_from_slice(b))),
                _ => None,
            };
            let value = match &f.kind {
                FieldKind::Value(_) | FieldKind::Switch { .. } => {
                    fields.get(stored).map(|(_, v)| v)
                }
                _ => shown.as_ref(),
            };
            self.close(node, end, value);
            if let (Some(i), Some(t), FieldKind::Bits { parts, .. }) = (node, self.trace, &f.kind) {
                let start = t.borrow()[i].start;
                self.depth.set(self.depth.get() + 1);
                for p in parts {
                    let shown = match &p.value {
                        PartValue::Length(_) => {
                            l.len(&p.name).map(|k| Value::Int(i128::from(k.value)))
                        }
                        PartValue::Const(c) => Some(Value::Int(i128::from(*c))),
                        PartValue::Stored | PartValue::Present(_) => l.value(&p.name).cloned(),
                    };
                    let n = self.open(&p.name, start);
                    self.close(n, end, shown.as_ref());
                }
                self.depth.set(self.depth.get() - 1);
            }
        }
        let sname = intern(&s.name);
        while let Some(rg) = regions.pop() {
            rg.finish(sname)?;
        }
        Ok(Value::Struct { ty: sname, fields })
    }

    /// A stored field's value, from its region.
    fn field(
        &self,
        s: &StructDef,
        f: &Field,
        fl: &'static str,
        l: &Locals<'_>,
        cur: &mut Reader<'_>,
    ) -> Result<Value, DecodeError> {
        let text = matches!(
            f.kind,
            FieldKind::Value(Type::String { .. } | Type::Bytes { .. })
        );
        let sized = if matches!(f.region, Region::Count(_)) {
            None
        } else {
            length_of(s, &f.name).or(match &f.region {
                Region::SizedBy(n) => Some(n.as_str()),
                _ => None,
            })
        };
        if let Some(len) = sized {
            let k = l.len(len).unwrap_or(Len { value: 0, at: 0 });
            if text {
                cur.check_string_len(k.value, k.at, fl)?;
            }
            let n = cur.region_len(k.value, k.at, fl)?;
            let mut sub = cur.region(n, fl)?;
            let v = self.read(f, fl, l, &mut sub)?;
            sub.finish(fl)?;
            return Ok(v);
        }
        match &f.region {
            Region::Prefixed(p) => {
                let at = cur.offset();
                let n = read_prefix(p, cur, fl)?;
                let n = cur.region_len(n, at, fl)?;
                let mut sub = cur.region(n, fl)?;
                let v = self.read(f, fl, l, &mut sub)?;
                sub.finish(fl)?;
                Ok(v)
            }
            Region::Rest
                if !matches!(
                    f.kind,
                    FieldKind::Value(
                        Type::Bytes { prefix: None, .. } | Type::String { prefix: None, .. }
                    )
                ) =>
            {
                let n = cur.remaining();
                let mut sub = cur.region(n, fl)?;
                self.read(f, fl, l, &mut sub)
            }
            _ => self.read(f, fl, l, cur),
        }
    }

    /// The value of field `f` from `rd`, its region.
    fn read(
        &self,
        f: &Field,
        fl: &'static str,
        l: &Locals<'_>,
        rd: &mut Reader<'_>,
    ) -> Result<Value, DecodeError> {
        match (&f.kind, &f.region) {
            (FieldKind::Value(Type::Int(i)), _) if f.decimal => {
                let at = rd.offset();
                let d = read_decimal(f, rd, fl)?;
                let (min, max) = rust_range(i);
                if !(min..=max).contains(&i128::from(d)) {
                    return Err(DecodeError::new(at, fl, DecodeErrorKind::DecimalOverflow));
                }
                Ok(Value::Int(i128::from(d)))
            }
            (
                FieldKind::Value(t @ (Type::String { .. } | Type::Bytes { .. })),
                Region::Until(dl),
            ) => Ok(if matches!(t, Type::String { .. }) {
                Value::Str(rd.str_until(dl, fl)?)
            } else {
                Value::Bytes(rd.bytes_until(dl, fl)?)
            }),
            (FieldKind::Value(Type::List { elem, .. }), Region::Count(n)) => {
                let count = match l.len(n) {
                    Some(k) => k.value,
                    None => l.value(n).and_then(Value::as_int).map_or(0, |v| v as i64),
                };
                let min = min_size(self.p, elem);
                let at = rd.offset();
                let c = rd.check_count(count, min, at, fl)?;
                let mut v = Vec::with_capacity(if min == 0 { c.min(rd.remaining()) } else { c });
                for _ in 0..c {
                    v.push(self.element(elem, rd, fl, v.len())?);
                }
                Ok(Value::List(v))
            }
            (FieldKind::Value(Type::Int(i)), _) if f.widen.is_some() => {
                let v = read_int(i, rd, fl)?;
                Ok(Value::Int(cast(v, &f.widen.unwrap_or(*i))))
            }
            (FieldKind::Value(t), _) => self.value(t, rd, fl),
            (FieldKind::Switch { ty, disc, arms }, _) => {
                let d = l.value(disc).and_then(Value::as_int).unwrap_or(0);
                match arms.iter().find(|(v, _)| *v == d) {
                    Some((_, enc)) if enc == "binary" => {
                        self.message(*ty, rd).map_err(|e| e.within(fl))
                    }
                    Some((_, enc)) => {
                        crate::json::decode(self.s, *ty, enc, rd).map_err(|e| e.within(fl))
                    }
                    None => Err(DecodeError::new(
                        rd.offset(),
                        fl,
                        DecodeErrorKind::UnknownDiscriminator(d as u64),
                    )),
                }
            }
            _ => Err(rd.error(fl, DecodeErrorKind::Json("not a stored field".into()))),
        }
    }

    /// A stored bit part's value from its raw bits (`part_from_word`).
    fn part(
        &self,
        p: &BitPart,
        raw: u64,
        at: usize,
        pl: &'static str,
    ) -> Result<Value, DecodeError> {
        let width = p.hi - p.lo;
        Ok(match &p.ty {
            Type::Bool => Value::Bool(raw != 0),
            Type::Int(i) => Value::Int(cast(i128::from(raw), i)),
            Type::Named(n) => match &self.p.types[*n] {
                TypeDef::Enum(e) => {
                    let v = if e.repr.signed && width < 64 {
                        let sh = 64 - width;
                        cast(i128::from(((raw << sh) as i64) >> sh), &e.repr)
                    } else {
                        cast(i128::from(raw), &e.repr)
                    };
                    self.enum_value(e, v).ok_or_else(|| {
                        DecodeError::new(at, pl, DecodeErrorKind::UnknownEnum(v as i64))
                    })?
                }
                TypeDef::Flags(fl) if fl.repr.signed && fl.repr.bytes == 3 && width == 24 => {
                    Value::Flags(i128::from(((raw as i32) << 8) >> 8))
                }
                TypeDef::Flags(fl) => Value::Flags(cast(i128::from(raw), &fl.repr)),
                _ => Value::Null,
            },
            _ => Value::Null,
        })
    }

    /// A condition's truth, while decoding (`rd` is the reader the field is read from) or
    /// while encoding (`present` tells whether the field is there, for `@more`).
    pub fn cond(
        &self,
        s: &StructDef,
        c: &Cond,
        l: &Locals<'_>,
        rd: Option<&Reader<'_>>,
        enc: Option<(u32, bool)>,
    ) -> Result<bool, DecodeError> {
        Ok(match c {
            Cond::Cmp(op, a, b) => {
                let (a, b) = (
                    self.operand(s, a, l, rd, enc)?,
                    self.operand(s, b, l, rd, enc)?,
                );
                match op {
                    CmpOp::Eq => a == b,
                    CmpOp::Ne => a != b,
                    CmpOp::Lt => a < b,
                    CmpOp::Le => a <= b,
                    CmpOp::Gt => a > b,
                    CmpOp::Ge => a >= b,
                }
            }
            Cond::And(a, b) => self.cond(s, a, l, rd, enc)? && self.cond(s, b, l, rd, enc)?,
            Cond::Or(a, b) => self.cond(s, a, l, rd, enc)? || self.cond(s, b, l, rd, enc)?,
            Cond::Not(a) => !self.cond(s, a, l, rd, enc)?,
            atomic => self.operand(s, atomic, l, rd, enc)? != 0,
        })
    }

    fn operand(
        &self,
        s: &StructDef,
        c: &Cond,
        l: &Locals<'_>,
        rd: Option<&Reader<'_>>,
        enc: Option<(u32, bool)>,
    ) -> Result<i128, DecodeError> {
        Ok(match c {
            Cond::Int(n, _) => *n,
            Cond::Version => i128::from(match (rd, enc) {
                (Some(r), _) => r.version(),
                (None, Some((v, _))) => v,
                (None, None) => 0,
            }),
            Cond::More => i128::from(match (rd, enc) {
                (Some(r), _) => r.remaining() > 0,
                (None, Some((_, present))) => present,
                (None, None) => false,
            }),
            Cond::Ref(n, _) => match l.len(n) {
                Some(k) if is_length(s, n) => i128::from(k.value),
                _ => l.value(n).and_then(Value::as_int).unwrap_or(0),
            },
            other => i128::from(self.cond(s, other, l, rd, enc)?),
        })
    }
}

/// The frame-length probe of a frame whose leading fields reach a `len(..)`
/// (`emit::probe`): `None` while the bytes end before it.
pub(crate) fn probe(
    schema: &Schema,
    s: &StructDef,
    frame: &'static str,
    check_consts: bool,
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<usize>, DecodeError> {
    let p = &schema.ir;
    let mut off = 0usize;
    for f in &s.fields {
        let fl = intern(&f.name);
        match &f.kind {
            FieldKind::Const { ty, .. } if !check_consts => {
                let w = usize::from(ty.bytes);
                if buf.len() < off + w {
                    return Ok(None);
                }
                off += w;
            }
            FieldKind::Const { ty, value } => {
                let w = usize::from(ty.bytes);
                let Some(v) = peek_uint(buf, off, w, ty.endian == Endian::Big) else {
                    return Ok(None);
                };
                expect_const(v, *value, off, fl).map_err(|e| e.within(frame))?;
                off += w;
            }
            FieldKind::Length {
                ty,
                of: LenTarget::From(None),
            } => {
                let (v, at) = match ty {
                    Prefix::Int(i) => {
                        let w = usize::from(i.bytes);
                        let Some(v) = peek_uint(buf, off, w, i.endian == Endian::Big) else {
                            return Ok(None);
                        };
                        let at = off;
                        off += w;
                        let v = if i.signed {
                            let bits = i.bits();
                            let v = if bits == 64 {
                                v as i64
                            } else {
                                ((v << (64 - bits)) as i64) >> (64 - bits)
                            };
                            if v < 0 {
                                return Err(DecodeError::new(
                                    at,
                                    fl,
                                    DecodeErrorKind::NegativeLength(v),
                                )
                                .within(frame));
                            }
                            v as u64
                        } else {
                            v
                        };
                        (v, at)
                    }
                    Prefix::Varint { max } => {
                        let found = match max {
                            None => peek_varint(buf, off, fl),
                            Some(m) => peek_varint_max(buf, off, *m, fl),
                        }
                        .map_err(|e| e.within(frame))?;
                        let Some((v, n)) = found else {
                            return Ok(None);
                        };
                        let at = off;
                        off += n;
                        (v, at)
                    }
                };
                let total = (off as u64).saturating_add(v);
                if total > limits.max_frame_len as u64 {
                    return Err(DecodeError::new(
                        at,
                        fl,
                        DecodeErrorKind::TooLong {
                            len: total,
                            max: limits.max_frame_len,
                        },
                    )
                    .within(frame));
                }
                return Ok(Some(total as usize));
            }
            FieldKind::Value(Type::Varint { .. }) => {
                let Some((_, n)) = peek_varint(buf, off, fl).map_err(|e| e.within(frame))? else {
                    return Ok(None);
                };
                off += n;
            }
            other => {
                let w = match other {
                    FieldKind::Bits { ty, .. } | FieldKind::Value(Type::Int(ty)) => {
                        usize::from(ty.bytes)
                    }
                    FieldKind::Value(Type::Named(i)) => match &p.types[*i] {
                        TypeDef::Enum(e) => usize::from(e.repr.bytes),
                        TypeDef::Flags(f) => usize::from(f.repr.bytes),
                        _ => 0,
                    },
                    _ => 1,
                };
                if buf.len() < off + w {
                    return Ok(None);
                }
                off += w;
            }
        }
    }
    Ok(None)
}

/// The computed length (a field or bit part) whose `len(x..)` region starts at `name`.
pub(crate) fn from_starts<'a>(s: &'a StructDef, name: &str) -> Option<&'a str> {
    lengths(s).find_map(|(l, t)| match t {
        LenTarget::From(Some(x)) if x == name => Some(l),
        _ => None,
    })
}

/// The computed length measuring field `name`.
pub(crate) fn length_of<'a>(s: &'a StructDef, name: &str) -> Option<&'a str> {
    lengths(s).find_map(|(l, t)| match t {
        LenTarget::Field(x) if x == name => Some(l),
        _ => None,
    })
}

/// Every computed length of a struct: fields and bit parts, with their targets.
pub(crate) fn lengths(s: &StructDef) -> impl Iterator<Item = (&str, &LenTarget)> {
    s.fields.iter().flat_map(|f| -> Vec<(&str, &LenTarget)> {
        match &f.kind {
            FieldKind::Length { of, .. } => vec![(f.name.as_str(), of)],
            FieldKind::Bits { parts, .. } => parts
                .iter()
                .filter_map(|p| match &p.value {
                    PartValue::Length(of) => Some((p.name.as_str(), of)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    })
}

/// Whether `name` is a computed length of the struct.
pub(crate) fn is_length(s: &StructDef, name: &str) -> bool {
    lengths(s).any(|(l, _)| l == name)
}

/// The length field with `else` measuring field `name`, and its value for an absent one.
pub(crate) fn absent_length<'a>(s: &'a StructDef, name: &str) -> Option<(&'a Field, i128)> {
    s.fields.iter().find_map(|g| match &g.kind {
        FieldKind::Length {
            of: LenTarget::Field(x),
            ..
        } if x == name => g.len_else.map(|v| (g, v)),
        _ => None,
    })
}

/// Reads a fixed-width integer, sign-extending 24-bit signed ones (`Gen::read_int`).
pub(crate) fn read_int(
    i: &IntType,
    r: &mut Reader<'_>,
    f: &'static str,
) -> Result<i128, DecodeError> {
    let big = i.endian == Endian::Big;
    Ok(match (i.bytes, i.signed, big) {
        (1, false, _) => i128::from(r.u8(f)?),
        (1, true, _) => i128::from(r.i8(f)?),
        (2, false, true) => i128::from(r.u16_be(f)?),
        (2, false, false) => i128::from(r.u16_le(f)?),
        (2, true, true) => i128::from(r.i16_be(f)?),
        (2, true, false) => i128::from(r.i16_le(f)?),
        (3, signed, big) => {
            let v = if big { r.u24_be(f)? } else { r.u24_le(f)? };
            if signed {
                i128::from(((v << 8) as i32) >> 8)
            } else {
                i128::from(v)
            }
        }
        (4, false, true) => i128::from(r.u32_be(f)?),
        (4, false, false) => i128::from(r.u32_le(f)?),
        (4, true, true) => i128::from(r.i32_be(f)?),
        (4, true, false) => i128::from(r.i32_le(f)?),
        (_, false, true) => i128::from(r.u64_be(f)?),
        (_, false, false) => i128::from(r.u64_le(f)?),
        (_, true, true) => i128::from(r.i64_be(f)?),
        (_, true, false) => i128::from(r.i64_le(f)?),
    })
}

/// A constant or packed word as its bit pattern (`Gen::read_word`).
pub(crate) fn read_word(
    i: &IntType,
    r: &mut Reader<'_>,
    f: &'static str,
) -> Result<u64, DecodeError> {
    let v = read_int(i, r, f)?;
    Ok(if i.signed && i.bits() < 64 {
        (v as u64) & mask(i.bits())
    } else {
        v as u64
    })
}

/// A length prefix as i64 (`Gen::read_prefix`).
pub(crate) fn read_prefix(
    p: &Prefix,
    r: &mut Reader<'_>,
    f: &'static str,
) -> Result<i64, DecodeError> {
    Ok(match p {
        Prefix::Int(i) if i.bytes == 8 && !i.signed => sat_i64(read_int(i, r, f)? as u64),
        Prefix::Int(i) => read_int(i, r, f)? as i64,
        Prefix::Varint { max: None } => sat_i64(r.varint(f)?),
        Prefix::Varint { max: Some(m) } => sat_i64(r.varint_max(*m, f)?),
    })
}

fn read_decimal(f: &Field, r: &mut Reader<'_>, fl: &'static str) -> Result<i64, DecodeError> {
    match &f.region {
        Region::Until(d) => r.decimal_until(d, fl),
        _ => r.decimal_rest(fl),
    }
}

/// Bits `lo..hi` of a word of `word_bits` bits.
pub(crate) fn extract(w: u64, lo: u32, hi: u32, word_bits: u32) -> u64 {
    let shifted = if lo >= 64 { 0 } else { w >> lo };
    if hi >= word_bits.min(64) {
        shifted
    } else {
        shifted & mask(hi - lo)
    }
}

/// The low `bits` bits set.
pub(crate) fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The range of the Rust type holding `i` (24-bit types live in 32-bit ones).
pub(crate) fn rust_range(i: &IntType) -> (i128, i128) {
    let bits = match i.bytes {
        1 => 8,
        2 => 16,
        3 | 4 => 32,
        _ => 64,
    };
    if i.signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

/// `v as T` for the Rust type `T` holding `i`: wraps to its width.
pub(crate) fn cast(v: i128, i: &IntType) -> i128 {
    let bits = match i.bytes {
        1 => 8,
        2 => 16,
        3 | 4 => 32,
        _ => 64,
    };
    let m = (1i128 << bits) - 1;
    let u = v & m;
    if i.signed && u >> (bits - 1) != 0 {
        u - (1i128 << bits)
    } else {
        u
    }
}
