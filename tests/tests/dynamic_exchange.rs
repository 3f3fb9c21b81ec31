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

/// Reads until the peer closes, within `T`.
async fn to_the_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    tokio::time::timeout(T, stream.read_to_end(&mut rest))
        .await
        .expect("in time")
        .expect("reads");
    rest
}

#[tokio::test]
async fn an_edited_file_replaces_the_running_server_for_new_connections() {
    let dir = std::env::temp_dir().join(format!("polywire-dyn-exchange-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join("resp.wire");
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/wire/resp.wire"),
    )
    .expect("resp.wire");
    std::fs::write(&file, &original).expect("written");
    let serve =
        |ex: DynExchange| MessageServer::new(ex.clone(), Redisish(ex), MessageConfig::default());

    let multi = MultiServer::new(MultiServerConfig::default());
    multi
        .add(serve(DynExchange::load(&file).expect("loads")))
        .expect("added");
    let addr = multi.bind("127.0.0.1:0").await.expect("binds");
    let mut before = TcpStream::connect(addr).await.expect("connects");
    assert_eq!(
        exchange(&mut before, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n").await,
        b"+PONG\r\n"
    );

    // The file changes; the server built from it replaces the running one.
    let edited = original.replace("ERR Protocol error: {error}", "ERR not RESP: {error}");
    assert_ne!(edited, original, "the farewell is in resp.wire");
    std::fs::write(&file, &edited).expect("written");
    let old = multi
        .replace(serve(DynExchange::load(&file).expect("the edit loads")))
        .expect("replaced");
    assert!(old.is_some(), "a server was running");

    // A new connection gets the edited file's farewell ...
    let mut after = TcpStream::connect(addr).await.expect("connects");
    after.write_all(b"*x\r\n").await.expect("writes");
    let rest = to_the_end(&mut after).await;
    assert!(
        rest.starts_with(b"-ERR not RESP: "),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    // ... while the connection opened before stays on the file it was opened with.
    before.write_all(b"*x\r\n").await.expect("writes");
    let rest = to_the_end(&mut before).await;
    assert!(
        rest.starts_with(b"-ERR Protocol error: "),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    multi.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a server session does with `input`, each message answered with its default
/// answer (the `fail`th message's reporting a failure): the events and the bytes written.
fn serve_default<E: polywire::exchange::Exchange>(
    exchange: E,
    input: &[u8],
    fail: usize,
) -> (Vec<String>, Vec<u8>) {
    use polywire::exchange::{Incoming, MessageSession, Role, Status};
    let now = std::time::Instant::now();
    let mut s = MessageSession::new(exchange, Role::Server, now);
    let mut buf = bytes::BytesMut::from(input);
    let mut events = Vec::new();
    let mut n = 0;
    loop {
        let (msg, token) = match s.receive(&mut buf, now) {
            Ok(Some(Incoming::Hello { msg, token } | Incoming::Message { msg, token })) => {
                (msg, token)
            }
            Ok(Some(other)) => {
                let kind = format!("{other:?}");
                events.push(kind.split_whitespace().next().unwrap_or("").to_string());
                continue;
            }
            Ok(None) => break,
            Err(v) => {
                events.push(format!("violation: {v}"));
                break;
            }
        };
        n += 1;
        let ex = s.exchange();
        let name = ex.name_of(&msg);
        events.push(format!("{name} {:?}", token.expect()));
        let Some(member) = token.expect().member() else {
            s.decline(token);
            continue;
        };
        let mut a = ex.default_answer(&msg, member);
        if n == fail {
            assert!(ex.set_failure(&mut a, &Status::new(0x87, "not authorized")));
            assert_eq!(ex.failure(&a).map(|f| f.code), Some(0x87));
        }
        if let Err(e) = s.answer(token, a, now) {
            events.push(format!("not answered: {e}"));
        }
    }
    (events, s.take_output().to_vec())
}

/// A client's packets under MQTT `version`, encoded by the generated code.
fn mqtt_client_bytes(version: u8) -> Vec<u8> {
    use polywire::exchange::Exchange;
    use polywire_protocols::mqtt::*;
    let v = u32::from(version);
    let publish = |qos: QoS, id: Option<u16>| {
        Packet::Publish(Publish {
            qos,
            topic: "t".into(),
            packet_id: id,
            payload: b"x".to_vec().into(),
            ..Default::default()
        })
    };
    let packets = [
        Packet::Connect(Connect {
            protocol_name: "MQTT".into(),
            protocol_level: version,
            clean_start: true,
            client_id: "c".into(),
            ..Default::default()
        }),
        publish(QoS::AtMostOnce, None),
        publish(QoS::AtLeastOnce, Some(7)),
        publish(QoS::ExactlyOnce, Some(8)),
        Packet::PubRel(PubRel {
            packet_id: 8,
            ..Default::default()
        }),
        publish(QoS::AtLeastOnce, Some(9)),
        Packet::Subscribe(Subscribe {
            packet_id: 10,
            subscriptions: vec![Subscription {
                filter: "a/#".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 11,
            filters: vec!["a/#".into()],
            ..Default::default()
        }),
        Packet::PingReq(PingReq::default()),
    ];
    let mut out = bytes::BytesMut::new();
    for mut p in packets {
        MqttExchange.complete(&mut p, v);
        polywire::WireMessage::encode_versioned(&p, &mut out, v).expect("encodes");
    }
    out.to_vec()
}

#[test]
fn mqtt_loaded_at_run_time_answers_byte_for_byte_as_the_generated_exchange() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/wire/mqtt.wire");
    let dynamic = DynExchange::load(path).expect("mqtt.wire loads");
    for version in [4u8, 5] {
        let mut input = mqtt_client_bytes(version);
        for fail in [0, 3] {
            let generated = serve_default(polywire_protocols::mqtt::MqttExchange, &input, fail);
            let loaded = serve_default(dynamic.clone(), &input, fail);
            assert_eq!(loaded, generated, "MQTT {version}, failure at {fail}");
            assert!(generated.0.len() >= 9, "{generated:?}");
        }
        // Bytes that are not MQTT: the farewell the block declares for this version.
        input.extend_from_slice(&[0x00, 0x00]);
        let generated = serve_default(polywire_protocols::mqtt::MqttExchange, &input, 0);
        let loaded = serve_default(dynamic.clone(), &input, 0);
        assert_eq!(loaded, generated, "MQTT {version}, malformed");
        assert!(generated.0.last().unwrap().starts_with("violation"));
    }
}

#[test]
fn resp_loaded_at_run_time_answers_byte_for_byte_as_the_generated_exchange() {
    let dynamic = resp();
    let input = b"*1\r\n$4\r\nPING\r\n\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*x\r\n";
    let generated = serve_default(polywire_protocols::resp::RespExchange, input, 0);
    let loaded = serve_default(dynamic, input, 0);
    assert_eq!(loaded, generated);
}
