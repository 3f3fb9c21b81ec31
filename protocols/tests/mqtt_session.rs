//! The sans-IO `MessageSession` carrying out `mqtt.wire`'s `exchange` block, with a
//! manual clock: bytes and instants in, events and bytes out, no I/O and no runtime.

use bytes::BytesMut;
use polywire::exchange::{Exchange, Expect, Incoming, MessageSession, Role, SendError, Violation};
use polywire::{Codec, WireMessage};
use polywire_protocols::mqtt::*;
use std::time::{Duration, Instant};

fn connect(version: u8, keep_alive: u16) -> Packet {
    Packet::Connect(Connect {
        protocol_name: "MQTT".into(),
        protocol_level: version,
        clean_start: true,
        keep_alive,
        client_id: "c".into(),
        ..Default::default()
    })
}

/// Encodes `p` under `version`, as the peer would (5.0's properties filled in).
fn bytes(p: &Packet, version: u32) -> BytesMut {
    let mut p = p.clone();
    MqttExchange.complete(&mut p, version);
    let mut out = BytesMut::new();
    p.encode_versioned(&mut out, version).expect("encodes");
    out
}

/// Decodes everything in `out` under `version`.
fn packets(out: BytesMut, version: u32) -> Vec<Packet> {
    let mut codec = PacketCodec::new();
    codec.set_version(version);
    let mut buf = out;
    let mut all = Vec::new();
    while let Some(p) = codec.decode(&mut buf).expect("decodes") {
        all.push(p);
    }
    assert!(buf.is_empty());
    all
}

fn publish(qos: QoS, id: Option<u16>) -> Packet {
    Packet::Publish(Publish {
        qos,
        topic: "t".into(),
        packet_id: id,
        payload: b"x".to_vec().into(),
        ..Default::default()
    })
}

/// A server session after a 5.0 CONNECT with keep alive `ka` at `t0`.
fn opened(ka: u16, t0: Instant) -> MessageSession<MqttExchange> {
    let mut s = MessageSession::new(MqttExchange, Role::Server, t0);
    let mut buf = bytes(&connect(5, ka), 5);
    match s.receive(&mut buf, t0) {
        Ok(Some(Incoming::Hello { msg, token })) => {
            assert_eq!(token.expect(), Expect::One(1));
            let a = MqttExchange.default_answer(&msg, 1);
            s.answer(token, a, t0).expect("CONNACK");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.version(), Some(5));
    // The CONNACK went out with 5.0's (empty) properties, filled in by the session.
    let out = packets(s.take_output(), 5);
    assert!(
        matches!(&out[..], [Packet::ConnAck(a)] if a.properties.is_some()),
        "{out:?}"
    );
    s
}

#[test]
fn a_server_answers_each_qos_as_the_exchange_block_says() {
    let t0 = Instant::now();
    let mut s = opened(0, t0);
    for (qos, id, want) in [
        (QoS::AtMostOnce, None, Expect::Nothing),
        (QoS::AtLeastOnce, Some(7), Expect::One(3)),
        (QoS::ExactlyOnce, Some(8), Expect::One(4)),
    ] {
        let mut buf = bytes(&publish(qos, id), 5);
        let Ok(Some(Incoming::Message { msg, token })) = s.receive(&mut buf, t0) else {
            panic!("a PUBLISH at {qos:?}");
        };
        assert_eq!(token.expect(), want, "{qos:?}");
        if let Some(m) = want.member() {
            let a = MqttExchange.default_answer(&msg, m);
            s.answer(token, a, t0).expect("answers");
        }
    }
    let out = packets(s.take_output(), 5);
    // The answers carry the requests' packet identifiers.
    assert!(
        matches!(&out[..], [Packet::PubAck(a), Packet::PubRec(r)] if a.packet_id == 7 && r.packet_id == 8),
        "{out:?}"
    );
    // PUBREL 8 continues the QoS 2 exchange: PUBCOMP 8 answers it.
    let mut buf = bytes(
        &Packet::PubRel(PubRel {
            packet_id: 8,
            ..Default::default()
        }),
        5,
    );
    let Ok(Some(Incoming::Message { msg, token })) = s.receive(&mut buf, t0) else {
        panic!("PUBREL");
    };
    assert_eq!(token.expect(), Expect::One(6));
    let wrong = MqttExchange.default_answer(&msg, 3);
    assert!(matches!(
        s.answer(token.clone(), wrong, t0),
        Err(SendError::WrongAnswer {
            expected: "PubComp",
            got: "PubAck"
        })
    ));
    let a = MqttExchange.default_answer(&msg, 6);
    s.answer(token, a, t0).expect("PUBCOMP");
    let out = packets(s.take_output(), 5);
    assert!(
        matches!(&out[..], [Packet::PubComp(c)] if c.packet_id == 8),
        "{out:?}"
    );
    assert_eq!(s.outstanding(), 0);
}

#[test]
fn pushes_get_free_packet_identifiers_and_their_acknowledgements_end_them() {
    let t0 = Instant::now();
    let mut s = opened(0, t0);
    let t1 = s
        .send(publish(QoS::AtLeastOnce, None), t0)
        .expect("push 1")
        .expect("a ticket");
    let t2 = s
        .send(publish(QoS::ExactlyOnce, None), t0)
        .expect("push 2")
        .expect("a ticket");
    assert!(
        s.send(publish(QoS::AtMostOnce, None), t0)
            .expect("push 0")
            .is_none()
    );
    let out = packets(s.take_output(), 5);
    let ids: Vec<Option<u16>> = out
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.packet_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, vec![Some(1), Some(2), None]);
    assert_eq!(s.outstanding(), 2);
    // PUBACK 1 ends the first push.
    let mut buf = bytes(
        &Packet::PubAck(PubAck {
            packet_id: 1,
            ..Default::default()
        }),
        5,
    );
    match s.receive(&mut buf, t0) {
        Ok(Some(Incoming::Answer { ticket, .. })) => assert_eq!(ticket, t1),
        other => panic!("{other:?}"),
    }
    // A second PUBACK 1 answers nothing.
    let mut buf = bytes(
        &Packet::PubAck(PubAck {
            packet_id: 1,
            ..Default::default()
        }),
        5,
    );
    assert!(matches!(
        s.receive(&mut buf, t0),
        Ok(Some(Incoming::Stray { .. }))
    ));
    // PUBREC 2 asks for PUBREL 2, and the ticket waits on for PUBCOMP 2.
    let mut buf = bytes(
        &Packet::PubRec(PubRec {
            packet_id: 2,
            ..Default::default()
        }),
        5,
    );
    let Ok(Some(Incoming::Message { msg, token })) = s.receive(&mut buf, t0) else {
        panic!("PUBREC");
    };
    assert_eq!(token.ticket(), Some(t2));
    let rel = MqttExchange.default_answer(&msg, 5);
    assert_eq!(s.answer(token, rel, t0), Ok(Some(t2)));
    let out = packets(s.take_output(), 5);
    assert!(
        matches!(&out[..], [Packet::PubRel(r)] if r.packet_id == 2),
        "{out:?}"
    );
    let mut buf = bytes(
        &Packet::PubComp(PubComp {
            packet_id: 2,
            ..Default::default()
        }),
        5,
    );
    match s.receive(&mut buf, t0) {
        Ok(Some(Incoming::Answer { ticket, msg })) => {
            assert_eq!(ticket, t2);
            assert!(matches!(msg, Packet::PubComp(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.outstanding(), 0);
}

#[test]
fn identifiers_in_use_are_skipped_and_run_out_at_the_fields_maximum() {
    let t0 = Instant::now();
    let mut s = opened(0, t0);
    for _ in 0..u16::MAX {
        s.send(publish(QoS::AtLeastOnce, None), t0)
            .expect("a free identifier");
    }
    assert_eq!(s.outstanding(), 65535);
    assert_eq!(
        s.send(publish(QoS::AtLeastOnce, None), t0),
        Err(SendError::NoFreeCorrelation)
    );
    // Identifier 0 is never used: the 65,535 pushes took 1..=65535.
    let ids: std::collections::HashSet<u16> = packets(s.take_output(), 5)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => p.packet_id,
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 65535);
    assert!(!ids.contains(&0));
    // Acknowledging 300 frees it for the next push.
    let mut buf = bytes(
        &Packet::PubAck(PubAck {
            packet_id: 300,
            ..Default::default()
        }),
        5,
    );
    assert!(matches!(
        s.receive(&mut buf, t0),
        Ok(Some(Incoming::Answer { .. }))
    ));
    s.send(publish(QoS::AtLeastOnce, None), t0)
        .expect("300 is free again");
    let out = packets(s.take_output(), 5);
    assert!(
        matches!(&out[..], [Packet::Publish(p)] if p.packet_id == Some(300)),
        "{out:?}"
    );
}

#[test]
fn the_hello_comes_first_and_once() {
    let t0 = Instant::now();
    let mut s = MessageSession::new(MqttExchange, Role::Server, t0);
    let mut buf = bytes(&Packet::PingReq(PingReq {}), 4);
    assert_eq!(
        s.receive(&mut buf, t0).map(|_| ()),
        Err(Violation::BeforeHello("PingReq"))
    );
    assert!(s.is_closed());
    let mut s = opened(0, t0);
    let mut buf = bytes(&connect(5, 0), 5);
    assert_eq!(
        s.receive(&mut buf, t0).map(|_| ()),
        Err(Violation::SecondHello)
    );
    // A DISCONNECT closes (nothing answers it).
    let mut s = opened(0, t0);
    let mut buf = bytes(&Packet::Disconnect(Disconnect::default()), 5);
    assert!(matches!(
        s.receive(&mut buf, t0),
        Ok(Some(Incoming::Close { .. }))
    ));
    assert!(s.is_closed());
}

#[test]
fn a_server_closes_after_one_and_a_half_keepalives_of_silence() {
    let t0 = Instant::now();
    let mut s = opened(10, t0);
    assert_eq!(s.deadline(), Some(t0 + Duration::from_secs(15)));
    assert_eq!(s.tick(t0 + Duration::from_secs(14)), Ok(()));
    // A PINGREQ at 14 s moves the deadline.
    let mut buf = bytes(&Packet::PingReq(PingReq {}), 5);
    let t14 = t0 + Duration::from_secs(14);
    assert!(matches!(
        s.receive(&mut buf, t14),
        Ok(Some(Incoming::Message { .. }))
    ));
    assert_eq!(s.deadline(), Some(t14 + Duration::from_secs(15)));
    assert_eq!(s.tick(t0 + Duration::from_secs(28)), Ok(()));
    assert_eq!(
        s.tick(t14 + Duration::from_secs(15)),
        Err(Violation::KeepaliveTimeout(Duration::from_secs(15)))
    );
    assert!(s.is_closed());
    // Keep alive 0 turns it off.
    let s = opened(0, t0);
    assert_eq!(s.deadline(), None);
}

#[test]
fn a_client_pings_when_idle_and_its_pong_matches_by_order() {
    let t0 = Instant::now();
    let mut c = MessageSession::new(MqttExchange, Role::Client, t0);
    let hello = c
        .send(connect(4, 10), t0)
        .expect("CONNECT")
        .expect("a ticket");
    assert_eq!(c.version(), Some(4));
    let mut buf = bytes(&Packet::ConnAck(ConnAck::default()), 4);
    match c.receive(&mut buf, t0) {
        Ok(Some(Incoming::Answer { ticket, .. })) => assert_eq!(ticket, hello),
        other => panic!("{other:?}"),
    }
    let _ = c.take_output();
    assert_eq!(c.deadline(), Some(t0 + Duration::from_secs(10)));
    let t10 = t0 + Duration::from_secs(10);
    c.tick(t10).expect("alive");
    let out = packets(c.take_output(), 4);
    assert_eq!(out, vec![Packet::PingReq(PingReq {})]);
    assert_eq!(c.outstanding(), 1);
    let mut buf = bytes(&Packet::PingResp(PingResp {}), 4);
    assert!(matches!(
        c.receive(&mut buf, t10),
        Ok(Some(Incoming::Answer { .. }))
    ));
    assert_eq!(c.outstanding(), 0);
    // A hello sent to a client is a violation.
    let mut buf = bytes(&connect(4, 0), 4);
    assert_eq!(
        c.receive(&mut buf, t10).map(|_| ()),
        Err(Violation::WrongSide("Connect"))
    );
}
