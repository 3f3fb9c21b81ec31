//! The typed client generated from `wire/resp.wire` talking to a real Redis: Debian's
//! redis-server, started by the test on a loopback port (its options on its command line)
//! and stopped by its PID. Commands, a pipeline, pub/sub with the messages coming through
//! `next_push`, binary values, errors, RESP2 and RESP3 (`HELLO 3`, whose pushes are never
//! taken for answers).
//!
//! `.ci/run` installs redis-server; elsewhere, without it, the test says so loudly and
//! passes (under CI it fails instead).

mod common;

use bytes::Bytes;
use common::{Running, free_port, listening, program};
use polywire::rt::MessageConfig;
use polywire_protocols::resp::*;
use std::process::{Command as Process, Stdio};

/// redis-server on a free loopback port, or `None` when it is not installed.
fn redis_server() -> Option<Running> {
    let bin = program(
        &["redis-server", "/usr/bin/redis-server"],
        "--version",
        "redis-server",
    )?;
    let port = free_port();
    let child = Process::new(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    Some(listening(child, port, "redis-server"))
}

fn bulk(b: &[u8]) -> Value {
    Value::BulkString(BulkString {
        data: Some(Bytes::copy_from_slice(b)),
    })
}

/// A command of `words`, as clients send it: an array of bulk strings.
fn cmd(words: &[&[u8]]) -> Command {
    Command::Array(Array {
        items: Some(words.iter().map(|w| bulk(w)).collect()),
    })
}

fn text(v: &Value) -> &str {
    match v {
        Value::SimpleString(s) => s.text.as_str(),
        Value::SimpleError(s) => s.text.as_str(),
        other => panic!("not a line: {other:?}"),
    }
}

fn data(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(BulkString { data }) => data.as_deref(),
        Value::Null(_) => None,
        other => panic!("not a bulk string: {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(Integer { value }) => *value,
        other => panic!("not an integer: {other:?}"),
    }
}

/// The items of an array or a push.
fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(Array { items: Some(i) }) => i,
        Value::Push(p) => &p.items,
        other => panic!("not an array or push: {other:?}"),
    }
}

async fn client(port: u16) -> Client {
    Client::connect(("127.0.0.1", port), MessageConfig::default())
        .await
        .expect("connects")
}

/// Commands, errors, binary values and a pipeline, in the version `client` speaks.
async fn commands(c: &Client, prefix: &str) {
    let key = |k: &str| format!("{prefix}:{k}").into_bytes();
    let pong = c.command(cmd(&[b"PING"])).await.expect("PING");
    assert_eq!(text(&pong), "PONG");
    let ok = c
        .command(cmd(&[b"SET", &key("a"), b"1"]))
        .await
        .expect("SET");
    assert_eq!(text(&ok), "OK");
    assert_eq!(
        int(&c
            .command(cmd(&[b"INCRBY", &key("a"), b"41"]))
            .await
            .expect("INCRBY")),
        42
    );
    let got = c.command(cmd(&[b"GET", &key("a")])).await.expect("GET");
    assert_eq!(data(&got), Some(&b"42"[..]));
    let missing = c.command(cmd(&[b"GET", &key("none")])).await.expect("GET");
    assert_eq!(data(&missing), None);
    // Errors are values.
    let e = c.command(cmd(&[b"NOPE"])).await.expect("an error value");
    assert!(text(&e).starts_with("ERR unknown command"), "{e:?}");
    // A binary value of 1 MiB with every byte value, CRLFs included.
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 256) as u8).collect();
    c.command(cmd(&[b"SET", &key("big"), &big]))
        .await
        .expect("SET big");
    let back = c
        .command(cmd(&[b"GET", &key("big")]))
        .await
        .expect("GET big");
    assert_eq!(data(&back), Some(&big[..]));
    // A pipeline of 10,000: every command sent before any answer is read.
    let sets = (0..10_000).map(|i| {
        cmd(&[
            b"SET",
            format!("{prefix}:p{i}").as_bytes(),
            i.to_string().as_bytes(),
        ])
    });
    let answers = c.command_pipelined(sets).await.expect("the pipeline");
    assert_eq!(answers.len(), 10_000);
    assert!(answers.iter().all(|a| text(a) == "OK"));
    let gets = (0..10_000).map(|i| cmd(&[b"GET", format!("{prefix}:p{i}").as_bytes()]));
    let values = c.command_pipelined(gets).await.expect("the pipeline");
    for (i, v) in values.iter().enumerate() {
        assert_eq!(data(v), Some(i.to_string().as_bytes()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_client_speaks_resp2_and_resp3_with_redis() {
    let Some(server) = redis_server() else { return };
    let c = client(server.port).await;
    assert_eq!(c.version(), Some(2), "RESP2 until HELLO 3");
    commands(&c, "resp2").await;

    let c3 = client(server.port).await;
    let hello = c3.command(cmd(&[b"HELLO", b"3"])).await.expect("HELLO 3");
    let Value::Map(m) = &hello else {
        panic!("HELLO 3 is answered by a map: {hello:?}")
    };
    let proto = m
        .entries
        .iter()
        .find(
            |p| matches!(&p.key, Value::BulkString(b) if b.data.as_deref() == Some(&b"proto"[..])),
        )
        .expect("proto");
    assert_eq!(int(&proto.value), 3);
    c3.switch_version(3).await.expect("switches");
    assert_eq!(c3.version(), Some(3));
    commands(&c3, "resp3").await;
    // RESP3's null.
    let null = c3
        .command(cmd(&[b"GET", b"resp3:none"]))
        .await
        .expect("GET");
    assert!(matches!(null, Value::Null(_)), "{null:?}");
    // An unsupported version.
    let e = c3.command(cmd(&[b"HELLO", b"4"])).await.expect("an error");
    assert!(text(&e).starts_with("NOPROTO"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pub_sub_messages_come_as_pushes() {
    let Some(server) = redis_server() else { return };
    let publisher = client(server.port).await;

    // RESP2: the first confirmation answers SUBSCRIBE, the others and the messages are
    // pushed.
    let sub2 = client(server.port).await;
    let first = sub2
        .command(cmd(&[b"SUBSCRIBE", b"news", b"sport"]))
        .await
        .expect("SUBSCRIBE");
    assert_eq!(data(&items(&first)[1]), Some(&b"news"[..]));
    let second = sub2.next_push().await.expect("the second confirmation");
    assert_eq!(data(&items(&second)[1]), Some(&b"sport"[..]));

    // RESP3: every pub/sub value is a push, never an answer, even while one is due.
    let sub3 = client(server.port).await;
    sub3.command(cmd(&[b"HELLO", b"3"])).await.expect("HELLO 3");
    sub3.switch_version(3).await.expect("switches");
    // Redis 7 answers SUBSCRIBE in RESP3 with a push only: nothing answers it in line.
    sub3.send_unawaited(Message::Command(cmd(&[b"SUBSCRIBE", b"news"])))
        .await
        .expect("SUBSCRIBE");
    // An answer due meanwhile is the command's, not the push's.
    let pong = sub3.command(cmd(&[b"PING"])).await.expect("PING");
    assert_eq!(text(&pong), "PONG");
    let receivers = publisher
        .command(cmd(&[b"PUBLISH", b"news", b"hello"]))
        .await
        .expect("PUBLISH");
    assert_eq!(int(&receivers), 2);
    let m2 = sub2.next_push().await.expect("a message");
    assert_eq!(
        items(&m2)
            .iter()
            .map(|v| data(v).map(<[u8]>::to_vec))
            .collect::<Vec<_>>(),
        [
            Some(b"message".to_vec()),
            Some(b"news".to_vec()),
            Some(b"hello".to_vec())
        ]
    );
    assert!(matches!(m2, Value::Array(_)), "RESP2: an array");
    // The RESP3 subscriber: the confirmation, then the message, both pushes.
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let p = sub3.next_push().await.expect("a push");
        assert!(matches!(p, Value::Push(_)), "RESP3: a push {p:?}");
        kinds.push(data(&items(&p)[0]).map(<[u8]>::to_vec));
    }
    assert_eq!(
        kinds,
        [Some(b"subscribe".to_vec()), Some(b"message".to_vec())]
    );
}
