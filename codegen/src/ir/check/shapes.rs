//! Rules for the layouts that vary with the data: unions (a layout per value of their first
//! word), tagged lists, fields present on a condition, presence bits and bounded varints.

use super::*;

/// The constant bits of the first field of struct `s`: its integer type, which bits are
/// constant, and their value. `None` when the first field holds no constant bits.
fn leading_constant(s: &StructDef) -> Option<(IntType, u64, u64)> {
    let f = s.fields.first()?;
    match &f.kind {
        FieldKind::Const { ty, value } => Some((*ty, word_mask(ty.bits()), *value)),
        FieldKind::Bits { ty, parts } => {
            let (mut mask, mut value) = (0u64, 0u64);
            for pt in parts {
                // A part outside its word is reported by other rules; it adds nothing here.
                if let PartValue::Const(c) = pt.value {
                    let m = word_mask(pt.hi.saturating_sub(pt.lo))
                        .checked_shl(pt.lo)
                        .unwrap_or(0);
                    mask |= m;
                    value |= c.checked_shl(pt.lo).unwrap_or(0) & m;
                }
            }
            (mask != 0).then_some((*ty, mask, value))
        }
        _ => None,
    }
}

fn word_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// How union `u` tells its members apart: the type of the word they all start with, the
/// bits constant in every one of them, and each member's value of those bits (in arm
/// order). `None` when they cannot be told apart (the checker reports why).
pub fn union_key(p: &Protocol, u: &UnionDef) -> Option<(UnionKey, Vec<u64>)> {
    let mut ty = None;
    let mut mask = u64::MAX;
    let mut consts = Vec::new();
    for a in &u.arms {
        if a.fallback {
            // Read when no other member's key matches; it has none of its own.
            consts.push(0);
            continue;
        }
        let TypeDef::Struct(s) = &p.types[a.ty] else {
            return None;
        };
        let (t, m, v) = leading_constant(s)?;
        if *ty.get_or_insert(t) != t {
            return None;
        }
        mask &= m;
        consts.push(v);
    }
    let ty = ty?;
    if mask == 0 {
        return None;
    }
    Some((
        UnionKey { ty, mask },
        consts.into_iter().map(|v| v & mask).collect(),
    ))
}

/// The key values of union `u`'s members other than its `else` member, in arm order.
pub fn keyed_values(u: &UnionDef, values: &[u64]) -> Vec<(usize, u64)> {
    values
        .iter()
        .enumerate()
        .filter(|(n, _)| !u.arms[*n].fallback)
        .map(|(n, v)| (n, *v))
        .collect()
}

/// Runs this module's rules.
pub(super) fn check(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    for t in &p.types {
        match t {
            TypeDef::Union(u) => check_union(p, u, errs),
            TypeDef::Tagged(tg) => check_tagged(p, tg, errs),
            TypeDef::Struct(s) => {
                check_conditions(p, s, errs);
                check_len_else(s, errs);
            }
            TypeDef::Enum(_) | TypeDef::Flags(_) => {}
        }
    }
    check_union_frame(p, errs);
}

fn check_union(p: &Protocol, u: &UnionDef, errs: &mut Vec<Diagnostic>) {
    if u.arms.is_empty() {
        errs.push(
            Diagnostic::error(
                u.span,
                format!("union `{}` has no members", u.name),
                "empty",
            )
            .code("E0368")
            .help("list the structs it may be: `union Packet { Connect, Publish }`"),
        );
        return;
    }
    if u.arms.iter().any(|a| a.from.is_some()) {
        check_sided(p, u, errs);
        return;
    }
    let mut ok = true;
    let mut first: Option<(IntType, Span, &str)> = None;
    for (n, a) in u.arms.iter().enumerate() {
        if u.arms[..n].iter().any(|b| b.ty == a.ty) {
            errs.push(
                Diagnostic::error(
                    a.span,
                    format!(
                        "`{}` is a member of `{}` twice",
                        p.types[a.ty].name(),
                        u.name
                    ),
                    "repeated",
                )
                .code("E0368")
                .help("list each member once"),
            );
            ok = false;
            continue;
        }
        let s = match &p.types[a.ty] {
            TypeDef::Struct(s) if !s.header_only => s,
            other => {
                errs.push(
                    Diagnostic::error(
                        a.span,
                        format!(
                            "`{}` cannot be a member of union `{}`",
                            other.name(),
                            u.name
                        ),
                        "not a struct",
                    )
                    .code("E0368")
                    .help("a union's members are structs with a binary layout"),
                );
                ok = false;
                continue;
            }
        };
        if a.fallback {
            if let Some(first) = u.arms[..n].iter().find(|b| b.fallback) {
                errs.push(
                    Diagnostic::error(
                        a.span,
                        format!("union `{}` has a second `else` member", u.name),
                        "second `else`",
                    )
                    .code("E0337")
                    .note(first.span, "the first")
                    .help("one member is read when the first word is no other member's: keep one `else`"),
                );
                ok = false;
            }
            continue;
        }
        match leading_constant(s) {
            None => {
                let at = s.fields.first().map_or(s.span, |f| f.span);
                errs.push(
                    Diagnostic::error(
                        at,
                        format!(
                            "`{}` does not start with constant bits, so union `{}` cannot tell it from its other members",
                            s.name, u.name
                        ),
                        "no constant here",
                    )
                    .code("E0369")
                    .note(a.span, "member of the union here")
                    .help("start every member with a constant or a word with a constant part, e.g. `header: u8 { kind: u8 bits 4..8 = 3, flags: u8 bits 0..4 }`"),
                );
                ok = false;
            }
            Some((ty, _, _)) => match first {
                Some((t0, at0, name0)) if t0 != ty => {
                    errs.push(
                        Diagnostic::error(
                            s.fields[0].span,
                            format!(
                                "the members of union `{}` start with words of different types",
                                u.name
                            ),
                            "this one differs",
                        )
                        .code("E0369")
                        .note(at0, format!("`{name0}` starts like this"))
                        .help("start every member with a word of the same integer type"),
                    );
                    ok = false;
                }
                Some(_) => {}
                None => first = Some((ty, s.fields[0].span, &s.name)),
            },
        }
    }
    if !ok {
        return;
    }
    let Some((key, values)) = union_key(p, u) else {
        errs.push(
            Diagnostic::error(
                u.span,
                format!("no bit is constant in every member of union `{}`", u.name),
                "cannot tell its members apart",
            )
            .code("E0369")
            .help("give every member's first word a constant part at the same bits"),
        );
        return;
    };
    let keyed = keyed_values(u, &values);
    for (i, &(n, v)) in keyed.iter().enumerate() {
        if let Some(&(m, _)) = keyed[..i].iter().find(|(_, w)| *w == v) {
            errs.push(
                Diagnostic::error(
                    u.arms[n].span,
                    format!(
                        "`{}` and `{}` have the same constant bits ({v:#x} under mask {:#x}), so union `{}` cannot tell them apart",
                        p.types[u.arms[n].ty].name(),
                        p.types[u.arms[m].ty].name(),
                        key.mask,
                        u.name
                    ),
                    "same as an earlier member",
                )
                .code("E0370")
                .note(u.arms[m].span, "this member has them too")
                .help("give each member its own constant value"),
            );
        }
    }
}

/// A union of the two directions of a connection: one member `from client`, one `from
/// server`, each a struct or a union of its own.
fn check_sided(p: &Protocol, u: &UnionDef, errs: &mut Vec<Diagnostic>) {
    let diag = |at: Span, msg: String, label: &str| {
        Diagnostic::error(at, msg, label).code("E0338").help(
            "a union of the two directions has one member `from client` and one `from server`, each a struct or a union: `union Message { Command from client, Reply from server }`",
        )
    };
    for (n, a) in u.arms.iter().enumerate() {
        let name = p.types[a.ty].name();
        let Some(side) = a.from else {
            errs.push(diag(
                a.span,
                format!(
                    "`{name}` says no side, but other members of `{}` do",
                    u.name
                ),
                "no `from client` or `from server`",
            ));
            continue;
        };
        if a.fallback {
            errs.push(diag(
                a.span,
                format!("`else {name}` in `{}`: which side sent the bytes picks the member, not their first word", u.name),
                "`else` here",
            ));
        }
        if let Some(b) = u.arms[..n].iter().find(|b| b.from == Some(side)) {
            errs.push(
                diag(
                    a.span,
                    format!("union `{}` has two members `from {}`", u.name, side.name()),
                    "second",
                )
                .note(b.span, "the first"),
            );
        }
        match &p.types[a.ty] {
            TypeDef::Struct(s) if !s.header_only => {}
            TypeDef::Union(inner) if inner.arms.iter().all(|b| b.from.is_none()) => {}
            _ => errs.push(diag(
                a.span,
                format!(
                    "`{name}` cannot be the member of union `{}` that {} sends",
                    u.name,
                    side.name()
                ),
                "not a struct or a union of one direction",
            )),
        }
    }
    // A member without a side is reported above; which side lacks one is then unclear.
    let every = u.arms.iter().all(|a| a.from.is_some());
    for side in [Sender::Client, Sender::Server] {
        if every && u.arms.iter().all(|a| a.from != Some(side)) {
            errs.push(diag(
                u.span,
                format!("union `{}` has no member `from {}`", u.name, side.name()),
                "one side missing",
            ));
        }
    }
}

/// The probe of a union frame reads its first member's fields up to the length: every
/// member must have that layout.
fn check_union_frame(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let Some(TypeDef::Union(u)) = p.frame.map(|i| &p.types[i]) else {
        return;
    };
    // The widths a probe reads, up to and including the frame's `len(..)`.
    let shape = |s: &StructDef| -> Option<Vec<String>> {
        let mut out = Vec::new();
        for f in &s.fields {
            match &f.kind {
                FieldKind::Const { ty, .. } | FieldKind::Bits { ty, .. } => {
                    out.push(format!("{} bytes", ty.bytes))
                }
                FieldKind::Length {
                    ty,
                    of: LenTarget::From(None),
                } => {
                    out.push(format!("{ty:?}"));
                    return Some(out);
                }
                _ => return None,
            }
        }
        None
    };
    // Without any `len(..)`, frames are measured by decoding them.
    if !crate::emit::has_frame_length(p, u) {
        return;
    }
    let Some(first) = u.arms.first() else { return };
    let TypeDef::Struct(s0) = &p.types[first.ty] else {
        return;
    };
    let Some(want) = shape(s0) else {
        errs.push(
            Diagnostic::error(
                first.span,
                format!(
                    "`{}` is the first member of the frame `{}`, but no `len(..)` field follows its constant words",
                    s0.name, u.name
                ),
                "no frame length",
            )
            .code("E0371")
            .help("start every member with its constant word(s), then the length of the rest: `length: varint<max = 268435455> = len(..)`"),
        );
        return;
    };
    for a in &u.arms[1..] {
        let TypeDef::Struct(s) = &p.types[a.ty] else {
            continue;
        };
        if shape(s).as_ref() != Some(&want) {
            errs.push(
                Diagnostic::error(
                    a.span,
                    format!(
                        "`{}` does not start like `{}`: the members of the frame `{}` must have the same words and length field before their own fields",
                        s.name, s0.name, u.name
                    ),
                    "different start",
                )
                .code("E0371")
                .note(first.span, "the first member")
                .help("give every member the same constant words and `len(..)` field first"),
            );
        }
    }
}

fn check_tagged(p: &Protocol, t: &TaggedDef, errs: &mut Vec<Diagnostic>) {
    for (n, m) in t.members.iter().enumerate() {
        let at = PartSpans::or(m.tag_span, m.span);
        if m.tag > t.tag.max_len() {
            errs.push(
                Diagnostic::error(
                    at,
                    format!(
                        "tag {:#x} of `{}` does not fit the tags of `{}`",
                        m.tag, m.name, t.name
                    ),
                    "too large",
                )
                .code("E0372")
                .help(format!("tags are at most {:#x}", t.tag.max_len())),
            );
        }
        if let Some(first) = t.members[..n].iter().find(|o| o.tag == m.tag) {
            errs.push(
                Diagnostic::error(
                    at,
                    format!(
                        "`{}` and `{}` have the same tag {:#x}",
                        first.name, m.name, m.tag
                    ),
                    "repeated tag",
                )
                .code("E0373")
                .note(PartSpans::or(first.tag_span, first.span), "first used here")
                .help("give each member its own tag"),
            );
        }
        if !self_delimited(p, &m.ty) {
            errs.push(
                Diagnostic::error(
                    m.span,
                    format!("member `{}` of `{}` does not say where it ends", m.name, t.name),
                    "no length",
                )
                .code("E0374")
                .help("give it a length prefix (`string<u16>`, `bytes<u16>`, `list<T, u8>`) or a fixed size"),
            );
        }
    }
}

/// Whether a value of `ty` knows its own extent (it can stand between others).
fn self_delimited(p: &Protocol, ty: &Type) -> bool {
    match ty {
        Type::String { prefix, .. } | Type::Bytes { prefix, .. } => prefix.is_some(),
        Type::List { elem, count } => count.is_some() && self_delimited(p, elem),
        Type::Map { key, value, count } => {
            count.is_some() && self_delimited(p, key) && self_delimited(p, value)
        }
        Type::Optional { inner, .. } => self_delimited(p, inner),
        Type::Named(i) => !super::struct_open(p, *i, &mut Vec::new()),
        Type::Int(_) | Type::Varint { .. } | Type::Bool => true,
    }
}

/// Whether a condition in field `upto` of struct `s` may read `name`: `Ok` for an earlier
/// integer, bool, enum or flags value (field or bit part), else why not.
pub(super) fn operand_kind(
    p: &Protocol,
    s: &StructDef,
    upto: usize,
    name: &str,
) -> Result<(), String> {
    let usable = |t: &Type| match t {
        Type::Int(_) | Type::Varint { .. } | Type::Bool => true,
        Type::Named(i) => matches!(p.types[*i], TypeDef::Enum(_) | TypeDef::Flags(_)),
        _ => false,
    };
    for f in &s.fields[..upto] {
        match &f.kind {
            FieldKind::Value(t) if f.name == name => {
                return if f.cond.is_some() {
                    Err(format!("`{name}` is itself conditional"))
                } else if usable(t) {
                    Ok(())
                } else {
                    Err(format!(
                        "`{name}` is not an integer, bool, enum or flags value"
                    ))
                };
            }
            FieldKind::Bits { parts, .. } => {
                if let Some(pt) = parts.iter().find(|pt| pt.name == name) {
                    return match &pt.value {
                        PartValue::Stored | PartValue::Present(_) => Ok(()),
                        PartValue::Const(_) => Err(format!("`{name}` is a constant")),
                        PartValue::Length(_) => Err(format!("`{name}` is a computed length")),
                    };
                }
            }
            FieldKind::Const { .. } | FieldKind::Length { .. } if f.name == name => {
                return Err(format!("`{name}` is not stored"));
            }
            _ => {}
        }
    }
    if s.fields[upto..].iter().any(|f| f.name == name) {
        return Err(format!(
            "`{name}` comes later: a condition reads what was read before"
        ));
    }
    Err(format!("no earlier field or bit part is called `{name}`"))
}

fn check_conditions(p: &Protocol, s: &StructDef, errs: &mut Vec<Diagnostic>) {
    for (fi, f) in s.fields.iter().enumerate() {
        let at = PartSpans::or(f.at.cond, f.span);
        if let Some(c) = &f.cond {
            if !matches!(f.kind, FieldKind::Value(_) | FieldKind::Literal(_)) {
                errs.push(
                    Diagnostic::error(at, format!("`{}` cannot be conditional", f.name), "condition here")
                        .code("E0377")
                        .help("a condition applies to a stored value or a literal; constants, lengths, packed words and `by` fields are always there"),
                );
            }
            if s.header_only {
                errs.push(
                    Diagnostic::error(
                        at,
                        format!("header field `{}` cannot be conditional", f.name),
                        "condition here",
                    )
                    .code("E0377")
                    .help("a header is carried as strings: make the field optional (`T?`) instead"),
                );
            }
            for (name, sp) in c.refs() {
                // An earlier computed length is read as it is on the wire (`len >= 0`).
                if earlier_length(s, fi, name) {
                    continue;
                }
                if let Err(why) = operand_kind(p, s, fi, name) {
                    errs.push(
                        Diagnostic::error(
                            PartSpans::or(sp, at),
                            format!("the condition of `{}` cannot read `{name}`", f.name),
                            why,
                        )
                        .code("E0376")
                        .help("a condition reads earlier integer, bool, enum or flags fields and bit parts of the same struct, and `@version`"),
                    );
                }
            }
        }
        // `present(x)`: x is a later field whose condition reads this bit.
        if let FieldKind::Bits { parts, .. } = &f.kind {
            for pt in parts {
                let PartValue::Present(x) = &pt.value else {
                    continue;
                };
                let target = s.fields[fi + 1..].iter().find(|g| g.name == *x);
                let reads = target
                    .and_then(|g| g.cond.as_ref())
                    .is_some_and(|c| c.refs().iter().any(|(n, _)| *n == pt.name));
                let bool_like = matches!(pt.ty, Type::Bool | Type::Int(_));
                if !reads || !bool_like {
                    errs.push(
                        Diagnostic::error(
                            PartSpans::or(pt.at.value, pt.span),
                            format!("`{}` = present({x}) does not tell about a field", pt.name),
                            if bool_like { "nothing reads this bit" } else { "not a bool or integer" },
                        )
                        .code("E0378")
                        .help(format!(
                            "declare `{x}` after it with the condition `if {}`, and give the part the type `bool`",
                            pt.name
                        )),
                    );
                }
            }
        }
        // A `@version` field sets the version conditions read: it is an unsigned integer.
        if f.attrs.iter().any(|a| a == "version")
            && !matches!(f.kind, FieldKind::Value(Type::Int(_) | Type::Varint { .. }))
        {
            errs.push(
                Diagnostic::error(
                    super::attr_span(f, "version"),
                    format!("`@version` on `{}`, which holds no integer", f.name),
                    "not a version",
                )
                .code("E0379")
                .help("mark the integer field that carries the protocol version"),
            );
        }
    }
}

/// Whether `name` is a computed length field (not a bit part) before field number `upto`.
fn earlier_length(s: &StructDef, upto: usize, name: &str) -> bool {
    s.fields[..upto]
        .iter()
        .any(|f| f.name == name && matches!(f.kind, FieldKind::Length { .. }))
}

/// The value of condition `c` when the name `n` holds `v`, where it does not depend on
/// anything else: `Some(false)` for `n >= 0 && flag` with `v` = -1, `None` when unknown.
fn decided_with(c: &Cond, n: &str, v: i128) -> Option<bool> {
    let int = |c: &Cond| match c {
        Cond::Int(i, _) => Some(*i),
        Cond::Ref(r, _) if r == n => Some(v),
        _ => None,
    };
    match c {
        Cond::Cmp(op, a, b) => {
            let (a, b) = (int(a)?, int(b)?);
            Some(match op {
                CmpOp::Eq => a == b,
                CmpOp::Ne => a != b,
                CmpOp::Lt => a < b,
                CmpOp::Le => a <= b,
                CmpOp::Gt => a > b,
                CmpOp::Ge => a >= b,
            })
        }
        Cond::Not(x) => decided_with(x, n, v).map(|b| !b),
        Cond::And(a, b) => match (decided_with(a, n, v), decided_with(b, n, v)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Cond::Or(a, b) => match (decided_with(a, n, v), decided_with(b, n, v)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `n: T = len(x) else V`: `x` is conditional (E0364), and when `x`'s condition reads `n`,
/// there is a `V` and it is a value the condition refuses (E0359). That `V` fits `T` is
/// checked while lowering (E0117).
fn check_len_else(s: &StructDef, errs: &mut Vec<Diagnostic>) {
    for f in &s.fields {
        let at = PartSpans::or(f.at.len_else, f.span);
        // `else` anywhere else is refused while lowering (E0116).
        let FieldKind::Length { of, .. } = &f.kind else {
            continue;
        };
        let target = match of {
            LenTarget::Field(x) => s.fields.iter().find(|g| g.name == *x),
            LenTarget::From(_) => None,
        };
        let Some((x, cond)) = target.and_then(|g| g.cond.as_ref().map(|c| (g, c))) else {
            if f.len_else.is_some() {
                let why = match of {
                    LenTarget::Field(x) => format!("`{x}` is always there"),
                    LenTarget::From(_) => "it measures a run of fields, always there".to_string(),
                };
                errs.push(
                    Diagnostic::error(at, format!("`else` on `{}`, whose target is never absent", f.name), why)
                        .code("E0364")
                        .help("`else` gives the length of an absent conditional field (`data: bytes sized_by len if len >= 0`); drop it"),
                );
            }
            continue;
        };
        let reads = cond.refs().iter().any(|(r, _)| *r == f.name);
        let Some(v) = f.len_else else {
            if reads {
                errs.push(
                    Diagnostic::error(
                        PartSpans::or(f.at.value, f.span),
                        format!("`{}` has no value for an absent `{}`", f.name, x.name),
                        format!("`{}`'s condition reads `{}`", x.name, f.name),
                    )
                    .code("E0359")
                    .help(format!(
                        "say what `{}` is when `{}` is absent, a value its condition refuses: `= len({}) else -1`",
                        f.name, x.name, x.name
                    )),
                );
            }
            continue;
        };
        if reads && decided_with(cond, &f.name, v) != Some(false) {
            errs.push(
                Diagnostic::error(
                    at,
                    format!("an absent `{}` writes `{}` = {v}, which its condition does not refuse", x.name, f.name),
                    "not refused",
                )
                .code("E0359")
                .note(PartSpans::or(x.at.cond, x.span), "this condition")
                .help(format!("choose a value for which the condition of `{}` is false, e.g. `else -1` for `if {} >= 0`", x.name, f.name)),
            );
        }
    }
}
