//! Generates the fuzzed protocols from their `.wire` files: the bundled ones and the
//! kitchen sink (every construct of the language).
fn main() {
    if let Err(e) = polywire_codegen::configure().compile(&[
        "../protocols/wire/native.wire",
        "../protocols/wire/rocketmq.wire",
        "../protocols/wire/mqtt.wire",
        "../protocols/wire/resp.wire",
        "../tests/wire/kitchen.wire",
    ]) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
