//! The checker's verdicts on `.wire` files that parse and lower but cannot be generated
//! correctly: names the emitter would make twice, values that do not fit, layouts that
//! cannot be read back, services without the frame roles they need. Each case is a named
//! insta snapshot (`tests/snapshots/checks__<case>.snap`) of the diagnostics as users see
//! them.

mod common;

use common::fail_n;
use polywire_codegen::ir::check;

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
        "protocols/wire/mqtt.wire",
        "protocols/wire/resp.wire",
        "tests/wire/kitchen.wire",
        "tests/user-crate/chat.wire",
    ] {
        let c = polywire_codegen::load(std::path::Path::new(&format!("{root}/{f}")))
            .unwrap_or_else(|e| panic!("{f} must load:\n{e}"));
        let w = check::warnings(&c.ir);
        assert!(w.is_empty(), "{f}:\n{}", c.sources.render(&w));
    }
}

/// Every checker code is listed once, with a title and an explanation that shows an
/// example.
#[test]
fn codes_are_explained() {
    let codes = polywire_codegen::codes::check::CODES;
    assert!(!codes.is_empty());
    assert!(
        codes.windows(2).all(|w| w[0].code < w[1].code),
        "codes are in order"
    );
    for (i, c) in codes.iter().enumerate() {
        assert!(
            c.code.starts_with("E03") || c.code.starts_with("W03"),
            "{}",
            c.code
        );
        assert!(!c.title.is_empty(), "{} has no title", c.code);
        assert!(c.explanation.contains("```"), "{} has no example", c.code);
        assert!(
            !codes[..i].iter().any(|d| d.code == c.code),
            "{} is listed twice",
            c.code
        );
    }
}

/// A frame with every role a service needs; `{code}` is the `@code` field's type.
fn service_frame(code: &str, rest: &str) -> String {
    format!(
        r#"protocol t {{
    flags Kind : u8 {{ RESPONSE = bit 0 @response }}
    frame {{
        length: u32 = len(..)
        id: u32 @correlation
        kind: Kind @kind
        code: {code} @code
        remark: string<u16> @message
        body: bytes rest
    }}
{rest}
}}
"#
    )
}

// ---- names ----

#[test]
fn fields_equal_in_rust() {
    let src = r#"protocol t {
    struct A {
        userId: u32
        user_id: u16
        word: u8 { USER_ID: u8 bits 0..8 }
    }
}
"#;
    insta::assert_snapshot!("fields_equal_in_rust", fail_n(src, 2));
}

#[test]
fn variants_equal_in_rust() {
    let src = r#"protocol t {
    enum E : u8 { NOT_FOUND = 0, NotFound = 1 }
    flags F : u8 { readOnly = bit 0, READ_ONLY = bit 1 }
}
"#;
    insta::assert_snapshot!("variants_equal_in_rust", fail_n(src, 2));
}

#[test]
fn variant_named_like_generated_member() {
    let src = r#"protocol t {
    enum Level : u8 open { LOW = 0, UNKNOWN = 1 }
    enum Closed : u8 { UNKNOWN = 0, aLL = 1 }
}
"#;
    insta::assert_snapshot!("variant_named_like_generated_member", fail_n(src, 2));
}

#[test]
fn requests_equal_in_rust() {
    let src = service_frame(
        "u16",
        r#"    service A { request getTopic = 1 }
    service B { request GET_TOPIC = 2 }"#,
    );
    insta::assert_snapshot!("requests_equal_in_rust", fail_n(&src, 1));
}

#[test]
fn request_named_like_client_method() {
    let src = service_frame("u16", "    service A { request Pipeline = 1 }");
    insta::assert_snapshot!("request_named_like_client_method", fail_n(&src, 1));
}

#[test]
fn type_named_like_generated_type() {
    let src = service_frame(
        "u16",
        r#"    struct GetRequest { a: u8 }
    struct FrameCodec { a: u8 }
    struct TProtocol { a: u8 }
    struct StoreClient { a: u8 }
    enum protocol_info : u8 { A = 0 }
    service Store { request Get = 1 }"#,
    );
    insta::assert_snapshot!("type_named_like_generated_type", fail_n(&src, 5));
}

#[test]
fn services_generate_one_name() {
    let src = service_frame(
        "u16",
        r#"    service Store { request Get = 1 }
    service StoreNow { request Put = 2 }"#,
    );
    insta::assert_snapshot!("services_generate_one_name", fail_n(&src, 1));
}

#[test]
fn type_named_like_rust_primitive_or_keyword() {
    let src = r#"protocol t {
    struct u8 { a: u16 }
    struct type { a: u16 }
    enum Self : u8 { A = 0 }
}
"#;
    insta::assert_snapshot!("type_named_like_rust_primitive_or_keyword", fail_n(src, 3));
}

// ---- values ----

#[test]
fn request_code_beyond_code_field() {
    let src = service_frame(
        "u8",
        r#"    service A {
        request Big = 300
        request Negative = -1
        request Fine = 255
    }"#,
    );
    insta::assert_snapshot!("request_code_beyond_code_field", fail_n(&src, 2));
}

#[test]
fn response_code_beyond_code_field() {
    let src = service_frame(
        "u16",
        r#"    responses Status : i16 { SUCCESS = 0 @success, SYSTEM_ERROR = 1 @system_error, DENIED = -7 }
    service A { request Get = 1 }"#,
    );
    insta::assert_snapshot!("response_code_beyond_code_field", fail_n(&src, 1));
}

#[test]
fn widened_code_field_is_checked_as_written() {
    // `i16 as i32` travels as an i16: 40000 does not fit although the Rust side is i32.
    let src = service_frame("i16 as i32", "    service A { request Big = 40000 }");
    insta::assert_snapshot!("widened_code_field_is_checked_as_written", fail_n(&src, 1));
}

#[test]
fn bit_part_constant_too_wide() {
    let src = r#"protocol t {
    struct A {
        word: u8 {
            version: u8 bits 0..2 = 5
            sign: u8 bits 2..4 = -1
            ok: u8 bits 4..8 = 15
        }
    }
}
"#;
    insta::assert_snapshot!("bit_part_constant_too_wide", fail_n(src, 2));
}

#[test]
fn limits_that_cannot_work() {
    let src = r#"protocol t {
    limits {
        max_frame_len = 3
        max_string_len = 0
        max_collection_len = -1
    }
    frame {
        magic: u16 = 0x5057
        length: u16 = len(..)
        name: string<u8>
    }
}
"#;
    insta::assert_snapshot!("limits_that_cannot_work", fail_n(src, 3));
}

#[test]
fn frame_limit_beyond_length_field() {
    let src = r#"protocol t {
    limits { max_frame_len = 1048576 }
    frame {
        magic: u16 = 0x5057
        length: u16 = len(..)
        body: bytes rest
    }
}
"#;
    insta::assert_snapshot!("frame_limit_beyond_length_field", fail_n(src, 1));
}

#[test]
fn zero_limits_for_kinds_the_protocol_lacks_are_fine() {
    let src = r#"protocol t {
    limits { max_frame_len = 6, max_string_len = 0, max_collection_len = 0 }
    frame {
        length: u16 = len(..)
        a: u32
    }
}
"#;
    assert_eq!(warnings(src), "");
}

#[test]
fn by_arm_out_of_discriminator_range() {
    let src = r#"protocol t {
    struct H { a: u8 }
    encoding H json { }
    struct A {
        word: u8 {
            serialize: u8 bits 6..8
            yes: bool bits 5..6
            n: u8 bits 0..5 = len(h)
        }
        h: H by serialize { 0 => json, 3 => binary, 4 => binary } sized_by n
        small: u8
        g: H by small { 255 => binary, 256 => json, -1 => json } sized_by u8
        b: H by yes { 1 => json, 2 => binary } sized_by u8
    }
}
"#;
    insta::assert_snapshot!("by_arm_out_of_discriminator_range", fail_n(src, 4));
}

#[test]
fn by_arm_repeated() {
    let src = r#"protocol t {
    struct H { a: u8 }
    encoding H json { }
    struct A {
        kind: u8
        h: H by kind { 0 => json, 1 => binary, 0 => binary } sized_by u16
    }
}
"#;
    insta::assert_snapshot!("by_arm_repeated", fail_n(src, 1));
}

#[test]
fn discriminator_that_cannot_choose() {
    let src = r#"protocol t {
    enum Mode : u8 { JSON = 0, BIN = 1 }
    struct H { a: u8 }
    encoding H json { }
    struct A {
        word: u8 {
            era: u8 bits 0..2 = 2
            mode: Mode bits 2..4
        }
        h: H by era { 2 => json } sized_by u16
        g: H by mode { 0 => json } sized_by u16
    }
}
"#;
    insta::assert_snapshot!("discriminator_that_cannot_choose", fail_n(src, 2));
}

// ---- layouts ----

#[test]
fn rest_struct_not_last() {
    let src = r#"protocol t {
    struct Msg {
        kind: u8
        text: bytes rest
    }
    struct Outer {
        msg: Msg
        crc: u32
    }
    struct Maybe {
        msg: Msg?
        crc: u32
    }
}
"#;
    insta::assert_snapshot!("rest_struct_not_last", fail_n(src, 2));
}

#[test]
fn rest_struct_in_a_list() {
    let src = r#"protocol t {
    struct Msg {
        kind: u8
        text: bytes rest
    }
    struct Batch {
        msgs: list<Msg, u16>
        by_id: map<u8, Msg?> sized_by u32
    }
}
"#;
    insta::assert_snapshot!("rest_struct_in_a_list", fail_n(src, 2));
}

#[test]
fn rest_struct_through_another_struct() {
    // `Outer` ends with `Msg`, which reads to the end: so does `Outer`.
    let src = r#"protocol t {
    struct Msg { kind: u8, text: bytes rest }
    struct Outer { id: u32, msg: Msg }
    struct Top { outer: Outer, crc: u32 }
}
"#;
    insta::assert_snapshot!("rest_struct_through_another_struct", fail_n(src, 1));
}

#[test]
fn rest_struct_where_it_has_an_end() {
    // Last in its parent, sized, or bounded by its own `len(..)`: all readable.
    let src = r#"protocol t {
    struct Msg { kind: u8, text: bytes rest }
    struct Framed { size: u16 = len(..), kind: u8, text: bytes rest }
    struct Ok {
        sized: Msg sized_by u16
        framed: Framed
        list: list<Framed, u8>
        last: Msg
    }
}
"#;
    assert_eq!(warnings(src), "");
}

// ---- services ----

#[test]
fn service_without_code_and_message() {
    let src = r#"protocol t {
    flags Kind : u8 { RESPONSE = bit 0 @response }
    frame {
        length: u32 = len(..)
        id: u32 @correlation
        kind: Kind @kind
        body: bytes rest
    }
    service A { request Get = 1 }
}
"#;
    insta::assert_snapshot!("service_without_code_and_message", fail_n(src, 1));
}

#[test]
fn service_without_correlation_kind_or_body() {
    let src = r#"protocol t {
    frame {
        length: u32 = len(..)
        code: u16 @code
        remark: string<u16> @message
    }
    service A { request Get = 1 { body bytes } }
}
"#;
    insta::assert_snapshot!("service_without_correlation_kind_or_body", fail_n(src, 1));
}

#[test]
fn code_on_an_enum_and_message_on_an_integer() {
    let src = r#"protocol t {
    flags Kind : u8 { RESPONSE = bit 0 @response }
    enum Status : u16 { OK = 0 }
    frame {
        length: u32 = len(..)
        id: u32 @correlation
        kind: Kind @kind
        code: Status @code
        remark: u32 @message
        body: bytes rest
    }
    service A { request Get = 1 }
}
"#;
    insta::assert_snapshot!("code_on_an_enum_and_message_on_an_integer", fail_n(src, 2));
}

#[test]
fn bodies_the_generated_code_cannot_carry() {
    let src = service_frame(
        "u16",
        r#"    struct Point { x: u8 }
    enum Mode : u8 { A = 0 }
    header H { a: u8 }
    service A {
        request Json = 1 { body Point as json }
        request Raw = 2 { body bytes as json }
        request Enum = 3 { body Mode }
        request Head = 4 -> { body H }
        request List = 5 { body list<u8> }
    }"#,
    );
    insta::assert_snapshot!("bodies_the_generated_code_cannot_carry", fail_n(&src, 5));
}

// ---- warnings ----

#[test]
fn responses_without_success_and_system_error() {
    let src = service_frame(
        "i16",
        r#"    responses Status : i16 { OK = 200, SYSTEM_ERROR = 0, NOT_SUPPORTED = 2 @not_supported }
    service A { request Get = 1 }"#,
    );
    insta::assert_snapshot!("responses_without_success_and_system_error", warnings(&src));
}

#[test]
fn default_frame_limit_beyond_length_field() {
    let src = r#"protocol t {
    frame {
        magic: u16 = 0x5057
        length: u16 = len(..)
        body: bytes rest
    }
}
"#;
    insta::assert_snapshot!("default_frame_limit_beyond_length_field", warnings(src));
}

// ---- what the generated code cannot express ----

#[test]
fn names_reserved_for_generated_code() {
    let src = r#"protocol t {
    struct A {
        __r: u8
        word: u8 { __w: u8 bits 0..8 }
        b: string<u8>
    }
    header H { map: string<u8>, b: u32 }
}
"#;
    insta::assert_snapshot!("names_reserved_for_generated_code", fail_n(src, 3));
}

#[test]
fn service_named_s_or_self() {
    let src = service_frame(
        "u16",
        r#"    service s { request Get = 1 }
    service Self { request Put = 2 }"#,
    );
    // `Self` is renamed by the emitter (`Self_`); `S` would be the generic of `serve_s`.
    insta::assert_snapshot!("service_named_s_or_self", fail_n(&src, 1));
}

#[test]
fn enum_without_variants() {
    let src = r#"protocol t {
    enum Mode : u8 { }
    enum Any : u8 open { }
    struct A { m: Any }
}
"#;
    insta::assert_snapshot!("enum_without_variants", fail_n(src, 1));
}

#[test]
fn header_held_in_a_message() {
    let src = r#"protocol t {
    header H { key: string<u16> }
    struct A { h: H, hs: list<H, u8> }
}
"#;
    insta::assert_snapshot!("header_held_in_a_message", fail_n(src, 2));
}

#[test]
fn echo_of_values_it_cannot_copy() {
    let src = r#"protocol t {
    flags Kind : u8 { RESPONSE = bit 0 @response }
    struct Other { x: u8 @echo }
    frame {
        length: u32 = len(..)
        id: u32 @correlation
        kind: Kind @kind
        code: u16 @code
        tag: string<u8> @echo
        wide: u32 @echo
        small: u8 @echo
        word: u8 { a: u8 bits 0..2 @echo, b: bool bits 2..3 @echo, c: u8 bits 3..5 @echo, d: u8 bits 5..8 @echo }
        other: Other
        remark: string<u16> @message
        body: bytes rest
    }
}
"#;
    insta::assert_snapshot!("echo_of_values_it_cannot_copy", fail_n(src, 4));
}

#[test]
fn json_nested_struct_without_encoding() {
    let src = r#"protocol t {
    struct Point { x: i32 }
    struct A { at: Point, path: list<Point, u8> }
    encoding A json { }
}
"#;
    insta::assert_snapshot!("json_nested_struct_without_encoding", fail_n(src, 2));
}

#[test]
fn json_struct_chosen_by_a_discriminator_without_encoding() {
    let src = r#"protocol t {
    struct In { a: u8 }
    struct S { d: u8, x: In by d { 0 => binary } sized_by u8 }
    encoding S json { }
}
"#;
    insta::assert_snapshot!(
        "json_struct_chosen_by_a_discriminator_without_encoding",
        fail_n(src, 1)
    );
}

#[test]
fn json_of_unions_and_tagged_lists() {
    let src = r#"protocol t {
    struct Ping { kind: u8 = 0xC0 }
    struct Pong { kind: u8 = 0xD0 }
    union U { Ping, Pong }
    tagged Props : u8 { 0x01 a: u8 }
    struct A { u: U, props: Props? sized_by u8 }
    encoding A json { }
}
"#;
    insta::assert_snapshot!("json_of_unions_and_tagged_lists", fail_n(src, 2));
}

#[test]
fn json_rules_and_keys() {
    let src = r#"protocol t {
    enum E : u8 { A = 0 }
    struct A { a: u8, b: u8, c: E, d: u8, userId: u8 }
    encoding A json {
        rename_all snake_case
        rename a = "x"
        rename b = "x"
        rename missing = "y"
        d as name
        c as name
        constant "user_id" = 1
    }
}
"#;
    insta::assert_snapshot!("json_rules_and_keys", fail_n(src, 4));
}

#[test]
fn struct_carried_as_a_header() {
    let src = service_frame(
        "u16",
        r#"    struct H { a: list<u8, u8>, b: u8 }
    header G { w: u8 { x: u8 bits 0..4 }, c: u8 = 3, s: string<u8> }
    service Svc { request Put = 1 { header H in remark }, request Get = 2 }"#,
    )
    .replace(
        "remark: string<u16> @message",
        "remark: string<u16> @message\n        ext: map<string<u16>, string<u16>, u16>",
    )
    .replace("header H in remark", "header H in ext");
    insta::assert_snapshot!("struct_carried_as_a_header", fail_n(&src, 3));
}

#[test]
fn header_chosen_by_a_discriminator() {
    let src = r#"protocol t {
    header H { a: u8 }
    struct A { k: u8, h: H by k { 0 => binary } sized_by u8 }
}
"#;
    insta::assert_snapshot!("header_chosen_by_a_discriminator", fail_n(src, 1));
}

#[test]
fn oneway_without_oneway_bit() {
    let src = service_frame("u16", "    service Svc { oneway Note = 1 }");
    insta::assert_snapshot!("oneway_without_oneway_bit", fail_n(&src, 1));
}

/// A handshake with a frame, its messages as given.
fn handshake(versions: &str, messages: &str) -> String {
    format!(
        r#"protocol t {{
    versions {versions}
    flags Kind : u8 {{ RESPONSE = bit 0 @response }}
    frame {{
        length: u32 = len(..)
        id: u32 @correlation
        kind: Kind @kind
        body: bytes rest
    }}
{messages}
    handshake {{ hello Hello, accept Accept }}
}}
"#
    )
}

#[test]
fn handshake_fields_that_cannot_carry_versions() {
    let src = handshake(
        "1..=300",
        r#"    struct Hello { magic: u8 = 1, min_version: u8 @min_version, max_version: string<u8> @max_version, features: string<u8> @features }
    struct Accept { tag: u8 = 2 }"#,
    );
    insta::assert_snapshot!(
        "handshake_fields_that_cannot_carry_versions",
        fail_n(&src, 4)
    );
}

#[test]
fn handshake_message_declared_as_header() {
    let src = handshake(
        "1..=3",
        r#"    header Hello { max_version: u8 @max_version }
    struct Accept { tag: u8 = 2, version: u8 @version }"#,
    );
    insta::assert_snapshot!("handshake_message_declared_as_header", fail_n(&src, 1));
}

#[test]
fn handshake_on_a_frame_without_roles() {
    let src = handshake(
        "1..=3",
        r#"    struct Hello { max_version: u8 @max_version }
    struct Accept { tag: u8 = 2, version: u8 @version }"#,
    )
    .replace("@correlation", "");
    insta::assert_snapshot!("handshake_on_a_frame_without_roles", fail_n(&src, 1));
}

#[test]
fn length_after_what_it_measures() {
    let src = r#"protocol t {
    struct A {
        a: u32
        n: u8 = len(a)
        x: u8
        m: u16 = len(x..)
        y: u8
    }
    struct B {
        s: string<u8>
        w: u8 { k: u8 bits 0..8 = len(s) }
    }
}
"#;
    insta::assert_snapshot!("length_after_what_it_measures", fail_n(src, 3));
}

#[test]
fn bit_part_measuring_the_rest() {
    // A bit part may measure the rest of its struct, as a length field does.
    let src = r#"protocol t {
    struct A {
        word: u16 { n: u16 bits 0..16 = len(..) }
        s: string<u8>
    }
}
"#;
    assert!(polywire_codegen::load_str("test.wire", src).is_ok());
}

#[test]
fn as_that_narrows_and_defaults_beyond_the_wire() {
    let src = r#"protocol t {
    struct A {
        a: i32 as i16
        b: u32 as i32
        c: i8 as i32 @default(1000)
        d: i16 as i32 @default(479)
    }
}
"#;
    insta::assert_snapshot!(
        "as_that_narrows_and_defaults_beyond_the_wire",
        fail_n(src, 3)
    );
}

#[test]
fn enum_default_beyond_i64() {
    // The generated `Default` converts an enum's value through `i64`.
    let src = r#"protocol t {
    enum E : u64 { BIG = 18446744073709551615, Z = 0 }
    struct A { e: E @default(18446744073709551615), f: E @default(0) }
}
"#;
    insta::assert_snapshot!("enum_default_beyond_i64", fail_n(src, 1));
}

#[test]
fn field_with_two_lengths() {
    let src = r#"protocol t {
    struct A {
        n: u32 = len(s)
        s: string sized_by varint
    }
}
"#;
    insta::assert_snapshot!("field_with_two_lengths", fail_n(src, 1));
}

#[test]
fn status_beyond_i64() {
    // Codes are i64 at run time: a u64 `@code` field holds statuses up to i64::MAX only.
    let src = r#"protocol t {
    flags K : u8 { RESPONSE = bit 0 @response }
    responses St : u64 { OK = 0 @success, FAILED = 1 @system_error, HUGE = 18446744073709551615 }
    frame {
        length: u32 = len(..)
        code: u64 @code
        id: u32 @correlation
        k: K @kind
        body: bytes rest @message
    }
}
"#;
    insta::assert_snapshot!("status_beyond_i64", fail_n(src, 1));
}

#[test]
fn union_members_that_cannot_be_told_apart() {
    let src = r#"protocol t {
    struct Ping { header: u8 = 0xC0 }
    struct Data { body: bytes rest }
    struct Pong { header: u16 = 0xD000 }
    struct Also { header: u8 { kind: u8 bits 4..8 = 12, flags: u8 bits 0..4 } }
    enum E : u8 { A = 1 }
    union U { Ping, Data, Pong }
    union V { Ping, Also, E, Ping }
    union W { }
    union X { Ping, Also }
}
"#;
    insta::assert_snapshot!("union_members_that_cannot_be_told_apart", fail_n(src, 6));
}

#[test]
fn union_frame_members_that_start_differently() {
    let src = r#"protocol t {
    struct A { kind: u8 { t: u8 bits 4..8 = 1, f: u8 bits 0..4 }, length: u8 = len(..), x: u8 }
    struct B { kind: u8 { t: u8 bits 4..8 = 2, f: u8 bits 0..4 }, length: u16 = len(..) }
    union F { A, B }
    frame F
}
"#;
    insta::assert_snapshot!("union_frame_members_that_start_differently", fail_n(src, 1));
}

#[test]
fn tagged_lists_that_cannot_be_read() {
    let src = r#"protocol t {
    tagged Props : u8 {
        0x01 a: u8
        0x100 big: u16
        0x01 again: u32
        0x02 name: string
    }
    struct S { props: Props, after: u8 }
}
"#;
    insta::assert_snapshot!("tagged_lists_that_cannot_be_read", fail_n(src, 4));
}

#[test]
fn conditions_that_cannot_be_evaluated() {
    let src = r#"protocol t {
    struct S {
        id: u16 if qos > 0
        qos: u8
        name: string<u8>
        a: u8 if name == 1
        magic: u16 = 0x5057 if qos > 1
        b: u8 if nothing
        c: u8 if a > 0
        level: string<u8> @version
    }
}
"#;
    insta::assert_snapshot!("conditions_that_cannot_be_evaluated", fail_n(src, 6));
}

#[test]
fn lengths_of_absent_fields() {
    let src = r#"protocol t {
    struct S {
        a: decimal<i64> until "\r\n" = len(x)
        x: bytes sized_by a if a >= 0
        b: decimal<i64> until "\r\n" = len(y) else 0
        y: bytes sized_by b if b >= 0 && b != 7
        c: decimal<i64> until "\r\n" = len(z) else -1
        z: bytes sized_by c
        d: u32 = len(..) else 0
        w: u8
    }
}
"#;
    insta::assert_snapshot!("lengths_of_absent_fields", fail_n(src, 4));
}

/// A condition reads a computed length as it is on the wire, a literal may be
/// conditional, and `else` gives an absent field's length; a flag that decides presence
/// needs no `else` (the length of an absent field is then 0).
#[test]
fn conditions_over_lengths_and_conditional_literals() {
    let src = r#"protocol t {
    struct S {
        n: decimal<i32> until "\r\n" = len(data) else -1
        data: bytes sized_by n if n >= 0 && n != -1
        end: "\r\n" if n >= 0
        flag: bool
        m: u16 = len(more)
        more: bytes sized_by m if flag
    }
}
"#;
    assert_eq!(warnings(src), "");
}

#[test]
fn presence_bits_that_nothing_reads() {
    let src = r#"protocol t {
    struct S {
        flags: u8 {
            has_x: bool bits 0..1 = present(x)
            has_y: bool bits 1..2 = present(y)
        }
        x: u16
        y: u16 if has_x
    }
}
"#;
    insta::assert_snapshot!("presence_bits_that_nothing_reads", fail_n(src, 2));
}

#[test]
fn union_member_with_a_bit_range_outside_its_word_is_an_error_not_a_panic() {
    // Found by the random mutants: the union rules computed a mask from a reversed range.
    for range in ["8..4", "4..70", "64..72"] {
        let src = format!(
            "protocol t {{ struct A {{ w: u8 {{ k: u8 bits {range} = 1 }} }} union U {{ A }} }}"
        );
        let e = polywire_codegen::load_str("test.wire", &src).expect_err(&src);
        assert!(e.diagnostics.iter().any(|d| d.is_error()), "{range}");
    }
}

#[test]
fn union_with_two_else_members() {
    let src = r#"protocol t {
    struct Ping { header: u8 = 0xC0 }
    struct Line { text: bytes rest }
    struct Other { text: bytes rest }
    union U { Ping, else Line, else Other }
}
"#;
    insta::assert_snapshot!("union_with_two_else_members", fail_n(src, 1));
}

/// The `else` member need not start with constant bits; it prints back as `else Name`.
#[test]
fn union_else_member_loads_and_prints_back() {
    let src = r#"protocol t {
    struct Ping { header: u8 = 0xC0 }
    struct Line { text: bytes rest }
    union U { Ping, else Line }
}
"#;
    let ir = polywire_codegen::load_str("test.wire", src)
        .unwrap_or_else(|e| panic!("{}", e.rendered))
        .ir;
    let Some(polywire_codegen::ir::TypeDef::Union(u)) = ir.types.iter().find(|t| t.name() == "U")
    else {
        panic!("no union U")
    };
    assert_eq!(
        u.arms.iter().map(|a| a.fallback).collect::<Vec<_>>(),
        [false, true]
    );
    let text = polywire_codegen::ir::print::to_wire(&ir);
    assert!(text.contains("else Line"), "{text}");
    let back = polywire_codegen::load_str("test.wire", &text)
        .unwrap_or_else(|e| panic!("{}", e.rendered))
        .ir;
    assert_eq!(polywire_codegen::ir::print::to_wire(&back), text);
}
