//! Runnable examples (see `examples/*.rs` and the README) and the servers they share with the
//! integration tests.

pub mod echo;
pub mod graceful;
pub mod logging;
pub mod metrics;
pub mod mqtt_broker;
pub mod probes;
pub mod redis_db;
pub mod redis_server;
pub mod rocketmq_echo;
pub mod self_signed;

/// The README, whose Rust blocks run as this crate's doctests (`cargo test --doc`): it is
/// written for users of `polywire` and `polywire-protocols`, and this crate has both, the
/// README's `chat` protocol (`build.rs`) and, for the README only, `polywire-dynamic`.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
