//! Shapes the random protocols found bugs in (`wire/regress.wire`, `wire/snake_case.wire`),
//! each round-tripped through the generated code.

use bytes::BytesMut;
use polywire::wire::Reader;
use polywire::{Limits, Str, WireMessage};
use polywire_tests::regress::*;
use std::fmt::Debug;

/// Encodes `v` in its binary layout, checks the bytes when given and decodes it back.
fn binary<T: WireMessage + PartialEq + Debug>(v: &T, bytes: Option<&[u8]>) -> T {
    let mut buf = BytesMut::new();
    v.encode_to(&mut buf).expect("encodes");
    if let Some(b) = bytes {
        assert_eq!(&buf[..], b, "{v:?}");
    }
    let buf = buf.freeze();
    let mut r = Reader::new(&buf, Limits::DEFAULT);
    let back = T::decode_from(&mut r).expect("decodes");
    r.finish("test").expect("nothing left");
    back
}

/// The JSON text of `encode`, decoded back with `decode`.
fn json<T>(
    v: &T,
    encode: impl Fn(&T, &mut BytesMut) -> Result<(), polywire::EncodeError>,
    decode: impl Fn(&mut Reader<'_>) -> Result<T, polywire::DecodeError>,
) -> (String, T) {
    let mut buf = BytesMut::new();
    encode(v, &mut buf).expect("encodes as JSON");
    let text = String::from_utf8(buf.to_vec()).expect("JSON is UTF-8");
    let buf = buf.freeze();
    let mut r = Reader::new(&buf, Limits::DEFAULT);
    let back = decode(&mut r).unwrap_or_else(|e| panic!("decodes {text}: {e}"));
    (text, back)
}

#[test]
fn rename_all_kebab_case_writes_dashed_keys() {
    let v = KebabKeys {
        some_field: 7,
        other_value_here: Str::from("x"),
    };
    let (text, back) = json(&v, KebabKeys::encode_json, KebabKeys::decode_json);
    assert_eq!(text, r#"{"some-field":7,"other-value-here":"x"}"#);
    assert_eq!(back, v);
    let q = QuotedCase { some_field: 3 };
    let (text, back) = json(&q, QuotedCase::encode_json, QuotedCase::decode_json);
    assert_eq!(text, r#"{"some-field":3}"#);
    assert_eq!(back, q);
}

#[test]
fn a_struct_chosen_by_a_discriminator_is_in_the_json() {
    for d in [0, 1] {
        let v = Switched {
            d,
            x: Inner {
                a: 200,
                b: Str::from("hi"),
            },
        };
        let (text, back) = json(&v, Switched::encode_json, Switched::decode_json);
        assert_eq!(text, format!(r#"{{"d":{d},"x":{{"a":200,"b":"hi"}}}}"#));
        assert_eq!(back, v);
        assert_eq!(binary(&v, None), v);
    }
}

#[test]
fn i24_flags_hold_bit_23() {
    assert_eq!(Wide::TOP.bits(), -0x80_0000);
    let v = Holder {
        w: Wide::TOP | Wide::LOW,
        wl: WideLe::TOP,
    };
    let back = binary(&v, Some(&[0x80, 0x00, 0x01, 0x00, 0x00, 0x80]));
    assert_eq!(back, v);
    assert!(back.w.contains(Wide::TOP));
    // Every bit, as decoding gives it.
    let all = Holder {
        w: Wide::from_bits(-1),
        wl: WideLe::from_bits(-1),
    };
    assert_eq!(binary(&all, Some(&[0xFF; 6])), all);
    // Bit 23 written unsigned is bit 23 too; it decodes sign-extended.
    let unsigned = Holder {
        w: Wide::from_bits(1 << 23),
        wl: WideLe::from_bits(0),
    };
    assert_eq!(binary(&unsigned, Some(&[0x80, 0, 0, 0, 0, 0])).w, Wide::TOP);
    // Neither form of a 24-bit value: an error, not a lost byte.
    let mut buf = BytesMut::new();
    let bad = Holder {
        w: Wide::from_bits(0x100_0000),
        wl: WideLe::from_bits(-0x80_0001),
    };
    assert!(bad.encode_to(&mut buf).is_err());
}

#[test]
fn types_named_in_snake_case_round_trip() {
    use polywire_tests::snake_case::*;
    let p = snake_point { x: 1, y: 2 };
    let (text, back) = json(&p, snake_point::encode_json, snake_point::decode_json);
    assert_eq!(text, r#"{"x":1,"y":2}"#);
    assert_eq!(back, p);
    let h = snake_holder {
        m: snake_mode::On,
        props: Box::new(snake_props {
            a: Some(5),
            b: Some(snake_mode::Off),
        }),
        u: snake_union::data_msg(data_msg {
            value: p,
            bits: snake_bits::A,
        }),
        c: Camel::ping_msg(ping_msg {}),
    };
    assert_eq!(binary(&h, None), h);
    for is_set in [false, true] {
        let c = CamelFields {
            is_set,
            kind: 5,
            body_text: Str::from("text"),
            maybe_x: is_set.then_some(9),
            a_b: 1,
            // `inner__gap`: Rust's snake case has no double underscore between words.
            inner_gap: 7,
            _hidden: 2,
            tail: 0x1234,
            // Its Rust name is the flags type's, which a local cannot shadow.
            snake_bits: snake_bits::A,
        };
        // bodyLen 4, the word (set, kind 5, tail length 3), the text, x, a_b, inner__gap,
        // _hidden, tail, snakeBits.
        let mut bytes = vec![0, 4, 0x3a | u8::from(is_set), b't', b'e', b'x', b't'];
        if is_set {
            bytes.push(9);
        }
        bytes.extend([1, 7, 2, 0x12, 0x34, 1]);
        assert_eq!(binary(&c, None), c);
        let mut buf = BytesMut::new();
        c.encode_to(&mut buf).expect("encodes");
        assert_eq!(&buf[..], &bytes[..]);
    }
}

#[test]
fn an_optional_field_present_on_a_condition_keeps_its_three_values_in_json() {
    let inner = Inner {
        a: 1,
        b: Str::from("z"),
    };
    for (has, x, y, text) in [
        (0, None, None, r#"{"has":0}"#),
        (1, Some(None), None, r#"{"has":1,"x":null}"#),
        (2, Some(Some(7)), Some(None), r#"{"has":2,"x":7,"y":null}"#),
        (
            2,
            Some(None),
            Some(Some(inner.clone())),
            r#"{"has":2,"x":null,"y":{"a":1,"b":"z"}}"#,
        ),
    ] {
        let v = MaybeOptional { has, x, y };
        let (got, back) = json(&v, MaybeOptional::encode_json, MaybeOptional::decode_json);
        assert_eq!(got, text);
        assert_eq!(back, v);
        assert_eq!(binary(&v, None), v);
    }
}

#[test]
fn u64_enums_past_i64_max_round_trip_in_json() {
    let big = u64::MAX - 1;
    let v = Huges {
        a: Huge::Top,
        b: HugeOpen::Unknown(big),
        c: vec![Huge::Top, Huge::Zero],
        d: Some(HugeOpen::Top),
        e: vec![HugeOpen::Unknown(big), HugeOpen::Top],
    };
    let (text, back) = json(&v, Huges::encode_json, Huges::decode_json);
    assert_eq!(
        text,
        format!(
            r#"{{"a":{max},"b":{big},"c":[{max},0],"d":{max},"e":[{big},"TOP"]}}"#,
            max = u64::MAX
        )
    );
    assert_eq!(back, v);
    assert_eq!(binary(&v, None), v);
    // A negative number is no u64 value.
    let text = bytes::Bytes::from_static(br#"{"a":-1}"#);
    let mut r = Reader::new(&text, Limits::DEFAULT);
    assert!(Huges::decode_json(&mut r).is_err());
}
