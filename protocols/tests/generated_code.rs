//! Golden copy of the code generated for `wire/native.wire`: any change to the emitter or
//! the protocol shows up here as a reviewable diff (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test` and read the `.snap` diff).

#[test]
fn native_generated_code() {
    let code = include_str!(concat!(env!("OUT_DIR"), "/native.rs"));
    insta::assert_snapshot!("native.rs", code);
}

/// The same for `wire/resp.wire`: literals, decimals, `until` lines, counts, lengths of
/// absent values and a frame measured by decoding it.
#[test]
fn resp_generated_code() {
    let code = include_str!(concat!(env!("OUT_DIR"), "/resp.rs"));
    insta::assert_snapshot!("resp.rs", code);
}
