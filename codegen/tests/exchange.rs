//! The `exchange` block: what it parses to, printing it back, and each diagnostic of its
//! lowering and checks as users see it (insta snapshots `tests/snapshots/exchange__<case>.snap`).

#![cfg(feature = "dsl")]

mod common;

use common::{fail_n, load};
use polywire_codegen::ir::print::to_wire;
use polywire_codegen::ir::{Cond, Matching, Reply};

/// A union frame of five messages, with `exchange { <body> }`.
fn proto(body: &str) -> String {
    format!(
        r#"protocol t {{
    versions 1..=2
    struct Hello {{ kind: u8 = 1, length: u32 = len(..), interval: u16, name: string<u8>, code: i16 }}
    struct Welcome {{ kind: u8 = 2, length: u32 = len(..) }}
    struct Ping {{ kind: u8 = 3, length: u32 = len(..), id: u32, mode: u8, tag: string<u8> }}
    struct Pong {{ kind: u8 = 4, length: u32 = len(..), id: u32 }}
    struct Bye {{ kind: u8 = 5, length: u32 = len(..) }}
    struct Other {{ kind: u8 = 6, length: u32 = len(..), id: i8 }}
    union Msg {{ Hello, Welcome, Ping, Pong, Bye }}
    frame Msg
    /// How they talk.
    exchange {{
{body}
    }}
}}
"#
    )
}

/// `x` as JSON with every span left out: spans point into different texts.
fn without_spans<T: serde::Serialize>(x: &T) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("span");
                m.values_mut().for_each(walk);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(x).expect("IR serializes");
    walk(&mut v);
    v
}

const FULL: &str = "        hello Hello -> Welcome if @version > 1 && interval != 0, Bye then close
        Ping -> Pong if mode == 1 || !(mode < 3), nothing
        Bye -> close
        correlate id
        push Pong, Bye
        push Welcome
        keepalive Hello.interval millis * 0.125 ping Ping";

#[test]
fn every_part_of_the_block_lowers() {
    let ir = load(&proto(FULL));
    let idx = |n: &str| ir.type_index(n).expect(n);
    let ex = ir.exchange.as_ref().expect("the exchange is there");
    assert_eq!(ex.docs, ["How they talk."]);
    let hello = ex.hello.as_ref().expect("hello");
    assert_eq!(hello.on, idx("Hello"));
    assert_eq!(hello.answers.len(), 2);
    assert_eq!(hello.answers[0].reply, Reply::Message(idx("Welcome")));
    assert!(matches!(hello.answers[0].cond, Some(Cond::And(..))));
    assert_eq!(hello.answers[1].reply, Reply::MessageThenClose(idx("Bye")));
    assert_eq!(hello.answers[1].cond, None);
    let on: Vec<usize> = ex.rules.iter().map(|r| r.on).collect();
    assert_eq!(on, [idx("Ping"), idx("Bye")]);
    assert_eq!(ex.rules[0].answers[1].reply, Reply::Nothing);
    assert_eq!(ex.rules[1].answers[0].reply, Reply::Close);
    assert_eq!(ex.matching, Matching::Correlate("id".into()));
    assert_eq!(ex.push, [idx("Pong"), idx("Bye"), idx("Welcome")]);
    let k = ex.keepalive.as_ref().expect("keepalive");
    assert_eq!(
        (k.field.as_str(), k.unit_ms, k.grace_permille, k.ping),
        ("interval", 1, 125, idx("Ping"))
    );
}

#[test]
fn items_may_share_a_line_separated_by_semicolons() {
    let a = load(&proto(
        "hello Hello -> Welcome; Ping -> Pong if mode == 1, nothing; order; keepalive Hello.interval seconds * 3 ping Ping",
    ));
    let ex = a.exchange.expect("exchange");
    assert_eq!(ex.rules.len(), 1);
    assert_eq!(ex.matching, Matching::Order);
    let k = ex.keepalive.expect("keepalive");
    assert_eq!((k.unit_ms, k.grace_permille), (1000, 3000));
    // Without `correlate` or `order`, answers come in order.
    let b = load(&proto("Ping -> Pong"));
    assert_eq!(b.exchange.expect("exchange").matching, Matching::Order);
}

/// A message may be named like a keyword of the block.
#[test]
fn messages_named_like_keywords() {
    let src = proto("Ping -> Pong").replace("Bye", "order");
    let ir = load(&src.replace("Ping -> Pong", "order -> close; Ping -> order"));
    let ex = ir.exchange.expect("exchange");
    assert_eq!(
        ex.rules[0].on,
        ir.types
            .iter()
            .position(|t| t.name() == "order")
            .expect("order")
    );
    assert_eq!(ex.matching, Matching::Order);
}

#[test]
fn printed_block_parses_back_to_the_same_ir() {
    let ir = load(&proto(FULL));
    let text = to_wire(&ir);
    for needle in [
        "/// How they talk.\n    exchange {",
        "hello Hello -> Welcome if (@version > 1) && (interval != 0), Bye then close",
        "Ping -> Pong if (mode == 1) || !(mode < 3), nothing",
        "Bye -> close",
        "correlate id",
        "push Pong, Bye, Welcome",
        "keepalive Hello.interval millis * 0.125 ping Ping",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let back = load(&text);
    assert_eq!(without_spans(&back.exchange), without_spans(&ir.exchange));
    assert_eq!(text, to_wire(&back));
}

#[test]
fn the_derive_text_parses_like_the_block() {
    let text =
        "/// Docs.\nhello Hello -> Welcome; Ping -> Pong if mode == 1, nothing\ncorrelate id";
    let ex = polywire_codegen::dsl::parse::parse_exchange(text).expect("parses");
    assert_eq!(ex.docs, ["Docs."]);
    assert_eq!(ex.items.len(), 3);
    let e = polywire_codegen::dsl::parse::parse_exchange("Ping -> ").expect_err("no answer");
    assert!(
        e.message.contains("the end of the exchange"),
        "{}",
        e.message
    );
}

#[test]
fn syntax_error_in_an_answer() {
    insta::assert_snapshot!(
        "syntax_error_in_an_answer",
        fail_n(&proto("        Ping -> Pong if"), 1)
    );
}

#[test]
fn unknown_message() {
    insta::assert_snapshot!(
        "unknown_message",
        fail_n(&proto("        Ping -> Pongg\n        push Nope"), 2)
    );
}

#[test]
fn written_twice() {
    let body = "        hello Hello -> Welcome
        hello Ping -> Pong
        keepalive Hello.interval seconds * 1.5 ping Ping
        keepalive Hello.interval seconds * 2 ping Ping";
    let src = proto(body);
    let src = format!(
        "{}    exchange {{ Bye -> close }}\n}}\n",
        src.trim_end().strip_suffix('}').expect("closing brace")
    );
    insta::assert_snapshot!("written_twice", fail_n(&src, 3));
}

#[test]
fn correlate_and_order() {
    insta::assert_snapshot!(
        "correlate_and_order",
        fail_n(
            &proto("        Ping -> Pong\n        correlate id\n        order"),
            1
        )
    );
}

#[test]
fn keepalive_factor_out_of_range() {
    for bad in ["0", "0.0004", "1000.5", "12345"] {
        let src = proto(&format!(
            "        hello Hello -> Welcome\n        keepalive Hello.interval seconds * {bad} ping Ping"
        ));
        let r = fail_n(&src, 1);
        assert!(r.contains("E0155"), "{bad}: {r}");
    }
    insta::assert_snapshot!(
        "keepalive_factor_out_of_range",
        fail_n(
            &proto(
                "        hello Hello -> Welcome\n        keepalive Hello.interval seconds * 1.2345 ping Ping"
            ),
            1
        )
    );
}

#[test]
fn keepalive_of_another_message() {
    insta::assert_snapshot!(
        "keepalive_of_another_message",
        fail_n(
            &proto(
                "        hello Hello -> Welcome\n        keepalive Ping.id seconds * 1.5 ping Ping"
            ),
            1
        )
    );
}

#[test]
fn exchange_without_union_frame() {
    let src = "protocol t {
    frame { length: u32 = len(..), body: bytes rest }
    exchange { Frame -> Frame }
}
";
    insta::assert_snapshot!("exchange_without_union_frame", fail_n(src, 1));
}

#[test]
fn message_outside_the_union() {
    insta::assert_snapshot!(
        "message_outside_the_union",
        fail_n(
            &proto("        Other -> Pong\n        Ping -> Other\n        push Other"),
            3
        )
    );
}

#[test]
fn message_with_two_rules() {
    insta::assert_snapshot!(
        "message_with_two_rules",
        fail_n(
            &proto("        hello Ping -> Pong if mode == 1\n        Ping -> Pong if mode == 2"),
            1
        )
    );
}

#[test]
fn conditions_that_read_what_they_cannot() {
    insta::assert_snapshot!(
        "conditions_that_read_what_they_cannot",
        fail_n(
            &proto("        Ping -> Pong if tag == 1, Bye if missing > 2, nothing if @more"),
            3
        )
    );
}

#[test]
fn correlation_field_not_unsigned() {
    // `Other.id` is an i8, but Other is no member: only members count.
    assert!(
        polywire_codegen::load_str(
            "test.wire",
            &proto("        Ping -> Pong\n        correlate id")
        )
        .is_ok()
    );
    let signed =
        proto("        Ping -> Pong\n        correlate id").replace("id: u32 }", "id: i32 }");
    insta::assert_snapshot!("correlation_field_not_unsigned", fail_n(&signed, 1));
    insta::assert_snapshot!(
        "correlation_field_nowhere",
        fail_n(&proto("        Ping -> Pong\n        correlate seq"), 1)
    );
}

#[test]
fn keepalive_that_cannot_be_read() {
    insta::assert_snapshot!(
        "keepalive_without_hello",
        fail_n(
            &proto(
                "        Hello -> Welcome\n        keepalive Hello.interval seconds * 1.5 ping Ping"
            ),
            1
        )
    );
    insta::assert_snapshot!(
        "keepalive_field_not_unsigned",
        fail_n(
            &proto(
                "        hello Hello -> Welcome\n        keepalive Hello.code seconds * 1.5 ping Ping"
            ),
            1
        )
    );
}

#[test]
fn answer_never_chosen() {
    insta::assert_snapshot!(
        "answer_never_chosen",
        fail_n(&proto("        Ping -> Pong, Bye if mode == 2, nothing"), 2)
    );
}

/// A union frame for farewells and `accept if`: an enum, bool, signed and string fields,
/// bit parts, and a struct outside the union.
fn farewell_proto(body: &str) -> String {
    format!(
        r#"protocol t {{
    versions 4..=5
    enum Reason : u8 {{ OK = 0, MALFORMED = 0x81, BUSY = 0x89 }}
    struct Open {{ kind: u8 = 1, length: u32 = len(..), level: u8 @version, interval: u16 }}
    struct OpenAck {{ kind: u8 = 2, length: u32 = len(..), flags: u8 {{ present: bool bits 0..1, rest: u8 bits 1..8 = 0 }}, code: u8, note: string<u8> }}
    struct Refuse {{ kind: u8 = 3, length: u32 = len(..), code: u8 }}
    struct Close {{ kind: u8 = 4, length: u32 = len(..), reason: Reason if @version >= 5, fatal: bool, delay: i16, note: string<u8> }}
    struct Stray {{ kind: u8 = 9, length: u32 = len(..) }}
    union Msg {{ Open, OpenAck, Refuse, Close }}
    frame Msg
    exchange {{
{body}
    }}
}}
"#
    )
}

const FAREWELLS: &str =
    "        hello Open -> OpenAck accept if code == 0 && present && @version >= 4
        on malformed -> Close(reason = MALFORMED, fatal = true, delay = -32768) if @version >= 5
        on violation -> Close(delay = 32767, fatal = false)
        on keepalive -> Close()
        on shutdown -> Close if @version > 4 || @version == 4";

#[test]
fn farewells_and_accept_lower() {
    use polywire_codegen::ir::{Failure, SetValue};
    let ir = load(&farewell_proto(FAREWELLS));
    let close = ir.type_index("Close").expect("Close");
    let ex = ir.exchange.as_ref().expect("exchange");
    let on: Vec<Failure> = ex.farewells.iter().map(|f| f.on).collect();
    assert_eq!(on, Failure::ALL);
    assert!(ex.farewells.iter().all(|f| f.msg == close));
    let sets = |i: usize| -> Vec<(&str, &SetValue)> {
        ex.farewells[i]
            .sets
            .iter()
            .map(|s| (s.field.as_str(), &s.value))
            .collect()
    };
    assert_eq!(
        sets(0),
        [
            ("reason", &SetValue::Variant("MALFORMED".into())),
            ("fatal", &SetValue::Bool(true)),
            ("delay", &SetValue::Int(-32768)),
        ]
    );
    assert_eq!(
        sets(1),
        [
            ("delay", &SetValue::Int(32767)),
            ("fatal", &SetValue::Bool(false))
        ]
    );
    assert!(sets(2).is_empty() && sets(3).is_empty());
    assert!(matches!(ex.farewells[0].cond, Some(Cond::Cmp(..))));
    assert_eq!(ex.farewells[1].cond, None);
    assert!(matches!(ex.farewells[3].cond, Some(Cond::Or(..))));
    assert!(matches!(ex.accept, Some(Cond::And(..))));
    // Without the clause and the lines, both are empty.
    let plain = load(&farewell_proto("        hello Open -> OpenAck"));
    let ex = plain.exchange.expect("exchange");
    assert!(ex.farewells.is_empty() && ex.accept.is_none());
}

#[test]
fn printed_farewells_and_accept_parse_back() {
    let ir = load(&farewell_proto(FAREWELLS));
    let text = to_wire(&ir);
    for needle in [
        "hello Open -> OpenAck accept if ((code == 0) && present) && (@version >= 4)\n",
        "on malformed -> Close(reason = MALFORMED, fatal = true, delay = -32768) if @version >= 5\n",
        "on violation -> Close(delay = 32767, fatal = false)\n",
        "on keepalive -> Close\n",
        "on shutdown -> Close if (@version > 4) || (@version == 4)\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let back = load(&text);
    assert_eq!(without_spans(&back.exchange), without_spans(&ir.exchange));
    assert_eq!(text, to_wire(&back));
}

#[test]
fn the_derive_text_holds_farewells_and_accept() {
    let text = "hello Open -> OpenAck accept if code == 0; on malformed -> Close(fatal = true) if @version >= 5\non shutdown -> Close";
    let ex = polywire_codegen::dsl::parse::parse_exchange(text).expect("parses");
    assert_eq!(ex.items.len(), 3);
    let e = polywire_codegen::dsl::parse::parse_exchange("on timeout -> Close")
        .expect_err("no such failure");
    assert!(e.message.contains("`malformed`"), "{}", e.message);
}

/// A message may still be named `on` or `accept`.
#[test]
fn messages_named_on_and_accept() {
    let src = farewell_proto("        hello Open -> accept accept if code == 0\n        on -> close\n        on malformed -> on")
        .replace("OpenAck", "accept")
        .replace("Refuse", "on");
    let ir = load(&src);
    let ex = ir.exchange.expect("exchange");
    let idx = |n: &str| ir.types.iter().position(|t| t.name() == n).expect(n);
    assert_eq!(ex.rules[0].on, idx("on"));
    assert_eq!(ex.farewells[0].msg, idx("on"));
    assert!(ex.accept.is_some());
}

#[test]
fn unknown_failure() {
    insta::assert_snapshot!(
        "unknown_failure",
        fail_n(&farewell_proto("        on timeout -> Close"), 1)
    );
}

#[test]
fn farewell_written_twice() {
    insta::assert_snapshot!(
        "farewell_written_twice",
        fail_n(
            &farewell_proto(
                "        on malformed -> Close\n        on malformed -> Close(fatal = true)"
            ),
            1
        )
    );
}

#[test]
fn accept_on_another_rule() {
    insta::assert_snapshot!(
        "accept_on_another_rule",
        fail_n(
            &farewell_proto(
                "        hello Open -> OpenAck\n        Refuse -> Close accept if fatal"
            ),
            1
        )
    );
}

#[test]
fn farewell_outside_the_union() {
    insta::assert_snapshot!(
        "farewell_outside_the_union",
        fail_n(&farewell_proto("        on shutdown -> Stray"), 1)
    );
}

#[test]
fn farewell_fields_it_cannot_set() {
    insta::assert_snapshot!(
        "farewell_fields_it_cannot_set",
        fail_n(
            &farewell_proto(
                "        on malformed -> Close(nope = 1, length = 2, kind = 4, note = 3, reason = OK, reason = BUSY)\n        on violation -> OpenAck(present = true)"
            ),
            6
        )
    );
}

#[test]
fn farewell_values_that_do_not_fit() {
    insta::assert_snapshot!(
        "farewell_values_that_do_not_fit",
        fail_n(
            &farewell_proto(
                "        on malformed -> Close(reason = MALFORMD, fatal = 1, delay = 40000)\n        on violation -> Close(reason = 5, fatal = true, delay = -32768)\n        on shutdown -> Refuse(code = BUSY)\n        on keepalive -> Close(delay = -32769)"
            ),
            6
        )
    );
}

#[test]
fn farewell_condition_reads_more_than_the_version() {
    insta::assert_snapshot!(
        "farewell_condition_reads_more_than_the_version",
        fail_n(
            &farewell_proto(
                "        on malformed -> Close if fatal\n        on violation -> Close if @more || @version > 4\n        on keepalive -> Close if @version >= 5"
            ),
            2
        )
    );
}

#[test]
fn accept_reads_what_it_cannot() {
    insta::assert_snapshot!(
        "accept_reads_what_it_cannot",
        fail_n(
            &farewell_proto(
                "        hello Open -> OpenAck accept if reason == 0 || note == 1 || rest == 0 || @more"
            ),
            4
        )
    );
}

#[test]
fn accept_without_one_answer_message() {
    insta::assert_snapshot!(
        "accept_between_two_answers",
        fail_n(
            &farewell_proto(
                "        hello Open -> OpenAck if level == 5, Refuse accept if code == 0"
            ),
            1
        )
    );
    insta::assert_snapshot!(
        "accept_without_an_answer",
        fail_n(
            &farewell_proto("        hello Open -> close accept if code == 0"),
            1
        )
    );
    // The same message twice is one answer to read.
    load(&farewell_proto(
        "        hello Open -> OpenAck if level == 5, OpenAck then close accept if code == 0",
    ));
}

/// A union frame for `status` lines: an enum, a tagged list, a struct field, strings,
/// integers, bit parts, a conditional field and a struct outside the union; `Ask` is
/// answered by `Ack`, `Nak` or `Fin`.
fn status_proto(body: &str) -> String {
    format!(
        r#"protocol t {{
    versions 4..=5
    enum Reason : u8 {{ OK = 0, GRANTED = 1, MALFORMED = 0x81, BUSY = 0x89 }}
    tagged Props : u8 {{
        0x1F reason: string<u16>
        0x26 user: string<u16> repeated
        0x02 expiry: u32
    }}
    struct Detail {{ text: string<u8>, count: u16 }}
    struct Ask {{ kind: u8 = 1, length: u32 = len(..), id: u16 }}
    struct Ack {{ kind: u8 = 2, length: u32 = len(..), id: u16, flags: u8 {{ present: bool bits 0..1, rest: u8 bits 1..8 = 0 }}, reason: Reason if @version >= 5 && @more, props: Props sized_by u16 if @version >= 5 && @more }}
    struct Nak {{ kind: u8 = 3, length: u32 = len(..), id: u16, code: i8, detail: Detail, note: string<u8>, big: varint }}
    struct Fin {{ kind: u8 = 4, length: u32 = len(..), id: u16, code: u16 if @version >= 5 }}
    struct Stray {{ kind: u8 = 9, length: u32 = len(..), code: u8 }}
    union Msg {{ Ask, Ack, Nak, Fin }}
    frame Msg
    exchange {{
        Ask -> Ack if id == 1, Nak if id == 2, Fin
        correlate id
{body}
    }}
}}
"#
    )
}

const STATUSES: &str = "        status Ack.reason ok OK..GRANTED message props.reason
        status Nak.code ok -1..5 message detail.text
        status Fin.code";

/// Each body is rejected with exactly one error; the renderings, one after another.
fn status_fails(bodies: &[&str]) -> String {
    bodies
        .iter()
        .map(|b| fail_n(&status_proto(b), 1))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn statuses_lower() {
    let ir = load(&status_proto(STATUSES));
    let idx = |n: &str| ir.type_index(n).expect(n);
    let ex = ir.exchange.as_ref().expect("exchange");
    let got: Vec<_> = ex
        .statuses
        .iter()
        .map(|s| {
            (
                s.msg,
                s.field.as_str(),
                s.ok,
                s.message.iter().map(String::as_str).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (idx("Ack"), "reason", (0, 1), vec!["props", "reason"]),
            (idx("Nak"), "code", (-1, 5), vec!["detail", "text"]),
            (idx("Fin"), "code", (0, 0), vec![]),
        ]
    );
    // `ok N` is `N..N`; a variant alone is its value; hexadecimal is read as such.
    let one = |body: &str| {
        load(&status_proto(body))
            .exchange
            .expect("exchange")
            .statuses[0]
            .ok
    };
    assert_eq!(one("        status Ack.reason ok BUSY"), (0x89, 0x89));
    assert_eq!(one("        status Ack.reason ok 0x00..0x7F"), (0, 0x7F));
    assert_eq!(one("        status Nak.big ok 7"), (7, 7));
    assert_eq!(one("        status Ack.reason ok 1..MALFORMED"), (1, 0x81));
    // Without status lines there are none.
    let plain = load(&status_proto(""));
    assert!(plain.exchange.expect("exchange").statuses.is_empty());
}

#[test]
fn printed_statuses_parse_back() {
    let ir = load(&status_proto(STATUSES));
    let text = to_wire(&ir);
    for needle in [
        "status Ack.reason ok 0..1 message props.reason\n",
        "status Nak.code ok -1..5 message detail.text\n",
        "status Fin.code\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let back = load(&text);
    assert_eq!(without_spans(&back.exchange), without_spans(&ir.exchange));
    assert_eq!(text, to_wire(&back));
    // A single value other than 0 prints as `ok N`.
    let ir = load(&status_proto("        status Ack.reason ok BUSY"));
    assert!(to_wire(&ir).contains("status Ack.reason ok 137\n"));
}

#[test]
fn the_derive_text_holds_statuses() {
    let text = "Ask -> Ack; status Ack.reason ok 0x00..0x7F message props.reason; status Fin.code ok 0\nstatus Nak.code";
    let ex = polywire_codegen::dsl::parse::parse_exchange(text).expect("parses");
    assert_eq!(ex.items.len(), 4);
    let e = polywire_codegen::dsl::parse::parse_exchange("status Ack ok 0").expect_err("no field");
    assert!(e.message.contains("`.`"), "{}", e.message);
}

/// Messages may still be named `status`, `ok` or `message`.
#[test]
fn messages_named_status_ok_and_message() {
    let src = status_proto(
        "        ok -> nothing\n        status ok.code ok 0 message note\n        message -> close",
    )
    .replace("Ask", "status")
    .replace("Nak", "ok")
    .replace("Fin", "message");
    let ir = load(&src);
    let idx = |n: &str| ir.type_index(n).expect(n);
    let ex = ir.exchange.as_ref().expect("exchange");
    assert_eq!(ex.rules[0].on, idx("status"));
    assert_eq!(ex.rules[1].on, idx("ok"));
    assert_eq!(ex.rules[2].on, idx("message"));
    assert_eq!(ex.statuses[0].msg, idx("ok"));
    assert_eq!(ex.statuses[0].message, ["note"]);
}

#[test]
fn status_written_twice() {
    insta::assert_snapshot!(
        "status_written_twice",
        fail_n(
            &status_proto("        status Nak.code\n        status Nak.big ok 1"),
            1
        )
    );
}

#[test]
fn status_fields_it_cannot_read() {
    insta::assert_snapshot!(
        "status_fields_it_cannot_read",
        status_fails(&[
            "        status Ack.nope",
            "        status Ack.present",
            "        status Ack.kind",
            "        status Ack.length",
            "        status Ack.flags",
            "        status Ack.props",
            "        status Nak.note",
            "        status Nak.detail",
        ])
    );
}

#[test]
fn status_ok_that_does_not_fit() {
    insta::assert_snapshot!(
        "status_ok_that_does_not_fit",
        status_fails(&[
            "        status Ack.reason ok MALFORMD",
            "        status Nak.code ok OK",
            "        status Ack.reason ok 0..300",
            "        status Nak.code ok 5..1",
            "        status Fin.code ok -1",
            "        status Nak.code ok -129..0",
        ])
    );
}

#[test]
fn status_message_that_is_not_a_string() {
    insta::assert_snapshot!(
        "status_message_that_is_not_a_string",
        status_fails(&[
            "        status Ack.reason message props.user",
            "        status Ack.reason message props.expiry",
            "        status Ack.reason message props.nope",
            "        status Ack.reason message props",
            "        status Nak.code message detail.count",
            "        status Nak.code message detail.text.more",
            "        status Nak.code message big.x",
            "        status Nak.code message nope",
            "        status Nak.code message kind",
        ])
    );
}

#[test]
fn status_of_a_message_that_answers_nothing() {
    insta::assert_snapshot!(
        "status_of_a_message_that_answers_nothing",
        status_fails(&["        status Ask.id", "        status Stray.code"])
    );
}

#[test]
fn a_series_answer_lowers_prints_and_parses_back() {
    let ir = load(&proto(
        "        hello Hello -> Welcome\n        Ping -> Pong* then Bye if mode == 1, Pong",
    ));
    let idx = |n: &str| ir.type_index(n).expect(n);
    let ex = ir.exchange.as_ref().expect("exchange");
    assert_eq!(
        ex.rules[0].answers[0].reply,
        Reply::Series {
            item: idx("Pong"),
            end: idx("Bye")
        }
    );
    assert_eq!(ex.rules[0].answers[1].reply, Reply::Message(idx("Pong")));
    let text = to_wire(&ir);
    assert!(
        text.contains("Ping -> Pong* then Bye if mode == 1, Pong"),
        "{text}"
    );
    let back = load(&text);
    assert_eq!(without_spans(&back.exchange), without_spans(&ir.exchange));
    // The derive front end's text holds it too.
    let ex = polywire_codegen::dsl::parse::parse_exchange("Ping -> Pong* then Bye; order")
        .expect("parses");
    assert_eq!(ex.items.len(), 2);
}

#[test]
fn a_series_that_ends_with_its_own_item() {
    insta::assert_snapshot!(
        "series_ending_with_its_item",
        fail_n(&proto("        Ping -> Pong* then Pong"), 1)
    );
}

#[test]
fn a_hello_answered_by_a_series() {
    insta::assert_snapshot!(
        "hello_answered_by_a_series",
        fail_n(
            &proto("        hello Hello -> Pong* then Welcome\n        Ping -> Pong"),
            1
        )
    );
}

#[test]
fn a_series_without_its_end() {
    insta::assert_snapshot!(
        "series_without_its_end",
        fail_n(&proto("        Ping -> Pong* then"), 1)
    );
}

#[test]
fn an_answer_on_an_outcome_lowers_prints_and_parses_back() {
    let ir = load(&proto(
        "        Ping -> Pong on failure if mode == 1, Pong on success\n        status Pong.id ok 0",
    ));
    let idx = |n: &str| ir.type_index(n).expect(n);
    let ex = ir.exchange.as_ref().expect("exchange");
    assert_eq!(
        ex.rules[0].answers[0].reply,
        Reply::Only {
            msg: idx("Pong"),
            failure: true
        }
    );
    assert_eq!(
        ex.rules[0].answers[1].reply,
        Reply::Only {
            msg: idx("Pong"),
            failure: false
        }
    );
    let text = to_wire(&ir);
    assert!(
        text.contains("Ping -> Pong on failure if mode == 1, Pong on success"),
        "{text}"
    );
    let back = load(&text);
    assert_eq!(without_spans(&back.exchange), without_spans(&ir.exchange));
    // A farewell after a plain answer is still a farewell.
    let ir = load(&proto("        Ping -> Pong\n        on malformed -> Bye"));
    assert_eq!(ir.exchange.expect("exchange").farewells.len(), 1);
}

#[test]
fn an_answer_on_an_outcome_without_a_status() {
    insta::assert_snapshot!(
        "outcome_without_status",
        fail_n(&proto("        Ping -> Pong on failure"), 1)
    );
}

#[test]
fn a_hello_answered_only_on_an_outcome() {
    insta::assert_snapshot!(
        "hello_answered_only_on_an_outcome",
        fail_n(
            &proto("        hello Hello -> Pong on success\n        status Pong.id ok 0"),
            1
        )
    );
}
