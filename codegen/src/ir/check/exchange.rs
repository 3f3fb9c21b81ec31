//! Rules for an `exchange` block: its messages are members of the union frame, each has
//! one rule, conditions read the request, answers can be chosen, the fields named for
//! correlation and keepalive hold unsigned integers, farewells set fields they can with
//! values that fit, `accept if` reads the hello's one answer, and `status` lines read an
//! answer's integer or enum field and a string through a path.

use super::*;

/// Every rule of [`Exchange`]: the exchange needs a union frame.
pub(super) fn check(p: &Protocol, errs: &mut Vec<Diagnostic>) {
    let Some(ex) = &p.exchange else { return };
    let frame = p.frame.and_then(|f| p.types.get(f));
    let Some(TypeDef::Union(u)) = frame else {
        let label = match frame {
            Some(t) => format!("the frame `{}` is not a union", t.name()),
            None => "the protocol has no frame".to_string(),
        };
        errs.push(
            Diagnostic::error(ex.span, "`exchange` needs a union frame", label)
                .code("E0381")
                .help("declare the messages as structs, a `union Name { A, B }` of them, and `frame Name`"),
        );
        return;
    };
    let name = |i: usize| p.types.get(i).map_or("?", |t| t.name());
    // Each message named, where, and whether it may be a member of a member: with a frame of
    // two directions, a rule, a push or a farewell may name a member of a direction's union
    // (`Empty -> nothing`, RESP3's `push Push`, `on malformed -> SimpleError(..)`).
    let mut named: Vec<(usize, Span, &str, bool)> = Vec::new();
    let rules: Vec<&Rule> = ex.hello.iter().chain(&ex.rules).collect();
    for r in &rules {
        named.push((r.on, r.span, "a rule", true));
        for a in &r.answers {
            for m in a.reply.messages() {
                named.push((m, a.span, "an answer", false));
            }
        }
    }
    named.extend(ex.push.iter().map(|&m| (m, ex.span, "`push`", true)));
    if let Some(k) = &ex.keepalive {
        named.push((k.ping, k.span, "the keepalive's `ping`", false));
    }
    named.extend(
        ex.farewells
            .iter()
            .map(|f| (f.msg, f.span, "a farewell", true)),
    );
    for (m, at, role, nested) in named {
        let held = p
            .frame_path(m)
            .is_some_and(|path| path.len() == 1 || nested);
        if !held {
            errs.push(
                Diagnostic::error(
                    at,
                    format!(
                        "`{}` in {role} is not a member of the frame union `{}`",
                        name(m),
                        u.name
                    ),
                    "not sent on this protocol's frame",
                )
                .code("E0382")
                .note(u.span, "the frame union")
                .help(format!(
                    "add `{}` to `union {}`, or name one of its members",
                    name(m),
                    u.name
                )),
            );
        }
    }
    check_rules(p, ex, &rules, errs);
    check_correlate(p, ex, u, errs);
    check_keepalive(p, ex, errs);
    check_farewells(p, ex, errs);
    check_accept(p, ex, errs);
    check_statuses(p, ex, errs);
}

/// One rule per message; conditions over the request; no answer after one that is always
/// chosen; a series ends with another message than its items; an answer sent only on
/// failure or success has a `status`; neither answers the hello (`hello` says the first rule
/// is the hello's).
fn check_rules(p: &Protocol, ex: &Exchange, rules: &[&Rule], errs: &mut Vec<Diagnostic>) {
    let name = |i: usize| p.types.get(i).map_or("?", |t| t.name());
    let hello = ex.hello.is_some();
    let statuses: Vec<usize> = ex.statuses.iter().map(|s| s.msg).collect();
    for (i, r) in rules.iter().enumerate() {
        if let Some(first) = rules[..i].iter().find(|f| f.on == r.on) {
            errs.push(
                Diagnostic::error(
                    r.span,
                    format!("`{}` has a second rule", name(r.on)),
                    "second rule",
                )
                .code("E0383")
                .note(first.span, "first rule")
                .help("write every answer of a message in its one rule: `Msg -> A if cond, B`"),
            );
        }
        let request = match p.types.get(r.on) {
            Some(TypeDef::Struct(s)) => Some(s),
            _ => None,
        };
        let mut always: Option<Span> = None;
        for a in &r.answers {
            if let Reply::Only { msg, failure } = a.reply {
                let outcome = if failure { "failure" } else { "success" };
                if !statuses.contains(&msg) {
                    errs.push(
                        Diagnostic::error(
                            a.span,
                            format!(
                                "`{} on {outcome}` without a `status` of `{}`",
                                name(msg),
                                name(msg)
                            ),
                            "nothing says whether it reports a failure",
                        )
                        .code("E0399")
                        .help(format!(
                            "say which field of `{}` reports the outcome: `status {}.code ok 0`",
                            name(msg),
                            name(msg)
                        )),
                    );
                }
                if i == 0 && hello {
                    errs.push(
                        Diagnostic::error(
                            a.span,
                            format!("the hello `{}` is answered only on {outcome}", name(r.on)),
                            "the hello's answer is always sent",
                        )
                        .code("E0398")
                        .help(format!(
                            "answer the hello with one message: `hello {} -> {}`",
                            name(r.on),
                            name(msg)
                        )),
                    );
                }
            }
            if let Reply::Series { item, end } = a.reply {
                if item == end {
                    errs.push(
                        Diagnostic::error(
                            a.span,
                            format!(
                                "the series answering `{}` ends with its own item",
                                name(r.on)
                            ),
                            "nothing tells the end from an item",
                        )
                        .code("E0397")
                        .help(format!(
                            "end the series with another message: `{} -> {}* then End`",
                            name(r.on),
                            name(item)
                        )),
                    );
                }
                if i == 0 && hello {
                    errs.push(
                        Diagnostic::error(a.span, format!("the hello `{}` is answered by a series", name(r.on)), "the hello's answer is one message")
                            .code("E0398")
                            .help(format!("answer the hello with one message (`hello {} -> {}`), and the series to a request after it", name(r.on), name(end))),
                    );
                }
            }
            if let Some(first) = always {
                errs.push(
                    Diagnostic::error(a.span, format!("this answer to `{}` is never chosen", name(r.on)), "never chosen")
                        .code("E0387")
                        .note(first, "an answer without a condition comes first")
                        .help("answers are tried in order: give the earlier one a condition, or put this one first"),
                );
            }
            let Some(c) = &a.cond else {
                always.get_or_insert(a.span);
                continue;
            };
            let mut more = false;
            c.walk(&mut |c| more |= matches!(c, Cond::More));
            if more {
                errs.push(
                    Diagnostic::error(a.span, format!("the condition of an answer to `{}` reads `@more`", name(r.on)), "`@more` means nothing here")
                        .code("E0384")
                        .help("an answer's condition reads the request's fields and bit parts and `@version`"),
                );
            }
            let Some(s) = request else {
                errs.push(
                    Diagnostic::error(a.span, format!("an answer to `{}` has a condition, but `{}` is a union", name(r.on), name(r.on)), "nothing to read")
                        .code("E0384")
                        .help("an answer to a union of messages is chosen without a condition: `Command -> Value`"),
                );
                continue;
            };
            for (n, sp) in c.refs() {
                if let Err(why) = shapes::operand_kind(p, s, s.fields.len(), n) {
                    // Every field of the request is read before the answer.
                    let why = if why.starts_with("no earlier") {
                        format!("`{}` has no field or bit part `{n}`", s.name)
                    } else {
                        why
                    };
                    errs.push(
                        Diagnostic::error(
                            PartSpans::or(sp, a.span),
                            format!("the condition of an answer to `{}` cannot read `{n}`", s.name),
                            why,
                        )
                        .code("E0384")
                        .help("an answer's condition reads the request's integer, bool, enum or flags fields and bit parts that are always there, and `@version`"),
                    );
                }
            }
        }
    }
}

/// Whether `t` is an unsigned integer (optional or not).
fn unsigned(t: &Type) -> bool {
    match t {
        Type::Int(i) => !i.signed,
        Type::Optional { inner, .. } => unsigned(inner),
        _ => false,
    }
}

/// `correlate F`: some member has `F`, and every member that has it holds an unsigned
/// integer there.
fn check_correlate(p: &Protocol, ex: &Exchange, u: &UnionDef, errs: &mut Vec<Diagnostic>) {
    let Matching::Correlate(f) = &ex.matching else {
        return;
    };
    let mut found = false;
    for a in &u.arms {
        let Some(TypeDef::Struct(s)) = p.types.get(a.ty) else {
            continue;
        };
        for field in s.fields.iter().filter(|x| x.name == *f) {
            found = true;
            if !matches!(&field.kind, FieldKind::Value(t) if unsigned(t)) {
                errs.push(
                    Diagnostic::error(ex.span, format!("`correlate {f}`: `{}.{f}` is not an unsigned integer", s.name), "correlated by this field")
                        .code("E0385")
                        .note(field.span, "this field")
                        .help(format!("every member with a field `{f}` holds the request's number there as u8 to u64; rename the field that means something else")),
                );
            }
        }
    }
    if !found {
        errs.push(
            Diagnostic::error(ex.span, format!("`correlate {f}`: no member of `{}` has a field `{f}`", u.name), "nothing to correlate by")
                .code("E0385")
                .note(u.span, "the frame union")
                .help("name the integer field that answers share with their requests (`packet_id`), or write `order`"),
        );
    }
}

/// The keepalive reads an unsigned integer field of the hello, which it needs.
fn check_keepalive(p: &Protocol, ex: &Exchange, errs: &mut Vec<Diagnostic>) {
    let Some(k) = &ex.keepalive else { return };
    let Some(h) = &ex.hello else {
        errs.push(
            Diagnostic::error(k.span, "a keepalive without a `hello`", "the interval is unknown")
                .code("E0386")
                .help("mark the message that opens a connection and carries the interval: `hello Connect -> ConnAck`"),
        );
        return;
    };
    let Some(TypeDef::Struct(s)) = p.types.get(h.on) else {
        return;
    };
    let why = match s.fields.iter().find(|f| f.name == k.field) {
        None => format!("`{}` has no field `{}`", s.name, k.field),
        Some(f) if f.cond.is_some() => format!("`{}.{}` is conditional", s.name, k.field),
        Some(f) if matches!(&f.kind, FieldKind::Value(Type::Int(i)) if !i.signed) => return,
        Some(f)
            if matches!(
                &f.kind,
                FieldKind::Value(Type::Varint { signed: false, .. })
            ) =>
        {
            return;
        }
        Some(_) => format!("`{}.{}` is not an unsigned integer", s.name, k.field),
    };
    errs.push(
        Diagnostic::error(
            k.span,
            format!(
                "the keepalive interval `{}.{}` cannot be read",
                s.name, k.field
            ),
            why,
        )
        .code("E0386")
        .note(h.span, "the hello")
        .help(
            "name an unsigned integer field of the hello that is always there (`keep_alive: u16`)",
        ),
    );
}

/// Each farewell's condition reads `@version` only, and it sets top-level integer, bool
/// or enum fields of its message, each once, to values that fit.
fn check_farewells(p: &Protocol, ex: &Exchange, errs: &mut Vec<Diagnostic>) {
    for f in &ex.farewells {
        let kw = f.on.keyword();
        if let Some(c) = &f.cond {
            let mut more = false;
            c.walk(&mut |c| more |= matches!(c, Cond::More));
            let mut read: Vec<(String, Span)> = c
                .refs()
                .into_iter()
                .map(|(n, sp)| (format!("`{n}`"), PartSpans::or(sp, f.span)))
                .collect();
            if more {
                read.push(("`@more`".to_string(), f.span));
            }
            for (what, at) in read {
                errs.push(
                    Diagnostic::error(at, format!("the condition of `on {kw}` reads {what}"), "only `@version` is known here")
                        .code("E0390")
                        .help("a farewell is sent on a failure, with no message to read: its condition reads `@version` only (`if @version >= 5`)"),
                );
            }
        }
        let Some(TypeDef::Struct(s)) = p.types.get(f.msg) else {
            continue;
        };
        for (i, set) in f.sets.iter().enumerate() {
            if let Some(first) = f.sets[..i].iter().find(|x| x.field == set.field) {
                errs.push(
                    Diagnostic::error(
                        set.span,
                        format!("`on {kw}` sets `{}.{}` twice", s.name, set.field),
                        "set again",
                    )
                    .code("E0388")
                    .note(first.span, "first set here")
                    .help("keep one value per field"),
                );
                continue;
            }
            if let Err((misfit, why, help)) = settable(p, s, &set.field, &set.value) {
                let d = Diagnostic::error(
                    set.span,
                    format!("`on {kw}` cannot set `{}.{}`", s.name, set.field),
                    why,
                );
                let d = if misfit {
                    d.code("E0389")
                } else {
                    d.code("E0388")
                };
                errs.push(d.help(help));
            }
        }
    }
}

/// The value type of the top-level field `name` of `s`, or why it has none (a missing
/// field, a bit part, a constant, a computed length, bit-packed, a struct).
fn top_level_value<'a>(s: &'a StructDef, name: &str) -> Result<&'a Type, String> {
    let Some(field) = s.fields.iter().find(|f| f.name == name) else {
        let part = s.fields.iter().any(|f| {
            matches!(&f.kind, FieldKind::Bits { parts, .. } if parts.iter().any(|pt| pt.name == name))
        });
        return Err(if part {
            format!("`{name}` is a bit part, not a field")
        } else {
            format!("`{}` has no field `{name}`", s.name)
        });
    };
    match &field.kind {
        FieldKind::Value(t) => Ok(t),
        FieldKind::Const { .. } | FieldKind::Literal(_) => Err(format!("`{name}` is a constant")),
        FieldKind::Length { .. } => Err(format!("`{name}` is a computed length")),
        FieldKind::Bits { .. } => Err(format!("`{name}` is packed with bit parts")),
        FieldKind::Switch { .. } => Err(format!("`{name}` is a struct")),
    }
}

/// Whether `value` may be given to the top-level field `name` of `s`: else whether the
/// field is fine and only the value misfits (E0389, else E0388), the reason and a help.
fn settable(
    p: &Protocol,
    s: &StructDef,
    name: &str,
    value: &SetValue,
) -> Result<(), (bool, String, String)> {
    const FIELD_HELP: &str =
        "a farewell sets top-level fields holding an integer, a bool, an enum or a string";
    let bad_field = |why: String| Err((false, why, FIELD_HELP.to_string()));
    let ty = match top_level_value(s, name) {
        Ok(t) => t,
        Err(why) => return bad_field(why),
    };
    let range = match ty {
        Type::Int(i) => Some((i.min_value(), i128::from(i.max_value()))),
        Type::Varint { signed: false, max } => Some((0, i128::from(max.unwrap_or(u64::MAX)))),
        Type::Varint { signed: true, .. } => Some((i128::from(i64::MIN), i128::from(i64::MAX))),
        _ => None,
    };
    let misfit = |why: String, help: String| Err((true, why, help));
    if let Some((lo, hi)) = range {
        return match value {
            SetValue::Int(v) if (lo..=hi).contains(v) => Ok(()),
            SetValue::Int(v) => misfit(
                format!("{v} is out of range"),
                format!("`{name}` holds {lo} to {hi}"),
            ),
            _ => misfit(
                format!("`{name}` is an integer"),
                format!("write an integer from {lo} to {hi}"),
            ),
        };
    }
    match ty {
        Type::String { .. } => match value {
            SetValue::Str(_) => Ok(()),
            _ => misfit(
                format!("`{name}` is a string"),
                "write a string in double quotes".to_string(),
            ),
        },
        Type::Bool => match value {
            SetValue::Bool(_) => Ok(()),
            _ => misfit(
                format!("`{name}` is a bool"),
                "write `true` or `false`".to_string(),
            ),
        },
        Type::Named(i) => match p.types.get(*i) {
            Some(TypeDef::Enum(e)) => match value {
                SetValue::Variant(v) if e.variants.iter().any(|x| x.name == *v) => Ok(()),
                SetValue::Variant(v) => misfit(
                    format!("`{}` has no variant `{v}`", e.name),
                    match crate::util::closest(v, e.variants.iter().map(|x| x.name.clone())) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!("write a variant of `{}`", e.name),
                    },
                ),
                _ => misfit(
                    format!("`{name}` is the enum `{}`", e.name),
                    format!("write a variant of `{}` as declared", e.name),
                ),
            },
            _ => bad_field(format!("`{name}` is not an integer, bool or enum")),
        },
        _ => bad_field(format!("`{name}` is not an integer, bool or enum")),
    }
}

/// `accept if` reads the hello's one answer message, its fields and bit parts that are
/// always there and `@version`, never `@more`.
fn check_accept(p: &Protocol, ex: &Exchange, errs: &mut Vec<Diagnostic>) {
    let (Some(c), Some(h)) = (&ex.accept, &ex.hello) else {
        return;
    };
    let name = |i: usize| p.types.get(i).map_or("?", |t| t.name());
    let mut msgs: Vec<usize> = Vec::new();
    for a in &h.answers {
        if let Some(m) = a.reply.ending()
            && !msgs.contains(&m)
        {
            msgs.push(m);
        }
    }
    let [answer] = msgs[..] else {
        let label = if msgs.is_empty() {
            "no answer message".to_string()
        } else {
            let names: Vec<String> = msgs.iter().map(|&m| format!("`{}`", name(m))).collect();
            format!("answered by {}", names.join(" or "))
        };
        errs.push(
            Diagnostic::error(h.span, format!("`accept if` cannot tell which answer to `{}` to read", name(h.on)), label)
                .code("E0392")
                .help("answer the hello with one message (`hello Connect -> ConnAck accept if code == 0`), or leave `accept if` out"),
        );
        return;
    };
    let mut more = false;
    c.walk(&mut |c| more |= matches!(c, Cond::More));
    if more {
        errs.push(
            Diagnostic::error(
                h.span,
                "`accept if` reads `@more`",
                "`@more` means nothing here",
            )
            .code("E0391")
            .help(
                "`accept if` reads the fields and bit parts of the hello's answer and `@version`",
            ),
        );
    }
    let Some(TypeDef::Struct(s)) = p.types.get(answer) else {
        return;
    };
    for (n, sp) in c.refs() {
        if let Err(why) = shapes::operand_kind(p, s, s.fields.len(), n) {
            let why = if why.starts_with("no earlier") {
                format!("`{}` has no field or bit part `{n}`", s.name)
            } else {
                why
            };
            errs.push(
                Diagnostic::error(PartSpans::or(sp, h.span), format!("`accept if` cannot read `{n}` of `{}`", s.name), why)
                    .code("E0391")
                    .help(format!("`accept if` reads `{}`'s integer, bool, enum or flags fields and bit parts that are always there, and `@version`", s.name)),
            );
        }
    }
}

/// Each `status` names an answer of some rule, a top-level integer or enum field of it, a
/// range of success values within the field's, and a path to a string.
fn check_statuses(p: &Protocol, ex: &Exchange, errs: &mut Vec<Diagnostic>) {
    let name = |i: usize| p.types.get(i).map_or("?", |t| t.name());
    let answers: Vec<usize> = ex
        .hello
        .iter()
        .chain(&ex.rules)
        .flat_map(|r| &r.answers)
        .filter_map(|a| a.reply.ending())
        .collect();
    for st in &ex.statuses {
        if !answers.contains(&st.msg) {
            errs.push(
                Diagnostic::error(st.span, format!("`status` of `{}`, which answers nothing", name(st.msg)), "not an answer of any rule")
                    .code("E0396")
                    .help(format!("a status says whether an answer's request succeeded: name a message some rule answers with (`Msg -> {}`)", name(st.msg))),
            );
        }
        let Some(TypeDef::Struct(s)) = p.types.get(st.msg) else {
            continue;
        };
        match status_field_range(p, s, &st.field) {
            Err(why) => errs.push(
                Diagnostic::error(st.span, format!("`status` cannot read `{}.{}`", s.name, st.field), why)
                    .code("E0393")
                    .help("a status reads a top-level field holding an integer or an enum (`code: u8`, `reason: ReasonCode if @version >= 5`)"),
            ),
            Ok((min, max)) => {
                let (lo, hi) = st.ok;
                let why = if lo > hi {
                    Some(format!("{lo}..{hi} is empty"))
                } else if lo < min || hi > max {
                    Some(format!("`{}` holds {min} to {max}", st.field))
                } else {
                    None
                };
                if let Some(why) = why {
                    let ok = if lo == hi {
                        format!("ok {lo}")
                    } else {
                        format!("ok {lo}..{hi}")
                    };
                    errs.push(
                        Diagnostic::error(st.span, format!("`status {}.{}`: `{ok}` does not fit the field", s.name, st.field), why)
                            .code("E0394")
                            .help(format!("write the values meaning success as `ok LO..HI`, LO at most HI, both from {min} to {max}")),
                    );
                }
            }
        }
        if !st.message.is_empty()
            && let Err(why) = message_path(p, s, &st.message)
        {
            errs.push(
                Diagnostic::error(st.span, format!("`status {}.{}`: the message `{}` is not a string field", s.name, st.field, st.message.join(".")), why)
                    .code("E0395")
                    .help("name a string field: a top-level one, or one of a struct or tagged-list field, by its path (`properties.reason_string`)"),
            );
        }
    }
}

/// The values a status field holds: a top-level integer or enum field (optional or
/// conditional), an enum by its wire values.
fn status_field_range(p: &Protocol, s: &StructDef, name: &str) -> Result<(i128, i128), String> {
    let ty = match top_level_value(s, name)? {
        Type::Optional { inner, .. } => &**inner,
        t => t,
    };
    match ty {
        Type::Int(i) => Ok((i.min_value(), i128::from(i.max_value()))),
        Type::Varint { signed: false, max } => Ok((0, i128::from(max.unwrap_or(u64::MAX)))),
        Type::Varint { signed: true, .. } => Ok((i128::from(i64::MIN), i128::from(i64::MAX))),
        Type::Named(i) => match p.types.get(*i) {
            Some(TypeDef::Enum(e)) => Ok((e.repr.min_value(), i128::from(e.repr.max_value()))),
            _ => Err(format!("`{name}` is not an integer or an enum")),
        },
        _ => Err(format!("`{name}` is not an integer or an enum")),
    }
}

/// Follows `path` from the top-level fields of `s` through struct fields and tagged-list
/// members (each possibly optional) to a string.
fn message_path(p: &Protocol, s: &StructDef, path: &[String]) -> Result<(), String> {
    fn value(t: &Type) -> &Type {
        match t {
            Type::Optional { inner, .. } => value(inner),
            t => t,
        }
    }
    let mut ty: Option<&Type> = None;
    let mut at = s.name.as_str();
    for (i, seg) in path.iter().enumerate() {
        let next = match ty.map(value) {
            None => match s.fields.iter().find(|f| f.name == *seg) {
                Some(f) => match &f.kind {
                    FieldKind::Value(t) => t,
                    _ => return Err(format!("`{}.{seg}` holds no value of its own", s.name)),
                },
                None => return Err(format!("`{}` has no field `{seg}`", s.name)),
            },
            Some(Type::Named(n)) => match p.types.get(*n) {
                Some(TypeDef::Struct(d)) => match d.fields.iter().find(|f| f.name == *seg) {
                    Some(f) => match &f.kind {
                        FieldKind::Value(t) => t,
                        _ => return Err(format!("`{}.{seg}` holds no value of its own", d.name)),
                    },
                    None => return Err(format!("`{}` has no field `{seg}`", d.name)),
                },
                Some(TypeDef::Tagged(t)) => match t.members.iter().find(|m| m.name == *seg) {
                    Some(m) if m.repeated => {
                        return Err(format!("`{}.{seg}` may repeat", t.name));
                    }
                    Some(m) => &m.ty,
                    None => return Err(format!("`{}` has no member `{seg}`", t.name)),
                },
                _ => {
                    return Err(format!(
                        "`{}` is not a struct or tagged list",
                        path[..i].join(".")
                    ));
                }
            },
            Some(_) => {
                return Err(format!(
                    "`{}` is not a struct or tagged list",
                    path[..i].join(".")
                ));
            }
        };
        ty = Some(next);
        at = seg;
    }
    match ty.map(value) {
        Some(Type::String { .. }) => Ok(()),
        _ => Err(format!("`{at}` is not a string")),
    }
}
