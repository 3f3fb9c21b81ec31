//! `.wire` text → [`ast::File`](super::ast::File): the pest parser plus a pass that turns pairs
//! into the syntax tree, keeping spans.
//!
//! Strings and block comments left open, and unbalanced braces, are found first, so that
//! they are reported where they open rather than where parsing gave up. After a syntax
//! error the parser goes on: the item holding the error is blanked out (its name kept, see
//! [`Parsed::broken`]) and the rest parsed again, so that one run reports the errors of
//! every item.

use super::ast::*;
use crate::diag::{Diagnostic, Span};
use pest::Parser as _;
use pest::iterators::Pair;

/// The pest parser, for the formatter (`super::fmt`), which walks its pairs.
pub(super) mod grammar {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "dsl/wire.pest"]
    pub struct WireParser;
}
use grammar::{Rule, WireParser};

type P<'a> = Pair<'a, Rule>;

/// A parsed file with what went wrong in it: the syntax errors, and the names of the items
/// that failed to parse (so that later passes do not report them as unknown).
#[derive(Debug, Default)]
pub struct Parsed {
    /// The items that parsed; the broken ones are left out.
    pub file: File,
    /// Syntax and lexical errors, in the order of the text.
    pub errors: Vec<Diagnostic>,
    /// Names of the items (types) whose definition failed to parse.
    pub broken: Vec<String>,
    /// Whether the items left were found at all: false when the text could not be split
    /// into items (an unterminated block, string or comment) or the parser gave up (too
    /// many errors, or one outside any item), so `file` holds nothing.
    pub recovered: bool,
    /// Whether a broken item was an `import`: what it would have brought is unknown.
    pub lost_import: bool,
}

/// Parses one file's text; `file` is its index in the [`crate::diag::Sources`]. Fails with
/// every syntax error found (see [`parse_recovering`]).
pub fn parse(file: u32, text: &str) -> Result<File, Vec<Diagnostic>> {
    let p = parse_recovering(file, text);
    if p.errors.is_empty() {
        Ok(p.file)
    } else {
        Err(p.errors)
    }
}

/// Parses a condition as written after `if` in a `.wire` field (`qos > 0`,
/// `@version >= 5 && @more`), with the grammar's own `cond` rule: the Rust-items front end
/// reads `#[wire(if = "..")]` with it. Space around the text is allowed; spans are offsets
/// into `text`, in file 0.
pub fn parse_cond(text: &str) -> Result<crate::ir::Cond, Box<Diagnostic>> {
    let p = parse_fragment(text, Rule::cond_text, "the condition")?;
    Ok(Cx::fragment().cond(p))
}

/// Parses the body of an `exchange { .. }` block (doc comments first, then the items,
/// separated by space, newlines or `;`), with the grammar's own rules: the Rust-items
/// front end reads `#[polywire::protocol(exchange = "..")]` with it, and the `.wire`
/// parser builds the block with the same code. Spans are as in [`parse_cond`].
pub fn parse_exchange(text: &str) -> Result<Exchange, Box<Diagnostic>> {
    let mut pairs = WireParser::parse(Rule::exchange_text, text).map_err(|_| {
        pest::set_error_detail(true);
        let e = WireParser::parse(Rule::exchange_text, text).expect_err("parsing is deterministic");
        let mut d = syntax_error(0, text, e);
        d.message = d.message.replace("end of file", "the end of the exchange");
        Box::new(d)
    })?;
    let whole = pairs.next().expect("pest returns the rule");
    let span = Span::new(0, 0, text.len());
    Ok(Cx::fragment().exchange_items(whole, span))
}

/// Parses a type as written in a `.wire` file (`u16`, `varint<max = 268435455>`,
/// `string<u16>`), with the grammar's `type_expr` rule: the Rust-items front end reads
/// prefixes such as `#[wire(sized_by = "varint<max = 268435455>")]` with it. Spans are as
/// in [`parse_cond`].
pub fn parse_type(text: &str) -> Result<TypeExpr, Box<Diagnostic>> {
    let p = parse_fragment(text, Rule::type_text, "the type")?;
    Ok(Cx::fragment().type_expr(p))
}

/// Parses all of `text` as `rule` (`SOI ~ inner ~ EOI`), returning the inner pair.
fn parse_fragment<'a>(text: &'a str, rule: Rule, what: &str) -> Result<P<'a>, Box<Diagnostic>> {
    let mut pairs = WireParser::parse(rule, text).map_err(|_| {
        pest::set_error_detail(true);
        let e = WireParser::parse(rule, text).expect_err("parsing is deterministic");
        let mut d = syntax_error(0, text, e);
        d.message = d
            .message
            .replace("end of file", &format!("the end of {what}"));
        Box::new(d)
    })?;
    let whole = pairs.next().expect("pest returns the rule");
    Ok(whole
        .into_inner()
        .next()
        .expect("the rule holds its inner rule"))
}

/// How many broken items one file may report before the parser stops looking.
const MAX_SYNTAX_ERRORS: usize = 32;

/// Parses one file's text, going on after a syntax error: the item holding the error (the
/// definition or declaration it is in) is blanked out, its name remembered, and the rest
/// parsed again, so that the other items are still checked. A UTF-8 byte-order mark at the
/// start is skipped (as whitespace, so spans keep their offsets).
pub fn parse_recovering(file: u32, text: &str) -> Parsed {
    if let Err(errors) = check_tokens(file, text) {
        return Parsed {
            errors,
            ..Parsed::default()
        };
    }
    let mut work = std::borrow::Cow::Borrowed(text);
    let mut out = Parsed {
        recovered: true,
        ..Parsed::default()
    };
    loop {
        let mut pairs = match WireParser::parse(Rule::file, &work) {
            Ok(p) => p,
            Err(_) => {
                // Parse again with pest's detailed tracking, which records the literal tokens
                // (`:`, `}`, keywords) expected at the furthest point; it is only paid for on
                // failure. The flag is global and only adds detail, so it is left on.
                pest::set_error_detail(true);
                let e = WireParser::parse(Rule::file, &work).expect_err("parsing is deterministic");
                let d = syntax_error(file, &work, e);
                let at = d.span.start as usize;
                out.errors.push(d);
                match broken_item(&work, at) {
                    Some((range, name, kw)) if out.errors.len() < MAX_SYNTAX_ERRORS => {
                        out.broken.extend(name);
                        out.lost_import |= kw == "import";
                        work = std::borrow::Cow::Owned(blank(&work, range));
                        continue;
                    }
                    _ => {
                        out.recovered = false;
                        out.errors.sort_by_key(|d| d.span.start);
                        return out;
                    }
                }
            }
        };
        let root = pairs.next().expect("pest returns the file rule");
        let cx = Cx {
            file,
            errors: Default::default(),
        };
        for p in root.into_inner() {
            match p.as_rule() {
                Rule::import => {
                    let s = p.into_inner().next().expect("import has a path");
                    let span = cx.span(&s);
                    out.file
                        .imports
                        .push((unescape(s.into_inner().as_str()), span));
                }
                Rule::protocol => {
                    let proto = cx.protocol(p);
                    if let Some(prev) = &out.file.protocol {
                        cx.err(
                            Diagnostic::error(
                                proto.name.span,
                                "a file holds at most one protocol",
                                "second protocol",
                            )
                            .code("E0104")
                            .note(prev.name.span, "first protocol")
                            .help("move the second protocol into a file of its own"),
                        );
                    } else {
                        out.file.protocol = Some(proto);
                    }
                }
                Rule::EOI => {}
                _ => out.file.items.push(cx.item(p)),
            }
        }
        out.errors.extend(cx.errors.into_inner());
        out.errors.sort_by_key(|d| d.span.start);
        return out;
    }
}

/// `text` with the bytes in `range` turned into spaces (line breaks kept, so that lines and
/// offsets stay where they were).
fn blank(text: &str, range: std::ops::Range<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..range.start]);
    for c in text[range.clone()].chars() {
        if c == '\n' {
            out.push('\n');
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out.push_str(&text[range.end..]);
    out
}

/// The item (top-level or protocol-level definition or declaration) that holds byte `at`,
/// as a byte range from its doc comments to the start of the next item, and the name it
/// defines, if any, and its first word. `None` when there is nothing left to take out.
fn broken_item(text: &str, at: usize) -> Option<(std::ops::Range<usize>, Option<String>, String)> {
    let at = at.min(text.len());
    let lines = line_starts(text);
    let depth = depths(text);
    let line_end = |l: usize| lines.get(l + 1).copied().unwrap_or(text.len());
    let head = |l: usize| text[lines[l]..line_end(l)].trim_start();
    let word = |s: &str| -> String {
        s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("")
            .to_string()
    };
    // A line that starts an item at brace depth `level`: it begins there with a word.
    let starts_item = |l: usize, level: usize| {
        depth[lines[l]] == level && head(l).starts_with(|c: char| c.is_alphabetic() || c == '_')
    };
    let is_doc = |l: usize, level: usize| depth[lines[l]] == level && head(l).starts_with("///");
    let at_line = lines.partition_point(|&l| l <= at) - 1;
    // Items are at depth 0, or at depth 1 inside the protocol block.
    let top = (0..=at_line).rev().find(|&l| starts_item(l, 0));
    let level = usize::from(top.is_some_and(|l| word(head(l)) == "protocol") && depth[at] >= 1);
    let first = (0..=at_line).rev().find(|&l| starts_item(l, level))?;
    let mut from = first;
    while from > 0 && is_doc(from - 1, level) {
        from -= 1;
    }
    let mut end = (at_line + 1..lines.len())
        .find(|&l| starts_item(l, level) || is_doc(l, level))
        .map_or(text.len(), |l| lines[l]);
    if level > 0 {
        // The item also ends where the protocol block closes.
        if let Some(close) = (at..end).find(|&i| text.as_bytes()[i] == b'}' && depth[i] == level) {
            end = close;
        }
    }
    let range = lines[from]..end.max(at);
    if text[range.clone()].trim().is_empty() {
        return None;
    }
    let kw = word(head(first));
    let name = word(head(first)[kw.len()..].trim_start());
    let name = match kw.as_str() {
        "import" | "endian" | "versions" | "limits" | "handshake" | "service" | "detect"
        | "exchange" | "encoding" | "protocol" => None,
        "frame" if name.is_empty() => Some("Frame".to_string()),
        _ if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) => None,
        _ => Some(name),
    };
    Some((range, name, kw))
}

/// The byte offsets where lines start.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The brace depth before each byte of `text` (comments and strings skipped; the text is
/// known to be balanced).
fn depths(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = vec![0; b.len() + 1];
    let mut d = 0usize;
    let mut i = 0;
    while i < b.len() {
        let skip = lexeme_len(b, i);
        for o in &mut out[i..i + skip] {
            *o = d;
        }
        match b[i] {
            b'{' if skip == 1 => d += 1,
            b'}' if skip == 1 => d = d.saturating_sub(1),
            _ => {}
        }
        i += skip;
    }
    out[b.len()] = d;
    out
}

/// The length of the comment or string starting at `i` (to its end, or to the end of the
/// line or text where it is left open), else 1.
fn lexeme_len(b: &[u8], i: usize) -> usize {
    let at = |j: usize, pat: &[u8]| b[j..].starts_with(pat);
    let mut j = i;
    if at(i, b"//") {
        while j < b.len() && b[j] != b'\n' {
            j += 1;
        }
    } else if at(i, b"/*") {
        j += 2;
        while j < b.len() && !at(j, b"*/") {
            j += 1;
        }
        j = (j + 2).min(b.len());
    } else if b[i] == b'"' {
        j += 1;
        while j < b.len() && b[j] != b'"' && b[j] != b'\n' {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        j = (j + 1).min(b.len());
    } else {
        j += 1;
    }
    j - i
}

/// Finds what makes the text impossible to split into items: strings and block comments
/// left open (reported where they open), then unbalanced braces.
fn check_tokens(file: u32, text: &str) -> Result<(), Vec<Diagnostic>> {
    let b = text.as_bytes();
    let mut errs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let len = lexeme_len(b, i);
        let lexeme = &b[i..i + len];
        if lexeme.starts_with(b"/*") && !(lexeme.len() >= 4 && lexeme.ends_with(b"*/")) {
            errs.push(
                Diagnostic::error(
                    Span::new(file, i, i + 2),
                    "unterminated block comment",
                    "this comment is never closed",
                )
                .code("E0106")
                .help("close it with `*/`"),
            );
        } else if lexeme.starts_with(b"\"") && !closes_string(lexeme) {
            errs.push(
                Diagnostic::error(
                    Span::new(file, i, i + 1),
                    "unterminated string",
                    "this string is never closed",
                )
                .code("E0105")
                .help("add the closing `\"` on the same line: strings do not span lines"),
            );
        }
        i += len;
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    check_braces(file, text)
}

/// Whether a string lexeme (from its opening `"`) ends with its own closing `"`.
fn closes_string(lexeme: &[u8]) -> bool {
    let mut j = 1;
    while j < lexeme.len() {
        match lexeme[j] {
            b'\\' => j += 2,
            b'"' => return j == lexeme.len() - 1,
            _ => j += 1,
        }
    }
    false
}

/// Reports a `{` without its `}` (or a stray `}`), skipping comments and strings.
fn check_braces(file: u32, text: &str) -> Result<(), Vec<Diagnostic>> {
    let b = text.as_bytes();
    let mut stack = Vec::new();
    let mut suspect = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' => stack.push(i),
            b'}' => {
                let Some(open) = stack.pop() else {
                    return Err(vec![
                        Diagnostic::error(
                            Span::new(file, i, i + 1),
                            "unexpected `}`",
                            "no block is open here",
                        )
                        .code("E0103")
                        .help("remove it, or open the block it was meant to close"),
                    ]);
                };
                // A `}` on a line of its own, indented less than the line that opened
                // its block, most likely closes an outer block: the inner one is the
                // one left open.
                let (line_start, indent) = indent_at(text, i);
                if suspect.is_none()
                    && text[line_start..i].trim().is_empty()
                    && indent < indent_at(text, open).1
                {
                    suspect = Some(open);
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(open) = stack.pop().map(|innermost| suspect.unwrap_or(innermost)) {
        return Err(vec![
            Diagnostic::error(
                Span::new(file, open, open + 1),
                "unterminated block",
                "this `{` is never closed",
            )
            .code("E0102")
            .help("add the matching `}` at the end of the block"),
        ]);
    }
    Ok(())
}

/// The length of `s` up to the end of its last token, leaving out trailing whitespace
/// and comments.
fn content_len(s: &str) -> usize {
    let b = s.as_bytes();
    let at = |i: usize, pat: &[u8]| b[i..].starts_with(pat);
    let (mut i, mut last) = (0, 0);
    while i < b.len() {
        if at(i, b"//") && !at(i, b"///") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if at(i, b"/*") {
            i += 2;
            while i < b.len() && !at(i, b"*/") {
                i += 1;
            }
            i = (i + 2).min(b.len());
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            last = i;
        } else {
            if !b[i].is_ascii_whitespace() {
                last = i + 1;
            }
            i += 1;
        }
    }
    last
}

/// How many bytes of whitespace and (non-doc) comments `s` starts with.
fn skip_trivia(s: &str) -> usize {
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if rest.starts_with("//") && !rest.starts_with("///") {
            rest = rest.find('\n').map_or("", |n| &rest[n..]);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map_or("", |n| &r[n + 2..]);
        } else {
            return s.len() - rest.len();
        }
    }
}

/// The start of the line holding byte `at`, and that line's indentation in characters.
fn indent_at(text: &str, at: usize) -> (usize, usize) {
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let indent = text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .count();
    (start, indent)
}

fn syntax_error(file: u32, text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (mut start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    let mut expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => describe_rules(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let mut keywords = Vec::new();
    let mut form = None;
    // The detailed attempts know the literal tokens (`:`, `=`, `}`, keywords) and the
    // furthest position reached; the plain error only knows rules.
    if let Some(attempts) = e.parse_attempts() {
        let pos = attempts.max_position.min(text.len());
        let rules: Vec<Rule> = attempts
            .call_stacks()
            .iter()
            .filter_map(|s| s.deepest.get_rule().copied())
            .collect();
        // Literal tokens print as themselves; character ranges (`a..z`) and built-ins
        // belong to names and numbers, which `rules` describes.
        let tokens: Vec<String> = attempts
            .expected_tokens()
            .iter()
            .map(ToString::to_string)
            .filter(|t| {
                let c: Vec<char> = t.chars().collect();
                t != "BUILTIN_RULE" && !(c.len() == 4 && c[1] == '.' && c[2] == '.')
            })
            .collect();
        if let Some((list, kw)) = describe_attempts(text, pos, &rules, &tokens) {
            start = pos;
            expected = list;
            keywords = kw;
            form = rules.iter().find_map(|r| written_as(*r));
        }
    }
    // Widen the span to the token found there, so the caret underlines it.
    let first_len = text[start..].chars().next().map_or(0, char::len_utf8);
    let tok_end = text[start..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(text.len(), |n| start + n)
        .max(end.min(text.len()))
        .max(start + first_len);
    let found = text[start..tok_end].trim();
    let found_desc = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };
    let message = format!("syntax error: expected {expected}, found {found_desc}");
    // A missing `:` or `=` at the end of a line belongs after the line's last token, as
    // rustc shows it; what follows on the next line is only where parsing noticed.
    let prev_end = content_len(&text[..start]);
    let d = if matches!(expected.as_str(), "`:`" | "`=`" | "`=>`")
        && prev_end > 0
        && text[prev_end..start].contains('\n')
    {
        let last = text[..prev_end]
            .chars()
            .next_back()
            .map_or(1, char::len_utf8);
        Diagnostic::error(
            Span::new(file, prev_end - last, prev_end),
            message,
            format!("expected {expected} after this"),
        )
        .note(Span::new(file, start, tok_end), "unexpected here")
    } else {
        Diagnostic::error(Span::new(file, start, tok_end), message, "unexpected here")
    }
    .code("E0101");
    let is_word = found.chars().all(|c| c.is_alphanumeric() || c == '_');
    match crate::util::closest(found, keywords.into_iter()) {
        Some(k) if is_word && !found.is_empty() => d.help(format!("did you mean `{k}`?")),
        _ => match form {
            Some(f) => d.help(f),
            None => d,
        },
    }
}

/// How a construct is written, for the help of a syntax error inside it.
fn written_as(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::field => "a field is written `name: type`, e.g. `id: u32` or `body: bytes rest`",
        Rule::bit_part => "a bit part is written `name: type bits a..b`, e.g. `kind: u8 bits 0..4`",
        Rule::variant => "a value is written `NAME = number`, e.g. `OK = 0`",
        Rule::flag_bit => "a flag is written `NAME = bit n`, e.g. `RESPONSE = bit 0`",
        Rule::enum_def => "an enum is written `enum Name : u8 { A = 0, B = 1 }`",
        Rule::flags_def => "flags are written `flags Name : u8 { A = bit 0 }`",
        Rule::struct_def => "a struct is written `struct Name { field: type ... }`",
        Rule::responses => "responses are written `responses Name : u16 { OK = 0 @success }`",
        Rule::rpc => {
            "a request is written `request Name = code { body T } -> { body T }` \
             (or `oneway Name = code { ... }`)"
        }
        Rule::by_arm => "an arm is written `value => encoding`, e.g. `0 => binary`",
        Rule::limit => "a limit is written `name = value`, e.g. `max_frame_len = 65536`",
        Rule::generic_args => {
            "type arguments are written `<T, ...>`, e.g. `string<u16, max = 255>`"
        }
        _ => return None,
    })
}

/// What pest's detailed attempts say was expected, in words, and the keywords among it
/// (for a "did you mean"). `None` when nothing useful was recorded.
fn describe_attempts(
    text: &str,
    pos: usize,
    rules: &[Rule],
    tokens: &[String],
) -> Option<(String, Vec<String>)> {
    // A name or number could go on at `pos` when one ends right before it: that is not
    // what the user is missing.
    let continues = text[..pos]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    let lexical: Vec<Rule> = rules
        .iter()
        .copied()
        .filter(|r| {
            matches!(
                r,
                Rule::ident | Rule::case_word | Rule::int_lit | Rule::string_lit
            ) && !continues
        })
        .collect();
    // Whitespace and comments may go anywhere; the characters inside names, numbers and
    // strings are described by their rule.
    let tokens: Vec<&String> = tokens
        .iter()
        .filter(|t| {
            !matches!(
                t.as_str(),
                " " | "\t" | "\n" | "\r" | "//" | "/*" | "_" | "-" | "0x" | "0b" | "\""
            )
        })
        .collect();
    let has = |t: &str| tokens.iter().any(|x| *x == t);
    // `,` and `;` together are the optional separator between entries: never what is missing.
    let optional_sep = has(",") && has(";");
    let mut words: Vec<String> = lexical
        .iter()
        .map(|r| describe_rules(std::slice::from_ref(r)))
        .collect();
    let mut keywords = Vec::new();
    for t in &tokens {
        match t.as_str() {
            "," | ";" if optional_sep => {}
            "///" => {}
            "len" => words.push("`len(..)`".into()),
            _ => {
                if t.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
                    keywords.push(t.to_string());
                }
                words.push(format!("`{t}`"));
            }
        }
    }
    if words.is_empty() && has("///") {
        words.push("a doc comment".into());
    }
    let mut seen = Vec::new();
    words.retain(|w| {
        let fresh = !seen.contains(w);
        seen.push(w.clone());
        fresh
    });
    Some(match words.len() {
        0 => return None,
        1 => (words.remove(0), keywords),
        n => (
            format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
            keywords,
        ),
    })
}

fn describe_rules(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules
        .iter()
        .map(|r| match r {
            Rule::ident => "a name",
            Rule::case_word => "a case (`camelCase`, `kebab-case`...)",
            Rule::int_lit => "an integer",
            Rule::string_lit => "a string",
            Rule::type_expr => "a type",
            Rule::field => "a field",
            Rule::doc => "a doc comment",
            Rule::protocol => "`protocol`",
            Rule::import => "`import`",
            Rule::enum_def => "`enum`",
            Rule::flags_def => "`flags`",
            Rule::struct_def => "`struct`",
            Rule::encoding_def => "`encoding`",
            Rule::frame => "`frame`",
            Rule::handshake => "`handshake`",
            Rule::service => "`service`",
            Rule::responses => "`responses`",
            Rule::detect => "`detect`",
            Rule::endian_decl => "`endian`",
            Rule::versions_decl => "`versions`",
            Rule::limits_decl => "`limits`",
            Rule::value_spec => "`=`",
            Rule::len_else => "`else`",
            Rule::bits_block => "`{`",
            Rule::by_clause => "`by`",
            Rule::sized_by => "`sized_by`",
            Rule::rest_kw => "`rest`",
            Rule::widen => "`as`",
            Rule::header_def => "`header`",
            Rule::enc_const => "`constant`",
            Rule::attr => "an attribute `@...`",
            Rule::generic_args => "`<`",
            Rule::optional => "`?`",
            Rule::range => "a range `a..b`",
            Rule::range_op => "`..` or `..=`",
            Rule::variant => "a variant `NAME = value`",
            Rule::flag_bit => "a flag `NAME = bit n`",
            Rule::rpc => "`request` or `oneway`",
            Rule::rpc_kind => "`request` or `oneway`",
            Rule::rpc_body => "`{`",
            Rule::rpc_part => "`header` or `body`",
            Rule::by_arm => "an arm `value => encoding`",
            Rule::bit_part => "a bit part `name: type bits a..b`",
            Rule::detect_rule => "`prefix`",
            Rule::detect_alt => "`{` (detection rules)",
            Rule::hs_rule => "a handshake rule",
            Rule::exchange => "`exchange`",
            Rule::ex_rule => "a rule `Msg -> answer`",
            Rule::ex_hello => "`hello`",
            Rule::ex_answer => "an answer (a message, `close` or `nothing`)",
            Rule::ex_close => "`close`",
            Rule::ex_nothing => "`nothing`",
            Rule::ex_then_close => "`then close`",
            Rule::ex_correlate | Rule::ex_correlate_kw => "`correlate`",
            Rule::ex_order => "`order`",
            Rule::ex_push | Rule::ex_push_kw => "`push`",
            Rule::ex_keepalive | Rule::ex_keepalive_kw => "`keepalive`",
            Rule::ex_ping_kw => "`ping`",
            Rule::ex_accept | Rule::ex_accept_kw => "`accept`",
            Rule::ex_farewell | Rule::ex_on_kw => "`on`",
            Rule::ex_status | Rule::ex_status_kw => "`status`",
            Rule::ex_ok | Rule::ex_ok_kw => "`ok`",
            Rule::ex_message | Rule::ex_message_kw => "`message`",
            Rule::ex_failure => "a failure (`malformed`, `violation`, `keepalive` or `shutdown`)",
            Rule::ex_sets => "`(`",
            Rule::ex_set => "a field `name = value`",
            Rule::ex_unit => "`seconds` or `millis`",
            Rule::decimal => "a number (`1.5`)",
            Rule::limit => "a limit `name = value`",
            Rule::len_expr => "`len(...)`",
            Rule::present_expr => "`present(...)`",
            Rule::union_def => "`union`",
            Rule::tagged_def => "`tagged`",
            Rule::tagged_member => "a member `tag name: type`",
            Rule::if_clause | Rule::if_kw => "`if`",
            Rule::cond | Rule::cond_and | Rule::cond_cmp | Rule::cond_not => "a condition",
            Rule::cmp_op => "a comparison",
            Rule::or_op => "`||`",
            Rule::and_op => "`&&`",
            Rule::ctx_version => "`@version`",
            Rule::ctx_more => "`@more`",
            Rule::sized_by_kw => "`sized_by`",
            Rule::repeated_kw => "`repeated`",
            Rule::EOI => "end of file",
            _ => "something else",
        })
        .collect();
    names.dedup();
    match names.len() {
        0 => "something else".into(),
        1 => names[0].into(),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The bytes of a string literal's text: `\r`, `\n`, `\t`, `\0`, `\xNN` escapes, `\`
/// before any other character stands for it.
fn unescape_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        let mut buf = [0u8; 4];
        if c != '\\' {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match it.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('0') => out.push(0),
            Some('x') => {
                let hex: String = it.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap_or(0));
            }
            Some(o) => out.extend_from_slice(o.encode_utf8(&mut buf).as_bytes()),
            None => {}
        }
    }
    out
}

/// Parses an integer literal (`-`, `0x`, `0b`, `_`); the grammar guarantees the shape,
/// overflow beyond i128 saturates and is caught by range checks later.
pub fn parse_int(s: &str) -> i128 {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let s: String = s.chars().filter(|&c| c != '_').collect();
    let v = if let Some(h) = s.strip_prefix("0x") {
        i128::from_str_radix(h, 16)
    } else if let Some(b) = s.strip_prefix("0b") {
        i128::from_str_radix(b, 2)
    } else {
        s.parse::<i128>()
    }
    .unwrap_or(i128::MAX);
    if neg { -v } else { v }
}

struct Cx {
    file: u32,
    /// Errors found while building the tree (the grammar accepts more than is valid).
    errors: std::cell::RefCell<Vec<Diagnostic>>,
}

impl Cx {
    /// A context for a fragment of text outside any file ([`parse_cond`]).
    fn fragment() -> Self {
        Cx {
            file: 0,
            errors: Default::default(),
        }
    }

    fn err(&self, d: Diagnostic) {
        self.errors.borrow_mut().push(d);
    }

    fn span(&self, p: &P) -> Span {
        let s = p.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    /// Where rule `p` starts, after its doc comments.
    fn after_docs(p: &P) -> usize {
        let whole = p.as_span();
        let docs_end = p
            .clone()
            .into_inner()
            .take_while(|c| c.as_rule() == Rule::doc)
            .last()
            .map_or(whole.start(), |d| d.as_span().end());
        docs_end + skip_trivia(&whole.as_str()[docs_end - whole.start()..])
    }

    /// The span of a rule without its doc comments and without the whitespace and
    /// comments pest lets it swallow at its end: from its first to its last token.
    fn tight_span(&self, p: &P) -> Span {
        let whole = p.as_span();
        let start = Self::after_docs(p);
        let end = start + content_len(&whole.as_str()[start - whole.start()..]);
        Span::new(self.file, start, end)
    }

    /// The span of the keyword `kw` that starts rule `p`, after its doc comments.
    fn keyword(&self, p: &P, kw: &str) -> Span {
        let at = Self::after_docs(p);
        Span::new(self.file, at, at + kw.len())
    }

    fn name(&self, p: P) -> Name {
        Name {
            span: self.span(&p),
            text: p.as_str().to_string(),
        }
    }

    fn int(&self, p: P) -> IntLit {
        let value = if p.as_rule() == Rule::char_lit {
            let inner = &p.as_str()[1..p.as_str().len() - 1];
            unescape_bytes(inner).first().copied().map_or(0, i128::from)
        } else {
            parse_int(p.as_str())
        };
        IntLit {
            span: self.span(&p),
            value,
        }
    }

    fn doc(p: &P) -> String {
        let t = p.as_str().trim_start_matches("///");
        t.strip_prefix(' ').unwrap_or(t).trim_end().to_string()
    }

    /// Splits leading doc comments off a rule's children.
    fn docs<'a>(
        &self,
        inner: &mut std::iter::Peekable<pest::iterators::Pairs<'a, Rule>>,
    ) -> Vec<String> {
        let mut docs = Vec::new();
        while let Some(p) = inner.peek() {
            if p.as_rule() != Rule::doc {
                break;
            }
            docs.push(Self::doc(p));
            inner.next();
        }
        docs
    }

    fn range(&self, p: P) -> Range {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let start = self.int(it.next().expect("range start"));
        let inclusive = it.next().expect("range op").as_str() == "..=";
        let end = self.int(it.next().expect("range end"));
        Range {
            start,
            end,
            inclusive,
            span,
        }
    }

    fn protocol(&self, p: P) -> Protocol {
        let span = self.span(&p);
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let name = self.name(it.next().expect("protocol name"));
        let mut proto = Protocol {
            docs,
            name,
            id: None,
            endian: vec![],
            versions: vec![],
            limits: vec![],
            items: vec![],
            frames: vec![],
            frame_uses: vec![],
            handshakes: vec![],
            services: vec![],
            responses: vec![],
            detect: vec![],
            exchanges: vec![],
            span,
        };
        for p in it {
            match p.as_rule() {
                Rule::string_lit => proto.id = Some(unescape(p.into_inner().as_str())),
                Rule::endian_decl => proto
                    .endian
                    .push(self.name(p.into_inner().next().expect("endian"))),
                Rule::versions_decl => proto
                    .versions
                    .push(self.range(p.into_inner().next().expect("range"))),
                Rule::limits_decl => {
                    for l in p.into_inner() {
                        let mut li = l.into_inner();
                        let n = self.name(li.next().expect("limit name"));
                        let v = self.int(li.next().expect("limit value"));
                        proto.limits.push((n, v));
                    }
                }
                Rule::frame => proto.frames.push(self.frame(p)),
                Rule::frame_use => {
                    let mut it = p.into_inner().filter(|r| r.as_rule() == Rule::ident);
                    proto
                        .frame_uses
                        .push(self.name(it.next().expect("frame type")));
                }
                Rule::handshake => proto.handshakes.push(self.handshake(p)),
                Rule::exchange => {
                    let span = self.keyword(&p, "exchange");
                    proto.exchanges.push(self.exchange_items(p, span));
                }
                Rule::service => proto.services.push(self.service(p)),
                Rule::responses => proto.responses.push(self.enum_like(p, false)),
                Rule::detect => {
                    for a in p.into_inner().filter(|r| r.as_rule() == Rule::detect_alt) {
                        let span = self.span(&a);
                        let rules = a
                            .into_inner()
                            .filter(|r| r.as_rule() == Rule::detect_rule)
                            .map(|r| self.detect_rule(r))
                            .collect();
                        proto.detect.push(DetectAlt { rules, span });
                    }
                }
                _ => proto.items.push(self.item(p)),
            }
        }
        proto
    }

    fn item(&self, p: P) -> Item {
        match p.as_rule() {
            Rule::enum_def => Item::Enum(self.enum_like(p, true)),
            Rule::flags_def => {
                let mut it = p.into_inner().peekable();
                let docs = self.docs(&mut it);
                let name = self.name(it.next().expect("flags name"));
                let repr = self.name(it.next().expect("flags repr"));
                let bits = it.map(|b| self.variant(b)).collect();
                Item::Flags(FlagsDef {
                    docs,
                    name,
                    repr,
                    bits,
                })
            }
            Rule::struct_def | Rule::header_def => {
                let header = p.as_rule() == Rule::header_def;
                let span = self.span(&p);
                let mut it = p.into_inner().peekable();
                let docs = self.docs(&mut it);
                let name = self.name(it.next().expect("struct name"));
                let fields = it.map(|f| self.field(f)).collect();
                let def = StructDef {
                    docs,
                    name,
                    fields,
                    span,
                };
                if header {
                    Item::Header(def)
                } else {
                    Item::Struct(def)
                }
            }
            Rule::encoding_def => {
                let span = self.span(&p);
                let mut it = p.into_inner().peekable();
                let docs = self.docs(&mut it);
                let target = self.name(it.next().expect("encoding target"));
                let format = self.name(it.next().expect("encoding format"));
                let rules = it
                    .map(|r| {
                        let rule = r.as_rule();
                        let mut ri = r.into_inner();
                        match rule {
                            Rule::enc_rename_all => {
                                let c = ri.next().expect("case");
                                let name = match c.as_rule() {
                                    Rule::string_lit => Name {
                                        span: self.span(&c),
                                        text: unescape(c.into_inner().as_str()),
                                    },
                                    _ => self.name(c),
                                };
                                EncRule::RenameAll(name)
                            }
                            Rule::enc_rename => {
                                let f = self.name(ri.next().expect("field"));
                                let s = unescape(ri.next().expect("name").into_inner().as_str());
                                EncRule::Rename(f, s)
                            }
                            Rule::enc_as => {
                                let f = self.name(ri.next().expect("field"));
                                let how = self.name(ri.next().expect("how"));
                                EncRule::As(f, how)
                            }
                            Rule::enc_const => {
                                let k = unescape(ri.next().expect("key").into_inner().as_str());
                                let v = ri.next().expect("value");
                                let json = match v.as_rule() {
                                    Rule::int_lit => parse_int(v.as_str()).to_string(),
                                    _ => format!("{:?}", unescape(v.into_inner().as_str())),
                                };
                                EncRule::Const(k, json)
                            }
                            _ => EncRule::Flag(self.name(ri.next().expect("flag"))),
                        }
                    })
                    .collect();
                Item::Encoding(EncodingDef {
                    docs,
                    target,
                    format,
                    rules,
                    span,
                })
            }
            Rule::union_def => {
                let span = self.span(&p);
                let mut it = p.into_inner().peekable();
                let docs = self.docs(&mut it);
                let name = self.name(it.next().expect("union name"));
                let arms = it
                    .map(|arm| {
                        let mut ai = arm.into_inner().peekable();
                        let docs = self.docs(&mut ai);
                        let fallback = ai.next_if(|p| p.as_rule() == Rule::union_else).is_some();
                        let name = self.name(ai.next().expect("union arm"));
                        let from = ai.next().and_then(|f| f.into_inner().last()).map(|s| {
                            if s.as_str().starts_with("client") {
                                crate::ir::Sender::Client
                            } else {
                                crate::ir::Sender::Server
                            }
                        });
                        (docs, name, fallback, from)
                    })
                    .collect();
                Item::Union(UnionDef {
                    docs,
                    name,
                    arms,
                    span,
                })
            }
            Rule::tagged_def => {
                let span = self.span(&p);
                let mut it = p.into_inner().peekable();
                let docs = self.docs(&mut it);
                let name = self.name(it.next().expect("tagged name"));
                let tag = self.type_expr(it.next().expect("tag type"));
                let members = it
                    .map(|m| {
                        let span = self.tight_span(&m);
                        let mut mi = m.into_inner().peekable();
                        let docs = self.docs(&mut mi);
                        let tag = self.int(mi.next().expect("member tag"));
                        let name = self.name(mi.next().expect("member name"));
                        let ty = self.type_expr(mi.next().expect("member type"));
                        TaggedMember {
                            docs,
                            tag,
                            name,
                            ty,
                            repeated: mi.next().is_some(),
                            span,
                        }
                    })
                    .collect();
                Item::Tagged(TaggedDef {
                    docs,
                    name,
                    tag,
                    members,
                    span,
                })
            }
            r => unreachable!("grammar yields no item {r:?}"),
        }
    }

    fn enum_like(&self, p: P, may_open: bool) -> EnumDef {
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let name = self.name(it.next().expect("enum name"));
        let repr = self.name(it.next().expect("enum repr"));
        let mut open = !may_open;
        if it.peek().map(|p| p.as_rule()) == Some(Rule::open_kw) {
            open = true;
            it.next();
        }
        let variants = it.map(|v| self.variant(v)).collect();
        EnumDef {
            docs,
            name,
            repr,
            open,
            variants,
        }
    }

    fn variant(&self, p: P) -> Variant {
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let name = self.name(it.next().expect("variant name"));
        let value = self.int(it.next().expect("variant value"));
        let attrs = it.map(|a| self.attr(a)).collect();
        Variant {
            docs,
            name,
            value,
            attrs,
        }
    }

    fn attr(&self, p: P) -> Attr {
        let span = self.tight_span(&p);
        let mut it = p.into_inner();
        let name = self.name(it.next().expect("attr name"));
        let args = it
            .map(|a| match a.as_rule() {
                Rule::int_lit => AttrArg::Int(self.int(a)),
                Rule::string_lit => {
                    let s = self.span(&a);
                    AttrArg::Str(unescape(a.into_inner().as_str()), s)
                }
                _ => AttrArg::Name(self.name(a)),
            })
            .collect();
        Attr { name, args, span }
    }

    fn type_expr(&self, p: P) -> TypeExpr {
        let span = self.tight_span(&p);
        let mut it = p.into_inner();
        let name = self.name(it.next().expect("type name"));
        let mut args = Vec::new();
        let mut optional = false;
        for p in it {
            match p.as_rule() {
                Rule::generic_args => {
                    for a in p.into_inner() {
                        args.push(match a.as_rule() {
                            Rule::max_arg => {
                                TypeArg::Max(self.int(a.into_inner().next().expect("max")))
                            }
                            _ => TypeArg::Type(self.type_expr(a)),
                        });
                    }
                }
                Rule::optional => optional = true,
                r => unreachable!("type_expr child {r:?}"),
            }
        }
        TypeExpr {
            name,
            args,
            optional,
            span,
        }
    }

    fn value_spec(&self, p: P) -> ValueSpec {
        let inner = p.into_inner().next().expect("value");
        match inner.as_rule() {
            Rule::int_lit | Rule::char_lit => ValueSpec::Const(self.int(inner)),
            Rule::present_expr => {
                let span = self.span(&inner);
                ValueSpec::Present(self.name(inner.into_inner().next().expect("present")), span)
            }
            _ => {
                let span = self.span(&inner);
                let target = inner.into_inner().next().expect("len target");
                match target.as_rule() {
                    Rule::len_from => {
                        ValueSpec::LenFrom(target.into_inner().next().map(|n| self.name(n)), span)
                    }
                    _ => ValueSpec::LenOf(self.name(target), span),
                }
            }
        }
    }

    fn field(&self, p: P) -> Field {
        let span = self.tight_span(&p);
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let name = self.name(it.next().expect("field name"));
        let head = it.next().expect("field type");
        let mut literal = None;
        let ty = if head.as_rule() == Rule::string_lit {
            let sp = self.span(&head);
            literal = Some((unescape_bytes(head.into_inner().as_str()), sp));
            TypeExpr {
                name: crate::dsl::ast::Name {
                    text: "bytes".into(),
                    span: sp,
                },
                args: vec![],
                optional: false,
                span: sp,
            }
        } else {
            self.type_expr(head)
        };
        let mut f = Field {
            docs,
            name,
            ty,
            value: None,
            bits: None,
            by: None,
            sized_by: None,
            cond: None,
            rest: None,
            widen: None,
            until: None,
            count: None,
            len_else: None,
            literal,
            attrs: vec![],
            span,
        };
        for p in it {
            match p.as_rule() {
                Rule::value_spec => f.value = Some(self.value_spec(p)),
                Rule::bits_block => {
                    f.bits = Some(p.into_inner().map(|b| self.bit_part(b)).collect())
                }
                Rule::by_clause => {
                    let span = self.span(&p);
                    let mut bi = p.into_inner();
                    let disc = self.name(bi.next().expect("disc"));
                    let arms = bi
                        .map(|arm| {
                            let mut ai = arm.into_inner();
                            let k = ai.next().expect("arm key");
                            let key = match k.as_rule() {
                                Rule::int_lit => ArmKey::Int(self.int(k)),
                                _ => ArmKey::Name(self.name(k)),
                            };
                            (key, self.name(ai.next().expect("arm encoding")))
                        })
                        .collect();
                    f.by = Some(ByClause { disc, arms, span });
                }
                Rule::sized_by => {
                    let t = p.into_inner().find(|r| r.as_rule() == Rule::type_expr);
                    f.sized_by = Some(self.type_expr(t.expect("sized_by type")))
                }
                Rule::if_clause => {
                    let c = p.into_inner().find(|r| r.as_rule() == Rule::cond);
                    let c = c.expect("if condition");
                    f.cond = Some((self.cond(c.clone()), self.tight_span(&c)));
                }
                Rule::rest_kw => f.rest = Some(self.span(&p)),
                Rule::until_clause => {
                    let sp = self.span(&p);
                    let d = p.into_inner().find(|r| r.as_rule() == Rule::string_lit);
                    let d = d.expect("delimiter");
                    f.until = Some((unescape_bytes(d.into_inner().as_str()), sp));
                }
                Rule::len_else => {
                    let v = p
                        .into_inner()
                        .find(|r| matches!(r.as_rule(), Rule::int_lit | Rule::char_lit));
                    f.len_else = Some(self.int(v.expect("else value")));
                }
                Rule::count_clause => {
                    let n = p.into_inner().find(|r| r.as_rule() == Rule::ident);
                    f.count = Some(self.name(n.expect("count field")));
                }
                Rule::widen => f.widen = Some(self.name(p.into_inner().next().expect("type"))),
                Rule::attr => f.attrs.push(self.attr(p)),
                r => unreachable!("field child {r:?}"),
            }
        }
        f
    }

    /// A condition (`cond` and the rules under it).
    fn cond(&self, p: P) -> crate::ir::Cond {
        use crate::ir::{CmpOp, Cond};
        match p.as_rule() {
            Rule::cond | Rule::cond_and => {
                let or = p.as_rule() == Rule::cond;
                let mut it = p
                    .into_inner()
                    .filter(|r| !matches!(r.as_rule(), Rule::or_op | Rule::and_op));
                let mut acc = self.cond(it.next().expect("operand"));
                for next in it {
                    let rhs = Box::new(self.cond(next));
                    acc = if or {
                        Cond::Or(Box::new(acc), rhs)
                    } else {
                        Cond::And(Box::new(acc), rhs)
                    };
                }
                acc
            }
            Rule::cond_cmp => {
                let mut it = p.into_inner();
                let lhs = self.cond(it.next().expect("operand"));
                match (it.next(), it.next()) {
                    (Some(op), Some(rhs)) => {
                        let op = match op.as_str() {
                            "==" => CmpOp::Eq,
                            "!=" => CmpOp::Ne,
                            "<" => CmpOp::Lt,
                            "<=" => CmpOp::Le,
                            ">" => CmpOp::Gt,
                            _ => CmpOp::Ge,
                        };
                        Cond::Cmp(op, Box::new(lhs), Box::new(self.cond(rhs)))
                    }
                    _ => lhs,
                }
            }
            Rule::cond_not => {
                Cond::Not(Box::new(self.cond(p.into_inner().next().expect("operand"))))
            }
            Rule::int_lit | Rule::char_lit => {
                let i = self.int(p);
                Cond::Int(i.value, i.span)
            }
            Rule::ctx_version => Cond::Version,
            Rule::ctx_more => Cond::More,
            _ => {
                let n = self.name(p);
                Cond::Ref(n.text, n.span)
            }
        }
    }

    fn bit_part(&self, p: P) -> BitPart {
        let span = self.tight_span(&p);
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let name = self.name(it.next().expect("part name"));
        let ty = self.type_expr(it.next().expect("part type"));
        let range = self.range(it.next().expect("part range"));
        let mut value = None;
        let mut attrs = Vec::new();
        for p in it {
            match p.as_rule() {
                Rule::value_spec => value = Some(self.value_spec(p)),
                _ => attrs.push(self.attr(p)),
            }
        }
        BitPart {
            docs,
            name,
            ty,
            range,
            value,
            attrs,
            span,
        }
    }

    fn frame(&self, p: P) -> StructDef {
        let span = self.span(&p);
        let keyword = self.keyword(&p, "frame");
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let name = if it.peek().map(|p| p.as_rule()) == Some(Rule::ident) {
            self.name(it.next().expect("frame name"))
        } else {
            Name {
                text: "Frame".into(),
                span: keyword,
            }
        };
        let fields = it.map(|f| self.field(f)).collect();
        StructDef {
            docs,
            name,
            fields,
            span,
        }
    }

    fn handshake(&self, p: P) -> Handshake {
        let span = self.keyword(&p, "handshake");
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let rules = it
            .map(|r| {
                let mut ri = r.into_inner();
                let k = self.name(ri.next().expect("rule key"));
                let v = ri.next().expect("rule value");
                let v = match v.as_rule() {
                    Rule::int_lit => HsValue::Int(self.int(v)),
                    _ => HsValue::Name(self.name(v)),
                };
                (k, v)
            })
            .collect();
        Handshake { docs, rules, span }
    }

    /// The docs and items of an `exchange` block or of its text alone.
    fn exchange_items(&self, p: P, span: Span) -> Exchange {
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let mut items = Vec::new();
        for p in it {
            match p.as_rule() {
                Rule::ex_rule => items.push(ExItem::Rule(self.ex_rule(p))),
                Rule::ex_farewell => items.push(ExItem::Farewell(self.ex_farewell(p))),
                Rule::ex_status => items.push(ExItem::Status(self.ex_status(p))),
                Rule::ex_correlate => {
                    let mut pi = p.into_inner();
                    let kw = self.span(&pi.next().expect("keyword"));
                    items.push(ExItem::Correlate(self.name(pi.next().expect("field")), kw));
                }
                Rule::ex_order => items.push(ExItem::Order(self.span(&p))),
                Rule::ex_push => items.push(ExItem::Push(
                    p.into_inner()
                        .filter(|r| r.as_rule() == Rule::ident)
                        .map(|r| self.name(r))
                        .collect(),
                )),
                Rule::ex_keepalive => {
                    let span = self.tight_span(&p);
                    let mut pi = p
                        .into_inner()
                        .filter(|r| {
                            !matches!(r.as_rule(), Rule::ex_keepalive_kw | Rule::ex_ping_kw)
                        })
                        .map(|r| self.name(r));
                    let mut next = || pi.next().expect("keepalive part");
                    items.push(ExItem::Keepalive(ExKeepalive {
                        msg: next(),
                        field: next(),
                        unit: next(),
                        factor: next(),
                        ping: next(),
                        span,
                    }));
                }
                _ => {}
            }
        }
        Exchange { docs, items, span }
    }

    fn ex_rule(&self, p: P) -> ExRule {
        let span = self.tight_span(&p);
        let mut hello = None;
        let mut on = None;
        let mut answers = Vec::new();
        let mut accept = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ex_hello => hello = Some(self.span(&c)),
                Rule::ident => on = Some(self.name(c)),
                Rule::ex_accept => {
                    let at = self.tight_span(&c);
                    let cond = c
                        .into_inner()
                        .find(|r| r.as_rule() == Rule::cond)
                        .expect("accept condition");
                    accept = Some((self.cond(cond), at));
                }
                _ => answers.push(self.ex_answer(c)),
            }
        }
        ExRule {
            hello,
            on: on.expect("rule message"),
            answers,
            accept,
            span,
        }
    }

    fn ex_farewell(&self, p: P) -> ExFarewell {
        let span = self.tight_span(&p);
        let mut on = None;
        let mut msg = None;
        let mut sets = Vec::new();
        let mut cond = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ex_failure => on = Some(self.name(c)),
                Rule::ident => msg = Some(self.name(c)),
                Rule::ex_sets => {
                    for set in c.into_inner() {
                        let at = self.tight_span(&set);
                        let mut si = set.into_inner();
                        let field = self.name(si.next().expect("set field"));
                        let value = self.ex_value(si.next().expect("set value"));
                        sets.push(ExSet {
                            field,
                            value,
                            span: at,
                        });
                    }
                }
                Rule::cond => cond = Some((self.cond(c.clone()), self.tight_span(&c))),
                _ => {}
            }
        }
        ExFarewell {
            on: on.expect("failure"),
            msg: msg.expect("farewell message"),
            sets,
            cond,
            span,
        }
    }

    fn ex_status(&self, p: P) -> ExStatus {
        let span = self.tight_span(&p);
        let mut names = Vec::new();
        let mut ok = None;
        let mut message = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => names.push(self.name(c)),
                Rule::ex_ok => {
                    let at = self.tight_span(&c);
                    let mut values = c
                        .into_inner()
                        .filter(|v| v.as_rule() != Rule::ex_ok_kw)
                        .map(|v| self.ex_value(v));
                    let lo = values.next().expect("ok value");
                    ok = Some((lo, values.next(), at));
                }
                Rule::ex_message => {
                    message = c
                        .into_inner()
                        .filter(|v| v.as_rule() == Rule::ident)
                        .map(|v| self.name(v))
                        .collect();
                }
                _ => {}
            }
        }
        let mut names = names.into_iter();
        ExStatus {
            msg: names.next().expect("status message"),
            field: names.next().expect("status field"),
            ok,
            message,
            span,
        }
    }

    /// An integer or a name, as a farewell or `ok` gives it.
    fn ex_value(&self, v: P) -> ExValue {
        match v.as_rule() {
            Rule::int_lit => ExValue::Int(parse_int(v.as_str())),
            Rule::string_lit => ExValue::Str(unescape(v.into_inner().as_str())),
            _ => ExValue::Name(self.name(v)),
        }
    }

    fn ex_answer(&self, p: P) -> ExAnswer {
        let span = self.tight_span(&p);
        let mut reply = ExReply::Nothing;
        let mut cond = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ex_close => reply = ExReply::Close,
                Rule::ex_nothing => reply = ExReply::Nothing,
                Rule::ex_series => {
                    let mut names = c.into_inner().filter(|n| n.as_rule() == Rule::ident);
                    let item = self.name(names.next().expect("series item"));
                    let end = self.name(names.next().expect("series end"));
                    reply = ExReply::Series(item, end);
                }
                Rule::ident => reply = ExReply::Message(self.name(c)),
                Rule::ex_then_close => {
                    if let ExReply::Message(n) = reply {
                        reply = ExReply::MessageThenClose(n);
                    }
                }
                Rule::ex_outcome => {
                    if let ExReply::Message(n) = reply {
                        reply = ExReply::Only(n, c.as_str().ends_with("failure"));
                    }
                }
                Rule::if_kw => {}
                _ => cond = Some((self.cond(c.clone()), self.tight_span(&c))),
            }
        }
        ExAnswer { reply, cond, span }
    }

    fn service(&self, p: P) -> Service {
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let name = self.name(it.next().expect("service name"));
        let rpcs = it.map(|r| self.rpc(r)).collect();
        Service { docs, name, rpcs }
    }

    fn rpc(&self, p: P) -> Rpc {
        let span = self.span(&p);
        let mut it = p.into_inner().peekable();
        let docs = self.docs(&mut it);
        let oneway = it.next().expect("rpc kind").as_str() == "oneway";
        let name = self.name(it.next().expect("rpc name"));
        let code = self.int(it.next().expect("rpc code"));
        let mut bodies = it.map(|b| {
            b.into_inner()
                .map(|part| {
                    let mut pi = part.into_inner();
                    let kind = self.name(pi.next().expect("part kind"));
                    let ty = self.type_expr(pi.next().expect("part type"));
                    let mut carrier = None;
                    let mut encoding = None;
                    for r in pi {
                        let is_carrier = r.as_rule() == Rule::carrier;
                        let n = self.name(r.into_inner().next().expect("name"));
                        if is_carrier {
                            carrier = Some(n);
                        } else {
                            encoding = Some(n);
                        }
                    }
                    RpcPart {
                        kind,
                        ty,
                        carrier,
                        encoding,
                    }
                })
                .collect::<Vec<_>>()
        });
        let request = bodies.next().unwrap_or_default();
        let response = bodies.next();
        Rpc {
            docs,
            oneway,
            name,
            code,
            request,
            response,
            span,
        }
    }

    fn detect_rule(&self, p: P) -> DetectRule {
        let span = self.span(&p);
        let mut bytes = Vec::new();
        let mut at = 0usize;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::string_lit => {
                    bytes.extend_from_slice(unescape(c.into_inner().as_str()).as_bytes())
                }
                Rule::int_lit => match prefix_bytes(c.as_str()) {
                    Some(b) => bytes.extend(b),
                    None => self.err(
                        Diagnostic::error(
                            self.span(&c),
                            format!("`{}` is not a byte", c.as_str()),
                            "a decimal number here is one byte, 0 to 255",
                        )
                        .code("E0107")
                        .help(
                            "write several bytes in hexadecimal (`0x5057` is the two bytes \
                             50 57), one number per byte, or a string",
                        ),
                    ),
                },
                _ => at = parse_int(c.into_inner().as_str()).clamp(0, u16::MAX as i128) as usize,
            }
        }
        DetectRule { bytes, at, span }
    }
}

/// The bytes a number in a `detect` prefix stands for: a hexadecimal or binary number gives
/// as many bytes as its digits fill, big-endian (`0x5057` → `50 57`, `0x057` → `00 57`); a
/// decimal one is one byte. `None` for a negative number or a decimal one above 255.
fn prefix_bytes(lit: &str) -> Option<Vec<u8>> {
    let digits: String = lit.chars().filter(|&c| c != '_').collect();
    let (radix, per_byte, body) = if let Some(h) = digits.strip_prefix("0x") {
        (16, 2, h)
    } else if let Some(b) = digits.strip_prefix("0b") {
        (2, 8, b)
    } else {
        let v: u8 = digits.parse().ok()?;
        return Some(vec![v]);
    };
    let pad = (per_byte - body.len() % per_byte) % per_byte;
    let padded: String = "0".repeat(pad) + body;
    padded
        .as_bytes()
        .chunks(per_byte)
        .map(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, radix).ok())
        .collect()
}
