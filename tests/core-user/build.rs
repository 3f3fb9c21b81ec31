//! Generates the bundled protocols for `polywire-core` alone.
fn main() {
    polywire_codegen::configure()
        .codecs_only(true)
        .compile_or_exit(&[
            "../../protocols/wire/native.wire",
            "../../protocols/wire/rocketmq.wire",
        ]);
}
