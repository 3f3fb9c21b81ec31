//! `.wire` text → the same file, formatted canonically ([`format_wire`], `polywire fmt`).
//!
//! The IR printer ([`crate::ir::print`]) cannot format a file: it inlines what a file
//! imports and knows nothing of comments. This formatter works on the parse tree instead,
//! so that it keeps everything a reader wrote for readers and changes only the layout.
//!
//! # The canonical form
//!
//! - **Comments** are all kept, in order, with their text as written (trailing spaces
//!   removed; a `/* */` comment keeps its inner lines). A comment that shares a line with
//!   the code before it stays at the end of that line; any other comment gets a line of its
//!   own, indented as the code it precedes. After a `//` comment the code goes on on the
//!   next line.
//! - **Doc comments** (`///`) stay on their own lines before what they document, with one
//!   space after `///` (`///text` becomes `/// text`, which reads the same).
//! - **Indentation** is 4 spaces per open block; lines carry no trailing spaces and the file
//!   ends with one newline. A UTF-8 byte-order mark is dropped.
//! - **Blocks** (`{ .. }` of every item, of bit parts, `by` arms, request bodies, `detect`
//!   and `exchange`) that the source wrote on one line, without comments, stay on one line:
//!   `{ A = 0, B = 1 }`, members separated by `, ` (`; ` in `encoding` and `exchange`
//!   blocks, whose members read as statements and where `,` separates answers), `{}`
//!   when empty. Every other block puts one member per line,
//!   without separators (a `,` is kept only before a member that starts with a word the
//!   member before could take, such as a field named `rest`). A `protocol` block always
//!   takes lines. What is inside a member never spreads over lines, except after a comment.
//! - **Blank lines** the source has between the members of a block (or between comments
//!   and members) are kept, several as one; there are none right after `{` or before `}`.
//!   At the top of the file, consecutive `import`s keep their spacing and every other
//!   item is set off by exactly one blank line.
//! - **Spaces**: one around `=`, `=>`, `->`, comparison and logical operators and the `:`
//!   of an `enum`, `flags`, `tagged` or `responses` representation (`enum E : u8`); none
//!   before the `:` of a field (`name: u8`), around `..`, `..=` and `.`, inside `<>` and
//!   `()`, after `@` and `!`, and before `?`, `,`, `)` and the `*` of `Item*`.
//! - **Imports** are kept as written, in their order; they are not resolved or inlined.
//! - **Numbers and strings** are kept as written. A number's spelling carries meaning:
//!   in `detect`, a hexadecimal number is as many bytes as its digits fill (`0x057` is two
//!   bytes, `0x57` one), and hexadecimal masks or decimal sizes say what a reader should
//!   see; no rewriting of them is lossless in general.
//! - **Lines are not wrapped**: a long member stays on one line.
//!
//! Formatting is idempotent, and the formatted text parses to the same syntax tree as the
//! input (this is checked on every call: a mismatch is an error, never a changed file).

use super::parse::grammar::{Rule, WireParser};
use crate::diag::{Error, Sources};
use pest::Parser as _;
use pest::iterators::Pair;

type P<'a> = Pair<'a, Rule>;

/// Formats a `.wire` file's text canonically (the rules are in the [module docs](self)).
/// `name` is the file's name in diagnostics. Text that does not parse fails with the
/// diagnostics parsing gives (file:line:col, a caret and a help line).
///
/// ```
/// let text = "struct  Point{x:i16;y :i16}\n";
/// let out = polywire_codegen::format_wire("point.wire", text).unwrap();
/// assert_eq!(out, "struct Point { x: i16, y: i16 }\n");
/// ```
pub fn format_wire(name: &str, text: &str) -> Result<String, Error> {
    // As when loading: a byte-order mark is no part of the text.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut sources = Sources::default();
    let id = sources.add(name, text);
    super::parse::parse(id, text).map_err(|d| Error::new(d, &sources))?;
    let internal = |what: &str| {
        Error::plain(format!(
            "{name}: the formatter {what}; the file is left as it is (this is a bug in polywire)"
        ))
    };
    let tree = parse_tree(text).ok_or_else(|| internal("could not read the parse tree"))?;
    let mut f = Fmt::new(text);
    f.file(tree.clone());
    let out = f.finish();
    // The output must say exactly what the input said.
    match parse_tree(&out) {
        Some(again) if shape(tree) == shape(again.clone()) => Ok(out),
        _ => Err(internal("would have changed the file's meaning")),
    }
}

fn parse_tree(text: &str) -> Option<P<'_>> {
    WireParser::parse(Rule::file, text).ok()?.next()
}

/// Every pair of a tree in pre-order, with the text of the leaves: equal for two texts
/// that differ only in layout and comments.
fn shape(root: P<'_>) -> Vec<(Rule, String)> {
    root.into_inner()
        .flatten()
        .map(|p| {
            let text = match p.as_rule() {
                Rule::doc => doc_text(p.as_str()).to_string(),
                _ if is_token(&p) => p.as_str().to_string(),
                _ => String::new(),
            };
            (p.as_rule(), text)
        })
        .collect()
}

/// A doc comment's text as the parser keeps it.
fn doc_text(doc: &str) -> &str {
    let t = doc.trim_start_matches("///");
    t.strip_prefix(' ').unwrap_or(t).trim_end()
}

/// Whether a pair is one token (a name, a number, `rest`, `?`, `..=`): a rule without
/// inner rules, other than an empty block, `()` or `..`, which are read as literals.
fn is_token(p: &P<'_>) -> bool {
    p.clone().into_inner().next().is_none()
        && !is_block(p.as_rule())
        && !matches!(p.as_rule(), Rule::ex_sets | Rule::len_from)
}

/// Rules that hold a `{ .. }` list of members.
fn is_block(r: Rule) -> bool {
    matches!(
        r,
        Rule::protocol
            | Rule::enum_def
            | Rule::flags_def
            | Rule::struct_def
            | Rule::union_def
            | Rule::tagged_def
            | Rule::header_def
            | Rule::encoding_def
            | Rule::limits_decl
            | Rule::frame
            | Rule::bits_block
            | Rule::by_clause
            | Rule::handshake
            | Rule::service
            | Rule::rpc_body
            | Rule::responses
            | Rule::detect_alt
            | Rule::exchange
    )
}

/// Words that a member of a `rule` block would take from the member after it, were the
/// separator between them dropped: a field ends with an optional `rest`, a request part
/// with `in carrier` and `as encoding`, a union member with `from client`, an encoding's
/// flag could be the start of `a as b`.
fn taken_by_previous(rule: Rule, word: &str) -> bool {
    let words: &[&str] = match rule {
        Rule::struct_def | Rule::header_def | Rule::frame => &["rest"],
        Rule::rpc_body => &["in", "as"],
        Rule::union_def => &["from"],
        Rule::encoding_def => &["as"],
        _ => &[],
    };
    words.contains(&word)
}

/// How a block lays out its members.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `{ a, b }`.
    Inline,
    /// One member per line.
    Lines,
}

/// What the walk knows about the rule whose gaps it reads.
struct Frame {
    rule: Rule,
    /// Where the rule's text ends (its `}` is just before, for a block).
    end: usize,
    /// Set at the block's `{`.
    layout: Option<Layout>,
    /// Members of the block written so far.
    members: usize,
    /// The first word of the member that comes next, when it starts with a word.
    next_word: Option<String>,
}

struct Fmt<'a> {
    src: &'a str,
    out: String,
    depth: usize,
    /// Where in `src` the last token or comment written ends.
    last_end: usize,
    /// The next token starts a line.
    want_line: bool,
    /// No space before the next token.
    glue_next: bool,
    /// A blank line before the next line, whatever the source has.
    force_blank: bool,
    /// No blank line before the next line (just after `{`, just before `}`).
    no_blank: bool,
}

impl<'a> Fmt<'a> {
    fn new(src: &'a str) -> Self {
        Fmt {
            src,
            out: String::new(),
            depth: 0,
            last_end: 0,
            want_line: false,
            glue_next: false,
            force_blank: false,
            no_blank: false,
        }
    }

    fn finish(mut self) -> String {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out
    }

    /// Ends the current line and indents a new one for what starts at `at` in the source.
    fn start_line(&mut self, at: usize) {
        if !self.out.is_empty() {
            let gap = &self.src[self.last_end.min(at)..at];
            let blank = self.force_blank || (!self.no_blank && gap.matches('\n').count() >= 2);
            self.out.push('\n');
            if blank {
                self.out.push('\n');
            }
            for _ in 0..self.depth {
                self.out.push_str("    ");
            }
        }
        self.force_blank = false;
        self.no_blank = false;
        self.want_line = false;
    }

    /// Writes a token found at `at..end` in the source; `glue`: no space before it.
    fn token(&mut self, text: &str, at: usize, end: usize, glue: bool) {
        if self.want_line || self.out.is_empty() {
            self.start_line(at);
        } else if !glue && !self.glue_next {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.last_end = end;
        self.glue_next = false;
    }

    fn comment(&mut self, text: &str, at: usize, end: usize) {
        let trailing = !self.out.is_empty() && !self.src[self.last_end.min(at)..at].contains('\n');
        if trailing {
            if !self.glue_next {
                self.out.push(' ');
            }
        } else {
            self.start_line(at);
        }
        self.out.push_str(&text.replace("\r\n", "\n"));
        self.last_end = end;
        self.glue_next = false;
        // After a line comment, or a comment on a line of its own, the code goes on below.
        self.want_line |= text.starts_with("//") || !trailing;
    }

    /// The whole file: imports and items, set off by blank lines.
    fn file(&mut self, root: P<'_>) {
        let mut frame = Frame {
            rule: Rule::file,
            end: root.as_span().end(),
            layout: None,
            members: 0,
            next_word: None,
        };
        let mut pos = root.as_span().start();
        let mut prev: Option<Rule> = None;
        for child in root.into_inner() {
            let start = child.as_span().start();
            if child.as_rule() == Rule::EOI {
                self.gap(pos, start, &mut frame);
                pos = start;
                break;
            }
            // Set before the gap: the blank line goes above the item's leading comments.
            if let Some(prev) = prev {
                self.force_blank = !(prev == Rule::import && child.as_rule() == Rule::import);
            }
            self.gap(pos, start, &mut frame);
            self.want_line = true;
            prev = Some(child.as_rule());
            pos = child.as_span().end();
            self.pair(child);
        }
        self.gap(pos, self.src.len(), &mut frame);
    }

    /// A rule: its tokens and the literals and comments between them.
    fn pair(&mut self, p: P<'_>) {
        let rule = p.as_rule();
        let span = p.as_span();
        if rule == Rule::string_lit || is_token(&p) {
            // Literals of a leaf rule (`rest`, `?`, `..=`) are its whole text.
            let text = span.as_str().trim_end();
            match rule {
                Rule::doc => {
                    let t = text.trim_start_matches("///");
                    let sep = if t.is_empty() || t.starts_with(' ') {
                        ""
                    } else {
                        " "
                    };
                    self.want_line = true;
                    self.token(&format!("///{sep}{t}"), span.start(), span.end(), false);
                    self.want_line = true;
                }
                Rule::optional => self.token(text, span.start(), span.end(), true),
                Rule::range_op => {
                    self.token(text, span.start(), span.end(), true);
                    self.glue_next = true;
                }
                _ => self.token(text, span.start(), span.end(), false),
            }
            return;
        }
        let mut frame = Frame {
            rule,
            end: span.end(),
            layout: None,
            members: 0,
            next_word: None,
        };
        let mut pos = span.start();
        for child in p.into_inner() {
            frame.next_word = first_word(&child);
            self.gap(pos, child.as_span().start(), &mut frame);
            // Children after the block's `{` are its members.
            match frame.layout {
                Some(Layout::Inline) if frame.members > 0 => {
                    let sep = match rule {
                        Rule::exchange | Rule::encoding_def => ";",
                        _ => ",",
                    };
                    self.token(sep, self.last_end, self.last_end, true);
                }
                Some(Layout::Lines) => self.want_line = true,
                _ => {}
            }
            if frame.layout.is_some() {
                frame.members += 1;
            }
            pos = child.as_span().end();
            self.pair(child);
        }
        frame.next_word = None;
        self.gap(pos, span.end(), &mut frame);
    }

    /// The source between two tokens: whitespace, comments and the rule's literals.
    fn gap(&mut self, from: usize, to: usize, frame: &mut Frame) {
        let mut i = from;
        while i < to {
            let rest = &self.src[i..to];
            let c = rest.chars().next().unwrap_or(' ');
            if c.is_whitespace() || c == '\u{FEFF}' {
                i += c.len_utf8();
            } else if rest.starts_with("//") {
                let len = rest.find('\n').unwrap_or(rest.len());
                self.comment(rest[..len].trim_end(), i, i + len);
                i += len;
            } else if let Some(body) = rest.strip_prefix("/*") {
                let len = body.find("*/").map_or(rest.len(), |n| n + 4);
                self.comment(&rest[..len], i, i + len);
                i += len;
            } else {
                let len = if c.is_ascii_alphabetic() || c == '_' {
                    rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len())
                } else {
                    ["..=", "..", "=>", "->"]
                        .iter()
                        .find(|op| rest.starts_with(**op))
                        .map_or(c.len_utf8(), |op| op.len())
                };
                self.literal(&rest[..len], i, frame);
                i += len;
            }
        }
    }

    /// A keyword or punctuation of `frame`'s rule, found at `at`.
    fn literal(&mut self, text: &str, at: usize, frame: &mut Frame) {
        let end = at + text.len();
        let rule = frame.rule;
        match text {
            "{" if is_block(rule) => {
                let layout = if rule != Rule::protocol && inline_in_source(self.src, at, frame.end)
                {
                    Layout::Inline
                } else {
                    Layout::Lines
                };
                frame.layout = Some(layout);
                self.token("{", at, end, false);
                if layout == Layout::Lines {
                    self.depth += 1;
                    self.want_line = true;
                    self.no_blank = true;
                } else if self.src[end..frame.end.saturating_sub(1)].trim().is_empty() {
                    // `{}`
                    self.glue_next = true;
                }
            }
            "}" if is_block(rule) => match frame.layout {
                Some(Layout::Lines) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.want_line = true;
                    self.no_blank = true;
                    self.token("}", at, end, false);
                }
                _ => self.token("}", at, end, frame.members == 0),
            },
            "," | ";" if is_block(rule) || has_trailing_sep(rule) => {
                // Separators are the layout's: written between inline members, dropped
                // between lines unless the next member could be read as part of this one.
                let keep = frame.layout == Some(Layout::Lines)
                    && frame
                        .next_word
                        .as_deref()
                        .is_some_and(|w| taken_by_previous(rule, w));
                if keep {
                    self.token(",", at, end, true);
                }
            }
            "(" => {
                let spaced = matches!(rule, Rule::cond_cmp | Rule::cond_not);
                self.token(text, at, end, !spaced);
                self.glue_next = true;
            }
            ")" | ">" | "," | "?" => self.token(text, at, end, true),
            "<" | "." | ".." => {
                self.token(text, at, end, true);
                self.glue_next = true;
            }
            "@" | "!" => {
                self.token(text, at, end, false);
                self.glue_next = true;
            }
            ":" => {
                let spaced = matches!(
                    rule,
                    Rule::enum_def | Rule::flags_def | Rule::tagged_def | Rule::responses
                );
                self.token(text, at, end, !spaced);
            }
            "*" => self.token(text, at, end, rule == Rule::ex_series),
            _ => self.token(text, at, end, false),
        }
    }
}

/// Rules that end with an optional `,` or `;` of their own.
fn has_trailing_sep(r: Rule) -> bool {
    matches!(
        r,
        Rule::import | Rule::endian_decl | Rule::versions_decl | Rule::frame_use
    )
}

/// The first word of a member (its name or keyword), unless it starts with a doc comment
/// or something else.
fn first_word(p: &P<'_>) -> Option<String> {
    let text = p.as_str();
    if text.starts_with("///") {
        return None;
    }
    let len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (len > 0).then(|| text[..len].to_string())
}

/// Whether the block from the `{` at `open` to the `}` just before `end` is written on one
/// line of the source, or is empty, without comments.
fn inline_in_source(src: &str, open: usize, end: usize) -> bool {
    let close = end.saturating_sub(1).max(open + 1);
    let inside = src.get(open + 1..close).unwrap_or("");
    // Outside strings and character literals, a `/` can only start a comment.
    let mut chars = inside.chars();
    while let Some(c) = chars.next() {
        match c {
            '/' => return false,
            '"' | '\'' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    !inside.contains('\n') || inside.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        format_wire("t.wire", text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn one_line_blocks_stay_on_one_line_and_others_take_one_member_per_line() {
        assert_eq!(fmt("enum  E:u8{A=0;B=1}"), "enum E : u8 { A = 0, B = 1 }\n");
        assert_eq!(
            fmt("struct S {\n  a :u8, b:u16\n\n\n  c: u8,\n}"),
            "struct S {\n    a: u8\n    b: u16\n\n    c: u8\n}\n"
        );
        assert_eq!(fmt("struct S {\n}"), "struct S {}\n");
    }

    #[test]
    fn a_separator_stays_before_a_member_the_one_before_could_take() {
        assert_eq!(
            fmt("struct S {\n a: u8, rest: u8\n}"),
            "struct S {\n    a: u8,\n    rest: u8\n}\n"
        );
        // Without it, `rest` would end the field before.
        assert!(super::super::parse::parse(0, "struct S {\n a: u8\n rest: u8\n}").is_err());
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_dropped() {
        let src = "\u{FEFF}// c\r\nstruct S {\r\n    /// d\r\n    a: u8 /* x\r\n y */\r\n}\r\n";
        let out = fmt(src);
        assert_eq!(
            out,
            "// c\nstruct S {\n    /// d\n    a: u8 /* x\n y */\n}\n"
        );
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn comments_keep_their_place() {
        let src = "// head\nstruct S { // opens\n    a: u8 /* mid */ @x // tail\n    // own\n\n    b: u8\n    // last\n}\n";
        assert_eq!(
            fmt(src),
            "// head\nstruct S { // opens\n    a: u8 /* mid */ @x // tail\n    // own\n\n    b: u8\n    // last\n}\n"
        );
    }

    #[test]
    fn a_string_or_character_holding_a_slash_does_not_split_a_block() {
        let src = "protocol p {\n    detect { prefix \"//\" at 0 }\n}\n";
        assert_eq!(fmt(src), src);
    }

    #[test]
    fn syntax_errors_are_the_parser_s() {
        let e = format_wire("bad.wire", "struct S { a u8 }").unwrap_err();
        assert!(e.rendered.contains("bad.wire:1:14"), "{}", e.rendered);
        assert!(e.rendered.contains("error[E0101]"), "{}", e.rendered);
    }
}
