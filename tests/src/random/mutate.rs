//! Random mutations of valid `.wire` text: tokens deleted, duplicated or swapped, numbers
//! set to edge values, names renamed to colliding or keyword names, attributes dropped or
//! added, the file cut short.

use super::names::{FIELD_KEYWORDS, TYPE_PRELUDE};
use super::rng::Rng;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Space(String),
    Word(String),
    Num(String),
    Str(String),
    Punct(String),
}

impl Tok {
    fn text(&self) -> &str {
        match self {
            Tok::Space(s) | Tok::Word(s) | Tok::Num(s) | Tok::Str(s) | Tok::Punct(s) => s,
        }
    }
}

fn lex(src: &str) -> Vec<Tok> {
    let cs: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        let start = i;
        if c.is_whitespace() {
            while i < cs.len() && cs[i].is_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(cs[start..i].iter().collect()));
        } else if c == '/' && cs.get(i + 1) == Some(&'/') {
            while i < cs.len() && cs[i] != '\n' {
                i += 1;
            }
            out.push(Tok::Space(cs[start..i].iter().collect()));
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(cs[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || (c == '-' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            i += 1;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Num(cs[start..i].iter().collect()));
        } else if c == '"' {
            i += 1;
            while i < cs.len() && cs[i] != '"' {
                if cs[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(cs.len());
            out.push(Tok::Str(cs[start..i].iter().collect()));
        } else if c == '.' && cs.get(i + 1) == Some(&'.') {
            i += if cs.get(i + 2) == Some(&'=') { 3 } else { 2 };
            out.push(Tok::Punct(cs[start..i].iter().collect()));
        } else if c == '=' && cs.get(i + 1) == Some(&'>') || c == '-' && cs.get(i + 1) == Some(&'>')
        {
            i += 2;
            out.push(Tok::Punct(cs[start..i].iter().collect()));
        } else {
            i += 1;
            out.push(Tok::Punct(c.to_string()));
        }
    }
    out
}

const EDGE_NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "7",
    "8",
    "9",
    "15",
    "16",
    "24",
    "31",
    "32",
    "33",
    "63",
    "64",
    "65",
    "127",
    "128",
    "255",
    "256",
    "-128",
    "-129",
    "32767",
    "32768",
    "65535",
    "65536",
    "16777215",
    "16777216",
    "2147483647",
    "2147483648",
    "-2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "0x",
    "0b2",
    "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
    "1_000",
    "-0",
];

const ATTRS: &[&str] = &[
    "@correlation",
    "@kind",
    "@code",
    "@message",
    "@empty_is_none",
    "@min_version",
    "@max_version",
    "@version",
    "@features",
    "@echo",
    "@default(0)",
    "@default(-1)",
    "@default(99999999999)",
    "@default",
    "@default(\"x\")",
    "@success",
    "@response",
    "@oneway",
    "@not_supported(\"{code}\")",
    "@busy",
    "@nonsense",
];

const WORDS: &[&str] = &[
    "rest",
    "sized_by",
    "len",
    "bits",
    "by",
    "as",
    "open",
    "optional",
    "?",
    "varint",
    "svarint",
    "u24",
    "i24le",
    "u64be",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "json",
    "binary",
    "struct",
    "header",
    "enum",
    "flags",
    "frame",
    "Frame",
    "FrameCodec",
    "Unknown",
    "UNKNOWN",
    "Self",
    "self",
    "_",
    "__r",
    "__rg1",
    "protocol_info",
    "request_codes",
];

/// One mutant of `src`.
pub fn mutate(src: &str, rng: &mut Rng) -> String {
    let mut toks = lex(src);
    let words: Vec<usize> = (0..toks.len())
        .filter(|&i| matches!(toks[i], Tok::Word(_)))
        .collect();
    let nums: Vec<usize> = (0..toks.len())
        .filter(|&i| matches!(toks[i], Tok::Num(_)))
        .collect();
    let solid: Vec<usize> = (0..toks.len())
        .filter(|&i| !matches!(toks[i], Tok::Space(_)))
        .collect();
    if solid.is_empty() {
        return String::new();
    }
    let steps = if rng.chance(70) { 1 } else { rng.range(2, 4) };
    for _ in 0..steps {
        match rng.below(11) {
            0 => {
                let i = *rng.pick(&solid);
                toks[i] = Tok::Space(" ".into());
            }
            1 => {
                let i = *rng.pick(&solid);
                let t = toks[i].clone();
                toks.insert(i, Tok::Space(" ".into()));
                toks.insert(i, t);
            }
            2 => {
                let a = rng.below(solid.len());
                let b = (a + 1).min(solid.len() - 1);
                toks.swap(solid[a], solid[b]);
            }
            3 | 4 if !nums.is_empty() => {
                let i = *rng.pick(&nums);
                toks[i] = Tok::Num(rng.pick(EDGE_NUMBERS).to_string());
            }
            5 | 6 if !words.is_empty() => {
                // Rename to another name of the file (a collision), a keyword, a prelude
                // name or a near-collision of itself.
                let i = *rng.pick(&words);
                let old = toks[i].text().to_string();
                let new = match rng.below(5) {
                    0 => toks[*rng.pick(&words)].text().to_string(),
                    1 => rng.pick(FIELD_KEYWORDS).to_string(),
                    2 => rng.pick(TYPE_PRELUDE).to_string(),
                    3 => polywire_codegen::emit::rust::snake(&old),
                    _ => polywire_codegen::emit::rust::pascal(&old),
                };
                toks[i] = Tok::Word(new);
            }
            7 => {
                // Drop an attribute, or add one after a random token.
                let at: Vec<usize> = (0..toks.len()).filter(|&i| toks[i].text() == "@").collect();
                if !at.is_empty() && rng.chance(50) {
                    let i = *rng.pick(&at);
                    toks[i] = Tok::Space(" ".into());
                    if i + 1 < toks.len() {
                        toks[i + 1] = Tok::Space(" ".into());
                    }
                } else {
                    let i = *rng.pick(&solid);
                    toks.insert(i + 1, Tok::Punct(format!(" {} ", rng.pick(ATTRS))));
                }
            }
            8 => {
                let i = *rng.pick(&solid);
                toks.insert(i + 1, Tok::Punct(format!(" {} ", rng.pick(WORDS))));
            }
            9 => {
                // Cut the file.
                let text: String = toks.iter().map(Tok::text).collect();
                let mut cut = rng.below(text.len().max(1));
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                return text[..cut].to_string();
            }
            _ => {
                if !nums.is_empty() {
                    let i = *rng.pick(&nums);
                    let n = toks[i].text().to_string();
                    let v: i128 = n.parse().unwrap_or(0);
                    let d = *rng.pick(&[-1i128, 1, 2, 8, -8]);
                    toks[i] = Tok::Num((v + d).to_string());
                }
            }
        }
    }
    toks.iter().map(Tok::text).collect()
}
