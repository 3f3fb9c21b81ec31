//! The codec generated from `wire/mqtt.wire` talking to a real broker: mosquitto (Debian's
//! package), started by the test on a loopback port with its own configuration and stopped
//! by its PID. Clients built on the codec alone (a thin tokio loop, no runtime) connect,
//! subscribe with wildcards, publish at QoS 0, 1 and 2 (with PUBREC/PUBREL/PUBCOMP both
//! ways), receive a retained message, ping and disconnect, under MQTT 3.1.1 and 5.0.
//!
//! `.ci/run` installs mosquitto; elsewhere, without it, the test says so loudly and passes
//! (under CI it fails instead).

mod common;

use bytes::BytesMut;
use common::{Running, free_port, listening, program};
use polywire::Codec;
use polywire_protocols::mqtt::*;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A mosquitto process with its configuration's directory, both gone when dropped.
struct Broker {
    port: u16,
    dir: std::path::PathBuf,
    _server: Running,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn mosquitto() -> Option<Broker> {
    // Debian puts it in /usr/sbin, which not every PATH holds.
    let bin = program(
        &["mosquitto", "/usr/sbin/mosquitto"],
        "-h",
        "mosquitto (MQTT broker interoperability)",
    )?;
    let port = free_port();
    let dir =
        std::env::temp_dir().join(format!("polywire-mosquitto-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    )
    .expect("the configuration");
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto starts");
    let server = listening(child, port, "mosquitto");
    Some(Broker {
        port,
        dir,
        _server: server,
    })
}

/// One MQTT connection over the generated codec.
struct Client {
    io: TcpStream,
    codec: PacketCodec,
    buf: BytesMut,
    version: u32,
}

impl Client {
    async fn connect(port: u16, id: &str, version: u32) -> Client {
        let io = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        let mut c = Client {
            io,
            codec: PacketCodec::new(),
            buf: BytesMut::new(),
            version,
        };
        c.codec.set_version(version);
        c.send(Connect {
            protocol_name: "MQTT".into(),
            protocol_level: version as u8,
            clean_start: true,
            keep_alive: 30,
            properties: (version >= 5).then(Box::default),
            client_id: id.to_string().into(),
            ..Default::default()
        })
        .await;
        match c.recv().await {
            Packet::ConnAck(a) => assert_eq!(a.code, 0, "{id}: refused"),
            other => panic!("{id}: {other:?}"),
        }
        c
    }

    fn props(&self) -> Option<Box<Properties>> {
        (self.version >= 5).then(Box::default)
    }

    async fn send(&mut self, p: impl Into<Packet>) {
        let mut out = BytesMut::new();
        self.codec.encode(&p.into(), &mut out).expect("encodes");
        self.io.write_all(&out).await.expect("writes");
    }

    async fn recv(&mut self) -> Packet {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Some(p) = self.codec.decode(&mut self.buf).expect("decodes") {
                    return p;
                }
                let n = self.io.read_buf(&mut self.buf).await.expect("reads");
                assert!(n > 0, "the broker closed the connection");
            }
        })
        .await
        .expect("a packet within 5 s")
    }

    /// Receives `n` PUBLISH packets, answering each as its QoS asks (a QoS 2 exchange may
    /// interleave with the next deliveries), until every exchange is complete.
    async fn receive_publishes(&mut self, n: usize) -> Vec<Publish> {
        let mut got = Vec::new();
        let mut open_qos2 = Vec::new();
        while got.len() < n || !open_qos2.is_empty() {
            match self.recv().await {
                Packet::Publish(p) => {
                    match (p.qos, p.packet_id) {
                        (QoS::AtMostOnce, None) => {}
                        (QoS::AtLeastOnce, Some(id)) => {
                            self.send(PubAck {
                                packet_id: id,
                                ..Default::default()
                            })
                            .await
                        }
                        (QoS::ExactlyOnce, Some(id)) => {
                            open_qos2.push(id);
                            self.send(PubRec {
                                packet_id: id,
                                ..Default::default()
                            })
                            .await
                        }
                        other => panic!("inconsistent PUBLISH {other:?}"),
                    }
                    got.push(p);
                }
                Packet::PubRel(r) => {
                    assert!(open_qos2.contains(&r.packet_id), "{r:?}");
                    open_qos2.retain(|&id| id != r.packet_id);
                    self.send(PubComp {
                        packet_id: r.packet_id,
                        ..Default::default()
                    })
                    .await;
                }
                other => panic!("{other:?}"),
            }
        }
        got
    }
}

async fn scenario(port: u16, version: u32) {
    let v = version;
    let mut sub = Client::connect(port, &format!("sub-{v}"), v).await;
    sub.send(Subscribe {
        packet_id: 1,
        properties: sub.props(),
        subscriptions: vec![
            Subscription {
                filter: "t/#".into(),
                max_qos: QoS::ExactlyOnce,
                ..Default::default()
            },
            Subscription {
                filter: "x/+/y".into(),
                max_qos: QoS::AtLeastOnce,
                ..Default::default()
            },
        ],
    })
    .await;
    match sub.recv().await {
        Packet::SubAck(a) => {
            assert_eq!(a.packet_id, 1);
            assert_eq!(a.codes, [ReasonCode::GrantedQos2, ReasonCode::GrantedQos1]);
        }
        other => panic!("{other:?}"),
    }

    let mut publisher = Client::connect(port, &format!("pub-{v}"), v).await;
    for (i, qos, topic) in [
        (1u16, QoS::AtMostOnce, "t/zero"),
        (2, QoS::AtLeastOnce, "t/one/more"),
        (3, QoS::ExactlyOnce, "t/two"),
        (4, QoS::AtLeastOnce, "x/q/y"),
    ] {
        let id = (qos != QoS::AtMostOnce).then_some(i);
        let properties = publisher.props().map(|mut p| {
            p.user_property.push(StringPair {
                name: "k".into(),
                value: "v".into(),
            });
            p
        });
        publisher
            .send(Publish {
                qos,
                topic: topic.into(),
                packet_id: id,
                properties,
                payload: format!("payload {i}").into(),
                ..Default::default()
            })
            .await;
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => match publisher.recv().await {
                Packet::PubAck(a) => assert_eq!(a.packet_id, i),
                other => panic!("{other:?}"),
            },
            _ => {
                match publisher.recv().await {
                    Packet::PubRec(r) => assert_eq!(r.packet_id, i),
                    other => panic!("{other:?}"),
                }
                publisher
                    .send(PubRel {
                        packet_id: i,
                        ..Default::default()
                    })
                    .await;
                match publisher.recv().await {
                    Packet::PubComp(c) => assert_eq!(c.packet_id, i),
                    other => panic!("{other:?}"),
                }
            }
        }
    }
    let mut got = Vec::new();
    for p in sub.receive_publishes(4).await {
        if v >= 5 {
            let up = &p.properties.as_ref().expect("5.0 properties").user_property;
            assert_eq!((up[0].name.as_str(), up[0].value.as_str()), ("k", "v"));
        }
        got.push((p.topic.to_string(), p.qos, p.payload.to_vec()));
    }
    assert_eq!(
        got,
        [
            ("t/zero".to_string(), QoS::AtMostOnce, b"payload 1".to_vec()),
            (
                "t/one/more".to_string(),
                QoS::AtLeastOnce,
                b"payload 2".to_vec()
            ),
            ("t/two".to_string(), QoS::ExactlyOnce, b"payload 3".to_vec()),
            ("x/q/y".to_string(), QoS::AtLeastOnce, b"payload 4".to_vec()),
        ]
    );

    // A retained message reaches a later subscriber with RETAIN set.
    publisher
        .send(Publish {
            retain: true,
            qos: QoS::AtLeastOnce,
            packet_id: Some(9),
            topic: format!("r/{v}").into(),
            properties: publisher.props(),
            payload: b"kept".as_slice().into(),
            ..Default::default()
        })
        .await;
    assert!(matches!(publisher.recv().await, Packet::PubAck(a) if a.packet_id == 9));
    let mut late = Client::connect(port, &format!("late-{v}"), v).await;
    late.send(Subscribe {
        packet_id: 2,
        properties: late.props(),
        subscriptions: vec![Subscription {
            filter: format!("r/{v}").into(),
            max_qos: QoS::AtLeastOnce,
            ..Default::default()
        }],
    })
    .await;
    assert!(matches!(late.recv().await, Packet::SubAck(_)));
    let r = late.receive_publishes(1).await.remove(0);
    assert!(r.retain, "{r:?}");
    assert_eq!(&r.payload[..], b"kept");

    // Clear it, ping, unsubscribe and leave.
    publisher
        .send(Publish {
            retain: true,
            topic: format!("r/{v}").into(),
            properties: publisher.props(),
            ..Default::default()
        })
        .await;
    sub.send(PingReq::default()).await;
    assert!(matches!(sub.recv().await, Packet::PingResp(_)));
    sub.send(Unsubscribe {
        packet_id: 3,
        properties: sub.props(),
        filters: vec!["t/#".into()],
    })
    .await;
    match sub.recv().await {
        Packet::UnsubAck(u) => {
            assert_eq!(u.packet_id, 3);
            // 5.0 answers each filter; 3.1.1 has no payload.
            assert_eq!(u.codes.len(), usize::from(v >= 5));
        }
        other => panic!("{other:?}"),
    }
    for c in [&mut sub, &mut publisher, &mut late] {
        c.send(Disconnect::default()).await;
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), c.io.read_to_end(&mut rest))
            .await
            .expect("the broker closes after DISCONNECT")
            .expect("reads");
        // What was on its way (the late subscriber gets the cleared retained message:
        // a PUBLISH with an empty payload) is whole packets.
        c.buf.extend_from_slice(&rest);
        while !c.buf.is_empty() {
            match c.codec.decode(&mut c.buf).expect("decodes") {
                Some(Packet::Publish(p)) => assert!(p.payload.is_empty(), "{p:?}"),
                other => panic!("{other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_generated_codec_speaks_to_mosquitto_in_3_1_1_and_5_0() {
    let Some(broker) = mosquitto() else { return };
    scenario(broker.port, 4).await;
    scenario(broker.port, 5).await;
}

/// A CONNECT for the generated client.
fn hello(id: &str, version: u8, keep_alive: u16) -> Connect {
    Connect {
        protocol_name: "MQTT".into(),
        protocol_level: version,
        clean_start: true,
        keep_alive,
        client_id: id.to_string().into(),
        ..Default::default()
    }
}

/// The generated client (`mqtt::Client`, typed methods over the runtime's `MessageClient`
/// and the `exchange` block) against mosquitto: it picks packet identifiers, completes
/// QoS 1 and QoS 2 both ways (PUBREC/PUBREL/PUBCOMP) without any code here, fills 5.0's
/// properties, and hands received PUBLISHes to `next_push` in order.
async fn generated_client(port: u16, version: u8) {
    use polywire::rt::MessageConfig;
    use polywire_protocols::mqtt::Client as Typed;
    let addr = ("127.0.0.1", port);
    let config = MessageConfig::default();
    let sub_id = format!("gen-sub-{version}");
    let (sub, ack) = Typed::connect(addr, hello(&sub_id, version, 30), config.clone())
        .await
        .expect("the subscriber connects");
    assert_eq!(ack.code, 0, "{ack:?}");
    assert_eq!(sub.version(), Some(u32::from(version)));
    let filter = format!("gen{version}/+/x");
    let granted = sub
        .subscribe(Subscribe {
            subscriptions: vec![Subscription {
                filter: filter.as_str().into(),
                max_qos: QoS::ExactlyOnce,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect("SUBACK");
    assert_eq!(granted.codes, vec![ReasonCode::GrantedQos2]);

    let pub_id = format!("gen-pub-{version}");
    let (publisher, _) = Typed::connect(addr, hello(&pub_id, version, 30), config)
        .await
        .expect("the publisher connects");
    let qoss = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    for (i, qos) in qoss.iter().enumerate() {
        let end = publisher
            .publish(Publish {
                qos: *qos,
                topic: format!("gen{version}/{i}/x").into(),
                payload: format!("m{i}").into_bytes().into(),
                ..Default::default()
            })
            .await
            .expect("published");
        // QoS 0: nothing answers; 1: PUBACK; 2: the chain ends with PUBCOMP.
        match (qos, &end) {
            (QoS::AtMostOnce, None) => {}
            (QoS::AtLeastOnce, Some(Packet::PubAck(_))) => {}
            (QoS::ExactlyOnce, Some(Packet::PubComp(_))) => {}
            _ => panic!("QoS {qos:?} ended with {end:?}"),
        }
    }
    for (i, qos) in qoss.iter().enumerate() {
        let got = tokio::time::timeout(Duration::from_secs(5), sub.next_push())
            .await
            .expect("a message within 5 s")
            .expect("the connection is open");
        assert_eq!(got.topic.as_str(), format!("gen{version}/{i}/x"));
        assert_eq!(&got.payload[..], format!("m{i}").as_bytes());
        assert_eq!(got.qos, *qos);
    }
    sub.unsubscribe(Unsubscribe {
        filters: vec![filter.as_str().into()],
        ..Default::default()
    })
    .await
    .expect("UNSUBACK");
    // PINGREQ is answered by PINGRESP, matched by order.
    sub.ping_req(PingReq {}).await.expect("PINGRESP");
    // DISCONNECT closes: nothing answers it.
    sub.disconnect(Disconnect::default())
        .await
        .expect("DISCONNECT sent");
    publisher.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_generated_client_speaks_to_mosquitto_in_3_1_1_and_5_0() {
    let Some(broker) = mosquitto() else { return };
    generated_client(broker.port, 4).await;
    generated_client(broker.port, 5).await;
}

/// Opens a generated client with `keep_alive` (and a will, when given).
async fn typed(
    port: u16,
    id: &str,
    version: u8,
    keep_alive: u16,
    will: Option<Will>,
) -> polywire_protocols::mqtt::Client {
    let mut h = hello(id, version, keep_alive);
    if let Some(w) = will {
        h.will = Some(w);
        h.will_qos = QoS::AtLeastOnce;
    }
    let (c, ack) = polywire_protocols::mqtt::Client::connect(
        ("127.0.0.1", port),
        h,
        polywire::rt::MessageConfig::default(),
    )
    .await
    .expect("connects");
    assert_eq!(ack.code, 0, "{id}: {ack:?}");
    c
}

async fn subscribe(c: &polywire_protocols::mqtt::Client, filter: &str, qos: QoS) {
    c.subscribe(Subscribe {
        subscriptions: vec![Subscription {
            filter: filter.into(),
            max_qos: qos,
            ..Default::default()
        }],
        ..Default::default()
    })
    .await
    .expect("SUBACK");
}

fn message(topic: &str, qos: QoS, payload: &[u8]) -> Publish {
    Publish {
        qos,
        topic: topic.into(),
        payload: payload.to_vec().into(),
        ..Default::default()
    }
}

/// The generated client against mosquitto, as the broker example is tested with paho:
/// 10 subscribers x 1,000 messages at QoS 1 and 2 (none lost or duplicated, in order), a
/// retained message, a will after an abrupt close, and a keepalive the client keeps with
/// PINGREQs.
async fn generated_client_cases(port: u16, version: u8) {
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let topic = format!("fan/{version}/{}", qos.to_repr());
        let mut subs = Vec::new();
        for i in 0..10 {
            let s = typed(port, &format!("fan-{version}-{i}"), version, 30, None).await;
            subscribe(&s, &topic, qos).await;
            subs.push(s);
        }
        let publisher = typed(port, &format!("fan-pub-{version}"), version, 30, None).await;
        // In flight together: the client picks identifiers and carries out each exchange.
        let sends = (0..1000u32).map(|i| publisher.publish(message(&topic, qos, &i.to_be_bytes())));
        for r in futures_join(sends).await {
            r.expect("published");
        }
        for s in &subs {
            for i in 0..1000u32 {
                let m = tokio::time::timeout(Duration::from_secs(10), s.next_push())
                    .await
                    .expect("within 10 s")
                    .expect("a message");
                assert_eq!(
                    &m.payload[..],
                    &i.to_be_bytes(),
                    "QoS {qos:?}: out of order or lost"
                );
            }
            s.close().await;
        }
        publisher.close().await;
    }

    // Retained: a later subscriber gets it, with RETAIN set.
    let p = typed(port, &format!("ret-pub-{version}"), version, 30, None).await;
    let mut m = message(&format!("ret/{version}"), QoS::AtLeastOnce, b"kept");
    m.retain = true;
    p.publish(m).await.expect("published");
    let s = typed(port, &format!("ret-sub-{version}"), version, 30, None).await;
    subscribe(&s, &format!("ret/{version}"), QoS::AtLeastOnce).await;
    let got = tokio::time::timeout(Duration::from_secs(5), s.next_push())
        .await
        .expect("the retained message")
        .expect("a message");
    assert!(got.retain && &got.payload[..] == b"kept", "{got:?}");
    // Cleared for the next run.
    let mut clear = message(&format!("ret/{version}"), QoS::AtLeastOnce, b"");
    clear.retain = true;
    p.publish(clear).await.expect("cleared");

    // A will: published by the broker when its client goes without DISCONNECT.
    let will_topic = format!("will/{version}");
    let w = typed(port, &format!("will-sub-{version}"), version, 30, None).await;
    subscribe(&w, &will_topic, QoS::AtLeastOnce).await;
    let dying = typed(
        port,
        &format!("dying-{version}"),
        version,
        30,
        Some(Will {
            topic: will_topic.as_str().into(),
            payload: b"gone".to_vec().into(),
            ..Default::default()
        }),
    )
    .await;
    drop(dying); // the connection closes without DISCONNECT
    let got = tokio::time::timeout(Duration::from_secs(5), w.next_push())
        .await
        .expect("the will")
        .expect("a message");
    assert_eq!(
        (got.topic.as_str(), &got.payload[..]),
        (will_topic.as_str(), &b"gone"[..])
    );

    // Keepalive: 1 s, then 3 s idle: mosquitto would close it after 1.5 s without the
    // client's PINGREQs.
    let idle = typed(port, &format!("idle-{version}"), version, 1, None).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    idle.ping_req(PingReq {}).await.expect("still connected");
    idle.close().await;
    w.close().await;
    s.close().await;
    p.close().await;
}

/// Awaits every future, in order (the test crate has no futures utilities).
async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = fs.map(Box::pin).collect();
    let mut out = Vec::with_capacity(pinned.len());
    for f in pinned.iter_mut() {
        out.push(f.await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_client_passes_the_broker_cases_against_mosquitto() {
    let Some(broker) = mosquitto() else { return };
    generated_client_cases(broker.port, 4).await;
    generated_client_cases(broker.port, 5).await;
}
