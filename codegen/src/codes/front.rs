//! Codes of the parser and of the lowering to IR (`E01xx`, `W01xx`).

use super::Code;

/// The parser's and the lowering's codes.
pub const CODES: &[Code] = &[];
