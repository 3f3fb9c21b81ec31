//! Every semantic rule of the IR, one function each; all errors are collected and reported
//! together. Both front ends run these checks, so a rule is written once.

use super::*;
use crate::diag::Diagnostic;

mod exchange;
mod shapes;
pub use shapes::{keyed_values, union_key};

/// Runs every check; `Ok` means the emitter may rely on the IR's invariants.
pub fn check(p: &Protocol) -> Result<(), Vec<Diagnostic>> {
    let mut errs = Vec::new();
    check_enums(p, &mut errs);
    for (i, t) in p.types.iter().enumerate() {
        if let TypeDef::Struct(s) = t {
            check_struct(p, i, s, &mut errs);
        }
    }
    check_recursion(p, &mut errs);
    check_frame(p, &mut errs);
    check_services(p, &mut errs);
    check_handshake(p, &mut errs);
    check_names(p, &mut errs);
    check_service_roles(p, &mut errs);
    check_limits(p, &mut errs);
    check_open_structs(p, &mut errs);
    check_reserved(p, &mut errs);
    check_constructible(p, &mut errs);
    check_echo(p, &mut errs);
    check_encodings(p, &mut errs);
    check_headers(p, &mut errs);
    check_handshake_roles(p, &mut errs);
    check_length_order(p, &mut errs);
    shapes::check(p, &mut errs);
    exchange::check(p, &mut errs);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Suspicious but valid input in a protocol that passed [`check()`]: warnings a build may
/// deny. Both front ends run it after [`check()`].
pub fn warnings(p: &Protocol) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    warn_statuses(p, &mut out);
    warn_frame_limit(p, &mut out);
    out
}

/// A service's generated server answers with the `responses` enum's `@success`,
/// `@system_error`, `@not_supported` and `@busy` codes; without them it uses 0 and 1,
/// which the enum may not have or may mean something else by.
fn warn_statuses(p: &Protocol, out: &mut Vec<Diagnostic>) {
    let Some(TypeDef::Enum(e)) = p.responses.map(|i| &p.types[i]) else {
        return;
    };
    if p.services.iter().all(|s| s.rpcs.is_empty()) {
        return;
    }
    for (attr, fallback, role) in [
        ("success", 0, "a successful response"),
        ("system_error", 1, "a failed request"),
    ] {
        if e.variants.iter().any(|v| v.attrs.iter().any(|a| a == attr)) {
            continue;
        }
        let meaning = match e.variants.iter().find(|v| v.value == fallback) {
            Some(v) => format!("which is `{}` here", v.name),
            None => "which no variant has".to_string(),
        };
        out.push(
            Diagnostic::warning(
                e.span,
                format!(
                    "no variant of `{}` is `@{attr}`, so {role} gets code {fallback}, {meaning}",
                    e.name
                ),
                format!("no `@{attr}`"),
            )
            .code("W0301")
            .help(format!("mark the code for {role} `@{attr}`")),
        );
    }
}

/// A frame limit above what the frame's length field can describe is never reached:
/// frames stop at the field's maximum.
fn warn_frame_limit(p: &Protocol, out: &mut Vec<Diagnostic>) {
    if p.limits.written[0].is_some() {
        return; // An explicit limit is checked by `check_limits`.
    }
    if let Some((cap, f)) = frame_capacity(p)
        && p.limits.max_frame_len > cap
    {
        out.push(
            Diagnostic::warning(
                PartSpans::or(f.at.ty, f.span),
                format!(
                    "`{}` describes frames of at most {cap} bytes, less than the default `max_frame_len` of {}",
                    f.name, p.limits.max_frame_len
                ),
                format!("at most {cap} bytes"),
            )
            .code("W0302")
            .help(format!("declare `limits {{ max_frame_len = {cap} }}` (or less), or widen `{}`", f.name)),
        );
    }
}

fn check_enums(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    for t in &p.types {
        let (variants, what, repr, is_flags) = match t {
            TypeDef::Enum(e) => (&e.variants, "value", e.repr, false),
            TypeDef::Flags(f) => (&f.bits, "bit", f.repr, true),
            TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => continue,
        };
        for (i, v) in variants.iter().enumerate() {
            if let Some(first) = variants[..i].iter().find(|w| w.name == v.name) {
                errs.push(
                    Diagnostic::error(
                        v.span,
                        format!("`{}` is declared twice in `{}`", v.name, t.name()),
                        "second declaration",
                    )
                    .code("E0301")
                    .note(first.span, "first declared here")
                    .help(format!(
                        "rename one of them or remove the second `{}`",
                        v.name
                    )),
                );
            } else if let Some(first) = variants[..i].iter().find(|w| w.value == v.value) {
                errs.push(
                    Diagnostic::error(
                        v.span,
                        format!("{what} {} is used twice in `{}`", v.value, t.name()),
                        format!("also the {what} of `{}`", first.name),
                    )
                    .code("E0302")
                    .note(first.span, format!("`{}` has it first", first.name))
                    .help(format!("give `{}` its own {what}", v.name)),
                );
            }
            let out = if is_flags {
                v.value < 0 || v.value >= i128::from(repr.bits())
            } else {
                v.value < repr.min_value() || v.value > i128::from(repr.max_value())
            };
            if out {
                let range = if is_flags {
                    format!("bits 0 to {}", repr.bits() - 1)
                } else {
                    format!("{} to {}", repr.min_value(), repr.max_value())
                };
                errs.push(
                    Diagnostic::error(
                        v.span,
                        format!(
                            "{what} {} does not fit in `{}`'s {}",
                            v.value,
                            t.name(),
                            repr.rust()
                        ),
                        "out of range",
                    )
                    .code("E0303")
                    .help(format!(
                        "`{}` holds {range}; widen the representation or change the {what}",
                        repr.rust()
                    )),
                );
            }
        }
    }
}

/// Smallest number of bytes a value of `ty` takes (used to bound counts before allocating).
pub fn min_size(p: &Protocol, ty: &Type) -> usize {
    min_size_depth(p, ty, 0)
}

fn min_size_depth(p: &Protocol, ty: &Type, depth: usize) -> usize {
    if depth > 32 {
        return 0;
    }
    match ty {
        Type::Int(i) => usize::from(i.bytes),
        Type::Varint { .. } | Type::Bool => 1,
        Type::String { prefix, .. } | Type::Bytes { prefix, .. } => {
            prefix.map_or(0, |x| x.min_size())
        }
        Type::List { count, .. } | Type::Map { count, .. } => count.map_or(0, |x| x.min_size()),
        Type::Optional { inner, repr } => match repr {
            OptRepr::Presence => 1,
            OptRepr::EmptyIsNone => min_size_depth(p, inner, depth + 1),
        },
        Type::Named(i) => match &p.types[*i] {
            TypeDef::Enum(e) => usize::from(e.repr.bytes),
            TypeDef::Flags(f) => usize::from(f.repr.bytes),
            TypeDef::Struct(s) => s
                .fields
                .iter()
                .map(|f| field_min_size(p, f, depth + 1))
                .sum(),
            TypeDef::Union(u) => u
                .arms
                .iter()
                .map(|a| min_size_depth(p, &Type::Named(a.ty), depth + 1))
                .min()
                .unwrap_or(0),
            TypeDef::Tagged(_) => 0,
        },
    }
}

fn field_min_size(p: &Protocol, f: &Field, depth: usize) -> usize {
    // A conditional field may be absent.
    if f.cond.is_some() {
        return 0;
    }
    let inner = match &f.kind {
        FieldKind::Value(t) => min_size_depth(p, t, depth),
        FieldKind::Literal(b) => b.len(),
        FieldKind::Const { ty, .. } | FieldKind::Bits { ty, .. } => usize::from(ty.bytes),
        FieldKind::Length { .. } if f.decimal => 1,
        FieldKind::Length { ty, .. } => ty.min_size(),
        FieldKind::Switch { .. } => 0,
    };
    match &f.region {
        Region::Prefixed(x) => x.min_size(),
        Region::Until(d) => d.len() + if f.decimal { 1 } else { 0 },
        Region::Inline => inner,
        _ => 0,
    }
}

fn check_type(p: &Protocol, ty: &Type, f: &Field, top: bool, errs: &mut Vec<Diagnostic>) {
    match ty {
        Type::String {
            prefix: Some(x),
            max: Some(m),
        }
        | Type::Bytes {
            prefix: Some(x),
            max: Some(m),
        } if *m > x.max_len() => {
            errs.push(
                Diagnostic::error(
                    f.span,
                    format!(
                        "the length prefix of `{}` cannot express its maximum {m}",
                        f.name
                    ),
                    "prefix too small",
                )
                .code("E0304")
                .help(format!(
                    "a prefix of this width holds at most {}; widen it or lower `max`",
                    x.max_len()
                )),
            );
        }
        Type::String { prefix: None, .. } | Type::Bytes { prefix: None, .. }
            if !top || f.region == Region::Inline =>
        {
            errs.push(Diagnostic::error(PartSpans::or(f.at.ty, f.span), format!("`{}` has no length", f.name), "extent unknown")
                .code("E0305")
                .help("give it a prefix (`string<u16>`), or mark the field `rest` or `sized_by <length field>`"));
        }
        Type::List { elem, count } => {
            if count.is_none() && min_size(p, elem) == 0 {
                errs.push(
                    Diagnostic::error(
                        f.span,
                        format!(
                            "the elements of `{}` can be empty, so its end cannot be found",
                            f.name
                        ),
                        "ambiguous list",
                    )
                    .code("E0306")
                    .help("give the list a count prefix: `list<T, u16>`"),
                );
            }
            check_type(p, elem, f, false, errs);
        }
        Type::Map { key, value, .. } => {
            check_type(p, key, f, false, errs);
            check_type(p, value, f, false, errs);
        }
        Type::Optional { inner, repr } => {
            if *repr == OptRepr::EmptyIsNone
                && !matches!(
                    **inner,
                    Type::String { .. } | Type::Bytes { .. } | Type::List { .. } | Type::Map { .. }
                )
            {
                errs.push(
                    Diagnostic::error(
                        f.span,
                        "`@empty_is_none` applies to optional strings, bytes, lists and maps",
                        "not a string, bytes, list or map",
                    )
                    .code("E0307")
                    .help("remove the attribute; other optionals use a presence byte"),
                );
            }
            check_type(p, inner, f, top && *repr == OptRepr::EmptyIsNone, errs);
        }
        _ => {}
    }
}

/// A `header` field travels as one string: scalars, strings, enums and flags only.
fn check_header_field(p: &Protocol, ty: &Type, f: &Field, errs: &mut Vec<Diagnostic>) {
    let inner = match ty {
        Type::Optional { inner, .. } => &**inner,
        t => t,
    };
    let ok = match inner {
        Type::Int(_) | Type::Varint { .. } | Type::Bool | Type::String { .. } => true,
        Type::Named(i) => !matches!(p.types[*i], TypeDef::Struct(_)),
        _ => false,
    };
    if !ok {
        errs.push(
            Diagnostic::error(
                f.span,
                format!("header field `{}` cannot be carried as a string", f.name),
                "not a scalar",
            )
            .code("E0308")
            .help(
                "header fields are strings, integers, bools, enums or flags (each optionally `?`)",
            ),
        );
    }
}

/// `as` and `@default` apply to integer (and enum) values.
fn check_widen_default(p: &Protocol, f: &Field, errs: &mut Vec<Diagnostic>) {
    if f.widen.is_some() && !matches!(f.kind, FieldKind::Value(Type::Int(_))) {
        errs.push(
            Diagnostic::error(
                f.span,
                format!("`{}` is widened with `as` but is not an integer", f.name),
                "not an integer",
            )
            .code("E0309")
            .help("`as` gives a narrower wire integer a wider Rust type, e.g. `code: i16 as i32`"),
        );
    }
    if let (Some(w), FieldKind::Value(Type::Int(i))) = (f.widen, &f.kind)
        && (w.min_value() > i.min_value() || w.max_value() < i.max_value())
    {
        errs.push(
            Diagnostic::error(
                PartSpans::or(f.at.ty, f.span),
                format!(
                    "`{}` travels as `{}` but would be held as `{}`, which cannot hold every `{}`",
                    f.name,
                    i.rust(),
                    w.rust(),
                    i.rust()
                ),
                "narrower than the wire",
            )
            .code("E0309")
            .help(format!(
                "`as` widens: hold it as a type with every value of `{}` (e.g. `{} as i64`)",
                i.rust(),
                i.rust()
            )),
        );
    }
    if let Some(d) = f.default {
        let range = match &f.kind {
            FieldKind::Value(Type::Int(i)) => {
                // A widened value travels at its wire width: the default must fit that.
                Some((i.min_value(), i128::from(i.max_value())))
            }
            FieldKind::Value(Type::Varint { signed: false, max }) => {
                Some((0, i128::from(max.unwrap_or(u64::MAX))))
            }
            FieldKind::Value(Type::Varint { signed: true, .. }) => {
                Some((i128::from(i64::MIN), i128::from(i64::MAX)))
            }
            FieldKind::Value(Type::Named(i)) => match &p.types[*i] {
                // The generated default converts the value through `i64`.
                TypeDef::Enum(e) => e
                    .variants
                    .iter()
                    .any(|v| v.value == d && i64::try_from(d).is_ok())
                    .then_some((d, d))
                    .or(Some((1, 0))),
                _ => None,
            },
            _ => None,
        };
        match range {
            None => errs.push(
                Diagnostic::error(
                    PartSpans::or(f.at.default, f.span),
                    format!("`@default` does not apply to `{}`", f.name),
                    "not an integer or enum",
                )
                .code("E0310")
                .help("`@default(n)` sets the starting value of an integer or enum field"),
            ),
            Some((lo, hi)) if d < lo || d > hi => errs.push(
                Diagnostic::error(
                    PartSpans::or(f.at.default, f.span),
                    format!("default {d} is not a value of `{}`", f.name),
                    "out of range",
                )
                .code("E0311")
                .help(
                    if i64::try_from(d).is_err()
                        && matches!(f.kind, FieldKind::Value(Type::Named(_)))
                    {
                        "an enum's default is a variant's value from i64::MIN to i64::MAX"
                    } else {
                        "give a value the field's type holds (for an enum, a variant's value)"
                    },
                ),
            ),
            _ => {}
        }
    }
}

fn names_in(s: &StructDef) -> Vec<(&str, Span)> {
    let mut out = Vec::new();
    for f in &s.fields {
        if let FieldKind::Bits { parts, .. } = &f.kind {
            out.push((f.name.as_str(), f.span));
            for part in parts {
                out.push((part.name.as_str(), part.span));
            }
        } else {
            out.push((f.name.as_str(), f.span));
        }
    }
    out
}

fn check_struct(p: &Protocol, _idx: usize, s: &StructDef, errs: &mut Vec<Diagnostic>) {
    for f in &s.fields {
        check_widen_default(p, f, errs);
    }
    check_one_extent(s, errs);
    let names = names_in(s);
    for (i, (n, sp)) in names.iter().enumerate() {
        if let Some((_, first)) = names[..i].iter().find(|(m, _)| m == n) {
            errs.push(
                Diagnostic::error(
                    *sp,
                    format!("field `{n}` is declared twice in `{}`", s.name),
                    "second declaration",
                )
                .code("E0312")
                .note(*first, "first declared here")
                .help("rename one of them"),
            );
        }
    }
    let known = |n: &str| names.iter().position(|(m, _)| *m == n);
    let len_target = |t: &LenTarget, sp: Span, errs: &mut Vec<Diagnostic>| {
        let name = match t {
            LenTarget::Field(n) | LenTarget::From(Some(n)) => n,
            LenTarget::From(None) => return,
        };
        if known(name).is_none() {
            let hint = super::lower_hint(name, names.iter().map(|(n, _)| n.to_string()));
            errs.push(
                Diagnostic::error(
                    sp,
                    format!(
                        "the length names a field `{name}` that `{}` does not have",
                        s.name
                    ),
                    "no such field",
                )
                .code("E0313")
                .help(hint.unwrap_or_else(|| "name a field declared in the same struct".into())),
            );
        }
    };
    let mut corr = None;
    let mut kind = None;
    for (fi, f) in s.fields.iter().enumerate() {
        if f.region == Region::Rest && fi + 1 != s.fields.len() {
            errs.push(
                Diagnostic::error(
                    f.span,
                    format!("`{}` takes the rest, so it must be the last field", f.name),
                    "not last",
                )
                .code("E0314")
                .note(s.fields[fi + 1].span, "followed by this field")
                .help("move it to the end, or give it a length"),
            );
        }
        if let Region::SizedBy(by) = &f.region {
            let is_len = s.fields[..fi].iter().any(|g| match &g.kind {
                // A length naming a field that does not exist is reported already.
                FieldKind::Length {
                    of: LenTarget::Field(t),
                    ..
                } => g.name == *by && (*t == f.name || known(t).is_none()),
                FieldKind::Bits { parts, .. } => parts.iter().any(|pt| {
                    pt.name == *by
                        && matches!(&pt.value, PartValue::Length(LenTarget::Field(t))
                            if *t == f.name || known(t).is_none())
                }),
                _ => false,
            });
            if !is_len {
                errs.push(
                    Diagnostic::error(
                        f.span,
                        format!(
                            "`{}` is sized by `{by}`, which is not an earlier `len({})` field",
                            f.name, f.name
                        ),
                        "no matching length field",
                    )
                    .code("E0315")
                    .help(format!(
                        "declare `{by}: u32 = len({})` before this field",
                        f.name
                    )),
                );
            }
        }
        match &f.kind {
            FieldKind::Value(t) if s.header_only => check_header_field(p, t, f, errs),
            FieldKind::Value(t) => check_type(p, t, f, true, errs),
            FieldKind::Length { of, .. } => len_target(of, f.span, errs),
            FieldKind::Const { .. } | FieldKind::Literal(_) => {}
            FieldKind::Bits { ty, parts } => {
                let mut used: Vec<(u32, u32, &BitPart)> = Vec::new();
                for part in parts {
                    if part.lo >= part.hi || part.hi > ty.bits() {
                        errs.push(
                            Diagnostic::error(
                                part.span,
                                format!(
                                    "bits {}..{} of `{}` are outside the {}-bit `{}`",
                                    part.lo,
                                    part.hi,
                                    part.name,
                                    ty.bits(),
                                    f.name
                                ),
                                "out of the integer",
                            )
                            .code("E0316")
                            .help(format!("use a range within 0..{}", ty.bits())),
                        );
                        continue;
                    }
                    if let Some((_, _, other)) = used
                        .iter()
                        .find(|(lo, hi, _)| part.lo < *hi && *lo < part.hi)
                    {
                        errs.push(
                            Diagnostic::error(
                                part.span,
                                format!(
                                    "bits of `{}` overlap those of `{}`",
                                    part.name, other.name
                                ),
                                "overlapping bits",
                            )
                            .code("E0317")
                            .note(other.span, "these bits")
                            .help("give each part its own bits"),
                        );
                    }
                    used.push((part.lo, part.hi, part));
                    let width = part.hi - part.lo;
                    let ok = match &part.ty {
                        Type::Int(i) => !i.signed && width <= i.bits(),
                        Type::Bool => width == 1,
                        Type::Named(n) => {
                            matches!(&p.types[*n], TypeDef::Enum(_) | TypeDef::Flags(_))
                        }
                        _ => false,
                    };
                    if !ok {
                        errs.push(Diagnostic::error(PartSpans::or(part.at.ty, part.span), format!("`{}` cannot hold {width} packed bit(s)", part.name), "wrong part type")
                            .code("E0318")
                            .help("a part is an unsigned integer at least as wide as its bits, a bool (1 bit), an enum or flags"));
                    }
                    if let PartValue::Length(t) = &part.value {
                        len_target(t, part.span, errs);
                    }
                    if let PartValue::Const(c) = part.value
                        && width < 64
                        && c >> width != 0
                    {
                        errs.push(
                            Diagnostic::error(PartSpans::or(part.at.value, part.span), format!("constant {} does not fit the {width} bit(s) of `{}`", c as i64, part.name), "too wide")
                                .code("E0352")
                                .help(format!("a {width}-bit part holds 0 to {}; widen the part or change the constant", (1u128 << width) - 1)),
                        );
                    }
                }
            }
            FieldKind::Switch { ty, disc, arms } => {
                let TypeDef::Struct(target) = &p.types[*ty] else {
                    errs.push(
                        Diagnostic::error(
                            f.span,
                            format!("`{}` chooses an encoding but is not a struct", f.name),
                            "not a struct",
                        )
                        .code("E0319")
                        .help("`by` chooses among the encodings of a struct"),
                    );
                    continue;
                };
                let disc_at = PartSpans::or(f.at.disc, f.span);
                let arm_at = |i: usize| f.at.arms.get(i).copied().unwrap_or(disc_at);
                // The discriminator as declared: its span and the values it can hold.
                let found = s.fields[..fi].iter().find_map(|g| match &g.kind {
                    FieldKind::Value(t) if g.name == *disc => Some((
                        g.span,
                        match t {
                            Type::Int(i) => Some((i.min_value(), i128::from(i.max_value()))),
                            _ => None,
                        },
                    )),
                    FieldKind::Bits { parts, .. } => {
                        parts.iter().find(|pt| pt.name == *disc).map(|pt| {
                            let width = pt.hi.saturating_sub(pt.lo).min(64);
                            let max = (1i128 << width) - 1;
                            let range = match (&pt.ty, &pt.value) {
                                (Type::Int(i), PartValue::Stored) => {
                                    Some((0, max.min(i128::from(i.max_value()))))
                                }
                                (Type::Bool, PartValue::Stored) => Some((0, 1)),
                                _ => None,
                            };
                            (pt.span, range)
                        })
                    }
                    _ => None,
                });
                match found {
                    None => errs.push(Diagnostic::error(disc_at, format!("the discriminator `{disc}` is not an earlier field of `{}`", s.name), "unknown discriminator")
                        .code("E0320")
                        .help("declare the discriminator (an integer field, or an integer or bool bit part) before this field")),
                    Some((at, None)) => errs.push(Diagnostic::error(disc_at, format!("the discriminator `{disc}` is not a stored integer"), "cannot choose an encoding")
                        .code("E0320")
                        .note(at, "declared here")
                        .help("a discriminator is an integer field, or an integer or bool bit part without a constant value")),
                    Some((at, Some((lo, hi)))) => {
                        for (i, (v, _)) in arms.iter().enumerate() {
                            if *v != i128::MIN && (*v < lo || *v > hi) {
                                errs.push(Diagnostic::error(arm_at(i), format!("`{disc}` cannot be {v}, so this arm is never chosen"), "out of the discriminator's range")
                                    .code("E0355")
                                    .note(at, format!("`{disc}` holds {lo} to {hi}"))
                                    .help(format!("use a value from {lo} to {hi}, or remove the arm")));
                            }
                        }
                    }
                }
                for (i, (v, enc)) in arms.iter().enumerate() {
                    if enc != "binary" && !target.encodings.iter().any(|e| e.name == *enc) {
                        errs.push(Diagnostic::error(arm_at(i), format!("discriminator value {v} selects encoding `{enc}`, which `{}` does not declare", target.name), "no such encoding")
                            .code("E0321")
                            .help(format!("declare `encoding {} {enc} {{ ... }}` or use `binary`", target.name)));
                    }
                }
                for (i, (v, _)) in arms.iter().enumerate() {
                    if let Some(j) = arms[..i].iter().position(|(w, _)| w == v) {
                        errs.push(
                            Diagnostic::error(
                                arm_at(i),
                                format!("discriminator value {v} has two encodings"),
                                "repeated value",
                            )
                            .code("E0322")
                            .note(arm_at(j), "first arm for it")
                            .help("give each value one arm"),
                        );
                    }
                }
                if f.region == Region::Inline && arms.iter().any(|(_, e)| e != "binary") {
                    errs.push(
                        Diagnostic::error(
                            f.span,
                            format!("`{}` has a text encoding, so it needs a length", f.name),
                            "extent unknown",
                        )
                        .code("E0323")
                        .help("add `sized_by <length field>` or `rest`"),
                    );
                }
            }
        }
        if f.correlation {
            let ok = matches!(
                f.kind,
                FieldKind::Value(Type::Int(_)) | FieldKind::Value(Type::Varint { .. })
            );
            if !ok {
                errs.push(
                    Diagnostic::error(
                        f.span,
                        format!("the correlation id `{}` must be an integer", f.name),
                        "not an integer",
                    )
                    .code("E0324")
                    .help("use an integer type or varint"),
                );
            }
            if let Some(first) = corr.replace(f.span) {
                errs.push(
                    Diagnostic::error(f.span, "two correlation ids", "second `@correlation`")
                        .code("E0325")
                        .note(first, "first here")
                        .help("mark one field `@correlation`"),
                );
            }
        }
        if f.kind_marker {
            let ok = match &f.kind {
                FieldKind::Value(Type::Named(i)) => match &p.types[*i] {
                    TypeDef::Flags(fl) => fl
                        .bits
                        .iter()
                        .any(|b| b.attrs.iter().any(|a| a == "response")),
                    _ => false,
                },
                _ => false,
            };
            if !ok {
                errs.push(Diagnostic::error(PartSpans::or(f.at.ty, f.span), format!("`{}` is marked `@kind` but is not flags with a `@response` bit", f.name), "cannot tell requests from responses")
                    .code("E0326")
                    .help("make it a `flags` type whose response bit has `@response` (and oneway bit `@oneway`)"));
            }
            if let Some(first) = kind.replace(f.span) {
                errs.push(
                    Diagnostic::error(f.span, "two `@kind` fields", "second `@kind`")
                        .code("E0327")
                        .note(first, "first here")
                        .help("mark one field `@kind`"),
                );
            }
        }
    }
}

/// A struct may not contain itself without a list in between (it would be infinite).
fn check_recursion(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    fn direct(ty: &Type, out: &mut Vec<usize>) {
        match ty {
            Type::Named(i) => out.push(*i),
            Type::Optional { inner, .. } => direct(inner, out),
            _ => {}
        }
    }
    for (i, t) in p.types.iter().enumerate() {
        let TypeDef::Struct(_) = t else { continue };
        let mut stack = vec![i];
        let mut seen = vec![false; p.types.len()];
        while let Some(j) = stack.pop() {
            if let TypeDef::Struct(s) = &p.types[j] {
                for f in &s.fields {
                    let mut next = Vec::new();
                    match &f.kind {
                        FieldKind::Value(ty) => direct(ty, &mut next),
                        FieldKind::Switch { ty, .. } => next.push(*ty),
                        _ => {}
                    }
                    for n in next {
                        if n == i {
                            errs.push(
                                Diagnostic::error(
                                    f.span,
                                    format!("`{}` contains itself through `{}`", t.name(), f.name),
                                    "infinite size",
                                )
                                .code("E0328")
                                .help("break the cycle with a `list<...>` (which may be empty)"),
                            );
                            stack.clear();
                            break;
                        }
                        if !seen[n] {
                            seen[n] = true;
                            stack.push(n);
                        }
                    }
                }
            }
        }
    }
}

fn check_frame(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let Some(fi) = p.frame else { return };
    let TypeDef::Struct(frame) = &p.types[fi] else {
        return;
    };
    // The codec must learn the frame's size from a fixed prefix: a `len(..)` field
    // preceded only by fixed-size fields and varints.
    let mut ok = false;
    for f in &frame.fields {
        match &f.kind {
            FieldKind::Length {
                of: LenTarget::From(None),
                ..
            } => {
                ok = true;
                break;
            }
            FieldKind::Const { .. } | FieldKind::Bits { .. } => {}
            FieldKind::Value(Type::Int(_))
            | FieldKind::Value(Type::Varint { .. })
            | FieldKind::Value(Type::Bool) => {}
            FieldKind::Value(Type::Named(i)) if !matches!(p.types[*i], TypeDef::Struct(_)) => {}
            _ => break,
        }
    }
    if !ok {
        errs.push(Diagnostic::error(frame.span, format!("the frame `{}` has no length field the codec can find first", frame.name), "frame size unknown")
            .code("E0329")
            .help("start the frame with fixed-size fields and a `length: u32 = len(..)` field covering the rest"));
    }
}

fn check_services(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&Rpc, &str)> = Vec::new();
    let frame = p.frame_struct();
    for s in &p.services {
        for r in &s.rpcs {
            if let Some((first, svc)) = seen.iter().find(|(x, _)| x.code == r.code) {
                errs.push(
                    Diagnostic::error(
                        r.span,
                        format!("request code {} is used twice", r.code),
                        format!("`{}` uses it again", r.name),
                    )
                    .code("E0330")
                    .note(first.span, format!("`{svc}.{}` has it first", first.name))
                    .help("give every request its own code"),
                );
            } else if let Some((first, _)) = seen.iter().find(|(x, _)| x.name == r.name) {
                errs.push(
                    Diagnostic::error(
                        r.span,
                        format!("request `{}` is declared twice", r.name),
                        "second declaration",
                    )
                    .code("E0331")
                    .note(first.span, "first here")
                    .help("rename one of them; request names are unique across services"),
                );
            }
            seen.push((r, &s.name));
            if r.oneway && (r.response.header.is_some() || r.response.body.is_some()) {
                errs.push(
                    Diagnostic::error(
                        r.span,
                        format!("oneway request `{}` declares a response", r.name),
                        "oneway has no response",
                    )
                    .code("E0332")
                    .help("remove `-> { ... }` or make it a `request`"),
                );
            }
            for part in [&r.request, &r.response] {
                if let Some(h) = &part.header {
                    if !matches!(p.types[h.ty], TypeDef::Struct(_)) {
                        errs.push(
                            Diagnostic::error(
                                r.span,
                                format!("header `{}` is not a struct", p.types[h.ty].name()),
                                "not a struct",
                            )
                            .code("E0333")
                            .help("declare the header with `header Name { ... }`"),
                        );
                    }
                    let carrier_ok = frame.is_some_and(|fr| {
                        let mut seen = Vec::new();
                        find_field(p, fr, &h.carrier, &mut seen).is_some_and(|t| {
                            let t = match t {
                                Type::Optional { inner, .. } => &**inner,
                                t => t,
                            };
                            matches!(t, Type::Map { key, value, .. }
                                if matches!(**key, Type::String { .. }) && matches!(**value, Type::String { .. }))
                        })
                    });
                    if !h.carrier.is_empty() && !carrier_ok {
                        errs.push(Diagnostic::error(r.span, format!("`{}` is not a map field of the frame", h.carrier), "cannot carry a header")
                            .code("E0334")
                            .help("headers travel as strings in a `map<string<..>, string<..>>` field of the frame"));
                    }
                }
            }
        }
    }
}

/// The type of the field called `name` in `s` or in a struct it holds (depth first).
pub fn find_field<'a>(
    p: &'a Protocol,
    s: &'a StructDef,
    name: &str,
    seen: &mut Vec<usize>,
) -> Option<&'a Type> {
    for f in &s.fields {
        if f.name == name
            && let FieldKind::Value(t) = &f.kind
        {
            return Some(t);
        }
    }
    for f in &s.fields {
        let inner = match &f.kind {
            FieldKind::Value(Type::Named(i)) | FieldKind::Switch { ty: i, .. } => *i,
            _ => continue,
        };
        if seen.contains(&inner) {
            continue;
        }
        seen.push(inner);
        if let TypeDef::Struct(sub) = &p.types[inner]
            && let Some(t) = find_field(p, sub, name, seen)
        {
            return Some(t);
        }
    }
    None
}

fn check_handshake(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let Some(h) = &p.handshake else { return };
    for (role, idx) in [
        ("hello", Some(h.hello)),
        ("accept", Some(h.accept)),
        ("reject", h.reject),
    ] {
        if let Some(i) = idx
            && !matches!(p.types[i], TypeDef::Struct(_))
        {
            errs.push(
                Diagnostic::error(
                    h.span,
                    format!(
                        "the handshake's `{role}` message `{}` is not a struct",
                        p.types[i].name()
                    ),
                    "not a struct",
                )
                .code("E0335")
                .help(format!("name a struct as the `{role}` message")),
            );
        }
    }
    if p.versions.is_none() {
        errs.push(
            Diagnostic::error(
                h.span,
                "a handshake negotiates versions, but the protocol declares none",
                "no `versions`",
            )
            .code("E0336")
            .help("add `versions 1..=N` to the protocol"),
        );
    }
}

// ---- Names as the emitter writes them ----------------------------------------------

use crate::emit::rust::{ident, pascal, screaming, snake};

/// Reports names that differ as written but are equal once converted with `conv`, the
/// emitter's conversion for them. `names` are (name as written, where); exact repeats are
/// left to the checks that report duplicates.
fn converted_clashes(
    names: &[(&str, Span)],
    conv: impl Fn(&str) -> String,
    what: &str,
    within: &str,
    errs: &mut Vec<Diagnostic>,
) {
    for (i, (n, sp)) in names.iter().enumerate() {
        let rust = conv(n);
        if let Some((first, fsp)) = names[..i].iter().find(|(m, _)| m != n && conv(m) == rust) {
            errs.push(
                Diagnostic::error(
                    *sp,
                    format!("{what} `{n}` and `{first}` are both `{rust}` in Rust, in {within}"),
                    format!("becomes `{rust}`"),
                )
                .code("E0340")
                .note(*fsp, format!("`{first}` becomes `{rust}` too"))
                .help(format!("rename `{n}` so that it differs from `{first}` in more than case or underscores")),
            );
        }
    }
}

/// A top-level item of the generated code: its Rust name, what it is, the span that
/// causes it (none for the protocol's own items) and what declared it (a type, service or
/// request index, or the protocol), so that one clash is reported once.
struct Generated {
    name: String,
    what: String,
    span: Option<Span>,
    source: Source,
}

/// What declared a generated item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Protocol,
    Frame,
    Type(usize),
    Service(usize),
    Request(usize, usize),
}

/// Every top-level item the generated code defines: the user's types and what the emitter
/// adds (modules, codec, protocol type, service traits, clients and functions, request
/// and response types, JSON mirrors).
fn generated_items(p: &Protocol) -> Vec<Generated> {
    let item = |name: String, what: String, span: Option<Span>, source: Source| Generated {
        name,
        what,
        span,
        source,
    };
    let mut out = Vec::new();
    for (i, t) in p.types.iter().enumerate() {
        out.push(item(
            t.name().into(),
            format!("the type `{}`", t.name()),
            Some(t.span()),
            Source::Type(i),
        ));
    }
    out.push(item(
        "protocol_info".into(),
        "the generated module `protocol_info`".into(),
        None,
        Source::Protocol,
    ));
    for (i, t) in p.types.iter().enumerate() {
        if let TypeDef::Struct(s) = t {
            for e in &s.encodings {
                let (ser, de) = crate::emit::json::mirror_names(&s.name, &e.name);
                let what = format!("a `{}` mirror of `{}`", e.name, s.name);
                out.push(item(ser, what.clone(), Some(e.span), Source::Type(i)));
                out.push(item(de, what, Some(e.span), Source::Type(i)));
            }
        }
    }
    if let Some(fi) = p.frame {
        let f = &p.types[fi];
        out.push(item(
            format!("{}Codec", f.name()),
            format!("the codec of the frame `{}`", f.name()),
            Some(f.span()),
            Source::Frame,
        ));
        out.push(item(
            crate::emit::remoting::protocol_type(p),
            format!("the protocol type of `{}`", p.name),
            None,
            Source::Protocol,
        ));
    }
    if p.services.iter().any(|s| !s.rpcs.is_empty()) {
        out.push(item(
            "request_codes".into(),
            "the generated module `request_codes`".into(),
            None,
            Source::Protocol,
        ));
    }
    for (si, s) in p.services.iter().enumerate() {
        let sp = s.rpcs.first().map(|r| r.span);
        let sname = pascal(&s.name);
        let of = |what: &str| format!("{what} of the service `{}`", s.name);
        let src = Source::Service(si);
        out.push(item(sname.clone(), of("the server trait"), sp, src));
        out.push(item(
            format!("{sname}Now"),
            of("the answering-at-once trait"),
            sp,
            src,
        ));
        out.push(item(format!("{sname}Client"), of("the client"), sp, src));
        out.push(item(
            format!("serve_{}", snake(&s.name)),
            of("the registration function"),
            sp,
            src,
        ));
        out.push(item(
            format!("serve_{}_now", snake(&s.name)),
            of("the registration function"),
            sp,
            src,
        ));
        for (ri, r) in s.rpcs.iter().enumerate() {
            let n = pascal(&r.name);
            let src = Source::Request(si, ri);
            out.push(item(
                format!("{n}Request"),
                format!("the request type of `{}`", r.name),
                Some(r.span),
                src,
            ));
            if !r.oneway {
                out.push(item(
                    format!("{n}Response"),
                    format!("the response type of `{}`", r.name),
                    Some(r.span),
                    src,
                ));
            }
        }
    }
    out
}

/// Reports items of one name from different declarations, once per pair of declarations.
/// Two types of one name are reported where they are defined, and two requests whose names
/// convert alike by [`converted_clashes`].
fn check_generated(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let items = generated_items(p);
    let mut reported: Vec<(Source, Source)> = Vec::new();
    for (i, later) in items.iter().enumerate() {
        let Some(first) = items[..i]
            .iter()
            .find(|e| e.name == later.name && e.source != later.source)
        else {
            continue;
        };
        let pair = (first.source, later.source);
        let skip = match pair {
            (Source::Type(_), Source::Type(_)) | (Source::Request(..), Source::Request(..)) => true,
            _ => reported.contains(&pair),
        };
        if skip {
            continue;
        }
        reported.push(pair);
        // The caret goes under the user's declaration that takes a generated name.
        let (here, there) = match (first.source, later.source) {
            (Source::Type(_), _) => (first, later),
            _ => (later, first),
        };
        let name = &later.name;
        let mut d = Diagnostic::error(
            here.span.unwrap_or(p.span),
            format!("`{name}` is both {} and {}", here.what, there.what),
            format!("`{name}` here"),
        )
        .code("E0343");
        if let Some(sp) = there.span {
            d = d.note(
                sp,
                format!("{} is named `{name}` because of this", there.what),
            );
        }
        errs.push(d.help(format!(
            "rename one of them: the generated code would define `{name}` twice"
        )));
    }
}

/// Rust's primitive types: a user type of that name would shadow the one generated code
/// means.
const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char", "str",
];

/// Names the emitter writes as they are (types) or converts (fields, variants, bits,
/// requests, services) must stay distinct in Rust.
fn check_names(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    for t in &p.types {
        let name = t.name();
        let keyword = snake(name) == name && ident(name) != name;
        if PRIMITIVES.contains(&name) || keyword || name == "Self" {
            errs.push(
                Diagnostic::error(
                    t.span(),
                    format!("a type cannot be named `{name}` in Rust"),
                    "reserved in Rust",
                )
                .code("E0344")
                .help(format!(
                    "rename it, e.g. `{}`",
                    pascal(&format!("{name}_type"))
                )),
            );
        }
        match t {
            TypeDef::Struct(s) => {
                let mut names: Vec<(&str, Span)> = Vec::new();
                for f in &s.fields {
                    match &f.kind {
                        FieldKind::Value(_) | FieldKind::Switch { .. } => {
                            names.push((&f.name, PartSpans::or(f.at.name, f.span)))
                        }
                        FieldKind::Bits { parts, .. } => names.extend(
                            parts
                                .iter()
                                .filter(|pt| pt.value == PartValue::Stored)
                                .map(|pt| (pt.name.as_str(), PartSpans::or(pt.at.name, pt.span))),
                        ),
                        FieldKind::Const { .. }
                        | FieldKind::Length { .. }
                        | FieldKind::Literal(_) => {}
                    }
                }
                converted_clashes(&names, ident, "fields", &format!("`{}`", s.name), errs);
            }
            TypeDef::Enum(e) => {
                let names: Vec<(&str, Span)> = e
                    .variants
                    .iter()
                    .map(|v| (v.name.as_str(), PartSpans::or(v.name_span, v.span)))
                    .collect();
                converted_clashes(&names, pascal, "variants", &format!("`{}`", e.name), errs);
                for (n, sp) in &names {
                    let rust = pascal(n);
                    let taken = match rust.as_str() {
                        "Unknown" if e.open => {
                            Some("the variant an open enum keeps unknown values in")
                        }
                        "ALL" => Some("the constant listing every variant"),
                        _ => None,
                    };
                    if let Some(what) = taken {
                        errs.push(
                            Diagnostic::error(
                                *sp,
                                format!(
                                    "variant `{n}` of `{}` would be `{}::{rust}`, {what}",
                                    e.name, e.name
                                ),
                                format!("becomes `{rust}`"),
                            )
                            .code("E0341")
                            .help(format!(
                                "rename the variant; `{}::{rust}` is generated",
                                e.name
                            )),
                        );
                    }
                }
            }
            TypeDef::Flags(f) => {
                let names: Vec<(&str, Span)> = f
                    .bits
                    .iter()
                    .map(|v| (v.name.as_str(), PartSpans::or(v.name_span, v.span)))
                    .collect();
                converted_clashes(&names, screaming, "bits", &format!("`{}`", f.name), errs);
            }
            TypeDef::Tagged(t) => {
                let names: Vec<(&str, Span)> = t
                    .members
                    .iter()
                    .map(|m| (m.name.as_str(), m.span))
                    .collect();
                converted_clashes(&names, ident, "members", &format!("`{}`", t.name), errs);
            }
            // Its variants are named after its members, whose names are distinct types.
            TypeDef::Union(_) => {}
        }
    }

    // Requests: trait and client methods (snake), request and response types (Pascal)
    // and request code constants (SCREAMING) across every service.
    let rpcs: Vec<(&str, Span)> = p
        .services
        .iter()
        .flat_map(|s| s.rpcs.iter().map(|r| (r.name.as_str(), r.span)))
        .collect();
    let before = errs.len();
    let conversions: [fn(&str) -> String; 3] = [snake, pascal, screaming];
    for conv in conversions {
        if errs.len() == before {
            converted_clashes(&rpcs, conv, "requests", "the protocol's services", errs);
        }
    }
    for s in &p.services {
        for r in &s.rpcs {
            let m = snake(&r.name);
            if ["new", "with_timeout", "pipeline"].contains(&m.as_str()) {
                errs.push(
                    Diagnostic::error(r.span, format!("request `{}` would be the method `{}Client::{m}`, which the client already has", r.name, pascal(&s.name)), format!("`{}` becomes `{m}`", r.name))
                        .code("E0342")
                        .help("rename the request; `new`, `with_timeout` and `pipeline` are the client's own methods"),
                );
            }
        }
    }

    check_generated(p, errs);
}

// ---- Values that must fit ---------------------------------------------------------------

/// The field with a marker attribute in `s` or a struct it holds, as the emitter finds it
/// (its own fields first, then depth first).
fn marked<'a>(p: &'a Protocol, s: &'a StructDef, attr: &str, depth: usize) -> Option<&'a Field> {
    if depth > 32 {
        return None;
    }
    if let Some(f) = s
        .fields
        .iter()
        .find(|f| matches!(f.kind, FieldKind::Value(_)) && f.attrs.iter().any(|a| a == attr))
    {
        return Some(f);
    }
    s.fields.iter().find_map(|f| match &f.kind {
        FieldKind::Value(Type::Named(i)) | FieldKind::Switch { ty: i, .. } => match &p.types[*i] {
            TypeDef::Struct(sub) => marked(p, sub, attr, depth + 1),
            _ => None,
        },
        _ => None,
    })
}

/// The values an integer field can carry on the wire: `(min, max, type name)`.
fn int_range(ty: &Type) -> Option<(i128, i128, String)> {
    match ty {
        Type::Int(i) => Some((
            i.min_value(),
            i128::from(i.max_value()),
            i.rust().to_string(),
        )),
        Type::Varint { signed: false, max } => {
            Some((0, i128::from(max.unwrap_or(u64::MAX)), "varint".into()))
        }
        Type::Varint { signed: true, .. } => {
            Some((i128::from(i64::MIN), i128::from(i64::MAX), "svarint".into()))
        }
        _ => None,
    }
}

/// The span of a marker attribute on `f`, else its type, else the field.
fn attr_span(f: &Field, attr: &str) -> Span {
    f.at.attrs
        .iter()
        .find(|(n, _)| n == attr)
        .map_or_else(|| PartSpans::or(f.at.ty, f.span), |(_, s)| *s)
}

/// A service needs a frame whose roles the generated server and client use: the
/// correlation id, the kind flags, the request code and the error message; request and
/// response codes must fit the `@code` field.
fn check_service_roles(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let frame = p.frame_struct();
    let code = frame.and_then(|fr| marked(p, fr, "code", 0));
    check_code_values(p, code, errs);
    let message = frame.and_then(|fr| marked(p, fr, "message", 0));
    if let Some(f) = code {
        let FieldKind::Value(ty) = &f.kind else {
            unreachable!("marked finds values")
        };
        if int_range(ty).is_none() {
            errs.push(
                Diagnostic::error(PartSpans::or(f.at.ty, f.span), format!("the request code `{}` must be an integer", f.name), "not an integer")
                    .code("E0366")
                    .note(attr_span(f, "code"), "marked `@code` here")
                    .help("give the `@code` field an integer type such as `i16`; response codes are an enum of the `responses` block"),
            );
        }
    }
    if let Some(f) = message {
        let FieldKind::Value(ty) = &f.kind else {
            unreachable!("marked finds values")
        };
        let inner = match ty {
            Type::Optional { inner, .. } => &**inner,
            t => t,
        };
        let ok = matches!(inner, Type::String { .. }) || matches!(ty, Type::Bytes { .. });
        if !ok {
            errs.push(
                Diagnostic::error(
                    PartSpans::or(f.at.ty, f.span),
                    format!("the error message `{}` must be a string or bytes", f.name),
                    "not text",
                )
                .code("E0366")
                .note(attr_span(f, "message"), "marked `@message` here")
                .help("give the `@message` field a type such as `string<u16>` or `string<i32>?`"),
            );
        }
    }
    let has = |pred: &dyn Fn(&Field) -> bool| {
        frame.is_some_and(|fr| find_marked_field(p, fr, pred, &mut Vec::new()))
    };
    // The handshake is generated with the protocol type, which needs both roles.
    if let (Some(h), Some(fr)) = (&p.handshake, frame)
        && !(has(&|f| f.correlation) && has(&|f| f.kind_marker))
    {
        errs.push(
            Diagnostic::error(h.span, "a handshake needs a frame with a `@correlation` and a `@kind` field", "not generated without them")
                .code("E0365")
                .note(fr.span, "the frame")
                .help("the handshake is part of the protocol type, which matches responses by `@correlation` and tells them apart by `@kind`"),
        );
    }
    let Some(first) = p.services.iter().find_map(|s| s.rpcs.first()) else {
        return;
    };
    let body_field = frame.and_then(|fr| {
        fr.fields.iter().find(|f| {
            f.region == Region::Rest && matches!(f.kind, FieldKind::Value(Type::Bytes { .. }))
        })
    });
    let mut missing = Vec::new();
    // Without a frame nothing of a service is generated (a file of shared definitions).
    match frame {
        None => {}
        Some(fr) => {
            let has = |pred: &dyn Fn(&Field) -> bool| {
                let mut seen = Vec::new();
                find_marked_field(p, fr, pred, &mut seen)
            };
            if !has(&|f| f.correlation) {
                missing.push("a `@correlation` field");
            }
            if !has(&|f| f.kind_marker) {
                missing.push("a `@kind` field");
            }
            if code.is_none() {
                missing.push("a `@code` field");
            }
            if message.is_none() {
                missing.push("a `@message` field");
            }
            let bodies = p
                .services
                .iter()
                .flat_map(|s| &s.rpcs)
                .any(|r| r.request.body.is_some() || r.response.body.is_some());
            if bodies && body_field.is_none() {
                missing.push("a `bytes rest` body field");
            }
            let oneway = p.services.iter().flat_map(|s| &s.rpcs).any(|r| r.oneway);
            let oneway_bit = marked(p, fr, "kind", 0).is_some_and(|f| {
                matches!(&f.kind, FieldKind::Value(Type::Named(i)) if matches!(&p.types[*i],
                    TypeDef::Flags(fl) if fl.bits.iter().any(|b| b.attrs.iter().any(|a| a == "oneway"))))
            });
            if oneway && has(&|f| f.kind_marker) && !oneway_bit {
                missing.push("an `@oneway` bit in the `@kind` flags");
            }
        }
    }
    if !missing.is_empty() {
        let list = match missing.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        let mut d = Diagnostic::error(first.span, format!("services need {list} in the frame"), "a request of a service")
            .code("E0365")
            .help("a server reads the request code from `@code`, answers errors in `@message`, matches responses by `@correlation`, tells them apart by `@kind` and carries bodies in a `bytes rest` field");
        if let Some(fr) = frame {
            d = d.note(fr.span, "the frame");
        }
        errs.push(d);
    }

    // Bodies the generated request and response types can carry.
    for r in p.services.iter().flat_map(|s| &s.rpcs) {
        for b in [&r.request.body, &r.response.body].into_iter().flatten() {
            let problem = match &b.ty {
                Type::Bytes { .. } if b.encoding != "binary" => {
                    Some(format!("a `bytes` body has no `{}` encoding", b.encoding))
                }
                Type::Bytes { .. } => None,
                Type::Named(i) => match &p.types[*i] {
                    TypeDef::Struct(s) if s.header_only => {
                        Some(format!("`{}` is a header, not a message", s.name))
                    }
                    TypeDef::Struct(s)
                        if b.encoding != "binary"
                            && !s.encodings.iter().any(|e| e.name == b.encoding) =>
                    {
                        Some(format!(
                            "`{}` declares no `{}` encoding",
                            s.name, b.encoding
                        ))
                    }
                    TypeDef::Struct(_) => None,
                    t => Some(format!("`{}` is not a struct", t.name())),
                },
                _ => Some("a body is `bytes` or a struct".into()),
            };
            if let Some(msg) = problem {
                errs.push(
                    Diagnostic::error(r.span, format!("request `{}` has a body it cannot carry: {msg}", r.name), "this request")
                        .code("E0367")
                        .help("a body is `bytes` or a struct, optionally `as` an encoding the struct declares"),
                );
            }
        }
    }
}

/// Request codes and response statuses must fit the frame's `@code` field; statuses also
/// `i64`, which the generated status checks use.
fn check_code_values(p: &Protocol, code: Option<&Field>, errs: &mut Vec<Diagnostic>) {
    let Some(f) = code else { return };
    let FieldKind::Value(ty) = &f.kind else {
        return;
    };
    let Some((lo, hi, tname)) = int_range(ty) else {
        return;
    };
    let code_at = PartSpans::or(f.at.ty, f.span);
    for r in p.services.iter().flat_map(|s| &s.rpcs) {
        if r.code < lo || r.code > hi {
            errs.push(
                Diagnostic::error(
                    r.span,
                    format!(
                        "request code {} does not fit the `@code` field `{}`",
                        r.code, f.name
                    ),
                    format!("does not fit `{tname}`"),
                )
                .code("E0350")
                .note(code_at, format!("`{}` is `{tname}`: {lo} to {hi}", f.name))
                .help(format!(
                    "use a code from {lo} to {hi}, or widen `{}`",
                    f.name
                )),
            );
        }
    }
    // Statuses are `i64` in the generated status checks (`is_success`, `error_response`).
    let (hi, tname) = if hi > i128::from(i64::MAX) {
        (i128::from(i64::MAX), format!("{tname} held as i64"))
    } else {
        (hi, tname)
    };
    if let Some(TypeDef::Enum(e)) = p.responses.map(|i| &p.types[i]) {
        for v in &e.variants {
            if v.value < lo || v.value > hi {
                errs.push(
                    Diagnostic::error(v.span, format!("response code {} (`{}`) does not fit the `@code` field `{}`", v.value, v.name, f.name), format!("does not fit `{tname}`"))
                        .code("E0351")
                        .note(code_at, format!("`{}` is `{tname}`: {lo} to {hi}", f.name))
                        .help(format!("responses travel in `{}`: use a code from {lo} to {hi}, or widen the field", f.name)),
                );
            }
        }
    }
}

/// The field satisfying `pred` in `s` or a struct it holds.
fn find_marked_field<'a>(
    p: &'a Protocol,
    s: &'a StructDef,
    pred: &dyn Fn(&Field) -> bool,
    seen: &mut Vec<usize>,
) -> bool {
    if s.fields
        .iter()
        .any(|f| matches!(f.kind, FieldKind::Value(_)) && pred(f))
    {
        return true;
    }
    s.fields.iter().any(|f| match &f.kind {
        FieldKind::Value(Type::Named(i)) | FieldKind::Switch { ty: i, .. } if !seen.contains(i) => {
            seen.push(*i);
            match &p.types[*i] {
                TypeDef::Struct(sub) => find_marked_field(p, sub, pred, seen),
                _ => false,
            }
        }
        _ => false,
    })
}

/// Whether any type of the protocol satisfies `pred` (looking inside lists, maps and
/// optionals).
fn uses(p: &Protocol, pred: &dyn Fn(&Type) -> bool) -> bool {
    fn walk(t: &Type, pred: &dyn Fn(&Type) -> bool) -> bool {
        pred(t)
            || match t {
                Type::List { elem, .. } => walk(elem, pred),
                Type::Map { key, value, .. } => walk(key, pred) || walk(value, pred),
                Type::Optional { inner, .. } => walk(inner, pred),
                _ => false,
            }
    }
    let in_fields = p.types.iter().any(|t| match t {
        TypeDef::Struct(s) => s
            .fields
            .iter()
            .any(|f| matches!(&f.kind, FieldKind::Value(t) if walk(t, pred))),
        _ => false,
    });
    let in_bodies = p
        .services
        .iter()
        .flat_map(|s| &s.rpcs)
        .flat_map(|r| [&r.request.body, &r.response.body])
        .flatten()
        .any(|b| walk(&b.ty, pred));
    in_fields || in_bodies
}

/// The largest frame the frame's `len(..)` field can describe, with that field.
fn frame_capacity(p: &Protocol) -> Option<(u64, &Field)> {
    let frame = p.frame_layout()?;
    let mut before = 0u64;
    for f in &frame.fields {
        match &f.kind {
            FieldKind::Length {
                ty,
                of: LenTarget::From(None),
            } => {
                return Some((
                    before
                        .saturating_add(ty.min_size() as u64)
                        .saturating_add(ty.max_len()),
                    f,
                ));
            }
            // A varint before the length takes at most 10 bytes.
            FieldKind::Value(Type::Varint { .. }) => before += 10,
            _ => before += field_min_size(p, f, 0) as u64,
        }
    }
    None
}

const LIMIT_NAMES: [&str; 5] = [
    "max_frame_len",
    "max_string_len",
    "max_collection_len",
    "max_line_len",
    "max_depth",
];

/// Declared limits must be positive where zero would refuse every message, and a frame
/// limit must be one the frame's length field can reach.
fn check_limits(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let l = &p.limits;
    for (i, w) in l.written.iter().enumerate() {
        let Some((v, sp)) = *w else { continue };
        let name = LIMIT_NAMES[i];
        let why = if v < 0 {
            Some("a limit is a size or a count".to_string())
        } else if v == 0 {
            match i {
                0 => Some("no frame is empty".to_string()),
                1 if uses(p, &|t| {
                    matches!(t, Type::String { .. } | Type::Bytes { .. })
                }) =>
                {
                    Some("only empty strings and bytes would decode".to_string())
                }
                2 if uses(p, &|t| matches!(t, Type::List { .. } | Type::Map { .. })) => {
                    Some("only empty lists and maps would decode".to_string())
                }
                _ => None,
            }
        } else {
            None
        };
        if let Some(why) = why {
            errs.push(
                Diagnostic::error(
                    sp,
                    format!("`{name}` cannot be {v}: {why}"),
                    "not a usable limit",
                )
                .code("E0353")
                .help(format!(
                    "give `{name}` a positive value, or leave it out for the default"
                )),
            );
        }
    }
    let Some(fi) = p.frame else { return };
    if let Some((v, sp)) = l.written[0]
        && v > 0
    {
        let min = min_size(p, &Type::Named(fi)) as i128;
        if v < min {
            errs.push(
                Diagnostic::error(
                    sp,
                    format!("`max_frame_len` {v} is less than the smallest frame, {min} bytes"),
                    "every frame is longer",
                )
                .code("E0353")
                .note(p.types[fi].span(), format!("at least {min} bytes"))
                .help(format!("allow at least {min} bytes")),
            );
        }
        if let Some((cap, f)) = frame_capacity(p)
            && v > i128::from(cap)
        {
            errs.push(
                Diagnostic::error(
                    sp,
                    format!(
                        "`max_frame_len` {v} is more than the frame's length field can describe"
                    ),
                    format!("at most {cap}"),
                )
                .code("E0354")
                .note(
                    PartSpans::or(f.at.ty, f.span),
                    format!("`{}` makes frames of at most {cap} bytes", f.name),
                )
                .help(format!(
                    "lower `max_frame_len` to {cap} or widen `{}`",
                    f.name
                )),
            );
        }
    }
}

// ---- Structs that read to the end of their region --------------------------------------

/// Whether a value of `ty` read inline takes everything left in its region.
fn type_open(p: &Protocol, ty: &Type, seen: &mut Vec<usize>) -> bool {
    match ty {
        Type::Named(i) => struct_open(p, *i, seen),
        Type::Optional {
            inner,
            repr: OptRepr::Presence,
        } => type_open(p, inner, seen),
        _ => false,
    }
}

/// Whether struct `i` takes everything left in its region: a field of it does, and no
/// `len(..)` of its own bounds it.
fn struct_open(p: &Protocol, i: usize, seen: &mut Vec<usize>) -> bool {
    if seen.contains(&i) {
        return false;
    }
    let s = match &p.types[i] {
        TypeDef::Struct(s) => s,
        // A tagged list reads members until its region ends.
        TypeDef::Tagged(_) => return true,
        TypeDef::Union(u) => {
            seen.push(i);
            let open = u.arms.iter().any(|a| struct_open(p, a.ty, seen));
            seen.pop();
            return open;
        }
        TypeDef::Enum(_) | TypeDef::Flags(_) => return false,
    };
    seen.push(i);
    let bounded = s.fields.iter().any(|f| match &f.kind {
        FieldKind::Length {
            of: LenTarget::From(_),
            ..
        } => true,
        FieldKind::Bits { parts, .. } => parts
            .iter()
            .any(|pt| matches!(pt.value, PartValue::Length(LenTarget::From(_)))),
        _ => false,
    });
    let open = !bounded && s.fields.iter().any(|f| field_open(p, f, seen));
    seen.pop();
    open
}

/// Whether field `f` takes everything left in its region.
fn field_open(p: &Protocol, f: &Field, seen: &mut Vec<usize>) -> bool {
    match (&f.region, &f.kind) {
        (Region::Rest, _) => true,
        (Region::Inline, FieldKind::Value(t)) => type_open(p, t, seen),
        (Region::Inline, FieldKind::Switch { ty, .. }) => struct_open(p, *ty, seen),
        _ => false,
    }
}

/// A struct that reads to the end of its region can only be the last thing in one: the
/// last field of its parent, or a field with its own length.
fn check_open_structs(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let open_in = |ty: &Type| -> Option<usize> {
        fn find(p: &Protocol, t: &Type, top: bool) -> Option<usize> {
            match t {
                Type::Named(i) if !top && struct_open(p, *i, &mut Vec::new()) => Some(*i),
                Type::List { elem, .. } => find(p, elem, false),
                Type::Map { key, value, .. } => {
                    find(p, key, false).or_else(|| find(p, value, false))
                }
                Type::Optional { inner, .. } => find(p, inner, top),
                _ => None,
            }
        }
        find(p, ty, true)
    };
    for t in &p.types {
        let TypeDef::Struct(s) = t else { continue };
        if s.header_only {
            continue;
        }
        for (fi, f) in s.fields.iter().enumerate() {
            let ty_at = PartSpans::or(f.at.ty, f.span);
            // Inside a list or map: the first element would take every byte left.
            if let FieldKind::Value(ty) = &f.kind
                && let Some(i) = open_in(ty)
            {
                errs.push(open_error(p, i, ty_at, format!("`{}` holds `{}` in a list or map, where each would read to the end", f.name, p.types[i].name()), "help: give the struct a length of its own (`size: u32 = len(..)` as its first field), or replace the field that reads to its end with a prefixed one".into()));
                continue;
            }
            let last = fi + 1 == s.fields.len();
            if last || f.region != Region::Inline {
                continue;
            }
            let inner = match &f.kind {
                FieldKind::Value(ty) => match ty {
                    Type::Named(i) => Some(*i),
                    Type::Optional {
                        inner,
                        repr: OptRepr::Presence,
                    } => match **inner {
                        Type::Named(i) => Some(i),
                        _ => None,
                    },
                    _ => None,
                },
                FieldKind::Switch { ty, .. } => Some(*ty),
                _ => None,
            };
            if let Some(i) = inner
                && struct_open(p, i, &mut Vec::new())
            {
                let d = open_error(p, i, ty_at, format!("`{}` reads to the end of its region, so `{}` must be the last field of `{}`", p.types[i].name(), f.name, s.name), format!("help: move `{}` to the end, or give it a length: `sized_by u32`", f.name))
                    .note(s.fields[fi + 1].span, "followed by this field");
                errs.push(d);
            }
        }
    }
}

/// A field with its own byte-length prefix (`sized_by varint`) that a `len(x)` field or bit
/// part also measures would have two lengths for one extent.
fn check_one_extent(s: &StructDef, errs: &mut Vec<Diagnostic>) {
    let mut measures: Vec<(&str, Span)> = Vec::new();
    for f in &s.fields {
        match &f.kind {
            FieldKind::Length {
                of: LenTarget::Field(t),
                ..
            } => measures.push((t, f.span)),
            FieldKind::Bits { parts, .. } => {
                for pt in parts {
                    if let PartValue::Length(LenTarget::Field(t)) = &pt.value {
                        measures.push((t, pt.span));
                    }
                }
            }
            _ => {}
        }
    }
    for f in &s.fields {
        if !matches!(f.region, Region::Prefixed(_)) {
            continue;
        }
        for (t, at) in &measures {
            if *t == f.name {
                errs.push(
                    Diagnostic::error(
                        PartSpans::or(f.at.region, f.span),
                        format!(
                            "`{}` has a length prefix of its own and is also measured",
                            f.name
                        ),
                        "its own length",
                    )
                    .code("E0358")
                    .note(*at, "measured here too")
                    .help(format!(
                        "keep one length: `sized_by` the length field, or drop the `len({})` field",
                        f.name
                    )),
                );
            }
        }
    }
}

/// The error for an open struct used at `at`, pointing at the field that makes it open.
fn open_error(p: &Protocol, i: usize, at: Span, msg: String, help: String) -> Diagnostic {
    let mut d = Diagnostic::error(at, msg, "reads to the end").code("E0360");
    if let TypeDef::Struct(s) = &p.types[i]
        && let Some(f) = s.fields.iter().find(|f| field_open(p, f, &mut vec![i]))
    {
        d = d.note(
            PartSpans::or(f.at.region, f.span),
            format!("`{}.{}` takes the rest", s.name, f.name),
        );
    }
    d.help(help.trim_start_matches("help: "))
}

// ---- What the generated code cannot express ------------------------------------------

/// Names the generated code keeps for itself: locals of the decoders start with `__`, a
/// header's conversions take the map as `map`, and `serve_<service>` takes the service's
/// implementation as the type parameter `S`.
fn check_reserved(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let reserved = |at: Span, what: String, why: &str, errs: &mut Vec<Diagnostic>| {
        errs.push(
            Diagnostic::error(
                at,
                format!("{what} is reserved for the generated code"),
                "reserved",
            )
            .code("E0345")
            .help(format!("rename it: {why}")),
        );
    };
    for t in &p.types {
        let TypeDef::Struct(s) = t else { continue };
        for f in &s.fields {
            let mut names = vec![(f.name.as_str(), PartSpans::or(f.at.name, f.span))];
            if let FieldKind::Bits { parts, .. } = &f.kind {
                names.extend(
                    parts
                        .iter()
                        .map(|pt| (pt.name.as_str(), PartSpans::or(pt.at.name, pt.span))),
                );
            }
            for (n, at) in names {
                if n.starts_with("__") {
                    reserved(
                        at,
                        format!("the name `{n}` in `{}`", s.name),
                        "names starting with `__` are the decoder's own",
                        errs,
                    );
                } else if s.header_only && ident(n) == "map" {
                    reserved(
                        at,
                        format!("the header field `{n}` of `{}`", s.name),
                        "a header's conversions name their string map `map`",
                        errs,
                    );
                }
            }
        }
    }
    for s in &p.services {
        // `pascal` renames `Self` (to `Self_`), as the emitter does.
        let name = pascal(&s.name);
        if name == "S" {
            let at = s.rpcs.first().map_or(p.span, |r| r.span);
            reserved(
                at,
                format!(
                    "the service name `{}` (its trait would be `{name}`)",
                    s.name
                ),
                "`serve_..<S: ..>` names the implementation `S`",
                errs,
            );
        }
    }
}

/// Values a message must be able to hold: a struct's fields start from `Default`, so an
/// enum needs a variant (or `open`); a `header` travels as strings only, not inside a
/// message.
fn check_constructible(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    for t in &p.types {
        if let TypeDef::Enum(e) = t
            && !e.open
            && e.variants.is_empty()
        {
            errs.push(
                Diagnostic::error(
                    e.span,
                    format!("`{}` has no variants, so no value of it exists", e.name),
                    "empty enum",
                )
                .code("E0346")
                .help("add a variant, or make it `open` to keep any value"),
            );
        }
        let TypeDef::Struct(s) = t else { continue };
        if s.header_only {
            continue;
        }
        for f in &s.fields {
            let held: Vec<usize> = match &f.kind {
                FieldKind::Value(ty) => named_in(ty).collect(),
                FieldKind::Switch { ty, .. } => vec![*ty],
                _ => continue,
            };
            if let Some(h) = held
                .into_iter()
                .find(|i| matches!(&p.types[*i], TypeDef::Struct(h) if h.header_only))
            {
                errs.push(
                    Diagnostic::error(PartSpans::or(f.at.ty, f.span), format!("`{}` is a header, carried as strings; it has no binary layout to hold in `{}`", p.types[h].name(), s.name), "a header")
                        .code("E0347")
                        .note(p.types[h].span(), "declared with `header`")
                        .help("declare it with `struct` to hold it in a message, or carry it with `header .. in <map field>` in a request"),
                );
            }
        }
    }
}

/// The user types `ty` names, through lists, maps and optionals.
fn named_in(ty: &Type) -> impl Iterator<Item = usize> {
    fn walk(t: &Type, out: &mut Vec<usize>) {
        match t {
            Type::Named(i) => out.push(*i),
            Type::List { elem, .. } => walk(elem, out),
            Type::Map { key, value, .. } => {
                walk(key, out);
                walk(value, out);
            }
            Type::Optional { inner, .. } => walk(inner, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(ty, &mut out);
    out.into_iter()
}

/// `@echo` copies up to four of the frame's own integer, bool or enum fields and bit parts,
/// 16 bits each, from a request onto its response.
fn check_echo(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let frame = p.frame;
    let mut count = 0;
    for (ti, t) in p.types.iter().enumerate() {
        let TypeDef::Struct(s) = t else { continue };
        for f in &s.fields {
            let mut echoed: Vec<(&str, &Type, Span, Option<u32>)> = Vec::new();
            match &f.kind {
                FieldKind::Value(ty) if f.attrs.iter().any(|a| a == "echo") => {
                    echoed.push((&f.name, ty, attr_span(f, "echo"), None))
                }
                FieldKind::Bits { parts, .. } => echoed.extend(
                    parts
                        .iter()
                        .filter(|pt| pt.attrs.iter().any(|a| a == "echo"))
                        .map(|pt| (pt.name.as_str(), &pt.ty, pt.span, Some(pt.hi - pt.lo))),
                ),
                _ => {}
            }
            for (name, ty, at, part_bits) in echoed {
                let bits = match ty {
                    Type::Int(i) => Some(part_bits.unwrap_or(i.bits())),
                    Type::Bool => Some(1),
                    Type::Named(i) => match &p.types[*i] {
                        TypeDef::Enum(e) => Some(part_bits.unwrap_or(e.repr.bits())),
                        _ => None,
                    },
                    _ => None,
                };
                let problem = if Some(ti) != frame {
                    Some(format!(
                        "`{name}` is not a field of the frame; only the frame's own fields are echoed"
                    ))
                } else if bits.is_none() {
                    Some(format!("`{name}` is not an integer, bool or enum"))
                } else if bits.is_some_and(|b| b > 16) {
                    Some(format!(
                        "`{name}` has {} bits; an echoed value keeps 16",
                        bits.unwrap_or(0)
                    ))
                } else {
                    count += 1;
                    (count > 4)
                        .then(|| format!("`{name}` is the fifth echoed value; four are kept"))
                };
                if let Some(msg) = problem {
                    errs.push(
                        Diagnostic::error(at, format!("`@echo` cannot copy this value: {msg}"), "cannot be echoed")
                            .code("E0348")
                            .help("echo at most four integer, bool or enum fields (or bit parts) of the frame, of 16 bits or fewer"),
                    );
                }
            }
        }
    }
}

/// A JSON encoding writes each stored field under its key: keys must differ, rules must
/// name fields that exist (`as name` an enum), and nested structs need the same encoding.
fn check_encodings(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    for t in &p.types {
        let TypeDef::Struct(s) = t else { continue };
        for enc in &s.encodings {
            // Stored fields as JSON sees them: (name, type, where).
            let mut fields: Vec<(&str, Type, Span)> = Vec::new();
            for f in &s.fields {
                match &f.kind {
                    FieldKind::Value(ty) => {
                        fields.push((&f.name, ty.clone(), PartSpans::or(f.at.name, f.span)))
                    }
                    // A struct whose binary encoding a discriminator chooses is a nested
                    // struct in JSON.
                    FieldKind::Switch { ty, .. } => {
                        fields.push((&f.name, Type::Named(*ty), PartSpans::or(f.at.name, f.span)))
                    }
                    FieldKind::Bits { parts, .. } => {
                        fields.extend(parts.iter().filter(|pt| pt.value == PartValue::Stored).map(
                            |pt| {
                                (
                                    pt.name.as_str(),
                                    pt.ty.clone(),
                                    PartSpans::or(pt.at.name, pt.span),
                                )
                            },
                        ))
                    }
                    _ => {}
                }
            }
            let rule_at = |n: &str| {
                enc.rule_spans
                    .iter()
                    .find(|(f, _)| f == n)
                    .map_or(enc.span, |(_, sp)| *sp)
            };
            let bad_rule = |n: &str, what: String, errs: &mut Vec<Diagnostic>| {
                errs.push(
                    Diagnostic::error(
                        rule_at(n),
                        format!("the `{}` encoding of `{}` {what}", enc.name, s.name),
                        "in this encoding",
                    )
                    .code("E0362")
                    .help(format!(
                        "name a stored field of `{}` (`as name` applies to enum fields)",
                        s.name
                    )),
                );
            };
            for (n, _) in &enc.renames {
                if !fields.iter().any(|(m, _, _)| m == n) {
                    bad_rule(
                        n,
                        format!("renames `{n}`, which is not a stored field"),
                        errs,
                    );
                }
            }
            for n in &enc.by_name {
                let enum_field = fields.iter().find(|(m, _, _)| m == n).map(|(_, ty, _)| {
                    named_in(ty)
                        .next()
                        .is_some_and(|i| matches!(p.types[i], TypeDef::Enum(_)))
                });
                match enum_field {
                    None => bad_rule(
                        n,
                        format!("writes `{n}` by name, but it is not a stored field"),
                        errs,
                    ),
                    Some(false) => bad_rule(
                        n,
                        format!("writes `{n}` by name, but it is not an enum"),
                        errs,
                    ),
                    Some(true) => {}
                }
            }
            // Keys as written: (key, what, where).
            let mut keys: Vec<(String, String, Span)> = fields
                .iter()
                .map(
                    |(n, _, at)| match enc.renames.iter().find(|(f, _)| f == n) {
                        Some((_, w)) => (w.clone(), format!("the field `{n}`"), rule_at(n)),
                        None => (
                            enc.rename_all
                                .as_deref()
                                .map_or(n.to_string(), |c| crate::emit::rust::rename_case(n, c)),
                            format!("the field `{n}`"),
                            *at,
                        ),
                    },
                )
                .collect();
            keys.extend(
                enc.constants
                    .iter()
                    .map(|(k, _)| (k.clone(), format!("the constant `{k}`"), enc.span)),
            );
            for (i, (k, what, at)) in keys.iter().enumerate() {
                if let Some((_, first, first_at)) = keys[..i].iter().find(|(l, _, _)| l == k) {
                    errs.push(
                        Diagnostic::error(*at, format!("the `{}` encoding of `{}` writes {first} and {what} under one key, \"{k}\"", enc.name, s.name), format!("also \"{k}\""))
                            .code("E0363")
                            .note(*first_at, format!("{first} is \"{k}\""))
                            .help("rename one of them: a JSON object has one member per key"),
                    );
                }
            }
            for (n, ty, at) in &fields {
                for i in named_in(ty) {
                    if let TypeDef::Union(_) | TypeDef::Tagged(_) = &p.types[i] {
                        let what = if matches!(p.types[i], TypeDef::Union(_)) {
                            "a union"
                        } else {
                            "a tagged list"
                        };
                        errs.push(
                            Diagnostic::error(*at, format!("`{n}` holds `{}`, {what}, which has no JSON form to write it in `{}`'s `{}` encoding", p.types[i].name(), s.name, enc.name), "no JSON form")
                                .code("E0380")
                                .note(enc.span, format!("`{}` is written as `{}` here", s.name, enc.name))
                                .help("unions and tagged lists are binary only: keep the field out of structs written as JSON"),
                        );
                    }
                    if let TypeDef::Struct(inner) = &p.types[i]
                        && !inner.encodings.iter().any(|e| e.name == enc.name)
                    {
                        errs.push(
                            Diagnostic::error(*at, format!("`{n}` holds `{}`, which has no `{}` encoding to write it in `{}`'s", inner.name, enc.name, s.name), format!("no `{}` encoding", enc.name))
                                .code("E0361")
                                .note(enc.span, format!("`{}` is written as `{}` here", s.name, enc.name))
                                .help(format!("declare `encoding {} {} {{ }}`", inner.name, enc.name)),
                        );
                    }
                }
            }
        }
    }
}

/// A struct carried as a request header travels as strings: its fields are scalar values
/// (a `header` declaration is checked field by field already; a `struct` used as a header
/// is checked here), with no binary layout (constants, lengths, packed bits).
fn check_headers(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let mut carried: Vec<usize> = p
        .services
        .iter()
        .flat_map(|s| &s.rpcs)
        .flat_map(|r| [&r.request.header, &r.response.header])
        .flatten()
        .map(|h| h.ty)
        .collect();
    for (i, t) in p.types.iter().enumerate() {
        if matches!(t, TypeDef::Struct(s) if s.header_only) {
            carried.push(i);
        }
    }
    carried.sort_unstable();
    carried.dedup();
    for i in carried {
        let TypeDef::Struct(s) = &p.types[i] else {
            continue;
        };
        for f in &s.fields {
            match &f.kind {
                FieldKind::Value(t) if !s.header_only => check_header_field(p, t, f, errs),
                FieldKind::Value(_) => {}
                _ => errs.push(
                    Diagnostic::error(f.span, format!("header field `{}` is binary layout, which a header carried as strings does not have", f.name), "not a value")
                        .code("E0308")
                        .help("header fields are strings, integers, bools, enums or flags (each optionally `?`), without `=` or bits"),
                ),
            }
        }
    }
}

/// The handshake's messages are binary structs whose marked fields carry the versions
/// (and features) the generated negotiation reads and writes.
fn check_handshake_roles(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let Some(h) = &p.handshake else { return };
    let highest = p.versions.map_or(0, |v| v.1);
    let roles: [(&str, Option<usize>, &[&str]); 3] = [
        ("hello", Some(h.hello), &["max_version"]),
        ("accept", Some(h.accept), &["version"]),
        ("reject", h.reject, &[]),
    ];
    for (role, idx, required) in roles {
        let Some(TypeDef::Struct(s)) = idx.map(|i| &p.types[i]) else {
            continue;
        };
        if s.header_only {
            errs.push(
                Diagnostic::error(h.span, format!("the handshake's `{role}` message `{}` is a header, which has no binary layout", s.name), "not a message")
                    .code("E0347")
                    .note(s.span, "declared with `header`")
                    .help(format!("declare `{}` with `struct`", s.name)),
            );
            continue;
        }
        for attr in required {
            if !s.fields.iter().any(|f| f.attrs.iter().any(|a| a == attr)) {
                errs.push(
                    Diagnostic::error(s.span, format!("the handshake's `{role}` message `{}` has no `@{attr}` field", s.name), format!("no `@{attr}`"))
                        .code("E0349")
                        .note(h.span, format!("the `{role}` message of this handshake"))
                        .help(format!("mark the field that carries it `@{attr}`: without it the negotiation reads 0")),
                );
            }
        }
        for f in &s.fields {
            for attr in ["min_version", "max_version", "version", "features"] {
                if !f.attrs.iter().any(|a| a == attr) {
                    continue;
                }
                let ty = match &f.kind {
                    FieldKind::Value(t) => Some(t),
                    _ => None,
                };
                let problem = match ty {
                    Some(Type::Int(i))
                        if attr != "features"
                            && i128::from(i.max_value()) < i128::from(highest) =>
                    {
                        Some(format!(
                            "`{}` is `{}`, which cannot hold version {highest}",
                            f.name,
                            i.rust()
                        ))
                    }
                    Some(Type::Int(_) | Type::Varint { signed: false, .. }) => None,
                    Some(Type::Named(n))
                        if attr == "features" && matches!(p.types[*n], TypeDef::Flags(_)) =>
                    {
                        None
                    }
                    _ if attr == "features" => {
                        Some(format!("`{}` is not an unsigned integer or flags", f.name))
                    }
                    _ => Some(format!("`{}` is not an unsigned integer", f.name)),
                };
                if let Some(msg) = problem {
                    errs.push(
                        Diagnostic::error(PartSpans::or(f.at.ty, f.span), format!("the `@{attr}` field of `{}` cannot carry it: {msg}", s.name), "wrong type")
                            .code("E0349")
                            .note(attr_span(f, attr), format!("marked `@{attr}` here"))
                            .help("versions are unsigned integers wide enough for the highest `versions`; features an unsigned integer or flags"),
                    );
                }
            }
        }
    }
}

/// A length is written before what it measures, so that the decoder knows the extent when
/// it gets there; a bit part's `len(..)` has no region of its own.
fn check_length_order(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    for t in &p.types {
        let TypeDef::Struct(s) = t else { continue };
        let position = |name: &str| {
            s.fields.iter().position(|f| {
                f.name == name
                    || matches!(&f.kind, FieldKind::Bits { parts, .. } if parts.iter().any(|pt| pt.name == name))
            })
        };
        for (i, f) in s.fields.iter().enumerate() {
            let mut lengths: Vec<(&str, &LenTarget, Span)> = Vec::new();
            match &f.kind {
                FieldKind::Length { of, .. } => {
                    lengths.push((&f.name, of, PartSpans::or(f.at.value, f.span)))
                }
                FieldKind::Bits { parts, .. } => {
                    for pt in parts {
                        if let PartValue::Length(of) = &pt.value {
                            lengths.push((&pt.name, of, PartSpans::or(pt.at.value, pt.span)));
                        }
                    }
                }
                _ => {}
            }
            for (name, of, at) in lengths {
                let target = match of {
                    LenTarget::Field(t) | LenTarget::From(Some(t)) => t,
                    LenTarget::From(None) => continue,
                };
                // A missing target is reported by the struct's own checks.
                let Some(j) = position(target) else { continue };
                if j <= i {
                    errs.push(
                        Diagnostic::error(
                            at,
                            format!("`{name}` measures `{target}`, which comes before it"),
                            "after what it measures",
                        )
                        .code("E0356")
                        .note(
                            s.fields[j].span,
                            format!("`{target}` is read before `{name}`"),
                        )
                        .help(format!(
                            "move `{name}` before `{target}`: the decoder needs the length first"
                        )),
                    );
                }
            }
        }
    }
}
