//! The Rust-items front end: `#[polywire::protocol]` modules and `#[derive(Message)]` types,
//! read with syn into the same [`Protocol`] IR the `.wire` front end builds.
//!
//! It lives here rather than in `polywire-macros` because nothing in it needs a compiler
//! plugin: the macros are a thin shim over [`lower_module`] / [`lower_derive`] and the one
//! emitter, and tools (tests, the CLI) can read a Rust file's protocols with
//! [`protocols_in_file`] and print them as `.wire` text.
//!
//! Every IR span is an index into [`Spans`], which keeps the tokens it came from, so a
//! checker diagnostic maps back to the attribute or field it is about ([`check`]).

pub mod attr;
mod lower;
mod module;

pub use lower::{Body, Cx, Item, Spans};

use crate::diag::Diagnostic;
use crate::ir::{Protocol, TypeDef};
use proc_macro2::TokenStream;

/// A front end's result: the IR (not yet checked), its span table, and the module items
/// that are not part of the protocol (kept as written).
pub struct Lowered {
    /// The IR.
    pub ir: Protocol,
    /// The tokens behind its spans.
    pub spans: Spans,
    /// Items of the module other than structs, enums and traits.
    pub keep: Vec<syn::Item>,
}

/// Lowers `#[protocol(args)] mod m { .. }`. All front-end errors are returned together.
pub fn lower_module(args: TokenStream, m: &syn::ItemMod) -> Result<Lowered, Vec<syn::Error>> {
    if m.content.is_none() {
        return Err(vec![syn::Error::new_spanned(
            m,
            "`#[polywire::protocol]` needs the module's items inline\n\nhelp: write `mod name { .. }` with the protocol's types and services inside",
        )]);
    }
    let args = module::args(args).map_err(|e| vec![e])?;
    let mut cx = Cx::new(false);
    let (ir, keep) = module::lower(&mut cx, args, m);
    done(cx, ir, keep)
}

/// Lowers a standalone `#[derive(Message)]` struct or enum: a protocol whose type 0 is the
/// input, followed by placeholders for the message types it names.
pub fn lower_derive(di: &syn::DeriveInput) -> Result<Lowered, Vec<syn::Error>> {
    if !di.generics.params.is_empty() {
        return Err(vec![syn::Error::new_spanned(
            &di.generics,
            "a wire message has no generic parameters",
        )]);
    }
    let mut cx = Cx::new(true);
    let ia = attr::item(&di.attrs).map_err(|e| vec![e])?;
    let body = match &di.data {
        syn::Data::Struct(s) => Body::Struct(&s.fields),
        syn::Data::Enum(e) => Body::Enum(&e.variants),
        syn::Data::Union(u) => {
            return Err(vec![syn::Error::new_spanned(
                u.union_token,
                "a wire message is a struct or an enum",
            )]);
        }
    };
    for (f, s) in &ia.flags {
        let ok = matches!(
            (&body, f.as_str()),
            (_, "be" | "le") | (Body::Enum(_), "open")
        );
        if !ok {
            cx.err_at(
                *s,
                format!("`{f}` needs the whole protocol\n\nhelp: declare the type inside a `#[polywire::protocol]` module"),
            );
        }
    }
    if let Some((_, s)) = &ia.tagged {
        cx.err_at(
            *s,
            "`tagged` needs the whole protocol\n\nhelp: declare the type inside a `#[polywire::protocol]` module",
        );
    }
    let item = Item {
        ident: &di.ident,
        attrs: &di.attrs,
        body,
    };
    cx.names.push(di.ident.to_string());
    let def = match item.body {
        Body::Struct(_) => {
            let mut s = cx.struct_def(&item, &ia);
            s.encodings.extend(cx.encoding(&item, &ia));
            if !s.encodings.is_empty() {
                cx.json_names_unseen(&item, &s);
            }
            TypeDef::Struct(s)
        }
        Body::Enum(_) => cx.enum_def(&item, &ia),
    };
    let mut types = vec![def];
    types.append(&mut cx.placeholders);
    let span = cx.spans.add(&di.ident);
    let ir = Protocol {
        name: di.ident.to_string(),
        id: di.ident.to_string(),
        docs: vec![],
        endian: cx.endian,
        versions: None,
        limits: Default::default(),
        types,
        frame: None,
        handshake: None,
        services: vec![],
        responses: None,
        detect: vec![],
        exchange: None,
        span,
    };
    done(cx, ir, vec![])
}

fn done(mut cx: Cx, ir: Protocol, keep: Vec<syn::Item>) -> Result<Lowered, Vec<syn::Error>> {
    if cx.errors.is_empty() {
        Ok(Lowered {
            ir,
            spans: cx.spans,
            keep,
        })
    } else {
        Err(std::mem::take(&mut cx.errors))
    }
}

/// Runs the shared checks ([`crate::ir::check`]); each diagnostic becomes an error at the
/// tokens its span stands for, its notes further errors at theirs.
pub fn check(l: &Lowered) -> Result<(), Vec<syn::Error>> {
    crate::ir::check::check(&l.ir)
        .map_err(|diags| diags.iter().flat_map(|d| to_syn(&l.spans, d)).collect())
}

fn to_syn(spans: &Spans, d: &Diagnostic) -> Vec<syn::Error> {
    let mut msg = d.message.clone();
    if let Some(h) = &d.help {
        msg += &format!("\n\nhelp: {h}");
    }
    let mut out = vec![syn::Error::new_spanned(spans.tokens(d.span), msg)];
    for (s, label) in &d.notes {
        out.push(syn::Error::new_spanned(
            spans.tokens(*s),
            format!("note: {label}"),
        ));
    }
    out
}

/// Every `#[protocol(..)]` / `#[polywire::protocol(..)]` module of a Rust source file,
/// lowered and checked; errors are rendered with their line and column.
pub fn protocols_in_file(src: &str) -> Result<Vec<Protocol>, String> {
    let file = syn::parse_file(src).map_err(|e| render(&e))?;
    let mut out = Vec::new();
    let mut stack: Vec<&syn::Item> = file.items.iter().collect();
    while let Some(item) = stack.pop() {
        let syn::Item::Mod(m) = item else { continue };
        let attr = m.attrs.iter().find(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "protocol")
        });
        match attr {
            Some(a) => {
                let args = match &a.meta {
                    syn::Meta::List(l) => l.tokens.clone(),
                    _ => TokenStream::new(),
                };
                let l = lower_module(args, m)
                    .map_err(|es| es.iter().map(render).collect::<String>())?;
                check(&l).map_err(|es| es.iter().map(render).collect::<String>())?;
                out.push(l.ir);
            }
            None => stack.extend(m.content.iter().flat_map(|c| c.1.iter())),
        }
    }
    Ok(out)
}

fn render(e: &syn::Error) -> String {
    e.clone()
        .into_iter()
        .map(|e| {
            let at = e.span().start();
            format!("error: {e}\n --> {}:{}\n", at.line, at.column + 1)
        })
        .collect()
}
