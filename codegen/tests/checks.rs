//! The checker's verdicts on `.wire` files that parse and lower but cannot be generated
//! correctly: names the emitter would make twice, values that do not fit, layouts that
//! cannot be read back, services without the frame roles they need. Each case is a named
//! insta snapshot (`tests/snapshots/checks__<case>.snap`) of the diagnostics as users see
//! them.

use polywire_codegen::ir::check;

/// Loads `src` as `test.wire`, expecting exactly `n` diagnostics, and returns them
/// rendered; panics if it loads.
fn fail_n(src: &str, n: usize) -> String {
    let e = polywire_codegen::load_str("test.wire", src)
        .err()
        .unwrap_or_else(|| panic!("expected `test.wire` to be rejected:\n{src}"));
    assert_eq!(
        e.diagnostics.len(),
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

/// Loads `src` as `test.wire`, which must pass the checks, and renders its warnings.
fn warnings(src: &str) -> String {
    let c = polywire_codegen::load_str("test.wire", src)
        .unwrap_or_else(|e| panic!("expected `test.wire` to load:\n{e}"));
    let w = check::warnings(&c.ir);
    assert!(w.iter().all(|d| !d.is_error()), "warnings only");
    c.sources.render(&w)
}

/// Every protocol the repository ships passes the checks and draws no warning.
#[test]
fn shipped_protocols_pass() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for f in [
        "protocols/wire/native.wire",
        "protocols/wire/rocketmq.wire",
        "tests/wire/kitchen.wire",
        "tests/user-crate/chat.wire",
    ] {
        let c = polywire_codegen::load(std::path::Path::new(&format!("{root}/{f}")))
            .unwrap_or_else(|e| panic!("{f} must load:\n{e}"));
        let w = check::warnings(&c.ir);
        assert!(w.is_empty(), "{f}:\n{}", c.sources.render(&w));
    }
}
