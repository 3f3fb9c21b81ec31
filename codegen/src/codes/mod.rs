//! Diagnostic codes: every kind of error and warning has one (`E0101`, `W0301`), shown in
//! its header (`error[E0101]: ...`) and explained at length by `polywire explain CODE`.
//!
//! Codes are grouped by the stage that reports them, one table per stage:
//! `E01xx`/`W01xx` the parser and the lowering to IR ([`front`]), `E03xx`/`W03xx` the
//! checker ([`check`]). A code, once given, keeps its meaning.

pub mod check;
pub mod front;

/// One diagnostic kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// `E0101` (errors) or `W0101` (warnings).
    pub code: &'static str,
    /// One line: what kind of problem this is.
    pub title: &'static str,
    /// Why it is a problem, an example, and how to fix it (Markdown).
    pub explanation: &'static str,
}

/// Every table, in code order.
pub const TABLES: &[&[Code]] = &[front::CODES, check::CODES];

/// Every known code.
pub fn all() -> impl Iterator<Item = &'static Code> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// Looks a code up (case-insensitive: `e0101` finds `E0101`).
pub fn lookup(code: &str) -> Option<&'static Code> {
    all().find(|c| c.code.eq_ignore_ascii_case(code))
}

/// The known code closest to `code` (for "did you mean" on an unknown one): same letter and
/// nearest number, else the closest spelling.
pub fn closest(code: &str) -> Option<&'static Code> {
    let mut upper = code.to_ascii_uppercase();
    // `130` or `0130`: an error code without its letter.
    if upper.starts_with(|c: char| c.is_ascii_digit()) {
        upper = format!("E{upper:0>4}");
    }
    let number = |c: &str| c.get(1..).and_then(|n| n.parse::<i64>().ok());
    if let (Some(letter), Some(n)) = (upper.chars().next(), number(&upper)) {
        return all()
            .filter(|c| c.code.starts_with(letter))
            .filter_map(|c| number(c.code).map(|m| ((m - n).abs(), c)))
            .min_by_key(|(d, _)| *d)
            .map(|(_, c)| c);
    }
    let name = crate::util::closest(&upper, all().map(|c| c.code.to_string()))?;
    lookup(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every code literal given to `Diagnostic::code` in the crate's sources, with its file.
    fn used_codes() -> Vec<(String, String)> {
        fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .expect("src is readable")
                .map(|e| e.expect("entry").path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&p).expect("source is readable");
                    // Split so that this file's own pattern is not a match.
                    let pat = concat!(".code", "(\"");
                    for (at, _) in text.match_indices(pat) {
                        let rest = &text[at + pat.len()..];
                        let end = rest.find('"').expect("closed literal");
                        out.push((rest[..end].to_string(), p.display().to_string()));
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
        out
    }

    #[test]
    fn codes_are_unique_well_formed_and_explained() {
        let mut seen = std::collections::HashSet::new();
        for c in all() {
            assert!(seen.insert(c.code), "{} is given twice", c.code);
            let b = c.code.as_bytes();
            assert!(
                b.len() == 5
                    && matches!(b[0], b'E' | b'W')
                    && b[1..].iter().all(u8::is_ascii_digit),
                "{} is not `E` or `W` and four digits",
                c.code
            );
            assert!(
                !c.title.is_empty() && !c.title.contains('\n'),
                "{}: title",
                c.code
            );
            assert!(
                c.explanation.contains("```"),
                "{}: the explanation has an example",
                c.code
            );
        }
        for (table, prefix) in [(front::CODES, "01"), (check::CODES, "03")] {
            for c in table {
                assert_eq!(&c.code[1..3], prefix, "{} is in the wrong table", c.code);
            }
        }
    }

    #[test]
    fn every_code_used_is_known_and_every_known_code_is_used() {
        let used = used_codes();
        assert!(
            used.len() > 10,
            "the scan finds the crate's codes: {used:?}"
        );
        for (code, file) in &used {
            assert!(
                lookup(code).is_some(),
                "{file} uses `{code}`, which no table has"
            );
        }
        for c in all() {
            assert!(
                used.iter().any(|(u, _)| u == c.code),
                "{} is in a table but no diagnostic uses it",
                c.code
            );
        }
    }

    #[test]
    fn lookup_and_closest() {
        assert_eq!(lookup("e0130").map(|c| c.code), Some("E0130"));
        assert_eq!(lookup("E9999"), None);
        assert_eq!(closest("E0199").map(|c| c.code), Some("E0157"));
        assert_eq!(closest("W0109").map(|c| c.code), Some("W0103"));
        assert_eq!(closest("130").map(|c| c.code), Some("E0130"));
        assert_eq!(closest("xyz"), None);
    }
}
