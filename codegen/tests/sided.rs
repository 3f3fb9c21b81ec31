//! A union of a connection's two directions (`Command from client`, `Value from server`):
//! what it lowers to, printing it back, an exchange over it, and its diagnostics
//! (insta snapshots `tests/snapshots/sided__<case>.snap`).

#![cfg(feature = "dsl")]

mod common;

use common::{fail_n, load};
use polywire_codegen::ir::print::to_wire;
use polywire_codegen::ir::{Protocol, Reply, Sender, SetValue, TypeDef};

/// Text commands one way, typed replies the other; `message` is the frame union's body.
fn proto(message: &str, exchange: &str) -> String {
    format!(
        r#"protocol t {{
    struct Word {{ marker: u8 = '$', text: string until "\r\n" }}
    struct Line {{ text: string until "\r\n" }}
    union Request {{ Word, else Line }}
    struct Done {{ marker: u8 = '+', text: string until "\r\n" }}
    struct Failed {{ marker: u8 = '-', text: string until "\r\n" }}
    union Reply {{ Done, Failed }}
    union Message {{
{message}
    }}
    frame Message
    exchange {{
{exchange}
    }}
}}
"#
    )
}

const SIDES: &str = "        Request from client\n        Reply from server";
const EXCHANGE: &str = "        Request -> Reply\n        push Reply\n        on malformed -> Failed(text = \"ERR bad \\\"request\\\"\")";

fn union<'a>(p: &'a Protocol, name: &str) -> &'a polywire_codegen::ir::UnionDef {
    p.types
        .iter()
        .find_map(|t| match t {
            TypeDef::Union(u) if u.name == name => Some(u),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no union {name}"))
}

#[test]
fn each_member_says_the_side_that_sends_it() {
    let p = load(&proto(SIDES, EXCHANGE));
    let m = union(&p, "Message");
    let sides: Vec<(&str, Option<Sender>)> = m
        .arms
        .iter()
        .map(|a| (p.types[a.ty].name(), a.from))
        .collect();
    assert_eq!(
        sides,
        [
            ("Request", Some(Sender::Client)),
            ("Reply", Some(Sender::Server))
        ]
    );
    // The exchange names the directions' unions; the farewell a member of one of them.
    let ex = p.exchange.as_ref().expect("an exchange");
    let idx = |n: &str| p.types.iter().position(|t| t.name() == n).expect(n);
    assert_eq!(ex.rules[0].on, idx("Request"));
    assert_eq!(ex.rules[0].answers[0].reply, Reply::Message(idx("Reply")));
    assert_eq!(ex.farewells[0].msg, idx("Failed"));
    assert_eq!(
        ex.farewells[0].sets[0].value,
        SetValue::Str("ERR bad \"request\"".to_string())
    );
    assert_eq!(
        p.frame_path(idx("Failed")),
        Some(vec![idx("Reply"), idx("Failed")])
    );
    assert_eq!(p.frame_path(idx("Reply")), Some(vec![idx("Reply")]));
    assert_eq!(
        p.frame_path(idx("Word")),
        Some(vec![idx("Request"), idx("Word")])
    );
}

#[test]
fn printed_back_it_parses_to_the_same_ir() {
    let p = load(&proto(SIDES, EXCHANGE));
    let text = to_wire(&p);
    for needle in [
        "Request from client",
        "Reply from server",
        "on malformed -> Failed(text = \"ERR bad \\\"request\\\"\")",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(text, to_wire(&load(&text)));
}

#[test]
fn the_generated_code_reads_the_member_of_the_sender() {
    let src = proto(SIDES, EXCHANGE);
    let c = polywire_codegen::load_str("test.wire", &src).expect("loads");
    let code = polywire_codegen::generate(&c.ir, &c.sources).expect("generates");
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    for needle in [
        "__r.sender()",
        "DecodeErrorKind::UnknownSender",
        "fn frame_len_from(",
        // Each direction is a frame of its own too.
        "impl ::polywire::Framed for Request",
        "impl ::polywire::Framed for Reply",
        // Which side sends each member, for the session.
        "fn sender(&self, member: usize",
        // The farewell, wrapped in the member that holds it.
        "Message::Reply(Reply::Failed(Failed {",
    ] {
        let needle: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(code.contains(&needle), "missing {needle:?}");
    }
}

#[test]
fn a_member_without_a_side() {
    insta::assert_snapshot!(
        "a_member_without_a_side",
        fail_n(
            &proto(
                "        Request from client\n        Reply",
                "        Request -> Reply"
            ),
            1
        )
    );
}

#[test]
fn two_members_from_one_side() {
    insta::assert_snapshot!(
        "two_members_from_one_side",
        fail_n(
            &proto(
                "        Request from client\n        Reply from client",
                "        Request -> Reply"
            ),
            2
        )
    );
}

#[test]
fn an_else_member_of_a_sided_union() {
    insta::assert_snapshot!(
        "an_else_member_of_a_sided_union",
        fail_n(
            &proto(
                "        else Request from client\n        Reply from server",
                "        Request -> Reply"
            ),
            1
        )
    );
}

#[test]
fn a_condition_on_a_union_request() {
    insta::assert_snapshot!(
        "a_condition_on_a_union_request",
        fail_n(&proto(SIDES, "        Request -> Reply if @version > 1"), 1)
    );
}

#[test]
fn a_string_farewell_value_for_a_number() {
    insta::assert_snapshot!(
        "a_string_farewell_value_for_a_number",
        fail_n(
            &proto(
                SIDES,
                "        Request -> Reply\n        on malformed -> Done(marker = \"x\")"
            ),
            1
        )
    );
}

#[test]
fn a_rule_on_a_member_of_a_direction_comes_before_its_unions() {
    let src = proto(SIDES, "        Request -> Reply\n        Word -> nothing");
    let c = polywire_codegen::load_str("test.wire", &src).expect("loads");
    let idx = |n: &str| c.ir.types.iter().position(|t| t.name() == n).expect(n);
    let ex = c.ir.exchange.as_ref().expect("an exchange");
    assert_eq!(ex.rules[1].on, idx("Word"));
    assert_eq!(ex.rules[1].answers[0].reply, Reply::Nothing);
    let code = polywire_codegen::generate(&c.ir, &c.sources).expect("generates");
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let word = code
        .find("Message::Request(Request::Word(_))=>__pw::Expect::Nothing")
        .expect("the member's rule");
    let union = code
        .find("Message::Request(_)=>__pw::Expect::One(1)")
        .expect("the union's rule");
    assert!(word < union, "the more specific pattern first");
    // The typed handler hands it to a method of its own, ahead of the union's.
    let method = code
        .find("Message::Request(Request::Word(m))=>")
        .expect("dispatch");
    let rest = code.find("Message::Request(m)=>").expect("dispatch");
    assert!(method < rest);
}
