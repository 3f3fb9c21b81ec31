//! The MQTT codec generated from `wire/mqtt.wire` against real bytes: streams recorded
//! between mosquitto's clients and broker (`vectors/mqtt/capture.py`), and malformed
//! packets as MQTT 3.1.1 and 5.0 define them.

use bytes::BytesMut;
use polywire::{Codec, DecodeErrorKind, EncodeError, WireMessage};
use polywire_protocols::mqtt::{Packet, PacketCodec, Publish, QoS};

/// One recorded connection: its name and the bytes each side sent.
struct Stream {
    name: String,
    client: Vec<u8>,
    server: Vec<u8>,
}

fn streams() -> Vec<Stream> {
    let text = include_str!("vectors/mqtt/streams.txt");
    let mut out: Vec<Stream> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# ")
            && !name.starts_with("Captured")
        {
            out.push(Stream {
                name: name.to_string(),
                client: vec![],
                server: vec![],
            });
        } else if let Some((dir, hex)) = line.split_once(' ')
            && let Some(s) = out.last_mut()
        {
            match dir {
                "c" => s.client.extend(self::hex(hex)),
                "s" => s.server.extend(self::hex(hex)),
                _ => {}
            }
        }
    }
    out
}

/// Decodes every packet of `bytes` with protocol version `version`, checking that the
/// stream is consumed exactly.
fn decode_all(bytes: &[u8], version: u32) -> Vec<Packet> {
    let mut codec = PacketCodec::new();
    codec.set_version(version);
    let mut src = BytesMut::from(bytes);
    let mut out = Vec::new();
    while !src.is_empty() {
        match codec.decode(&mut src) {
            Ok(Some(p)) => out.push(p),
            Ok(None) => panic!("{} byte(s) left that do not make a packet", src.len()),
            Err(e) => panic!("{e}"),
        }
    }
    out
}

fn encode(p: &Packet, version: u32) -> Vec<u8> {
    let mut codec = PacketCodec::new();
    codec.set_version(version);
    let mut dst = BytesMut::new();
    codec.encode(p, &mut dst).expect("encodes");
    dst.to_vec()
}

/// The protocol level the stream's CONNECT asks for.
fn level(client: &[u8]) -> u32 {
    match PacketCodec::new().decode(&mut BytesMut::from(client)) {
        Ok(Some(Packet::Connect(c))) => u32::from(c.protocol_level),
        other => panic!("a stream starts with CONNECT, not {other:?}"),
    }
}

#[test]
fn every_recorded_packet_decodes_and_encodes_back() {
    let (mut packets, mut exact, mut reordered) = (0, 0, 0);
    for s in streams() {
        let v = level(&s.client);
        for (side, bytes) in [("client", &s.client), ("server", &s.server)] {
            // Split the stream into its packets' bytes with the codec's own boundaries.
            let codec = PacketCodec::new();
            let mut at = 0;
            for p in decode_all(bytes, v) {
                let n = codec.frame_len(&bytes[at..]).unwrap().unwrap();
                let original = &bytes[at..at + n];
                at += n;
                packets += 1;
                let again = encode(&p, v);
                if again == original {
                    exact += 1;
                } else {
                    // MQTT leaves the order of properties to the sender; ours is the
                    // declaration order. Same length, same packet.
                    assert_eq!(again.len(), original.len(), "{}: {side}: {p:?}", s.name);
                    assert_eq!(decode_all(&again, v), vec![p.clone()], "{}: {side}", s.name);
                    reordered += 1;
                }
            }
            assert_eq!(at, bytes.len(), "{}: {side}", s.name);
        }
    }
    println!("{packets} packets: {exact} byte-exact, {reordered} with properties reordered");
    assert!(packets >= 60, "only {packets} packets recorded");
    // Only MQTT 5.0 PUBLISH packets carry several properties in mosquitto's own order.
    assert!(
        exact >= packets - 12,
        "{exact} of {packets} byte-exact, {reordered} reordered"
    );
}

#[test]
fn recorded_packets_mean_what_mosquitto_sent() {
    let all = streams();
    let find = |name: &str| all.iter().find(|s| s.name.starts_with(name)).expect(name);

    // MQTT 3.1.1: the subscriber's SUBSCRIBE and the QoS 2 delivery it received.
    let sub = find("mqttv311 subscriber and publishers (connection 0)");
    let c = decode_all(&sub.client, 4);
    let Packet::Subscribe(s) = &c[1] else {
        panic!("{:?}", c[1])
    };
    let filters: Vec<(&str, QoS)> = s
        .subscriptions
        .iter()
        .map(|x| (x.filter.as_str(), x.max_qos))
        .collect();
    assert_eq!(
        filters,
        [("a/#", QoS::ExactlyOnce), ("b/+/c", QoS::ExactlyOnce)]
    );
    assert_eq!(s.properties, None);
    let got = decode_all(&sub.server, 4);
    let publishes: Vec<(Option<u16>, QoS, &[u8])> = got
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some((p.packet_id, p.qos, &p.payload[..])),
            _ => None,
        })
        .collect();
    assert_eq!(
        publishes,
        [
            (None, QoS::AtMostOnce, &b"hello qos 0"[..]),
            (Some(1), QoS::AtLeastOnce, b"hello qos 1"),
            (Some(2), QoS::ExactlyOnce, b"hello qos 2"),
            (Some(3), QoS::AtLeastOnce, b"kept"),
        ]
    );

    // MQTT 5.0: properties on CONNECT, SUBSCRIBE and PUBLISH.
    let sub5 = find("mqttv5 subscriber and publishers (connection 6)");
    let c = decode_all(&sub5.client, 5);
    let Packet::Connect(conn) = &c[0] else {
        panic!()
    };
    let props = conn
        .properties
        .as_ref()
        .expect("5.0 CONNECT has properties");
    assert_eq!(props.session_expiry_interval, Some(60));
    let Packet::Subscribe(s) = &c[1] else {
        panic!()
    };
    let up = &s.properties.as_ref().unwrap().user_property;
    assert_eq!((up[0].name.as_str(), up[0].value.as_str()), ("who", "test"));
    let got = decode_all(&sub5.server, 5);
    let Packet::Publish(p) = &got[2] else {
        panic!("{:?}", got[2])
    };
    let props = p.properties.as_ref().unwrap();
    assert_eq!(props.content_type.as_deref(), Some("text/plain"));
    assert_eq!(props.message_expiry_interval, Some(30));
    assert_eq!(p.packet_id, None);

    // Will, user name and password.
    let ret = find("mqttv5 subscriber and publishers (connection 10)");
    let Packet::Connect(conn) = &decode_all(&ret.client, 5)[0] else {
        panic!()
    };
    let will = conn.will.as_ref().expect("a will");
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        ("a/will", &b"gone"[..])
    );
    assert_eq!(conn.will_qos, QoS::AtLeastOnce);
    assert_eq!(conn.username.as_deref(), Some("user"));
    assert_eq!(conn.password.as_deref(), Some(&b"secret"[..]));
}

#[test]
fn partial_packets_need_more_and_consume_nothing() {
    let s = &streams()[6];
    for n in 0..s.server.len().min(60) {
        let mut codec = PacketCodec::new();
        codec.set_version(5);
        let mut src = BytesMut::from(&s.server[..n]);
        // A prefix holds whole packets and then part of one: the whole ones decode, the
        // part stays.
        let mut whole = 0;
        while let Some(_p) = codec.decode(&mut src).expect("a prefix is not an error") {
            whole += 1;
        }
        let left = src.len();
        assert!(left < n || whole == 0, "prefix {n}");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert_eq!(src.len(), left, "prefix {n}: nothing more consumed");
    }
}

/// The decode error for `bytes` under `version`.
fn error(bytes: &[u8], version: u32) -> polywire::DecodeError {
    let mut codec = PacketCodec::new();
    codec.set_version(version);
    codec
        .decode(&mut BytesMut::from(bytes))
        .expect_err("malformed")
}

#[test]
fn malformed_packets_are_errors_that_say_where() {
    // A remaining length with a fifth byte (§1.5.5).
    let e = error(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01], 4);
    assert_eq!(
        (e.offset, &e.kind),
        (1, &DecodeErrorKind::VarintTooLong { max_bytes: 4 })
    );
    // PUBREL with reserved flags 0 instead of 2 (§2.1.3).
    let e = error(&[0x60, 0x02, 0x00, 0x01], 4);
    assert_eq!(
        e.kind,
        DecodeErrorKind::BadConstant {
            expected: 2,
            found: 0
        },
        "{e}"
    );
    // SUBSCRIBE with reserved flags 0.
    let e = error(&[0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00], 4);
    assert!(matches!(e.kind, DecodeErrorKind::BadConstant { .. }), "{e}");
    // PUBLISH with both QoS bits set (§3.3.1.2).
    let e = error(&[0x36, 0x05, 0x00, 0x01, b't', 0x00, 0x01], 4);
    assert_eq!(e.kind, DecodeErrorKind::UnknownEnum(3), "{e}");
    // Packet type 0 is reserved.
    let e = error(&[0x00, 0x00], 4);
    assert_eq!(e.kind, DecodeErrorKind::UnknownDiscriminator(0), "{e}");
    // A property that may appear once, twice (§2.2.2.2): two content types.
    let props = [0x03, 0x00, 0x01, b'a', 0x03, 0x00, 0x01, b'b'];
    let mut p = vec![0x30, 0, 0x00, 0x01, b't', props.len() as u8];
    p.extend(props);
    p[1] = (p.len() - 2) as u8;
    let e = error(&p, 5);
    assert_eq!(e.kind, DecodeErrorKind::DuplicateTag(0x03), "{e}");
    assert_eq!(e.offset, 10, "{e}");
    // An unknown property identifier.
    let mut p = vec![0x30, 0, 0x00, 0x01, b't', 2, 0x7f, 0x00];
    p[1] = (p.len() - 2) as u8;
    assert_eq!(error(&p, 5).kind, DecodeErrorKind::UnknownTag(0x7f));
    // CONNECT with the reserved connect flag set (§3.1.2.3).
    let mut c = hex("101800044d5154540402003c000c7375622d6d71747476333131");
    c[9] |= 1;
    assert!(matches!(
        error(&c, 0).kind,
        DecodeErrorKind::BadConstant { .. }
    ));
}

#[test]
fn a_remaining_length_of_268_mb_is_refused_before_anything_is_buffered() {
    let mut codec = PacketCodec::new();
    let mut src = BytesMut::with_capacity(8);
    src.extend_from_slice(&[0x30, 0xff, 0xff, 0xff, 0x7f]);
    let e = codec.decode(&mut src).expect_err("over the limit");
    assert!(
        matches!(
            e.kind,
            DecodeErrorKind::TooLong {
                len: 268_435_460,
                ..
            }
        ),
        "{e}"
    );
    assert!(src.capacity() < 1024, "reserved {} bytes", src.capacity());
}

#[test]
fn a_large_announced_packet_does_not_reserve_its_size_before_its_bytes_come() {
    // 14.7 MB, within the 16 MiB limit: the codec waits for it without reserving it.
    let mut codec = PacketCodec::new();
    let mut src = BytesMut::with_capacity(8);
    src.extend_from_slice(&[0x30, 0xff, 0xff, 0xff, 0x06, 0x00, 0x01, b't']);
    assert_eq!(codec.decode(&mut src).expect("within the limit"), None);
    assert_eq!(src.len(), 8, "nothing consumed");
    assert!(
        src.capacity() <= 8 + polywire::codec::RESERVE_AHEAD,
        "reserved {} bytes",
        src.capacity()
    );
}

#[test]
fn encoding_checks_what_the_flags_promise() {
    let mut p = Publish {
        qos: QoS::AtLeastOnce,
        topic: "t".into(),
        ..Default::default()
    };
    let mut dst = BytesMut::new();
    assert_eq!(
        p.encode_to(&mut dst),
        Err(EncodeError::MissingField { path: "packet_id" })
    );
    p.qos = QoS::AtMostOnce;
    p.packet_id = Some(7);
    assert_eq!(
        p.encode_to(&mut dst),
        Err(EncodeError::UnexpectedField { path: "packet_id" })
    );
    assert!(dst.is_empty());
    // Properties only under 5.0.
    p.packet_id = None;
    p.properties = Some(Default::default());
    assert_eq!(
        p.encode_to(&mut dst),
        Err(EncodeError::UnexpectedField { path: "properties" })
    );
    p.encode_versioned(&mut dst, 5).expect("5.0 has properties");
    assert_eq!(&dst[..], &[0x30, 0x04, 0x00, 0x01, b't', 0x00]);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
