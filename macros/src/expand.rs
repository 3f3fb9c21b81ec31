//! The shim's work: the shared front end (`polywire_codegen::items`), the shared checks,
//! the one emitter, and the output parsed back into tokens.

use polywire_codegen::emit::{Options, emit_with};
use polywire_codegen::items::{self, Lowered};
use proc_macro2::TokenStream;
use quote::quote;

/// `#[polywire::protocol(..)] mod name { .. }`: the module, its items replaced by the
/// emitter's output.
pub fn protocol(args: TokenStream, input: TokenStream) -> TokenStream {
    let module: syn::ItemMod = match syn::parse2(input) {
        Ok(m) => m,
        Err(e) => {
            return syn::Error::new(
                e.span(),
                "`#[polywire::protocol]` goes on an inline module: `mod name { .. }`",
            )
            .into_compile_error();
        }
    };
    let (attrs, vis, ident) = (&module.attrs, &module.vis, &module.ident);
    let out = items::lower_module(args, &module).and_then(|l| {
        let code = emit(&l, &Options::default())?;
        let keep = &l.keep;
        Ok(quote! { #(#attrs)* #vis mod #ident { #(#keep)* #code } })
    });
    // On error, an empty module keeps paths into it from adding errors of their own.
    out.unwrap_or_else(|e| {
        let e = errors(e);
        quote! { #e #(#attrs)* #vis mod #ident {} }
    })
}

/// `#[derive(Message)]` on a standalone struct or enum: its impls only.
pub fn derive(input: TokenStream) -> TokenStream {
    let di: syn::DeriveInput = match syn::parse2(input) {
        Ok(d) => d,
        Err(e) => return e.into_compile_error(),
    };
    let opts = Options {
        only_types: Some(vec![0]),
        skip_definitions: true,
        enum_messages: true,
        ..Options::default()
    };
    items::lower_derive(&di)
        .and_then(|l| emit(&l, &opts))
        .unwrap_or_else(errors)
}

fn emit(l: &Lowered, opts: &Options) -> Result<TokenStream, Vec<syn::Error>> {
    items::check(l)?;
    let src = emit_with(&l.ir, opts)
        .map_err(|m| vec![syn::Error::new(proc_macro2::Span::call_site(), m)])?;
    src.parse::<TokenStream>().map_err(|e| {
        vec![syn::Error::new(
            proc_macro2::Span::call_site(),
            format!("polywire-macros: the emitter's output does not lex: {e}"),
        )]
    })
}

fn errors(es: Vec<syn::Error>) -> TokenStream {
    es.into_iter().map(|e| e.into_compile_error()).collect()
}
