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
