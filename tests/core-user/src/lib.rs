//! The bundled protocols' codecs, generated with `codecs_only` from
//! `protocols/wire/*.wire`: they name `polywire_core` and nothing of the runtime.

/// polywire's native protocol (`protocols/wire/native.wire`).
pub mod native {
    polywire_core::include_protocol!("native");
}

/// The RocketMQ remoting protocol (`protocols/wire/rocketmq.wire`).
pub mod rocketmq {
    polywire_core::include_protocol!("rocketmq");
}
