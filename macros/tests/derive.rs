//! `#[derive(Message)]` on standalone structs and enums, outside any protocol module:
//! exact bytes for hand-computed layouts, decoding back, clean failures on every truncation
//! and on forged lengths (checked against a counting allocator), and proptest round trips.
//!
//! The derived enums are used as field types of the derived structs: a standalone derive
//! names them without seeing them, so each derived enum is also a `WireMessage`.

// The only unsafe code is the counting allocator below, which forwards to `System`.
#![allow(unsafe_code)]

use polywire::bytes::{Bytes, BytesMut};
use polywire::wire::Reader;
use polywire::{DecodeError, DecodeErrorKind, Limits, Message, OrderedMap, Str, WireMessage};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// A colour: one byte on the wire, closed (unknown values are errors).
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Colour {
    /// 1.
    Red = 1,
    /// 2.
    Green = 2,
    /// 7.
    Blue = 7,
}

/// A signed level: an `i16`, little-endian on the wire.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
#[wire(le)]
pub enum Level {
    /// -2.
    Low = -2,
    /// 0.
    Mid = 0,
    /// 300.
    High = 300,
}

/// A nested message: `x` big-endian `i32`, `y` little-endian `u16`, a colour byte.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
pub struct Point {
    x: i32,
    #[wire(le)]
    y: u16,
    colour: Colour,
}

/// Every kind of stored field a standalone derive can hold.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
pub struct Record {
    a: u8,
    b: u16,
    #[wire(le)]
    c: u32,
    d: i64,
    #[wire(repr = u24)]
    e: u32,
    #[wire(repr = i16, le)]
    f: i32,
    #[wire(varint)]
    g: u64,
    #[wire(varint)]
    h: i64,
    ok: bool,
    #[wire(prefix = u8)]
    name: Str,
    #[wire(prefix = varint, max = 16)]
    blob: Bytes,
    #[wire(prefix = u16, le)]
    note: Option<Str>,
    maybe: Option<u32>,
    colour: Colour,
    level: Level,
    shade: Option<Colour>,
    palette: Vec<Colour>,
    #[wire(count = u8)]
    points: Vec<Point>,
    #[wire(count = u16, key(prefix = u8))]
    tags: OrderedMap<Str, u16>,
    origin: Point,
    #[wire(rest)]
    tail: Bytes,
}

/// No `rest` field: every strict prefix of an encoding is an error.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
pub struct Compact {
    #[wire(varint)]
    id: u64,
    level: Level,
    #[wire(prefix = u16)]
    label: Str,
    #[wire(count = u32)]
    values: Vec<u32>,
    #[wire(count = varint)]
    points: Vec<Point>,
    #[wire(key(prefix = u8), value(prefix = u8))]
    attrs: OrderedMap<Str, Str>,
    colours: Vec<Colour>,
    at: Option<Point>,
}

/// A struct with a JSON encoding of its own (`decode_json`, `encode_json`, `json_len`).
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[wire(json(rename_all = "camelCase"))]
pub struct Payload {
    item_id: u16,
    #[wire(prefix = u8)]
    name: Str,
}

/// `payload` in binary or JSON as `format` says: the switch calls `Payload`'s own codecs.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
pub struct Switched {
    format: u8,
    #[wire(by(format, 0 => binary, 1 => json), rest)]
    payload: Payload,
}

fn record() -> Record {
    let mut tags = OrderedMap::new();
    tags.push(Str::from("k"), 5);
    Record {
        a: 0xAB,
        b: 0x1234,
        c: 0x0102_0304,
        d: -2,
        e: 0x0A_0B0C,
        f: -300,
        g: 300,
        h: -3,
        ok: true,
        name: Str::from("hi"),
        blob: Bytes::from_static(&[0xDE, 0xAD]),
        note: Some(Str::from("ok")),
        maybe: None,
        colour: Colour::Blue,
        level: Level::High,
        shade: Some(Colour::Green),
        palette: vec![Colour::Red, Colour::Blue],
        points: vec![Point {
            x: 1,
            y: 2,
            colour: Colour::Red,
        }],
        tags,
        origin: Point {
            x: -1,
            y: 0x0102,
            colour: Colour::Green,
        },
        tail: Bytes::from_static(&[0xEE]),
    }
}

#[rustfmt::skip]
const RECORD: &[u8] = &[
    0xAB,                                           //  0 a: u8
    0x12, 0x34,                                     //  1 b: u16 big-endian
    0x04, 0x03, 0x02, 0x01,                         //  3 c: u32 little-endian
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, //  7 d: i64 -2, big-endian
    0x0A, 0x0B, 0x0C,                               // 15 e: u24 big-endian
    0xD4, 0xFE,                                     // 18 f: i16 -300 (0xFED4) little-endian
    0xAC, 0x02,                                     // 20 g: varint 300
    0x05,                                           // 22 h: zigzag(-3) = 5
    0x01,                                           // 23 ok: true
    0x02, b'h', b'i',                               // 24 name: u8 length, "hi"
    0x02, 0xDE, 0xAD,                               // 27 blob: varint length, 2 bytes
    0x01, 0x02, 0x00, b'o', b'k',                   // 30 note: present, u16le length, "ok"
    0x00,                                           // 35 maybe: absent
    0x07,                                           // 36 colour: Blue
    0x2C, 0x01,                                     // 37 level: High = 300, i16 little-endian
    0x01, 0x02,                                     // 39 shade: present, Green
    0x02, 0x01, 0x07,                               // 41 palette: varint count 2, Red, Blue
    0x01,                                           // 44 points: u8 count 1
    0x00, 0x00, 0x00, 0x01,                         // 45   x: 1
    0x02, 0x00,                                     // 49   y: 2, little-endian
    0x01,                                           // 51   colour: Red
    0x00, 0x01,                                     // 52 tags: u16 count 1
    0x01, b'k',                                     // 54   key: u8 length, "k"
    0x00, 0x05,                                     // 56   value: u16 5
    0xFF, 0xFF, 0xFF, 0xFF,                         // 58 origin.x: -1
    0x02, 0x01,                                     // 62 origin.y: 0x0102, little-endian
    0x02,                                           // 64 origin.colour: Green
    0xEE,                                           // 65 tail: the rest
];

fn compact() -> Compact {
    let mut attrs = OrderedMap::new();
    attrs.push(Str::from("a"), Str::from("xy"));
    Compact {
        id: 1,
        level: Level::Low,
        label: Str::from("L"),
        values: vec![9],
        points: vec![Point {
            x: 3,
            y: 4,
            colour: Colour::Blue,
        }],
        attrs,
        colours: vec![Colour::Green],
        at: Some(Point {
            x: -2,
            y: 0xFFFF,
            colour: Colour::Red,
        }),
    }
}

#[rustfmt::skip]
const COMPACT: &[u8] = &[
    0x01,                               //  0 id: varint 1
    0xFE, 0xFF,                         //  1 level: Low = -2, i16 little-endian
    0x00, 0x01, b'L',                   //  3 label: u16 length, "L"
    0x00, 0x00, 0x00, 0x01,             //  6 values: u32 count 1
    0x00, 0x00, 0x00, 0x09,             // 10   9, u32 big-endian
    0x01,                               // 14 points: varint count 1
    0x00, 0x00, 0x00, 0x03,             // 15   x: 3
    0x04, 0x00,                         // 19   y: 4, little-endian
    0x07,                               // 21   colour: Blue
    0x01,                               // 22 attrs: varint count 1
    0x01, b'a',                         // 23   key: u8 length, "a"
    0x02, b'x', b'y',                   // 25   value: u8 length, "xy"
    0x01, 0x02,                         // 28 colours: varint count 1, Green
    0x01,                               // 30 at: present
    0xFF, 0xFF, 0xFF, 0xFE,             // 31   x: -2
    0xFF, 0xFF,                         // 35   y: 0xFFFF
    0x01,                               // 37   colour: Red
];

fn encode<T: WireMessage>(m: &T) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode_to(&mut b).expect("encodes");
    b.to_vec()
}

/// Decodes the whole of `bytes` with `limits`; bytes left over are a test failure.
fn decode_with<T: WireMessage>(bytes: &[u8], limits: Limits) -> Result<T, DecodeError> {
    let b = Bytes::copy_from_slice(bytes);
    let mut r = Reader::new(&b, limits);
    let m = T::decode_from(&mut r)?;
    assert_eq!(r.remaining(), 0, "decode_from left bytes unread");
    Ok(m)
}

fn decode<T: WireMessage>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_with(bytes, Limits::DEFAULT)
}

#[test]
fn record_encodes_to_the_hand_computed_bytes_and_back() {
    let r = record();
    assert_eq!(encode(&r), RECORD);
    assert_eq!(r.encoded_len(), RECORD.len());
    assert_eq!(decode::<Record>(RECORD).expect("decodes"), r);
}

#[test]
fn compact_encodes_to_the_hand_computed_bytes_and_back() {
    let c = compact();
    assert_eq!(encode(&c), COMPACT);
    assert_eq!(c.encoded_len(), COMPACT.len());
    assert_eq!(decode::<Compact>(COMPACT).expect("decodes"), c);
}

#[test]
fn the_other_option_states_and_empty_collections() {
    let mut r = record();
    r.note = None;
    r.maybe = Some(0x0A0B_0C0D);
    r.shade = None;
    r.palette.clear();
    r.points.clear();
    r.tags = OrderedMap::new();
    r.tail = Bytes::new();
    let bytes = encode(&r);
    let mut want = RECORD[..30].to_vec();
    want.extend_from_slice(&[
        0x00, // note: absent
        0x01, 0x0A, 0x0B, 0x0C, 0x0D, // maybe: present, u32 big-endian
        0x07, // colour
        0x2C, 0x01, // level
        0x00, // shade: absent
        0x00, // palette: varint count 0
        0x00, // points: u8 count 0
        0x00, 0x00, // tags: u16 count 0
    ]);
    want.extend_from_slice(&RECORD[58..65]); // origin; the tail is empty
    assert_eq!(bytes, want);
    assert_eq!(r.encoded_len(), want.len());
    assert_eq!(decode::<Record>(&bytes).expect("decodes"), r);
}

#[test]
fn derived_enums_are_messages_of_their_repr() {
    assert_eq!(encode(&Colour::Blue), [0x07]);
    assert_eq!(Colour::Blue.encoded_len(), 1);
    assert_eq!(encode(&Level::Low), [0xFE, 0xFF]);
    assert_eq!(Level::Low.encoded_len(), 2);
    assert_eq!(
        decode::<Level>(&[0x2C, 0x01]).expect("decodes"),
        Level::High
    );
    assert_eq!(Colour::from_repr(2), Some(Colour::Green));
    assert_eq!(Level::High.to_repr(), 300);

    let e = decode::<Colour>(&[0x09]).expect_err("9 is no colour");
    assert_eq!(e.kind, DecodeErrorKind::UnknownEnum(9));
    // An enum has no fields, so its own errors carry no path: in a field they read as the
    // field's path, as in a protocol module.
    assert_eq!((e.offset, e.path_string().as_str()), (0, ""));
    let e = decode::<Level>(&[0x2C]).expect_err("one byte of two");
    assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{e:?}");
    assert_eq!((e.offset, e.path_string().as_str()), (0, ""));
}

#[test]
fn an_unknown_enum_value_in_a_field_names_the_field_and_its_offset() {
    let mut bytes = RECORD.to_vec();
    bytes[36] = 0x03; // colour
    let e = decode::<Record>(&bytes).expect_err("3 is no colour");
    assert_eq!(e.kind, DecodeErrorKind::UnknownEnum(3));
    assert_eq!((e.offset, e.path_string().as_str()), (36, "colour"));

    let mut bytes = RECORD.to_vec();
    bytes[64] = 0x04; // origin.colour, inside the nested message
    let e = decode::<Record>(&bytes).expect_err("4 is no colour");
    assert_eq!(e.kind, DecodeErrorKind::UnknownEnum(4));
    assert_eq!((e.offset, e.path_string().as_str()), (64, "origin.colour"));

    let mut bytes = COMPACT.to_vec();
    bytes[1..3].copy_from_slice(&[0x01, 0x00]); // level: 1 is no level
    let e = decode::<Compact>(&bytes).expect_err("1 is no level");
    assert_eq!(e.kind, DecodeErrorKind::UnknownEnum(1));
    assert_eq!((e.offset, e.path_string().as_str()), (1, "level"));
}

#[test]
fn a_by_switch_chooses_the_derived_types_json_or_binary() {
    let payload = Payload {
        item_id: 0x0102,
        name: Str::from("ab"),
    };
    let binary = Switched {
        format: 0,
        payload: payload.clone(),
    };
    let bin = [0x00, 0x01, 0x02, 0x02, b'a', b'b'];
    assert_eq!(encode(&binary), bin);
    assert_eq!(binary.encoded_len(), bin.len());
    assert_eq!(decode::<Switched>(&bin).expect("decodes"), binary);

    let json = Switched { format: 1, payload };
    let mut text = vec![0x01];
    text.extend_from_slice(br#"{"itemId":258,"name":"ab"}"#);
    assert_eq!(encode(&json), text);
    assert_eq!(json.encoded_len(), text.len());
    assert_eq!(decode::<Switched>(&text).expect("decodes"), json);

    // Bad JSON and an undeclared discriminator are errors at the field.
    let e = decode::<Switched>(b"\x01{\"itemId\":\"x\"}").expect_err("not a number");
    assert!(matches!(e.kind, DecodeErrorKind::Json(_)), "{e:?}");
    assert_eq!(e.path_string(), "payload.json", "{e:?}");
    let e = decode::<Switched>(&[0x02, 0x00]).expect_err("2 chooses nothing");
    assert_eq!(e.kind, DecodeErrorKind::UnknownDiscriminator(2));
    assert_eq!(e.path_string(), "payload");
    let bad = Switched { format: 2, ..json };
    let e = bad
        .encode_to(&mut BytesMut::new())
        .expect_err("2 chooses nothing");
    assert!(
        matches!(
            e,
            polywire::EncodeError::UnknownDiscriminator {
                path: "payload",
                value: 2
            }
        ),
        "{e:?}"
    );
}

#[test]
fn invalid_bool_and_presence_bytes_are_errors() {
    let mut bytes = RECORD.to_vec();
    bytes[23] = 0x02; // ok
    let e = decode::<Record>(&bytes).expect_err("2 is no bool");
    assert_eq!(e.kind, DecodeErrorKind::InvalidBool(2));
    assert_eq!((e.offset, e.path_string().as_str()), (23, "ok"));

    let mut bytes = RECORD.to_vec();
    bytes[39] = 0x05; // shade's presence byte
    let e = decode::<Record>(&bytes).expect_err("5 is no presence byte");
    assert_eq!(e.kind, DecodeErrorKind::InvalidBool(5));
    assert_eq!(e.offset, 39);
}

fn assert_truncated(e: &DecodeError, cut: usize) {
    assert!(
        matches!(e.kind, DecodeErrorKind::Truncated { .. }),
        "cut at {cut}: {e:?}"
    );
    assert!(e.offset <= cut, "cut at {cut}: error offset {}", e.offset);
}

#[test]
fn every_strict_prefix_of_compact_is_a_clean_error() {
    for cut in 0..COMPACT.len() {
        let e = decode::<Compact>(&COMPACT[..cut]).expect_err("a strict prefix");
        assert_truncated(&e, cut);
    }
}

#[test]
fn every_prefix_of_record_before_the_rest_field_is_a_clean_error() {
    let tail_at = RECORD.len() - 1;
    for cut in 0..tail_at {
        let e = decode::<Record>(&RECORD[..cut]).expect_err("a strict prefix");
        assert_truncated(&e, cut);
    }
    // The `rest` field takes whatever is left, including nothing.
    let r = decode::<Record>(&RECORD[..tail_at]).expect("the tail may be empty");
    assert_eq!(r.tail, Bytes::new());
}

#[test]
fn a_truncation_names_the_field_being_read() {
    // Inside `b`.
    let e = decode::<Record>(&RECORD[..2]).expect_err("truncated");
    assert_eq!((e.offset, e.path_string().as_str()), (1, "b"));
    assert_eq!(
        e.kind,
        DecodeErrorKind::Truncated {
            needed: 2,
            available: 1
        }
    );
    // Inside the nested `origin.x`.
    let e = decode::<Record>(&RECORD[..60]).expect_err("truncated");
    assert_eq!((e.offset, e.path_string().as_str()), (58, "origin.x"));
    // A string whose length is there but whose bytes are not.
    let e = decode::<Record>(&RECORD[..25]).expect_err("truncated");
    assert_eq!(e.path_string(), "name");
    assert!(e.offset <= 25);
}

thread_local! {
    /// The largest single allocation (or reallocation) of this thread since the last reset.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

fn note(size: usize) {
    let _ = LARGEST.try_with(|m| m.set(m.get().max(size)));
}

// SAFETY: every call forwards to `System` with the same arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Decodes a forged input, returning the error and the largest allocation the decoder made
/// (the input is copied into a `Bytes` before counting starts).
fn forged<T: WireMessage + std::fmt::Debug>(bytes: &[u8], limits: Limits) -> (DecodeError, usize) {
    let b = Bytes::copy_from_slice(bytes);
    let mut r = Reader::new(&b, limits);
    LARGEST.with(|m| m.set(0));
    let out = T::decode_from(&mut r);
    let largest = LARGEST.with(|m| m.get());
    (out.expect_err("a forged length"), largest)
}

/// `COMPACT` up to `at`, then `patch`, then nothing more.
fn compact_with(at: usize, patch: &[u8]) -> Vec<u8> {
    let mut v = COMPACT[..at].to_vec();
    v.extend_from_slice(patch);
    v
}

#[test]
fn the_counting_allocator_sees_allocations() {
    // Guards the tests below: a decoder that preallocates is seen.
    let b = Bytes::copy_from_slice(COMPACT);
    LARGEST.with(|m| m.set(0));
    let c = Compact::decode_from(&mut Reader::new(&b, Limits::DEFAULT)).expect("decodes");
    let v: Vec<u64> = Vec::with_capacity(1000);
    assert!(LARGEST.with(|m| m.get()) >= 8000);
    drop((c, v));
}

#[test]
fn forged_lengths_are_rejected_before_allocating() {
    let small = 256;

    // label: a u16 length of 0xFFFF with one byte behind it.
    let (e, big) = forged::<Compact>(&compact_with(3, &[0xFF, 0xFF, b'L']), Limits::DEFAULT);
    assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{e:?}");
    // Reported where the missing bytes start, after the length.
    assert_eq!((e.offset, e.path_string().as_str()), (5, "label"));
    assert!(big < small, "allocated {big} bytes");

    // label over the limit on strings.
    let limits = Limits {
        max_string_len: 0,
        ..Limits::DEFAULT
    };
    let (e, _) = forged::<Compact>(COMPACT, limits);
    assert_eq!(e.kind, DecodeErrorKind::TooLong { len: 1, max: 0 });
    assert_eq!(e.offset, 3);

    // values: 0x00FF_FFFF u32 elements announced (64 MiB) with 4 bytes behind them.
    let (e, big) = forged::<Compact>(
        &compact_with(6, &[0x00, 0xFF, 0xFF, 0xFF, 0, 0, 0, 9]),
        Limits::DEFAULT,
    );
    assert!(matches!(e.kind, DecodeErrorKind::TooLong { .. }), "{e:?}");
    assert_eq!((e.offset, e.path_string().as_str()), (6, "values"));
    assert!(big < small, "allocated {big} bytes");

    // values: 1000 elements (within the limit) announced, 4 bytes behind them.
    let (e, big) = forged::<Compact>(
        &compact_with(6, &[0x00, 0x00, 0x03, 0xE8, 0, 0, 0, 9]),
        Limits::DEFAULT,
    );
    assert_eq!(
        e.kind,
        DecodeErrorKind::Truncated {
            needed: 4000,
            available: 4
        }
    );
    assert_eq!(e.offset, 10); // where the elements would start
    assert!(big < small, "allocated {big} bytes");

    // points: 1 Mi - 1 nested messages (their size unknown to this derive) announced, 7 bytes
    // behind them: the reservation is bounded by the bytes left, not by the count.
    let mut v = compact_with(14, &[0xFF, 0xFF, 0x3F]); // varint (1 << 20) - 1
    v.extend_from_slice(&COMPACT[15..22]);
    let (e, big) = forged::<Compact>(&v, Limits::DEFAULT);
    assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{e:?}");
    assert!(big < small * 4, "allocated {big} bytes");

    // colours: the same for derived enums.
    let (e, big) = forged::<Compact>(
        &compact_with(28, &[0xFF, 0xFF, 0x3F, 0x02]),
        Limits::DEFAULT,
    );
    assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{e:?}");
    assert!(big < small, "allocated {big} bytes");

    // points over the collection limit.
    let limits = Limits {
        max_collection_len: 4,
        ..Limits::DEFAULT
    };
    let (e, _) = forged::<Compact>(&compact_with(14, &[0x05]), limits);
    assert_eq!(e.kind, DecodeErrorKind::TooLong { len: 5, max: 4 });
    assert_eq!((e.offset, e.path_string().as_str()), (14, "points"));

    // attrs: a huge varint count.
    let (e, _) = forged::<Compact>(
        &compact_with(22, &[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        Limits::DEFAULT,
    );
    assert!(matches!(e.kind, DecodeErrorKind::TooLong { .. }), "{e:?}");
    assert_eq!(e.offset, 22);

    // Record.blob: longer than its declared `max = 16`.
    let mut v = RECORD[..27].to_vec();
    v.push(17);
    v.extend_from_slice(&[0; 17]);
    let (e, _) = forged::<Record>(&v, Limits::DEFAULT);
    assert_eq!(e.kind, DecodeErrorKind::TooLong { len: 17, max: 16 });
    assert_eq!((e.offset, e.path_string().as_str()), (27, "blob"));

    // Record.tags: 0xFFFF entries of at least 3 bytes announced.
    let mut v = RECORD[..52].to_vec();
    v.extend_from_slice(&[0xFF, 0xFF, 0x01, b'k', 0x00, 0x05]);
    let (e, big) = forged::<Record>(&v, Limits::DEFAULT);
    assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{e:?}");
    assert_eq!((e.offset, e.path_string().as_str()), (54, "tags")); // after the count
    assert!(big < small, "allocated {big} bytes");
}

#[test]
fn encoding_rejects_values_the_wire_cannot_hold() {
    let mut r = record();
    r.e = 0x0100_0000; // 25 bits in a u24
    assert!(r.encode_to(&mut BytesMut::new()).is_err());
    let mut r = record();
    r.blob = Bytes::from(vec![0; 17]); // over `max = 16`
    assert!(r.encode_to(&mut BytesMut::new()).is_err());
    let mut r = record();
    r.name = Str::from("x".repeat(256)); // over a u8 length
    assert!(r.encode_to(&mut BytesMut::new()).is_err());
}

fn colour() -> impl Strategy<Value = Colour> {
    prop_oneof![Just(Colour::Red), Just(Colour::Green), Just(Colour::Blue)]
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![Just(Level::Low), Just(Level::Mid), Just(Level::High)]
}

fn point() -> impl Strategy<Value = Point> {
    (any::<i32>(), any::<u16>(), colour()).prop_map(|(x, y, colour)| Point { x, y, colour })
}

fn text(max: usize) -> impl Strategy<Value = Str> {
    proptest::collection::vec(any::<char>(), 0..=max)
        .prop_map(|cs| cs.into_iter().collect::<String>())
        .prop_filter("fits a u8 length", |s| s.len() <= 255)
        .prop_map(Str::from)
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

prop_compose! {
    fn arb_record()(
        ints in (any::<u8>(), any::<u16>(), any::<u32>(), any::<i64>(), 0u32..1 << 24, any::<i16>()),
        vars in (any::<u64>(), any::<i64>(), any::<bool>()),
        strs in (text(40), bytes(16), proptest::option::of(text(40)), proptest::option::of(any::<u32>())),
        enums in (colour(), level(), proptest::option::of(colour()), proptest::collection::vec(colour(), 0..8)),
        nested in (proptest::collection::vec(point(), 0..5), proptest::collection::vec((text(8), any::<u16>()), 0..5), point()),
        tail in bytes(32),
    ) -> Record {
        let (a, b, c, d, e, f) = ints;
        let (g, h, ok) = vars;
        let (name, blob, note, maybe) = strs;
        let (colour, level, shade, palette) = enums;
        let (points, tags, origin) = nested;
        Record {
            a, b, c, d, e, f: i32::from(f), g, h, ok, name, blob, note, maybe, colour, level,
            shade, palette, points, tags: tags.into_iter().collect(), origin, tail,
        }
    }
}

prop_compose! {
    fn arb_compact()(
        id in any::<u64>(),
        level in level(),
        label in text(60),
        values in proptest::collection::vec(any::<u32>(), 0..8),
        points in proptest::collection::vec(point(), 0..4),
        attrs in proptest::collection::vec((text(8), text(8)), 0..4),
        colours in proptest::collection::vec(colour(), 0..8),
        at in proptest::option::of(point()),
    ) -> Compact {
        Compact { id, level, label, values, points, attrs: attrs.into_iter().collect(), colours, at }
    }
}

proptest! {
    #[test]
    fn records_round_trip(r in arb_record()) {
        let bytes = encode(&r);
        prop_assert_eq!(bytes.len(), r.encoded_len());
        prop_assert_eq!(decode::<Record>(&bytes).expect("decodes"), r);
    }

    #[test]
    fn compacts_round_trip_and_their_prefixes_fail(c in arb_compact()) {
        let bytes = encode(&c);
        prop_assert_eq!(bytes.len(), c.encoded_len());
        prop_assert_eq!(decode::<Compact>(&bytes).expect("decodes"), c);
        for cut in 0..bytes.len() {
            let e = decode::<Compact>(&bytes[..cut]).expect_err("a strict prefix");
            prop_assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "cut at {}: {:?}", cut, e);
            prop_assert!(e.offset <= cut);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        let _ = decode_loose::<Record>(&bytes);
        let _ = decode_loose::<Compact>(&bytes);
    }
}

/// Like [`decode`], but bytes left over are fine.
fn decode_loose<T: WireMessage>(bytes: &[u8]) -> Result<T, DecodeError> {
    let b = Bytes::copy_from_slice(bytes);
    T::decode_from(&mut Reader::new(&b, Limits::DEFAULT))
}

/// A standalone derive with a field present on a condition over an earlier field, and a
/// bounded varint.
#[derive(Message, Debug, Clone, PartialEq, Eq, Default)]
pub struct Reading {
    kind: u8,
    #[wire(if = "kind == 2 || kind > 5")]
    extra: Option<u16>,
    #[wire(varint, max = 300)]
    count: u64,
}

#[test]
fn a_derived_condition_and_bounded_varint_round_trip() {
    let with = Reading {
        kind: 2,
        extra: Some(0x0102),
        count: 300,
    };
    assert_eq!(encode(&with), [2, 0x01, 0x02, 0xAC, 0x02]);
    assert_eq!(
        decode::<Reading>(&[2, 0x01, 0x02, 0xAC, 0x02]).unwrap(),
        with
    );
    let without = Reading {
        kind: 3,
        extra: None,
        count: 1,
    };
    assert_eq!(encode(&without), [3, 1]);
    assert_eq!(decode::<Reading>(&[3, 1]).unwrap(), without);
    // Above the bound: refused when read.
    assert!(decode::<Reading>(&[3, 0xAD, 0x02]).is_err());
}
