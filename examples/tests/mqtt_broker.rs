//! The MQTT broker example (`examples/src/mqtt_broker.rs`, on the server generated from
//! `mqtt.wire`) against software nobody here wrote: paho-mqtt 2.x (Python) and mosquitto's
//! `mosquitto_pub` / `mosquitto_sub`, in MQTT 3.1.1 and 5.0; and against malformed input.
//!
//! `.ci/run` installs both; elsewhere, without them, the tests say so loudly and pass
//! (under CI they fail instead).

mod common;

use common::{have, native_echo, until_closed};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_clients_use_the_broker_in_3_1_1_and_5_0() {
    if !have(
        "python3",
        &["-c", "import paho.mqtt.client"],
        true,
        "paho-mqtt (python3)",
    ) {
        return;
    }
    let (multi, addr, _broker) = polywire_examples::mqtt_broker::serve("127.0.0.1:0")
        .await
        .expect("the broker starts");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mqtt/paho_cases.py");
    let cases = [
        "basic",
        "retained",
        "wildcards",
        "session",
        "fanout1",
        "fanout2",
        "will",
        "keepalive",
        "websocket",
    ];
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .args(cases)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), out)
        .await
        .expect("the paho cases finish within 5 minutes")
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "paho cases failed:\n{stdout}\n{stderr}"
    );
    for case in cases {
        for v in ["3.1.1", "5.0"] {
            assert!(
                stdout.contains(&format!("ok {case} {v}\n")),
                "{case} {v} did not pass:\n{stdout}\n{stderr}"
            );
        }
    }
    // The native echo beside MQTT on the same port.
    native_echo(addr, b"beside mqtt").await;
    multi.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_clients_use_the_broker() {
    // `mosquitto_pub --help` exits 1: that it runs is enough.
    if !have(
        "mosquitto_pub",
        &["--help"],
        false,
        "mosquitto_pub (mosquitto-clients)",
    ) {
        return;
    }
    let (multi, addr, _broker) = polywire_examples::mqtt_broker::serve("127.0.0.1:0")
        .await
        .expect("the broker starts");
    let port = addr.port().to_string();
    for (v, q) in [("mqttv311", "1"), ("mqttv5", "2")] {
        let topic = format!("mosq/{v}/x");
        let sub = tokio::process::Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-V",
                v,
                "-q",
                q,
                "-C",
                "3",
                "-v",
                "-W",
                "20",
            ])
            .args(["-t", &format!("mosq/{v}/+")])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto_sub runs");
        // The subscription is in place once the broker holds a session for it: give it a
        // moment, then publish a retained message first (delivered either way).
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (i, qos) in ["0", "1", "2"].into_iter().enumerate() {
            let st = tokio::process::Command::new("mosquitto_pub")
                .args(["-h", "127.0.0.1", "-p", &port, "-V", v, "-q", qos])
                .args(["-t", &topic, "-m", &format!("m{i}")])
                .status()
                .await
                .expect("mosquitto_pub runs");
            assert!(st.success(), "mosquitto_pub -q {qos} failed");
        }
        let out = tokio::time::timeout(Duration::from_secs(30), sub.wait_with_output())
            .await
            .expect("mosquitto_sub gets its messages")
            .expect("mosquitto_sub ends");
        let text = String::from_utf8_lossy(&out.stdout);
        let want: String = (0..3).map(|i| format!("{topic} m{i}\n")).collect();
        assert_eq!(text, want, "{v}");
    }
    multi.shutdown().await;
}

/// A 3.1.1 CONNECT for client `id`.
fn connect(id: &str) -> Vec<u8> {
    let mut body = b"\x00\x04MQTT\x04\x02\x00\x1e".to_vec();
    body.extend_from_slice(&(id.len() as u16).to_be_bytes());
    body.extend_from_slice(id.as_bytes());
    let mut p = vec![0x10, body.len() as u8];
    p.extend(body);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_closes_that_connection_and_the_broker_serves_on() {
    let (multi, addr, _broker) = polywire_examples::mqtt_broker::serve("127.0.0.1:0")
        .await
        .expect("the broker starts");
    // A healthy client connected throughout.
    let mut healthy = TcpStream::connect(addr).await.expect("connects");
    healthy.write_all(&connect("healthy")).await.expect("sends");
    let mut ack = [0u8; 4];
    healthy.read_exact(&mut ack).await.expect("CONNACK");
    assert_eq!(ack, [0x20, 0x02, 0x00, 0x00]);

    let cases: Vec<(&str, Vec<u8>)> = vec![
        // A remaining length with a fifth continuation byte.
        (
            "a five-byte remaining length",
            [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01].to_vec(),
        ),
        // PUBREL's reserved flags must be 0b0010.
        ("reserved flags set", [0x60, 0x02, 0x00, 0x01].to_vec()),
        // 268,435,455 bytes announced: over the 16 MiB frame limit, refused before buffering.
        (
            "a remaining length of 268 MB",
            [0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00].to_vec(),
        ),
        // A SUBSCRIBE before any CONNECT.
        (
            "a packet before CONNECT",
            [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00].to_vec(),
        ),
        // CONNECT twice on one connection.
        (
            "a second CONNECT",
            [connect("twice"), connect("twice")].concat(),
        ),
    ];
    for (what, bytes) in cases {
        let mut s = TcpStream::connect(addr).await.expect("connects");
        // Every case but the one before CONNECT starts like a client.
        if what != "a packet before CONNECT" && what != "a second CONNECT" {
            s.write_all(&connect(what.split(' ').next().unwrap_or("x")))
                .await
                .expect("sends");
            let mut a = [0u8; 4];
            s.read_exact(&mut a).await.expect("CONNACK");
        }
        s.write_all(&bytes).await.expect("sends");
        let (got, closed) = until_closed(&mut s).await;
        assert!(closed, "{what}: the connection stays open ({got:02x?})");
        // Nothing but (for the second CONNECT) the first CONNECT's CONNACK came back.
        assert!(got.len() <= 4, "{what}: {got:02x?}");
    }

    // The healthy client is still served: a PINGREQ is answered.
    healthy.write_all(&[0xC0, 0x00]).await.expect("PINGREQ");
    let mut pong = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), healthy.read_exact(&mut pong))
        .await
        .expect("PINGRESP within 5 s")
        .expect("PINGRESP");
    assert_eq!(pong, [0xD0, 0x00]);
    multi.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_client_uses_the_broker_over_websocket() {
    use polywire::rt::{Framing, MessageConfig};
    use polywire_protocols::mqtt::{
        Client, Connect, Packet, Publish, QoS, Subscribe, Subscription,
    };
    let (multi, addr, _broker) = polywire_examples::mqtt_broker::serve("127.0.0.1:0")
        .await
        .expect("the broker starts");
    let open = |id: &'static str| async move {
        let tcp = TcpStream::connect(addr).await.expect("connects");
        let framing = Framing::of_framed::<Packet>("mqtt");
        let ws = polywire::rt::ws::connect_with(
            tcp,
            &addr.to_string(),
            "/mqtt",
            false,
            framing,
            &["mqtt"],
        )
        .await
        .expect("upgrades");
        let hello = Connect {
            protocol_name: "MQTT".into(),
            protocol_level: 5,
            clean_start: true,
            client_id: id.into(),
            ..Default::default()
        };
        let (c, ack) = Client::connect_over(ws, hello, MessageConfig::default())
            .await
            .expect("CONNACK over WebSocket");
        assert_eq!(ack.code, 0);
        c
    };
    let sub = open("ws-gen-sub").await;
    sub.subscribe(Subscribe {
        subscriptions: vec![Subscription {
            filter: "wsgen/#".into(),
            max_qos: QoS::ExactlyOnce,
            ..Default::default()
        }],
        ..Default::default()
    })
    .await
    .expect("SUBACK");
    let publisher = open("ws-gen-pub").await;
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        publisher
            .publish(Publish {
                qos,
                topic: "wsgen/a".into(),
                payload: format!("{qos:?}").into_bytes().into(),
                ..Default::default()
            })
            .await
            .expect("published");
        let got = tokio::time::timeout(Duration::from_secs(5), sub.next_push())
            .await
            .expect("within 5 s")
            .expect("a message");
        assert_eq!(
            (got.qos, &got.payload[..]),
            (qos, format!("{qos:?}").as_bytes())
        );
    }
    sub.close().await;
    publisher.close().await;
    multi.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_factory_connects_mqtt_through_its_configured_attempts() {
    use polywire::rt::{ClientFactoryConfig, MessageConfig, RemotingClientFactory};
    use polywire_protocols::mqtt::{Connect, MqttExchange, Packet, PingReq};
    let (multi, addr, _broker) = polywire_examples::mqtt_broker::serve("127.0.0.1:0")
        .await
        .expect("the broker starts");
    // WebSocket on a path the server refuses, then on `/mqtt` offering 5.0 then 3.1.1.
    let config: ClientFactoryConfig = toml::from_str(
        r#"
        [protocols.mqtt]
        fallback = [
            { transport = { websocket = { path = "/nowhere" } } },
            { transport = { websocket = { path = "/mqtt" } }, versions = [4, 5] },
        ]
        "#,
    )
    .expect("the configuration");
    let factory = RemotingClientFactory::new(config);
    let hello = Packet::Connect(Connect {
        protocol_name: "MQTT".into(),
        protocol_level: 4,
        clean_start: true,
        client_id: "from-the-factory".into(),
        ..Default::default()
    });
    let (c, ack) = factory
        .connect_exchange(
            MqttExchange,
            &addr.to_string(),
            hello,
            MessageConfig::default(),
        )
        .await
        .expect("the second attempt connects");
    assert_eq!(c.version(), Some(5), "the highest version is offered first");
    assert!(
        matches!(ack, Some(Packet::ConnAck(ref a)) if a.code == 0),
        "{ack:?}"
    );
    let pong = c
        .request(Packet::PingReq(PingReq {}))
        .await
        .expect("PINGRESP");
    assert!(matches!(pong, Some(Packet::PingResp(_))), "{pong:?}");
    c.close().await;
    multi.shutdown().await;
}
