//! Random values of a protocol's types as Rust expressions, built through the generated
//! types' public API, and the round-trip tests that use them.

use super::generate::{MAX_ITEMS, MAX_TEXT};
use super::model::*;
use super::rng::Rng;
use polywire_codegen::emit::rust::{ident, pascal};
use std::fmt::Write;

/// What a value must satisfy beyond its type.
#[derive(Debug, Clone, Default)]
struct Cons {
    /// One of these (a discriminator).
    choices: Option<Vec<u64>>,
    /// Fits in this many bits (a bit part).
    bits: Option<u32>,
    /// Not empty (an `@empty_is_none` optional's inner value).
    nonempty: bool,
    /// At most this many bytes (a declared `max`).
    max_len: Option<u64>,
    /// The Rust type to write an integer as (`as i32`).
    rust: Option<&'static str>,
}

const TEXTS: &[&str] = &[
    "", "a", "hello", "héllo", "日本", "\"q\"", "back\\", "tab\t", "0", "✓✓", "12345678",
];

/// Value writer for one protocol.
pub struct Values<'a> {
    p: &'a Proto,
    rng: Rng,
    /// Path of the protocol's module (`crate::p0001`).
    m: String,
}

impl<'a> Values<'a> {
    /// Values of `p`'s types, which live in module `m`.
    pub fn new(p: &'a Proto, seed: u64, m: &str) -> Self {
        Values {
            p,
            rng: Rng::new(seed),
            m: m.to_string(),
        }
    }

    fn int(&mut self, i: IntT, c: &Cons) -> String {
        let rust = c.rust.unwrap_or(i.rust());
        if let Some(ch) = &c.choices {
            return format!("{}{rust}", self.rng.pick(ch));
        }
        let (lo, hi) = match c.bits {
            // A part of a signed type holds a signed value of its width.
            Some(b) => (
                0i128,
                ((1i128 << (b - u32::from(i.signed)).min(100)) - 1).min(i.max()),
            ),
            None => (i.min(), i.max()),
        };
        let v = match self.rng.below(6) {
            0 => lo,
            1 => hi,
            2 => 0.max(lo),
            3 => 1.min(hi),
            _ => {
                let span = (hi - lo) as u128 + 1;
                lo + (u128::from(self.rng.next_u64()) % span) as i128
            }
        };
        if v < 0 {
            format!("({v}{rust})")
        } else {
            format!("{v}{rust}")
        }
    }

    fn text(&mut self, c: &Cons) -> String {
        let max = c.max_len.unwrap_or(MAX_TEXT);
        loop {
            let t = *self.rng.pick(TEXTS);
            if t.len() as u64 <= max && !(c.nonempty && t.is_empty()) {
                return format!("::polywire::Str::from({t:?})");
            }
        }
    }

    fn bytes(&mut self, c: &Cons) -> String {
        let max = c.max_len.unwrap_or(MAX_TEXT).min(MAX_TEXT) as usize;
        let lo = usize::from(c.nonempty);
        let n = self.rng.range(lo, max.max(lo));
        let b: Vec<String> = (0..n)
            .map(|_| (self.rng.next_u64() as u8).to_string())
            .collect();
        format!("::polywire::bytes::Bytes::from_static(&[{}])", b.join(", "))
    }

    /// A value of `t`.
    fn value(&mut self, t: &Ty, c: &Cons, depth: u32) -> String {
        match t {
            Ty::Int(i) => self.int(*i, c),
            Ty::Varint(signed) => {
                let i = IntT::plain(8, *signed);
                self.int(i, c)
            }
            Ty::VarintMax(m) => {
                let v = match self.rng.below(3) {
                    0 => *m,
                    1 => 0,
                    _ => self.rng.next_u64() % m.saturating_add(1).max(1),
                };
                format!("{v}u64")
            }
            Ty::Bool => {
                if let Some(ch) = &c.choices {
                    return (*self.rng.pick(ch) != 0).to_string();
                }
                self.rng.chance(50).to_string()
            }
            Ty::Str(_, max) => {
                let c = Cons {
                    max_len: max
                        .map(|m| m.min(c.max_len.unwrap_or(u64::MAX)))
                        .or(c.max_len),
                    ..c.clone()
                };
                self.text(&c)
            }
            Ty::Bytes(_, max) => {
                let c = Cons {
                    max_len: max
                        .map(|m| m.min(c.max_len.unwrap_or(u64::MAX)))
                        .or(c.max_len),
                    ..c.clone()
                };
                self.bytes(&c)
            }
            Ty::List(e, _) => {
                let recursive = depth >= 2;
                let lo = usize::from(c.nonempty);
                let n = if recursive {
                    lo
                } else {
                    self.rng.range(lo, MAX_ITEMS as usize)
                };
                let items: Vec<String> = (0..n)
                    .map(|_| self.value(e, &Cons::default(), depth + 1))
                    .collect();
                format!("::std::vec![{}]", items.join(", "))
            }
            Ty::Map(k, v, _) => {
                let lo = usize::from(c.nonempty);
                let n = if depth >= 2 {
                    lo
                } else {
                    self.rng.range(lo, (MAX_ITEMS as usize).div_ceil(2))
                };
                let mut s = String::from("{ let mut m = ::polywire::OrderedMap::new();");
                for _ in 0..n {
                    let kv = self.value(k, &Cons::default(), depth + 1);
                    let vv = self.value(v, &Cons::default(), depth + 1);
                    let _ = write!(s, " m.push({kv}, {vv});");
                }
                s.push_str(" m }");
                s
            }
            Ty::Opt(inner) => {
                if !c.nonempty && self.rng.chance(30) {
                    "::std::option::Option::None".into()
                } else {
                    let inner_c = Cons {
                        nonempty: c.nonempty,
                        ..Cons::default()
                    };
                    format!(
                        "::std::option::Option::Some({})",
                        self.value(inner, &inner_c, depth + 1)
                    )
                }
            }
            Ty::Named(i) => self.named(*i, c, depth),
        }
    }

    fn named(&mut self, i: usize, c: &Cons, depth: u32) -> String {
        let m = self.m.clone();
        match &self.p.defs[i] {
            Def::Enum {
                name,
                repr,
                open,
                variants,
                ..
            } => {
                let fits = |v: i128| {
                    c.bits
                        .is_none_or(|b| v >= 0 && v < (1i128 << (b - u32::from(repr.signed))))
                };
                let named: Vec<&Variant> = variants.iter().filter(|v| fits(v.value)).collect();
                if !named.is_empty() && (!*open || self.rng.chance(70)) {
                    let v = named[self.rng.below(named.len())];
                    return format!("{m}::{name}::{}", pascal(&v.name));
                }
                // An unknown value of an open enum.
                for _ in 0..64 {
                    let v = self.int(*repr, c);
                    let n: i128 = v
                        .trim_matches(|ch| ch == '(' || ch == ')')
                        .trim_end_matches(repr.rust())
                        .parse()
                        .expect("an integer literal");
                    if !variants.iter().any(|x| x.value == n) {
                        return format!("{m}::{name}::Unknown({v})");
                    }
                }
                match named.first() {
                    Some(v) => format!("{m}::{name}::{}", pascal(&v.name)),
                    None => format!("{m}::{name}::Unknown(0{})", repr.rust()),
                }
            }
            Def::Flags { name, repr, .. } => {
                let mut c = c.clone();
                if repr.signed && repr.bytes == 3 && super::skipped("i24-flags-top-bit") {
                    c.bits = Some(c.bits.map_or(23, |b| b.min(23)));
                }
                let v = self.int(*repr, &c);
                format!("{m}::{name}::from_bits({v})")
            }
            Def::Struct(s) => self.struct_value(s, depth),
            Def::Union { name, arms, .. } => {
                let a = *self.rng.pick(arms);
                let s = self.p.st(a);
                let v = self.struct_value(s, depth + 1);
                format!("{m}::{name}::{}({v})", s.name)
            }
            Def::Tagged { name, members, .. } => {
                let mut out = format!("{m}::{name} {{");
                for mb in members {
                    let v = if mb.repeated {
                        let n = self.rng.range(0, MAX_ITEMS as usize);
                        let items: Vec<String> = (0..n)
                            .map(|_| self.value(&mb.ty, &Cons::default(), depth + 1))
                            .collect();
                        format!("::std::vec![{}]", items.join(", "))
                    } else if self.rng.chance(40) {
                        "::std::option::Option::None".into()
                    } else {
                        format!(
                            "::std::option::Option::Some({})",
                            self.value(&mb.ty, &Cons::default(), depth + 1)
                        )
                    };
                    let _ = write!(out, " {}: {v},", ident(&mb.name));
                }
                out.push_str(" }");
                // Generated code holds a tagged list in a `Box` wherever it is named.
                format!("::std::boxed::Box::new({out})")
            }
        }
    }

    /// A value of struct `s`.
    fn struct_value(&mut self, s: &Struct, depth: u32) -> String {
        let discs = |name: &str| -> Option<Vec<u64>> {
            s.fields.iter().find_map(|f| match &f.kind {
                Kind::Switch { disc, arms, .. } if disc == name => {
                    Some(arms.iter().map(|(v, _)| *v).collect())
                }
                _ => None,
            })
        };
        let mut out = format!("{}::{} {{", self.m, s.name);
        // Earlier integers' values, for conditions that compare them.
        let mut ints: Vec<(String, i128)> = Vec::new();
        for f in &s.fields {
            match &f.kind {
                Kind::Value(t) => {
                    let c = Cons {
                        choices: discs(&f.name),
                        nonempty: f.has("empty_is_none"),
                        rust: f.widen.map(|w| w.rust()),
                        ..Cons::default()
                    };
                    let present = match &f.cond {
                        None => true,
                        Some(CondM::Present(_) | CondM::More) => self.rng.chance(60),
                        Some(CondM::Cmp { field, op, lit }) => {
                            let v = ints.iter().find(|(n, _)| n == field).map_or(0, |x| x.1);
                            CondM::holds(op, v, *lit)
                        }
                    };
                    let mut v = self.value(t, &c, depth);
                    if let Ty::Int(_) = t
                        && f.widen.is_none()
                        && f.cond.is_none()
                    {
                        let n: i128 = v
                            .trim_matches(|ch| ch == '(' || ch == ')')
                            .trim_end_matches(t_rust(t))
                            .parse()
                            .expect("an integer literal");
                        ints.push((f.name.clone(), n));
                    }
                    if f.cond.is_some() {
                        v = if present {
                            format!("::std::option::Option::Some({v})")
                        } else {
                            "::std::option::Option::None".into()
                        };
                    }
                    let _ = write!(out, " {}: {v},", ident(&f.name));
                }
                Kind::Bits(_, parts) => {
                    for p in parts.iter().filter(|p| p.value == PartV::Stored) {
                        let c = Cons {
                            choices: discs(&p.name),
                            bits: Some(p.hi - p.lo),
                            ..Cons::default()
                        };
                        let v = self.value(&p.ty, &c, depth);
                        let _ = write!(out, " {}: {v},", ident(&p.name));
                    }
                }
                Kind::Switch { ty, .. } => {
                    let v = self.named(*ty, &Cons::default(), depth + 1);
                    let _ = write!(out, " {}: {v},", ident(&f.name));
                }
                Kind::Const(..) | Kind::Len(..) => {}
            }
        }
        out.push_str(" }");
        out
    }

    fn header_value(&mut self, h: usize) -> String {
        let s = self.p.st(h);
        let mut out = format!("{}::{} {{", self.m, s.name);
        for f in &s.fields {
            if let Kind::Value(t) = &f.kind {
                let v = self.value(t, &Cons::default(), 1);
                let _ = write!(out, " {}: {v},", ident(&f.name));
            }
        }
        out.push_str(" }");
        out
    }

    /// The body of the protocol's test module.
    pub fn tests(&mut self, name: &str) -> String {
        let m = self.m.clone();
        let p = self.p;
        let lim = format!("{m}::protocol_info::LIMITS");
        let mut t = String::new();
        let _ = writeln!(t, "//! Round trips of protocol `{name}`.");
        // The values are written plainly (`m.push((-1i8), ..)`, `let mut m` of an empty
        // map); only the generated code must be free of warnings.
        let _ = writeln!(t, "#![allow(unused_parens, unused_mut)]");
        let _ = writeln!(t, "#[test]\nfn messages_round_trip() {{");
        for def in &p.defs {
            let Def::Struct(s) = def else { continue };
            if s.header {
                continue;
            }
            for k in 0..3 {
                let v = self.struct_value(s, 0);
                let what = format!("{}#{k}", s.name);
                let _ = writeln!(
                    t,
                    "    {{ let v: {m}::{n} = {v}; let len = v.encoded_len(); crate::support::check_msg(&v, len, {lim}, {what:?}); }}",
                    n = s.name
                );
                if s.frame {
                    let _ = writeln!(
                        t,
                        "    {{ let v: {m}::{n} = {v}; let len = v.encoded_len(); crate::support::check_frame({m}::{n}Codec::new(), &v, len, {what:?}); }}",
                        n = s.name
                    );
                }
                if s.json.is_some() {
                    let _ = writeln!(
                        t,
                        "    {{ let v: {m}::{n} = {v}; let mut out = ::polywire::bytes::BytesMut::new(); \
                         v.encode_json(&mut out).unwrap_or_else(|e| panic!(\"{what} json: encode: {{e}}\")); \
                         let b = out.freeze(); let mut r = ::polywire::wire::Reader::new(&b, {lim}); \
                         let back = {m}::{n}::decode_json(&mut r).unwrap_or_else(|e| panic!(\"{what} json: decode: {{e}}: {{}}\", ::std::string::String::from_utf8_lossy(&b))); \
                         assert_eq!(back, v, \"{what} json: {{}}\", ::std::string::String::from_utf8_lossy(&b)); }}",
                        n = s.name
                    );
                }
            }
        }
        let _ = writeln!(t, "}}");
        if let Some(fi) = p.frame {
            let frame = p.st(fi);
            let _ = writeln!(t, "#[test]\nfn requests_round_trip() {{");
            for s in &p.services {
                for r in &s.rpcs {
                    let mut sides = vec![("Request", Some(&r.request))];
                    if !r.oneway {
                        sides.push(("Response", r.response.as_ref()));
                    }
                    for (side, pl) in sides {
                        let empty = Payload::default();
                        let pl = pl.unwrap_or(&empty);
                        let ty = format!("{m}::{}{side}", pascal(&r.name));
                        let mut fields = Vec::new();
                        if let Some((h, _)) = &pl.header {
                            fields.push(format!("header: {}", self.header_value(*h)));
                        }
                        if let Some((b, _)) = &pl.body {
                            let v = match b {
                                None => self.bytes(&Cons::default()),
                                Some(i) => {
                                    let s = p.st(*i);
                                    self.struct_value(s, 0)
                                }
                            };
                            fields.push(format!("body: {v}"));
                        }
                        let base = self.struct_value(frame, 0);
                        let what = format!("{}.{}{side}", s.name, r.name);
                        let to = format!(
                            "::polywire::rt::Payload::to_frame(&x, base).unwrap_or_else(|e| panic!(\"{what}: to_frame: {{e}}\"))"
                        );
                        let _ = writeln!(
                            t,
                            "    {{ let base: {m}::{fname} = {base}; let x = {ty} {{ {fields} }}; let f = {to}; \
                             let mut codec = {m}::{fname}Codec::new(); let mut buf = ::polywire::bytes::BytesMut::new(); \
                             ::polywire::Codec::encode(&mut codec, &f, &mut buf).unwrap_or_else(|e| panic!(\"{what}: encode: {{e}}\")); \
                             let back = ::polywire::Codec::decode(&mut codec, &mut buf).unwrap_or_else(|e| panic!(\"{what}: decode: {{e}}\")).expect(\"a whole frame\"); \
                             assert_eq!(back, f, \"{what}: the frame\"); \
                             let y = <{ty} as ::polywire::rt::Payload>::from_frame(&back).unwrap_or_else(|e| panic!(\"{what}: from_frame: {{e}}\")); \
                             assert_eq!(y, x, \"{what}\"); }}",
                            fname = frame.name,
                            fields = fields.join(", ")
                        );
                    }
                }
            }
            let _ = writeln!(t, "}}");
        }
        t
    }
}

/// The Rust type suffix of an integer literal of `t`.
fn t_rust(t: &Ty) -> &'static str {
    match t {
        Ty::Int(i) => i.rust(),
        _ => "",
    }
}
