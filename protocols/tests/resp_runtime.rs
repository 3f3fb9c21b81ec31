//! The runtime carrying out `resp.wire`'s exchange over TCP, between a server on the
//! generated `RespHandler` and the generated `Client`: answers in order across a pipeline,
//! a handler's own pushes after its answer and ahead of the next command's, more pushes at
//! once than a write batch holds, a handler switching the version and closing the
//! connection after its answer, and bytes that are not RESP answered with RESP's protocol
//! error before the close.

use bytes::Bytes;
use polywire::rt::{Connection, MessageConfig, MessageServer};
use polywire_protocols::resp::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn bulk(b: &[u8]) -> Value {
    Value::BulkString(BulkString {
        data: Some(Bytes::copy_from_slice(b)),
    })
}

fn int(n: i64) -> Value {
    Value::Integer(Integer { value: n })
}

fn cmd(words: &[&str]) -> Command {
    Command::Array(Array {
        items: Some(words.iter().map(|w| bulk(w.as_bytes())).collect()),
    })
}

/// The words of a command, as text.
fn words(c: &Command) -> Vec<String> {
    match c {
        Command::Array(Array { items: Some(items) }) => items
            .iter()
            .map(|v| match v {
                Value::BulkString(BulkString { data: Some(d) }) => {
                    String::from_utf8_lossy(d).into_owned()
                }
                other => format!("{other:?}"),
            })
            .collect(),
        Command::Inline(i) => i.line.split(' ').map(str::to_string).collect(),
        other => vec![format!("{other:?}")],
    }
}

/// `ECHO x` answers `x`; `FLOOD n` answers `n` and pushes `0..n`; `SUB` makes the
/// connection a subscriber; `PUB n` pushes `0..n` to every subscriber; `PROTO v` switches
/// the connection to version `v` and answers the version it had; `BYE` answers `+BYE` and
/// closes.
#[derive(Default)]
struct Toy {
    subscribers: std::sync::Mutex<Vec<Connection<RespExchange>>>,
}

impl RespHandler for Toy {
    async fn command(&self, conn: &Connection<RespExchange>, msg: Command, answer: Value) -> Value {
        let w = words(&msg);
        let n = || -> i64 { w.get(1).and_then(|n| n.parse().ok()).unwrap_or(0) };
        match w.first().map(String::as_str) {
            Some("SUB") => {
                self.subscribers.lock().expect("lock").push(conn.clone());
                int(0)
            }
            Some("PUB") => {
                let subs = self.subscribers.lock().expect("lock").clone();
                for s in &subs {
                    for i in 0..n() {
                        s.push_wait(Message::Value(int(i))).await.expect("pushed");
                    }
                }
                int(subs.len() as i64)
            }
            Some("ECHO") => bulk(w.get(1).map_or("", String::as_str).as_bytes()),
            Some("FLOOD") => {
                let n = n();
                for i in 0..n {
                    conn.push(Message::Value(int(i))).expect("room to push");
                }
                int(n)
            }
            Some("PROTO") => {
                let before = conn.version().unwrap_or(0);
                conn.switch_version(w.get(1).and_then(|v| v.parse().ok()).unwrap_or(2));
                int(i64::from(before))
            }
            Some("BYE") => {
                conn.close();
                Value::SimpleString(SimpleString { text: "BYE".into() })
            }
            _ => answer,
        }
    }
}

async fn start() -> (
    MessageServer<RespExchange, RespDispatch<Toy>>,
    std::net::SocketAddr,
) {
    let server = server(Toy::default(), MessageConfig::default());
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    (server, addr)
}

async fn client(addr: std::net::SocketAddr) -> Client {
    Client::connect(addr, MessageConfig::default())
        .await
        .expect("connects")
}

#[tokio::test]
async fn a_pipeline_is_answered_in_order() {
    let (server, addr) = start().await;
    let c = client(addr).await;
    let n = 3000;
    let answers = c
        .command_pipelined((0..n).map(|i| cmd(&["ECHO", &i.to_string()])))
        .await
        .expect("answered");
    assert_eq!(answers.len(), n);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(*a, bulk(i.to_string().as_bytes()));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_handlers_pushes_follow_its_answer_and_none_is_lost() {
    let (server, addr) = start().await;
    let c = client(addr).await;
    // More pushes than one write batch (64) holds, then a command right behind them.
    let answers = c
        .command_pipelined([cmd(&["FLOOD", "500"]), cmd(&["ECHO", "after"])])
        .await
        .expect("answered");
    // On the wire: FLOOD's 500, its 500 pushes, then ECHO's answer. A RESP2 client tells
    // values apart by order only (plain integers are not out of band), so the first push
    // is taken for ECHO's answer and the rest come through `next_push`: in order, all 500
    // and "after", none lost.
    assert_eq!(answers[0], int(500));
    assert_eq!(answers[1], int(0));
    let mut rest = Vec::new();
    for _ in 0..500 {
        let v = tokio::time::timeout(Duration::from_secs(5), c.next_push())
            .await
            .expect("a push within 5 s")
            .expect("the connection is open");
        rest.push(v);
    }
    let mut want: Vec<Value> = (1..500).map(int).collect();
    want.push(bulk(b"after"));
    assert_eq!(rest, want, "every value, in order");
    server.shutdown().await;
}

#[tokio::test]
async fn a_handler_switches_the_version_and_closes_after_its_answer() {
    let (server, addr) = start().await;
    let c = client(addr).await;
    let v = c.command(cmd(&["PROTO", "3"])).await.expect("answered");
    assert_eq!(v, int(2), "a connection starts at the lowest version");
    let v = c.command(cmd(&["PROTO", "2"])).await.expect("answered");
    assert_eq!(v, int(3), "the switch held");
    // BYE, then a command in the same write: BYE is answered, the connection closed, and
    // the command behind it never handled.
    let mut io = TcpStream::connect(addr).await.expect("connects");
    io.write_all(b"*1\r\n$3\r\nBYE\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n")
        .await
        .expect("writes");
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), io.read_to_end(&mut got))
        .await
        .expect("closed within 5 s")
        .expect("reads");
    assert_eq!(got, b"+BYE\r\n");
    server.shutdown().await;
}

#[tokio::test]
async fn bytes_that_are_not_resp_are_answered_with_a_protocol_error_then_closed() {
    let (server, addr) = start().await;
    // The error says what was wrong and where (`{error}` in the farewell's text).
    for (bad, why) in [
        (
            &b"*1\r\n$1x\r\n"[..],
            "at byte 6 in `Message.Array.items.BulkString.len`: not a decimal integer",
        ),
        (
            b"*1\r\n$-5\r\n",
            "at byte 5 in `Message.Array.items.BulkString.len`: length -5 where an absent value has -1",
        ),
        (
            b"*-2\r\n",
            "at byte 1 in `Message.Array.count`: length -2 where an absent value has -1",
        ),
    ] {
        let mut io = TcpStream::connect(addr).await.expect("connects");
        let mut input = b"*2\r\n$4\r\nECHO\r\n$2\r\nok\r\n".to_vec();
        input.extend_from_slice(bad);
        io.write_all(&input).await.expect("writes");
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), io.read_to_end(&mut got))
            .await
            .expect("closed within 5 s")
            .expect("reads");
        assert_eq!(
            String::from_utf8_lossy(&got),
            format!("$2\r\nok\r\n-ERR Protocol error: {why}\r\n"),
            "for {bad:?}"
        );
    }
    // The server still serves.
    let c = client(addr).await;
    assert_eq!(
        c.command(cmd(&["ECHO", "still"])).await.expect("answered"),
        bulk(b"still")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_from_another_connection_are_all_delivered_in_order() {
    let (server, addr) = start().await;
    let sub = client(addr).await;
    assert_eq!(sub.command(cmd(&["SUB"])).await.expect("answered"), int(0));
    let publisher = client(addr).await;
    // Many more than a write batch, queued while the subscriber's task is idle.
    let n = 2000;
    assert_eq!(
        publisher
            .command(cmd(&["PUB", &n.to_string()]))
            .await
            .expect("answered"),
        int(1)
    );
    for i in 0..n {
        let v = tokio::time::timeout(Duration::from_secs(5), sub.next_push())
            .await
            .expect("a push within 5 s")
            .expect("the connection is open");
        assert_eq!(v, int(i), "push {i}");
    }
    server.shutdown().await;
}
