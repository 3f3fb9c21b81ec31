//! Runnable examples (see `examples/*.rs` and the README) and the servers they share with the
//! integration tests.

pub mod rocketmq_echo;
