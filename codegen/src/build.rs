//! The `build.rs` API, in the manner of prost-build / tonic-build.

use crate::diag::{Diagnostic, Error, Severity, Sources, Span};
use crate::dsl::{ast, lint, parse};
use crate::ir::{self, Protocol};
use std::path::{Path, PathBuf};

/// Starts a [`Builder`] with default settings.
pub fn configure() -> Builder {
    Builder::default()
}

/// Configures and runs code generation for `.wire` files.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    emit_rerun: Option<bool>,
    deny_warnings: bool,
    codecs_only: bool,
    type_attributes: Vec<(String, String)>,
    no_server: bool,
    no_client: bool,
    include: Vec<PathBuf>,
    names: Vec<(PathBuf, String)>,
}

/// The result of loading a `.wire` file: its IR, every source read (for diagnostics) and
/// the warnings found.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The checked IR.
    pub ir: Protocol,
    /// Files read, the main file first.
    pub sources: Sources,
    /// Paths read, for `rerun-if-changed`.
    pub paths: Vec<PathBuf>,
    /// Warnings: the front end's and the checker's ([`ir::check::warnings`]). They never
    /// make loading fail; render them with `sources.render(&warnings)`.
    pub warnings: Vec<Diagnostic>,
}

impl Builder {
    /// Where to write `<stem>.rs` (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default: when run by cargo).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.emit_rerun = Some(on);
        self
    }

    /// Whether warnings fail the build, as errors (default: no; they are shown as
    /// `cargo:warning=` lines when run by cargo).
    pub fn deny_warnings(mut self, on: bool) -> Self {
        self.deny_warnings = on;
        self
    }

    /// Whether to generate codecs for `polywire-core` alone (default: no, the code names
    /// `polywire`). On, the generated code names `::polywire_core` and leaves out what needs
    /// the runtime: the typed service traits, their registration and the typed clients. The
    /// messages, the frame's codec and the `Protocol`, `RemotingFrame` and `Handshake` impls
    /// stay. Include it with `polywire_core::include_protocol!`.
    pub fn codecs_only(mut self, on: bool) -> Self {
        self.codecs_only = on;
        self
    }

    /// Whether to generate the server side (default: yes): the typed service traits and
    /// their `serve_*` registration, and for an `exchange` block the handler trait, its
    /// dispatch and `server()`. A crate that only calls a protocol turns it off.
    pub fn server(mut self, on: bool) -> Self {
        self.no_server = !on;
        self
    }

    /// Whether to generate the typed clients (default: yes). A crate that only serves a
    /// protocol turns it off.
    pub fn client(mut self, on: bool) -> Self {
        self.no_client = !on;
        self
    }

    /// Adds `attribute` (e.g. `#[derive(Hash)]` or `#[derive(serde::Serialize)]`) to the
    /// definition of the generated type named `ty` (a struct, union, enum, flags, tagged
    /// list or header), or of every type when `ty` is `.`, as prost-build's
    /// `type_attribute`. Attributes come after the generated ones, in the order given; one
    /// that is not an outer attribute fails [`compile`](Self::compile).
    pub fn type_attribute(mut self, ty: impl Into<String>, attribute: impl Into<String>) -> Self {
        self.type_attributes.push((ty.into(), attribute.into()));
        self
    }

    /// Adds `dir` to the folders an `import` is looked for in when it is not found next to
    /// the importing file, in the order added (as protoc's `-I`).
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Self {
        self.include.push(dir.into());
        self
    }

    /// Writes the code generated from `file` as `<name>.rs`, included with
    /// `include_protocol!("name")`, instead of after the file's stem: two files with one
    /// stem in different folders (`a/chat.wire`, `b/chat.wire`) each get a name of their
    /// own. `name` is made of ASCII letters, digits, `_` and `-`; `file` is matched against
    /// the paths given to [`compile`](Self::compile) (the same path, or the same file).
    pub fn output_name(mut self, file: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        self.names.push((file.into(), name.into()));
        self
    }

    /// The name `file`'s code is written under: its [`output_name`](Self::output_name) or
    /// its stem.
    fn name_of<'a>(&'a self, file: &'a Path) -> &'a str {
        let same = |p: &Path| {
            p == file
                || matches!(
                    (std::fs::canonicalize(p), std::fs::canonicalize(file)),
                    (Ok(a), Ok(b)) if a == b
                )
        };
        match self.names.iter().find(|(p, _)| same(p)) {
            Some((_, name)) => name,
            None => file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("protocol"),
        }
    }

    /// Generates Rust for each file, writing `<out_dir>/<file stem>.rs` (or the name given
    /// with [`output_name`](Self::output_name)). Returns every
    /// problem found, rendered with file:line:col and carets. Warnings are printed as
    /// `cargo:warning=` lines when run by cargo, or fail the build with
    /// [`deny_warnings`](Self::deny_warnings).
    pub fn compile(&self, files: &[impl AsRef<Path>]) -> Result<(), Error> {
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| plain("OUT_DIR is not set: call from build.rs or set .out_dir()"))?,
        };
        for (ty, a) in &self.type_attributes {
            if syn::parse::Parser::parse_str(syn::Attribute::parse_outer, a).is_err() {
                return Err(plain(&format!(
                    "type_attribute for `{ty}`: `{a}` is not an outer attribute such as `#[derive(Hash)]`"
                )));
            }
        }
        for (file, name) in &self.names {
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(plain(&format!(
                    "output_name for `{}`: `{name}` is not a file name of ASCII letters, digits, `_` and `-`",
                    file.display()
                )));
            }
        }
        // Two files with one name would write one `<name>.rs`, the second over the first.
        let stems: Vec<(&Path, &str)> = files
            .iter()
            .map(|f| (f.as_ref(), self.name_of(f.as_ref())))
            .collect();
        for (i, (f, stem)) in stems.iter().enumerate() {
            if let Some((first, _)) = stems[..i].iter().find(|(_, s)| s == stem) {
                return Err(plain(&format!(
                    "`{}` and `{}` would both be generated as `{stem}.rs`: give one another name with `.output_name(\"{}\", \"...\")`, or compile them with separate `out_dir`s",
                    first.display(),
                    f.display(),
                    f.display()
                )));
            }
        }
        let under_cargo = std::env::var_os("CARGO").is_some();
        let rerun = self.emit_rerun.unwrap_or(under_cargo);
        for f in files {
            let f = f.as_ref();
            let compiled = load_inner(f, None, &self.include);
            if rerun {
                let paths = match &compiled {
                    Ok(c) => c.paths.clone(),
                    Err(_) => vec![f.to_path_buf()],
                };
                for p in paths {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
            }
            let c = compiled?;
            if !c.warnings.is_empty() {
                if self.deny_warnings {
                    return Err(denied(c.warnings, &c.sources));
                }
                if under_cargo {
                    print!("{}", cargo_warnings(&c.sources.render(&c.warnings)));
                }
            }
            let opts = crate::emit::Options {
                codecs_only: self.codecs_only,
                type_attributes: self.type_attributes.clone(),
                skip_server: self.no_server,
                skip_client: self.no_client,
                ..Default::default()
            };
            let code = crate::generate_with(&c.ir, &c.sources, &opts)?;
            let out = out_dir.join(format!("{}.rs", self.name_of(f)));
            std::fs::write(&out, code)
                .map_err(|e| plain(&format!("cannot write {}: {e}", out.display())))?;
        }
        Ok(())
    }

    /// [`compile`](Self::compile) for a `build.rs`: on failure, prints the diagnostics once
    /// to stderr (in colour on a terminal) and exits with status 1, without a panic message
    /// or backtrace.
    pub fn compile_or_exit(&self, files: &[impl AsRef<Path>]) {
        if let Err(e) = self.compile(files) {
            e.eprint();
            std::process::exit(1);
        }
    }
}

/// Warnings turned into the errors of a build that denies them.
fn denied(warnings: Vec<Diagnostic>, sources: &Sources) -> Error {
    let errors = warnings
        .into_iter()
        .map(|mut d| {
            d.severity = Severity::Error;
            d
        })
        .collect();
    Error::new(errors, sources)
}

/// Rendered diagnostics as `cargo:warning=` lines, one per non-empty line, so that cargo
/// shows them after a build script ran.
fn cargo_warnings(rendered: &str) -> String {
    rendered
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("cargo:warning={l}\n"))
        .collect()
}

fn plain(msg: &str) -> Error {
    Error::plain(msg)
}

/// Parses `path` and its imports, lowers and checks them.
pub fn load(path: &Path) -> Result<Compiled, Error> {
    load_inner(path, None, &[])
}

/// Like [`load`], looking for an import that is not next to its importing file in each of
/// `include`'s folders in turn (see [`Builder::include`]).
pub fn load_with(path: &Path, include: &[PathBuf]) -> Result<Compiled, Error> {
    load_inner(path, None, include)
}

/// Like [`load`], for text held in memory and shown under `name` in diagnostics. Imports
/// are resolved relative to `name`'s directory.
pub fn load_str(name: &str, text: &str) -> Result<Compiled, Error> {
    load_inner(Path::new(name), Some(text), &[])
}

/// What the import walk gathers.
#[derive(Default)]
struct Walk {
    sources: Sources,
    paths: Vec<PathBuf>,
    /// Parsed files with their canonical path, dependencies before their importers.
    files: Vec<(PathBuf, parse::Parsed)>,
    /// Each file's imports, as indices into `files`.
    imports: Vec<Vec<(usize, Span)>>,
    stack: Vec<PathBuf>,
    /// Folders an import not found next to its importer is looked for in.
    include: Vec<PathBuf>,
}

fn load_inner(path: &Path, text: Option<&str>, include: &[PathBuf]) -> Result<Compiled, Error> {
    let mut w = Walk {
        include: include.to_vec(),
        ..Walk::default()
    };
    let res = visit(path, None, text, &mut w);
    let syntax: Vec<Diagnostic> = w
        .files
        .iter()
        .flat_map(|(_, p)| p.errors.iter().cloned())
        .collect();
    // Without a file's items, or an import's, the rest would report follow-on errors.
    let complete = w.files.iter().all(|(_, p)| p.recovered && !p.lost_import);
    let main_idx = match res {
        Ok(Some(i)) if complete => i,
        Ok(_) => return Err(Error::new(syntax, &w.sources)),
        Err(d) => {
            return Err(Error::new(
                syntax.into_iter().chain(d).collect(),
                &w.sources,
            ));
        }
    };
    let units: Vec<lint::Unit> = w
        .files
        .iter()
        .zip(&w.imports)
        .map(|((_, p), imports)| lint::Unit {
            file: &p.file,
            imports: imports.clone(),
        })
        .collect();
    let mut warnings = lint::warnings(&units, main_idx);
    // Every file but the main one, dependencies first (the order of `files`).
    let imports: Vec<&ast::File> = w
        .files
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != main_idx)
        .map(|(_, (_, p))| &p.file)
        .collect();
    let broken: Vec<String> = w
        .files
        .iter()
        .flat_map(|(_, p)| p.broken.iter().cloned())
        .collect();
    let fail = |mut errors: Vec<Diagnostic>, warnings: Vec<Diagnostic>| {
        errors.extend(warnings);
        Error::new(errors, &w.sources)
    };
    let lowered = ir::lower::lower_recovering(&w.files[main_idx].1.file, &imports, &broken);
    let ir = match lowered {
        Err(d) => {
            // After a syntax error, a missing protocol is the broken one.
            let d = d
                .into_iter()
                .filter(|d| syntax.is_empty() || d.code != Some("E0120"));
            return Err(fail(syntax.iter().cloned().chain(d).collect(), warnings));
        }
        // The checker's rules would see the broken items as missing: not run after a
        // syntax error.
        Ok(_) if !syntax.is_empty() => return Err(fail(syntax, warnings)),
        Ok(ir) => ir,
    };
    if let Err(d) = ir::check::check(&ir) {
        return Err(fail(d, warnings));
    }
    warnings.extend(ir::check::warnings(&ir));
    Ok(Compiled {
        ir,
        sources: w.sources,
        paths: w.paths,
        warnings,
    })
}

/// Depth-first import walk with cycle detection. Returns the file's index in `w.files`
/// (`None` when it could not be read as a whole), or the import's error.
fn visit(
    path: &Path,
    from: Option<Span>,
    text: Option<&str>,
    w: &mut Walk,
) -> Result<Option<usize>, Vec<Diagnostic>> {
    let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if let Some(pos) = w.stack.iter().position(|p| *p == canon) {
        let name = |p: &Path| {
            p.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned())
        };
        let chain: Vec<String> = w.stack[pos..]
            .iter()
            .map(|p| name(p))
            .chain(std::iter::once(name(&canon)))
            .collect();
        let span = from.unwrap_or_default();
        return Err(vec![
            Diagnostic::error(
                span,
                format!("import cycle: {}", chain.join(" → ")),
                "this import closes the cycle",
            )
            .code("E0110")
            .help("move the shared definitions into a file that imports neither"),
        ]);
    }
    if let Some(i) = w.files.iter().position(|(p, _)| *p == canon) {
        return Ok(Some(i));
    }
    let read = match text {
        Some(t) => Ok(t.to_string()),
        None => std::fs::read_to_string(path),
    };
    let text = match read {
        // A byte-order mark is no part of the text: spans and columns start after it.
        Ok(t) => match t.strip_prefix('\u{FEFF}') {
            Some(rest) => rest.to_string(),
            None => t,
        },
        Err(e) => {
            let span = from.unwrap_or_default();
            return Err(vec![
                Diagnostic::error(
                    span,
                    format!("cannot read `{}`: {e}", path.display()),
                    "imported here",
                )
                .code("E0111")
                .help(if w.include.is_empty() {
                    "import paths are relative to the importing file".to_string()
                } else {
                    format!(
                        "import paths are relative to the importing file, then to the include folders ({})",
                        w.include
                            .iter()
                            .map(|d| d.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            ]);
        }
    };
    w.paths.push(path.to_path_buf());
    let file_id = w.sources.add(path.display().to_string(), text.clone());
    let parsed = parse::parse_recovering(file_id, &text);
    w.stack.push(canon.clone());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut imports = Vec::new();
    let mut failed = false;
    for (imp, span) in &parsed.file.imports {
        let next_to = dir.join(imp);
        let found = if next_to.exists() {
            next_to
        } else {
            w.include
                .iter()
                .map(|d| d.join(imp))
                .find(|p| p.exists())
                .unwrap_or(next_to)
        };
        match visit(&found, Some(*span), None, w)? {
            Some(i) => imports.push((i, *span)),
            None => failed = true,
        }
    }
    w.stack.pop();
    let recovered = parsed.recovered;
    w.files.push((canon, parsed));
    w.imports.push(imports);
    Ok((recovered && !failed).then_some(w.files.len() - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_become_one_cargo_warning_line_per_rendered_line() {
        let lines =
            cargo_warnings("warning[W0103]: x\n  --> a.wire:1:8\n\nwarning: 1 warning emitted\n");
        assert_eq!(
            lines,
            "cargo:warning=warning[W0103]: x\ncargo:warning=  --> a.wire:1:8\n\
             cargo:warning=warning: 1 warning emitted\n"
        );
    }
}
