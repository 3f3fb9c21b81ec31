//! Protocols bundled with polywire, generated at build time from `wire/*.wire`.
//!
//! A user crate that defines its own protocol looks exactly like this one: a `.wire`
//! file, a three-line `build.rs`, and an `include_protocol!`.

/// polywire's own compact binary protocol (`wire/native.wire`).
pub mod native {
    polywire::include_protocol!("native");
}

/// Apache RocketMQ remoting (`wire/rocketmq.wire`), byte-exact with the Java implementation.
pub mod rocketmq {
    polywire::include_protocol!("rocketmq");
}
