//! Generates the bundled protocols from `wire/*.wire`.
fn main() {
    polywire_codegen::configure().compile_or_exit(&[
        "wire/native.wire",
        "wire/rocketmq.wire",
        "wire/mqtt.wire",
        "wire/resp.wire",
    ]);
}
