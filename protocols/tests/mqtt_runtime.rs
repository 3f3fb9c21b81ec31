//! The runtime carrying out `mqtt.wire`'s `exchange` block over TCP: version fallback
//! through the hello's `accept if`, and the farewells (`on ... -> Disconnect(..)`) a 5.0
//! connection gets before it is closed.

use polywire::exchange::Status;
use polywire::rt::{Attempt, ClientError, Connection, MessageConfig, Negotiation, Transport};
use polywire_protocols::mqtt::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server that speaks MQTT 3.1.1 only: a 5.0 CONNECT is refused with 0x84.
struct Only311;

impl MqttHandler for Only311 {
    async fn connect(
        &self,
        conn: &Connection<MqttExchange>,
        msg: Connect,
        answer: ConnAck,
    ) -> Result<ConnAck, Status> {
        if msg.protocol_level != 4 {
            // The CONNACK reports 0x84 (its `status` line), then the connection closes.
            conn.close();
            return Err(Status::new(0x84, "this server speaks MQTT 3.1.1"));
        }
        Ok(answer)
    }
}

fn hello() -> Connect {
    Connect {
        protocol_name: "MQTT".into(),
        protocol_level: 5,
        clean_start: true,
        client_id: "fallback".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_client_falls_back_from_5_to_3_1_1_when_the_server_refuses_5() {
    let server = server(Only311, MessageConfig::default());
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let config = MessageConfig::default();

    // Explicit 5.0: refused.
    let explicit = Negotiation::Explicit(Attempt {
        transport: Transport::Tcp,
        tls: false,
        versions: Some((5, 5)),
    });
    let refused = Client::connect_negotiated(addr, hello(), &explicit, config.clone()).await;
    assert!(
        matches!(refused, Err(ClientError::Refused(5))),
        "{refused:?}"
    );

    // Automatic: highest first, 5 then 4.
    let automatic = Negotiation::Automatic {
        transport: Transport::Tcp,
        tls: false,
    };
    let (c, ack) = Client::connect_negotiated(addr, hello(), &automatic, config.clone())
        .await
        .expect("3.1.1 is accepted");
    assert_eq!((c.version(), ack.code), (Some(4), 0));
    c.ping_req(PingReq {}).await.expect("the connection works");
    c.close().await;

    // The same with the versions named.
    let (c, _) = Client::connect_versions(addr, hello(), &[5, 4], config)
        .await
        .expect("3.1.1 is accepted");
    assert_eq!(c.version(), Some(4));
    c.close().await;
    server.shutdown().await;
}

/// A default server (every rule answers with its default answer).
struct Defaults;

impl MqttHandler for Defaults {}

/// Connects with a raw 5.0 CONNECT (keep alive `ka`) and reads the CONNACK.
async fn raw_v5(addr: std::net::SocketAddr, ka: u16) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connects");
    let mut body = b"\x00\x04MQTT\x05\x02".to_vec();
    body.extend_from_slice(&ka.to_be_bytes());
    body.extend_from_slice(b"\x00\x00\x01r");
    let mut p = vec![0x10, body.len() as u8];
    p.extend(body);
    s.write_all(&p).await.expect("sends");
    let mut ack = [0u8; 5];
    s.read_exact(&mut ack).await.expect("CONNACK");
    assert_eq!(ack, [0x20, 0x03, 0x00, 0x00, 0x00]);
    s
}

/// Everything until the server closes (at most 5 s).
async fn rest(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
    got
}

#[tokio::test]
async fn a_5_0_connection_gets_a_disconnect_with_the_reason_before_it_is_closed() {
    let server = server(Defaults, MessageConfig::default());
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    // Malformed: PUBREL with its reserved flags wrong (0x81).
    let mut s = raw_v5(addr, 0).await;
    s.write_all(&[0x60, 0x02, 0x00, 0x01]).await.expect("sends");
    assert_eq!(rest(&mut s).await, [0xE0, 0x01, 0x81]);
    // A protocol error: a second CONNECT (0x82).
    let mut s = raw_v5(addr, 0).await;
    s.write_all(&[
        0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 0, 0, 0, 0,
    ])
    .await
    .expect("sends");
    assert_eq!(rest(&mut s).await, [0xE0, 0x01, 0x82]);
    // Keepalive: 1 s, then silence: 0x8D after 1.5 s.
    let mut s = raw_v5(addr, 1).await;
    let t = std::time::Instant::now();
    assert_eq!(rest(&mut s).await, [0xE0, 0x01, 0x8D]);
    assert!(
        t.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t.elapsed()
    );
    // Shutdown: 0x8B.
    let mut s = raw_v5(addr, 0).await;
    let stopping = tokio::spawn({
        let server = server.clone();
        async move { server.shutdown().await }
    });
    assert_eq!(rest(&mut s).await, [0xE0, 0x01, 0x8B]);
    stopping.await.expect("shut down");
}

#[tokio::test]
async fn a_3_1_1_connection_is_closed_without_a_word() {
    let server = server(Defaults, MessageConfig::default());
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let mut s = TcpStream::connect(addr).await.expect("connects");
    s.write_all(&[
        0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 0, 0, 1, b'r',
    ])
    .await
    .expect("sends");
    let mut ack = [0u8; 4];
    s.read_exact(&mut ack).await.expect("CONNACK");
    s.write_all(&[0x60, 0x02, 0x00, 0x01]).await.expect("sends");
    assert_eq!(rest(&mut s).await, Vec::<u8>::new());
    server.shutdown().await;
}

/// A server that refuses every PUBLISH to the topic `denied` with 0x87 and a reason.
struct Denies;

impl MqttHandler for Denies {
    async fn publish(
        &self,
        _conn: &Connection<MqttExchange>,
        msg: Publish,
        answer: Option<Packet>,
    ) -> Result<Option<Packet>, Status> {
        if msg.topic.as_str() == "denied" {
            Err(Status::new(0x87, "not for you"))
        } else {
            Ok(answer)
        }
    }
}

fn publish(topic: &str, qos: QoS) -> Publish {
    Publish {
        qos,
        topic: topic.into(),
        payload: b"x".to_vec().into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_handlers_status_reaches_the_client_as_a_typed_error() {
    let server = server(Denies, MessageConfig::default());
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let mut hello = hello();
    hello.client_id = "status".into();
    let (c, _) = Client::connect(addr, hello.clone(), MessageConfig::default())
        .await
        .expect("connects");
    // QoS 1: the PUBACK carries 0x87 and the reason string.
    let denied = c.publish(publish("denied", QoS::AtLeastOnce)).await;
    let want = Status::new(0x87, "not for you");
    assert_eq!(
        denied,
        Err(ClientError::Failed {
            answer: "PubAck",
            status: want.clone()
        })
    );
    // QoS 2: a failed PUBREC ends the exchange: no PUBREL is sent, nothing stays outstanding.
    let denied = c.publish(publish("denied", QoS::ExactlyOnce)).await;
    assert_eq!(
        denied,
        Err(ClientError::Failed {
            answer: "PubRec",
            status: want
        })
    );
    let ok = c.publish(publish("allowed", QoS::ExactlyOnce)).await;
    assert!(matches!(ok, Ok(Some(Packet::PubComp(_)))), "{ok:?}");
    c.close().await;

    // 3.1.1's PUBACK has no reason code: the plain PUBACK goes.
    hello.protocol_level = 4;
    let (c, _) = Client::connect(addr, hello, MessageConfig::default())
        .await
        .expect("connects");
    let plain = c.publish(publish("denied", QoS::AtLeastOnce)).await;
    assert!(matches!(plain, Ok(Some(Packet::PubAck(_)))), "{plain:?}");
    c.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_sends_no_hello_is_closed_after_the_hello_timeout() {
    let config = MessageConfig {
        hello_timeout: Duration::from_millis(300),
        ..MessageConfig::default()
    };
    let server = server(Defaults, config);
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let mut s = TcpStream::connect(addr).await.expect("connects");
    let t = std::time::Instant::now();
    // Nothing is sent; the server closes without a word (no version is known yet).
    assert_eq!(rest(&mut s).await, Vec::<u8>::new());
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(4),
        "closed after {took:?}"
    );
    server.shutdown().await;
}
