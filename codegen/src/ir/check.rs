//! Every semantic rule of the IR, one function each; all errors are collected and reported
//! together. Both front ends run these checks, so a rule is written once.

use super::*;
use crate::diag::Diagnostic;

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
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Suspicious but valid input in a protocol that passed [`check`]: warnings a build may
/// deny. Both front ends run it after [`check`].
pub fn warnings(p: &Protocol) -> Vec<Diagnostic> {
    let _ = p;
    Vec::new()
}

fn check_enums(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    for t in &p.types {
        let (variants, what, repr, is_flags) = match t {
            TypeDef::Enum(e) => (&e.variants, "value", e.repr, false),
            TypeDef::Flags(f) => (&f.bits, "bit", f.repr, true),
            TypeDef::Struct(_) => continue,
        };
        for (i, v) in variants.iter().enumerate() {
            if let Some(first) = variants[..i].iter().find(|w| w.name == v.name) {
                errs.push(
                    Diagnostic::error(
                        v.span,
                        format!("`{}` is declared twice in `{}`", v.name, t.name()),
                        "second declaration",
                    )
                    .note(first.span, "first declared here"),
                );
            } else if let Some(first) = variants[..i].iter().find(|w| w.value == v.value) {
                errs.push(
                    Diagnostic::error(
                        v.span,
                        format!("{what} {} is used twice in `{}`", v.value, t.name()),
                        format!("also the {what} of `{}`", first.name),
                    )
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
        },
    }
}

fn field_min_size(p: &Protocol, f: &Field, depth: usize) -> usize {
    let inner = match &f.kind {
        FieldKind::Value(t) => min_size_depth(p, t, depth),
        FieldKind::Const { ty, .. } | FieldKind::Bits { ty, .. } => usize::from(ty.bytes),
        FieldKind::Length { ty, .. } => ty.min_size(),
        FieldKind::Switch { .. } => 0,
    };
    match f.region {
        Region::Prefixed(x) => x.min_size(),
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
                .help(format!(
                    "a prefix of this width holds at most {}; widen it or lower `max`",
                    x.max_len()
                )),
            );
        }
        Type::String { prefix: None, .. } | Type::Bytes { prefix: None, .. }
            if !top || f.region == Region::Inline =>
        {
            errs.push(Diagnostic::error(f.span, format!("`{}` has no length", f.name), "extent unknown")
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
            .help("`as` gives a narrower wire integer a wider Rust type, e.g. `code: i16 as i32`"),
        );
    }
    if let Some(d) = f.default {
        let range = match &f.kind {
            FieldKind::Value(Type::Int(i)) => {
                let i = f.widen.unwrap_or(*i);
                Some((i.min_value(), i128::from(i.max_value())))
            }
            FieldKind::Value(Type::Varint { signed: false }) => Some((0, i128::from(u64::MAX))),
            FieldKind::Value(Type::Varint { signed: true }) => {
                Some((i128::from(i64::MIN), i128::from(i64::MAX)))
            }
            FieldKind::Value(Type::Named(i)) => match &p.types[*i] {
                TypeDef::Enum(e) => e
                    .variants
                    .iter()
                    .any(|v| v.value == d)
                    .then_some((d, d))
                    .or(Some((1, 0))),
                _ => None,
            },
            _ => None,
        };
        match range {
            None => errs.push(
                Diagnostic::error(
                    f.span,
                    format!("`@default` does not apply to `{}`", f.name),
                    "not an integer or enum",
                )
                .help("`@default(n)` sets the starting value of an integer or enum field"),
            ),
            Some((lo, hi)) if d < lo || d > hi => errs.push(
                Diagnostic::error(
                    f.span,
                    format!("default {d} is not a value of `{}`", f.name),
                    "out of range",
                )
                .help("give a value the field's type holds (for an enum, a variant's value)"),
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
    let names = names_in(s);
    for (i, (n, sp)) in names.iter().enumerate() {
        if let Some((_, first)) = names[..i].iter().find(|(m, _)| m == n) {
            errs.push(
                Diagnostic::error(
                    *sp,
                    format!("field `{n}` is declared twice in `{}`", s.name),
                    "second declaration",
                )
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
            FieldKind::Const { .. } => {}
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
                        errs.push(Diagnostic::error(part.span, format!("`{}` cannot hold {width} packed bit(s)", part.name), "wrong part type")
                            .help("a part is an unsigned integer at least as wide as its bits, a bool (1 bit), an enum or flags"));
                    }
                    if let PartValue::Length(t) = &part.value {
                        len_target(t, part.span, errs);
                    }
                }
            }
            FieldKind::Switch { ty, disc, arms } => {
                let TypeDef::Struct(target) = &p.types[*ty] else {
                    errs.push(Diagnostic::error(
                        f.span,
                        format!("`{}` chooses an encoding but is not a struct", f.name),
                        "not a struct",
                    ));
                    continue;
                };
                let disc_ok = s.fields[..fi].iter().any(|g| match &g.kind {
                    FieldKind::Value(Type::Int(_)) => g.name == *disc,
                    FieldKind::Bits { parts, .. } => parts
                        .iter()
                        .any(|pt| pt.name == *disc && pt.value == PartValue::Stored),
                    _ => false,
                });
                if !disc_ok {
                    errs.push(Diagnostic::error(f.span, format!("the discriminator `{disc}` is not an earlier integer field"), "unknown discriminator")
                        .help("declare the discriminator (an integer field or bit part) before this field"));
                }
                for (v, enc) in arms {
                    if enc != "binary" && !target.encodings.iter().any(|e| e.name == *enc) {
                        errs.push(Diagnostic::error(f.span, format!("discriminator value {v} selects encoding `{enc}`, which `{}` does not declare", target.name), "no such encoding")
                            .help(format!("declare `encoding {} {enc} {{ ... }}` or use `binary`", target.name)));
                    }
                }
                let mut seen = Vec::new();
                for (v, _) in arms {
                    if seen.contains(v) {
                        errs.push(Diagnostic::error(
                            f.span,
                            format!("discriminator value {v} has two encodings"),
                            "repeated value",
                        ));
                    }
                    seen.push(*v);
                }
                if f.region == Region::Inline && arms.iter().any(|(_, e)| e != "binary") {
                    errs.push(
                        Diagnostic::error(
                            f.span,
                            format!("`{}` has a text encoding, so it needs a length", f.name),
                            "extent unknown",
                        )
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
                    .help("use an integer type or varint"),
                );
            }
            if let Some(first) = corr.replace(f.span) {
                errs.push(
                    Diagnostic::error(f.span, "two correlation ids", "second `@correlation`")
                        .note(first, "first here"),
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
                errs.push(Diagnostic::error(f.span, format!("`{}` is marked `@kind` but is not flags with a `@response` bit", f.name), "cannot tell requests from responses")
                    .help("make it a `flags` type whose response bit has `@response` (and oneway bit `@oneway`)"));
            }
            if let Some(first) = kind.replace(f.span) {
                errs.push(
                    Diagnostic::error(f.span, "two `@kind` fields", "second `@kind`")
                        .note(first, "first here"),
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
            .help("start the frame with fixed-size fields and a `length: u32 = len(..)` field covering the rest"));
    }
}

fn check_services(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&Rpc, &str)> = Vec::new();
    let frame = p.frame.map(|f| p.struct_def(f));
    for s in &p.services {
        for r in &s.rpcs {
            if let Some((first, svc)) = seen.iter().find(|(x, _)| x.code == r.code) {
                errs.push(
                    Diagnostic::error(
                        r.span,
                        format!("request code {} is used twice", r.code),
                        format!("`{}` uses it again", r.name),
                    )
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
                    .note(first.span, "first here"),
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
                    .help("remove `-> { ... }` or make it a `request`"),
                );
            }
            for part in [&r.request, &r.response] {
                if let Some(h) = &part.header {
                    if !matches!(p.types[h.ty], TypeDef::Struct(_)) {
                        errs.push(Diagnostic::error(
                            r.span,
                            format!("header `{}` is not a struct", p.types[h.ty].name()),
                            "not a struct",
                        ));
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
            errs.push(Diagnostic::error(
                h.span,
                format!(
                    "the handshake's `{role}` message `{}` is not a struct",
                    p.types[i].name()
                ),
                "not a struct",
            ));
        }
    }
    if p.versions.is_none() {
        errs.push(
            Diagnostic::error(
                h.span,
                "a handshake negotiates versions, but the protocol declares none",
                "no `versions`",
            )
            .help("add `versions 1..=N` to the protocol"),
        );
    }
}
