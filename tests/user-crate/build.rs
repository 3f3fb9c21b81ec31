fn main() {
    polywire_codegen::configure().compile_or_exit(&["chat.wire"]);
}
