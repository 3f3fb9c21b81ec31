//! Codes of the checker (`E03xx`, `W03xx`).

use super::Code;

/// The checker's codes.
pub const CODES: &[Code] = &[];
