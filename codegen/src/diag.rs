//! Diagnostics: every error points at the user's source and says what would be right.
//!
//! DSL errors render like rustc's (`error[E0130]: ...`, ` --> file:line:col`, the line, a
//! caret, a help line, and a closing count such as `error: aborting due to 2 previous
//! errors`), through `codespan-reporting`: as plain text ([`Sources::render`], what tests
//! compare), or coloured for a terminal ([`Sources::render_styled`], [`Error::eprint`]).

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{
    self,
    termcolor::{Color, ColorChoice, ColorSpec, NoColor, StandardStream, WriteColor},
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{IsTerminal, Write};

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
    /// Each file's line starts (byte offsets), made on the first [`Sources::line_col`]:
    /// the emitter asks for the line of every item it writes, and counting the lines from
    /// the start each time made a large file's generation quadratic.
    lines: Vec<std::sync::OnceLock<Vec<u32>>>,
}

impl Sources {
    /// Adds a file, returning its index.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> u32 {
        self.files.push((name.into(), text.into()));
        self.lines.push(std::sync::OnceLock::new());
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
        let starts = self.lines[file as usize].get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i as u32 + 1))
                .collect()
        });
        let offset = (offset as usize).min(text.len());
        // The last line start at or before `offset` (the first is 0, so there is one).
        let line = starts.partition_point(|&s| s as usize <= offset);
        let start = starts[line - 1] as usize;
        let col = text
            .get(start..offset)
            .map_or(offset - start, |l| l.chars().count())
            + 1;
        (line, col)
    }

    /// Writes diagnostics and their closing count to stderr, in colour when stderr is a
    /// terminal (as [`render`](Self::render) otherwise).
    pub fn eprint(&self, diags: &[Diagnostic]) {
        let mut err = StandardStream::stderr(stderr_color_choice());
        self.render_styled(diags, &mut err);
        let _ = err.flush();
    }

    /// Renders diagnostics as plain text, rustc style, followed by the closing count
    /// ([`summary`]) when there is any diagnostic.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        let mut out = NoColor::new(Vec::new());
        self.render_styled(diags, &mut out);
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }

    /// Renders diagnostics and their closing count into `out`, with the colours `out`
    /// takes (none for a [`NoColor`] writer).
    pub fn render_styled(&self, diags: &[Diagnostic], out: &mut dyn WriteColor) {
        let mut files = SimpleFiles::new();
        for (name, text) in &self.files {
            files.add(name.as_str(), text.as_str());
        }
        let config = term::Config {
            chars: term::Chars::ascii(),
            ..term::Config::default()
        };
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
            // A file index out of range would be a bug in this crate: fall back to the bare
            // message instead of panicking. Write errors (a closed stderr) are ignored.
            if term::emit_to_write_style(out, &config, &files, &cs).is_err() {
                let _ = writeln!(out, "error: {}", d.message);
            }
        }
        if let Some((severity, rest)) = summary(diags) {
            let (word, color) = match severity {
                Severity::Error => ("error", Color::Red),
                Severity::Warning => ("warning", Color::Yellow),
            };
            let _ = out.set_color(ColorSpec::new().set_fg(Some(color)).set_bold(true));
            let _ = write!(out, "{word}");
            let _ = out.set_color(ColorSpec::new().set_bold(true));
            let _ = write!(out, ": {rest}");
            let _ = out.reset();
            let _ = writeln!(out);
        }
    }
}

/// The closing count of a rendering, as rustc words it: `aborting due to 2 previous errors;
/// 1 warning emitted` (an error line) or `1 warning emitted` (a warning line). `None` for
/// no diagnostics.
pub fn summary(diags: &[Diagnostic]) -> Option<(Severity, String)> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let warned = format!("{} emitted", plural(warnings, "warning"));
    match (errors, warnings) {
        (0, 0) => None,
        (0, _) => Some((Severity::Warning, warned)),
        (e, 0) => Some((
            Severity::Error,
            format!("aborting due to {}", plural(e, "previous error")),
        )),
        (e, _) => Some((
            Severity::Error,
            format!("aborting due to {}; {warned}", plural(e, "previous error")),
        )),
    }
}

/// Whether stderr shows colours: it is a terminal (and `NO_COLOR` / `TERM=dumb` are left to
/// termcolor's `Auto`).
pub fn stderr_color_choice() -> ColorChoice {
    if std::io::stderr().is_terminal() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    }
}

/// The error of a failed compilation: rendered diagnostics (all of them, not just the
/// first, with the warnings found on the way).
#[derive(Debug, Clone)]
pub struct Error {
    /// The individual diagnostics, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// Their plain-text rendering, with the closing count.
    pub rendered: String,
    /// The files the diagnostics point into, to render them again in colour.
    sources: Option<Sources>,
}

impl Error {
    /// The error of `diagnostics` in `sources`, rendered.
    pub fn new(diagnostics: Vec<Diagnostic>, sources: &Sources) -> Self {
        Error {
            rendered: sources.render(&diagnostics),
            diagnostics,
            sources: Some(sources.clone()),
        }
    }

    /// An error that points at no source (a file that cannot be written, a missing
    /// `OUT_DIR`); `message` is one line without the `error: ` prefix.
    pub fn plain(message: impl fmt::Display) -> Self {
        Error {
            diagnostics: Vec::new(),
            rendered: format!("error: {message}\n"),
            sources: None,
        }
    }

    /// Writes the diagnostics to stderr, in colour when stderr is a terminal.
    pub fn eprint(&self) {
        match &self.sources {
            Some(s) if !self.diagnostics.is_empty() => s.eprint(&self.diagnostics),
            _ => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(self.rendered.as_bytes());
                let _ = err.flush();
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use codespan_reporting::term::termcolor::Buffer;

    fn sample() -> (Sources, Vec<Diagnostic>) {
        let mut s = Sources::default();
        let f = s.add("a.wire", "struct my_header { x: Nope }\n");
        let d = vec![
            Diagnostic::error(Span::new(f, 22, 26), "unknown type `Nope`", "here").code("E0130"),
            Diagnostic::warning(Span::new(f, 7, 16), "not CamelCase", "here").code("W0103"),
        ];
        (s, d)
    }

    /// Lines and columns from the line index are those counted from the start of the file,
    /// at every character boundary of a text with empty lines, CRLF and multibyte text.
    #[test]
    fn line_col_agrees_with_counting_from_the_start() {
        let text = "struct A {\n\n  x: u8 // é\r\n  ünï: u16\n}\nlast";
        let mut s = Sources::default();
        let f = s.add("t.wire", text);
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            let upto = &text[..offset];
            let line = upto.matches('\n').count() + 1;
            let col = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            assert_eq!(s.line_col(f, offset as u32), (line, col), "at {offset}");
        }
        // Past the end: the end.
        assert_eq!(s.line_col(f, 10_000), s.line_col(f, text.len() as u32));
    }

    #[test]
    fn plain_rendering_has_codes_and_the_closing_count() {
        let (s, d) = sample();
        let out = s.render(&d);
        assert!(
            out.starts_with("error[E0130]: unknown type `Nope`\n"),
            "{out}"
        );
        assert!(out.contains("warning[W0103]: not CamelCase"), "{out}");
        assert!(
            out.ends_with("error: aborting due to 1 previous error; 1 warning emitted\n"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "{out}");
        assert_eq!(
            s.render(&d[1..]).lines().last(),
            Some("warning: 1 warning emitted")
        );
        assert_eq!(s.render(&[]), "");
    }

    #[test]
    fn styled_rendering_is_the_plain_one_in_colour() {
        let (s, d) = sample();
        let mut buf = Buffer::ansi();
        s.render_styled(&d, &mut buf);
        let styled = String::from_utf8(buf.into_inner()).unwrap();
        assert!(styled.contains("\u{1b}["), "colour codes: {styled:?}");
        // Without its escape sequences, the styled text is the plain one.
        let mut plain = String::new();
        let mut it = styled.chars();
        while let Some(c) = it.next() {
            if c == '\u{1b}' {
                for c in it.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                plain.push(c);
            }
        }
        assert_eq!(plain, s.render(&d));
    }

    #[test]
    fn summary_words_like_rustc() {
        let (_, d) = sample();
        let two_errors = [d[0].clone(), d[0].clone()];
        assert_eq!(
            summary(&two_errors),
            Some((Severity::Error, "aborting due to 2 previous errors".into()))
        );
        let two_warnings = [d[1].clone(), d[1].clone()];
        assert_eq!(
            summary(&two_warnings),
            Some((Severity::Warning, "2 warnings emitted".into()))
        );
        assert_eq!(summary(&[]), None);
    }
}
