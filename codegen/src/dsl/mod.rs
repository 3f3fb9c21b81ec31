//! The `.wire` front end: grammar ([`wire.pest`](https://pest.rs)), syntax tree, parser and
//! the warnings found on the syntax trees.

pub mod ast;
pub mod lint;
pub mod parse;
