//! The `exchange` block: `Exchange` for the frame union (sans-IO, what a
//! `MessageSession` carries out), and, with the runtime, a typed handler trait with one
//! method per message a side receives, its dispatch, and a constructor of the server.

use super::rust::{Gen, ident, lit, pascal, pascal_prefix, snake, unparen};
use super::structs::{Side, version_u32};
use crate::ir::*;

const P: &str = "::polywire::__private";

/// The frame union and the exchange, when the protocol has both.
fn parts(p: &Protocol) -> Option<(&UnionDef, &Exchange)> {
    let ex = p.exchange.as_ref()?;
    match &p.types[p.frame?] {
        TypeDef::Union(u) => Some((u, ex)),
        _ => None,
    }
}

/// The member index of type `ty` in `u`.
fn member(u: &UnionDef, ty: usize) -> usize {
    u.arms.iter().position(|a| a.ty == ty).unwrap_or(0)
}

/// Whether `side` may send member `ty` of `u` (every member, unless `u` is a union of the
/// two directions).
fn sent_by(u: &UnionDef, ty: usize, side: Sender) -> bool {
    u.arms
        .iter()
        .find(|a| a.ty == ty)
        .is_none_or(|a| a.from.is_none_or(|s| s == side))
}

/// The member of the frame union that holds type `ty` (itself, or the direction's union
/// holding it).
fn top(p: &Protocol, ty: usize) -> usize {
    p.frame_path(ty).map_or(ty, |path| path[0])
}

/// The pattern of a message of type `ty` of the frame union `un` (`Self` in its own impl)
/// binding it to `bind`: `Self::Ping(m)`, or for a member of a direction's union
/// `Self::Command(Command::Empty(m))`.
fn pattern(p: &Protocol, un: &str, ty: usize, bind: &str) -> String {
    match p.frame_path(ty).as_deref() {
        Some([outer, inner]) => {
            let (o, i) = (p.types[*outer].name(), p.types[*inner].name());
            format!("{un}::{o}({o}::{i}({bind}))")
        }
        _ => format!("{un}::{}({bind})", p.types[ty].name()),
    }
}

/// Every rule, the hello's first, then rules on members of a direction's union ahead of
/// the others: the more specific pattern matches first.
fn ordered<'a>(p: &Protocol, ex: &'a Exchange) -> Vec<&'a Rule> {
    let mut all: Vec<&Rule> = rules(ex).collect();
    all.sort_by_key(|r| {
        p.frame_path(r.on)
            .map_or(1, |path| usize::from(path.len() < 2))
    });
    all
}

/// Every rule, the hello's first.
fn rules(ex: &Exchange) -> impl Iterator<Item = &Rule> {
    ex.hello.iter().chain(ex.rules.iter())
}

/// A top-level integer field named `name` of `s`: its type, and whether it is optional.
fn int_field<'a>(s: &'a StructDef, name: &str) -> Option<(&'a Type, bool)> {
    s.fields.iter().find_map(|f| match &f.kind {
        FieldKind::Value(t @ (Type::Int(_) | Type::Varint { .. })) if f.name == name => {
            Some((t, f.cond.is_some()))
        }
        _ => None,
    })
}

/// The largest value of an integer type.
fn max_of(t: &Type) -> u64 {
    match t {
        Type::Int(i) => i.max_value(),
        Type::Varint { max, .. } => max.unwrap_or(u64::MAX),
        _ => 0,
    }
}

/// The `Expect` expression for `rule` over the member bound to `m`.
fn expect_expr(g: &Gen, u: &UnionDef, rule: &Rule) -> String {
    let reply = |r: &Reply| match r {
        Reply::Nothing => format!("{P}::Expect::Nothing"),
        Reply::Message(t) => format!("{P}::Expect::One({})", member(u, *t)),
        Reply::MessageThenClose(t) => format!("{P}::Expect::OneThenClose({})", member(u, *t)),
        Reply::Close => format!("{P}::Expect::Close"),
        Reply::Only { msg, failure } => format!(
            "{P}::Expect::Only {{ member: {}, failure: {failure} }}",
            member(u, *msg)
        ),
        Reply::Series { item, end } => format!(
            "{P}::Expect::Series {{ item: {}, end: {} }}",
            member(u, *item),
            member(u, *end)
        ),
    };
    let mut out = String::new();
    for a in &rule.answers {
        match &a.cond {
            Some(c) => {
                // Conditions read a struct (the checker refuses them on a union).
                let s = g.p.struct_def(rule.on);
                out += &format!(
                    "if {} {{ {} }} else ",
                    unparen(&g.cond_bool(s, c, &Side::Value("m"))),
                    reply(&a.reply)
                );
            }
            None => {
                out += &format!("{{ {} }}", reply(&a.reply));
                return out;
            }
        }
    }
    out + &format!("{{ {P}::Expect::Nothing }}")
}

/// One step of a `status` line's message path: the expression's field name, whether it is
/// optional, and its type.
fn path_steps<'a>(
    p: &'a Protocol,
    s: &'a StructDef,
    path: &[String],
) -> Vec<(String, bool, &'a Type)> {
    let mut out = Vec::new();
    let mut here: Option<usize> = None;
    for (i, name) in path.iter().enumerate() {
        let step = if i == 0 {
            s.fields.iter().find_map(|f| match &f.kind {
                FieldKind::Value(t) if f.name == *name => Some((ident(name), f.cond.is_some(), t)),
                _ => None,
            })
        } else {
            match here.map(|t| &p.types[t]) {
                Some(TypeDef::Struct(st)) => st.fields.iter().find_map(|f| match &f.kind {
                    FieldKind::Value(t) if f.name == *name => {
                        Some((ident(name), f.cond.is_some(), t))
                    }
                    _ => None,
                }),
                Some(TypeDef::Tagged(tg)) => tg
                    .members
                    .iter()
                    .find(|m| m.name == *name)
                    .map(|m| (ident(name), !m.repeated, &m.ty)),
                _ => None,
            }
        };
        let Some(step) = step else { return Vec::new() };
        here = match step.2 {
            Type::Named(t) => Some(*t),
            _ => None,
        };
        out.push(step);
    }
    out
}

/// The message a `status` line names, read from `m` as an `Option<String>`.
fn message_get(p: &Protocol, s: &StructDef, path: &[String]) -> String {
    let steps = path_steps(p, s, path);
    if steps.is_empty() {
        return "None".into();
    }
    let mut e = "Some(m)".to_string();
    for (name, optional, _) in &steps {
        e += &if *optional {
            format!(".and_then(|x| x.{name}.as_ref())")
        } else {
            format!(".map(|x| &x.{name})")
        };
    }
    e + ".map(|x| x.to_string())"
}

/// Statements setting the message a `status` line names in `m` to `msg` (a `&str`).
fn message_set(p: &Protocol, s: &StructDef, path: &[String]) -> String {
    let steps = path_steps(p, s, path);
    let Some(((last, last_opt, _), init)) = steps.split_last() else {
        return String::new();
    };
    let mut place = "m".to_string();
    for (name, optional, _) in init {
        place = if *optional {
            format!("{place}.{name}.get_or_insert_with(::std::default::Default::default)")
        } else {
            format!("(&mut {place}.{name})")
        };
    }
    if *last_opt {
        format!("{place}.{last} = Some(msg.into());")
    } else {
        format!("{place}.{last} = msg.into();")
    }
}

/// `failure` and `set_failure` arms for the block's `status` lines.
fn status_arms(g: &Gen, ex: &Exchange, un: &str) -> (String, String) {
    let p = g.p;
    let (mut get, mut set) = (String::new(), String::new());
    for st in &ex.statuses {
        let s = p.struct_def(st.msg);
        let Some(f) = s.fields.iter().find(|f| f.name == st.field) else {
            continue;
        };
        let FieldKind::Value(t) = &f.kind else {
            continue;
        };
        let fname = ident(&f.name);
        let optional = f.cond.is_some();
        let (read, write) = match t {
            Type::Named(i) => match &p.types[*i] {
                TypeDef::Enum(e) => {
                    let (en, repr) = (&e.name, e.repr.rust());
                    let read = "i128::from(v.to_repr())".to_string();
                    let write = if e.open {
                        format!(
                            "let v = {en}::from_repr(status.code as {repr}); {}",
                            if optional {
                                format!("m.{fname} = Some(v);")
                            } else {
                                format!("m.{fname} = v;")
                            }
                        )
                    } else {
                        format!(
                            "if let Some(v) = {en}::from_repr(status.code as {repr}) {{ {} }}",
                            if optional {
                                format!("m.{fname} = Some(v);")
                            } else {
                                format!("m.{fname} = v;")
                            }
                        )
                    };
                    (read, write)
                }
                _ => continue,
            },
            Type::Int(i) => {
                let r = i.rust();
                (
                    "i128::from(v)".to_string(),
                    if optional {
                        format!("m.{fname} = Some(status.code as {r});")
                    } else {
                        format!("m.{fname} = status.code as {r};")
                    },
                )
            }
            _ => continue,
        };
        // An absent status field is the success value 0.
        let value = if optional {
            format!("m.{fname}.map_or(0, |v| {read})")
        } else {
            format!("{{ let v = m.{fname}; {read} }}")
        };
        let (lo, hi) = st.ok;
        let msg_get = message_get(p, s, &st.message);
        let msg_set = message_set(p, s, &st.message);
        let n = &s.name;
        get += &format!(
            "{un}::{n}(m) => {{ let code = {value}; if ({lo}..={hi}).contains(&code) {{ None }} else {{ Some({P}::Status {{ code: code as i64, message: {msg_get} }}) }} }},"
        );
        let msg_stmt = if msg_set.is_empty() {
            String::new()
        } else {
            format!("if let Some(msg) = status.message.as_deref() {{ {msg_set} }}")
        };
        set += &format!("{un}::{n}(m) => {{ {write} {msg_stmt} true }},");
    }
    (get, set)
}

/// The name of the function that completes a struct (see [`completes`]).
fn complete_fn(name: &str) -> String {
    format!("complete_{}", snake(name))
}

/// The fills of `s`'s own fields (see [`completes`]).
fn own_fills(g: &Gen, s: &StructDef) -> String {
    let mut fills = String::new();
    for f in &s.fields {
        let Some(c) = &f.cond else { continue };
        let mut open = false;
        c.walk(&mut |c| open |= *c == Cond::More);
        let presence = c.refs().iter().any(|(n, _)| {
            s.fields.iter().any(|x| match &x.kind {
                FieldKind::Bits { parts, .. } => parts
                    .iter()
                    .any(|p| p.name == *n && matches!(p.value, PartValue::Present(_))),
                _ => false,
            })
        });
        // A condition over a computed length (`data if len >= 0`, `len = len(data) else
        // -1`) is the field's presence itself: an absent field is meant.
        let computed = c.refs().iter().any(|(n, _)| {
            s.fields
                .iter()
                .any(|x| x.name == *n && matches!(x.kind, FieldKind::Length { .. }))
        });
        if open || presence || computed || !matches!(f.kind, FieldKind::Value(_)) {
            continue;
        }
        let cond = unparen(&g.cond_bool(s, c, &Side::Value("m"))).to_string();
        fills += &format!(
            "if m.{0}.is_none() && {cond} {{ m.{0} = Some(::std::default::Default::default()); }}",
            ident(&f.name)
        );
    }
    fills
}

/// A function per struct that has optional fields to fill under a version (its own, or
/// those of the structs it holds), by type index: what `Exchange::complete` calls.
fn completes(g: &Gen) -> std::collections::BTreeMap<usize, String> {
    let p = g.p;
    let own: Vec<String> = p
        .types
        .iter()
        .map(|t| match t {
            TypeDef::Struct(s) => own_fills(g, s),
            _ => String::new(),
        })
        .collect();
    // The struct a field holds (directly, optionally or as list elements).
    fn held(t: &Type) -> Option<(usize, bool)> {
        match t {
            Type::Named(i) => Some((*i, false)),
            Type::List { elem, .. } => match elem.as_ref() {
                Type::Named(i) => Some((*i, true)),
                _ => None,
            },
            Type::Optional { inner, .. } => held(inner),
            _ => None,
        }
    }
    let mut needs: Vec<bool> = own.iter().map(|o| !o.is_empty()).collect();
    loop {
        let mut changed = false;
        for (i, t) in p.types.iter().enumerate() {
            let TypeDef::Struct(s) = t else { continue };
            if needs[i] {
                continue;
            }
            if s.fields.iter().any(|f| match &f.kind {
                FieldKind::Value(t) => held(t).is_some_and(|(j, _)| needs[j]),
                _ => false,
            }) {
                needs[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for (i, t) in p.types.iter().enumerate() {
        let TypeDef::Struct(s) = t else { continue };
        if !needs[i] {
            continue;
        }
        let mut body = own[i].clone();
        for f in &s.fields {
            let FieldKind::Value(t) = &f.kind else {
                continue;
            };
            let Some((j, list)) = held(t) else { continue };
            if !needs[j] {
                continue;
            }
            let (name, call) = (ident(&f.name), complete_fn(p.types[j].name()));
            let optional = f.cond.is_some() || matches!(t, Type::Optional { .. });
            body += &match (list, optional) {
                (true, true) => {
                    format!("for x in m.{name}.iter_mut().flatten() {{ {call}(x, version); }}")
                }
                (true, false) => format!("for x in m.{name}.iter_mut() {{ {call}(x, version); }}"),
                (false, true) => {
                    format!("if let Some(x) = m.{name}.as_mut() {{ {call}(x, version); }}")
                }
                (false, false) => format!("{call}(&mut m.{name}, version);"),
            };
        }
        out.insert(
            i,
            format!(
                "\n/// Fills what a [`{n}`] needs under `version` and lacks (see `Exchange::complete`).\nfn {f}(m: &mut {n}, version: u32) {{ let _ = version; {body} }}\n",
                n = s.name,
                f = complete_fn(&s.name)
            ),
        );
    }
    out
}

/// The protocol's exchange: a unit struct and its `impl Exchange`.
pub fn sans_io(g: &Gen) -> String {
    let p = g.p;
    let Some((u, ex)) = parts(p) else {
        return String::new();
    };
    let un = &u.name;
    let names: Vec<&str> = u.arms.iter().map(|a| p.types[a.ty].name()).collect();
    let members = names.iter().map(|n| lit(n)).collect::<Vec<_>>().join(", ");
    let hello = ex
        .hello
        .as_ref()
        .map_or("None".to_string(), |h| format!("Some({})", member(u, h.on)));
    let member_arms: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{un}::{n}(_) => {i},"))
        .collect();
    let expects: String = ordered(p, ex)
        .into_iter()
        .map(|r| {
            let uses_m = r.answers.iter().any(|a| a.cond.is_some());
            let bind = if uses_m { "m" } else { "_" };
            format!(
                "{} => {},",
                pattern(p, un, r.on, bind),
                expect_expr(g, u, r)
            )
        })
        .collect();
    let list = |mut ms: Vec<usize>| {
        ms.sort_unstable();
        ms.dedup();
        if ms.is_empty() {
            "let _ = member; false".to_string()
        } else {
            let alts: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
            format!("matches!(member, {})", alts.join(" | "))
        }
    };
    let has_rule = list(rules(ex).map(|r| member(u, top(p, r.on))).collect());
    // A union of the two directions: which side sends each member.
    let sender = if u.arms.iter().any(|a| a.from.is_some()) {
        let arms: String = u
            .arms
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let side = match a.from? {
                    Sender::Client => "Client",
                    Sender::Server => "Server",
                };
                Some(format!("{i} => Some({P}::Sender::{side}),"))
            })
            .collect();
        format!(
            "\n    fn sender(&self, member: usize) -> ::std::option::Option<{P}::Sender> {{\n        match member {{ {arms} _ => None }}\n    }}\n"
        )
    } else {
        String::new()
    };
    let pushable = list(ex.push.iter().map(|t| member(u, top(p, *t))).collect());
    // Pushes named by a member of one direction's union: out of band by their content.
    let nested: Vec<String> = ex
        .push
        .iter()
        .filter_map(|t| match p.frame_path(*t)?.as_slice() {
            [outer, inner] => Some(format!(
                "{un}::{o}({o}::{i}(_))",
                o = p.types[*outer].name(),
                i = p.types[*inner].name()
            )),
            _ => None,
        })
        .collect();
    let out_of_band = if nested.is_empty() {
        String::new()
    } else {
        format!(
            "\n    fn out_of_band(&self, m: &{un}) -> bool {{\n        matches!(m, {})\n    }}\n",
            nested.join(" | ")
        )
    };
    let unawaited = unawaited_members(ex);
    let unawaited = if unawaited.is_empty() {
        String::new()
    } else {
        let ms: Vec<usize> = unawaited.iter().map(|t| member(u, *t)).collect();
        format!(
            "\n    fn unawaited(&self, member: usize) -> bool {{\n        {}\n    }}\n",
            list(ms)
        )
    };

    // Correlation: every member with an integer field of that name.
    let (mut corr, mut takes, mut set, mut max) = (String::new(), String::new(), String::new(), 0);
    // Members whose correlation field is always there.
    let mut always: Vec<String> = Vec::new();
    if let Matching::Correlate(field) = &ex.matching {
        let f = ident(field);
        for a in &u.arms {
            let TypeDef::Struct(s) = &p.types[a.ty] else {
                continue;
            };
            let Some((t, optional)) = int_field(s, field) else {
                continue;
            };
            let m = max_of(t);
            max = if max == 0 { m } else { max.min(m) };
            let rust = g.rust_type(t);
            let n = &s.name;
            if optional {
                let cond = s
                    .fields
                    .iter()
                    .find(|x| x.name == *field)
                    .and_then(|x| x.cond.as_ref())
                    .map_or("true".to_string(), |c| {
                        unparen(&g.cond_bool(s, c, &Side::Value("m"))).to_string()
                    });
                corr += &format!("{un}::{n}(m) => m.{f}.map(u64::from),");
                takes +=
                    &format!("{un}::{n}(m) => {{ let version = 0u32; let _ = version; {cond} }},");
                set += &format!(
                    "{un}::{n}(m) => {{ let version = 0u32; let _ = version; if {cond} {{ m.{f} = Some(id as {rust}); }} }},"
                );
            } else {
                corr += &format!("{un}::{n}(m) => Some(u64::from(m.{f})),");
                always.push(format!("{un}::{n}(_)"));
                set += &format!("{un}::{n}(m) => m.{f} = id as {rust},");
            }
        }
    }
    let correlated = matches!(ex.matching, Matching::Correlate(_)) && !corr.is_empty();
    let takes = match (always.is_empty(), takes.is_empty()) {
        (true, true) => "let _ = m; false".to_string(),
        (false, true) => format!("matches!(m, {})", always.join(" | ")),
        (always_none, _) => {
            let first = if always_none {
                String::new()
            } else {
                format!("{} => true,", always.join(" | "))
            };
            format!("#[allow(unreachable_patterns)] match m {{ {first} {takes} _ => false, }}")
        }
    };

    // The hello's version and keepalive.
    let (mut version, mut keepalive) = (String::new(), String::new());
    if let Some(h) = &ex.hello {
        let s = p.struct_def(h.on);
        let n = &s.name;
        if let Some((f, t)) = s.fields.iter().find_map(|f| match &f.kind {
            FieldKind::Value(t) if f.attrs.iter().any(|a| a == "version") => Some((f, t)),
            _ => None,
        }) {
            version = format!(
                "{un}::{n}(m) => Some({}),",
                version_u32(t, &format!("m.{}", ident(&f.name)))
            );
        }
        if let Some(k) = &ex.keepalive {
            let f = ident(&k.field);
            keepalive = format!(
                "{un}::{n}(m) if m.{f} != 0 => Some(::std::time::Duration::from_millis((m.{f} as u64).saturating_mul({}))),",
                k.unit_ms
            );
        }
    }
    let ping = ex.keepalive.as_ref().map_or("None".to_string(), |k| {
        format!(
            "Some({un}::{}(::std::default::Default::default()))",
            p.types[k.ping].name()
        )
    });
    // Optional fields present by their condition (not by `@more`, not by a presence bit
    // of their own) are filled with their defaults when absent, in the members and in the
    // structs they hold.
    let completes = completes(g);
    let complete: String = u
        .arms
        .iter()
        .filter_map(|a| {
            let n = p.types[a.ty].name();
            if completes.contains_key(&a.ty) {
                return Some(format!("{un}::{n}(m) => {}(m, version),", complete_fn(n)));
            }
            // A member that is a union (one direction of a connection): its members'.
            let TypeDef::Union(inner) = &p.types[a.ty] else {
                return None;
            };
            let arms: String = inner
                .arms
                .iter()
                .filter(|b| completes.contains_key(&b.ty))
                .map(|b| {
                    let m = p.types[b.ty].name();
                    format!("{n}::{m}(m) => {}(m, version),", complete_fn(m))
                })
                .collect();
            (!arms.is_empty()).then(|| {
                format!("{un}::{n}(inner) => {{ #[allow(unreachable_patterns)] match inner {{ {arms} _ => {{}} }} }},")
            })
        })
        .collect();
    let complete_fns: String = completes.values().cloned().collect();
    // Farewells: the message a side sends before it closes on a failure.
    let mut farewells = String::new();
    for f in &ex.farewells {
        let s = p.struct_def(f.msg);
        let sets: String = f
            .sets
            .iter()
            .map(|x| {
                let field = s.fields.iter().find(|y| y.name == x.field);
                let value = match (&x.value, field.map(|y| &y.kind)) {
                    (SetValue::Variant(v), Some(FieldKind::Value(Type::Named(i)))) => {
                        format!("{}::{}", p.types[*i].name(), pascal(v))
                    }
                    (SetValue::Variant(v), _) => pascal(v),
                    (SetValue::Int(n), _) => n.to_string(),
                    (SetValue::Bool(b), _) => b.to_string(),
                    // `{error}` stands for what went wrong.
                    (SetValue::Str(v), _) => match v.split_once("{error}") {
                        Some((pre, post)) => format!(
                            "{P}::Str::from([{}, detail, {}].concat())",
                            lit(pre),
                            lit(post)
                        ),
                        None => format!("{P}::Str::from({})", lit(v)),
                    },
                };
                let value = if field.is_some_and(|y| y.cond.is_some()) {
                    format!("Some({value})")
                } else {
                    value
                };
                format!("{}: {value},", ident(&x.field))
            })
            .collect();
        let guard = f.cond.as_ref().map_or(String::new(), |c| {
            format!(" if {}", unparen(&g.cond_bool(s, c, &Side::Value("m"))))
        });
        let n = &s.name;
        let mut value = format!("{n} {{ {sets} ..::std::default::Default::default() }}");
        // Wrapped in the members that hold it, innermost first.
        let path = p.frame_path(f.msg).unwrap_or_else(|| vec![f.msg]);
        for pair in path.windows(2).rev() {
            let (outer, inner) = (p.types[pair[0]].name(), p.types[pair[1]].name());
            value = format!("{outer}::{inner}({value})");
        }
        farewells += &format!(
            "{P}::Failure::{:?}{guard} => Some({un}::{}({value})),",
            f.on,
            p.types[path[0]].name()
        );
    }
    // `accept if`: what the hello's answer must say.
    let accept = match (
        &ex.accept,
        ex.hello.as_ref().and_then(|h| h.answers.first()),
    ) {
        (
            Some(c),
            Some(Answer {
                reply: Reply::Message(t) | Reply::MessageThenClose(t),
                ..
            }),
        ) => {
            let s = p.struct_def(*t);
            format!(
                "{un}::{}(m) => {{ let version = 0u32; let _ = version; {} }}",
                s.name,
                unparen(&g.cond_bool(s, c, &Side::Value("m")))
            )
        }
        _ => String::new(),
    };
    // The hello's `@version` field, set by a client that offers a version.
    let set_version = ex
        .hello
        .as_ref()
        .map(|h| p.struct_def(h.on))
        .and_then(|s| {
            s.fields.iter().find_map(|f| match &f.kind {
                FieldKind::Value(t) if f.attrs.iter().any(|a| a == "version") => Some(format!(
                    "{un}::{}(m) => m.{} = version as {},",
                    s.name,
                    ident(&f.name),
                    g.rust_type(t)
                )),
                _ => None,
            })
        })
        .unwrap_or_default();
    let versions = p
        .versions
        .map_or("None".to_string(), |(a, b)| format!("Some(({a}, {b}))"));
    let (failure, set_failure) = status_arms(g, ex, un);
    let grace = ex.keepalive.as_ref().map_or(1000, |k| k.grace_permille);
    let defaults: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{i} => {un}::{n}(::std::default::Default::default()),"))
        .collect();

    let detector = if p.detect.is_empty() {
        String::new()
    } else {
        format!(
            "\n    fn detector(&self) -> ::std::option::Option<&dyn {P}::Detector> {{\n        static D: {P}::AnyPrefix = {P}::AnyPrefix(protocol_info::DETECT);\n        Some(&D)\n    }}\n"
        )
    };
    let pre = pascal_prefix(&p.name);

    format!(
        r#"
/// What answers what (the protocol's `exchange` block), carried out by a
/// `MessageSession`: the rules of [`{un}`] messages, as the runtime's servers and clients
/// take them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct {pre}Exchange;

/// One arm per member a line of the block names, whatever their number.
#[allow(
    clippy::single_match,
    clippy::collapsible_match,
    clippy::match_single_binding,
    clippy::needless_update
)]
impl {P}::Exchange for {pre}Exchange {{
    type Msg = {un};
    type Codec = {P}::FramedCodec<{un}>;

    fn codec(&self) -> {P}::FramedCodec<{un}> {{
        {P}::FramedCodec::new()
    }}

    fn id(&self) -> &'static str {{
        protocol_info::ID
    }}
{detector}
    fn member_name(&self, member: usize) -> &'static str {{
        [{members}][member]
    }}

    fn hello(&self) -> ::std::option::Option<usize> {{
        {hello}
    }}

    fn correlated(&self) -> bool {{
        {correlated}
    }}

    fn max_correlation(&self) -> u64 {{
        {max}
    }}

    fn grace_permille(&self) -> u32 {{
        {grace}
    }}

    fn versions(&self) -> ::std::option::Option<(u32, u32)> {{
        {versions}
    }}

    fn member(&self, m: &{un}) -> usize {{
        match m {{ {member_arms} }}
    }}

    fn expects(&self, m: &{un}, version: u32) -> {P}::Expect {{
        let _ = version;
        #[allow(unreachable_patterns)]
        match m {{
            {expects}
            _ => {P}::Expect::Nothing,
        }}
    }}

    fn has_rule(&self, member: usize) -> bool {{
        {has_rule}
    }}

    fn pushable(&self, member: usize) -> bool {{
        {pushable}
    }}
{unawaited}{sender}{out_of_band}
    fn correlation(&self, m: &{un}) -> ::std::option::Option<u64> {{
        #[allow(unreachable_patterns)]
        match m {{
            {corr}
            _ => None,
        }}
    }}

    fn takes_correlation(&self, m: &{un}) -> bool {{
        {takes}
    }}

    fn set_correlation(&self, m: &mut {un}, id: u64) {{
        let _ = id;
        #[allow(unreachable_patterns)]
        match m {{
            {set}
            _ => {{}}
        }}
    }}

    fn hello_version(&self, m: &{un}) -> ::std::option::Option<u32> {{
        #[allow(unreachable_patterns)]
        match m {{
            {version}
            _ => None,
        }}
    }}

    fn keepalive(&self, m: &{un}) -> ::std::option::Option<::std::time::Duration> {{
        #[allow(unreachable_patterns)]
        match m {{
            {keepalive}
            _ => None,
        }}
    }}

    fn ping(&self) -> ::std::option::Option<{un}> {{
        {ping}
    }}

    fn farewell(&self, failure: {P}::Failure, version: u32, detail: &str) -> ::std::option::Option<{un}> {{
        let _ = (version, detail);
        #[allow(unreachable_patterns)]
        match failure {{
            {farewells}
            _ => None,
        }}
    }}

    fn accepted(&self, answer: &{un}) -> bool {{
        #[allow(unreachable_patterns)]
        match answer {{
            {accept}
            _ => true,
        }}
    }}

    fn set_hello_version(&self, hello: &mut {un}, version: u32) {{
        let _ = version;
        #[allow(unreachable_patterns)]
        match hello {{
            {set_version}
            _ => {{}}
        }}
    }}

    fn failure(&self, answer: &{un}) -> ::std::option::Option<{P}::Status> {{
        #[allow(unreachable_patterns)]
        match answer {{
            {failure}
            _ => None,
        }}
    }}

    fn set_failure(&self, answer: &mut {un}, status: &{P}::Status) -> bool {{
        let _ = status;
        #[allow(unreachable_patterns)]
        match answer {{
            {set_failure}
            _ => false,
        }}
    }}

    fn complete(&self, m: &mut {un}, version: u32) {{
        let _ = version;
        #[allow(unreachable_patterns)]
        match m {{
            {complete}
            _ => {{}}
        }}
    }}

    fn blank(&self, member: usize, correlation: ::std::option::Option<u64>) -> {un} {{
        let mut a = match member {{
            {defaults}
            _ => {un}::default(),
        }};
        if let Some(id) = correlation {{
            {P}::Exchange::set_correlation(self, &mut a, id);
        }}
        a
    }}
}}
{complete_fns}"#
    )
}

/// How a handler method answers.
enum Answers {
    /// Nothing (or the connection closes): the method returns `()`.
    None,
    /// Always this one member: the method takes it and returns it.
    One(usize),
    /// One of several, or one on a condition: the method takes and returns an optional
    /// union.
    Some,
    /// Always a series of the first member, ended by the second: the method takes the end
    /// and returns the items and the end. (A series among other answers is sent by the
    /// untyped `MessageHandler::series`.)
    Series(usize, usize),
}

/// The messages some rule sends only on an outcome (`Msg on failure`), which nobody waits
/// for.
fn unawaited_members(ex: &Exchange) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for a in rules(ex).flat_map(|r| &r.answers) {
        if let Reply::Only { msg, .. } = a.reply
            && !out.contains(&msg)
        {
            out.push(msg);
        }
    }
    out
}

fn answers(rule: &Rule) -> Answers {
    if let [
        Answer {
            reply: Reply::Series { item, end },
            cond: None,
            ..
        },
    ] = rule.answers.as_slice()
    {
        return Answers::Series(*item, *end);
    }
    let msgs: Vec<usize> = rule
        .answers
        .iter()
        .filter_map(|a| match a.reply {
            Reply::Message(t) | Reply::MessageThenClose(t) | Reply::Only { msg: t, .. } => Some(t),
            _ => None,
        })
        .collect();
    match msgs.as_slice() {
        [] => Answers::None,
        [t] if rule.answers.len() == 1 && rule.answers[0].cond.is_none() => Answers::One(*t),
        _ => Answers::Some,
    }
}

/// The typed handler trait, its dispatch and the server's constructor (the server side),
/// then the typed client, as `sides` asks.
pub(crate) fn service(g: &Gen, sides: super::Sides) -> String {
    let p = g.p;
    let Some((u, ex)) = parts(p) else {
        return String::new();
    };
    let un = &u.name;
    let pre = pascal_prefix(&p.name);
    let conn = format!("::polywire::rt::Connection<{pre}Exchange>");
    let mut methods = String::new();
    let mut arms = String::new();
    let mut series_arms = String::new();
    // Whether a series' end can report a failure (its blank needs the correlation value).
    let mut series_key = false;
    let mut seen = Vec::new();
    // Rules, then pushes without a rule: every message this side may be handed (not what
    // only a server sends).
    let handed: Vec<(usize, Option<&Rule>)> = ordered(p, ex)
        .into_iter()
        .map(|r| (r.on, Some(r)))
        .chain(
            ex.push
                .iter()
                .map(|t| top(p, *t))
                .filter(|t| !rules(ex).any(|r| r.on == *t))
                .map(|t| (t, None)),
        )
        .filter(|(t, _)| sent_by(u, top(p, *t), Sender::Client))
        .collect();
    for (ty, rule) in handed {
        if seen.contains(&ty) {
            continue;
        }
        seen.push(ty);
        let n = p.types[ty].name();
        let method = ident(&snake(n));
        let req = pattern(p, un, ty, "m");
        let kind = rule.map_or(Answers::None, answers);
        let doc = match rule {
            Some(r) if ex.hello.as_ref() == Some(r) => {
                format!("/// The connection's hello, a [`{n}`]: what answers it.")
            }
            Some(_) => format!("/// A [`{n}`] arrived: what answers it."),
            None => format!("/// A [`{n}`] arrived unasked."),
        };
        if !methods.is_empty() {
            methods.push('\n');
        }
        match kind {
            Answers::None => {
                methods += &format!(
                    "{doc}\n    fn {method}(&self, conn: &{conn}, msg: {n}) -> impl ::std::future::Future<Output = ()> + Send {{ let _ = (conn, msg); async {{}} }}\n"
                );
                arms +=
                    &format!("{req} => {{ self.0.{method}(conn, m).await; let _ = answer; None }}");
            }
            Answers::Series(item, end) => {
                let (i, e) = (p.types[item].name(), p.types[end].name());
                let failing = ex.statuses.iter().any(|x| x.msg == end);
                let (out, ok, doc_err, conv) = if failing {
                    (
                        format!("::std::result::Result<(::std::vec::Vec<{i}>, {e}), {P}::Status>"),
                        "Ok((::std::vec::Vec::new(), end))",
                        " `Err(status)` sends no item and the default end reporting `status` (its status field and message).",
                        format!(
                            "match self.0.{method}(conn, m, e).await {{ Ok((items, e)) => Some((items.into_iter().map({un}::{i}).collect(), {un}::{e}(e))), Err(s) => {{ let mut f = {P}::Exchange::blank(&{pre}Exchange, {idx}, key); {P}::Exchange::set_failure(&{pre}Exchange, &mut f, &s); Some((::std::vec::Vec::new(), f)) }} }}",
                            idx = member(u, end)
                        ),
                    )
                } else {
                    (
                        format!("(::std::vec::Vec<{i}>, {e})"),
                        "(::std::vec::Vec::new(), end)",
                        "",
                        format!(
                            "{{ let (items, e) = self.0.{method}(conn, m, e).await; Some((items.into_iter().map({un}::{i}).collect(), {un}::{e}(e))) }}"
                        ),
                    )
                };
                methods += &format!(
                    "{doc}
    ///
    /// It is answered by any number of [`{i}`], then one [`{e}`]: return them in order. `end` is the default [`{e}`] (its correlation value set); the default method sends no item and `end`.{doc_err}
    fn {method}(&self, conn: &{conn}, msg: {n}, end: {e}) -> impl ::std::future::Future<Output = {out}> + Send {{ let _ = (conn, msg); async move {{ {ok} }} }}
"
                );
                series_key |= failing;
                series_arms += &format!("({req}, {un}::{e}(e)) => {conv},");
            }
            Answers::One(t) if ex.statuses.iter().any(|x| x.msg == t) => {
                let a = p.types[t].name();
                methods += &format!(
                    "{doc}\n    ///\n    /// `answer` is the default [`{a}`] (its correlation value set); the default method sends it as it is. `Err(status)` sends the default answer reporting `status` (its status field and message).\n    fn {method}(&self, conn: &{conn}, msg: {n}, answer: {a}) -> impl ::std::future::Future<Output = ::std::result::Result<{a}, {P}::Status>> + Send {{ let _ = (conn, msg); async move {{ Ok(answer) }} }}\n"
                );
                arms += &format!(
                    "{req} => {{ let key = answer.as_ref().and_then(|a| {P}::Exchange::correlation(&{pre}Exchange, a)); match answer {{ Some({un}::{a}(a)) => match self.0.{method}(conn, m, a).await {{ Ok(a) => Some({un}::{a}(a)), Err(s) => {{ let mut f = {P}::Exchange::blank(&{pre}Exchange, {idx}, key); {P}::Exchange::set_failure(&{pre}Exchange, &mut f, &s); Some(f) }} }}, other => other }} }},",
                    idx = member(u, t)
                );
            }
            Answers::One(t) => {
                let a = p.types[t].name();
                methods += &format!(
                    "{doc}\n    ///\n    /// `answer` is the default [`{a}`] (its correlation value set); the default method sends it as it is.\n    fn {method}(&self, conn: &{conn}, msg: {n}, answer: {a}) -> impl ::std::future::Future<Output = {a}> + Send {{ let _ = (conn, msg); async move {{ answer }} }}\n"
                );
                arms += &format!(
                    "{req} => match answer {{ Some({un}::{a}(a)) => Some({un}::{a}(self.0.{method}(conn, m, a).await)), other => other }},"
                );
            }
            Answers::Some
                if rule.is_some_and(|r| {
                    r.answers.iter().any(|a| match a.reply {
                        Reply::Message(t)
                        | Reply::MessageThenClose(t)
                        | Reply::Only { msg: t, .. } => ex.statuses.iter().any(|x| x.msg == t),
                        _ => false,
                    })
                }) =>
            {
                methods += &format!(
                    "{doc}\n    ///\n    /// `answer` is the default answer its rule picks (its correlation value set), `None` when nothing answers it; the default method sends it as it is. `Err(status)` sends the default answer reporting `status` (its status field and message).\n    fn {method}(&self, conn: &{conn}, msg: {n}, answer: ::std::option::Option<{un}>) -> impl ::std::future::Future<Output = ::std::result::Result<::std::option::Option<{un}>, {P}::Status>> + Send {{ let _ = (conn, msg); async move {{ Ok(answer) }} }}\n"
                );
                arms += &format!(
                    "{req} => {{ let key = answer.as_ref().map(|a| ({P}::Exchange::member(&{pre}Exchange, a), {P}::Exchange::correlation(&{pre}Exchange, a))); match self.0.{method}(conn, m, answer).await {{ Ok(a) => a, Err(s) => key.map(|(member, corr)| {{ let mut f = {P}::Exchange::blank(&{pre}Exchange, member, corr); {P}::Exchange::set_failure(&{pre}Exchange, &mut f, &s); f }}) }} }},"
                );
            }
            Answers::Some => {
                methods += &format!(
                    "{doc}\n    ///\n    /// `answer` is the default answer its rule picks (its correlation value set), `None` when nothing answers it; the default method sends it as it is.\n    fn {method}(&self, conn: &{conn}, msg: {n}, answer: ::std::option::Option<{un}>) -> impl ::std::future::Future<Output = ::std::option::Option<{un}>> + Send {{ let _ = (conn, msg); async move {{ answer }} }}\n"
                );
                arms += &format!("{req} => self.0.{method}(conn, m, answer).await,");
            }
        }
    }
    let client = if sides.client {
        client(g, u, ex)
    } else {
        String::new()
    };
    if !sides.server {
        return client;
    }
    let series = if series_arms.is_empty() {
        String::new()
    } else {
        format!(
            r#"
    async fn series(&self, conn: &{conn}, msg: {un}, end: {un}) -> ::std::option::Option<(::std::vec::Vec<{un}>, {un})> {{
        {key}
        #[allow(unreachable_patterns)]
        match (msg, end) {{
            {series_arms}
            (_, end) => Some((::std::vec::Vec::new(), end)),
        }}
    }}
"#,
            key = if series_key {
                format!("let key = {P}::Exchange::correlation(&{pre}Exchange, &end);")
            } else {
                String::new()
            }
        )
    };
    format!(
        r#"
/// What a server of the protocol does with the messages it receives: one method per
/// message its `exchange` block lets a client send. Every method has a default that sends
/// the default answer (or nothing), so a server writes only what it cares about.
pub trait {pre}Handler: Send + Sync + 'static {{
    {methods}
    /// The connection ended, and why (after its last message).
    fn closed(&self, conn: &{conn}, end: &::polywire::rt::Ended) -> impl ::std::future::Future<Output = ()> + Send {{
        let _ = (conn, end);
        async {{}}
    }}
}}

/// A [`{pre}Handler`] as the runtime's `MessageHandler`: hands each message to its method.
#[derive(Debug, Clone, Default)]
pub struct {pre}Dispatch<H>(pub H);

impl<H: {pre}Handler> ::polywire::rt::MessageHandler<{pre}Exchange> for {pre}Dispatch<H> {{
    async fn message(&self, conn: &{conn}, msg: {un}, answer: ::std::option::Option<{un}>) -> ::std::option::Option<{un}> {{
        #[allow(unreachable_patterns)]
        match msg {{
            {arms}
            _ => answer,
        }}
    }}
{series}
    async fn closed(&self, conn: &{conn}, end: &::polywire::rt::Ended) {{
        self.0.closed(conn, end).await
    }}
}}

/// A server of the protocol whose messages `handler` answers.
pub fn server<H: {pre}Handler>(handler: H, config: ::polywire::rt::MessageConfig) -> ::polywire::rt::MessageServer<{pre}Exchange, {pre}Dispatch<H>> {{
    ::polywire::rt::MessageServer::new({pre}Exchange, {pre}Dispatch(handler), config)
}}

{client}"#
    )
}

/// The typed client: one method per message a client sends with a rule, waiting for the
/// end of its exchange.
fn client(g: &Gen, u: &UnionDef, ex: &Exchange) -> String {
    let p = g.p;
    let un = &u.name;
    let pre = pascal_prefix(&p.name);
    let mc = format!("::polywire::rt::MessageClient<{pre}Exchange>");
    let mct = "::polywire::rt::MessageClient";
    let err = "::polywire::rt::ClientError";
    // Whether a message's exchange ends with it (it has no rule that answers it).
    let ends = |t: usize| {
        !rules(ex).any(|r| r.on == t && r.answers.iter().any(|a| a.reply.ending().is_some()))
    };
    let mut methods = String::new();
    if ex.hello.is_none() {
        methods += &format!(
            r#"
    /// Connects over TCP (the protocol has no hello): the connection speaks the lowest
    /// version the protocol declares until [`Self::switch_version`].
    pub async fn connect(addr: impl ::polywire::__private::tokio::net::ToSocketAddrs, config: ::polywire::rt::MessageConfig) -> ::std::result::Result<Self, {err}> {{
        {mct}::open({pre}Exchange, addr, config).await.map(Client)
    }}

    /// [`Self::connect`] over an open byte stream (TLS, WebSocket, ...).
    pub fn connect_over<S: ::polywire::__private::tokio::io::AsyncRead + ::polywire::__private::tokio::io::AsyncWrite + Send + 'static>(io: S, config: ::polywire::rt::MessageConfig) -> Self {{
        Client({mct}::open_over({pre}Exchange, io, config))
    }}
"#
        );
    }
    if let Some(h) = &ex.hello {
        let n = p.types[h.on].name();
        let m = ident(&snake(n));
        let (ret, conv) = match answers(h) {
            Answers::One(t) => {
                let a = p.types[t].name();
                (
                    a.to_string(),
                    format!(
                        "match answer {{ Some({un}::{a}(a)) => Ok((Client(c), a)), other => Err({err}::Unexpected(other.map_or(\"nothing\", |m| {P}::Exchange::name_of(&{pre}Exchange, &m)))) }}"
                    ),
                )
            }
            _ => (
                format!("::std::option::Option<{un}>"),
                "Ok((Client(c), answer))".to_string(),
            ),
        };
        methods += &format!(
            r#"
    /// Connects over TCP and sends the hello, a [`{n}`]; returns the client and the answer.
    pub async fn {m}(addr: impl ::polywire::__private::tokio::net::ToSocketAddrs, msg: {n}, config: ::polywire::rt::MessageConfig) -> ::std::result::Result<(Self, {ret}), {err}> {{
        let (c, answer) = {mct}::connect({pre}Exchange, addr, {un}::{n}(msg), config).await?;
        {conv}
    }}

    /// [`Self::{m}`] offering each version of `versions` in turn (the hello's `@version`)
    /// until the answer accepts one: MQTT's 5 then 3.1.1 is `&[5, 4]`.
    pub async fn {m}_versions(addr: impl ::polywire::__private::tokio::net::ToSocketAddrs + Clone, msg: {n}, versions: &[u32], config: ::polywire::rt::MessageConfig) -> ::std::result::Result<(Self, {ret}), {err}> {{
        let (c, answer) = {mct}::connect_versions({pre}Exchange, addr, {un}::{n}(msg), versions, config).await?;
        {conv}
    }}

    /// [`Self::{m}`] offering the versions `negotiation` names: one (explicit), every
    /// version highest first (automatic), or each attempt's in turn (fallback).
    pub async fn {m}_negotiated(addr: impl ::polywire::__private::tokio::net::ToSocketAddrs + Clone, msg: {n}, negotiation: &::polywire::rt::Negotiation, config: ::polywire::rt::MessageConfig) -> ::std::result::Result<(Self, {ret}), {err}> {{
        let versions = {mct}::versions_of(&{pre}Exchange, negotiation);
        Self::{m}_versions(addr, msg, &versions, config).await
    }}

    /// [`Self::{m}`] over an open byte stream (TLS, WebSocket, ...).
    pub async fn {m}_over<S: ::polywire::__private::tokio::io::AsyncRead + ::polywire::__private::tokio::io::AsyncWrite + Send + 'static>(io: S, msg: {n}, config: ::polywire::rt::MessageConfig) -> ::std::result::Result<(Self, {ret}), {err}> {{
        let (c, answer) = {mct}::over({pre}Exchange, io, {un}::{n}(msg), config).await?;
        {conv}
    }}
"#
        );
    }
    // Rules on a member of a direction's union are the union's method's business.
    for r in ex
        .rules
        .iter()
        .filter(|r| u.arms.iter().any(|a| a.ty == r.on) && sent_by(u, r.on, Sender::Client))
    {
        let n = p.types[r.on].name();
        let m = ident(&snake(n));
        let only = r
            .answers
            .iter()
            .all(|a| matches!(a.reply, Reply::Only { .. }));
        if only {
            let a = r.answers.first().and_then(|a| a.reply.ending());
            let a = a.map_or("?", |t| p.types[t].name());
            methods += &format!(
                r#"
    /// Sends a [`{n}`]; nothing waits for its answer, a [`{a}`] sent only on an outcome,
    /// which comes through [`Self::next_push`] if it is sent.
    pub async fn {m}(&self, msg: {n}) -> ::std::result::Result<(), {err}> {{
        self.0.request({un}::{n}(msg)).await.map(|_| ())
    }}
"#
            );
            continue;
        }
        methods += &match answers(r) {
            Answers::None => format!(
                r#"
    /// Sends a [`{n}`] (nothing answers it).
    pub async fn {m}(&self, msg: {n}) -> ::std::result::Result<(), {err}> {{
        self.0.request({un}::{n}(msg)).await.map(|_| ())
    }}
"#
            ),
            Answers::Series(item, end) => {
                let (i, e) = (p.types[item].name(), p.types[end].name());
                format!(
                    r#"
    /// Sends a [`{n}`] and waits for the [`{i}`]s that answer it and the [`{e}`] that
    /// ends them.
    pub async fn {m}(&self, msg: {n}) -> ::std::result::Result<(::std::vec::Vec<{i}>, {e}), {err}> {{
        let name = |m: &{un}| {P}::Exchange::name_of(&{pre}Exchange, m);
        let (items, end) = self.0.request_series({un}::{n}(msg)).await?;
        let items = items
            .into_iter()
            .map(|m| match m {{
                {un}::{i}(x) => Ok(x),
                other => Err({err}::Unexpected(name(&other))),
            }})
            .collect::<::std::result::Result<::std::vec::Vec<_>, _>>()?;
        match end {{
            Some({un}::{e}(e)) => Ok((items, e)),
            other => Err({err}::Unexpected(other.as_ref().map_or("nothing", name))),
        }}
    }}
"#
                )
            }
            Answers::One(t) if ends(t) => {
                let a = p.types[t].name();
                let pipelined = ident(&format!("{}_pipelined", snake(n)));
                format!(
                    r#"
    /// Sends a [`{n}`] and waits for its [`{a}`].
    pub async fn {m}(&self, msg: {n}) -> ::std::result::Result<{a}, {err}> {{
        match self.0.request({un}::{n}(msg)).await? {{
            Some({un}::{a}(a)) => Ok(a),
            other => Err({err}::Unexpected(other.map_or("nothing", |m| {P}::Exchange::name_of(&{pre}Exchange, &m)))),
        }}
    }}

    /// Sends every [`{n}`] of `msgs` before waiting for any answer (a pipeline), then their
    /// [`{a}`]s, in order; the first failure fails the whole.
    pub async fn {pipelined}(&self, msgs: impl ::std::iter::IntoIterator<Item = {n}>) -> ::std::result::Result<::std::vec::Vec<{a}>, {err}> {{
        self.0
            .request_pipelined(msgs.into_iter().map({un}::{n}))
            .await
            .into_iter()
            .map(|r| match r? {{
                Some({un}::{a}(a)) => Ok(a),
                other => Err({err}::Unexpected(other.map_or("nothing", |m| {P}::Exchange::name_of(&{pre}Exchange, &m)))),
            }})
            .collect()
    }}
"#
                )
            }
            _ => format!(
                r#"
    /// Sends a [`{n}`] and waits for the message that ends its exchange (`None` when
    /// nothing answers it).
    pub async fn {m}(&self, msg: {n}) -> ::std::result::Result<::std::option::Option<{un}>, {err}> {{
        self.0.request({un}::{n}(msg)).await
    }}
"#
            ),
        };
    }
    let pushed: Vec<usize> = ex.push.iter().map(|t| top(p, *t)).collect();
    let push = match pushed.as_slice() {
        [t] if unawaited_members(ex).is_empty() => {
            let n = p.types[*t].name();
            format!(
                r#"
    /// The next [`{n}`] the server sent unasked (`None` once the connection is gone).
    pub async fn next_push(&self) -> ::std::option::Option<{n}> {{
        loop {{
            match self.0.next_push().await? {{
                {un}::{n}(m) => return Some(m),
                _ => continue,
            }}
        }}
    }}
"#
            )
        }
        [] if unawaited_members(ex).is_empty() => String::new(),
        _ => format!(
            r#"
    /// The next message the server sent unasked, or an answer sent only on an outcome
    /// (`None` once the connection is gone).
    pub async fn next_push(&self) -> ::std::option::Option<{un}> {{
        self.0.next_push().await
    }}
"#
        ),
    };
    format!(
        r#"
/// A typed client connection of the protocol: one method per message its `exchange` block
/// lets a client send, each waiting for the end of its exchange.
#[derive(Debug)]
pub struct Client({mc});

impl Client {{
    {methods}
    {push}
    /// Sends any message without waiting for an answer, and without one being due in line
    /// (see `MessageClient::send_unawaited`): a request its protocol answers out of band.
    pub async fn send_unawaited(&self, msg: {un}) -> ::std::result::Result<(), {err}> {{
        self.0.send_unawaited(msg).await
    }}

    /// Sends any message and waits for the end of its exchange.
    pub async fn request(&self, msg: {un}) -> ::std::result::Result<::std::option::Option<{un}>, {err}> {{
        self.0.request(msg).await
    }}

    /// The version in effect (see `MessageClient::version`).
    pub fn version(&self) -> ::std::option::Option<u32> {{
        self.0.version()
    }}

    /// Switches the connection's version for what it sends and reads from now on.
    pub async fn switch_version(&self, v: u32) -> ::std::result::Result<(), {err}> {{
        self.0.switch_version(v).await
    }}

    /// Closes the connection.
    pub async fn close(&self) {{
        self.0.close().await
    }}

    /// The untyped client underneath.
    pub fn inner(&self) -> &{mc} {{
        &self.0
    }}
}}
"#
    )
}
