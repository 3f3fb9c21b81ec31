//! What the checker tests share: loading a `.wire` text that must load, or must be refused
//! with a given number of errors.

// Each test crate uses what it needs of this module.
#![allow(dead_code)]

use polywire_codegen::ir::Protocol;

/// Loads `src` as `test.wire`, which must load; its IR.
pub fn load(src: &str) -> Protocol {
    polywire_codegen::load_str("test.wire", src)
        .unwrap_or_else(|e| panic!("{e}\n{src}"))
        .ir
}

/// Loads `src` as `test.wire`, expecting exactly `n` errors, all with a code in the
/// tables; returns the diagnostics rendered (warnings included).
pub fn fail_n(src: &str, n: usize) -> String {
    let e = polywire_codegen::load_str("test.wire", src)
        .err()
        .unwrap_or_else(|| panic!("expected `test.wire` to be rejected:\n{src}"));
    assert_eq!(
        e.diagnostics.iter().filter(|d| d.is_error()).count(),
        n,
        "number of diagnostics in:\n{}",
        e.rendered
    );
    for d in &e.diagnostics {
        let code = d.code.unwrap_or_else(|| panic!("no code:\n{}", e.rendered));
        assert!(
            polywire_codegen::codes::lookup(code).is_some(),
            "{code} is not in the tables"
        );
    }
    e.rendered
}
