//! A protocol's reference in Markdown: its settings, then every message with the byte
//! layout of its fields (offsets where they are fixed, types, extents, conditions, what
//! computed fields measure), unions with their members' keys, tagged lists with their
//! tags, enums and flags with their values, and the exchange rules.

use crate::Schema;
use polywire_codegen::ir::check::union_key;
use polywire_codegen::ir::*;
use std::fmt::Write as _;

/// The Markdown reference of `schema`'s protocol.
pub fn markdown(schema: &Schema) -> String {
    let p = schema.ir();
    let mut out = format!("# Protocol `{}` (`{}`)\n\n", p.name, p.id);
    for d in &p.docs {
        let _ = writeln!(out, "{}", d.trim());
    }
    if !p.docs.is_empty() {
        out += "\n";
    }
    let l = &p.limits;
    let _ = writeln!(
        out,
        "| setting | value |\n| --- | --- |\n| byte order | {} |\n| versions | {} |\n| frame | {} |\n| largest frame | {} bytes |\n| longest string | {} bytes |\n| largest collection | {} |\n| longest line | {} bytes |\n| deepest nesting | {} |",
        match p.endian {
            Endian::Big => "big-endian",
            Endian::Little => "little-endian",
        },
        p.versions
            .map_or("—".into(), |(a, b)| format!("{a} to {b}")),
        p.frame
            .map_or("—".into(), |f| format!("`{}`", p.types[f].name())),
        l.max_frame_len,
        l.max_string_len,
        l.max_collection_len,
        l.max_line_len,
        l.max_depth
    );
    if !p.detect.is_empty() {
        let sets: Vec<String> = p
            .detect
            .iter()
            .map(|set| {
                set.iter()
                    .map(|r| format!("`{}` at {}", bytes(&r.bytes), r.at))
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect();
        let _ = writeln!(out, "| detected by | {} |", sets.join(", or "));
    }
    out += "\n## Messages\n";
    for t in &p.types {
        match t {
            TypeDef::Struct(s) if !s.header_only => structure(p, s, &mut out),
            TypeDef::Union(u) => union(p, u, &mut out),
            TypeDef::Tagged(t) => tagged(p, t, &mut out),
            _ => {}
        }
    }
    out += "\n## Enums and flags\n";
    for t in &p.types {
        match t {
            TypeDef::Enum(e) => {
                let _ = writeln!(
                    out,
                    "\n### `{}` ({}{})\n",
                    e.name,
                    int(&e.repr),
                    if e.open {
                        ", open: other values are kept"
                    } else {
                        ""
                    }
                );
                docs(&e.docs, &mut out);
                out += "| value | name |\n| --- | --- |\n";
                for v in &e.variants {
                    let _ = writeln!(out, "| {} | `{}` |", v.value, v.name);
                }
            }
            TypeDef::Flags(f) => {
                let _ = writeln!(out, "\n### `{}` (flags, {})\n", f.name, int(&f.repr));
                docs(&f.docs, &mut out);
                out += "| bit | name |\n| --- | --- |\n";
                for b in &f.bits {
                    let _ = writeln!(out, "| {} | `{}` |", b.value, b.name);
                }
            }
            _ => {}
        }
    }
    if let Some(x) = &p.exchange {
        out += "\n## Exchange\n\n";
        let name = |i: usize| format!("`{}`", p.types[i].name());
        for (n, r) in x.hello.iter().chain(&x.rules).enumerate() {
            let hello = if n == 0 && x.hello.is_some() {
                "hello "
            } else {
                ""
            };
            let answers: Vec<String> = r
                .answers
                .iter()
                .map(|a| {
                    let reply = match &a.reply {
                        Reply::Nothing => "nothing".to_string(),
                        Reply::Close => "close".to_string(),
                        Reply::Message(m) => name(*m),
                        Reply::MessageThenClose(m) => format!("{} then close", name(*m)),
                        Reply::Only { msg, failure } => {
                            format!(
                                "{} on {}",
                                name(*msg),
                                if *failure { "failure" } else { "success" }
                            )
                        }
                        Reply::Series { item, end } => {
                            format!("{}* then {}", name(*item), name(*end))
                        }
                    };
                    match &a.cond {
                        Some(c) => format!("{reply} if {}", cond(c)),
                        None => reply,
                    }
                })
                .collect();
            let _ = writeln!(out, "- {hello}{} → {}", name(r.on), answers.join(", "));
        }
        for m in &x.push {
            let _ = writeln!(out, "- pushed unasked: {}", name(*m));
        }
        let _ = writeln!(
            out,
            "- answers find their requests {}",
            match &x.matching {
                Matching::Order => "in order".to_string(),
                Matching::Correlate(f) => format!("by `{f}`"),
            }
        );
    }
    out
}

fn docs(lines: &[String], out: &mut String) {
    for d in lines {
        let _ = writeln!(out, "{}", d.trim());
    }
    if !lines.is_empty() {
        out.push('\n');
    }
}

fn structure(p: &Protocol, s: &StructDef, out: &mut String) {
    let _ = writeln!(out, "\n### `{}`\n", s.name);
    docs(&s.docs, out);
    if s.fields.is_empty() {
        out.push_str("No fields: nothing on the wire.\n");
        return;
    }
    out.push_str("| offset | field | type | notes |\n| --- | --- | --- | --- |\n");
    let mut offset = Some(0usize);
    for f in &s.fields {
        let at = offset.map_or("—".into(), |o| o.to_string());
        let mut notes: Vec<String> = Vec::new();
        let (ty, size) = match &f.kind {
            FieldKind::Value(t) => {
                let mut ty = type_name(p, t);
                if let Some(w) = f.widen {
                    ty = format!(
                        "{ty} (held as {}{})",
                        if w.signed { "i" } else { "u" },
                        w.bits()
                    );
                }
                if f.decimal {
                    ty = format!("decimal text ({ty})");
                }
                (ty, if f.decimal { None } else { fixed(p, t) })
            }
            FieldKind::Switch { ty, disc, arms } => {
                let arms: Vec<String> = arms.iter().map(|(v, e)| format!("{v} → {e}")).collect();
                notes.push(format!("encoded as `{disc}` says: {}", arms.join(", ")));
                (format!("`{}`", p.types[*ty].name()), None)
            }
            FieldKind::Literal(b) => (format!("literal `{}`", bytes(b)), Some(b.len())),
            FieldKind::Const { ty, value } => (
                format!("{} = {value:#x}", int(ty)),
                Some(usize::from(ty.bytes)),
            ),
            FieldKind::Length { ty, of } => {
                notes.push(format!("computed: {}", target(of)));
                if let Some(v) = f.len_else {
                    notes.push(format!("{v} when it is absent"));
                }
                let (name, size) = match ty {
                    _ if f.decimal => ("decimal text".to_string(), None),
                    Prefix::Int(i) => (int(i), Some(usize::from(i.bytes))),
                    Prefix::Varint { max } => (varint(*max), None),
                };
                (name, size)
            }
            FieldKind::Bits { ty, parts } => {
                for part in parts {
                    let what = match &part.value {
                        PartValue::Stored => type_name(p, &part.ty),
                        PartValue::Const(c) => format!("= {c:#x}"),
                        PartValue::Length(of) => format!("computed: {}", target(of)),
                        PartValue::Present(x) => format!("1 when `{x}` is there"),
                    };
                    notes.push(format!(
                        "bits {}..{} `{}`: {what}",
                        part.lo, part.hi, part.name
                    ));
                }
                (format!("{} of bits", int(ty)), Some(usize::from(ty.bytes)))
            }
        };
        match &f.region {
            Region::Inline => {}
            Region::Rest => notes.push("to the end".into()),
            Region::SizedBy(l) => notes.push(format!("as many bytes as `{l}`")),
            Region::Prefixed(pre) => notes.push(format!("after a byte length ({})", prefix(pre))),
            Region::Until(d) => notes.push(format!("up to `{}`", bytes(d))),
            Region::Count(n) => notes.push(format!("`{n}` elements")),
        }
        if let Some(c) = &f.cond {
            notes.push(format!("present if {}", cond(c)));
        }
        for a in f
            .attrs
            .iter()
            .filter(|a| !matches!(a.as_str(), "echo" | "default"))
        {
            notes.push(format!("@{a}"));
        }
        if let Some(d) = f.default {
            notes.push(format!("default {d}"));
        }
        if !f.docs.is_empty() {
            notes.push(
                f.docs
                    .iter()
                    .map(|d| d.trim())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        let _ = writeln!(
            out,
            "| {at} | `{}` | {ty} | {} |",
            f.name,
            notes.join("; ").replace('|', "\\|")
        );
        offset = match (offset, size, &f.cond, &f.region) {
            (Some(o), Some(n), None, Region::Inline) => Some(o + n),
            _ => None,
        };
    }
}

fn union(p: &Protocol, u: &UnionDef, out: &mut String) {
    let _ = writeln!(out, "\n### `{}` (one of)\n", u.name);
    docs(&u.docs, out);
    let key = union_key(p, u);
    let keys = key.as_ref().map(|(_, k)| k.clone()).unwrap_or_default();
    if let Some((k, _)) = &key {
        let _ = writeln!(
            out,
            "The member is the one whose key the first {} holds (mask {:#x}).\n",
            int(&k.ty),
            k.mask
        );
    }
    out.push_str("| member | read when |\n| --- | --- |\n");
    for (n, a) in u.arms.iter().enumerate() {
        let when = match (a.from, a.fallback) {
            (Some(side), _) => format!("the {} sends", side.name()),
            (None, true) => "no other member's key".into(),
            (None, false) => format!("key {:#x}", keys.get(n).copied().unwrap_or(0)),
        };
        let _ = writeln!(out, "| `{}` | {when} |", p.types[a.ty].name());
    }
}

fn tagged(p: &Protocol, t: &TaggedDef, out: &mut String) {
    let _ = writeln!(
        out,
        "\n### `{}` (tagged list, tags as {})\n",
        t.name,
        prefix(&t.tag)
    );
    docs(&t.docs, out);
    out.push_str("| tag | member | type | |\n| --- | --- | --- | --- |\n");
    for m in &t.members {
        let _ = writeln!(
            out,
            "| {:#x} | `{}` | {} | {} |",
            m.tag,
            m.name,
            type_name(p, &m.ty),
            if m.repeated {
                "repeated"
            } else {
                "at most once"
            }
        );
    }
}

fn int(i: &IntType) -> String {
    let base = format!("{}{}", if i.signed { "i" } else { "u" }, i.bits());
    match (i.bytes, i.endian) {
        (1, _) => base,
        (_, Endian::Big) => format!("{base} be"),
        (_, Endian::Little) => format!("{base} le"),
    }
}

fn varint(max: Option<u64>) -> String {
    match max {
        Some(m) => format!("varint (at most {m})"),
        None => "varint".into(),
    }
}

fn prefix(p: &Prefix) -> String {
    match p {
        Prefix::Int(i) => int(i),
        Prefix::Varint { max } => varint(*max),
    }
}

fn type_name(p: &Protocol, t: &Type) -> String {
    match t {
        Type::Int(i) => int(i),
        Type::Varint { signed: false, max } => varint(*max),
        Type::Varint { signed: true, .. } => "zigzag varint".into(),
        Type::Bool => "bool (1 byte)".into(),
        Type::String { prefix: pre, max } | Type::Bytes { prefix: pre, max } => {
            let what = if matches!(t, Type::String { .. }) {
                "UTF-8 string"
            } else {
                "bytes"
            };
            let pre = pre
                .as_ref()
                .map_or(String::new(), |x| format!(", length {}", prefix(x)));
            let max = max.map_or(String::new(), |m| format!(", at most {m}"));
            format!("{what}{pre}{max}")
        }
        Type::List { elem, count } => format!(
            "list of {}{}",
            type_name(p, elem),
            count
                .as_ref()
                .map_or(String::new(), |c| format!(", count {}", prefix(c)))
        ),
        Type::Map { key, value, count } => format!(
            "map {} → {}{}",
            type_name(p, key),
            type_name(p, value),
            count
                .as_ref()
                .map_or(String::new(), |c| format!(", count {}", prefix(c)))
        ),
        Type::Optional { inner, repr } => match repr {
            OptRepr::Presence => {
                format!("optional {} (a presence byte first)", type_name(p, inner))
            }
            OptRepr::EmptyIsNone => format!("{} (empty: absent)", type_name(p, inner)),
        },
        Type::Named(i) => format!("`{}`", p.types[*i].name()),
    }
}

/// The size every value of `t` takes, when it is fixed.
fn fixed(p: &Protocol, t: &Type) -> Option<usize> {
    match t {
        Type::Int(i) => Some(usize::from(i.bytes)),
        Type::Bool => Some(1),
        Type::Named(i) => match &p.types[*i] {
            TypeDef::Enum(e) => Some(usize::from(e.repr.bytes)),
            TypeDef::Flags(f) => Some(usize::from(f.repr.bytes)),
            _ => None,
        },
        _ => None,
    }
}

fn target(of: &LenTarget) -> String {
    match of {
        LenTarget::Field(x) => format!("the length of `{x}`"),
        LenTarget::From(None) => "the bytes after it".into(),
        LenTarget::From(Some(x)) => format!("the bytes from `{x}` on"),
    }
}

fn bytes(b: &[u8]) -> String {
    b.iter()
        .map(|&c| match c {
            b'\r' => "\\r".to_string(),
            b'\n' => "\\n".to_string(),
            0x20..=0x7e if c != b'`' => (c as char).to_string(),
            _ => format!("\\x{c:02x}"),
        })
        .collect()
}

fn cond(c: &Cond) -> String {
    match c {
        Cond::Int(n, _) => n.to_string(),
        Cond::Ref(n, _) => format!("`{n}`"),
        Cond::Version => "@version".into(),
        Cond::More => "bytes are left".into(),
        Cond::Not(a) => format!("not ({})", cond(a)),
        Cond::Cmp(op, a, b) => format!("{} {} {}", cond(a), op.as_str(), cond(b)),
        Cond::And(a, b) => format!("({} and {})", cond(a), cond(b)),
        Cond::Or(a, b) => format!("({} or {})", cond(a), cond(b)),
    }
}
