//! The `.wire` front end: grammar ([`wire.pest`](https://pest.rs)), syntax tree and parser.

pub mod ast;
pub mod parse;
