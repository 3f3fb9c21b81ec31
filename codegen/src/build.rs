//! The `build.rs` API, in the manner of prost-build / tonic-build.

use crate::diag::{Diagnostic, Error, Sources, Span};
use crate::dsl::{ast, parse};
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
}

/// The result of loading a `.wire` file: its IR and every source read (for diagnostics).
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The checked IR.
    pub ir: Protocol,
    /// Files read, the main file first.
    pub sources: Sources,
    /// Paths read, for `rerun-if-changed`.
    pub paths: Vec<PathBuf>,
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

    /// Generates Rust for each file, writing `<out_dir>/<file stem>.rs`. Returns every
    /// problem found, rendered with file:line:col and carets.
    pub fn compile(&self, files: &[impl AsRef<Path>]) -> Result<(), Error> {
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| plain("OUT_DIR is not set: call from build.rs or set .out_dir()"))?,
        };
        let rerun = self
            .emit_rerun
            .unwrap_or_else(|| std::env::var_os("CARGO").is_some());
        for f in files {
            let f = f.as_ref();
            let compiled = load(f);
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
            let code = crate::generate(&c.ir, &c.sources)?;
            let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("protocol");
            let out = out_dir.join(format!("{stem}.rs"));
            std::fs::write(&out, code)
                .map_err(|e| plain(&format!("cannot write {}: {e}", out.display())))?;
        }
        Ok(())
    }
}

fn plain(msg: &str) -> Error {
    Error {
        diagnostics: vec![],
        rendered: format!("error: {msg}\n"),
    }
}

/// Parses `path` and its imports, lowers and checks them.
pub fn load(path: &Path) -> Result<Compiled, Error> {
    load_inner(path, None)
}

/// Like [`load`], for text held in memory and shown under `name` in diagnostics. Imports
/// are resolved relative to `name`'s directory.
pub fn load_str(name: &str, text: &str) -> Result<Compiled, Error> {
    load_inner(Path::new(name), Some(text))
}

fn load_inner(path: &Path, text: Option<&str>) -> Result<Compiled, Error> {
    let mut sources = Sources::default();
    let mut paths = Vec::new();
    let mut files: Vec<(PathBuf, ast::File)> = Vec::new();
    let mut order = Vec::new();
    let mut stack = Vec::new();
    let res = visit(
        path,
        None,
        text,
        &mut sources,
        &mut paths,
        &mut files,
        &mut order,
        &mut stack,
    );
    let fail = |sources: &Sources, d: Vec<Diagnostic>| Error {
        rendered: sources.render(&d),
        diagnostics: d,
    };
    if let Err(d) = res {
        return Err(fail(&sources, d));
    }
    // `order` lists files dependencies-first; the main file is last.
    let main_idx = *order.last().expect("main file visited");
    let imports: Vec<&ast::File> = order[..order.len() - 1]
        .iter()
        .map(|&i| &files[i].1)
        .collect();
    let ir = ir::lower::lower(&files[main_idx].1, &imports).map_err(|d| fail(&sources, d))?;
    ir::check::check(&ir).map_err(|d| fail(&sources, d))?;
    Ok(Compiled { ir, sources, paths })
}

/// Depth-first import walk with cycle detection.
#[allow(clippy::too_many_arguments)]
fn visit(
    path: &Path,
    from: Option<Span>,
    text: Option<&str>,
    sources: &mut Sources,
    paths: &mut Vec<PathBuf>,
    files: &mut Vec<(PathBuf, ast::File)>,
    order: &mut Vec<usize>,
    stack: &mut Vec<(PathBuf, Span)>,
) -> Result<(), Vec<Diagnostic>> {
    let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if let Some(pos) = stack.iter().position(|(p, _)| *p == canon) {
        let chain: Vec<String> = stack[pos..]
            .iter()
            .map(|(p, _)| {
                p.file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned())
            })
            .chain(std::iter::once(
                canon
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            ))
            .collect();
        let span = from.unwrap_or_default();
        return Err(vec![
            Diagnostic::error(
                span,
                format!("import cycle: {}", chain.join(" → ")),
                "this import closes the cycle",
            )
            .help("move the shared definitions into a file that imports neither"),
        ]);
    }
    if files.iter().any(|(p, _)| *p == canon) {
        return Ok(());
    }
    let read = match text {
        Some(t) => Ok(t.to_string()),
        None => std::fs::read_to_string(path),
    };
    let text = match read {
        Ok(t) => t,
        Err(e) => {
            let span = from.unwrap_or_default();
            return Err(vec![
                Diagnostic::error(
                    span,
                    format!("cannot read `{}`: {e}", path.display()),
                    "imported here",
                )
                .help("import paths are relative to the importing file"),
            ]);
        }
    };
    paths.push(path.to_path_buf());
    let file_id = sources.add(path.display().to_string(), text.clone());
    let parsed = parse::parse(file_id, &text)?;
    stack.push((canon.clone(), from.unwrap_or_default()));
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for (imp, span) in &parsed.imports {
        visit(
            &dir.join(imp),
            Some(*span),
            None,
            sources,
            paths,
            files,
            order,
            stack,
        )?;
    }
    stack.pop();
    files.push((canon, parsed));
    order.push(files.len() - 1);
    Ok(())
}
