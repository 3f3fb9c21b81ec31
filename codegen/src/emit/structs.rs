//! Decode, encode and size bodies for a struct, including computed lengths, packed bits,
//! regions and encodings chosen by a discriminator.

use super::rust::{Gen, RT, atom, ident, lit, mask, sum, unparen};
use crate::ir::*;

/// The generated bodies of one struct's `WireMessage` impl.
pub struct Bodies {
    /// Statements ending with the constructed value in `Ok(..)`.
    pub decode: String,
    /// Statements writing `self` through the writer `w` (with the cursor `dst`).
    pub encode: String,
    /// The encoded size: statements ending with an expression.
    pub size: String,
    /// Private methods the bodies call (the value of a varint `len(..)`, measured once for
    /// writing it and for the size).
    pub helpers: String,
}

/// Which field a computed length measures, resolved to positions.
/// A computed length: its name, what it measures, and for a bit part the word field and
/// bit range it lives in.
type LengthField = (String, LenTarget, Option<(String, u32, u32)>);

fn length_fields(s: &StructDef) -> Vec<LengthField> {
    // (length name, target, Some((word field, lo, hi)) for bit parts)
    let mut out = Vec::new();
    for f in &s.fields {
        match &f.kind {
            FieldKind::Length { of, .. } => out.push((f.name.clone(), of.clone(), None)),
            FieldKind::Bits { parts, .. } => {
                for p in parts {
                    if let PartValue::Length(of) = &p.value {
                        out.push((
                            p.name.clone(),
                            of.clone(),
                            Some((f.name.clone(), p.lo, p.hi)),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

impl Gen<'_> {
    /// The local a decoded field or bit part is bound to: its Rust name (`isSet` →
    /// `is_set`; the checker keeps `__`, which starts the generated locals, out of the
    /// start of names), or `__` and its [`stem`] when that is not snake case (`a__b`), so
    /// that no local makes the generated code warn (`non_snake_case`), or when it is a
    /// type's name (a type named in snake case, `flags foo_bar`), which a binding cannot
    /// shadow.
    fn local(&self, name: &str) -> String {
        let id = ident(name);
        if is_snake(&id) && !self.p.types.iter().any(|t| t.name() == id) {
            id
        } else {
            format!("__{}", stem(name))
        }
    }

    /// The stored fields of a struct: (rust name, rust type, docs).
    pub fn stored_fields(&self, s: &StructDef) -> Vec<(String, String, Vec<String>)> {
        let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
        // An undocumented field has its name, so that a crate under `missing_docs` builds
        // without warnings (the `Defined at` line is on the type).
        let docs = |name: &str, docs: &[String]| {
            if docs.is_empty() {
                vec![format!("The `{name}` field.")]
            } else {
                docs.to_vec()
            }
        };
        for f in &s.fields {
            match &f.kind {
                FieldKind::Value(t) => {
                    let ty = match f.widen {
                        Some(w) => w.rust().to_string(),
                        None => self.rust_type(t),
                    };
                    let ty = if f.cond.is_some() {
                        format!("::std::option::Option<{ty}>")
                    } else {
                        ty
                    };
                    out.push((ident(&f.name), ty, docs(&f.name, &f.docs)))
                }
                FieldKind::Switch { ty, .. } => out.push((
                    ident(&f.name),
                    self.p.types[*ty].name().to_string(),
                    docs(&f.name, &f.docs),
                )),
                FieldKind::Bits { parts, .. } => {
                    for p in parts.iter().filter(|p| p.value == PartValue::Stored) {
                        out.push((
                            ident(&p.name),
                            self.rust_type(&p.ty),
                            docs(&p.name, &p.docs),
                        ));
                    }
                }
                FieldKind::Const { .. } | FieldKind::Length { .. } | FieldKind::Literal(_) => {}
            }
        }
        out
    }

    fn part_from_word(&self, p: &BitPart, w: &str, word_bits: u32) -> String {
        let raw = atom(&extract(w, p.lo, p.hi, word_bits));
        let width = p.hi - p.lo;
        let f = lit(&p.name);
        match &p.ty {
            Type::Bool => format!("{raw} != 0"),
            Type::Int(i) if i.rust() == "u64" => unparen(&raw).to_string(),
            Type::Int(i) => format!("{raw} as {}", i.rust()),
            Type::Named(n) => match &self.p.types[*n] {
                TypeDef::Enum(e) => {
                    // A signed value is sign-extended from the part's width.
                    let repr = e.repr.rust();
                    let value = if e.repr.signed && width < 64 {
                        let wide = format!("((({raw} << {sh}) as i64) >> {sh})", sh = 64 - width);
                        if repr == "i64" {
                            unparen(&wide).to_string()
                        } else {
                            format!("{wide} as {repr}")
                        }
                    } else {
                        format!("{raw} as {repr}")
                    };
                    if e.open {
                        format!("{}::from_repr({value})", e.name)
                    } else {
                        let wide = if repr == "i64" {
                            value.clone()
                        } else {
                            format!("{} as i64", atom(&value))
                        };
                        format!(
                            "{name}::from_repr({value}).ok_or_else(|| {RT}::DecodeError::new(__at, {f}, {RT}::DecodeErrorKind::UnknownEnum({wide})))?",
                            name = e.name,
                        )
                    }
                }
                // Bit 23 of i24 flags that fill 24 bits is their sign bit, held
                // sign-extended as a whole i24 field's is.
                TypeDef::Flags(fl) if fl.repr.signed && fl.repr.bytes == 3 && width == 24 => {
                    format!("{}::from_bits((({raw} as i32) << 8) >> 8)", fl.name)
                }
                TypeDef::Flags(fl) => {
                    format!("{}::from_bits({raw} as {})", fl.name, fl.repr.rust())
                }
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => {
                    "unreachable_checked".into()
                }
            },
            _ => "unreachable_checked".into(),
        }
    }

    fn part_to_word(&self, p: &BitPart, v: &str) -> String {
        let width = p.hi - p.lo;
        let f = lit(&p.name);
        let raw = match &p.ty {
            Type::Bool => format!("u64::from({v})"),
            Type::Int(i) => Gen::to_u64(i, v),
            Type::Named(n) => match &self.p.types[*n] {
                TypeDef::Enum(e) if e.repr.signed => {
                    // Two's complement in the part's width: the value must fit its range.
                    let bits = e.repr.bits().min(32 + 32 * u32::from(e.repr.bytes == 8));
                    let masked = if width >= 64 {
                        "v as u64".to_string()
                    } else {
                        format!("(v as u64) & {}", mask(width))
                    };
                    let body = if width >= bits {
                        masked
                    } else {
                        let half = 1i128 << (width - 1);
                        format!(
                            "if !({}..{half}).contains(&v) {{ return ::std::result::Result::Err({RT}::EncodeError::Overflow {{ path: {f}, value: v as u64, bits: {width} }}); }} {masked}",
                            -half
                        )
                    };
                    let checked = format!("{{ let v = {v}.to_repr(); {body} }}");
                    return if p.lo == 0 {
                        checked
                    } else {
                        format!("({checked} << {})", p.lo)
                    };
                }
                TypeDef::Enum(e) => Gen::to_u64(&e.repr, &format!("{v}.to_repr()")),
                TypeDef::Flags(fl) => Gen::bits_u64(&fl.repr, &format!("{v}.bits()")),
                TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => "0".into(),
            },
            _ => "0".into(),
        };
        let checked = format!("{RT}::check_bits({raw}, {width}, {f})?");
        if p.lo == 0 {
            checked
        } else {
            format!("({checked} << {})", p.lo)
        }
    }

    /// The varint `len(..)` field of `s` that measures the fields after it, when what it
    /// measures is not a constant: its position and the name of the private method giving
    /// its value (`__length`), which writing it and the size both call.
    fn varint_region(&self, s: &StructDef) -> Option<(usize, String)> {
        s.fields
            .iter()
            .enumerate()
            .find_map(|(fi, f)| match &f.kind {
                FieldKind::Length {
                    ty: Prefix::Varint { .. },
                    of: of @ LenTarget::From(None),
                } if !f.decimal
                    && f.len_else.is_none()
                    && sum(self.target_size(s, fi, of)).parse::<u64>().is_err() =>
                {
                    Some((fi, format!("__{}", stem(&f.name))))
                }
                _ => None,
            })
    }

    /// Builds the bodies for struct `s`.
    pub fn bodies(&self, s: &StructDef) -> Bodies {
        let region = self.varint_region(s);
        let lens = length_fields(s);
        let region_of = |name: &str| -> Option<String> {
            lens.iter().find_map(|(l, t, _)| match t {
                LenTarget::Field(x) if x == name => Some(l.clone()),
                _ => None,
            })
        };
        let sized_by = |f: &Field| -> Option<String> {
            // A count says how many elements, not how many bytes.
            if matches!(f.region, Region::Count(_)) {
                return None;
            }
            region_of(&f.name).or_else(|| match &f.region {
                Region::SizedBy(l) => Some(l.clone()),
                _ => None,
            })
        };
        let from_starts = |name: &str| -> Option<String> {
            lens.iter().find_map(|(l, t, _)| match t {
                LenTarget::From(Some(x)) if x == name => Some(l.clone()),
                _ => None,
            })
        };

        // ---- decode ----
        // A struct without fields reads and writes nothing.
        let mut d = if s.fields.is_empty() {
            "let _ = __r;".to_string()
        } else {
            String::new()
        };
        // Generated names start with `__` so that no field's binding shadows them or is
        // shadowed by them (a field may well be called `r`, `n` or `at`).
        let mut cur = "__r".to_string();
        let mut regions = 0;
        let mut open_regions: Vec<String> = Vec::new();
        for f in &s.fields {
            let fl = lit(&f.name);
            // A `len(a..)` that starts here: the rest of the struct is a region.
            if let Some(l) = from_starts(&f.name) {
                let l = stem(&l);
                regions += 1;
                d += &format!(
                    "let __n = {cur}.region_len(__len_{l}, __at_{l}, {fl})?; let mut __rg{regions} = {cur}.region(__n, {fl})?; let __r{regions} = &mut __rg{regions};"
                );
                cur = format!("__r{regions}");
                open_regions.push(cur.clone());
            }
            match &f.kind {
                FieldKind::Literal(b) => {
                    let read = format!("{cur}.literal({}, {fl})?;", bytes_lit(b));
                    d += &match &f.cond {
                        Some(c) => format!(
                            "if {} {{ {read} }}",
                            unparen(&self.cond_bool(s, c, &Side::Decode(&cur)))
                        ),
                        None => read,
                    };
                }
                FieldKind::Const { ty, value } => {
                    d += &format!(
                        "{cur}.constant({}, {}, {value:#x}, {fl})?;",
                        ty.bytes,
                        ty.endian == Endian::Big
                    );
                }
                FieldKind::Length { ty, of } => {
                    let (n, k) = (&f.name, stem(&f.name));
                    let read = if f.decimal {
                        read_decimal(f, &cur)
                    } else {
                        self.read_len(ty, &cur, n)
                    };
                    d += &format!("let __at_{k} = {cur}.offset(); let __len_{k} = {read};");
                    if *of == LenTarget::From(None) {
                        regions += 1;
                        d += &format!(
                            "let __n = {cur}.region_len(__len_{k}, __at_{k}, {fl})?; let mut __rg{regions} = {cur}.region(__n, {fl})?; let __r{regions} = &mut __rg{regions};"
                        );
                        cur = format!("__r{regions}");
                        open_regions.push(cur.clone());
                    }
                }
                FieldKind::Bits { ty, parts } => {
                    let w = format!("__w_{}", stem(&f.name));
                    d += &format!(
                        "let __at = {cur}.offset(); let {w} = {};",
                        self.read_word(ty, &cur, &f.name)
                    );
                    for p in parts {
                        match &p.value {
                            PartValue::Stored => {
                                d += &format!(
                                    "let {} = {};",
                                    self.local(&p.name),
                                    self.part_from_word(p, &w, ty.bits())
                                )
                            }
                            PartValue::Const(c) => {
                                d += &format!(
                                    "{RT}::expect_const({}, {c:#x}, __at, {})?;",
                                    extract(&w, p.lo, p.hi, ty.bits()),
                                    lit(&p.name)
                                )
                            }
                            PartValue::Length(_) => {
                                d += &format!(
                                    "let __at_{n} = __at; let __len_{n} = {} as i64;",
                                    atom(&extract(&w, p.lo, p.hi, ty.bits())),
                                    n = stem(&p.name)
                                )
                            }
                            // A presence bit: the condition of the field it tells about
                            // reads it.
                            PartValue::Present(_) => {
                                d += &format!(
                                    "let {} = {} != 0;",
                                    self.local(&p.name),
                                    atom(&extract(&w, p.lo, p.hi, ty.bits()))
                                )
                            }
                        }
                    }
                    d += "let _ = __at;";
                    // A part that is `len(..)`: the rest of the struct is a region.
                    for p in parts {
                        if p.value == PartValue::Length(LenTarget::From(None)) {
                            let (n, pl) = (stem(&p.name), lit(&p.name));
                            regions += 1;
                            d += &format!(
                                "let __n = {cur}.region_len(__len_{n}, __at_{n}, {pl})?; let mut __rg{regions} = {cur}.region(__n, {pl})?; let __r{regions} = &mut __rg{regions};"
                            );
                            cur = format!("__r{regions}");
                            open_regions.push(cur.clone());
                        }
                    }
                }
                FieldKind::Value(_) | FieldKind::Switch { .. } => {
                    let name = self.local(&f.name);
                    // Where the value's bytes come from.
                    // A string or bytes value sized by a length field keeps to the string
                    // limit.
                    let text = matches!(
                        f.kind,
                        FieldKind::Value(Type::String { .. } | Type::Bytes { .. })
                    );
                    // Bytes or a string sized by a length field are the next `__n` bytes,
                    // taken at once: no region reader to fill and finish.
                    let direct = sized_by(f).is_some()
                        && matches!(
                            f.kind,
                            FieldKind::Value(
                                Type::Bytes { prefix: None, .. }
                                    | Type::String { prefix: None, .. }
                            )
                        )
                        && !f.decimal
                        && f.widen.is_none();
                    let (pre, rd, post) = match (&f.region, sized_by(f).as_deref()) {
                        (_, Some(l)) if direct => (
                            format!(
                                "{cur}.check_string_len(__len_{l}, __at_{l}, {fl})?; \
                                 let __n = {cur}.region_len(__len_{l}, __at_{l}, {fl})?;",
                                l = stem(l),
                            ),
                            cur.clone(),
                            String::new(),
                        ),
                        (_, Some(l)) => (
                            format!(
                                "{check}let __n = {cur}.region_len(__len_{l}, __at_{l}, {fl})?; let mut __sub = {cur}.region(__n, {fl})?; let __rs = &mut __sub;",
                                l = stem(l),
                                check = if text {
                                    format!(
                                        "{cur}.check_string_len(__len_{l}, __at_{l}, {fl})?; ",
                                        l = stem(l)
                                    )
                                } else {
                                    String::new()
                                }
                            ),
                            "__rs".to_string(),
                            format!("__rs.finish({fl})?;"),
                        ),
                        (Region::Prefixed(p), None) => (
                            format!(
                                "let mut __sub = {cur}.prefixed_region({}, {fl})?; let __rs = &mut __sub;",
                                super::rust::prefix_expr(p)
                            ),
                            "__rs".to_string(),
                            format!("__rs.finish({fl})?;"),
                        ),
                        // Unprefixed bytes or a string take everything left: no region needed.
                        (Region::Rest, None)
                            if matches!(
                                f.kind,
                                FieldKind::Value(
                                    Type::Bytes { prefix: None, .. }
                                        | Type::String { prefix: None, .. }
                                )
                            ) =>
                        {
                            (String::new(), cur.clone(), String::new())
                        }
                        (Region::Rest, None) => (
                            format!(
                                "let __n = {cur}.remaining(); let mut __sub = {cur}.region(__n, {fl})?; let __rs = &mut __sub;"
                            ),
                            "__rs".to_string(),
                            String::new(),
                        ),
                        (
                            Region::Inline
                            | Region::SizedBy(_)
                            | Region::Until(_)
                            | Region::Count(_),
                            None,
                        ) => (String::new(), cur.clone(), String::new()),
                    };
                    let value = match &f.kind {
                        FieldKind::Value(Type::Bytes { .. }) if direct => {
                            format!("{rd}.bytes(__n, {fl})?")
                        }
                        FieldKind::Value(Type::String { .. }) if direct => {
                            format!("{rd}.str(__n, {fl})?")
                        }
                        FieldKind::Value(Type::Int(i)) if f.decimal => format!(
                            "{{ let __at = {rd}.offset(); let __d = {}; {RT}::narrow_decimal::<{}>(__d, __at, {fl})? }}",
                            read_decimal(f, &rd),
                            i.rust()
                        ),
                        FieldKind::Value(t @ (Type::String { .. } | Type::Bytes { .. }))
                            if matches!(f.region, Region::Until(_)) =>
                        {
                            let Region::Until(dl) = &f.region else {
                                unreachable!()
                            };
                            let take = if matches!(t, Type::String { .. }) {
                                "str_until"
                            } else {
                                "bytes_until"
                            };
                            format!("{rd}.{take}({}, {fl})?", bytes_lit(dl))
                        }
                        FieldKind::Value(Type::List { elem, .. })
                            if matches!(f.region, Region::Count(_)) =>
                        {
                            let Region::Count(n) = &f.region else {
                                unreachable!()
                            };
                            let count = if self.is_length(s, n) {
                                format!("__len_{}", stem(n))
                            } else {
                                format!("{} as i64", self.local(n))
                            };
                            let min = crate::ir::check::min_size(self.p, elem);
                            format!(
                                "{{ let __at = {rd}.offset(); let __c = {rd}.check_count({count}, {min}, __at, {fl})?; \
                                 let mut __v = ::std::vec::Vec::with_capacity({cap}); for _ in 0..__c {{ __v.push({e}); }} __v }}",
                                cap = if min == 0 {
                                    format!("__c.min({rd}.remaining())")
                                } else {
                                    "__c".to_string()
                                },
                                e = self.decode(elem, &rd, &f.name)
                            )
                        }
                        FieldKind::Value(Type::Int(i)) if f.widen.is_some() => widen_read(
                            i,
                            &f.widen.unwrap_or(*i),
                            &self.decode(&Type::Int(*i), &rd, &f.name),
                        ),
                        FieldKind::Value(t) => self.decode(t, &rd, &f.name),
                        FieldKind::Switch { ty, disc, arms } => {
                            let sname = self.p.types[*ty].name();
                            let mut m = format!("match {} as i128 {{", self.local(disc));
                            for (v, enc) in arms {
                                if enc == "binary" {
                                    m += &format!(
                                        "{v} => <{sname} as {RT}::WireMessage>::decode_from({rd}).map_err(|e| e.within({fl}))?,"
                                    );
                                } else {
                                    m += &format!(
                                        "{v} => {sname}::decode_{enc}({rd}).map_err(|e| e.within({fl}))?,"
                                    );
                                }
                            }
                            m += &format!(
                                "other => return ::std::result::Result::Err({RT}::DecodeError::new({rd}.offset(), {fl}, {RT}::DecodeErrorKind::UnknownDiscriminator(other as u64))), }}"
                            );
                            m
                        }
                        _ => unreachable!(),
                    };
                    let expr = match (pre.is_empty(), post.is_empty()) {
                        (true, true) => value,
                        (false, true) => format!("{{ {pre} {value} }}"),
                        _ => format!("{{ {pre} let __v = {value}; {post} __v }}"),
                    };
                    // A length with `else`: an absent field requires that value of it.
                    let absent = s.fields.iter().find_map(|g| match &g.kind {
                        FieldKind::Length {
                            of: LenTarget::Field(x),
                            ..
                        } if *x == f.name => g.len_else.map(|v| (g, v)),
                        _ => None,
                    });
                    d += &match (&f.cond, absent) {
                        (Some(c), Some((g, v))) => format!(
                            "let {name} = if {} {{ ::std::option::Option::Some({}) }} else {{ \
                             if __len_{k} != {v} {{ return ::std::result::Result::Err({RT}::DecodeError::new(__at_{k}, {gl}, {RT}::DecodeErrorKind::AbsentLength {{ expected: {v}, found: __len_{k} }})); }} \
                             ::std::option::Option::None }};",
                            unparen(&self.cond_bool(s, c, &Side::Decode(&cur))),
                            unparen(&expr),
                            k = stem(&g.name),
                            gl = lit(&g.name),
                        ),
                        (Some(c), None) => format!(
                            "let {name} = if {} {{ ::std::option::Option::Some({}) }} else {{ ::std::option::Option::None }};",
                            unparen(&self.cond_bool(s, c, &Side::Decode(&cur))),
                            unparen(&expr)
                        ),
                        (None, _) => format!("let {name} = {expr};"),
                    };
                    if f.attrs.iter().any(|a| a == "version")
                        && reads_version(self.p)
                        && let FieldKind::Value(t) = &f.kind
                    {
                        d += &format!("{cur}.set_version({});", version_u32(t, &name));
                    }
                }
            }
        }
        for r in open_regions.iter().rev() {
            d += &format!("{r}.finish({})?;", lit(&s.name));
        }
        let ctor = s
            .fields
            .iter()
            .flat_map(|f| match &f.kind {
                FieldKind::Value(_) | FieldKind::Switch { .. } => vec![&f.name],
                FieldKind::Bits { parts, .. } => parts
                    .iter()
                    .filter(|p| p.value == PartValue::Stored)
                    .map(|p| &p.name)
                    .collect(),
                FieldKind::Const { .. } | FieldKind::Length { .. } | FieldKind::Literal(_) => {
                    vec![]
                }
            })
            .map(|n| match (ident(n), self.local(n)) {
                (field, binding) if field == binding => field,
                (field, binding) => format!("{field}: {binding}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        d += &format!("::std::result::Result::Ok({} {{ {ctor} }})", s.name);

        // ---- encode ----
        let mut e = if s.fields.is_empty() {
            "let _ = w;".to_string()
        } else {
            "let mut dst = w.cursor();".to_string()
        };
        let mut at_end: Vec<String> = Vec::new();
        // Sizes of fields, for varint lengths.
        for (fi, f) in s.fields.iter().enumerate() {
            let fl = lit(&f.name);
            if let Some(l) = from_starts(&f.name) {
                e += &format!("let __start_{} = dst.len();", stem(&l));
                at_end.push(self.patch_len(s, &lens, &l));
            }
            match &f.kind {
                FieldKind::Literal(b) => {
                    let put = format!("dst.put_slice({});", bytes_lit(b));
                    e += &match &f.cond {
                        Some(c) => format!(
                            "if {} {{ {put} }}",
                            unparen(&self.cond_bool(s, c, &Side::Encode(&f.name)))
                        ),
                        None => put,
                    };
                }
                FieldKind::Const { ty, value } => e += &self.write_const(ty, *value, "dst"),
                FieldKind::Length { of, .. } if f.decimal => {
                    e += &format!("dst.put_decimal({});", self.length_value(s, fi, of));
                    if let Region::Until(dl) = &f.region {
                        e += &format!("dst.put_slice({});", bytes_lit(dl));
                    }
                }
                FieldKind::Length { ty, of } => {
                    let n = &f.name;
                    match ty {
                        Prefix::Int(i) => {
                            // Patched once its target is written: an absent one leaves
                            // the `else` value.
                            let mask = if i.bits() >= 64 {
                                u64::MAX
                            } else {
                                (1u64 << i.bits()) - 1
                            };
                            let absent = f.len_else.map_or(0, |v| (v as u64) & mask);
                            e += &format!(
                                "let __pos_{} = dst.len(); {}",
                                stem(n),
                                self.write_const(i, absent, "dst")
                            );
                            if *of == LenTarget::From(None) {
                                e += &format!("let __start_{} = dst.len();", stem(n));
                                at_end.push(self.patch_len(s, &lens, n));
                            }
                        }
                        Prefix::Varint { max } => {
                            let size = match (of, f.len_else) {
                                _ if region.as_ref().is_some_and(|(ri, _)| *ri == fi) => {
                                    format!("self.{}()", region.as_ref().map_or("", |r| &r.1))
                                }
                                (LenTarget::Field(x), Some(v)) => format!(
                                    "(if self.{}.is_some() {{ {} }} else {{ {v} }})",
                                    ident(x),
                                    unparen(&sum(self.target_size(s, fi, of)))
                                ),
                                _ => sum(self.target_size(s, fi, of)),
                            };
                            e += &match max {
                                Some(m) => format!(
                                    "dst.put_varint({RT}::check_encode_len({}, {m}, {fl})?);",
                                    unparen(&size)
                                ),
                                None => format!("dst.put_varint({});", as_u64(&size)),
                            };
                        }
                    }
                }
                FieldKind::Bits { ty, parts } => {
                    let mut terms: Vec<String> = Vec::new();
                    for p in parts {
                        match &p.value {
                            PartValue::Stored => terms
                                .push(self.part_to_word(p, &format!("self.{}", ident(&p.name)))),
                            // A zero adds no bits.
                            PartValue::Const(0) => {}
                            PartValue::Const(c) => terms.push(if p.lo == 0 {
                                format!("{c:#x}")
                            } else {
                                format!("({c:#x}u64 << {})", p.lo)
                            }),
                            PartValue::Length(_) => {}
                            PartValue::Present(x) => {
                                let bit = format!("u64::from(self.{}.is_some())", ident(x));
                                terms.push(if p.lo == 0 {
                                    bit
                                } else {
                                    format!("({bit} << {})", p.lo)
                                })
                            }
                        }
                    }
                    let w = format!("__w_{}", stem(&f.name));
                    let value = match terms.as_slice() {
                        [] => "0".to_string(),
                        [one] => unparen(one).to_string(),
                        _ => terms.join(" | "),
                    };
                    // Computed lengths are patched in one after another as their targets
                    // are written: the word keeps each one for the next patch.
                    let computed = parts
                        .iter()
                        .any(|p| matches!(p.value, PartValue::Length(_)));
                    e += &format!(
                        "let {mutable}{w}: u64 = {value}; let __pos_{} = dst.len(); dst.put_uint({w}, {}, {});",
                        stem(&f.name),
                        ty.bytes,
                        ty.endian == Endian::Big,
                        mutable = if computed { "mut " } else { "" },
                    );
                    for p in parts {
                        if p.value == PartValue::Length(LenTarget::From(None)) {
                            e += &format!("let __start_{} = dst.len();", stem(&p.name));
                            at_end.push(self.patch_len(s, &lens, &p.name));
                        }
                    }
                }
                FieldKind::Value(_) | FieldKind::Switch { .. } => {
                    // A conditional field's value is bound to `__x` (a reference) while it is
                    // written.
                    let by_ref = f.cond.is_some();
                    let v = if by_ref {
                        "__x".to_string()
                    } else {
                        format!("self.{}", ident(&f.name))
                    };
                    let own = if by_ref {
                        "*__x".to_string()
                    } else {
                        v.clone()
                    };
                    let body = match &f.kind {
                        FieldKind::Value(Type::Int(i)) if f.decimal => {
                            format!("dst.put_decimal({});", decimal_i64(i, &own))
                        }
                        // A widened value is truncated to its wire width, as Java does.
                        FieldKind::Value(Type::Int(i)) if f.widen.is_some() => self.encode(
                            &Type::Int(*i),
                            &format!("{own} as {}", i.rust()),
                            false,
                            "dst",
                            &f.name,
                        ),
                        FieldKind::Value(t) => self.encode(t, &v, by_ref, "dst", &f.name),
                        FieldKind::Switch { disc, arms, .. } => {
                            let mut m = format!("match self.{} as i128 {{", ident(disc));
                            for (val, enc) in arms {
                                if enc == "binary" {
                                    m += &format!(
                                        "{val} => dst.nested(|w| {RT}::WireMessage::write_to(&{v}, w))?,"
                                    );
                                } else {
                                    m += &format!(
                                        "{val} => dst.with_bytes_mut(|b| {v}.encode_{enc}(b))?,"
                                    );
                                }
                            }
                            m += &format!(
                                "other => return ::std::result::Result::Err({RT}::EncodeError::UnknownDiscriminator {{ path: {fl}, value: other as u64 }}), }}"
                            );
                            m
                        }
                        _ => unreachable!(),
                    };
                    let body = match (&f.region, &f.kind) {
                        (Region::Until(dl), FieldKind::Value(t)) => {
                            let check = match t {
                                Type::String { .. } => format!(
                                    "{RT}::check_no_delimiter({v}.as_bytes(), {}, {fl})?;",
                                    bytes_lit(dl)
                                ),
                                Type::Bytes { .. } => format!(
                                    "{RT}::check_no_delimiter(&{v}[..], {}, {fl})?;",
                                    bytes_lit(dl)
                                ),
                                _ => String::new(),
                            };
                            format!("{check} {body} dst.put_slice({});", bytes_lit(dl))
                        }
                        _ => body,
                    };
                    let mut w = String::new();
                    match (&f.region, sized_by(f).as_deref()) {
                        (Region::Prefixed(Prefix::Int(i)), None) => {
                            w += &format!(
                                "{{ let pos = dst.len(); {} let start = dst.len(); {body} let n = {RT}::check_encode_len(dst.len() - start, {}, {fl})?; dst.patch_uint(pos, n, {}, {}); }}",
                                self.write_const(i, 0, "dst"),
                                i.max_value(),
                                i.bytes,
                                i.endian == Endian::Big
                            );
                        }
                        (Region::Prefixed(Prefix::Varint { max }), None) => {
                            let n = sum(self.value_size(f, &v, by_ref));
                            w += &match max {
                                Some(m) => format!(
                                    "dst.put_varint({RT}::check_encode_len({}, {m}, {fl})?); {body}",
                                    unparen(&n)
                                ),
                                None => format!("dst.put_varint({}); {body}", as_u64(&n)),
                            };
                        }
                        (_, Some(l)) if self.is_decimal_length(s, l) => w += &body,
                        (_, Some(l)) => {
                            w += &format!("let __start_{} = dst.len(); {body}", stem(l));
                            w += &self.patch_len(s, &lens, l);
                        }
                        _ => w += &body,
                    }
                    if f.attrs.iter().any(|a| a == "version")
                        && reads_version(self.p)
                        && let FieldKind::Value(t) = &f.kind
                    {
                        w += &format!("dst.set_version({});", version_u32(t, &own));
                    }
                    e += &match &f.cond {
                        // Written when there; its presence bit says so by construction.
                        Some(c) if self.cond_is_presence_of(s, c, &f.name) => format!(
                            "if let ::std::option::Option::Some(__x) = &self.{} {{ {w} }}",
                            ident(&f.name)
                        ),
                        Some(c) => format!(
                            "match (&self.{name}, {cond}) {{ \
                             (::std::option::Option::Some(__x), true) => {{ {w} }} \
                             (::std::option::Option::None, false) => {{}} \
                             (::std::option::Option::None, true) => return ::std::result::Result::Err({RT}::EncodeError::MissingField {{ path: {fl} }}), \
                             (::std::option::Option::Some(_), false) => return ::std::result::Result::Err({RT}::EncodeError::UnexpectedField {{ path: {fl} }}), }}",
                            name = ident(&f.name),
                            cond = self.cond_bool(s, c, &Side::Encode(&f.name)),
                        ),
                        None => w,
                    };
                }
            }
        }
        for p in at_end.iter().rev() {
            e += p;
        }
        e += "::std::result::Result::Ok(())";

        // ---- size ----
        let (size, helpers) = match &region {
            // The fields before the length, the length, and what it measures.
            Some((fi, method)) => {
                let mut terms: Vec<String> = s.fields[..*fi]
                    .iter()
                    .flat_map(|f| self.field_size(s, f))
                    .collect();
                terms.push(format!("{RT}::varint_len(__n as u64)"));
                terms.push("__n".to_string());
                let f = &s.fields[*fi];
                (
                    format!("let __n = self.{method}(); {}", sum(terms)),
                    format!(
                        "/// The value of `{name}`: the encoded size of the fields after it.\n\
                         fn {method}(&self) -> usize {{ {} }}",
                        sum(self.target_size(s, *fi, &LenTarget::From(None))),
                        name = f.name
                    ),
                )
            }
            None => (
                sum(s
                    .fields
                    .iter()
                    .flat_map(|f| self.field_size(s, f))
                    .collect()),
                String::new(),
            ),
        };
        Bodies {
            decode: d,
            encode: e,
            size,
            helpers,
        }
    }

    /// Patches fixed-width length `l` (a field or a bit part) with `dst.len() - __start_l`.
    fn patch_len(&self, s: &StructDef, lens: &[LengthField], l: &str) -> String {
        let Some((_, _, word)) = lens.iter().find(|(n, _, _)| n == l) else {
            return String::new();
        };
        if self.is_decimal_length(s, l) {
            return String::new();
        }
        match word {
            None => {
                let Some(FieldKind::Length {
                    ty: Prefix::Int(i), ..
                }) = s.fields.iter().find(|f| f.name == l).map(|f| &f.kind)
                else {
                    return String::new();
                };
                format!(
                    "{{ let n = {RT}::check_encode_len(dst.len() - __start_{k}, {}, {})?; dst.patch_uint(__pos_{k}, n, {}, {}); }}",
                    i.max_value(),
                    lit(l),
                    i.bytes,
                    i.endian == Endian::Big,
                    k = stem(l)
                )
            }
            Some((wf, lo, hi)) => {
                let Some(FieldKind::Bits { ty, .. }) =
                    s.fields.iter().find(|f| f.name == *wf).map(|f| &f.kind)
                else {
                    return String::new();
                };
                let shifted = if *lo == 0 {
                    "n".to_string()
                } else {
                    format!("n << {lo}")
                };
                format!(
                    "{{ let n = {RT}::check_bits((dst.len() - __start_{k}) as u64, {}, {})?; __w_{wk} |= {shifted}; dst.patch_uint(__pos_{wk}, __w_{wk}, {}, {}); }}",
                    hi - lo,
                    lit(l),
                    ty.bytes,
                    ty.endian == Endian::Big,
                    k = stem(l),
                    wk = stem(wf)
                )
            }
        }
    }

    /// Size of a stored value `v` (a place) without its region prefix, as terms to add up.
    fn value_size(&self, f: &Field, v: &str, by_ref: bool) -> Vec<String> {
        let own = if by_ref {
            format!("*{v}")
        } else {
            v.to_string()
        };
        match &f.kind {
            FieldKind::Value(Type::Int(i)) if f.decimal => {
                vec![format!("{RT}::decimal_len({})", decimal_i64(i, &own))]
            }
            FieldKind::Value(t) => self.size_terms(t, v, by_ref),
            FieldKind::Switch { ty, disc, arms } => {
                let sname = self.p.types[*ty].name();
                let mut m = format!("match self.{} as i128 {{", ident(disc));
                for (val, enc) in arms {
                    if enc == "binary" {
                        m += &format!("{val} => {v}.encoded_len(),");
                    } else {
                        m += &format!("{val} => {sname}::{enc}_len(&{v}),");
                    }
                }
                m += "_ => 0, }";
                vec![m]
            }
            _ => vec![],
        }
    }

    /// Whether `name` is a computed length field of `s`.
    fn is_length(&self, s: &StructDef, name: &str) -> bool {
        s.fields
            .iter()
            .any(|f| f.name == name && matches!(f.kind, FieldKind::Length { .. }))
    }

    /// Whether `name` is a computed length of `s` written in ASCII decimal.
    fn is_decimal_length(&self, s: &StructDef, name: &str) -> bool {
        s.fields
            .iter()
            .any(|f| f.name == name && f.decimal && matches!(f.kind, FieldKind::Length { .. }))
    }

    /// The value a computed length field number `fi` writes, as an `i64` expression: the
    /// bytes it measures, or the elements of the list it counts; for an absent
    /// (conditional) field its `else` value, else 0.
    fn length_value(&self, s: &StructDef, fi: usize, of: &LenTarget) -> String {
        match of {
            LenTarget::Field(x) => {
                let Some(g) = s.fields.iter().find(|g| g.name == *x) else {
                    return "0i64".into();
                };
                let (place, by_ref) = if g.cond.is_some() {
                    ("__x".to_string(), true)
                } else {
                    (format!("self.{}", ident(x)), false)
                };
                let inner = if matches!(g.region, Region::Count(_)) {
                    format!("{place}.len()")
                } else {
                    sum(self.value_size(g, &place, by_ref))
                };
                // `__x.len() as i64`, `(a + b) as i64`.
                let inner = unparen(&inner);
                let inner = if inner.contains(' ') {
                    format!("({inner})")
                } else {
                    inner.to_string()
                };
                if g.cond.is_some() {
                    let absent = s.fields.get(fi).and_then(|f| f.len_else).unwrap_or(0);
                    format!(
                        "self.{}.as_ref().map_or({absent}i64, |__x| {inner} as i64)",
                        ident(x),
                    )
                } else {
                    format!("{inner} as i64")
                }
            }
            LenTarget::From(_) => {
                format!("({}) as i64", unparen(&sum(self.target_size(s, fi, of))))
            }
        }
    }

    /// Size of what length field number `fi` measures, as terms.
    fn target_size(&self, s: &StructDef, fi: usize, of: &LenTarget) -> Vec<String> {
        let range: Vec<&Field> = match of {
            LenTarget::Field(x) => s.fields.iter().filter(|g| g.name == *x).collect(),
            LenTarget::From(start) => {
                let from = match start {
                    None => fi + 1,
                    Some(x) => s.fields.iter().position(|g| g.name == *x).unwrap_or(fi + 1),
                };
                s.fields[from.min(s.fields.len())..].iter().collect()
            }
        };
        range.iter().flat_map(|g| self.field_size(s, g)).collect()
    }

    /// Encoded size of a whole field, prefix included, as terms.
    fn field_size(&self, s: &StructDef, f: &Field) -> Vec<String> {
        let delim = match &f.region {
            Region::Until(d) => d.len(),
            _ => 0,
        };
        match &f.kind {
            FieldKind::Literal(b) => match &f.cond {
                Some(c) => vec![format!(
                    "if {} {{ {} }} else {{ 0 }}",
                    unparen(&self.cond_bool(s, c, &Side::Encode(&f.name))),
                    b.len()
                )],
                None => vec![b.len().to_string()],
            },
            FieldKind::Length { of, .. } if f.decimal => {
                let fi = s.fields.iter().position(|g| g.name == f.name).unwrap_or(0);
                vec![
                    format!("{RT}::decimal_len({})", self.length_value(s, fi, of)),
                    delim.to_string(),
                ]
            }
            FieldKind::Const { ty, .. } | FieldKind::Bits { ty, .. } => vec![ty.bytes.to_string()],
            FieldKind::Length {
                ty: Prefix::Int(i), ..
            } => vec![i.bytes.to_string()],
            FieldKind::Length {
                ty: Prefix::Varint { .. },
                of,
            } => {
                let fi = s.fields.iter().position(|g| g.name == f.name).unwrap_or(0);
                let n = sum(self.target_size(s, fi, of));
                // A size known here (what a constant-size region measures) needs no call.
                match n.parse::<u64>() {
                    Ok(k) => vec![varint_len(k).to_string()],
                    Err(_) => vec![format!("{RT}::varint_len({} as u64)", atom(&n))],
                }
            }
            FieldKind::Value(_) | FieldKind::Switch { .. } => {
                let by_ref = f.cond.is_some();
                let place = if by_ref {
                    "__x".to_string()
                } else {
                    format!("self.{}", ident(&f.name))
                };
                let mut v = self.value_size(f, &place, by_ref);
                if delim > 0 {
                    v.push(delim.to_string());
                }
                match &f.region {
                    Region::Prefixed(Prefix::Int(i)) => v.push(i.bytes.to_string()),
                    Region::Prefixed(Prefix::Varint { .. }) => {
                        v = vec![format!(
                            "{{ let n = {}; {RT}::varint_len(n as u64) + n }}",
                            sum(v)
                        )]
                    }
                    _ => {}
                }
                if f.cond.is_some() {
                    v = vec![format!(
                        "self.{}.as_ref().map_or(0, |__x| {})",
                        ident(&f.name),
                        sum(v)
                    )];
                }
                v
            }
        }
    }
}

/// A byte-string literal of `b`: printable ASCII as it is, `\r`, `\n` and `\t` as
/// such, the rest as `\xNN`.
fn bytes_lit(b: &[u8]) -> String {
    let mut out = String::from("b\"");
    for &c in b {
        match c {
            b'\r' => out += "\\r",
            b'\n' => out += "\\n",
            b'\t' => out += "\\t",
            b'"' => out += "\\\"",
            b'\\' => out += "\\\\",
            0x20..=0x7e => out.push(char::from(c)),
            _ => out += &format!("\\x{c:02x}"),
        }
    }
    out + "\""
}

/// A `decimal<T>` value `v` as the `i64` its text is written from (`T` is at most `i64`
/// wide and never `u64`).
fn decimal_i64(i: &IntType, v: &str) -> String {
    if i.bytes == 8 {
        v.to_string()
    } else {
        format!("i64::from({v})")
    }
}

/// Reads field `f`'s ASCII decimal (an `i64`) from reader `r`, over its region.
fn read_decimal(f: &Field, r: &str) -> String {
    let fl = lit(&f.name);
    match &f.region {
        Region::Until(d) => format!("{r}.decimal_until({}, {fl})?", bytes_lit(d)),
        _ => format!("{r}.decimal_rest({fl})?"),
    }
}

/// Whether rustc takes `name` for snake case: past its leading and trailing `_`, no upper
/// case letter and no `__`.
fn is_snake(name: &str) -> bool {
    !name.trim_matches('_').contains("__") && !name.chars().any(char::is_uppercase)
}

/// What the generated locals of a field or bit part are named after (`__at_{stem}`,
/// `__len_{stem}`): its name when that continues such a name in snake case, else `0`
/// and its bytes in hex (`fooBar` → `0666f6f426172`). No name starts with a digit, so
/// the two kinds never meet, and the locals stay snake case.
fn stem(name: &str) -> String {
    if is_snake(name) && !name.starts_with('_') {
        name.to_string()
    } else {
        std::iter::once("0".to_string())
            .chain(name.bytes().map(|b| format!("{b:02x}")))
            .collect()
    }
}

/// Bits `lo..hi` of word `w` (a u64 holding a `word_bits`-bit integer), without no-op
/// shifts or masks.
fn extract(w: &str, lo: u32, hi: u32, word_bits: u32) -> String {
    let shifted = if lo == 0 {
        w.to_string()
    } else {
        format!("({w} >> {lo})")
    };
    if hi >= word_bits.min(64) {
        unparen(&shifted).to_string()
    } else {
        format!("{shifted} & {}", mask(hi - lo))
    }
}

/// A wire integer read as `from`, held as `to`: `From` when lossless, else a cast.
fn widen_read(from: &IntType, to: &IntType, expr: &str) -> String {
    let (fb, tb) = (rust_bits(from), rust_bits(to));
    let lossless = (from.signed == to.signed && tb >= fb) || (!from.signed && to.signed && tb > fb);
    if fb == tb && from.signed == to.signed {
        expr.to_string()
    } else if lossless {
        format!("{}::from({expr})", to.rust())
    } else {
        format!("({expr}) as {}", to.rust())
    }
}

fn rust_bits(i: &IntType) -> u32 {
    match i.bytes {
        1 => 8,
        2 => 16,
        3 | 4 => 32,
        _ => 64,
    }
}

/// Where a condition is evaluated: while decoding (earlier fields are locals, the version
/// is the reader's) or while encoding (fields are `self`'s, the version the writer's).
pub(crate) enum Side<'a> {
    /// In `decode_from`, reading from the reader named here.
    Decode(&'a str),
    /// In `write_to`, writing the field named here through the cursor `dst`.
    Encode(&'a str),
    /// Over a whole value bound to the name here, with the version in `version` (an
    /// `exchange` rule's condition over a received message).
    Value(&'a str),
}

/// What a name in a condition stands for.
enum Operand {
    /// A bool expression.
    Bool(String),
    /// An integer expression of a Rust integer type, holding values in `min..=max`.
    Int {
        /// The expression.
        expr: String,
        /// Its smallest value.
        min: i128,
        /// Its largest value.
        max: i128,
    },
    /// An integer literal.
    Lit(i128),
}

impl Operand {
    fn int(expr: String, i: &IntType) -> Operand {
        Operand::Int {
            expr,
            min: i.min_value(),
            max: i128::from(i.max_value()),
        }
    }

    /// The operand as an `i128` expression.
    fn wide(&self) -> String {
        match self {
            Operand::Bool(e) | Operand::Int { expr: e, .. } => format!("i128::from({e})"),
            Operand::Lit(n) => format!("{n}i128"),
        }
    }
}

impl Gen<'_> {
    /// The value a condition refers to by `name`, on `side`.
    fn operand(&self, s: &StructDef, name: &str, side: &Side) -> Operand {
        let place = |n: &str| match side {
            Side::Decode(_) => self.local(n),
            Side::Encode(_) => format!("self.{}", ident(n)),
            Side::Value(v) => format!("{v}.{}", ident(n)),
        };
        let typed = |t: &Type, v: String| match t {
            Type::Bool => Operand::Bool(v),
            Type::Int(i) => Operand::int(v, i),
            Type::Varint { signed: false, max } => Operand::Int {
                expr: v,
                min: 0,
                max: i128::from(max.unwrap_or(u64::MAX)),
            },
            Type::Varint { signed: true, .. } => Operand::Int {
                expr: v,
                min: i128::from(i64::MIN),
                max: i128::from(i64::MAX),
            },
            Type::Named(i) => match &self.p.types[*i] {
                TypeDef::Enum(e) => Operand::int(format!("{v}.to_repr()"), &e.repr),
                TypeDef::Flags(f) => Operand::int(
                    format!("{v}.bits()"),
                    &IntType {
                        signed: false,
                        ..f.repr
                    },
                ),
                _ => Operand::Bool("false".into()),
            },
            _ => Operand::Bool("false".into()),
        };
        for (fi, f) in s.fields.iter().enumerate() {
            match &f.kind {
                FieldKind::Value(t) if f.name == name => {
                    let t = f.widen.map_or_else(|| t.clone(), Type::Int);
                    return typed(&t, place(name));
                }
                // A computed length: as read, or as it will be written (-1 for an absent
                // field).
                FieldKind::Length { of, .. } if f.name == name => {
                    let expr = match side {
                        Side::Decode(_) => format!("__len_{}", stem(name)),
                        Side::Encode(_) => self.length_value(s, fi, of),
                        Side::Value(_) => return Operand::Bool("false".into()),
                    };
                    return Operand::Int {
                        expr,
                        min: i128::from(i64::MIN),
                        max: i128::from(i64::MAX),
                    };
                }
                FieldKind::Bits { parts, .. } => {
                    if let Some(p) = parts.iter().find(|p| p.name == name) {
                        return match (&p.value, side) {
                            (PartValue::Present(x), Side::Encode(_)) => {
                                Operand::Bool(format!("self.{}.is_some()", ident(x)))
                            }
                            (PartValue::Present(x), Side::Value(v)) => {
                                Operand::Bool(format!("{v}.{}.is_some()", ident(x)))
                            }
                            (PartValue::Present(_), Side::Decode(_)) => {
                                Operand::Bool(self.local(name))
                            }
                            _ => typed(&p.ty, place(name)),
                        };
                    }
                }
                _ => {}
            }
        }
        // The checker lets no other name through.
        Operand::Bool("false".into())
    }

    fn operand_of(&self, s: &StructDef, c: &Cond, side: &Side) -> Operand {
        match c {
            Cond::Int(n, _) => Operand::Lit(*n),
            Cond::Ref(n, _) => self.operand(s, n, side),
            Cond::Version => Operand::Int {
                expr: match side {
                    Side::Decode(r) => format!("{r}.version()"),
                    Side::Encode(_) => "dst.version()".into(),
                    Side::Value(_) => "version".into(),
                },
                min: 0,
                max: i128::from(u32::MAX),
            },
            // An optional tail: read when bytes are left, written when the field is there.
            Cond::More => Operand::Bool(match side {
                Side::Decode(r) => format!("({r}.remaining() > 0)"),
                Side::Encode(f) => format!("self.{}.is_some()", ident(f)),
                // Checks keep `@more` out of conditions over whole values.
                Side::Value(_) => "false".into(),
            }),
            other => Operand::Bool(self.cond_bool(s, other, side)),
        }
    }

    /// A condition as a Rust `bool` expression.
    pub(crate) fn cond_bool(&self, s: &StructDef, c: &Cond, side: &Side) -> String {
        match c {
            // A literal within the other side's type compares in that type (`qos.to_repr()
            // > 0`); anything else in i128.
            Cond::Cmp(op, a, b) => {
                let (a, b) = (self.operand_of(s, a, side), self.operand_of(s, b, side));
                // A comparison the other side's range decides is written as its result
                // (Rust lints `x < 0` on an unsigned `x`).
                let fixed = match (&a, &b) {
                    (Operand::Int { min, max, .. }, Operand::Lit(n)) => {
                        decided(*op, *min, *max, *n)
                    }
                    (Operand::Lit(n), Operand::Int { min, max, .. }) => {
                        decided(op.flipped(), *min, *max, *n)
                    }
                    _ => None,
                };
                if let Some(v) = fixed {
                    return v.to_string();
                }
                let (l, r) = match (&a, &b) {
                    (Operand::Int { expr, min, max }, Operand::Lit(n))
                        if (*min..=*max).contains(n) =>
                    {
                        (expr.clone(), n.to_string())
                    }
                    (Operand::Lit(n), Operand::Int { expr, min, max })
                        if (*min..=*max).contains(n) =>
                    {
                        (n.to_string(), expr.clone())
                    }
                    _ => (a.wide(), b.wide()),
                };
                format!("({l} {} {r})", op.as_str())
            }
            Cond::And(a, b) => format!(
                "({} && {})",
                self.cond_bool(s, a, side),
                self.cond_bool(s, b, side)
            ),
            Cond::Or(a, b) => format!(
                "({} || {})",
                self.cond_bool(s, a, side),
                self.cond_bool(s, b, side)
            ),
            Cond::Not(a) => format!("!{}", atom(&self.cond_bool(s, a, side))),
            atomic => match self.operand_of(s, atomic, side) {
                Operand::Bool(e) => e,
                Operand::Int { expr, .. } => format!("({expr} != 0)"),
                Operand::Lit(n) => (n != 0).to_string(),
            },
        }
    }

    /// True when `c` is just the presence bit of field `field` (`if has_x` with
    /// `has_x: bool bits 0..1 = present(x)`): the bit is computed from the field, so the
    /// two cannot disagree.
    fn cond_is_presence_of(&self, s: &StructDef, c: &Cond, field: &str) -> bool {
        let Cond::Ref(n, _) = c else { return false };
        s.fields.iter().any(|f| match &f.kind {
            FieldKind::Bits { parts, .. } => parts
                .iter()
                .any(|p| p.name == *n && p.value == PartValue::Present(field.to_string())),
            _ => false,
        })
    }
}

/// The `u32` version an integer field marked `@version` sets (a value beyond `u32` sets
/// the largest).
pub(super) fn version_u32(t: &Type, v: &str) -> String {
    match t {
        Type::Int(i) if !i.signed && i.bytes <= 4 => format!("u32::from({v})"),
        _ => format!("u32::try_from({v}).unwrap_or(u32::MAX)"),
    }
}

/// Whether any condition of the protocol reads `@version` (only then do `@version` fields
/// set it while reading and writing).
pub fn reads_version(p: &Protocol) -> bool {
    p.types.iter().any(|t| match t {
        TypeDef::Struct(s) => s.fields.iter().any(|f| {
            f.cond.as_ref().is_some_and(|c| {
                let mut found = false;
                c.walk(&mut |c| found |= *c == Cond::Version);
                found
            })
        }),
        _ => false,
    })
}

/// The result of `x op n` for every `x` in `min..=max`, when the range decides it.
fn decided(op: CmpOp, min: i128, max: i128, n: i128) -> Option<bool> {
    match op {
        CmpOp::Lt if n <= min => Some(false),
        CmpOp::Lt if n > max => Some(true),
        CmpOp::Le if n < min => Some(false),
        CmpOp::Le if n >= max => Some(true),
        CmpOp::Gt if n >= max => Some(false),
        CmpOp::Gt if n < min => Some(true),
        CmpOp::Ge if n > max => Some(false),
        CmpOp::Ge if n <= min => Some(true),
        CmpOp::Eq if n < min || n > max => Some(false),
        CmpOp::Eq if min == max => Some(true),
        CmpOp::Ne if n < min || n > max => Some(true),
        CmpOp::Ne if min == max => Some(false),
        _ => None,
    }
}

/// Bytes a LEB128 varint of `v` takes (sizes the emitter knows while it writes code).
pub(super) fn varint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).div_ceil(7).max(1)
}

/// A `usize` expression as `u64` (a literal stays a literal).
fn as_u64(e: &str) -> String {
    if e.parse::<u64>().is_ok() {
        e.to_string()
    } else {
        format!("{} as u64", atom(e))
    }
}
