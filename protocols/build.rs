//! Generates the bundled protocols from `wire/*.wire`.
fn main() {
    if let Err(e) =
        polywire_codegen::configure().compile(&["wire/native.wire", "wire/rocketmq.wire"])
    {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
