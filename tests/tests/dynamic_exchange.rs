//! A protocol with an `exchange` block loaded at run time (`polywire_dynamic::DynExchange`)
//! served by the runtime's `MessageServer`: RESP from `protocols/wire/resp.wire`, answered
//! by a handler written over dynamic values, on a real socket, alone and on a
//! `MultiServer`'s shared port (detected by the file's `detect` rules).

use polywire::rt::{
    Connection, MessageConfig, MessageHandler, MessageServer, MultiServer, MultiServerConfig,
};
use polywire_dynamic::{DynExchange, Value};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(5);

fn resp() -> DynExchange {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/wire/resp.wire");
    DynExchange::load(path).expect("resp.wire loads")
}

/// `PING` answers `+PONG`, `ECHO x` answers `x` as a bulk string; anything else an error.
struct Redisish(DynExchange);

impl Redisish {
    /// A frame of the `Value` member `name` read from `json`.
    fn value(&self, name: &str, json: serde_json::Value) -> Value {
        let schema = self.0.schema();
        let ty = schema.message(name).expect("a RESP type");
        let v = schema.value_from_json(ty, &json).expect("a value");
        self.0.frame(name, v).expect("a member of the frame")
    }
}

/// The words of a command (an array of bulk strings).
fn words(msg: &Value) -> Vec<Vec<u8>> {
    let Some(Value::List(items)) = msg.field("items") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| match i.field("data") {
            Some(Value::Bytes(b)) => Some(b.to_vec()),
            _ => None,
        })
        .collect()
}

impl MessageHandler<DynExchange> for Redisish {
    async fn message(
        &self,
        _conn: &Connection<DynExchange>,
        msg: Value,
        answer: Option<Value>,
    ) -> Option<Value> {
        answer.as_ref()?;
        let w = words(&msg);
        Some(match w.first().map(Vec::as_slice) {
            Some(b"PING") => self.value("SimpleString", serde_json::json!({ "text": "PONG" })),
            Some(b"ECHO") if w.len() == 2 => {
                let text = String::from_utf8_lossy(&w[1]).into_owned();
                self.value("BulkString", serde_json::json!({ "data": text }))
            }
            _ => self.value("SimpleError", serde_json::json!({ "text": "ERR unknown" })),
        })
    }
}

/// Writes `request` and reads until `expected.len()` bytes came back.
async fn exchange(stream: &mut TcpStream, request: &[u8], expected: &[u8]) -> Vec<u8> {
    stream.write_all(request).await.expect("writes");
    let mut got = vec![0u8; expected.len()];
    tokio::time::timeout(T, stream.read_exact(&mut got))
        .await
        .expect("in time")
        .expect("reads");
    got
}

#[tokio::test]
async fn resp_loaded_at_run_time_answers_a_ping_and_a_pipeline_in_order() {
    let ex = resp();
    let server = MessageServer::new(ex.clone(), Redisish(ex.clone()), MessageConfig::default());
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let mut s = TcpStream::connect(addr).await.expect("connects");

    let pong = exchange(&mut s, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n").await;
    assert_eq!(pong, b"+PONG\r\n");

    // Three commands in one write: their answers come back in the order they were sent.
    let pipeline =
        b"*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*2\r\n$4\r\nECHO\r\n$2\r\nbc\r\n*1\r\n$4\r\nPING\r\n";
    let expected = b"$1\r\na\r\n$2\r\nbc\r\n+PONG\r\n";
    assert_eq!(exchange(&mut s, pipeline, expected).await, expected);

    // Bytes that are not RESP get the block's farewell, then the connection closes.
    s.write_all(b"*x\r\n").await.expect("writes");
    let mut rest = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut rest))
        .await
        .expect("in time")
        .expect("reads");
    assert!(rest.starts_with(b"-ERR Protocol error: "), "{rest:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_multi_server_detects_resp_loaded_at_run_time_on_its_shared_port() {
    let ex = resp();
    let server = MessageServer::new(ex.clone(), Redisish(ex), MessageConfig::default());
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(server).expect("added");
    let addr = multi.bind("127.0.0.1:0").await.expect("binds");
    let mut s = TcpStream::connect(addr).await.expect("connects");
    let pong = exchange(&mut s, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n").await;
    assert_eq!(pong, b"+PONG\r\n");
    multi.shutdown().await;
}
