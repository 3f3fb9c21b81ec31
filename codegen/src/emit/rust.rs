//! Builders for the Rust expressions and statements the templates splice in: type names,
//! decode, encode and size expressions for every IR type. Naming lives here, layout lives
//! in the templates.

use crate::ir::*;

/// Path of the runtime items generated code may name; with
/// [`Options::codecs_only`](super::Options::codecs_only) the emitted source names
/// `::polywire_core::__private` instead.
pub const RT: &str = "::polywire::__private";

/// `SEND_MESSAGE` / `send_message` / `sendMessage` → `SendMessage`: the name of an enum
/// variant or a service trait. A name that converts to the keyword `Self` (`SELF`, `self`)
/// becomes `Self_`, as [`ident`] renames the keywords that cannot be raw identifiers.
pub fn pascal(s: &str) -> String {
    let out = pascal_prefix(s);
    if out == "Self" { out + "_" } else { out }
}

/// [`pascal`] for a name that a suffix completes (`SendMessage` + `Request`), where no
/// keyword can come out and so nothing is renamed.
pub fn pascal_prefix(s: &str) -> String {
    let mut out = String::new();
    let all_upper = !s.chars().any(|c| c.is_ascii_lowercase());
    for part in s.split('_').filter(|p| !p.is_empty()) {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            if all_upper {
                out.extend(cs.map(|c| c.to_ascii_lowercase()));
            } else {
                out.extend(cs);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `sendMessage` / `SendMessage` → `send_message`.
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if i > 0
                && (prev_lower || (next_lower && chars[i - 1].is_ascii_uppercase()))
                && !out.ends_with('_')
            {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    collapse_inner_underscores(&out)
}

/// `a__b` → `a_b`: Rust's snake case has no run of underscores between words (leading and
/// trailing ones stay, as written).
fn collapse_inner_underscores(s: &str) -> String {
    let body = s.trim_matches('_');
    if !body.contains("__") {
        return s.to_string();
    }
    let lead = &s[..s.len() - s.trim_start_matches('_').len()];
    let trail = &s[s.trim_end_matches('_').len()..];
    let mut out = String::from(lead);
    for c in body.chars() {
        if !(c == '_' && out.ends_with('_') && out.len() > lead.len()) {
            out.push(c);
        }
    }
    out + trail
}

/// The attribute a generated type named `name` needs: a name that is not UpperCamelCase
/// (`point`, `my_type`) is kept as written, so that code refers to it by the name the
/// protocol declares, and allowed, so that it does not warn in the crate holding it (the
/// checker warns about it instead, W0103). Empty for a CamelCase name.
pub fn camel_allow(name: &str) -> &'static str {
    let trimmed = name.trim_matches('_');
    let lower_start = trimmed.chars().next().is_some_and(char::is_lowercase);
    if lower_start || trimmed.contains('_') {
        "#[allow(non_camel_case_types)]"
    } else {
        ""
    }
}

/// `send_message` → `SEND_MESSAGE`: flag constants and request codes. `_`, which cannot
/// name a constant that code refers to, becomes `UNDERSCORE`.
pub fn screaming(s: &str) -> String {
    if s == "_" {
        return "UNDERSCORE".into();
    }
    snake(s).to_ascii_uppercase()
}

/// `send_message` → `sendMessage` and the other serde cases.
pub fn rename_case(s: &str, case: &str) -> String {
    let words: Vec<String> = snake(s)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    match case {
        "camelCase" => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.clone() } else { cap(w) })
            .collect(),
        "PascalCase" => words.iter().map(|w| cap(w)).collect(),
        "SCREAMING_SNAKE_CASE" => words.join("_").to_ascii_uppercase(),
        "kebab-case" => words.join("-"),
        "lowercase" => words.join(""),
        _ => words.join("_"),
    }
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

/// A field, bit part or request name as a Rust identifier, in snake case. A Rust keyword
/// becomes a raw identifier (`type` → `r#type`, `async` → `r#async`); the keywords that
/// cannot be raw (`self`, `Self`, `super`, `crate`) get a trailing underscore instead
/// (`self` → `self_`), and `_`, which is not an identifier, becomes `underscore`.
pub fn ident(s: &str) -> String {
    let s = snake(s);
    if s == "_" {
        "underscore".into()
    } else if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// Rust's primitive types, which generated code names unqualified (`u64::from`, `usize`,
/// `&str`): a user type must not be named like one of them.
pub const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

/// Why `name` cannot be the name of a generated type, if it cannot: a Rust keyword or
/// primitive type. (Types keep the name they are declared with; other names, such as
/// `Option` or `Vec`, are fine, since generated code names std items by absolute paths.)
pub fn type_name_problem(name: &str) -> Option<&'static str> {
    if KEYWORDS.contains(&name) || name == "_" {
        Some("is a Rust keyword")
    } else if PRIMITIVES.contains(&name) {
        Some("is a Rust primitive type, which generated code names")
    } else {
        None
    }
}

/// A Rust string literal.
pub fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// Names where a span is in the user's source (`wire/native.wire:42`); `None` when it
/// cannot say.
pub type Locate<'a> = &'a dyn Fn(crate::diag::Span) -> Option<String>;

/// Emits code for one protocol.
pub struct Gen<'a> {
    /// The protocol.
    pub p: &'a Protocol,
    /// Where items come from, for the doc line each generated type carries (none when
    /// `None`, as for the derive macros, whose spans are the macro's).
    pub locate: Option<Locate<'a>>,
    /// Attributes for the definitions of types, by type name (`.` for every type).
    pub type_attributes: &'a [(String, String)],
}

impl<'a> Gen<'a> {
    /// The attributes the build adds to the definition of type `name`, in the order given.
    pub fn type_attrs(&self, name: &str) -> Vec<String> {
        self.type_attributes
            .iter()
            .filter(|(path, _)| path == "." || path == name)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// The doc line (a string literal) saying where an item defined at `span` comes from,
    /// so that an error in generated code leads to its source: ``Defined at
    /// `file:line`.``, or nothing.
    pub fn at(&self, span: crate::diag::Span) -> Vec<String> {
        self.locate
            .and_then(|l| l(span))
            .map(|place| lit(&format!(" Defined at `{place}`.")))
            .into_iter()
            .collect()
    }

    /// [`Gen::at`] as `#[doc]` attributes.
    pub fn at_attrs(&self, span: crate::diag::Span) -> String {
        self.at(span)
            .iter()
            .map(|d| format!("#[doc = {d}]"))
            .collect()
    }

    /// The Rust type of a field type.
    pub fn rust_type(&self, ty: &Type) -> String {
        match ty {
            Type::Int(i) => i.rust().into(),
            Type::Varint { signed: false, .. } => "u64".into(),
            Type::Varint { signed: true, .. } => "i64".into(),
            Type::Bool => "bool".into(),
            Type::String { .. } => format!("{RT}::Str"),
            Type::Bytes { .. } => format!("{RT}::Bytes"),
            Type::List { elem, .. } => format!("::std::vec::Vec<{}>", self.rust_type(elem)),
            Type::Map { key, value, .. } => format!(
                "{RT}::OrderedMap<{}, {}>",
                self.rust_type(key),
                self.rust_type(value)
            ),
            Type::Optional { inner, .. } => {
                format!("::std::option::Option<{}>", self.rust_type(inner))
            }
            // A tagged list holds a slot per tag and is mostly empty: boxed, it keeps the
            // messages that carry one small to move.
            Type::Named(i) => match &self.p.types[*i] {
                TypeDef::Tagged(t) => format!("::std::boxed::Box<{}>", t.name),
                d => d.name().to_string(),
            },
        }
    }

    /// Reads a fixed-width integer from reader `r`.
    fn read_int(i: &IntType, r: &str, field: &str) -> String {
        let e = if i.bytes == 1 {
            ""
        } else if i.endian == Endian::Big {
            "_be"
        } else {
            "_le"
        };
        let base = match (i.bytes, i.signed) {
            (3, true) => {
                // Sign-extend a 24-bit value.
                return format!("(({r}.u24{e}({f})? << 8) as i32) >> 8", f = lit(field));
            }
            (3, false) => "u24".to_string(),
            _ => i.rust().to_string(),
        };
        format!("{r}.{base}{e}({})?", lit(field))
    }

    /// `v` (an owned value of `i`'s Rust type) widened to u64 without lint-triggering casts.
    pub fn to_u64(i: &IntType, v: &str) -> String {
        match (i.bytes, i.signed) {
            (8, false) => v.to_string(),
            (_, false) => format!("u64::from({})", unparen(v)),
            (_, true) => format!("{} as u64", atom(v)),
        }
    }

    /// The bit pattern of `v` (an owned value of `i`'s Rust type) as u64, without sign
    /// extension: what flags hold.
    pub fn bits_u64(i: &IntType, v: &str) -> String {
        match (i.rust(), i.signed) {
            (_, false) => Self::to_u64(i, v),
            // Bit 23 of an i24 is its sign bit: held sign-extended in the i32.
            (_, true) if i.bytes == 3 => format!("{RT}::i24_bits({})", unparen(v)),
            ("i64", true) => format!("{} as u64", atom(v)),
            (r, true) => format!("u64::from({} as u{})", atom(v), &r[1..]),
        }
    }

    /// Writes an integer expression `v` (an owned value of `i`'s Rust type). A 24-bit
    /// integer is held in a 32-bit type: a value outside its range fails to encode rather
    /// than losing its high byte.
    fn write_int(i: &IntType, v: &str, dst: &str, field: &str) -> String {
        let big = i.endian == Endian::Big;
        let f = lit(field);
        let (check, value) = match (i.bytes, i.signed) {
            (3, false) => (
                String::new(),
                format!("{RT}::check_bits({}, 24, {f})?", Self::to_u64(i, v)),
            ),
            (3, true) => (
                format!(
                    "if !(-0x80_0000..0x80_0000).contains(&{}) {{ return ::std::result::Result::Err({RT}::EncodeError::Overflow {{ path: {f}, value: {}, bits: 24 }}); }}",
                    atom(v),
                    Self::to_u64(i, v)
                ),
                Self::to_u64(i, v),
            ),
            _ => (String::new(), Self::to_u64(i, v)),
        };
        format!("{check} {dst}.put_uint({value}, {}, {big});", i.bytes)
    }

    /// A length prefix value read as i64.
    fn read_prefix(p: &Prefix, r: &str, field: &str) -> String {
        match p {
            Prefix::Int(i) if i.bytes == 8 && !i.signed => {
                format!("{RT}::sat_i64({})", Self::read_int(i, r, field))
            }
            Prefix::Int(i) if i.bytes == 8 => Self::read_int(i, r, field),
            Prefix::Int(i) => format!("i64::from({})", Self::read_int(i, r, field)),
            Prefix::Varint { max: None } => format!("{RT}::sat_i64({r}.varint({})?)", lit(field)),
            Prefix::Varint { max: Some(m) } => {
                format!("{RT}::sat_i64({r}.varint_max({m}, {})?)", lit(field))
            }
        }
    }

    fn write_prefix(p: &Prefix, n: &str, dst: &str, field: &str) -> String {
        match p {
            Prefix::Int(i) => format!(
                "{dst}.put_uint({RT}::check_encode_len({n}, {max}, {f})?, {w}, {big});",
                max = i.max_value(),
                f = lit(field),
                w = i.bytes,
                big = i.endian == Endian::Big
            ),
            Prefix::Varint { max: None } => format!("{dst}.put_varint({n} as u64);"),
            Prefix::Varint { max: Some(m) } => format!(
                "{dst}.put_varint({RT}::check_encode_len({n}, {m}, {f})?);",
                f = lit(field)
            ),
        }
    }

    fn prefix_len(p: &Prefix, n: &str) -> String {
        match p {
            Prefix::Int(i) => i.bytes.to_string(),
            Prefix::Varint { .. } => format!("{RT}::varint_len({n} as u64)"),
        }
    }

    /// The capacity to reserve for `n` elements of at least `min` bytes each. `check_count`
    /// has bounded `n` by the remaining bytes unless `min` is 0 (an element whose size is
    /// unknown here, such as a type a standalone derive names): then the reservation is
    /// bounded by the remaining bytes, so a forged count cannot allocate more than the
    /// input's size in elements.
    fn capacity(min: usize, r: &str) -> String {
        if min == 0 {
            format!("n.min({r}.remaining())")
        } else {
            "n".to_string()
        }
    }

    /// The capacity to start a collection read until its region ends with: as many
    /// elements of at least `min` bytes as the region can hold, but never more than
    /// `GUESS_CAP` (in `polywire_core::wire`) (the region's length says nothing of the
    /// elements' real size, and must not make a small frame allocate much). Growing from
    /// empty made a RocketMQ header's five extFields a third of its decoding.
    fn guess(min: usize, r: &str) -> String {
        if min == 0 {
            "0".to_string()
        } else {
            format!("{r}.capacity_guess({min})")
        }
    }

    /// An expression decoding a value of `ty` from reader `r` (which is a `&mut Reader`).
    pub fn decode(&self, ty: &Type, r: &str, field: &str) -> String {
        let f = lit(field);
        match ty {
            Type::Int(i) => Self::read_int(i, r, field),
            Type::Varint {
                signed: false,
                max: Some(m),
            } => format!("{r}.varint_max({m}, {f})?"),
            Type::Varint { signed: false, .. } => format!("{r}.varint({f})?"),
            Type::Varint { signed: true, .. } => format!("{r}.svarint({f})?"),
            Type::Bool => format!("{r}.bool({f})?"),
            Type::String {
                prefix: Some(p),
                max,
            }
            | Type::Bytes {
                prefix: Some(p),
                max,
            } => {
                let take = if matches!(ty, Type::String { .. }) {
                    "str"
                } else {
                    "bytes"
                };
                let prefix = prefix_expr(p);
                match max {
                    Some(m) => format!("{r}.prefixed_{take}_max({prefix}, {m}, {f})?"),
                    None => format!("{r}.prefixed_{take}({prefix}, {f})?"),
                }
            }
            Type::String { prefix: None, .. } => {
                format!("{{ let n = {r}.remaining(); {r}.str(n, {f})? }}")
            }
            Type::Bytes { prefix: None, .. } => format!("{r}.rest()"),
            Type::List {
                elem,
                count: Some(p),
            } => {
                let min = crate::ir::check::min_size(self.p, elem);
                format!(
                    "{{ let n = {r}.prefixed_count({prefix}, {min}, {f})?; \
                     let mut v = ::std::vec::Vec::with_capacity({cap}); for _ in 0..n {{ v.push({e}); }} v }}",
                    prefix = prefix_expr(p),
                    cap = Self::capacity(min, r),
                    e = self.decode(elem, r, field)
                )
            }
            Type::List { elem, count: None } => format!(
                "{{ let mut v = ::std::vec::Vec::with_capacity({cap}); while {r}.remaining() > 0 {{ {r}.check_more(v.len(), {f})?; v.push({e}); }} v }}",
                cap = Self::guess(crate::ir::check::min_size(self.p, elem), r),
                e = self.decode(elem, r, field)
            ),
            Type::Map {
                key,
                value,
                count: Some(p),
            } => {
                let min = crate::ir::check::min_size(self.p, key)
                    + crate::ir::check::min_size(self.p, value);
                format!(
                    "{{ let n = {r}.prefixed_count({prefix}, {min}, {f})?; \
                     let mut m = {RT}::OrderedMap::with_capacity({cap}); for _ in 0..n {{ let k = {k}; let v = {v}; m.push(k, v); }} m }}",
                    prefix = prefix_expr(p),
                    cap = Self::capacity(min, r),
                    k = self.decode(key, r, field),
                    v = self.decode(value, r, field)
                )
            }
            Type::Map {
                key,
                value,
                count: None,
            } => format!(
                "{{ let mut m = {RT}::OrderedMap::with_capacity({cap}); while {r}.remaining() > 0 {{ {r}.check_more(m.len(), {f})?; let k = {k}; let v = {v}; m.push(k, v); }} m }}",
                cap = Self::guess(
                    crate::ir::check::min_size(self.p, key)
                        + crate::ir::check::min_size(self.p, value),
                    r
                ),
                k = self.decode(key, r, field),
                v = self.decode(value, r, field)
            ),
            Type::Optional {
                inner,
                repr: OptRepr::Presence,
            } => format!(
                "{{ if {r}.presence({f})? {{ ::std::option::Option::Some({}) }} else {{ ::std::option::Option::None }} }}",
                self.decode(inner, r, field)
            ),
            Type::Optional {
                inner,
                repr: OptRepr::EmptyIsNone,
            } => format!(
                "{{ let v = {}; if v.is_empty() {{ ::std::option::Option::None }} else {{ ::std::option::Option::Some(v) }} }}",
                self.decode(inner, r, field)
            ),
            Type::Named(i) => match &self.p.types[*i] {
                TypeDef::Enum(e) => {
                    let raw = Self::read_int(&e.repr, r, field);
                    let wide = if e.repr.rust() == "i64" {
                        "raw"
                    } else {
                        "raw as i64"
                    };
                    if e.open {
                        format!("{}::from_repr({raw})", e.name)
                    } else {
                        format!(
                            "{{ let at = {r}.offset(); let raw = {raw}; {name}::from_repr(raw).ok_or_else(|| {RT}::DecodeError::new(at, {f}, {RT}::DecodeErrorKind::UnknownEnum({wide})))? }}",
                            name = e.name
                        )
                    }
                }
                TypeDef::Flags(fl) => format!(
                    "{}::from_bits({})",
                    fl.name,
                    Self::read_int(&fl.repr, r, field)
                ),
                // `From` lets a tagged list's field hold it in a `Box` (as generated types
                // do) or not (a derive user's choice).
                TypeDef::Tagged(t) => format!(
                    "::std::convert::From::from(<{} as {RT}::WireMessage>::decode_from({r}).map_err(|e| e.within({f}))?)",
                    t.name
                ),
                TypeDef::Struct(_) | TypeDef::Union(_) => format!(
                    "<{} as {RT}::WireMessage>::decode_from({r}).map_err(|e| e.within({f}))?",
                    self.p.types[*i].name()
                ),
            },
        }
    }

    /// Statements encoding `v` of `ty` through the cursor `dst`. `v` is a place (`self.x`)
    /// or, when `by_ref`, a binding holding a reference.
    pub fn encode(&self, ty: &Type, v: &str, by_ref: bool, dst: &str, field: &str) -> String {
        let f = lit(field);
        let own = if by_ref {
            format!("*{v}")
        } else {
            v.to_string()
        };
        let refer = if by_ref {
            v.to_string()
        } else {
            format!("&{v}")
        };
        match ty {
            Type::Int(i) => Self::write_int(i, &own, dst, field),
            Type::Varint {
                signed: false,
                max: Some(m),
            } => format!("{dst}.put_varint({RT}::check_max_value({own}, {m}, {f})?);"),
            Type::Varint { signed: false, .. } => format!("{dst}.put_varint({own});"),
            Type::Varint { signed: true, .. } => {
                format!("{dst}.put_varint({RT}::zigzag({own}));")
            }
            Type::Bool => format!("{dst}.put_u8(u8::from({own}));"),
            Type::String { prefix, max } | Type::Bytes { prefix, max } => {
                let bytes = if matches!(ty, Type::String { .. }) {
                    format!("{v}.as_bytes()")
                } else {
                    format!("&{v}[..]")
                };
                let max_check = max.map_or(String::new(), |m| {
                    format!("{RT}::check_encode_len({v}.len(), {m}, {f})?;")
                });
                let pre = prefix.map_or(String::new(), |p| {
                    Self::write_prefix(&p, &format!("{v}.len()"), dst, field)
                });
                format!("{max_check} {pre} {dst}.put_slice({bytes});")
            }
            Type::List { elem, count } => {
                let pre = count.map_or(String::new(), |p| {
                    Self::write_prefix(&p, &format!("{v}.len()"), dst, field)
                });
                format!(
                    "{pre} for x in {v}.iter() {{ {} }}",
                    self.encode(elem, "x", true, dst, field)
                )
            }
            Type::Map { key, value, count } => {
                let pre = count.map_or(String::new(), |p| {
                    Self::write_prefix(&p, &format!("{v}.len()"), dst, field)
                });
                format!(
                    "{pre} for (k, x) in {v}.iter() {{ {} {} }}",
                    self.encode(key, "k", true, dst, field),
                    self.encode(value, "x", true, dst, field)
                )
            }
            Type::Optional {
                inner,
                repr: OptRepr::Presence,
            } => format!(
                "match {refer} {{ ::std::option::Option::Some(x) => {{ {dst}.put_u8(1); {} }} ::std::option::Option::None => {dst}.put_u8(0), }}",
                self.encode(inner, "x", true, dst, field)
            ),
            Type::Optional {
                inner,
                repr: OptRepr::EmptyIsNone,
            } => {
                format!(
                    "{{ let empty: {} = ::std::default::Default::default(); let x = {v}.as_ref().unwrap_or(&empty); {} }}",
                    self.rust_type(inner),
                    self.encode(inner, "x", true, dst, field)
                )
            }
            Type::Named(i) => match &self.p.types[*i] {
                TypeDef::Enum(e) => Self::write_int(&e.repr, &format!("{v}.to_repr()"), dst, field),
                TypeDef::Flags(fl) if fl.repr.bytes == 3 => format!(
                    "{dst}.put_uint({RT}::check_bits({}, 24, {f})?, 3, {});",
                    Self::bits_u64(&fl.repr, &format!("{v}.bits()")),
                    fl.repr.endian == Endian::Big
                ),
                TypeDef::Flags(fl) => Self::write_int(&fl.repr, &format!("{v}.bits()"), dst, field),
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => {
                    format!("{dst}.nested(|w| {RT}::WireMessage::write_to({refer}, w))?;")
                }
            },
        }
    }

    /// The encoded size of every value of `ty`, when it does not depend on the value.
    pub fn fixed_size(&self, ty: &Type) -> Option<usize> {
        match ty {
            Type::Int(i) => Some(usize::from(i.bytes)),
            Type::Bool => Some(1),
            Type::Named(i) => match &self.p.types[*i] {
                TypeDef::Enum(e) => Some(usize::from(e.repr.bytes)),
                TypeDef::Flags(f) => Some(usize::from(f.repr.bytes)),
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => None,
            },
            _ => None,
        }
    }

    /// An expression for the encoded size of `v` of `ty` (a place, or a reference binding
    /// when `by_ref`).
    pub fn size(&self, ty: &Type, v: &str, by_ref: bool) -> String {
        sum(self.size_terms(ty, v, by_ref))
    }

    /// The encoded size of `v` of `ty` as terms to add up (see [`sum`]).
    pub fn size_terms(&self, ty: &Type, v: &str, by_ref: bool) -> Vec<String> {
        let own = if by_ref {
            format!("*{v}")
        } else {
            v.to_string()
        };
        if let Some(n) = self.fixed_size(ty) {
            return vec![n.to_string()];
        }
        let len = format!("{v}.len()");
        match ty {
            Type::Varint { signed: false, .. } => vec![format!("{RT}::varint_len({own})")],
            Type::Varint { signed: true, .. } => {
                vec![format!("{RT}::varint_len({RT}::zigzag({own}))")]
            }
            Type::String { prefix, .. } | Type::Bytes { prefix, .. } => {
                let mut t: Vec<String> = prefix.iter().map(|p| Self::prefix_len(p, &len)).collect();
                t.push(len);
                t
            }
            Type::List { elem, count } => {
                let mut t: Vec<String> = count.iter().map(|p| Self::prefix_len(p, &len)).collect();
                t.push(match self.fixed_size(elem) {
                    Some(n) => times(&len, n),
                    None => format!(
                        "{v}.iter().map(|x| {}).sum::<usize>()",
                        self.size(elem, "x", true)
                    ),
                });
                t
            }
            Type::Map { key, value, count } => {
                let mut t: Vec<String> = count.iter().map(|p| Self::prefix_len(p, &len)).collect();
                t.push(match (self.fixed_size(key), self.fixed_size(value)) {
                    (Some(k), Some(x)) => times(&len, k + x),
                    (kf, xf) => {
                        let pk = if kf.is_some() { "_" } else { "k" };
                        let px = if xf.is_some() { "_" } else { "x" };
                        let mut inner = self.size_terms(key, "k", true);
                        inner.extend(self.size_terms(value, "x", true));
                        format!(
                            "{v}.iter().map(|({pk}, {px})| {}).sum::<usize>()",
                            sum(inner)
                        )
                    }
                });
                t
            }
            Type::Optional {
                inner,
                repr: OptRepr::Presence,
            } => match self.fixed_size(inner) {
                Some(n) => vec!["1".into(), times(&format!("usize::from({v}.is_some())"), n)],
                None => vec![
                    "1".into(),
                    format!(
                        "{v}.as_ref().map_or(0, |x| {})",
                        self.size(inner, "x", true)
                    ),
                ],
            },
            Type::Optional {
                inner,
                repr: OptRepr::EmptyIsNone,
            } => {
                // Absent is written as the empty value: just its prefix.
                let empty = match &**inner {
                    Type::String { prefix, .. }
                    | Type::Bytes { prefix, .. }
                    | Type::List { count: prefix, .. }
                    | Type::Map { count: prefix, .. } => prefix.map_or(0, |p| p.min_size()),
                    _ => 0,
                };
                vec![format!(
                    "{v}.as_ref().map_or({empty}, |x| {})",
                    self.size(inner, "x", true)
                )]
            }
            Type::Named(_) => vec![format!("{v}.encoded_len()")],
            Type::Int(_) | Type::Bool => unreachable!("fixed size"),
        }
    }

    /// Reads a fixed-width integer for a length or a packed word, as u64 (i64 for lengths
    /// goes through `read_prefix`).
    pub fn read_word(&self, i: &IntType, r: &str, field: &str) -> String {
        let v = Self::read_int(i, r, field);
        if i.signed && i.bits() < 64 {
            format!("({} as u64) & {}", atom(&v), mask(i.bits()))
        } else {
            Self::to_u64(i, &v)
        }
    }

    /// The length prefix reader, public for the struct builder.
    pub fn read_len(&self, p: &Prefix, r: &str, field: &str) -> String {
        Self::read_prefix(p, r, field)
    }

    /// Writes a constant.
    pub fn write_const(&self, i: &IntType, value: u64, dst: &str) -> String {
        format!(
            "{dst}.put_uint({value:#x}, {}, {});",
            i.bytes,
            i.endian == Endian::Big
        )
    }
}

/// The `Prefix` value (in `polywire::wire`) for a length or count prefix.
pub fn prefix_expr(p: &Prefix) -> String {
    match p {
        Prefix::Int(i) => format!(
            "{RT}::Prefix::{}({}, {})",
            if i.signed { "int" } else { "uint" },
            i.bytes,
            i.endian == Endian::Big
        ),
        Prefix::Varint { max: None } => format!("{RT}::Prefix::Varint"),
        Prefix::Varint { max: Some(m) } => format!("{RT}::Prefix::VarintMax({m})"),
    }
}

/// Adds up size terms: literals are folded into one constant (dropped when 0), and the
/// result never starts with a block-like expression (which would end a statement).
pub fn sum(terms: Vec<String>) -> String {
    let mut constant = 0usize;
    let mut rest: Vec<String> = Vec::new();
    for t in terms {
        match t.parse::<usize>() {
            Ok(n) => constant += n,
            Err(_) => rest.push(t),
        }
    }
    if constant > 0 || rest.is_empty() {
        rest.insert(0, constant.to_string());
    } else if rest.len() > 1
        && let Some(first) = rest.first_mut()
        && block_like(first)
    {
        *first = format!("({first})");
    }
    rest.join(" + ")
}

/// `n` times `len`, without a `* 1`.
fn times(len: &str, n: usize) -> String {
    if n == 1 {
        len.to_string()
    } else {
        format!("{} * {n}", atom(len))
    }
}

/// An expression that, at the start of a statement, would be parsed as one.
fn block_like(e: &str) -> bool {
    ["{", "match ", "if ", "loop ", "while ", "for ", "unsafe "]
        .iter()
        .any(|k| e.starts_with(k))
}

/// `(1 << bits) - 1` as a literal.
pub fn mask(bits: u32) -> String {
    if bits >= 64 {
        "u64::MAX".into()
    } else {
        format!("{:#x}u64", (1u64 << bits) - 1)
    }
}

/// `e` as an operand of `as` or of a binary operator: unchanged when it already binds
/// tighter than any operator (a literal, a path, a call or method chain, a unary
/// operator on one, or a parenthesised expression), else wrapped in parentheses.
pub fn atom(e: &str) -> String {
    if is_atom(e) {
        e.to_string()
    } else {
        format!("({e})")
    }
}

fn is_atom(e: &str) -> bool {
    let e = e.trim();
    if e.is_empty() || block_like(e) || e.starts_with('|') {
        return false;
    }
    if unparen(e) != e {
        return true;
    }
    let body = e.trim_start_matches(['*', '&', '!']);
    if body.starts_with('-') || body.starts_with('(') && unparen(body) == body {
        return false;
    }
    let mut depth = 0i32;
    for c in body.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if depth == 0 && c.is_whitespace() => return false,
            _ => {}
        }
    }
    true
}

/// Drops one pair of parentheses around a whole expression (where they would be redundant,
/// e.g. a closure body).
pub fn unparen(e: &str) -> &str {
    let Some(inner) = e.strip_prefix('(').and_then(|s| s.strip_suffix(')')) else {
        return e;
    };
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return e;
                }
            }
            _ => {}
        }
    }
    if depth == 0 { inner } else { e }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_has_no_run_of_underscores_between_words() {
        assert_eq!(ident("inner__gap"), "inner_gap");
        assert_eq!(ident("a___b__c"), "a_b_c");
        assert_eq!(ident("_hidden"), "_hidden");
        assert_eq!(ident("trailing__"), "trailing__");
        assert_eq!(ident("fooBar"), "foo_bar");
    }
}
