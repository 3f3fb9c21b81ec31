//! The `.wire` compiler's diagnostics, exactly as users see them: `file:line:col`, the
//! offending line, the caret under the offending text, and the help line.
//!
//! Every case is a named insta snapshot (`tests/snapshots/diagnostics__<case>.snap`); a
//! change in wording, position or caret fails the test until the snapshot is reviewed.

use std::path::{Path, PathBuf};

/// Loads `src` as `test.wire` and returns the rendered diagnostics; panics if it loads.
fn fail(src: &str) -> String {
    match polywire_codegen::load_str("test.wire", src) {
        Ok(_) => panic!("expected `test.wire` to be rejected:\n{src}"),
        Err(e) => {
            assert_eq!(e.to_string(), e.rendered, "Display is the rendering");
            assert!(
                !e.diagnostics.is_empty(),
                "an error carries its diagnostics"
            );
            e.rendered
        }
    }
}

/// Like [`fail`], also checking how many diagnostics there are.
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
    e.rendered
}

/// A fresh directory for files that import each other; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(case: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "polywire-diagnostics-{}-{case}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write temp file");
        p
    }

    /// Loads `path`, expecting failure, with the directory replaced by `[dir]` so that the
    /// snapshot does not depend on where the temp dir is.
    fn fail(&self, path: &Path) -> String {
        let e = polywire_codegen::load(path)
            .err()
            .unwrap_or_else(|| panic!("expected `{}` to be rejected", path.display()));
        e.rendered.replace(&self.0.display().to_string(), "[dir]")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn native_wire_loads() {
    let src = include_str!("../../protocols/wire/native.wire");
    match polywire_codegen::load_str("native.wire", src) {
        Ok(c) => assert!(c.warnings.is_empty(), "{:?}", c.warnings),
        Err(e) => panic!("native.wire must load:\n{e}"),
    }
}

// ---------------------------------------------------------------- syntax

#[test]
fn unterminated_block() {
    let src = r#"protocol t {
    struct Header {
        level: u8
        source: string<varint>

    struct Other {
        x: u8
    }
}
"#;
    insta::assert_snapshot!("unterminated_block", fail_n(src, 1));
}

#[test]
fn stray_closing_brace() {
    let src = r#"protocol t {
    struct A {
        x: u8
    }
    }
}
"#;
    insta::assert_snapshot!("stray_closing_brace", fail_n(src, 1));
}

#[test]
fn syntax_error_missing_colon() {
    let src = r#"protocol t {
    struct A {
        level u8
    }
}
"#;
    insta::assert_snapshot!("syntax_error_missing_colon", fail_n(src, 1));
}

#[test]
fn syntax_error_missing_colon_at_end_of_line() {
    // The caret goes after the name the `:` should follow, not on the next line's token.
    let src = r#"protocol t {
    struct A {
        level
        x: u8
    }
}
"#;
    insta::assert_snapshot!("syntax_error_missing_colon_at_end_of_line", fail_n(src, 1));
}

#[test]
fn syntax_error_bad_item() {
    let src = r#"protocol t {
    endian big
    strukt A {
        x: u8
    }
}
"#;
    insta::assert_snapshot!("syntax_error_bad_item", fail_n(src, 1));
}

#[test]
fn syntax_error_missing_equals() {
    let src = r#"protocol t {
    service Basic {
        request Echo 1 { body bytes } -> { body bytes }
    }
}
"#;
    insta::assert_snapshot!("syntax_error_missing_equals", fail_n(src, 1));
}

#[test]
fn syntax_error_after_comment() {
    let src = r#"protocol t {
    struct A {
        x: u8 // the first
        y u8
    }
}
"#;
    insta::assert_snapshot!("syntax_error_after_comment", fail_n(src, 1));
}

// ---------------------------------------------------------------- names and types

#[test]
fn unknown_type_did_you_mean() {
    let src = r#"protocol t {
    struct Header {
        level: u8
    }
    struct Request {
        header: Haeder
        id: u32
    }
}
"#;
    insta::assert_snapshot!("unknown_type_did_you_mean", fail_n(src, 1));
}

#[test]
fn unknown_builtin_type_did_you_mean() {
    let src = r#"protocol t {
    struct A {
        name: strnig<u16>
    }
}
"#;
    insta::assert_snapshot!("unknown_builtin_type_did_you_mean", fail_n(src, 1));
}

#[test]
fn duplicate_type() {
    let src = r#"protocol t {
    struct Header {
        level: u8
    }
    enum Header : u8 {
        A = 0
    }
}
"#;
    insta::assert_snapshot!("duplicate_type", fail_n(src, 1));
}

#[test]
fn duplicate_field() {
    let src = r#"protocol t {
    struct A {
        id: u32
        name: string<u16>
        id: u64
    }
}
"#;
    insta::assert_snapshot!("duplicate_field", fail_n(src, 1));
}

#[test]
fn unknown_attribute() {
    let src = r#"protocol t {
    struct A {
        id: u32 @corelation
    }
}
"#;
    insta::assert_snapshot!("unknown_attribute", fail_n(src, 1));
}

#[test]
fn attribute_not_allowed_on_bit_part() {
    let src = r#"protocol t {
    struct A {
        word: u8 {
            kind: u8 bits 0..4 @correlation
            level: u8 bits 4..8
        }
    }
}
"#;
    insta::assert_snapshot!("attribute_not_allowed_on_bit_part", fail_n(src, 1));
}

// ---------------------------------------------------------------- enums

#[test]
fn duplicate_enum_value() {
    let src = r#"protocol t {
    enum Color : u8 {
        RED = 0
        GREEN = 1
        BLUE = 1
    }
}
"#;
    insta::assert_snapshot!("duplicate_enum_value", fail_n(src, 1));
}

#[test]
fn enum_value_out_of_range() {
    let src = r#"protocol t {
    enum Color : u8 {
        RED = 0
        GREEN = 256
    }
}
"#;
    insta::assert_snapshot!("enum_value_out_of_range", fail_n(src, 1));
}

// ---------------------------------------------------------------- lengths

#[test]
fn string_without_length() {
    let src = r#"protocol t {
    struct A {
        id: u32
        name: string
    }
}
"#;
    insta::assert_snapshot!("string_without_length", fail_n(src, 1));
}

#[test]
fn prefix_too_small_for_max() {
    let src = r#"protocol t {
    struct A {
        name: string<u8, max = 300>
    }
}
"#;
    insta::assert_snapshot!("prefix_too_small_for_max", fail_n(src, 1));
}

#[test]
fn length_of_missing_field() {
    let src = r#"protocol t {
    struct A {
        count: u16 = len(itmes)
        items: bytes sized_by count
    }
}
"#;
    insta::assert_snapshot!("length_of_missing_field", fail(src));
}

#[test]
fn rest_not_last() {
    let src = r#"protocol t {
    struct A {
        body: bytes rest
        trailer: u32
    }
}
"#;
    insta::assert_snapshot!("rest_not_last", fail_n(src, 1));
}

#[test]
fn else_without_a_length_and_out_of_range() {
    let src = r#"protocol t {
    struct A {
        n: decimal<i64> until "\r\n" else -1
        m: u16 = len(data) else -1
        data: bytes sized_by m if m > 0
    }
}
"#;
    insta::assert_snapshot!("else_without_a_length_and_out_of_range", fail_n(src, 2));
}

// ---------------------------------------------------------------- bits

#[test]
fn bit_ranges_overlap() {
    let src = r#"protocol t {
    struct A {
        word: u16 {
            kind: u8 bits 0..4
            level: u8 bits 3..8
            high: u8 bits 8..16
        }
    }
}
"#;
    insta::assert_snapshot!("bit_ranges_overlap", fail_n(src, 1));
}

#[test]
fn bit_range_outside_integer() {
    let src = r#"protocol t {
    struct A {
        word: u8 {
            low: u8 bits 0..4
            high: u8 bits 4..12
        }
    }
}
"#;
    insta::assert_snapshot!("bit_range_outside_integer", fail_n(src, 1));
}

// ---------------------------------------------------------------- encodings

#[test]
fn discriminator_value_without_encoding() {
    let src = r#"protocol t {
    struct Payload {
        x: u32
    }
    encoding Payload json {}
    struct Message {
        format: u8
        length: u32 = len(payload)
        payload: Payload by format { 0 => binary, 1 => json, 2 => cbor } sized_by length
    }
}
"#;
    insta::assert_snapshot!("discriminator_value_without_encoding", fail_n(src, 1));
}

#[test]
fn encoding_format_in_upper_case() {
    let src = r#"protocol t {
    struct S { a: u8 }
    encoding S JSON { }
}
"#;
    insta::assert_snapshot!("encoding_format_in_upper_case", fail_n(src, 1));
}

#[test]
fn rename_all_unknown_case() {
    let src = r#"protocol t {
    struct S { a_b: u8 }
    encoding S json { rename_all train-case }
}
"#;
    insta::assert_snapshot!("rename_all_unknown_case", fail_n(src, 1));
}

// ---------------------------------------------------------------- frames and services

#[test]
fn frame_without_length() {
    let src = r#"protocol t {
    /// One message.
    frame {
        magic: u16 = 0x5057
        code: u16
        body: bytes rest
    }
}
"#;
    insta::assert_snapshot!("frame_without_length", fail_n(src, 1));
}

#[test]
fn kind_field_not_flags_with_response_bit() {
    let src = r#"protocol t {
    flags Flags : u8 {
        ONEWAY = bit 1 @oneway
    }
    frame {
        length: u32 = len(..)
        kind: Flags @kind
        body: bytes rest
    }
}
"#;
    insta::assert_snapshot!("kind_field_not_flags_with_response_bit", fail_n(src, 1));
}

#[test]
fn handshake_without_versions() {
    let src = r#"protocol t {
    struct Hello {
        max: u8 @max_version
    }
    struct Accept {
        version: u8 @version
    }
    /// Version negotiation.
    handshake {
        hello Hello
        accept Accept
    }
}
"#;
    insta::assert_snapshot!("handshake_without_versions", fail_n(src, 1));
}

#[test]
fn duplicate_request_code() {
    let src = r#"protocol t {
    service Basic {
        request Echo = 1 { body bytes } -> { body bytes }
        request Ping = 2
    }
    service Admin {
        request Shutdown = 2
    }
}
"#;
    insta::assert_snapshot!("duplicate_request_code", fail_n(src, 1));
}

#[test]
fn oneway_with_response() {
    let src = r#"protocol t {
    service Basic {
        oneway Log = 3 { body bytes } -> { body bytes }
    }
}
"#;
    insta::assert_snapshot!("oneway_with_response", fail_n(src, 1));
}

// ---------------------------------------------------------------- imports

#[test]
fn import_cycle() {
    let dir = TempDir::new("cycle");
    let a = dir.write(
        "a.wire",
        "import \"b.wire\"\n\nprotocol t {\n    struct A {\n        b: B\n    }\n}\n",
    );
    dir.write("b.wire", "import \"a.wire\"\n\nstruct B {\n    x: u8\n}\n");
    insta::assert_snapshot!("import_cycle", dir.fail(&a));
}

#[test]
fn import_of_itself() {
    let dir = TempDir::new("self");
    let a = dir.write(
        "a.wire",
        "import \"a.wire\"\n\nprotocol t {\n    struct A {\n        x: u8\n    }\n}\n",
    );
    insta::assert_snapshot!("import_of_itself", dir.fail(&a));
}

#[test]
fn unknown_import_file() {
    let dir = TempDir::new("missing");
    let a = dir.write(
        "a.wire",
        "import \"common.wire\"\n\nprotocol t {\n    struct A {\n        x: u8\n    }\n}\n",
    );
    insta::assert_snapshot!("unknown_import_file", dir.fail(&a));
}

#[test]
fn error_in_imported_file() {
    let dir = TempDir::new("imported");
    let a = dir.write(
        "a.wire",
        "import \"common.wire\"\n\nprotocol t {\n    struct A {\n        c: Common\n    }\n}\n",
    );
    dir.write("common.wire", "struct Common {\n    x: u8\n    x: u16\n}\n");
    insta::assert_snapshot!("error_in_imported_file", dir.fail(&a));
}

// ---------------------------------------------------------------- several errors

#[test]
fn errors_are_collected() {
    let src = r#"protocol t {
    enum Color : u8 {
        RED = 0
        GREEN = 300
    }
    struct A {
        id: u32
        body: bytes rest
        trailer: u8
    }
}
"#;
    insta::assert_snapshot!("errors_are_collected", fail_n(src, 2));
}

#[test]
fn lowering_errors_are_collected() {
    let src = r#"protocol t {
    struct Header {
        level: u8
    }
    struct Request {
        header: Heder
        id: u32 @corelation
    }
}
"#;
    insta::assert_snapshot!("lowering_errors_are_collected", fail_n(src, 2));
}

#[test]
fn empty_detection_alternative() {
    let src = r#"protocol t {
    frame {
        length: u32 = len(..)
        body: bytes rest
    }
    detect {
        prefix "T" at 0
    } or {
    }
}
"#;
    insta::assert_snapshot!("empty_detection_alternative", fail_n(src, 1));
}

// ---------------------------------------------------------------- text

#[test]
fn byte_order_mark_is_accepted() {
    let src = "\u{FEFF}protocol t {\n    frame {\n        length: u32 = len(..)\n        body: bytes rest\n    }\n}\n";
    let c = polywire_codegen::load_str("test.wire", src).expect("a BOM is skipped");
    assert!(c.warnings.is_empty());
    // Columns on the first line are counted after the mark.
    let src = "\u{FEFF}protocol t { strukt A { x: u8 } }\n";
    insta::assert_snapshot!("byte_order_mark_columns", fail_n(src, 1));
}

#[test]
fn unterminated_string() {
    let src = r#"import "common.wire

protocol t {
    detect { prefix "PW at 0 }
}
"#;
    insta::assert_snapshot!("unterminated_string", fail_n(src, 2));
}

#[test]
fn unterminated_block_comment() {
    let src = r#"protocol t {
    /* the frame
    frame {
        length: u32 = len(..)
    }
}
"#;
    insta::assert_snapshot!("unterminated_block_comment", fail_n(src, 1));
}

// ---------------------------------------------------------------- recovery

#[test]
fn syntax_error_then_semantic_errors_elsewhere() {
    // `A` is broken: its name is not reported again where `C` uses it, but the unknown
    // type in `B` is.
    let src = r#"protocol t {
    struct A {
        level u8
    }
    struct B {
        header: Heder
    }
    struct C {
        a: A
        b: B
    }
}
"#;
    insta::assert_snapshot!("recovery_reports_other_items", fail_n(src, 2));
}

#[test]
fn several_syntax_errors_are_reported() {
    let src = r#"/// Shared.
struct Top {
    x u8
}

protocol t {
    endian big
    enum Color : u8 {
        RED = 0
        GREEN 1
    }
    /// Uses both broken items.
    struct A {
        top: Top
        color: Color
        extra: Missing
    }
    frame {
        length: u32 = len(..)
        body bytes rest
    }
}
"#;
    insta::assert_snapshot!("recovery_several_syntax_errors", fail_n(src, 4));
}

// ---------------------------------------------------------------- detection bytes

#[test]
fn detect_numbers_give_their_full_bytes() {
    let src = |prefix: &str| {
        format!(
            "protocol t {{\n    frame {{\n        length: u32 = len(..)\n        body: bytes rest\n    }}\n    detect {{ prefix {prefix} at 0 }}\n}}\n"
        )
    };
    for (prefix, bytes) in [
        ("0x5057", vec![0x50, 0x57]),
        ("0x50 0x57", vec![0x50, 0x57]),
        ("0x057", vec![0x00, 0x57]),
        ("0x0000_5057", vec![0, 0, 0x50, 0x57]),
        ("0b1_0000_0001", vec![0x01, 0x01]),
        ("80 87", vec![80, 87]),
    ] {
        let c = polywire_codegen::load_str("test.wire", &src(prefix))
            .unwrap_or_else(|e| panic!("{prefix}: {e}"));
        assert_eq!(c.ir.detect[0][0].bytes, bytes, "{prefix}");
    }
    insta::assert_snapshot!("detect_decimal_above_a_byte", fail_n(&src("20567"), 1));
}

// ---------------------------------------------------------------- warnings

/// Loads `path` (which must load) and renders its warnings, the directory as `[dir]`.
fn warnings_of(dir: &TempDir, path: &Path, n: usize) -> String {
    let c = polywire_codegen::load(path).unwrap_or_else(|e| panic!("loads:\n{e}"));
    assert_eq!(c.warnings.len(), n, "{:?}", c.warnings);
    assert!(c.warnings.iter().all(|w| !w.is_error()));
    c.sources
        .render(&c.warnings)
        .replace(&dir.0.display().to_string(), "[dir]")
}

const MAIN_FRAME: &str =
    "    frame {\n        length: u32 = len(..)\n        body: bytes rest\n    }\n";

#[test]
fn warning_unused_import() {
    let dir = TempDir::new("unused-import");
    dir.write("common.wire", "struct Common {\n    x: u8\n}\n");
    let a = dir.write(
        "a.wire",
        &format!("import \"common.wire\"\n\nprotocol t {{\n{MAIN_FRAME}}}\n"),
    );
    insta::assert_snapshot!("warning_unused_import", warnings_of(&dir, &a, 1));
    // Used: no warning.
    let b = dir.write(
        "b.wire",
        &format!(
            "import \"common.wire\"\n\nprotocol t {{\n    struct S {{\n        c: Common\n    }}\n{MAIN_FRAME}}}\n"
        ),
    );
    warnings_of(&dir, &b, 0);
}

#[test]
fn warning_imported_protocol_is_ignored() {
    let dir = TempDir::new("imported-protocol");
    dir.write(
        "other.wire",
        "struct Shared {\n    x: u8\n}\n\nprotocol other {\n    struct Inner {\n        y: u8\n    }\n}\n",
    );
    let a = dir.write(
        "a.wire",
        &format!(
            "import \"other.wire\"\n\nprotocol t {{\n    struct S {{\n        s: Shared\n    }}\n{MAIN_FRAME}}}\n"
        ),
    );
    insta::assert_snapshot!("warning_imported_protocol", warnings_of(&dir, &a, 1));
}

#[test]
fn warning_type_name_not_camel_case() {
    let dir = TempDir::new("camel");
    let a = dir.write(
        "a.wire",
        &format!(
            "protocol t {{\n    struct my_header {{\n        x: u8\n    }}\n    enum COLOR_KIND : u8 {{\n        RED = 0\n    }}\n{MAIN_FRAME}}}\n"
        ),
    );
    insta::assert_snapshot!("warning_not_camel_case", warnings_of(&dir, &a, 2));
}

#[test]
fn errors_and_warnings_are_counted() {
    let src = r#"protocol t {
    struct my_header {
        x: Missing
    }
}
"#;
    let out = fail_n(src, 2);
    assert!(
        out.contains("error[E0130]: unknown type `Missing`"),
        "{out}"
    );
    assert!(out.contains("warning[W0103]: type `my_header`"), "{out}");
    insta::assert_snapshot!("errors_and_warnings_counted", out);
}

#[test]
fn deny_warnings_fails_the_build() {
    let dir = TempDir::new("deny");
    let a = dir.write(
        "a.wire",
        &format!("protocol t {{\n    struct my_header {{\n        x: u8\n    }}\n{MAIN_FRAME}}}\n"),
    );
    let out = dir.0.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let builder = polywire_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false);
    builder.compile(&[&a]).expect("warnings alone do not fail");
    assert!(out.join("a.rs").exists());
    std::fs::remove_file(out.join("a.rs")).unwrap();
    let e = builder
        .deny_warnings(true)
        .compile(&[&a])
        .expect_err("denied warnings fail");
    assert!(!out.join("a.rs").exists(), "nothing is written");
    insta::assert_snapshot!(
        "deny_warnings",
        e.rendered.replace(&dir.0.display().to_string(), "[dir]")
    );
}

#[test]
fn bundled_protocols_have_no_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in [
        "protocols/wire/native.wire",
        "protocols/wire/rocketmq.wire",
        "tests/wire/kitchen.wire",
    ] {
        let c = polywire_codegen::load(&root.join(f)).unwrap_or_else(|e| panic!("{f}:\n{e}"));
        assert!(
            c.warnings.is_empty(),
            "{f}:\n{}",
            c.sources.render(&c.warnings)
        );
    }
}

#[test]
fn compile_or_exit_prints_the_diagnostics_once_and_exits_1() {
    // The test binary runs itself: the child compiles a bad file and exits.
    if let Some(path) = std::env::var_os("POLYWIRE_COMPILE_OR_EXIT") {
        polywire_codegen::configure()
            .out_dir(std::env::temp_dir())
            .emit_rerun_if_changed(false)
            .compile_or_exit(&[path]);
        unreachable!("compile_or_exit returned on a bad file");
    }
    let dir = TempDir::new("exit");
    let bad = dir.write(
        "bad.wire",
        "protocol t {\n    struct A {\n        x: u33\n    }\n}\n",
    );
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "compile_or_exit_prints_the_diagnostics_once_and_exits_1",
            "--nocapture",
        ])
        .env("POLYWIRE_COMPILE_OR_EXIT", &bad)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("error[E0130]: unknown type `u33`").count(),
        1,
        "{err}"
    );
    assert!(err.contains("bad.wire:3:12"), "{err}");
    assert!(
        err.contains("error: aborting due to 1 previous error"),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn damaged_files_never_panic() {
    // Every damage at a spread of places in a real file: a deleted character, an inserted
    // `{`, `"`, `/*` or word. Loading reports errors (or, rarely, still succeeds); it never
    // panics and an error always carries a diagnostic.
    let src = include_str!("../../protocols/wire/native.wire");
    let places: Vec<usize> = (0..src.len())
        .step_by(71)
        .filter(|&i| src.is_char_boundary(i))
        .collect();
    for &i in &places {
        let next = src[i..].chars().next().map_or(0, char::len_utf8);
        let deleted = format!("{}{}", &src[..i], &src[i + next..]);
        let mut cases = vec![deleted];
        for ins in ["{", "\"", "/*", " bogus ", "}", "é", ":"] {
            cases.push(format!("{}{ins}{}", &src[..i], &src[i..]));
        }
        for case in cases {
            if let Err(e) = polywire_codegen::load_str("native.wire", &case) {
                assert!(!e.diagnostics.is_empty(), "at {i}: {}", e.rendered);
                assert!(e.rendered.contains("aborting due to"), "{}", e.rendered);
            }
        }
    }
}

#[test]
fn broken_handshake_message_is_not_reported_again() {
    let src = r#"protocol t {
    versions 1..=2
    struct Hello {
        max u8 @max_version
    }
    struct Accept {
        version: u8 @version
    }
    handshake {
        hello Hello
        accept Accept
    }
}
"#;
    let out = fail_n(src, 1);
    assert!(out.contains("error[E0101]"), "{out}");
}

#[test]
fn broken_import_is_the_only_error() {
    // What `common.wire` defines is unknown: `Common` is not reported.
    let src = r#"import common.wire

protocol t {
    struct A {
        c: Common
    }
}
"#;
    insta::assert_snapshot!("broken_import", fail_n(src, 1));
}

#[test]
fn build_warnings_reach_cargo_as_warning_lines() {
    // The test binary runs itself, as cargo runs a build script (`CARGO` set).
    if let Some(path) = std::env::var_os("POLYWIRE_BUILD_WARNINGS") {
        polywire_codegen::configure()
            .out_dir(std::path::PathBuf::from(&path).parent().unwrap())
            .emit_rerun_if_changed(false)
            .compile_or_exit(&[path]);
        return;
    }
    let dir = TempDir::new("cargo-warning");
    let a = dir.write(
        "a.wire",
        &format!("protocol t {{\n    struct my_header {{\n        x: u8\n    }}\n{MAIN_FRAME}}}\n"),
    );
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "build_warnings_reach_cargo_as_warning_lines",
            "--nocapture",
        ])
        .env("POLYWIRE_BUILD_WARNINGS", &a)
        .env("CARGO", "cargo")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("cargo:warning="))
        .collect();
    assert_eq!(
        lines.first(),
        Some(&"cargo:warning=warning[W0103]: type `my_header` should have a CamelCase name"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"cargo:warning=  = help: write `MyHeader`"),
        "{stdout}"
    );
    assert_eq!(
        lines.last(),
        Some(&"cargo:warning=warning: 1 warning emitted")
    );
    assert!(
        dir.0.join("a.rs").exists(),
        "warnings do not stop the build"
    );
}

#[test]
fn second_protocol_in_a_file() {
    let src = format!("protocol a {{\n{MAIN_FRAME}}}\n\nprotocol b {{\n{MAIN_FRAME}}}\n");
    insta::assert_snapshot!("second_protocol", fail_n(&src, 1));
}

/// Field names that begin with a keyword of the field syntax (`as`, `rest`, `sized_by`)
/// are names: the keyword ends where a name could not go on.
#[test]
fn names_that_begin_with_keywords() {
    let src = r#"protocol t {
    struct S {
        x: u8
        async: u8
        restore: u8
        sized_by_me: u8
        n: u8 = len(b)
        b: bytes sized_by n
        w: u16 as u32
        r: bytes rest
    }
}
"#;
    let c = polywire_codegen::load_str("test.wire", src).unwrap_or_else(|e| panic!("{e}"));
    let s = c.ir.struct_def(c.ir.type_index("S").unwrap());
    let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["x", "async", "restore", "sized_by_me", "n", "b", "w", "r"]
    );
}

#[test]
fn encoding_of_an_unknown_type() {
    let src = r#"protocol t {
    struct Point { x: u8 }
    encoding Piont json { }
}
"#;
    insta::assert_snapshot!("encoding_of_an_unknown_type", fail(src));
}

#[test]
fn present_on_a_whole_field_and_sized_by_a_string() {
    let src = r#"protocol t {
    struct S {
        has_x: u8 = present(x)
        x: u16 if has_x
        body: bytes sized_by string<u8>
    }
}
"#;
    insta::assert_snapshot!(fail_n(src, 2));
}

#[test]
fn frame_that_is_an_enum() {
    let src = r#"protocol t {
    enum K : u8 { A = 1 }
    frame K
}
"#;
    insta::assert_snapshot!(fail_n(src, 1));
}

#[test]
fn frame_named_after_a_frame_block() {
    let src = r#"protocol t {
    struct A { kind: u8 = 1, length: u8 = len(..) }
    union U { A }
    frame { length: u8 = len(..) }
    frame U
}
"#;
    insta::assert_snapshot!(fail_n(src, 1));
}

#[test]
fn type_attributes_land_on_their_types_and_bad_ones_fail_the_build() {
    let dir = TempDir::new("attrs");
    let a = dir.write(
        "a.wire",
        &format!("protocol t {{\n    struct Point {{\n        x: u8\n    }}\n{MAIN_FRAME}}}\n"),
    );
    let out = dir.0.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let builder = polywire_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .type_attribute("Point", "#[derive(Hash)]")
        .type_attribute(".", "#[doc(alias = \"every\")]");
    builder.compile(&[&a]).expect("compiles");
    let code = std::fs::read_to_string(out.join("a.rs")).unwrap();
    let at = code.find("pub struct Point").expect("Point is defined");
    let head = &code[..at];
    let own = head.rfind("#[derive(Hash)]").expect("Point's attribute");
    assert!(
        head[own..].lines().count() <= 4,
        "the attribute is on Point:\n{}",
        &head[own..]
    );
    assert_eq!(
        code.matches("#[doc(alias = \"every\")]").count(),
        code.matches("\npub struct ").count() + code.matches("\npub enum ").count(),
        "`.` reaches every type"
    );
    let e = builder
        .type_attribute("Point", "derive(Hash)")
        .compile(&[&a])
        .expect_err("not an attribute");
    assert!(
        e.rendered
            .contains("type_attribute for `Point`: `derive(Hash)` is not an outer attribute"),
        "{}",
        e.rendered
    );
}

/// `server(false)` and `client(false)` leave out one side of the typed glue, for a service
/// protocol and for one with an `exchange` block.
#[test]
fn server_and_client_switches_leave_out_their_side() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = TempDir::new("sides");
    for (file, server_item, client_item) in [
        (
            "protocols/wire/native.wire",
            "pub fn serve_basic<",
            "pub struct BasicClient",
        ),
        (
            "protocols/wire/mqtt.wire",
            "pub trait MqttHandler",
            "pub struct Client(",
        ),
    ] {
        for (server, client) in [(true, true), (false, true), (true, false), (false, false)] {
            let out = dir.0.join(format!("{server}-{client}"));
            std::fs::create_dir_all(&out).unwrap();
            polywire_codegen::configure()
                .out_dir(&out)
                .emit_rerun_if_changed(false)
                .server(server)
                .client(client)
                .compile(&[root.join(file)])
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let stem = Path::new(file).file_stem().unwrap().to_str().unwrap();
            let code = std::fs::read_to_string(out.join(format!("{stem}.rs"))).unwrap();
            assert_eq!(code.contains(server_item), server, "{file}: {server_item}");
            assert_eq!(code.contains(client_item), client, "{file}: {client_item}");
            // The codec is there whatever the sides.
            assert!(code.contains("impl __pw::WireMessage for"));
        }
    }
}

/// Two files with one stem would write one `<stem>.rs`: the build fails, naming both.
#[test]
fn two_files_with_one_stem_fail_the_build() {
    let dir = TempDir::new("stems");
    let text = format!("protocol t {{\n{MAIN_FRAME}}}\n");
    std::fs::create_dir_all(dir.0.join("a")).unwrap();
    std::fs::create_dir_all(dir.0.join("b")).unwrap();
    let a = dir.write("a/chat.wire", &text);
    let b = dir.write("b/chat.wire", &text);
    let out = dir.0.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let e = polywire_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile(&[&a, &b])
        .expect_err("one stem for two files");
    assert!(
        e.rendered.contains("would both be generated as `chat.rs`")
            && e.rendered.contains("a/chat.wire")
            && e.rendered.contains("b/chat.wire"),
        "{}",
        e.rendered
    );
    assert!(!out.join("chat.rs").exists(), "nothing is written");
}

/// `output_name` gives two files with one stem names of their own, each written under it;
/// a name that is not a plain file name fails the build.
#[test]
fn output_names_keep_two_files_with_one_stem_apart() {
    let dir = TempDir::new("output-names");
    std::fs::create_dir_all(dir.0.join("a")).unwrap();
    std::fs::create_dir_all(dir.0.join("b")).unwrap();
    let a = dir.write(
        "a/chat.wire",
        &format!("protocol a \"chat-a\" {{\n{MAIN_FRAME}}}\n"),
    );
    let b = dir.write(
        "b/chat.wire",
        &format!("protocol b \"chat-b\" {{\n{MAIN_FRAME}}}\n"),
    );
    let out = dir.0.join("out");
    std::fs::create_dir_all(&out).unwrap();
    polywire_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .output_name(&b, "chat_b")
        .compile(&[&a, &b])
        .unwrap_or_else(|e| panic!("{e}"));
    let (ca, cb) = (
        std::fs::read_to_string(out.join("chat.rs")).unwrap(),
        std::fs::read_to_string(out.join("chat_b.rs")).unwrap(),
    );
    assert!(ca.contains("\"chat-a\""), "a/chat.wire as chat.rs");
    assert!(cb.contains("\"chat-b\""), "b/chat.wire as chat_b.rs");
    let e = polywire_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .output_name(&b, "../escape")
        .compile(&[&a, &b])
        .expect_err("not a file name");
    assert!(
        e.rendered.contains("`../escape` is not a file name"),
        "{}",
        e.rendered
    );
}

/// An import not next to its importer is looked for in the include folders, in order;
/// without them the error names the folders it looked in.
#[test]
fn imports_are_found_in_include_folders() {
    let dir = TempDir::new("include");
    for d in ["main", "first", "second"] {
        std::fs::create_dir_all(dir.0.join(d)).unwrap();
    }
    dir.write("second/common.wire", "struct Common {\n    x: u8\n}\n");
    let main = dir.write(
        "main/t.wire",
        &format!("import \"common.wire\"\n\nprotocol t {{\n    struct S {{\n        c: Common\n    }}\n{MAIN_FRAME}}}\n"),
    );
    let e = polywire_codegen::load_with(&main, &[dir.0.join("first")])
        .expect_err("common.wire is in neither folder");
    assert!(e.rendered.contains("cannot read"), "{}", e.rendered);
    assert!(
        e.rendered.contains("then to the include folders"),
        "{}",
        e.rendered
    );
    polywire_codegen::load_with(&main, &[dir.0.join("first"), dir.0.join("second")])
        .unwrap_or_else(|e| panic!("{e}"));
    // Next to the importer comes first.
    dir.write("main/common.wire", "this is not a wire file");
    assert!(polywire_codegen::load_with(&main, &[dir.0.join("second")]).is_err());
    // And the builder takes the same folders.
    std::fs::remove_file(dir.0.join("main/common.wire")).unwrap();
    let out = dir.0.join("out");
    std::fs::create_dir_all(&out).unwrap();
    polywire_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .include(dir.0.join("second"))
        .compile(&[&main])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.join("t.rs").exists());
}
