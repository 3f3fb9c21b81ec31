//! The RESP codec generated from `wire/resp.wire` against real bytes: replies recorded
//! from redis-server in RESP2 and RESP3 (`vectors/record_resp.py`), frames cut at every
//! byte, malformed input, and client commands built from values.

use bytes::{Bytes, BytesMut};
use polywire::{Codec, DecodeError, DecodeErrorKind, EncodeError, Limits, Str};
use polywire_protocols::resp::{
    Array, BulkError, BulkString, Command, Inline, Integer, Null, SimpleString, Value, ValueCodec,
};
use proptest::prelude::*;

/// The vectors of `file`: `(name, bytes)`.
fn vectors(file: &str) -> Vec<(String, Vec<u8>)> {
    let text = match file {
        "resp2" => include_str!("vectors/resp2.txt"),
        _ => include_str!("vectors/resp3.txt"),
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, hex) = l.split_once(' ').expect("name hex");
            (name.to_string(), unhex(hex))
        })
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Every vector of both files, each with its file's name.
fn all_vectors() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for file in ["resp2", "resp3"] {
        for (name, bytes) in vectors(file) {
            out.push((file, name, bytes));
        }
    }
    out
}

/// Decodes every frame of `bytes`, with each frame's length, checking that nothing is left.
fn decode_all(bytes: &[u8]) -> Vec<(Value, usize)> {
    let mut codec = ValueCodec::new();
    let mut src = BytesMut::from(bytes);
    let mut out = Vec::new();
    while !src.is_empty() {
        let before = src.len();
        match codec.decode(&mut src) {
            Ok(Some(v)) => out.push((v, before - src.len())),
            Ok(None) => panic!("{} byte(s) left that make no value", src.len()),
            Err(e) => panic!("{e}"),
        }
    }
    out
}

fn encode(v: &Value) -> Vec<u8> {
    let mut dst = BytesMut::new();
    ValueCodec::new().encode(v, &mut dst).expect("encodes");
    dst.to_vec()
}

fn decode_err(bytes: &[u8], limits: Limits) -> DecodeError {
    let mut codec = ValueCodec::with_limits(limits);
    let mut src = BytesMut::from(bytes);
    match codec.decode(&mut src) {
        Err(e) => e,
        other => panic!("expected an error for {bytes:?}, got {other:?}"),
    }
}

fn resp_limits() -> Limits {
    *ValueCodec::new().limits()
}

fn bulk(b: &[u8]) -> Value {
    Value::BulkString(BulkString {
        data: Some(Bytes::copy_from_slice(b)),
    })
}

fn text_of(v: &Value) -> &str {
    match v {
        Value::SimpleString(s) => s.text.as_str(),
        Value::SimpleError(s) => s.text.as_str(),
        Value::Double(s) => s.text.as_str(),
        Value::BigNumber(s) => s.text.as_str(),
        Value::Boolean(s) => s.value.as_str(),
        other => panic!("not a line value: {other:?}"),
    }
}

fn bulk_of(v: &Value) -> &[u8] {
    match v {
        Value::BulkString(BulkString { data: Some(d) }) => d,
        other => panic!("not a bulk string: {other:?}"),
    }
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Integer(Integer { value }) => *value,
        other => panic!("not an integer: {other:?}"),
    }
}

fn items_of(v: &Value) -> &[Value] {
    match v {
        Value::Array(Array { items: Some(i) }) => i,
        Value::Set(s) => &s.items,
        Value::Push(p) => &p.items,
        other => panic!("not an array, set or push: {other:?}"),
    }
}

/// RESP2's null bulk string or array, RESP3's null.
fn is_null(file: &str, v: &Value) -> bool {
    match file {
        "resp2" => matches!(
            v,
            Value::BulkString(BulkString { data: None }) | Value::Array(Array { items: None })
        ),
        _ => matches!(v, Value::Null(_)),
    }
}

/// What each recorded reply holds.
fn expect(file: &str, name: &str, frames: &[Value]) {
    let resp3 = file == "resp3";
    let [v] = frames else {
        assert_eq!(name, "debug_attrib", "{file}/{name}: one value per reply");
        let [Value::Attribute(a), reply] = frames else {
            panic!("{file}/{name}: an attribute, then the reply: {frames:?}");
        };
        assert_eq!(a.entries.len(), 1);
        assert_eq!(bulk_of(&a.entries[0].key), b"key-popularity");
        assert_eq!(items_of(&a.entries[0].value).len(), 2);
        assert_eq!(bulk_of(reply), b"Some real reply following the attribute");
        return;
    };
    match name {
        "ping" => assert_eq!(text_of(v), "PONG"),
        "set_ok" => assert_eq!(text_of(v), "OK"),
        "get" => assert_eq!(bulk_of(v), b"hello"),
        "get_empty" => assert_eq!(bulk_of(v), b""),
        "get_binary" => assert_eq!(bulk_of(v), b"a\r\nb\x00\xff"),
        "get_big" => assert_eq!(bulk_of(v), &[b'x'; 10000][..]),
        "get_missing" | "zscore_missing" | "blpop_timeout" | "debug_null" => {
            assert!(is_null(file, v), "{file}/{name}: {v:?}")
        }
        "incr" => assert!(int_of(v) > 0),
        "decrby_negative" => assert!(int_of(v) < 0),
        "debug_integer" => assert_eq!(int_of(v), 12345),
        "error_unknown_command" => assert!(text_of(v).starts_with("ERR unknown command")),
        "error_wrong_type" => assert!(text_of(v).starts_with("WRONGTYPE ")),
        "lrange" => {
            let got: Vec<&[u8]> = items_of(v).iter().map(bulk_of).collect();
            assert_eq!(got, [&b"a"[..], b"bb", b"ccc"]);
        }
        "lrange_empty" => assert!(items_of(v).is_empty()),
        "mget_with_null" => {
            let items = items_of(v);
            assert_eq!(bulk_of(&items[0]), b"hello");
            assert!(is_null(file, &items[1]), "{file}/{name}: {v:?}");
        }
        "smembers" => {
            assert_eq!(matches!(v, Value::Set(_)), resp3);
            assert_eq!(bulk_of(&items_of(v)[0]), b"one");
        }
        "hgetall" => match v {
            Value::Map(m) => {
                assert!(resp3);
                assert_eq!(bulk_of(&m.entries[0].key), b"field");
                assert_eq!(bulk_of(&m.entries[0].value), b"value");
            }
            _ => assert_eq!(items_of(v).len(), 2),
        },
        "xrange_nested" => {
            let entries = items_of(v);
            assert_eq!(entries.len(), 2);
            let first = items_of(&entries[0]);
            assert_eq!(bulk_of(&first[0]), b"1-1");
            let fields: Vec<&[u8]> = items_of(&first[1]).iter().map(bulk_of).collect();
            assert_eq!(fields, [&b"f1"[..], b"v1", b"f2", b"v2"]);
            assert_eq!(bulk_of(&items_of(&items_of(&entries[1])[1])[1]), b"w");
        }
        "hello3_map" => {
            let Value::Map(m) = v else {
                panic!("HELLO 3 answers a map: {v:?}")
            };
            assert_eq!(m.entries.len(), 7);
            let get = |k: &[u8]| {
                &m.entries
                    .iter()
                    .find(|p| bulk_of(&p.key) == k)
                    .expect("key")
                    .value
            };
            assert_eq!(bulk_of(get(b"server")), b"redis");
            assert_eq!(int_of(get(b"proto")), 3);
            assert!(items_of(get(b"modules")).is_empty());
        }
        "debug_string" => assert_eq!(bulk_of(v), b"Hello World"),
        "debug_double" if resp3 => assert_eq!(text_of(v), "3.141"),
        "debug_double" => assert_eq!(bulk_of(v), b"3.141"),
        "debug_bignum" if resp3 => {
            assert!(matches!(v, Value::BigNumber(_)));
            assert_eq!(text_of(v), "1234567999999999999999999999999999999");
        }
        "debug_bignum" => assert_eq!(bulk_of(v), b"1234567999999999999999999999999999999"),
        "debug_array" => {
            assert!(matches!(v, Value::Array(_)));
            let got: Vec<i64> = items_of(v).iter().map(int_of).collect();
            assert_eq!(got, [0, 1, 2]);
        }
        "debug_set" => {
            assert_eq!(matches!(v, Value::Set(_)), resp3);
            assert_eq!(items_of(v).len(), 3);
        }
        "debug_map" => match v {
            Value::Map(m) => {
                assert!(resp3);
                let got: Vec<(i64, &str)> = m
                    .entries
                    .iter()
                    .map(|p| (int_of(&p.key), text_of(&p.value)))
                    .collect();
                assert_eq!(got, [(0, "f"), (1, "t"), (2, "f")]);
            }
            _ => assert_eq!(items_of(v).len(), 6),
        },
        "debug_attrib" => {
            assert!(!resp3);
            assert_eq!(bulk_of(v), b"Some real reply following the attribute");
        }
        "debug_verbatim" => match v {
            Value::VerbatimString(s) => {
                assert!(resp3);
                assert_eq!(&s.data[..], b"txt:This is a verbatim\nstring");
            }
            _ => assert_eq!(bulk_of(v), b"This is a verbatim\nstring"),
        },
        "debug_true" | "debug_false" if resp3 => {
            assert!(matches!(v, Value::Boolean(_)));
            assert_eq!(text_of(v), if name == "debug_true" { "t" } else { "f" });
        }
        "debug_true" => assert_eq!(int_of(v), 1),
        "debug_false" => assert_eq!(int_of(v), 0),
        "debug_push" => {
            assert!(matches!(v, Value::Push(_)));
            let items = items_of(v);
            assert_eq!(bulk_of(&items[0]), b"server-cpu-usage");
            assert_eq!(int_of(&items[1]), 42);
        }
        "debug_push_reply" => {
            assert_eq!(bulk_of(v), b"Some real reply following the push reply")
        }
        other => panic!("no expectation for {file}/{other}"),
    }
}

#[test]
fn every_recorded_reply_decodes_to_its_value_and_encodes_back() {
    let all = all_vectors();
    assert!(all.len() >= 60, "{} vectors", all.len());
    for (file, name, bytes) in all {
        let frames: Vec<Value> = decode_all(&bytes).into_iter().map(|(v, _)| v).collect();
        expect(file, &name, &frames);
        let again: Vec<u8> = frames.iter().flat_map(encode).collect();
        assert_eq!(again, bytes, "{file}/{name} encodes back byte for byte");
        for v in &frames {
            assert_eq!(v.encoded_len(), encode(v).len(), "{file}/{name}");
        }
    }
}

/// Cut anywhere before its end, a value is "need more" and leaves the buffer as it was;
/// with the rest appended it decodes whole.
#[test]
fn a_value_cut_at_every_byte_waits_for_the_rest() {
    for (file, name, bytes) in all_vectors() {
        let mut start = 0;
        for (v, len) in decode_all(&bytes) {
            let frame = &bytes[start..start + len];
            start += len;
            for cut in 0..len {
                let mut codec = ValueCodec::new();
                let mut src = BytesMut::from(&frame[..cut]);
                match codec.decode(&mut src) {
                    Ok(None) => {}
                    other => panic!("{file}/{name} cut at {cut}: {other:?}"),
                }
                assert_eq!(&src[..], &frame[..cut], "{file}/{name}: nothing consumed");
                src.extend_from_slice(&frame[cut..]);
                assert_eq!(codec.decode(&mut src).expect("decodes"), Some(v.clone()));
                assert!(src.is_empty());
            }
        }
    }
}

#[test]
fn a_client_command_encodes_byte_exact_from_values() {
    let set = Value::Array(Array {
        items: Some(vec![bulk(b"SET"), bulk(b"key"), bulk(b"value")]),
    });
    assert_eq!(
        encode(&set),
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
    );
    assert_eq!(set.encoded_len(), 33);
    // A binary-safe argument and the nulls of both versions.
    assert_eq!(encode(&bulk(b"a\r\nb")), b"$4\r\na\r\nb\r\n");
    assert_eq!(
        encode(&Value::BulkString(BulkString { data: None })),
        b"$-1\r\n"
    );
    assert_eq!(encode(&Value::Array(Array { items: None })), b"*-1\r\n");
    assert_eq!(encode(&Value::Null(Null {})), b"_\r\n");
}

/// RESP3's blob error, which Redis 7 has no command to send: the example of the spec.
#[test]
fn a_blob_error_round_trips() {
    let bytes = b"!21\r\nSYNTAX invalid syntax\r\n";
    let frames = decode_all(bytes);
    let [(Value::BulkError(BulkError { data }), 28)] = &frames[..] else {
        panic!("{frames:?}")
    };
    assert_eq!(&data[..], b"SYNTAX invalid syntax");
    assert_eq!(encode(&frames[0].0), bytes);
}

#[test]
fn a_line_holding_its_delimiter_is_not_encoded() {
    let v = Value::SimpleString(SimpleString {
        text: Str::from("a\r\nb"),
    });
    let mut dst = BytesMut::new();
    match ValueCodec::new().encode(&v, &mut dst) {
        Err(EncodeError::ContainsDelimiter { path }) => assert_eq!(path, "text"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bulk_length_over_the_limit_fails_before_its_bytes_arrive() {
    // The default limit is Redis's 512 MB.
    let e = decode_err(b"$536870913\r\n", resp_limits());
    assert_eq!(
        e.kind,
        DecodeErrorKind::TooLong {
            len: 536_870_913,
            max: 536_870_912
        }
    );
    assert_eq!(e.offset, 1);
    let small = Limits {
        max_string_len: 10,
        ..resp_limits()
    };
    let e = decode_err(b"*1\r\n$11\r\n", small);
    assert!(
        matches!(e.kind, DecodeErrorKind::TooLong { len: 11, max: 10 }),
        "{e}"
    );
    assert_eq!(e.offset, 5);
}

#[test]
fn a_non_digit_in_a_length_is_an_invalid_decimal_at_its_byte() {
    for (bytes, offset) in [
        (&b"$1x\r\nab\r\n"[..], 2),
        (b"*\r\n", 1),
        (b"*2 \r\n", 2),
        (b":+5\r\n", 1),
        (b"%-\r\n", 2),
    ] {
        let e = decode_err(bytes, resp_limits());
        assert_eq!(e.kind, DecodeErrorKind::InvalidDecimal, "{bytes:?}");
        assert_eq!(e.offset, offset, "{bytes:?}");
    }
    let e = decode_err(b":99999999999999999999\r\n", resp_limits());
    assert_eq!(e.kind, DecodeErrorKind::DecimalOverflow);
}

#[test]
fn a_line_over_max_line_len_without_crlf_fails_without_waiting() {
    let limits = Limits {
        max_line_len: 16,
        ..resp_limits()
    };
    let mut line = b"+".to_vec();
    line.extend([b'a'; 17]);
    let e = decode_err(&line, limits);
    assert!(
        matches!(e.kind, DecodeErrorKind::TooLong { max: 16, .. }),
        "{e}"
    );
    assert_eq!(e.offset, 1);
    // Sixteen bytes and no CRLF yet: wait.
    let mut codec = ValueCodec::with_limits(limits);
    let mut src = BytesMut::from(&line[..17]);
    assert_eq!(codec.decode(&mut src).expect("waits"), None);
    // A length line too.
    let e = decode_err(b"$00000000000000000001\r\n", limits);
    assert!(
        matches!(e.kind, DecodeErrorKind::TooLong { max: 16, .. }),
        "{e}"
    );
    // The default: 64 KiB.
    let mut long = b"-".to_vec();
    long.extend(vec![b'e'; 64 * 1024 + 1]);
    let e = decode_err(&long, resp_limits());
    assert!(matches!(e.kind, DecodeErrorKind::TooLong { .. }), "{e}");
}

fn nested(levels: usize) -> Vec<u8> {
    let mut out = b"*1\r\n".repeat(levels);
    out.extend(b":1\r\n");
    out
}

#[test]
fn nesting_beyond_max_depth_fails() {
    let max = resp_limits().max_depth;
    // `max` values deep decodes: `max - 1` arrays around an integer.
    assert_eq!(decode_all(&nested(max - 1)).len(), 1);
    let e = decode_err(&nested(max), resp_limits());
    assert_eq!(e.kind, DecodeErrorKind::DepthExceeded { max });
    assert_eq!(e.offset, 4 * max);
    // Maps and sets count too.
    let e = decode_err(&b"%1\r\n:1\r\n".repeat(max + 1), resp_limits());
    assert_eq!(e.kind, DecodeErrorKind::DepthExceeded { max });
}

#[test]
fn a_null_length_other_than_minus_one_is_refused() {
    for (bytes, field) in [(&b"$-2\r\n"[..], "len"), (b"*-5\r\n", "count")] {
        let e = decode_err(bytes, resp_limits());
        let found = if field == "len" { -2 } else { -5 };
        assert_eq!(
            e.kind,
            DecodeErrorKind::AbsentLength {
                expected: -1,
                found
            },
            "{bytes:?}"
        );
        assert_eq!(e.offset, 1);
        assert_eq!(e.path.last(), Some(&field), "{e}");
    }
    // Negative lengths where there is no null.
    let e = decode_err(b"%-1\r\n", resp_limits());
    assert!(matches!(e.kind, DecodeErrorKind::NegativeLength(-1)), "{e}");
}

#[test]
fn other_malformed_values_are_typed_errors_with_offsets() {
    let e = decode_err(b"?x\r\n", resp_limits());
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownDiscriminator(u64::from(b'?'))
    );
    assert_eq!(e.offset, 0);
    let e = decode_err(b"$3\r\nabcXY", resp_limits());
    assert_eq!(
        e.kind,
        DecodeErrorKind::BadLiteral {
            expected: b"\r\n".to_vec()
        }
    );
    assert_eq!(e.offset, 7);
    let e = decode_err(b"*2\r\n:1\r\n=\r\n", resp_limits());
    assert_eq!(e.kind, DecodeErrorKind::InvalidDecimal);
    assert_eq!(e.offset, 9);
    let e = decode_err(b"+\xff\r\n", resp_limits());
    assert_eq!(e.kind, DecodeErrorKind::InvalidUtf8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes, and recorded replies with bytes changed, give a value, "need
    /// more" or an error: never a panic, and never more consumed than there was.
    #[test]
    fn no_input_panics(
        raw in proptest::collection::vec(any::<u8>(), 0..64),
        pick in any::<usize>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let all = all_vectors();
        let mut mutated = all[pick % all.len()].2.clone();
        for (at, b) in edits {
            let i = at % mutated.len();
            mutated[i] = b;
        }
        for input in [raw, mutated] {
            let mut codec = ValueCodec::new();
            let mut src = BytesMut::from(&input[..]);
            for _ in 0..input.len() + 1 {
                match codec.decode(&mut src) {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            prop_assert!(src.len() <= input.len());
        }
    }
}

/// Decodes one `Command` from `bytes`, with the bytes it took.
fn command(bytes: &[u8]) -> Result<(Command, usize), DecodeError> {
    let buf = Bytes::copy_from_slice(bytes);
    let mut r = polywire::wire::Reader::new(&buf, resp_limits());
    let c = <Command as polywire::WireMessage>::decode_from(&mut r)?;
    Ok((c, r.offset()))
}

fn encode_command(c: &Command) -> Result<Vec<u8>, EncodeError> {
    let mut dst = BytesMut::new();
    polywire::WireMessage::encode_to(c, &mut dst)?;
    Ok(dst.to_vec())
}

#[test]
fn a_command_is_an_array_or_any_other_line_as_an_inline_command() {
    // What redis-cli sends, and what a telnet user types.
    let array = b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
    let (c, used) = command(array).expect("an array command");
    let Command::Array(Array { items: Some(items) }) = &c else {
        panic!("{c:?}")
    };
    assert_eq!((items.len(), used), (2, array.len()));
    assert_eq!(encode_command(&c).expect("encodes"), array);
    // `$` starts a bulk string among values, not among commands: that line is inline too.
    for line in [&b"PING\r\n"[..], b"SET k v\r\n", b"$not a bulk\r\n"] {
        match command(line) {
            Ok((Command::Inline(Inline { line: l }), used)) => {
                assert_eq!(used, line.len());
                assert_eq!(format!("{l}\r\n").as_bytes(), line);
                assert_eq!(
                    encode_command(&Command::Inline(Inline { line: l })).expect("encodes"),
                    line
                );
            }
            other => panic!("{line:?}: {other:?}"),
        }
    }
    // An empty line is a member of its own, which a server skips (`Empty -> nothing`).
    match command(b"\r\n") {
        Ok((Command::Empty(_), 2)) => {}
        other => panic!("{other:?}"),
    }
    // A line without its end is not a command.
    command(b"PIN").expect_err("no CRLF");
    // An inline command that starts like an array would read back as one: not encoded.
    let claimed = Command::Inline(Inline {
        line: Str::from("*2"),
    });
    match encode_command(&claimed) {
        Err(EncodeError::ClaimedKey { path, value }) => {
            assert_eq!((path, value), ("Inline", u64::from(b'*')))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_batch_of_values_is_read_in_one_pass_and_a_cut_one_waits() {
    let values: Vec<Value> = (0..20).map(|i| bulk(format!("v{i}").as_bytes())).collect();
    let mut bytes = Vec::new();
    for v in &values {
        bytes.extend(encode(v));
    }
    for cut in 0..=bytes.len() {
        let mut codec = ValueCodec::new();
        let mut src = BytesMut::from(&bytes[..cut]);
        let mut got = Vec::new();
        codec
            .decode_batch(&mut src, 64, |v| got.push(v))
            .expect("decodes");
        // What was not read whole is left, byte for byte.
        let used: usize = got.iter().map(|v| encode(v).len()).sum();
        assert_eq!(&src[..], &bytes[used..cut], "cut at {cut}");
        src.extend_from_slice(&bytes[cut..]);
        codec
            .decode_batch(&mut src, 64, |v| got.push(v))
            .expect("decodes");
        assert_eq!(got, values, "cut at {cut}");
        assert!(src.is_empty());
    }
}
