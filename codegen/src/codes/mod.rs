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
