//! Misuse of the macros: each case in `ui/` fails to compile with the error (text and span)
//! in its `.stderr`. Regenerate with `TRYBUILD=overwrite` and read every file.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
