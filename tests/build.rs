//! Generates `wire/kitchen.wire`, the protocol that uses every feature of the language.
fn main() {
    polywire_codegen::configure().compile_or_exit(&["wire/kitchen.wire"]);
}
