//! Random valid protocols: every construct of the language, names from the pools in
//! [`super::names`], sizes kept small so that every value fits its length fields.

use super::model::*;
use super::names::*;
use super::rng::Rng;
use polywire_codegen::emit::rust::{ident, pascal, rename_case, screaming, snake};

/// Strings and byte strings hold at most this many bytes.
pub const MAX_TEXT: u64 = 8;
/// Lists hold at most this many elements, maps half as many entries.
pub const MAX_ITEMS: u64 = 3;

/// Generation state.
pub struct Gen<'a> {
    /// The random source.
    pub rng: Rng,
    /// The protocol being built.
    pub p: Proto,
    /// Names taken in the generated module's type namespace.
    taken: Vec<String>,
    /// Finished structs other structs may hold.
    structs: Vec<usize>,
    /// Structs that need a JSON encoding.
    json_needed: Vec<usize>,
    /// Whether a shape is left out while a known issue stands.
    skip: &'a dyn Fn(&str) -> bool,
    /// Unions and tagged lists made so far (they are made while structs are, up to a few).
    variable: usize,
}

const PFX_INTS: &[(u8, bool)] = &[
    (1, false),
    (1, true),
    (2, false),
    (2, true),
    (3, false),
    (3, true),
    (4, false),
    (4, true),
    (8, false),
    (8, true),
];

impl<'a> Gen<'a> {
    /// A generator for one protocol.
    pub fn new(seed: u64, skip: &'a dyn Fn(&str) -> bool) -> Self {
        Gen {
            rng: Rng::new(seed),
            p: Proto::default(),
            taken: Vec::new(),
            structs: Vec::new(),
            json_needed: Vec::new(),
            skip,
            variable: 0,
        }
    }

    fn doc(&mut self) -> Option<String> {
        if self.rng.chance(40) {
            Some(self.rng.pick(DOCS).to_string())
        } else {
            None
        }
    }

    fn take(&mut self, name: &str) -> bool {
        if self.taken.iter().any(|t| t == name) {
            return false;
        }
        self.taken.push(name.to_string());
        true
    }

    fn type_name(&mut self) -> String {
        let base = if self.rng.chance(4) && !(self.skip)("type-name-not-camel-case") {
            *self.rng.pick(&["point", "my_type", "item_t"])
        } else if self.rng.chance(30) {
            *self.rng.pick(TYPE_PRELUDE)
        } else {
            *self.rng.pick(TYPE_WORDS)
        };
        let mut name = base.to_string();
        let mut k = 2;
        while !self.take(&name) {
            name = format!("{base}{k}");
            k += 1;
        }
        name
    }

    fn field_name(&mut self, used: &mut Vec<String>) -> String {
        self.name_for(used, false)
    }

    /// The name of a length or packed field (or of a bit part): the generated code names
    /// locals after them.
    fn local_name(&mut self, used: &mut Vec<String>) -> String {
        let strict = (self.skip)("field-name-in-generated-locals");
        loop {
            let name = self.name_for(used, strict);
            // `sized_by varint` (or `u16`, ...) is a length prefix, not the field so named:
            // a length field named like a prefix type cannot be referred to by `sized_by`.
            if name == "varint"
                || polywire_codegen::ir::IntType::parse(&name, polywire_codegen::ir::Endian::Big)
                    .is_some()
            {
                used.retain(|u| *u != name);
                continue;
            }
            return name;
        }
    }

    fn name_for(&mut self, used: &mut Vec<String>, snake_only: bool) -> String {
        let no_prefix = (self.skip)("field-named-like-a-keyword-of-the-field-syntax");
        loop {
            let pool = match self.rng.below(100) {
                0..=44 => FIELD_WORDS,
                45..=69 => FIELD_LOCALS,
                70..=92 => FIELD_KEYWORDS,
                _ if !(self.skip)("field-named-like-a-keyword-of-the-field-syntax") => {
                    FIELD_KEYWORD_PREFIXES
                }
                _ => FIELD_WORDS,
            };
            let mut name = self.rng.pick(pool).to_string();
            if self.rng.chance(10) {
                name = format!("{name}{}", self.rng.below(3));
            }
            if no_prefix
                && ["rest", "as", "sized_by"]
                    .iter()
                    .any(|k| name.starts_with(k) && name.len() > k.len())
            {
                continue;
            }
            if snake_only
                && !(name.starts_with(|c: char| c.is_ascii_lowercase())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && !name.contains("__"))
            {
                continue;
            }
            let id = ident(&name);
            // The struct's own namespace: two names that become one Rust field collide.
            if used.contains(&id) || used.contains(&name) {
                continue;
            }
            used.push(id);
            used.push(name.clone());
            return name;
        }
    }

    fn int(&mut self) -> IntT {
        let (bytes, signed) = *self.rng.pick(PFX_INTS);
        IntT {
            bytes,
            signed,
            little: match self.rng.below(6) {
                0 => Some(true),
                1 => Some(false),
                _ => None,
            },
        }
    }

    fn uint(&mut self, max_bytes: u8) -> IntT {
        loop {
            let mut i = self.int();
            if i.bytes <= max_bytes {
                i.signed = false;
                return i;
            }
        }
    }

    /// A prefix able to express `need`.
    fn pfx(&mut self, need: u64) -> Pfx {
        loop {
            if self.rng.chance(20) {
                return Pfx::Varint;
            }
            if self.rng.chance(10) {
                let m = *self.rng.pick(&[127u64, 16_383, 268_435_455, 1 << 40]);
                if m >= need {
                    return Pfx::VarintMax(m);
                }
            }
            let i = self.int();
            if i.max() as u128 >= need as u128 {
                return Pfx::Int(i);
            }
        }
    }

    // ----- sizes -----

    /// Most bytes a value of `t` takes with the generator's values.
    pub fn bound(&self, t: &Ty, depth: u32) -> u64 {
        if depth > 6 {
            return 1 << 40;
        }
        let pfx = |x: &Option<Pfx>| x.map_or(0, |p| p.size());
        match t {
            Ty::Int(i) => u64::from(i.bytes),
            Ty::Varint(_) | Ty::VarintMax(_) => 10,
            Ty::Bool => 1,
            Ty::Str(x, _) | Ty::Bytes(x, _) => pfx(x) + MAX_TEXT,
            Ty::List(e, c) => {
                let c = match c {
                    Count::Default => 10,
                    Count::Explicit(p) => p.size(),
                };
                c + MAX_ITEMS * self.bound(e, depth + 1)
            }
            Ty::Map(k, v, c) => {
                let c = match c {
                    Count::Default => 10,
                    Count::Explicit(p) => p.size(),
                };
                c + MAX_ITEMS * (self.bound(k, depth + 1) + self.bound(v, depth + 1))
            }
            Ty::Opt(i) => 1 + self.bound(i, depth + 1),
            Ty::Named(i) => match &self.p.defs[*i] {
                Def::Enum { repr, .. } | Def::Flags { repr, .. } => u64::from(repr.bytes),
                Def::Struct(s) => s
                    .fields
                    .iter()
                    .map(|f| self.field_bound(f, depth + 1))
                    .fold(0u64, u64::saturating_add),
                Def::Union { arms, .. } => arms
                    .iter()
                    .map(|a| self.bound(&Ty::Named(*a), depth + 1))
                    .max()
                    .unwrap_or(0),
                Def::Tagged { tag, members, .. } => members
                    .iter()
                    .map(|m| {
                        let one = tag.size().saturating_add(self.bound(&m.ty, depth + 1));
                        if m.repeated {
                            one.saturating_mul(MAX_ITEMS)
                        } else {
                            one
                        }
                    })
                    .fold(0u64, u64::saturating_add),
            },
        }
    }

    fn field_bound(&self, f: &Field, depth: u32) -> u64 {
        let inner = match &f.kind {
            Kind::Value(t) => self.bound(t, depth),
            Kind::Const(i, _) | Kind::Bits(i, _) => u64::from(i.bytes),
            Kind::Len(p, _) => p.size(),
            Kind::Switch { ty, arms, .. } => {
                let b = self.bound(&Ty::Named(*ty), depth);
                if arms.iter().any(|(_, e)| e != "binary") {
                    b.saturating_mul(12).saturating_add(256)
                } else {
                    b
                }
            }
        };
        let region = match &f.region {
            Region::Prefixed(p) => p.size(),
            _ => 0,
        };
        inner.saturating_add(region)
    }

    /// Fewest bytes a value of `t` takes (0 when it can be empty).
    pub fn min_size(&self, t: &Ty, depth: u32) -> u64 {
        if depth > 6 {
            return 0;
        }
        match t {
            Ty::Int(i) => u64::from(i.bytes),
            Ty::Varint(_) | Ty::VarintMax(_) | Ty::Bool | Ty::Opt(_) => 1,
            Ty::Str(x, _) | Ty::Bytes(x, _) => x.map_or(0, |_| 1),
            Ty::List(_, _) | Ty::Map(_, _, _) => 1,
            Ty::Named(i) => match &self.p.defs[*i] {
                Def::Enum { repr, .. } | Def::Flags { repr, .. } => u64::from(repr.bytes),
                Def::Struct(s) => s
                    .fields
                    .iter()
                    .map(|f| match (&f.kind, &f.region) {
                        (_, Region::Prefixed(_)) => 1,
                        (Kind::Value(t), Region::Inline) => self.min_size(t, depth + 1),
                        (Kind::Const(i, _) | Kind::Bits(i, _), _) => u64::from(i.bytes),
                        (Kind::Len(_, _), _) => 1,
                        _ => 0,
                    })
                    .sum(),
                Def::Union { arms, .. } => arms
                    .iter()
                    .map(|a| self.min_size(&Ty::Named(*a), depth + 1))
                    .min()
                    .unwrap_or(0),
                Def::Tagged { .. } => 0,
            },
        }
    }

    // ----- types -----

    fn enums(&self) -> Vec<usize> {
        (0..self.p.defs.len())
            .filter(|i| {
                matches!(&self.p.defs[*i], Def::Enum { responses: false, variants, open, .. } if *open || !variants.is_empty())
            })
            .collect()
    }

    fn flags(&self) -> Vec<usize> {
        (0..self.p.defs.len())
            .filter(|i| matches!(self.p.defs[*i], Def::Flags { .. }))
            .collect()
    }

    /// A type whose extent its own encoding gives.
    fn inline_ty(&mut self, depth: u32) -> Ty {
        let deep = depth >= 2;
        loop {
            let t = match self.rng.below(100) {
                0..=29 => Ty::Int(self.int()),
                30..=33 => Ty::VarintMax(*self.rng.pick(&[
                    0u64,
                    1,
                    127,
                    128,
                    16_383,
                    268_435_455,
                    1 << 40,
                ])),
                34..=37 => Ty::Varint(self.rng.chance(50)),
                38..=43 => Ty::Bool,
                44..=55 => {
                    let x = self.pfx(MAX_TEXT);
                    Ty::Str(Some(x), self.max_for(x))
                }
                56..=63 => {
                    let x = self.pfx(MAX_TEXT);
                    Ty::Bytes(Some(x), self.max_for(x))
                }
                64..=71 if !deep => {
                    let e = self.inline_ty(depth + 1);
                    Ty::List(Box::new(e), self.count())
                }
                72..=76 if !deep => {
                    let k = self.key_ty();
                    let v = self.inline_ty(depth + 1);
                    Ty::Map(Box::new(k), Box::new(v), self.count())
                }
                77..=82 if !deep => {
                    // `T??` is not in the language.
                    let inner = self.inline_ty(depth + 1);
                    if matches!(inner, Ty::Opt(_)) {
                        continue;
                    }
                    Ty::Opt(Box::new(inner))
                }
                83..=91 => {
                    let mut all = self.enums();
                    all.extend(self.flags());
                    if all.is_empty() {
                        continue;
                    }
                    Ty::Named(*self.rng.pick(&all))
                }
                92..=99 if !self.structs.is_empty() && depth < 3 => {
                    let s = *self.rng.pick(&self.structs);
                    Ty::Named(s)
                }
                _ => continue,
            };
            return t;
        }
    }

    fn max_for(&mut self, x: Pfx) -> Option<u64> {
        if self.rng.chance(25) {
            let m = MAX_TEXT + self.rng.below(300) as u64;
            Some(m.min(x.max_len().min(u64::MAX as u128) as u64))
        } else {
            None
        }
    }

    fn count(&mut self) -> Count {
        if self.rng.chance(40) {
            Count::Default
        } else {
            Count::Explicit(self.pfx(MAX_ITEMS))
        }
    }

    fn key_ty(&mut self) -> Ty {
        match self.rng.below(4) {
            0 => Ty::Int(self.int()),
            1 => Ty::Varint(false),
            _ => Ty::Str(Some(self.pfx(MAX_TEXT)), None),
        }
    }

    /// A type for a field that a region bounds (`sized_by`, `rest`).
    fn region_ty(&mut self, depth: u32) -> Ty {
        loop {
            let t = match self.rng.below(10) {
                0..=2 => Ty::Str(None, self.rng.chance(20).then_some(MAX_TEXT + 2)),
                3..=4 => Ty::Bytes(None, None),
                5..=6 => {
                    let e = self.inline_ty(depth + 1);
                    if self.min_size(&e, 0) == 0 {
                        continue;
                    }
                    Ty::List(Box::new(e), Count::Default)
                }
                7 => {
                    let k = self.key_ty();
                    let v = self.inline_ty(depth + 1);
                    if self.min_size(&k, 0) + self.min_size(&v, 0) == 0 {
                        continue;
                    }
                    Ty::Map(Box::new(k), Box::new(v), Count::Default)
                }
                8 if !self.structs.is_empty() => Ty::Named(*self.rng.pick(&self.structs)),
                _ => self.inline_ty(depth + 1),
            };
            return t;
        }
    }

    // ----- enums and flags -----

    fn variant_name(&mut self, used: &mut Vec<String>, rust: fn(&str) -> String) -> String {
        loop {
            let mut n = self.rng.pick(VARIANTS).to_string();
            if self.rng.chance(15) {
                n = format!("{n}_{}", self.rng.below(4));
            }
            let r = rust(&n);
            if used.contains(&r) {
                continue;
            }
            used.push(r);
            return n;
        }
    }

    fn value_in(&mut self, i: IntT) -> i128 {
        match self.rng.below(6) {
            0 => 0,
            1 => i.max(),
            2 => i.min(),
            3 => 1.min(i.max()),
            _ => {
                let span = (i.max() - i.min()) as u128 + 1;
                i.min() + (u128::from(self.rng.next_u64()) % span) as i128
            }
        }
    }

    fn gen_enum(&mut self) -> usize {
        let name = self.type_name();
        let doc = self.doc();
        let repr = self.int();
        let open = self.rng.chance(40);
        let n = if open {
            self.rng.below(5)
        } else {
            self.rng.range(1, 5)
        };
        let mut used = vec!["Unknown".to_string()];
        let mut values = Vec::new();
        let mut variants = Vec::new();
        while variants.len() < n {
            let v = if self.rng.chance(50) {
                variants.len() as i128
            } else {
                self.value_in(repr)
            };
            if values.contains(&v) || v > repr.max() {
                continue;
            }
            values.push(v);
            let name = self.variant_name(&mut used, pascal);
            let doc = self.doc();
            variants.push(Variant {
                name,
                doc,
                value: v,
                attrs: vec![],
            });
        }
        self.p.defs.push(Def::Enum {
            name,
            doc,
            repr,
            open,
            variants,
            responses: false,
        });
        self.p.defs.len() - 1
    }

    fn gen_flags(&mut self, kind: bool) -> usize {
        let name = self.type_name();
        let doc = self.doc();
        let mut repr = self.int();
        if kind {
            repr.signed = false;
        }
        let n = self
            .rng
            .range(usize::from(kind), 4.min(repr.bytes as usize * 8));
        let mut used = Vec::new();
        let mut bits: Vec<Variant> = Vec::new();
        let mut taken_bits = Vec::new();
        while bits.len() < n {
            let b = self.rng.below(repr.bytes as usize * 8) as i128;
            if taken_bits.contains(&b) {
                continue;
            }
            taken_bits.push(b);
            let name = self.variant_name_flag(&mut used);
            let doc = self.doc();
            bits.push(Variant {
                name,
                doc,
                value: b,
                attrs: vec![],
            });
        }
        if kind {
            bits[0].attrs.push("@response".into());
            if bits.len() > 1 && self.rng.chance(80) {
                bits[1].attrs.push("@oneway".into());
            }
        }
        self.p.defs.push(Def::Flags {
            name,
            doc,
            repr,
            bits,
        });
        self.p.defs.len() - 1
    }

    fn variant_name_flag(&mut self, used: &mut Vec<String>) -> String {
        loop {
            let mut n = self.rng.pick(BITS).to_string();
            if self.rng.chance(15) {
                n = format!("{n}_{}", self.rng.below(4));
            }
            let r = screaming(&n);
            if used.contains(&r) {
                continue;
            }
            used.push(r);
            return n;
        }
    }

    // ----- structs -----

    /// Adds one or a few fields to `out`.
    fn unit(&mut self, out: &mut Vec<Field>, used: &mut Vec<String>, me: usize, depth: u32) {
        let roll = self.rng.below(100);
        match roll {
            // A computed length and the field it measures.
            0..=11 => {
                let n = self.local_name(used);
                let target = self.field_name(used);
                let t = self.region_ty(depth);
                let need = self.bound(&t, 0);
                let x = self.pfx(need);
                out.push(Field {
                    kind: Kind::Len(x, LenT::Field(target.clone())),
                    doc: self.doc(),
                    ..Field::value(n.clone(), Ty::Bool)
                });
                if self.rng.chance(20) {
                    let filler = self.field_name(used);
                    let ft = self.inline_ty(depth + 1);
                    out.push(Field::value(filler, ft));
                }
                out.push(Field {
                    region: Region::SizedBy(n),
                    ..Field::value(target, t)
                });
            }
            // An inline byte-length prefix.
            12..=18 => {
                let name = self.field_name(used);
                let t = self.region_ty(depth);
                let need = self.bound(&t, 0);
                let x = self.pfx(need);
                out.push(Field {
                    region: Region::Prefixed(x),
                    ..Field::value(name, t)
                });
            }
            // A packed integer.
            19..=29 => self.bits(out, used, depth),
            // A constant.
            30..=35 => {
                let name = self.field_name(used);
                let i = self.int();
                let v = self.value_in(i);
                out.push(Field {
                    kind: Kind::Const(i, v),
                    ..Field::value(name, Ty::Bool)
                });
            }
            // A struct whose encoding a discriminator chooses.
            36..=41 if !self.structs.is_empty() => self.switch(out, used),
            // An optional string, bytes, list or map that is absent when empty.
            42..=48 => {
                let name = self.field_name(used);
                let inner = match self.rng.below(4) {
                    0 => Ty::Str(Some(self.pfx(MAX_TEXT)), None),
                    1 => Ty::Bytes(Some(self.pfx(MAX_TEXT)), None),
                    2 => {
                        let e = self.inline_ty(depth + 1);
                        Ty::List(Box::new(e), self.count())
                    }
                    _ => {
                        let k = self.key_ty();
                        let v = self.inline_ty(depth + 1);
                        Ty::Map(Box::new(k), Box::new(v), self.count())
                    }
                };
                out.push(Field {
                    markers: vec!["empty_is_none"],
                    ..Field::value(name, Ty::Opt(Box::new(inner)))
                });
            }
            // A narrow wire integer held in a wider Rust integer.
            49..=52 => {
                let name = self.field_name(used);
                let wire = self.int();
                let mut wide = self.int();
                wide.signed = wire.signed || (wide.signed && wide.bytes > wire.bytes);
                if wide.bytes < wire.bytes
                    || (wide.signed && !wire.signed && wide.bytes == wire.bytes)
                {
                    wide = wire;
                }
                out.push(Field {
                    widen: Some(wide),
                    ..Field::value(name, Ty::Int(wire))
                });
            }
            // A default value.
            53..=55 => {
                let name = self.field_name(used);
                let i = self.int();
                let d = self.value_in(i);
                out.push(Field {
                    default: Some(d),
                    ..Field::value(name, Ty::Int(i))
                });
            }
            // A field present on a comparison with an earlier integer.
            59..=63 => {
                let n = self.field_name(used);
                let i = self.int();
                out.push(Field::value(n.clone(), Ty::Int(i)));
                let x = self.field_name(used);
                let t = self.inline_ty(depth + 1);
                let op = *self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                let lit = self.value_in(i);
                out.push(Field {
                    cond: Some(CondM::Cmp { field: n, op, lit }),
                    ..Field::value(x, t)
                });
            }
            // A union or a tagged list, with a length of its own.
            64..=69 if self.variable < 3 => {
                let ty = if self.rng.chance(50) {
                    self.gen_union()
                } else {
                    self.gen_tagged()
                };
                let name = self.field_name(used);
                let need = self.bound(&Ty::Named(ty), 0);
                let x = self.pfx(need);
                out.push(Field {
                    region: Region::Prefixed(x),
                    ..Field::value(name, Ty::Named(ty))
                });
            }
            // A list of the struct itself (recursion through a list).
            56..=58 if depth == 0 => {
                let name = self.field_name(used);
                let c = Count::Explicit(self.pfx(MAX_ITEMS));
                out.push(Field::value(name, Ty::List(Box::new(Ty::Named(me)), c)));
            }
            _ => {
                let name = self.field_name(used);
                let t = self.inline_ty(depth);
                let doc = self.doc();
                out.push(Field {
                    doc,
                    ..Field::value(name, t)
                });
            }
        }
    }

    fn bits(&mut self, out: &mut Vec<Field>, used: &mut Vec<String>, depth: u32) {
        let name = self.local_name(used);
        let carrier = self.uint(8);
        let total = u32::from(carrier.bytes) * 8;
        let mut parts = Vec::new();
        let mut sized = Vec::new();
        let mut pos = 0u32;
        let k = self.rng.range(1, 4);
        while pos < total && parts.len() < k {
            if self.rng.chance(20) {
                pos += self.rng.range(1, 3) as u32;
                continue;
            }
            let room = total - pos;
            let width = self.rng.range(1, room.min(32) as usize) as u32;
            let pname = self.local_name(used);
            let enums: Vec<usize> = self
                .enums()
                .into_iter()
                .filter(|&i| match &self.p.defs[i] {
                    Def::Enum { variants, repr, .. } => variants.iter().all(|v| {
                        v.value >= 0 && v.value < (1i128 << (width - u32::from(repr.signed)))
                    }),
                    _ => false,
                })
                .collect();
            let flags = self.flags();
            let ty = match self.rng.below(10) {
                0..=2 if width == 1 => Ty::Bool,
                3..=4 if !enums.is_empty() => Ty::Named(*self.rng.pick(&enums)),
                5 if !flags.is_empty() => Ty::Named(*self.rng.pick(&flags)),
                _ => {
                    let mut i = self.uint(8);
                    while u32::from(i.bytes) * 8 < width {
                        i = self.uint(8);
                    }
                    Ty::Int(i)
                }
            };
            let value = match self.rng.below(10) {
                // A presence bit and the field it tells about.
                9 if ty == Ty::Bool => {
                    let target = self.field_name(used);
                    let t = self.inline_ty(depth + 1);
                    sized.push(Field {
                        cond: Some(CondM::Present(pname.clone())),
                        ..Field::value(target.clone(), t)
                    });
                    PartV::Present(target)
                }
                0..=1 if matches!(ty, Ty::Int(_)) => {
                    let max = if width >= 64 {
                        u64::MAX
                    } else {
                        (1u64 << width) - 1
                    };
                    PartV::Const(self.rng.next_u64() & max)
                }
                2..=3
                    if matches!(ty, Ty::Int(_))
                        && width >= 8
                        && (sized.is_empty() || !(self.skip)("bits-with-two-lengths")) =>
                {
                    let target = self.field_name(used);
                    let t = loop {
                        let t = self.region_ty(depth);
                        if self.bound(&t, 0) < (1u64 << width.min(40)) {
                            break t;
                        }
                    };
                    sized.push(Field {
                        region: Region::SizedBy(pname.clone()),
                        ..Field::value(target.clone(), t)
                    });
                    PartV::Len(LenT::Field(target))
                }
                _ => PartV::Stored,
            };
            let doc = self.doc();
            parts.push(Part {
                name: pname,
                doc,
                ty,
                lo: pos,
                hi: pos + width,
                value,
                echo: false,
            });
            pos += width;
        }
        if parts.is_empty() {
            let pname = self.local_name(used);
            parts.push(Part {
                name: pname,
                doc: None,
                ty: Ty::Bool,
                lo: 0,
                hi: 1,
                value: PartV::Stored,
                echo: false,
            });
        }
        self.rng.shuffle(&mut parts);
        let doc = self.doc();
        out.push(Field {
            doc,
            kind: Kind::Bits(carrier, parts),
            ..Field::value(name, Ty::Bool)
        });
        self.rng.shuffle(&mut sized);
        out.extend(sized);
    }

    fn switch(&mut self, out: &mut Vec<Field>, used: &mut Vec<String>) {
        let target = *self.rng.pick(&self.structs);
        let json_ok = self.json_ok(target);
        let disc = self.field_name(used);
        let dt = self.uint(2);
        let (width, disc_field) = if self.rng.chance(50) {
            (
                u32::from(dt.bytes) * 8,
                Field::value(disc.clone(), Ty::Int(dt)),
            )
        } else {
            let carrier = self.uint(4);
            let w = self
                .rng
                .range(2, (u32::from(carrier.bytes) * 8).min(8) as usize)
                as u32;
            let bname = self.local_name(used);
            let lo = u32::from(carrier.bytes) * 8 - w;
            let part = Part {
                name: disc.clone(),
                doc: None,
                ty: Ty::Int(IntT::plain(1, false)),
                lo,
                hi: lo + w,
                value: PartV::Stored,
                echo: false,
            };
            (
                w,
                Field {
                    kind: Kind::Bits(carrier, vec![part]),
                    ..Field::value(bname, Ty::Bool)
                },
            )
        };
        out.push(disc_field);
        let n = self.rng.range(1, 3);
        let mut arms: Vec<(u64, String)> = Vec::new();
        let max = (1u64 << width.min(16)) - 1;
        while arms.len() < n {
            let v = if self.rng.chance(50) {
                arms.len() as u64
            } else {
                self.rng.next_u64() % (max + 1)
            };
            if arms.iter().any(|(a, _)| *a == v) {
                continue;
            }
            let enc = if json_ok && self.rng.chance(50) {
                "json"
            } else {
                "binary"
            };
            arms.push((v, enc.to_string()));
        }
        let json = arms.iter().any(|(_, e)| e == "json");
        if json {
            self.json_needed.push(target);
        }
        let name = self.field_name(used);
        let kind = Kind::Switch {
            ty: target,
            disc,
            arms,
        };
        let mut f = Field {
            kind,
            ..Field::value(name.clone(), Ty::Bool)
        };
        let need = self.field_bound(&f, 0);
        if json || self.rng.chance(40) {
            if self.rng.chance(50) {
                let n = self.local_name(used);
                let x = self.pfx(need);
                out.push(Field {
                    kind: Kind::Len(x, LenT::Field(name)),
                    ..Field::value(n.clone(), Ty::Bool)
                });
                f.region = Region::SizedBy(n);
            } else {
                f.region = Region::Prefixed(self.pfx(need));
            }
        }
        out.push(f);
    }

    /// The fields of a struct (`me` is its index, for recursion).
    fn struct_fields(&mut self, me: usize, used: &mut Vec<String>) -> Vec<Field> {
        let mut out = Vec::new();
        let units = self.rng.range(1, 5);
        let region_at = self.rng.chance(25).then(|| self.rng.below(units));
        let mut from: Option<(usize, usize)> = None;
        let mut region = false;
        for u in 0..units {
            if Some(u) == region_at {
                let n = self.local_name(used);
                let x = self.pfx(1 << 30);
                out.push(Field {
                    kind: Kind::Len(x, LenT::From(None)),
                    ..Field::value(n, Ty::Bool)
                });
                if self.rng.chance(40) {
                    let at = out.len() - 1;
                    if self.rng.chance(50) {
                        let f = self.field_name(used);
                        let t = self.inline_ty(1);
                        out.push(Field::value(f, t));
                    }
                    from = Some((at, out.len()));
                }
                region = true;
            }
            self.unit(&mut out, used, me, 0);
        }
        if region && self.rng.chance(50) {
            let name = self.field_name(used);
            let t = self.region_ty(1);
            out.push(Field {
                region: Region::Rest,
                ..Field::value(name, t)
            });
        } else if region && self.rng.chance(40) {
            // An optional tail: there when bytes are left in the region.
            let name = self.field_name(used);
            let t = self.inline_ty(1);
            out.push(Field {
                cond: Some(CondM::More),
                ..Field::value(name, t)
            });
        }
        if let Some((at, target)) = from
            && target < out.len()
        {
            let t = out[target].name.clone();
            if let Kind::Len(_, of) = &mut out[at].kind {
                *of = LenT::From(Some(t));
            }
        }
        out
    }

    fn gen_struct(&mut self) -> usize {
        let name = self.type_name();
        let doc = self.doc();
        self.p.defs.push(Def::Struct(Struct {
            name,
            doc,
            fields: vec![],
            header: false,
            frame: false,
            frame_unnamed: false,
            json: None,
        }));
        let me = self.p.defs.len() - 1;
        let mut used = Vec::new();
        let mut fields = self.struct_fields(me, &mut used);
        if (self.skip)("json-struct-without-stored-fields")
            && !fields.iter().any(|f| matches!(f.kind, Kind::Value(_)))
        {
            let n = self.field_name(&mut used);
            let t = self.inline_ty(1);
            // First: a `rest` field stays last.
            fields.insert(0, Field::value(n, t));
        }
        if let Def::Struct(s) = &mut self.p.defs[me] {
            s.fields = fields;
        }
        self.structs.push(me);
        me
    }

    /// A union of two or three new structs, each starting with a word whose high nibble
    /// is its own constant.
    fn gen_union(&mut self) -> usize {
        self.variable += 1;
        let name = self.type_name();
        let doc = self.doc();
        let n = self.rng.range(2, 3);
        let mut keys: Vec<u64> = (0..16).collect();
        self.rng.shuffle(&mut keys);
        let mut arms = Vec::new();
        for key in keys.into_iter().take(n) {
            let sname = self.type_name();
            self.p.defs.push(Def::Struct(Struct {
                name: sname,
                doc: None,
                fields: vec![],
                header: false,
                frame: false,
                frame_unnamed: false,
                json: None,
            }));
            let me = self.p.defs.len() - 1;
            let mut used = Vec::new();
            let word = self.local_name(&mut used);
            let lead = if self.rng.chance(40) {
                let low = self.rng.below(16) as i128;
                Field {
                    kind: Kind::Const(IntT::plain(1, false), (key as i128) << 4 | low),
                    ..Field::value(word, Ty::Bool)
                }
            } else {
                let (k, low) = (self.local_name(&mut used), self.local_name(&mut used));
                let low_value = if self.rng.chance(50) {
                    PartV::Stored
                } else {
                    PartV::Const(self.rng.below(16) as u64)
                };
                let mut parts = vec![
                    Part {
                        name: k,
                        doc: None,
                        ty: Ty::Int(IntT::plain(1, false)),
                        lo: 4,
                        hi: 8,
                        value: PartV::Const(key),
                        echo: false,
                    },
                    Part {
                        name: low,
                        doc: None,
                        ty: Ty::Int(IntT::plain(1, false)),
                        lo: 0,
                        hi: 4,
                        value: low_value,
                        echo: false,
                    },
                ];
                self.rng.shuffle(&mut parts);
                Field {
                    kind: Kind::Bits(IntT::plain(1, false), parts),
                    ..Field::value(word, Ty::Bool)
                }
            };
            let mut fields = vec![lead];
            fields.extend(self.struct_fields(me, &mut used));
            if let Def::Struct(s) = &mut self.p.defs[me] {
                s.fields = fields;
            }
            arms.push(me);
        }
        self.p.defs.push(Def::Union { name, doc, arms });
        self.p.defs.len() - 1
    }

    /// A tagged list of one to four members.
    fn gen_tagged(&mut self) -> usize {
        self.variable += 1;
        let name = self.type_name();
        let doc = self.doc();
        let tag = match self.rng.below(3) {
            0 => Pfx::Int(self.uint(2)),
            1 => Pfx::Varint,
            _ => Pfx::VarintMax(127),
        };
        let mut tags: Vec<u64> = (0..120).collect();
        self.rng.shuffle(&mut tags);
        let mut used = Vec::new();
        let members = (0..self.rng.range(1, 4))
            .map(|k| {
                let ty = match self.rng.below(6) {
                    0 => Ty::Int(self.int()),
                    1 => Ty::Varint(self.rng.chance(50)),
                    2 => Ty::VarintMax(16_383),
                    3 => Ty::Bool,
                    4 => Ty::Str(Some(self.pfx(MAX_TEXT)), None),
                    _ => Ty::Bytes(Some(self.pfx(MAX_TEXT)), None),
                };
                Member {
                    tag: tags[k],
                    name: self.field_name(&mut used),
                    ty,
                    repeated: self.rng.chance(30),
                }
            })
            .collect();
        self.p.defs.push(Def::Tagged {
            name,
            doc,
            tag,
            members,
        });
        self.p.defs.len() - 1
    }

    fn gen_header(&mut self) -> usize {
        let name = self.type_name();
        let doc = self.doc();
        let mut used = Vec::new();
        let n = self.rng.range(1, 4);
        let mut fields = Vec::new();
        if (self.skip)("header-field-named-map") {
            used.push("map".into());
        }
        for _ in 0..n {
            let fname = self.field_name(&mut used);
            let mut t = match self.rng.below(6) {
                0 => Ty::Int(self.int()),
                1 => Ty::Varint(self.rng.chance(50)),
                2 => Ty::Bool,
                3 => {
                    let named: Vec<usize> = self.enums().into_iter().chain(self.flags()).collect();
                    if named.is_empty() {
                        Ty::Bool
                    } else {
                        Ty::Named(*self.rng.pick(&named))
                    }
                }
                _ => {
                    if self.rng.chance(50) {
                        Ty::Str(None, None)
                    } else {
                        Ty::Str(Some(self.pfx(MAX_TEXT)), None)
                    }
                }
            };
            if self.rng.chance(30) {
                t = Ty::Opt(Box::new(t));
            }
            let doc = self.doc();
            fields.push(Field {
                doc,
                ..Field::value(fname, t)
            });
        }
        self.p.defs.push(Def::Struct(Struct {
            name,
            doc,
            fields,
            header: true,
            frame: false,
            frame_unnamed: false,
            json: None,
        }));
        self.p.defs.len() - 1
    }

    /// Whether struct `i` can be written as JSON: it holds no union or tagged list, nor does
    /// any struct it holds (E0380).
    fn json_ok(&self, i: usize) -> bool {
        if !(self.skip)("json-union-or-tagged") {
            return true;
        }
        let mut seen = vec![i];
        let mut k = 0;
        while k < seen.len() {
            let Def::Struct(s) = &self.p.defs[seen[k]] else {
                return false;
            };
            k += 1;
            let mut held = Vec::new();
            for f in &s.fields {
                match &f.kind {
                    Kind::Value(t) => named_in(t, &mut held),
                    Kind::Switch { ty, .. } => held.push(*ty),
                    _ => {}
                }
            }
            for n in held {
                match &self.p.defs[n] {
                    Def::Union { .. } | Def::Tagged { .. } => return false,
                    Def::Struct(_) if !seen.contains(&n) => seen.push(n),
                    _ => {}
                }
            }
        }
        true
    }

    fn json(&mut self, i: usize) {
        let Def::Struct(s) = &self.p.defs[i] else {
            return;
        };
        if s.json.is_some() || s.header || s.frame || !self.json_ok(i) {
            return;
        }
        let mut stored: Vec<(String, Ty)> = Vec::new();
        let mut nested = Vec::new();
        for f in &s.fields {
            match &f.kind {
                Kind::Value(t) => {
                    stored.push((f.name.clone(), t.clone()));
                    named_in(t, &mut nested);
                }
                Kind::Bits(_, parts) => {
                    for p in parts.iter().filter(|p| p.value == PartV::Stored) {
                        stored.push((p.name.clone(), p.ty.clone()));
                    }
                }
                // In JSON, a nested struct under its own key.
                Kind::Switch { ty, .. } => {
                    stored.push((f.name.clone(), Ty::Named(*ty)));
                    nested.push(*ty);
                }
                _ => {}
            }
        }
        let mut j = Json::default();
        if self.rng.chance(50) {
            let case = *self.rng.pick(&[
                "camelCase",
                "snake_case",
                "PascalCase",
                "SCREAMING_SNAKE_CASE",
                "kebab-case",
                "lowercase",
            ]);
            if case != "kebab-case" || !(self.skip)("rename-all-kebab-case") {
                j.rename_all = Some(case);
            }
        }
        let mut wires: Vec<String> = Vec::new();
        for (k, (name, t)) in stored.iter().enumerate() {
            let auto = j.rename_all.map_or(name.clone(), |c| rename_case(name, c));
            if wires.contains(&auto) || self.rng.chance(15) {
                let w = format!("w{k}_{}", self.rng.below(100));
                j.renames.push((name.clone(), w.clone()));
                wires.push(w);
            } else {
                wires.push(auto);
            }
            if let Ty::Named(e) = strip_opt(t)
                && matches!(self.p.defs[*e], Def::Enum { .. })
                && self.rng.chance(50)
            {
                let how = if self.rng.chance(70) {
                    "name"
                } else {
                    "number"
                };
                j.as_rules.push((name.clone(), how));
            }
        }
        if self.rng.chance(30) {
            j.flags.push("sort_keys");
        }
        if self.rng.chance(30) {
            j.flags.push("omit_none");
        }
        if self.rng.chance(30) {
            let v = if self.rng.chance(50) {
                "\"fixed\"".to_string()
            } else {
                self.rng.below(1000).to_string()
            };
            j.constants
                .push((format!("const_{}", self.rng.below(10)), v));
        }
        if let Def::Struct(s) = &mut self.p.defs[i] {
            s.json = Some(j);
        }
        for n in nested {
            if matches!(self.p.defs[n], Def::Struct(_)) {
                self.json(n);
            }
        }
    }

    // ----- the frame, services and the rest -----

    fn frame(&mut self, services: bool) -> usize {
        let unnamed = self.rng.chance(40) && !self.taken.iter().any(|t| t == "Frame");
        let name = if unnamed {
            self.take("Frame");
            "Frame".to_string()
        } else {
            self.type_name()
        };
        self.take(&format!("{name}Codec"));
        let doc = self.doc();
        self.p.defs.push(Def::Struct(Struct {
            name,
            doc,
            fields: vec![],
            header: false,
            frame: true,
            frame_unnamed: unnamed,
            json: None,
        }));
        let me = self.p.defs.len() - 1;
        let mut used = Vec::new();
        let mut fields = Vec::new();
        if self.rng.chance(60) {
            let n = self.field_name(&mut used);
            let i = self.int();
            let v = self.value_in(i);
            fields.push(Field {
                kind: Kind::Const(i, v),
                ..Field::value(n, Ty::Bool)
            });
        }
        for _ in 0..self.rng.below(3) {
            let n = self.field_name(&mut used);
            let t = match self.rng.below(4) {
                0 => Ty::Int(self.int()),
                1 => Ty::Varint(self.rng.chance(50)),
                2 => Ty::Bool,
                _ => {
                    let named: Vec<usize> = self.enums().into_iter().chain(self.flags()).collect();
                    if named.is_empty() {
                        Ty::Bool
                    } else {
                        Ty::Named(*self.rng.pick(&named))
                    }
                }
            };
            fields.push(Field::value(n, t));
        }
        let n = self.local_name(&mut used);
        let x = loop {
            let x = self.pfx(1 << 20);
            if x.max_len() >= 1 << 20 {
                break x;
            }
        };
        fields.push(Field {
            kind: Kind::Len(x, LenT::From(None)),
            doc: self.doc(),
            ..Field::value(n, Ty::Bool)
        });
        if services {
            let code = self.field_name(&mut used);
            let ct = loop {
                let i = self.int();
                if i.bytes >= 2 {
                    break i;
                }
            };
            fields.push(Field {
                markers: vec!["code"],
                ..Field::value(code, Ty::Int(ct))
            });
            let id = self.field_name(&mut used);
            let it = if self.rng.chance(30) {
                Ty::Varint(false)
            } else {
                Ty::Int(self.int())
            };
            fields.push(Field {
                markers: vec!["correlation"],
                ..Field::value(id, it)
            });
            let kf = self.gen_flags(true);
            let kn = self.field_name(&mut used);
            fields.push(Field {
                markers: vec!["kind"],
                ..Field::value(kn, Ty::Named(kf))
            });
        }
        for _ in 0..self.rng.below(3) {
            self.unit(&mut fields, &mut used, me, 1);
        }
        if services {
            for _ in 0..self.rng.range(1, 2) {
                let n = self.field_name(&mut used);
                let k = Ty::Str(Some(self.pfx(MAX_TEXT)), None);
                let v = Ty::Str(Some(self.pfx(MAX_TEXT)), None);
                let c = self.count();
                fields.push(Field::value(n, Ty::Map(Box::new(k), Box::new(v), c)));
            }
            let n = self.field_name(&mut used);
            fields.push(Field {
                region: Region::Rest,
                // A server answers errors in the `@message` field.
                markers: vec!["message"],
                ..Field::value(n, Ty::Bytes(None, None))
            });
        } else if self.rng.chance(50) {
            let n = self.field_name(&mut used);
            let t = self.region_ty(1);
            fields.push(Field {
                region: Region::Rest,
                ..Field::value(n, t)
            });
        }
        if let Def::Struct(s) = &mut self.p.defs[me] {
            s.fields = fields;
        }
        me
    }

    fn code_type(&self) -> IntT {
        let f = self.p.st(self.p.frame.expect("services have a frame"));
        for fl in &f.fields {
            if fl.has("code")
                && let Kind::Value(Ty::Int(i)) = &fl.kind
            {
                return *i;
            }
        }
        IntT::plain(2, false)
    }

    fn carriers(&self) -> Vec<String> {
        let f = self.p.st(self.p.frame.expect("services have a frame"));
        f.fields
            .iter()
            .filter(|fl| {
                fl.region == Region::Inline
                    && matches!(&fl.kind, Kind::Value(Ty::Map(k, v, _))
                        if matches!(**k, Ty::Str(..)) && matches!(**v, Ty::Str(..)))
            })
            .map(|fl| fl.name.clone())
            .collect()
    }

    fn has_oneway_bit(&self) -> bool {
        self.p.defs.iter().any(|d| match d {
            Def::Flags { bits, .. } => bits.iter().any(|b| b.attrs.iter().any(|a| a == "@oneway")),
            _ => false,
        })
    }

    fn payload(&mut self, headers: &[usize], carriers: &[String]) -> Payload {
        let mut p = Payload::default();
        if !headers.is_empty() && self.rng.chance(50) {
            p.header = Some((*self.rng.pick(headers), self.rng.pick(carriers).clone()));
        }
        if self.rng.chance(70) {
            let plain: Vec<usize> = self.structs.clone();
            p.body = if plain.is_empty() || self.rng.chance(40) {
                Some((None, false))
            } else {
                let s = *self.rng.pick(&plain);
                let json = self.json_ok(s) && self.rng.chance(40);
                if json {
                    self.json_needed.push(s);
                }
                Some((Some(s), json))
            };
        }
        p
    }

    fn services(&mut self, headers: &[usize]) {
        let code = self.code_type();
        let carriers = self.carriers();
        let oneway_ok = self.has_oneway_bit();
        let mut codes: Vec<i128> = Vec::new();
        let mut rpc_names: Vec<String> = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            let sname = loop {
                let n = self.type_name();
                let p = pascal(&n);
                // The server trait is named `{p}`: not a type's name (E0343).
                if (p == n || !self.taken.contains(&p))
                    && self.take(&format!("{p}Now"))
                    && self.take(&format!("{p}Client"))
                {
                    self.take(&p);
                    break n;
                }
            };
            let doc = self.doc();
            let mut rpcs = Vec::new();
            for _ in 0..self.rng.range(1, 4) {
                let name = loop {
                    let mut n = self.rng.pick(RPCS).to_string();
                    if self.rng.chance(20) {
                        n = format!("{n}{}", self.rng.below(5));
                    }
                    if snake(&n) == "new" && (self.skip)("request-named-new") {
                        continue;
                    }
                    let p = pascal(&n);
                    let key = screaming(&n);
                    if rpc_names.contains(&key) || rpc_names.contains(&snake(&n)) {
                        continue;
                    }
                    if self
                        .taken
                        .iter()
                        .any(|t| *t == format!("{p}Request") || *t == format!("{p}Response"))
                    {
                        continue;
                    }
                    self.take(&format!("{p}Request"));
                    self.take(&format!("{p}Response"));
                    rpc_names.push(key);
                    rpc_names.push(snake(&n));
                    break n;
                };
                let c = loop {
                    let v = self.value_in(code);
                    if !codes.contains(&v) {
                        codes.push(v);
                        break v;
                    }
                };
                let oneway = oneway_ok && self.rng.chance(25);
                let request = self.payload(headers, &carriers);
                let response = if oneway {
                    None
                } else if self.rng.chance(70) {
                    Some(self.payload(headers, &carriers))
                } else {
                    None
                };
                let doc = if (self.skip)("undocumented-request") {
                    Some(self.rng.pick(DOCS).to_string())
                } else {
                    self.doc()
                };
                rpcs.push(Rpc {
                    name,
                    doc,
                    code: c,
                    oneway,
                    request,
                    response,
                });
            }
            self.p.services.push(Service {
                name: sname,
                doc,
                rpcs,
            });
        }
        if self.rng.chance(60) {
            let name = self.type_name();
            let doc = self.doc();
            let mut used = vec!["Unknown".to_string()];
            let mut variants: Vec<Variant> = Vec::new();
            let mut values: Vec<i128> = Vec::new();
            for attr in ["@success", "@system_error", "@not_supported", "@busy", ""] {
                if !attr.is_empty() && attr != "@success" && self.rng.chance(30) {
                    continue;
                }
                let v = loop {
                    let v = if self.rng.chance(60) {
                        variants.len() as i128
                    } else {
                        self.value_in(code)
                    };
                    if v > i128::from(i64::MAX) && (self.skip)("status-code-over-i64") {
                        continue;
                    }
                    if !values.contains(&v) {
                        break v;
                    }
                };
                values.push(v);
                let mut attrs = Vec::new();
                if !attr.is_empty() {
                    if attr == "@not_supported" && self.rng.chance(40) {
                        attrs.push("@not_supported(\" request type {code} not supported\")".into());
                    } else {
                        attrs.push(attr.to_string());
                    }
                }
                let n = self.variant_name(&mut used, pascal);
                variants.push(Variant {
                    name: n,
                    doc: self.doc(),
                    value: v,
                    attrs,
                });
            }
            self.p.defs.push(Def::Enum {
                name,
                doc,
                repr: code,
                open: true,
                variants,
                responses: true,
            });
            self.p.responses = Some(self.p.defs.len() - 1);
        }
    }

    fn handshake(&mut self) {
        let vt = self.uint(4);
        let features = if self.rng.chance(60) || (self.skip)("handshake-without-features") {
            Some(self.gen_flags(false))
        } else {
            None
        };
        let mk = |g: &mut Gen, role: u8| -> usize {
            let name = g.type_name();
            let mut used = Vec::new();
            let mut fields = Vec::new();
            let tag = g.field_name(&mut used);
            let (ti, tv) = if role == 0 {
                (
                    IntT::plain(4, false),
                    0x5057_4E48 + i128::from(g.rng.below(1000) as u32),
                )
            } else {
                (IntT::plain(1, false), i128::from(role))
            };
            fields.push(Field {
                kind: Kind::Const(ti, tv),
                ..Field::value(tag, Ty::Bool)
            });
            let markers: &[&'static str] = match role {
                1 => &["version"],
                _ => &["min_version", "max_version"],
            };
            for m in markers {
                let n = g.field_name(&mut used);
                fields.push(Field {
                    markers: vec![m],
                    ..Field::value(n, Ty::Int(vt))
                });
            }
            if role < 2
                && let Some(f) = features
            {
                let n = g.field_name(&mut used);
                fields.push(Field {
                    markers: vec!["features"],
                    ..Field::value(n, Ty::Named(f))
                });
            }
            if role == 2 {
                let n = g.field_name(&mut used);
                fields.push(Field::value(n, Ty::Str(Some(Pfx::Varint), Some(256))));
            }
            let doc = g.doc();
            g.p.defs.push(Def::Struct(Struct {
                name,
                doc,
                fields,
                header: false,
                frame: false,
                frame_unnamed: false,
                json: None,
            }));
            g.structs.push(g.p.defs.len() - 1);
            g.p.defs.len() - 1
        };
        let hello = mk(self, 0);
        let accept = mk(self, 1);
        let reject = self.rng.chance(70).then(|| mk(self, 2));
        self.p.handshake = Some(Handshake {
            doc: self.doc(),
            hello,
            accept,
            reject,
            choose: self
                .rng
                .chance(70)
                .then(|| *self.rng.pick(&["highest", "lowest"])),
            timeout_ms: self.rng.chance(50).then(|| self.rng.below(10_000) as u64),
        });
    }

    /// Builds a whole protocol.
    pub fn protocol(mut self) -> Proto {
        let pname = self.rng.pick(PROTOCOLS).to_string();
        self.take(&format!("{}Protocol", pascal(&pname)));
        self.p.name = pname;
        self.p.id = self
            .rng
            .chance(70)
            .then(|| format!("polywire-random-{}", self.rng.below(1000)));
        self.p.doc = self.doc();
        self.p.endian = match self.rng.below(3) {
            0 => Some("big"),
            1 => Some("little"),
            _ => None,
        };
        let handshake = self.rng.chance(25);
        if handshake || self.rng.chance(40) {
            let a = self.rng.range(0, 3) as u32;
            let b = a + self.rng.below(4) as u32;
            self.p.versions = Some((a, b, self.rng.chance(60)));
        }
        if self.rng.chance(50) {
            for (n, lo) in [
                ("max_frame_len", 1u64 << 20),
                ("max_string_len", 1 << 16),
                ("max_collection_len", 1 << 8),
            ] {
                if self.rng.chance(60) {
                    self.p.limits.push((n, lo + self.rng.below(1 << 16) as u64));
                }
            }
        }
        for _ in 0..self.rng.below(3) {
            self.gen_enum();
        }
        for _ in 0..self.rng.below(2) {
            self.gen_flags(false);
        }
        let n = self.rng.range(1, 4);
        for _ in 0..n {
            self.gen_struct();
        }
        if handshake {
            self.handshake();
        }
        let has_frame = self.rng.chance(85);
        let services = has_frame && self.rng.chance(50);
        let mut headers = Vec::new();
        if services {
            for _ in 0..self.rng.range(0, 2) {
                headers.push(self.gen_header());
            }
        }
        if has_frame {
            // A handshake runs on a frame with the roles a service needs too.
            self.p.frame = Some(self.frame(services || handshake));
        }
        if services {
            self.services(&headers);
        }
        let mut need = std::mem::take(&mut self.json_needed);
        for i in 0..self.p.defs.len() {
            if matches!(&self.p.defs[i], Def::Struct(s) if !s.header && !s.frame)
                && self.rng.chance(15)
            {
                need.push(i);
            }
        }
        for i in need {
            self.json(i);
        }
        if self.rng.chance(35) {
            let alts = self.rng.range(1, 2);
            for _ in 0..alts {
                let mut rules = Vec::new();
                for _ in 0..self.rng.range(1, 2) {
                    let as_string = self.rng.chance(50);
                    let bytes: Vec<u8> = (0..self.rng.range(1, 4))
                        .map(|_| {
                            if as_string {
                                b'A' + self.rng.below(26) as u8
                            } else {
                                self.rng.next_u64() as u8
                            }
                        })
                        .collect();
                    let at = self.rng.chance(70).then(|| self.rng.below(8));
                    rules.push(DetectRule {
                        bytes,
                        as_string,
                        at,
                    });
                }
                self.p.detect.push(rules);
            }
        }
        let mut order: Vec<(usize, bool)> = (0..self.p.defs.len())
            .map(|i| {
                let outside = match &self.p.defs[i] {
                    Def::Struct(s) => !s.frame && self.rng.chance(15),
                    Def::Union { .. } | Def::Tagged { .. } => self.rng.chance(15),
                    Def::Enum { responses, .. } => !responses && self.rng.chance(15),
                    Def::Flags { .. } => self.rng.chance(15),
                };
                (i, outside)
            })
            .collect();
        if self.rng.chance(50) {
            self.rng.shuffle(&mut order);
        }
        self.p.order = order;
        self.p
    }
}

fn strip_opt(t: &Ty) -> &Ty {
    match t {
        Ty::Opt(i) => i,
        t => t,
    }
}

fn named_in(t: &Ty, out: &mut Vec<usize>) {
    match t {
        Ty::Named(i) => out.push(*i),
        Ty::List(e, _) | Ty::Opt(e) => named_in(e, out),
        Ty::Map(k, v, _) => {
            named_in(k, out);
            named_in(v, out);
        }
        _ => {}
    }
}
