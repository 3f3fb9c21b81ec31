//! # polywire-codegen
//!
//! Turns `.wire` protocol descriptions into Rust at build time: a pest parser, a resolved
//! and checked IR, and one emitter (askama templates, formatted with prettyplease) that the
//! derive macros share.
//!
//! ```no_run
//! // build.rs
//! polywire_codegen::configure().compile_or_exit(&["wire/native.wire"]);
//! ```
//!
//! On an error, `compile_or_exit` prints the diagnostics (`error[E0130]: unknown type ...`
//! with file:line:col, the line, a caret and a help line; `polywire explain E0130` says
//! more) and exits with status 1. Warnings are shown by cargo, or fail the build with
//! `.deny_warnings(true)`; [`load`] returns them in [`Compiled::warnings`].
//!
//! and in the crate, `polywire::include_protocol!("native");`.
//!
//! The pipeline is `parse → lower → check → emit`:
//!
//! ```text
//!  .wire ──pest──▶ AST ──lower──▶ IR ──check──▶ emit ──▶ Rust (formatted)
//!                                  ▲
//!        #[derive(Message)] ──syn──┘   (polywire-macros)
//! ```

pub mod codes;
pub mod diag;
#[cfg(feature = "dsl")]
pub mod dsl;
pub mod emit;
pub mod ir;
pub mod items;
pub mod util;

pub use diag::{Diagnostic, Error, Severity, Sources, Span};

#[cfg(feature = "dsl")]
mod build;
#[cfg(feature = "dsl")]
pub use build::{Builder, Compiled, configure, load, load_str, load_with};
#[cfg(feature = "dsl")]
pub use dsl::fmt::format_wire;

/// Checks an IR and emits its Rust source. Both front ends end here.
pub fn generate(ir: &ir::Protocol, sources: &Sources) -> Result<String, Error> {
    generate_with(ir, sources, &emit::Options::default())
}

/// [`generate`] as `opts` says (e.g. [`emit::Options::codecs_only`]).
pub fn generate_with(
    ir: &ir::Protocol,
    sources: &Sources,
    opts: &emit::Options,
) -> Result<String, Error> {
    ir::check::check(ir).map_err(|d| Error::new(d, sources))?;
    // Each generated type names the `.wire` line it comes from, so that a rustc error in
    // generated code leads back to the description.
    let locate = emit::locate_in(sources);
    emit::emit_located_with(ir, opts, &locate).map_err(Error::plain)
}
