//! Generates the README's `chat` protocol (`wire/chat.wire`, the README's text), which its
//! doctests include; `tests/readme.rs` keeps the two copies equal.
fn main() {
    // On an error: the diagnostics on stderr, exit status 1. Warnings show as cargo warnings.
    polywire_codegen::configure().compile_or_exit(&["wire/chat.wire"]);
}
