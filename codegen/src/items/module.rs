//! `#[polywire::protocol(..)]` on an inline module: the protocol-wide parts (arguments,
//! frame, responses, handshake, services, detection) around the items [`super::lower`]
//! reads.

use super::attr::{self, ItemAttrs};
use super::lower::{Body, Cx, Item, int_expr};
use crate::emit::rust::pascal;
use crate::ir::*;
use proc_macro2::TokenStream;
use syn::parse::Parser as _;
use syn::{Expr, ExprRange, FnArg, LitInt, LitStr, Pat, RangeLimits, ReturnType, TraitItem};

/// The attribute's arguments.
#[derive(Default)]
pub struct Args {
    id: Option<String>,
    name: Option<String>,
    versions: Option<(u32, u32)>,
    endian: Option<Endian>,
    limits: LimitsDecl,
    /// The rules since the last `or`: all of them hold.
    detect: Vec<DetectRule>,
    /// Earlier alternatives, each closed by an `or`.
    detect_alts: Vec<Vec<DetectRule>>,
    choose: Option<String>,
    timeout_ms: Option<u64>,
    /// `exchange = ".."`: the body of an `exchange { .. }` block, and where it was written.
    exchange: Option<(String, proc_macro2::Span)>,
}

fn range(r: &ExprRange) -> syn::Result<(u32, u32)> {
    let bound = |e: &Option<Box<Expr>>| -> syn::Result<i128> {
        e.as_deref().and_then(int_expr).ok_or_else(|| {
            syn::Error::new_spanned(
                r,
                "write the lowest and highest version, e.g. `versions = 1..=3`",
            )
        })
    };
    let lo = bound(&r.start)?;
    let mut hi = bound(&r.end)?;
    if matches!(r.limits, RangeLimits::HalfOpen(_)) {
        hi -= 1;
    }
    if lo < 0 || hi < lo || hi > i128::from(u32::MAX) {
        return Err(syn::Error::new_spanned(
            r,
            "empty or invalid version range\n\nhelp: write the lowest and highest version, e.g. `versions = 1..=3`",
        ));
    }
    Ok((lo as u32, hi as u32))
}

/// Parses `id = "..", name = "..", versions = 1..=3, endian = big, limits(..), detect(..),
/// handshake(..), exchange = ".."`. A bare `or` between `detect(..)`s starts another set of rules that may
/// hold instead (`detect { .. } or { .. }`).
pub fn args(tokens: TokenStream) -> syn::Result<Args> {
    let mut a = Args::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match key.as_str() {
            "id" => a.id = Some(meta.value()?.parse::<LitStr>()?.value()),
            "name" => a.name = Some(meta.value()?.parse::<LitStr>()?.value()),
            "versions" => a.versions = Some(range(&meta.value()?.parse::<ExprRange>()?)?),
            "endian" => {
                let id: syn::Ident = meta.value()?.parse()?;
                a.endian = Some(match id.to_string().as_str() {
                    "big" => Endian::Big,
                    "little" => Endian::Little,
                    other => {
                        return Err(syn::Error::new(
                            id.span(),
                            format!("unknown byte order `{other}`\n\nhelp: write `endian = big` or `endian = little`"),
                        ));
                    }
                });
            }
            "limits" => meta.parse_nested_meta(|m| {
                let k = m.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                let v: u64 = m.value()?.parse::<LitInt>()?.base10_parse()?;
                match k.as_str() {
                    "max_frame_len" => a.limits.max_frame_len = v,
                    "max_string_len" => a.limits.max_string_len = v,
                    "max_collection_len" => a.limits.max_collection_len = v,
                    "max_line_len" => a.limits.max_line_len = v,
                    "max_depth" => a.limits.max_depth = v,
                    _ => return Err(m.error(format!("unknown limit `{k}`\n\nhelp: limits are max_frame_len, max_string_len, max_collection_len, max_line_len and max_depth"))),
                }
                Ok(())
            })?,
            "detect" => {
                let mut rule = DetectRule { at: 0, bytes: vec![] };
                meta.parse_nested_meta(|m| {
                    if m.path.is_ident("prefix") {
                        let v = m.value()?;
                        if v.peek(LitStr) {
                            rule.bytes = v.parse::<LitStr>()?.value().into_bytes();
                        } else {
                            let arr: syn::ExprArray = v.parse()?;
                            for e in &arr.elems {
                                match int_expr(e) {
                                    Some(b @ 0..=255) => rule.bytes.push(b as u8),
                                    _ => return Err(syn::Error::new_spanned(e, "a detection byte is 0 to 255")),
                                }
                            }
                        }
                        Ok(())
                    } else if m.path.is_ident("at") {
                        rule.at = m.value()?.parse::<LitInt>()?.base10_parse()?;
                        Ok(())
                    } else {
                        Err(m.error("unknown detection key\n\nhelp: write `detect(prefix = \"MAGIC\", at = 0)`"))
                    }
                })?;
                a.detect.push(rule);
            }
            "or" => {
                if a.detect.is_empty() {
                    return Err(meta.error("`or` separates sets of `detect(..)` rules, and no `detect(..)` comes before it\n\nhelp: write `detect(prefix = [0x10], at = 0), or, detect(prefix = [0x20], at = 0)`"));
                }
                a.detect_alts.push(std::mem::take(&mut a.detect));
            }
            "handshake" => meta.parse_nested_meta(|m| {
                if m.path.is_ident("choose") {
                    let id: syn::Ident = m.value()?.parse()?;
                    if id != "highest" && id != "lowest" {
                        return Err(syn::Error::new(id.span(), "`choose` is `highest` or `lowest`"));
                    }
                    a.choose = Some(id.to_string());
                    Ok(())
                } else if m.path.is_ident("timeout_ms") {
                    a.timeout_ms = Some(m.value()?.parse::<LitInt>()?.base10_parse()?);
                    Ok(())
                } else {
                    Err(m.error("unknown handshake key\n\nhelp: write `handshake(choose = highest, timeout_ms = 5000)`; mark the messages with `#[wire(hello)]`, `#[wire(accept)]` and `#[wire(reject)]`"))
                }
            })?,
            "exchange" => {
                let lit = meta.value()?.parse::<LitStr>()?;
                a.exchange = Some((lit.value(), lit.span()));
            }
            _ => {
                let hint = crate::util::closest(
                    &key,
                    ["id", "name", "versions", "endian", "limits", "detect", "or", "handshake", "exchange"]
                        .iter()
                        .map(|s| s.to_string()),
                )
                .map_or_else(
                    || "known: id, name, versions, endian, limits(..), detect(..), or, handshake(..), exchange = \"..\"".to_string(),
                    |c| format!("did you mean `{c}`?"),
                );
                return Err(meta.error(format!("unknown protocol argument `{key}`\n\nhelp: {hint}")));
            }
        }
        Ok(())
    });
    parser.parse2(tokens)?;
    if a.detect.is_empty() && !a.detect_alts.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`or` ends the protocol's arguments: no `detect(..)` follows it\n\nhelp: add the other set's `detect(..)` rules after `or`, or remove it",
        ));
    }
    Ok(a)
}

/// Lowers a module's items into a protocol. Items that are not structs, enums or traits
/// are returned to be kept as they are.
pub fn lower(cx: &mut Cx, args: Args, module: &syn::ItemMod) -> (Protocol, Vec<syn::Item>) {
    cx.endian = args.endian.unwrap_or_default();
    let items: &[syn::Item] = module.content.as_ref().map_or(&[], |c| &c.1);
    let mut types: Vec<(Item, ItemAttrs)> = Vec::new();
    let mut traits = Vec::new();
    let mut keep = Vec::new();
    for it in items {
        let (ident, attrs, body) = match it {
            syn::Item::Struct(s) => (&s.ident, &s.attrs[..], Body::Struct(&s.fields)),
            syn::Item::Enum(e) => (&e.ident, &e.attrs[..], Body::Enum(&e.variants)),
            syn::Item::Trait(t) => {
                traits.push(t);
                continue;
            }
            other => {
                keep.push(other.clone());
                continue;
            }
        };
        let ia = attr::item(attrs).unwrap_or_else(|e| {
            cx.errors.push(e);
            ItemAttrs::default()
        });
        types.push((Item { ident, attrs, body }, ia));
    }
    let has = |ia: &ItemAttrs, f: &str| ia.flags.iter().any(|(x, _)| x == f);
    for (item, ia) in &types {
        let union = has(ia, "union");
        let tagged = ia.tagged.is_some();
        for (f, s) in &ia.flags {
            let ok = match (&item.body, f.as_str()) {
                (Body::Struct(_), "be" | "le") => true,
                (Body::Struct(_), "frame" | "header" | "hello" | "accept" | "reject") => !tagged,
                (Body::Enum(_), "union" | "frame") => union,
                (Body::Enum(_), "open" | "flags" | "responses" | "be" | "le") => !union,
                _ => false,
            };
            if !ok {
                let what = match (&item.body, union, tagged) {
                    (Body::Struct(_), _, true) => "a tagged list",
                    (Body::Struct(_), _, false) => "a struct",
                    (Body::Enum(_), true, _) => "a union",
                    (Body::Enum(_), false, _) => "an enum",
                };
                let help = match f.as_str() {
                    "frame" => {
                        "\n\nhelp: the frame is a struct or a union (`#[wire(union)]` on an enum of structs)"
                    }
                    _ => "",
                };
                cx.err_at(*s, format!("`{f}` does not apply to {what}{help}"));
            }
        }
        if let Some((_, s)) = &ia.tagged
            && matches!(item.body, Body::Enum(_))
        {
            cx.err_at(*s, "`tagged` applies to a struct, whose fields are the members\n\nhelp: write `#[wire(tagged = u8)] struct Name { #[wire(tag = 0x01)] member: Option<u8>, .. }`");
        }
        if let Some(j) = &ia.json
            && (union || tagged)
        {
            let what = if union { "a union" } else { "a tagged list" };
            cx.err_at(
                j.span,
                format!(
                    "`json` does not apply to {what}\n\nhelp: alternate encodings are for structs"
                ),
            );
        }
    }
    // IR order, as the DSL lowering assigns it: plain types, then responses, then the frame.
    let frames: Vec<usize> = (0..types.len())
        .filter(|&i| has(&types[i].1, "frame"))
        .collect();
    let responses: Vec<usize> = (0..types.len())
        .filter(|&i| has(&types[i].1, "responses"))
        .collect();
    for extra in frames.iter().skip(1) {
        cx.err(types[*extra].0.ident, "a protocol has one frame\n\nhelp: describe variants inside the one frame, e.g. with a discriminator");
    }
    for extra in responses.iter().skip(1) {
        cx.err(types[*extra].0.ident, "a protocol has one `responses` enum");
    }
    // A struct frame comes last, as a `frame { .. }` block does; a union frame stays where
    // it is written, as `union Name { .. }` with `frame Name` does.
    let moved_frame = frames
        .first()
        .copied()
        .filter(|&i| matches!(types[i].0.body, Body::Struct(_)));
    let mut order: Vec<usize> = (0..types.len())
        .filter(|&i| moved_frame != Some(i) && responses.first() != Some(&i))
        .collect();
    order.extend(responses.first());
    order.extend(moved_frame);
    for &i in &order {
        let name = types[i].0.ident.to_string();
        if cx.names.contains(&name) {
            cx.err(types[i].0.ident, format!("type `{name}` is defined twice"));
        }
        cx.names.push(name);
    }
    let mut defs = Vec::new();
    for &i in &order {
        let (item, ia) = &types[i];
        let def = match item.body {
            Body::Struct(_) if ia.tagged.is_some() => TypeDef::Tagged(cx.tagged_def(item, ia)),
            Body::Struct(_) => {
                let mut s = cx.struct_def(item, ia);
                s.encodings.extend(cx.encoding(item, ia));
                TypeDef::Struct(s)
            }
            Body::Enum(_) if has(ia, "union") => TypeDef::Union(cx.union_def(item)),
            Body::Enum(_) => cx.enum_def(item, ia),
        };
        defs.push(def);
    }
    let pos = |i: usize| order.iter().position(|&o| o == i);
    let frame = frames.first().and_then(|&i| pos(i));
    let find = |f: &str| {
        (0..types.len())
            .find(|&i| has(&types[i].1, f))
            .and_then(pos)
    };
    let (hello, accept, reject) = (find("hello"), find("accept"), find("reject"));
    let handshake = match (hello, accept) {
        (Some(hello), Some(accept)) => Some(Handshake {
            docs: vec![],
            hello,
            accept,
            reject,
            choose: args.choose.clone().unwrap_or_else(|| "highest".into()),
            timeout_ms: args.timeout_ms.unwrap_or(5000),
            span: cx.spans.add(&module.ident),
        }),
        (None, None) if reject.is_none() => None,
        _ => {
            let at = types
                .iter()
                .flat_map(|(_, ia)| ia.flags.iter())
                .find(|(f, _)| matches!(f.as_str(), "hello" | "accept" | "reject"))
                .map_or(module.ident.span(), |(_, s)| *s);
            cx.err_at(at, "a handshake needs a `#[wire(hello)]` and an `#[wire(accept)]` message\n\nhelp: mark the client's first message with `#[wire(hello)]` and the server's answer with `#[wire(accept)]`");
            None
        }
    };
    // A header's default carrier: the frame's one map field.
    let carriers: Vec<String> = frame
        .map(|f| match &defs[f] {
            TypeDef::Struct(s) => s
                .fields
                .iter()
                .filter(|f| {
                    matches!(&f.kind, FieldKind::Value(Type::Map { .. }))
                        || matches!(&f.kind, FieldKind::Value(Type::Optional { inner, .. }) if matches!(**inner, Type::Map { .. }))
                })
                .map(|f| f.name.clone())
                .collect(),
            _ => vec![],
        })
        .unwrap_or_default();
    if frame.is_none() && (!traits.is_empty() || handshake.is_some()) {
        cx.err(&module.ident, "the protocol has services or a handshake but no frame\n\nhelp: mark the struct that travels on the wire with `#[wire(frame)]`");
    }
    let services = traits.iter().map(|t| service(cx, t, &carriers)).collect();
    let exchange = args
        .exchange
        .as_ref()
        .and_then(|(text, at)| exchange(cx, text, *at, &defs));
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| module.ident.to_string());
    let ir = Protocol {
        id: args.id.clone().unwrap_or_else(|| name.clone()),
        name,
        docs: attr::docs(&module.attrs),
        endian: cx.endian,
        versions: args.versions,
        limits: args.limits,
        types: defs,
        frame,
        handshake,
        services,
        responses: responses.first().and_then(|&i| pos(i)),
        // The `detect(..)`s between two `or`s hold at once: one alternative.
        detect: {
            let mut alts = args.detect_alts;
            if !args.detect.is_empty() {
                alts.push(args.detect);
            }
            alts
        },
        exchange,
        span: cx.spans.add(&module.ident),
    };
    (ir, keep)
}

/// `exchange = ".."`: the body of an `exchange { .. }` block, read and resolved by the
/// same code as the `.wire` block; every span points at the string.
#[cfg(feature = "dsl")]
fn exchange(cx: &mut Cx, text: &str, at: proc_macro2::Span, types: &[TypeDef]) -> Option<Exchange> {
    let ast = match crate::dsl::parse::parse_exchange(text) {
        Ok(a) => a,
        Err(d) => {
            let why = d.message.trim_start_matches("syntax error: ");
            let help = d.help.unwrap_or_else(|| {
                "write the body of an `exchange { .. }` block, items separated by `;` or newlines: `hello Connect -> ConnAck; Publish -> PubAck if qos == 1; correlate packet_id`".to_string()
            });
            cx.err_at(
                at,
                format!("the exchange does not parse: {why}\n\nhelp: {help}"),
            );
            return None;
        }
    };
    let (ex, errs) = crate::ir::lower::exchange(&ast, &cx.names, &[], types);
    for d in errs {
        let help = d.help.map(|h| format!("\n\nhelp: {h}")).unwrap_or_default();
        cx.err_at(at, format!("{}: {}{help}", d.message, d.label));
    }
    let mut ex = ex?;
    let span = cx.spans.at(at);
    ex.span = span;
    for r in ex.hello.iter_mut().chain(ex.rules.iter_mut()) {
        r.span = span;
        for a in &mut r.answers {
            a.span = span;
            if let Some(c) = &mut a.cond {
                super::lower::relocate(c, span);
            }
        }
    }
    if let Some(k) = &mut ex.keepalive {
        k.span = span;
    }
    for s in &mut ex.statuses {
        s.span = span;
    }
    Some(ex)
}

/// Without the `.wire` grammar, an exchange cannot be read.
#[cfg(not(feature = "dsl"))]
fn exchange(cx: &mut Cx, text: &str, at: proc_macro2::Span, types: &[TypeDef]) -> Option<Exchange> {
    let _ = (text, types);
    cx.err_at(at, "the exchange is read with the `.wire` grammar, which this build of polywire-codegen leaves out\n\nhelp: enable polywire-codegen's `dsl` feature");
    None
}

fn service(cx: &mut Cx, t: &syn::ItemTrait, carriers: &[String]) -> Service {
    let mut rpcs = Vec::new();
    for item in &t.items {
        let TraitItem::Fn(f) = item else {
            cx.err(
                item,
                "a service declares requests as `fn name(header: H, body: B) -> B;`",
            );
            continue;
        };
        let ra = attr::rpc(&f.attrs).unwrap_or_else(|e| {
            cx.errors.push(e);
            Default::default()
        });
        let (code, code_span) = match ra.code {
            Some((c, s)) => (c, s),
            None => {
                cx.err(
                    &f.sig.ident,
                    format!(
                        "the request `{}` has no code\n\nhelp: add `#[wire(code = N)]`",
                        f.sig.ident
                    ),
                );
                (0, f.sig.ident.span())
            }
        };
        let oneway = ra.oneway.is_some();
        let mut request = Payload::default();
        for arg in &f.sig.inputs {
            let FnArg::Typed(pt) = arg else { continue };
            let pa = attr::rpc(&pt.attrs).unwrap_or_else(|e| {
                cx.errors.push(e);
                Default::default()
            });
            let name = match &*pt.pat {
                Pat::Ident(i) => i.ident.to_string(),
                _ => String::new(),
            };
            match name.as_str() {
                "header" => {
                    let carrier = pa.carrier.or(ra.carrier.clone()).map(|c| c.0);
                    request.header = header(cx, &pt.ty, carrier, carriers);
                }
                "body" => {
                    let enc = pa.encoding.map_or_else(|| "binary".to_string(), |e| e.0);
                    request.body = Some(BodyPart {
                        ty: cx.ty(&pt.ty, &Default::default(), &mut None),
                        encoding: enc,
                    });
                }
                _ => cx.err(
                    &pt.pat,
                    "a request's parameters are `header` (a typed header) and `body`",
                ),
            }
        }
        let mut response = Payload::default();
        if let ReturnType::Type(_, ty) = &f.sig.output {
            if oneway {
                cx.err(ty, format!("oneway request `{}` declares a response\n\nhelp: remove the return type or drop `oneway`", f.sig.ident));
            }
            let carrier = ra.response_carrier.or(ra.carrier.clone()).map(|c| c.0);
            let enc = ra
                .response_encoding
                .map_or_else(|| "binary".to_string(), |e| e.0);
            let (h, b) = match &**ty {
                syn::Type::Tuple(t) if t.elems.len() == 2 => (Some(&t.elems[0]), Some(&t.elems[1])),
                syn::Type::Tuple(t) if t.elems.is_empty() => (None, None),
                other => (None, Some(other)),
            };
            let unit = |t: &syn::Type| matches!(t, syn::Type::Tuple(u) if u.elems.is_empty());
            if let Some(h) = h.filter(|t| !unit(t)) {
                response.header = header(cx, h, carrier, carriers);
            }
            if let Some(b) = b.filter(|t| !unit(t)) {
                response.body = Some(BodyPart {
                    ty: cx.ty(b, &Default::default(), &mut None),
                    encoding: enc,
                });
            }
        }
        rpcs.push(Rpc {
            name: pascal(&f.sig.ident.to_string()),
            docs: attr::docs(&f.attrs),
            code,
            oneway,
            request,
            response,
            span: cx.spans.at(code_span),
        });
    }
    Service {
        name: t.ident.to_string(),
        docs: attr::docs(&t.attrs),
        rpcs,
    }
}

fn header(
    cx: &mut Cx,
    ty: &syn::Type,
    carrier: Option<String>,
    carriers: &[String],
) -> Option<HeaderPart> {
    let name = match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let Some(idx) = cx.names.iter().position(|n| *n == name) else {
        cx.err(ty, format!("unknown header type `{name}`\n\nhelp: declare the header as a struct inside the protocol module"));
        return None;
    };
    let carrier = match (carrier, carriers) {
        (Some(c), _) => c,
        (None, [only]) => only.clone(),
        (None, _) => {
            cx.err(ty, "a header needs the frame field that carries it\n\nhelp: add `#[wire(carrier = <map field of the frame>)]`");
            String::new()
        }
    };
    Some(HeaderPart { ty: idx, carrier })
}
