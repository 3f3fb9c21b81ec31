//! The sans-IO `MessageSession` carrying out `resp.wire`'s `exchange` block: a server reads
//! commands and writes values (the side that sent the bytes picks the frame union's member),
//! answers in the order commands came, and answers bytes that are not RESP with a protocol
//! error before it closes.

use bytes::{Bytes, BytesMut};
use polywire::exchange::{Exchange, Expect, Incoming, MessageSession, Role, SendError, Violation};
use polywire::{Codec, Sender};
use polywire_protocols::resp::*;
use std::time::Instant;

fn bulk(b: &[u8]) -> Value {
    Value::BulkString(BulkString {
        data: Some(Bytes::copy_from_slice(b)),
    })
}

fn command(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len());
    for w in words {
        out += &format!("${}\r\n{w}\r\n", w.len());
    }
    out.into_bytes()
}

/// What a server session writes for `input`, answering each command with an integer, its
/// place in line, in the order `order` gives (indexes into the commands); and the violation
/// that stopped it, if any.
fn serve(input: &[u8], order: &[usize]) -> (Vec<u8>, Option<Violation>) {
    let now = Instant::now();
    let mut s = MessageSession::new(RespExchange, Role::Server, now);
    assert_eq!(s.version(), Some(2), "a connection starts in RESP2");
    let mut buf = BytesMut::from(input);
    let mut got = Vec::new();
    let mut violation = None;
    loop {
        match s.receive(&mut buf, now) {
            Ok(Some(Incoming::Message {
                msg: Message::Command(_),
                token,
            })) => {
                assert_eq!(token.expect(), Expect::One(1));
                got.push(Some(token));
            }
            Ok(Some(other)) => panic!("unexpected {other:?}"),
            Ok(None) => break,
            Err(v) => {
                violation = Some(v);
                break;
            }
        }
    }
    assert_eq!(got.len(), order.len(), "commands read");
    for &i in order {
        let token = got[i].take().expect("answered once");
        let answer = Message::Value(Value::Integer(Integer { value: i as i64 }));
        s.answer(token, answer, now).expect("answers");
    }
    (s.take_output().to_vec(), violation)
}

#[test]
fn commands_are_read_as_commands_and_answered_in_their_order() {
    let mut input = Vec::new();
    for i in 0..5 {
        input.extend(command(&["SET", &format!("k{i}"), "v"]));
    }
    // An inline command is a command too.
    input.extend(b"PING\r\n");
    // Answered out of order, they leave in order.
    let (out, v) = serve(&input, &[5, 3, 1, 0, 2, 4]);
    assert!(v.is_none());
    assert_eq!(out, b":0\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n");
}

#[test]
fn a_server_reads_what_clients_send_and_a_client_what_servers_send() {
    let now = Instant::now();
    // `+OK` from a client is an inline command (Redis answers it as an unknown command);
    // from a server it is a simple string.
    let mut server = MessageSession::new(RespExchange, Role::Server, now);
    let mut buf = BytesMut::from(&b"+OK\r\n"[..]);
    match server.receive(&mut buf, now) {
        Ok(Some(Incoming::Message {
            msg: Message::Command(Command::Inline(Inline { line })),
            ..
        })) => assert_eq!(line.as_str(), "+OK"),
        other => panic!("{other:?}"),
    }
    let mut client = MessageSession::new(RespExchange, Role::Client, now);
    let mut buf = BytesMut::from(&b"+OK\r\n"[..]);
    match client.receive(&mut buf, now) {
        Ok(Some(Incoming::Message {
            msg: Message::Value(Value::SimpleString(SimpleString { text })),
            ..
        })) => assert_eq!(text.as_str(), "OK"),
        other => panic!("{other:?}"),
    }
    // A side never sends the other side's member.
    let answer = Message::Command(Command::Inline(Inline {
        line: "PING".into(),
    }));
    assert_eq!(
        server.send(answer, now),
        Err(SendError::WrongSide("Command"))
    );
    assert_eq!(
        client.send(Message::Value(bulk(b"x")), now),
        Err(SendError::WrongSide("Value"))
    );
}

#[test]
fn each_direction_is_a_frame_and_the_union_needs_its_sender() {
    // The union's codec reads what the side it is told sent.
    let mut codec = MessageCodec::new().sent_by(Sender::Server);
    let mut buf = BytesMut::from(&b"$3\r\nabc\r\n"[..]);
    assert_eq!(
        codec.decode(&mut buf).expect("decodes"),
        Some(Message::Value(bulk(b"abc")))
    );
    // Without a sender it cannot tell what the bytes are, and says so.
    let mut codec = MessageCodec::new();
    let mut buf = BytesMut::from(&b"$3\r\nabc\r\n"[..]);
    let e = codec.decode(&mut buf).expect_err("which side is unknown");
    assert_eq!(e.kind, polywire::DecodeErrorKind::UnknownSender);
    assert_eq!(buf.len(), 9, "nothing consumed");
    // Each direction has a codec of its own.
    let mut buf = BytesMut::from(&command(&["GET", "k"])[..]);
    match CommandCodec::new().decode(&mut buf).expect("decodes") {
        Some(Command::Array(a)) => assert_eq!(a.items.as_ref().map(Vec::len), Some(2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bytes_that_are_not_resp_get_a_protocol_error_then_the_connection_closes() {
    let mut input = command(&["PING"]);
    // A non-digit in a bulk length.
    input.extend(b"*1\r\n$x\r\n");
    let (out, v) = serve(&input, &[0]);
    assert!(matches!(v, Some(Violation::Decode(_))), "{v:?}");
    // The first command's answer, then the error, then nothing.
    assert_eq!(
        String::from_utf8_lossy(&out),
        ":0\r\n-ERR Protocol error: at byte 5 in `Message.Array.items.BulkString.len`: not a decimal integer\r\n"
    );
}

#[test]
fn a_handler_switches_the_version() {
    let now = Instant::now();
    let mut s = MessageSession::new(RespExchange, Role::Server, now);
    assert_eq!(RespExchange.versions(), Some((2, 3)));
    s.set_version(3);
    assert_eq!(s.version(), Some(3));
}

/// The commands a server session reads from `input` given `k` bytes at a time, the way a
/// connection's reads cut it; `drain` says whether the caller reads every command before it
/// adds more bytes (as the runtime does) or adds bytes after each command.
fn read_in_pieces(input: &[u8], k: usize, drain: bool) -> Vec<Command> {
    let now = Instant::now();
    let mut s = MessageSession::new(RespExchange, Role::Server, now);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for piece in input.chunks(k) {
        buf.extend_from_slice(piece);
        loop {
            match s.receive(&mut buf, now).expect("well-formed") {
                Some(Incoming::Message {
                    msg: Message::Command(c),
                    ..
                }) => got.push(c),
                Some(other) => panic!("{other:?}"),
                None => break,
            }
            if !drain {
                break;
            }
        }
    }
    while let Some(ev) = s.receive(&mut buf, now).expect("well-formed") {
        match ev {
            Incoming::Message {
                msg: Message::Command(c),
                ..
            } => got.push(c),
            other => panic!("{other:?}"),
        }
    }
    got
}

#[test]
fn commands_cut_anywhere_by_reads_are_read_whole_and_in_order() {
    let mut input = Vec::new();
    let big = "x".repeat(300);
    for i in 0..6 {
        input.extend(command(&["SET", &format!("k{i}"), &big]));
        input.extend(b"PING\r\n");
        input.extend(b"\r\n");
    }
    let whole = read_in_pieces(&input, input.len(), true);
    assert_eq!(whole.len(), 18);
    for k in [1, 2, 3, 5, 7, 64, 301, 1000] {
        assert_eq!(
            read_in_pieces(&input, k, true),
            whole,
            "pieces of {k}, drained"
        );
        assert_eq!(
            read_in_pieces(&input, k, false),
            whole,
            "pieces of {k}, not drained"
        );
    }
}

#[test]
fn a_protocol_error_says_what_was_wrong_on_one_line() {
    // The bulk string's end is not CRLF: the literal it expected is in the error's text.
    let mut input = command(&["PING"]);
    input.extend(b"*1\r\n$1\r\nab\r\n");
    let (out, v) = serve(&input, &[0]);
    assert!(matches!(v, Some(Violation::Decode(_))), "{v:?}");
    let out = String::from_utf8_lossy(&out).into_owned();
    let error = out.strip_prefix(":0\r\n").expect("the answer first");
    assert!(
        error.starts_with("-ERR Protocol error: at byte 9 in `Message.Array.items.BulkString.end`"),
        "{error:?}"
    );
    assert!(error.ends_with("\r\n"), "{error:?}");
    assert_eq!(error.matches("\r\n").count(), 1, "one line: {error:?}");
}

#[test]
fn a_session_holds_the_protocols_rules_for_nothing() {
    // The generated exchange is a unit struct: a session holding one is no larger than
    // its codec and state.
    assert_eq!(std::mem::size_of::<RespExchange>(), 0);
    assert_eq!(
        std::mem::size_of::<MessageSession<RespExchange>>(),
        std::mem::size_of::<MessageSession<polywire_protocols::mqtt::MqttExchange>>()
    );
}

/// Once every message of a read is taken out, the session keeps no view of the read
/// buffer: the caller owns it alone again and can read into it without allocating, and an
/// idle connection pins no buffer. (A value a message holds may still share it while the
/// message lives: a 64-byte value here.)
#[test]
fn a_drained_read_leaves_the_buffer_to_its_owner() {
    let now = Instant::now();
    let mut s = MessageSession::new(RespExchange, Role::Server, now);
    let mut buf = BytesMut::with_capacity(4096);
    let long = "v".repeat(64);
    buf.extend_from_slice(&command(&["SET", "k", &long]));
    buf.extend_from_slice(&command(&["PING"]));
    let mut n = 0;
    while let Ok(Some(ev)) = s.receive(&mut buf, now) {
        assert!(matches!(ev, Incoming::Message { .. }));
        n += 1;
    }
    assert_eq!(n, 2);
    assert!(buf.is_empty());
    assert!(
        buf.try_reclaim(4096),
        "the read buffer is still shared after its messages were taken and dropped"
    );
}
