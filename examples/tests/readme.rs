//! The README's `chat` protocol and its `build.rs` are this crate's own (`wire/chat.wire`,
//! `build.rs`), so that the README's doctests include what the README shows.

/// The text of the first fenced block after the line `label` in the README.
fn block_after(label: &str) -> String {
    let readme = include_str!("../../README.md");
    let at = readme
        .find(&format!("\n{label}\n"))
        .unwrap_or_else(|| panic!("the README has a line {label:?}"));
    let rest = &readme[at..];
    let open = rest.find("```").expect("a block follows");
    let body = &rest[open..];
    let body = &body[body.find('\n').expect("a fence line") + 1..];
    body[..body.find("\n```").expect("the block ends")].to_string() + "\n"
}

#[test]
fn the_readmes_chat_protocol_is_the_one_its_doctests_include() {
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/wire/chat.wire"))
        .expect("reads wire/chat.wire");
    assert_eq!(block_after("`wire/chat.wire`:"), file);
}

#[test]
fn the_readmes_build_script_is_this_crates() {
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/build.rs"))
        .expect("reads build.rs");
    let block = block_after("`build.rs` (with `polywire-codegen` as a build-dependency):");
    assert!(
        file.ends_with(&block),
        "build.rs ends with the README's block:\n{block}"
    );
}
