//! One module per fuzz target (`fuzz_targets/<name>.rs` calls its `run`), so that the
//! regression inputs replay in `cargo test` without libFuzzer.

pub mod dynamic_parity;
pub mod kitchen_frame;
pub mod kitchen_messages;
pub mod mqtt_frame;
pub mod mqtt_session;
pub mod native_frame;
pub mod native_handshake_client;
pub mod native_handshake_server;
pub mod native_messages;
pub mod resp_frame;
pub mod resp_session;
pub mod rocketmq_frame;
pub mod rocketmq_messages;
pub mod wire_parser;

/// A target's check on one input.
pub type Check = fn(&[u8]);

/// Every target by name, as `fuzz_targets/` names them.
pub const ALL: &[(&str, Check)] = &[
    ("native_frame", native_frame::run),
    ("native_messages", native_messages::run),
    ("native_handshake_server", native_handshake_server::run),
    ("native_handshake_client", native_handshake_client::run),
    ("rocketmq_frame", rocketmq_frame::run),
    ("rocketmq_messages", rocketmq_messages::run),
    ("kitchen_frame", kitchen_frame::run),
    ("kitchen_messages", kitchen_messages::run),
    ("mqtt_frame", mqtt_frame::run),
    ("mqtt_session", mqtt_session::run),
    ("resp_frame", resp_frame::run),
    ("resp_session", resp_session::run),
    ("wire_parser", wire_parser::run),
    ("dynamic_parity", dynamic_parity::run),
];
