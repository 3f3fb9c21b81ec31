//! Generates `wire/kitchen.wire`, the protocol that uses every feature of the language.
fn main() {
    polywire_codegen::configure()
        .compile(&["wire/kitchen.wire"])
        .unwrap_or_else(|e| panic!("{e}"));
}
