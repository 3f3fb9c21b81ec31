//! The `.wire` front end: grammar ([`wire.pest`](https://pest.rs)), syntax tree, parser and
//! the warnings found on the syntax trees, and the formatter.

pub mod ast;
pub mod fmt;
pub mod lint;
pub mod parse;
