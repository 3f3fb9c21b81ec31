//! The `.wire` front end on any text: `load_str` (parse, lower, check) must give a protocol
//! or diagnostics, never panic. A protocol that loads is printed back to `.wire` text
//! (`ir::print::to_wire`), which must load to an equal IR and print identically, and the
//! emitter must generate its Rust (or report why not) without panicking.

use polywire_codegen::ir::{Protocol, print::to_wire};

/// The IR as JSON with every span zeroed: spans point into different texts.
fn normalized(ir: &Protocol) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "span" {
                        *x = serde_json::Value::Null;
                    } else {
                        walk(x);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(ir).expect("IR serializes");
    walk(&mut v);
    v
}

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Imports are read from disk: keep them away from device and process files.
    if ["/dev", "/proc", "/sys"].iter().any(|p| text.contains(p)) {
        return;
    }
    // Named inside `protocols/wire`, so that the bundled protocols' imports resolve.
    let name = concat!(env!("CARGO_MANIFEST_DIR"), "/../protocols/wire/fuzz.wire");
    let loaded = match polywire_codegen::load_str(name, text) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                !e.diagnostics.is_empty() || !e.rendered.is_empty(),
                "an empty error"
            );
            return;
        }
    };
    let printed = to_wire(&loaded.ir);
    let printed_name = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocols/wire/printed.wire"
    );
    let again = polywire_codegen::load_str(printed_name, &printed)
        .unwrap_or_else(|e| panic!("printed text does not load:\n{e}\n{printed}"));
    assert_eq!(
        normalized(&loaded.ir),
        normalized(&again.ir),
        "printed text:\n{printed}"
    );
    assert_eq!(printed, to_wire(&again.ir), "printing is not a fixed point");
    let _ = polywire_codegen::generate(&loaded.ir, &loaded.sources);
}
