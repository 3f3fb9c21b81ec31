//! The model written as `.wire` text.

use super::model::*;
use std::fmt::Write;

fn doc(out: &mut String, indent: &str, d: &Option<String>) {
    if let Some(d) = d {
        for line in d.lines() {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
}

fn str_lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A type as written.
pub fn ty(p: &Proto, t: &Ty) -> String {
    let args = |pfx: &Option<Pfx>, max: &Option<u64>| {
        let mut a = Vec::new();
        if let Some(x) = pfx {
            a.push(x.wire());
        }
        if let Some(m) = max {
            a.push(format!("max = {m}"));
        }
        if a.is_empty() {
            String::new()
        } else {
            format!("<{}>", a.join(", "))
        }
    };
    match t {
        Ty::Int(i) => i.wire(),
        Ty::Varint(false) => "varint".into(),
        Ty::Varint(true) => "svarint".into(),
        Ty::VarintMax(m) => format!("varint<max = {m}>"),
        Ty::Bool => "bool".into(),
        Ty::Str(pfx, max) => format!("string{}", args(pfx, max)),
        Ty::Bytes(pfx, max) => format!("bytes{}", args(pfx, max)),
        Ty::List(e, Count::Default) => format!("list<{}>", ty(p, e)),
        Ty::List(e, Count::Explicit(c)) => format!("list<{}, {}>", ty(p, e), c.wire()),
        Ty::Map(k, v, Count::Default) => format!("map<{}, {}>", ty(p, k), ty(p, v)),
        Ty::Map(k, v, Count::Explicit(c)) => {
            format!("map<{}, {}, {}>", ty(p, k), ty(p, v), c.wire())
        }
        Ty::Opt(i) => format!("{}?", ty(p, i)),
        Ty::Named(i) => p.defs[*i].name().to_string(),
    }
}

fn int_lit(v: i128, hex: bool) -> String {
    if hex && v >= 0 {
        format!("0x{v:X}")
    } else {
        v.to_string()
    }
}

fn field(p: &Proto, out: &mut String, f: &Field, indent: &str) {
    doc(out, indent, &f.doc);
    let _ = write!(out, "{indent}{}: ", f.name);
    match &f.kind {
        Kind::Value(t) => out.push_str(&ty(p, t)),
        Kind::Const(i, v) => {
            let _ = write!(out, "{} = {}", i.wire(), int_lit(*v, v % 3 == 0));
        }
        Kind::Len(x, t) => {
            let _ = write!(out, "{} = {}", x.wire(), t.wire());
        }
        Kind::Bits(i, parts) => {
            let _ = writeln!(out, "{} {{", i.wire());
            for part in parts {
                doc(out, &format!("{indent}    "), &part.doc);
                let _ = write!(
                    out,
                    "{indent}    {}: {} bits {}..{}",
                    part.name,
                    ty(p, &part.ty),
                    part.lo,
                    part.hi
                );
                match &part.value {
                    PartV::Stored => {}
                    PartV::Const(c) => {
                        let _ = write!(out, " = {c}");
                    }
                    PartV::Len(t) => {
                        let _ = write!(out, " = {}", t.wire());
                    }
                    PartV::Present(x) => {
                        let _ = write!(out, " = present({x})");
                    }
                }
                if part.echo {
                    out.push_str(" @echo");
                }
                out.push('\n');
            }
            let _ = write!(out, "{indent}}}");
        }
        Kind::Switch { ty, disc, arms } => {
            let arms: Vec<String> = arms.iter().map(|(v, e)| format!("{v} => {e}")).collect();
            let _ = write!(
                out,
                "{} by {disc} {{ {} }}",
                p.defs[*ty].name(),
                arms.join(", ")
            );
        }
    }
    if let Some(w) = &f.widen {
        let _ = write!(out, " as {}", w.wire());
    }
    match &f.region {
        Region::Inline => {}
        Region::Rest => out.push_str(" rest"),
        Region::SizedBy(n) => {
            let _ = write!(out, " sized_by {n}");
        }
        Region::Prefixed(x) => {
            let _ = write!(out, " sized_by {}", x.wire());
        }
    }
    if let Some(c) = &f.cond {
        let _ = write!(out, " if {}", c.wire());
    }
    for m in &f.markers {
        let _ = write!(out, " @{m}");
    }
    if let Some(d) = f.default {
        let _ = write!(out, " @default({d})");
    }
    out.push('\n');
}

fn variants(out: &mut String, vs: &[Variant], flags: bool, indent: &str) {
    for v in vs {
        doc(out, indent, &v.doc);
        let value = if flags {
            format!("bit {}", v.value)
        } else {
            int_lit(v.value, v.value > 9 && v.value % 2 == 0)
        };
        let _ = write!(out, "{indent}{} = {value}", v.name);
        for a in &v.attrs {
            let _ = write!(out, " {a}");
        }
        out.push('\n');
    }
}

fn def(p: &Proto, out: &mut String, d: &Def, indent: &str) {
    match d {
        Def::Enum {
            name,
            doc: dc,
            repr,
            open,
            variants: vs,
            responses,
        } => {
            doc(out, indent, dc);
            let kw = if *responses { "responses" } else { "enum" };
            let open = if *open && !*responses { " open" } else { "" };
            let _ = writeln!(out, "{indent}{kw} {name} : {}{open} {{", repr.wire());
            variants(out, vs, false, &format!("{indent}    "));
            let _ = writeln!(out, "{indent}}}");
        }
        Def::Flags {
            name,
            doc: dc,
            repr,
            bits,
        } => {
            doc(out, indent, dc);
            let _ = writeln!(out, "{indent}flags {name} : {} {{", repr.wire());
            variants(out, bits, true, &format!("{indent}    "));
            let _ = writeln!(out, "{indent}}}");
        }
        Def::Union {
            name,
            doc: dc,
            arms,
        } => {
            doc(out, indent, dc);
            let _ = writeln!(out, "{indent}union {name} {{");
            for a in arms {
                let _ = writeln!(out, "{indent}    {}", p.defs[*a].name());
            }
            let _ = writeln!(out, "{indent}}}");
        }
        Def::Tagged {
            name,
            doc: dc,
            tag,
            members,
        } => {
            doc(out, indent, dc);
            let _ = writeln!(out, "{indent}tagged {name} : {} {{", tag.wire());
            for m in members {
                let rep = if m.repeated { " repeated" } else { "" };
                let _ = writeln!(
                    out,
                    "{indent}    {:#x} {}: {}{rep}",
                    m.tag,
                    m.name,
                    ty(p, &m.ty)
                );
            }
            let _ = writeln!(out, "{indent}}}");
        }
        Def::Struct(s) => {
            doc(out, indent, &s.doc);
            if s.frame {
                if s.frame_unnamed {
                    let _ = writeln!(out, "{indent}frame {{");
                } else {
                    let _ = writeln!(out, "{indent}frame {} {{", s.name);
                }
            } else {
                let kw = if s.header { "header" } else { "struct" };
                let _ = writeln!(out, "{indent}{kw} {} {{", s.name);
            }
            for f in &s.fields {
                field(p, out, f, &format!("{indent}    "));
            }
            let _ = writeln!(out, "{indent}}}");
            if let Some(j) = &s.json {
                let _ = writeln!(out, "{indent}encoding {} json {{", s.name);
                let i2 = format!("{indent}    ");
                if let Some(c) = j.rename_all {
                    let _ = writeln!(out, "{i2}rename_all {c}");
                }
                for (f, w) in &j.renames {
                    let _ = writeln!(out, "{i2}rename {f} = {}", str_lit(w));
                }
                for (f, how) in &j.as_rules {
                    let _ = writeln!(out, "{i2}{f} as {how}");
                }
                for fl in &j.flags {
                    let _ = writeln!(out, "{i2}{fl}");
                }
                for (k, v) in &j.constants {
                    let _ = writeln!(out, "{i2}constant {} = {v}", str_lit(k));
                }
                let _ = writeln!(out, "{indent}}}");
            }
        }
    }
}

fn payload(p: &Proto, pl: &Payload) -> String {
    let mut parts = Vec::new();
    if let Some((h, carrier)) = &pl.header {
        parts.push(format!("header {} in {carrier}", p.defs[*h].name()));
    }
    if let Some((b, json)) = &pl.body {
        let t = b.map_or("bytes".to_string(), |i| p.defs[i].name().to_string());
        parts.push(if *json {
            format!("body {t} as json")
        } else {
            format!("body {t}")
        });
    }
    format!("{{ {} }}", parts.join(", "))
}

/// The whole protocol as `.wire` text.
pub fn write(p: &Proto) -> String {
    let mut out = String::from("// Generated by polywire's random protocol generator.\n");
    for (i, outside) in &p.order {
        if *outside {
            def(p, &mut out, &p.defs[*i], "");
        }
    }
    doc(&mut out, "", &p.doc);
    match &p.id {
        Some(id) => {
            let _ = writeln!(out, "protocol {} {} {{", p.name, str_lit(id));
        }
        None => {
            let _ = writeln!(out, "protocol {} {{", p.name);
        }
    }
    let i = "    ";
    if let Some(e) = p.endian {
        let _ = writeln!(out, "{i}endian {e}");
    }
    if let Some((a, b, incl)) = p.versions {
        if incl {
            let _ = writeln!(out, "{i}versions {a}..={b}");
        } else {
            let _ = writeln!(out, "{i}versions {a}..{}", b + 1);
        }
    }
    if !p.limits.is_empty() {
        let _ = writeln!(out, "{i}limits {{");
        for (n, v) in &p.limits {
            let _ = writeln!(out, "{i}    {n} = {v}");
        }
        let _ = writeln!(out, "{i}}}");
    }
    for (d, outside) in &p.order {
        if !*outside {
            def(p, &mut out, &p.defs[*d], i);
        }
    }
    if let Some(h) = &p.handshake {
        doc(&mut out, i, &h.doc);
        let _ = writeln!(out, "{i}handshake {{");
        let _ = writeln!(out, "{i}    hello {}", p.defs[h.hello].name());
        let _ = writeln!(out, "{i}    accept {}", p.defs[h.accept].name());
        if let Some(r) = h.reject {
            let _ = writeln!(out, "{i}    reject {}", p.defs[r].name());
        }
        if let Some(c) = h.choose {
            let _ = writeln!(out, "{i}    choose {c}");
        }
        if let Some(t) = h.timeout_ms {
            let _ = writeln!(out, "{i}    timeout_ms {t}");
        }
        let _ = writeln!(out, "{i}}}");
    }
    if !p.detect.is_empty() {
        let alts: Vec<String> = p
            .detect
            .iter()
            .map(|alt| {
                let rules: Vec<String> = alt
                    .iter()
                    .map(|r| {
                        let bytes = if r.as_string {
                            str_lit(&String::from_utf8_lossy(&r.bytes))
                        } else {
                            r.bytes
                                .iter()
                                .map(|b| format!("0x{b:02X}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        };
                        match r.at {
                            Some(at) => format!("prefix {bytes} at {at}"),
                            None => format!("prefix {bytes}"),
                        }
                    })
                    .collect();
                format!("{{ {} }}", rules.join("; "))
            })
            .collect();
        let _ = writeln!(out, "{i}detect {}", alts.join(" or "));
    }
    for s in &p.services {
        doc(&mut out, i, &s.doc);
        let _ = writeln!(out, "{i}service {} {{", s.name);
        for r in &s.rpcs {
            doc(&mut out, &format!("{i}    "), &r.doc);
            let kw = if r.oneway { "oneway" } else { "request" };
            let _ = write!(out, "{i}    {kw} {} = {}", r.name, r.code);
            let empty = Payload::default();
            if r.request != empty || r.response.is_some() {
                let _ = write!(out, " {}", payload(p, &r.request));
            }
            if let Some(resp) = &r.response {
                let _ = write!(out, " -> {}", payload(p, resp));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "{i}}}");
    }
    out.push_str("}\n");
    out
}
