//! Diagnostics: every error points at the user's source and says what would be right.
//!
//! DSL errors render like rustc's (`error: ...`, ` --> file:line:col`, the line, a caret),
//! through `codespan-reporting`, without colour so that tests can compare the text.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::NoColor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A byte range in one source file. The derive macros use `file = MACRO_FILE` and keep their
/// own span table, indexed by `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    /// Index of the file in the [`Sources`].
    pub file: u32,
    /// Start byte.
    pub start: u32,
    /// End byte (exclusive).
    pub end: u32,
}

impl Span {
    /// A span in `file` from `start` to `end`.
    pub fn new(file: u32, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Severity {
    /// The file cannot be compiled.
    #[default]
    Error,
    /// Valid but suspicious; a build may deny warnings.
    Warning,
}

/// One error or warning: a message, a primary span with a label, optional secondary spans,
/// a help text and a code (`E0101`) that `polywire explain` describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The kind's code, e.g. `E0101` (see `polywire explain`).
    pub code: Option<&'static str>,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// The label under the caret.
    pub label: String,
    /// Other places worth showing (e.g. the first definition of a duplicate).
    pub notes: Vec<(Span, String)>,
    /// What would be right.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            message: message.into(),
            span,
            label: label.into(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message, label)
        }
    }

    /// Sets the kind's code (`E0101`).
    #[must_use]
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Adds a help line.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary span.
    #[must_use]
    pub fn note(mut self, span: Span, label: impl Into<String>) -> Self {
        self.notes.push((span, label.into()));
        self
    }
}

/// The source files a compilation has read, so diagnostics can show their text.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<(String, String)>,
}

impl Sources {
    /// Adds a file, returning its index.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> u32 {
        self.files.push((name.into(), text.into()));
        (self.files.len() - 1) as u32
    }

    /// A file's name.
    pub fn name(&self, file: u32) -> &str {
        &self.files[file as usize].0
    }

    /// A file's text.
    pub fn text(&self, file: u32) -> &str {
        &self.files[file as usize].1
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, file: u32, offset: u32) -> (usize, usize) {
        let text = self.text(file);
        let upto = &text[..(offset as usize).min(text.len())];
        let line = upto.matches('\n').count() + 1;
        let col = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// Renders diagnostics as plain text, rustc style.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        let mut files = SimpleFiles::new();
        for (name, text) in &self.files {
            files.add(name.as_str(), text.as_str());
        }
        let config = term::Config {
            chars: term::Chars::ascii(),
            ..term::Config::default()
        };
        let mut out = NoColor::new(Vec::new());
        for d in diags {
            let mut labels = vec![
                Label::primary(
                    d.span.file as usize,
                    d.span.start as usize..d.span.end as usize,
                )
                .with_message(&d.label),
            ];
            for (s, l) in &d.notes {
                labels.push(
                    Label::secondary(s.file as usize, s.start as usize..s.end as usize)
                        .with_message(l),
                );
            }
            let mut cs = match d.severity {
                Severity::Error => CsDiagnostic::error(),
                Severity::Warning => CsDiagnostic::warning(),
            }
            .with_message(&d.message)
            .with_labels(labels);
            if let Some(code) = d.code {
                cs = cs.with_code(code);
            }
            if let Some(h) = &d.help {
                cs = cs.with_notes(vec![format!("help: {h}")]);
            }
            // Writing into a Vec cannot fail; a file index out of range would be a bug in
            // this crate, so fall back to the bare message instead of panicking.
            if term::emit_to_write_style(&mut out, &config, &files, &cs).is_err() {
                out.get_mut()
                    .extend_from_slice(format!("error: {}\n", d.message).as_bytes());
            }
        }
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }
}

/// The error of a failed compilation: rendered diagnostics (all of them, not just the first).
#[derive(Debug, Clone)]
pub struct Error {
    /// The individual diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Their rendering.
    pub rendered: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for Error {}
