fn main() {
    polywire_codegen::configure()
        .compile(&["chat.wire"])
        .unwrap_or_else(|e| panic!("{e}"));
}
