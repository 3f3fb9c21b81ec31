//! IR → `.wire` text → IR: printing a protocol and parsing the text back gives an equal IR.

use polywire_codegen::ir::{Protocol, print::to_wire};
use std::path::Path;

/// The IR as JSON with every span zeroed: spans point into different texts, all else must
/// be equal.
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

fn round_trip(file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../protocols/wire")
        .join(file);
    let original = polywire_codegen::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let text = to_wire(&original.ir);
    let reparsed = polywire_codegen::load_str("printed.wire", &text)
        .unwrap_or_else(|e| panic!("printed text does not parse:\n{e}\n{text}"));
    assert_eq!(
        normalized(&original.ir),
        normalized(&reparsed.ir),
        "printed text:\n{text}"
    );
    // Printing is a fixed point.
    assert_eq!(text, to_wire(&reparsed.ir));
}

#[test]
fn native_wire_round_trips() {
    round_trip("native.wire");
}

#[test]
fn rocketmq_wire_with_imports_round_trips() {
    round_trip("rocketmq.wire");
}

#[test]
fn printed_native_reads_like_the_source() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/wire/native.wire");
    let ir = polywire_codegen::load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .ir;
    let text = to_wire(&ir);
    for needle in [
        "protocol native \"polywire-native\" {",
        "versions 1..=3",
        "length: varint = len(..)",
        "body: bytes rest @message",
        "reason: string<varint, max = 1024>",
        "magic: u32 = 0x50574e48",
        "oneway Log = 3 { header LogHeader in headers, body bytes }",
        "request Echo = 1 { body bytes } -> { body bytes }",
        "prefix \"PWNH\" at 0",
        "NOT_SUPPORTED = 2 @not_supported",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// The protocol `macros/tests/common/native.rs` declares with `#[polywire::protocol]`, read
/// by the Rust-items front end the macro uses.
fn macro_native() -> Protocol {
    let src = include_str!("../../macros/tests/common/native.rs");
    let mut found =
        polywire_codegen::items::protocols_in_file(src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.len(), 1);
    found.remove(0)
}

#[test]
fn macro_defined_native_round_trips() {
    let ir = macro_native();
    let text = to_wire(&ir);
    let reparsed = polywire_codegen::load_str("printed.wire", &text)
        .unwrap_or_else(|e| panic!("printed text does not parse:\n{e}\n{text}"));
    assert_eq!(
        normalized(&ir),
        normalized(&reparsed.ir),
        "printed text:\n{text}"
    );
}

#[test]
fn macro_defined_native_is_the_same_ir_as_native_wire() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/wire/native.wire");
    let dsl = polywire_codegen::load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .ir;
    let macro_ir = macro_native();
    assert_eq!(
        to_wire(&dsl),
        to_wire(&macro_ir),
        "the two front ends disagree"
    );
    assert_eq!(normalized(&dsl), normalized(&macro_ir));
}

#[test]
fn detection_alternatives_parse_print_and_parse_back() {
    let src = r#"protocol t {
    frame {
        length: u32 = len(..)
        body: bytes rest
    }
    detect {
        prefix 0x00 at 0
        prefix "{" at 8
    } or {
        prefix 0x01 at 4
    }
}
"#;
    let ir = polywire_codegen::load_str("t.wire", src)
        .unwrap_or_else(|e| panic!("{e}"))
        .ir;
    let alts: Vec<Vec<(usize, Vec<u8>)>> = ir
        .detect
        .iter()
        .map(|a| a.iter().map(|r| (r.at, r.bytes.clone())).collect())
        .collect();
    assert_eq!(
        alts,
        [vec![(0, vec![0]), (8, b"{".to_vec())], vec![(4, vec![1])]]
    );
    let text = to_wire(&ir);
    assert!(text.contains("} or {"), "{text}");
    let back = polywire_codegen::load_str("printed.wire", &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .ir;
    assert_eq!(normalized(&ir), normalized(&back));
}

#[test]
fn resp_wire_with_literals_decimals_and_absent_lengths_round_trips() {
    round_trip("resp.wire");
}

#[test]
fn mqtt_wire_with_unions_tagged_lists_and_conditions_round_trips() {
    round_trip("mqtt.wire");
}

/// MQTT as `macros/tests/common/mqtt.rs` declares it with `#[polywire::protocol]`: unions,
/// tagged lists, conditions, presence bits and bounded varints as attributes.
fn macro_mqtt() -> Protocol {
    let src = include_str!("../../macros/tests/common/mqtt.rs");
    let mut found =
        polywire_codegen::items::protocols_in_file(src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.len(), 1);
    found.remove(0)
}

#[test]
fn macro_defined_mqtt_is_the_same_ir_as_mqtt_wire() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/wire/mqtt.wire");
    let dsl = polywire_codegen::load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .ir;
    let macro_ir = macro_mqtt();
    assert_eq!(
        to_wire(&dsl),
        to_wire(&macro_ir),
        "the two front ends disagree"
    );
    assert_eq!(normalized(&dsl), normalized(&macro_ir));
}

/// RESP as `macros/tests/common/resp.rs` declares it with `#[polywire::protocol]`: literal
/// fields, `until` lines, decimals, counts and `else` as attributes.
#[test]
fn macro_defined_resp_is_the_same_ir_as_resp_wire() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/wire/resp.wire");
    let dsl = polywire_codegen::load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .ir;
    let src = include_str!("../../macros/tests/common/resp.rs");
    let mut found =
        polywire_codegen::items::protocols_in_file(src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.len(), 1);
    let macro_ir = found.remove(0);
    assert_eq!(
        to_wire(&dsl),
        to_wire(&macro_ir),
        "the two front ends disagree"
    );
    assert_eq!(normalized(&dsl), normalized(&macro_ir));
}
