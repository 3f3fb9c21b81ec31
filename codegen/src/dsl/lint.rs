//! The front end's warnings, found on the syntax trees of a compilation: imports whose
//! definitions go unused (`W0101`), imported files whose protocol is ignored (`W0102`) and
//! type names that are not CamelCase (`W0103`).

use super::ast;
use crate::diag::{Diagnostic, Span};
use std::collections::HashSet;

/// One file of a compilation: its tree and its imports, resolved to indices in the same
/// list (`(index, span of the path)`).
pub struct Unit<'a> {
    /// The parsed file.
    pub file: &'a ast::File,
    /// The files it imports, as indices into the list of units, with the import's span.
    pub imports: Vec<(usize, Span)>,
}

/// The warnings of a compilation whose main file is `units[main]`.
pub fn warnings(units: &[Unit], main: usize) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut told = HashSet::new();
    for unit in units {
        for &(c, span) in &unit.imports {
            let closure = closure(units, c);
            let defined: HashSet<String> = closure
                .iter()
                .flat_map(|&i| units[i].file.items.iter().filter_map(item_name))
                .map(|n| n.text.clone())
                .collect();
            let mut used = HashSet::new();
            for (i, u) in units.iter().enumerate() {
                if !closure.contains(&i) {
                    references(u.file, &mut used);
                }
            }
            if defined.is_disjoint(&used) {
                out.push(
                    Diagnostic::warning(span, "unused import", "nothing it defines is used")
                        .code("W0101")
                        .help("remove the import, or use one of its definitions"),
                );
            }
            if let Some(p) = &units[c].file.protocol
                && told.insert(c)
            {
                out.push(
                    Diagnostic::warning(
                        p.name.span,
                        format!(
                            "the protocol `{}` of an imported file is ignored",
                            p.name.text
                        ),
                        "ignored: only definitions outside a protocol are imported",
                    )
                    .code("W0102")
                    .note(span, "imported here")
                    .help(
                        "move the definitions to import out of the protocol block, into a \
                         file both import",
                    ),
                );
            }
        }
    }
    for (i, u) in units.iter().enumerate() {
        let mut names: Vec<&ast::Name> = u.file.items.iter().filter_map(item_name).collect();
        if let Some(p) = u.file.protocol.as_ref().filter(|_| i == main) {
            names.extend(p.items.iter().filter_map(item_name));
            names.extend(p.responses.iter().map(|r| &r.name));
            names.extend(p.frames.iter().map(|f| &f.name));
        }
        for n in names {
            if let Some(camel) = camel_case(&n.text) {
                out.push(
                    Diagnostic::warning(
                        n.span,
                        format!("type `{}` should have a CamelCase name", n.text),
                        "not CamelCase",
                    )
                    .code("W0103")
                    .help(format!("write `{camel}`")),
                );
            }
        }
    }
    out
}

/// `start` and every file it imports, directly or not.
fn closure(units: &[Unit], start: usize) -> Vec<usize> {
    let mut seen = vec![start];
    let mut i = 0;
    while i < seen.len() {
        for &(c, _) in &units[seen[i]].imports {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        i += 1;
    }
    seen
}

/// The name a definition gives a type (encodings give none).
fn item_name(item: &ast::Item) -> Option<&ast::Name> {
    match item {
        ast::Item::Enum(e) => Some(&e.name),
        ast::Item::Flags(f) => Some(&f.name),
        ast::Item::Struct(s) | ast::Item::Header(s) => Some(&s.name),
        ast::Item::Union(u) => Some(&u.name),
        ast::Item::Tagged(t) => Some(&t.name),
        ast::Item::Encoding(_) => None,
    }
}

/// Every type name `file` refers to.
fn references(file: &ast::File, out: &mut HashSet<String>) {
    fn ty(t: &ast::TypeExpr, out: &mut HashSet<String>) {
        out.insert(t.name.text.clone());
        for a in &t.args {
            if let ast::TypeArg::Type(t) = a {
                ty(t, out);
            }
        }
    }
    fn fields(fs: &[ast::Field], out: &mut HashSet<String>) {
        for f in fs {
            ty(&f.ty, out);
            for p in f.bits.iter().flatten() {
                ty(&p.ty, out);
            }
        }
    }
    fn items(items: &[ast::Item], out: &mut HashSet<String>) {
        for item in items {
            match item {
                ast::Item::Struct(s) | ast::Item::Header(s) => fields(&s.fields, out),
                ast::Item::Encoding(e) => {
                    out.insert(e.target.text.clone());
                }
                ast::Item::Union(u) => {
                    for (_, n, _, _) in &u.arms {
                        out.insert(n.text.clone());
                    }
                }
                ast::Item::Tagged(t) => {
                    for m in &t.members {
                        ty(&m.ty, out);
                    }
                }
                ast::Item::Enum(_) | ast::Item::Flags(_) => {}
            }
        }
    }
    items(&file.items, out);
    if let Some(p) = &file.protocol {
        items(&p.items, out);
        for f in &p.frames {
            fields(&f.fields, out);
        }
        for h in &p.handshakes {
            for (_, v) in &h.rules {
                if let ast::HsValue::Name(n) = v {
                    out.insert(n.text.clone());
                }
            }
        }
        for s in &p.services {
            for r in &s.rpcs {
                for part in r.request.iter().chain(r.response.iter().flatten()) {
                    ty(&part.ty, out);
                }
            }
        }
    }
}

/// The CamelCase spelling of `name`, if `name` is not CamelCase already: it starts with a
/// lower-case letter or holds an `_` between words (`my_header`, `HEADER_V2` →
/// `MyHeader`, `HeaderV2`).
pub fn camel_case(name: &str) -> Option<String> {
    let trimmed = name.trim_matches('_');
    let camel = trimmed.starts_with(|c: char| !c.is_lowercase()) && !trimmed.contains('_');
    if camel || trimmed.is_empty() {
        return None;
    }
    let words = trimmed.split('_').filter(|w| !w.is_empty());
    Some(
        words
            .map(|w| {
                let shouting = w.chars().all(|c| !c.is_lowercase()) && w.chars().count() > 1;
                let mut cs = w.chars();
                let first = cs.next().map(|c| c.to_uppercase().collect::<String>());
                let rest: String = if shouting {
                    cs.as_str().to_lowercase()
                } else {
                    cs.as_str().to_string()
                };
                first.unwrap_or_default() + &rest
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::camel_case;

    #[test]
    fn camel_case_spellings() {
        assert_eq!(camel_case("Header"), None);
        assert_eq!(camel_case("HTTPHeader"), None);
        assert_eq!(camel_case("my_header"), Some("MyHeader".into()));
        assert_eq!(camel_case("header"), Some("Header".into()));
        assert_eq!(camel_case("HEADER_V2"), Some("HeaderV2".into()));
        assert_eq!(camel_case("sendMessage"), Some("SendMessage".into()));
        assert_eq!(camel_case("Send_Message"), Some("SendMessage".into()));
    }
}
