//! Generates the bundled protocols from `wire/*.wire`.
fn main() {
    polywire_codegen::configure()
        .deny_warnings(true)
        .compile_or_exit(&["wire/native.wire", "wire/rocketmq.wire"]);
}
