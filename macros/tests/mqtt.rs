//! MQTT written with `#[polywire::protocol]` (`common/mqtt.rs`: a union frame, a tagged
//! list of properties, fields present on conditions) against the codec generated from
//! `mqtt.wire` in `polywire-protocols`: the same packets from the same recorded bytes, the
//! same bytes back, and messages built by hand that round-trip.

use bytes::BytesMut;
use polywire::{Codec, DecodeErrorKind, Str};
use polywire_protocols::mqtt as dsl;

include!("common/mqtt.rs");
use mqtt as mac;

/// The recorded connections of `polywire-protocols` (mosquitto's clients and broker):
/// each one's client and server bytes.
fn streams() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let text = include_str!("../../protocols/tests/vectors/mqtt/streams.txt");
    let mut out: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# ")
            && !name.starts_with("Captured")
        {
            out.push((name.to_string(), vec![], vec![]));
        } else if let Some((dir, hex)) = line.split_once(' ')
            && let Some(s) = out.last_mut()
        {
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"));
            match dir {
                "c" => s.1.extend(bytes),
                "s" => s.2.extend(bytes),
                _ => {}
            }
        }
    }
    out
}

/// Every packet of `bytes` under `version`, each with the bytes it re-encodes to.
fn decode_all<C: Codec>(mut codec: C, bytes: &[u8], version: u32) -> Vec<(C::Frame, Vec<u8>)>
where
    C::Frame: Clone,
{
    codec.set_version(version);
    let mut src = BytesMut::from(bytes);
    let mut out = Vec::new();
    while !src.is_empty() {
        let p = match codec.decode(&mut src) {
            Ok(Some(p)) => p,
            Ok(None) => panic!("{} byte(s) left that do not make a packet", src.len()),
            Err(e) => panic!("{e}"),
        };
        let mut dst = BytesMut::new();
        codec.encode(&p, &mut dst).expect("encodes");
        out.push((p, dst.to_vec()));
    }
    out
}

#[test]
fn recorded_streams_decode_and_encode_as_with_mqtt_wire() {
    let mut packets = 0;
    for (name, client, server) in streams() {
        let version = match dsl::PacketCodec::new().decode(&mut BytesMut::from(&client[..])) {
            Ok(Some(dsl::Packet::Connect(c))) => u32::from(c.protocol_level),
            other => panic!("{name}: a stream starts with CONNECT, not {other:?}"),
        };
        for bytes in [&client, &server] {
            let a = decode_all(dsl::PacketCodec::new(), bytes, version);
            let b = decode_all(mac::PacketCodec::new(), bytes, version);
            assert_eq!(a.len(), b.len(), "{name}");
            for ((pa, ea), (pb, eb)) in a.iter().zip(&b) {
                // The types are the same in both modules, so they print alike.
                assert_eq!(format!("{pa:?}"), format!("{pb:?}"), "{name}");
                assert_eq!(ea, eb, "{name}: {pb:?}");
                packets += 1;
            }
        }
    }
    assert!(packets >= 60, "only {packets} packets recorded");
}

fn encode(p: &mac::Packet, version: u32) -> Vec<u8> {
    let mut codec = mac::PacketCodec::new();
    codec.set_version(version);
    let mut dst = BytesMut::new();
    codec.encode(p, &mut dst).expect("encodes");
    dst.to_vec()
}

fn decode(bytes: &[u8], version: u32) -> Result<mac::Packet, polywire::DecodeError> {
    let mut codec = mac::PacketCodec::new();
    codec.set_version(version);
    let mut src = BytesMut::from(bytes);
    let p = codec.decode(&mut src)?.expect("a whole packet");
    assert!(src.is_empty(), "{} byte(s) left", src.len());
    Ok(p)
}

#[test]
fn a_publish_built_by_hand_round_trips_under_each_version() {
    let props = mac::Properties {
        message_expiry_interval: Some(30),
        user_property: vec![mac::StringPair {
            name: Str::from("who"),
            value: Str::from("me"),
        }],
        ..Default::default()
    };
    let publish = mac::Publish {
        qos: mac::QoS::AtLeastOnce,
        retain: true,
        topic: Str::from("a/b"),
        packet_id: Some(7),
        properties: Some(Box::new(props)),
        payload: bytes::Bytes::from_static(b"hi"),
        ..Default::default()
    };
    let p5 = mac::Packet::Publish(publish.clone());
    let bytes = encode(&p5, 5);
    #[rustfmt::skip]
    let expected = [
        0x33, 25, // PUBLISH, QoS 1, retain; remaining length
        0x00, 0x03, b'a', b'/', b'b', // topic
        0x00, 0x07, // packet id: present because QoS > 0
        15, // properties' length
        0x02, 0, 0, 0, 30, // message expiry interval
        0x26, 0x00, 0x03, b'w', b'h', b'o', 0x00, 0x02, b'm', b'e', // user property
        b'h', b'i', // payload
    ];
    assert_eq!(bytes, expected);
    assert_eq!(decode(&bytes, 5).unwrap(), p5);
    // MQTT 3.1.1 has no properties: the same packet without them.
    let mut p4 = publish.clone();
    p4.properties = None;
    let bytes = encode(&mac::Packet::Publish(p4.clone()), 4);
    assert_eq!(bytes[..2], [0x33, 9]);
    assert_eq!(decode(&bytes, 4).unwrap(), mac::Packet::Publish(p4));
    // QoS 0: no packet id.
    let mut p0 = publish;
    p0.qos = mac::QoS::AtMostOnce;
    p0.packet_id = None;
    let bytes = encode(&mac::Packet::Publish(p0.clone()), 5);
    assert_eq!(bytes[..7], [0x31, 23, 0x00, 0x03, b'a', b'/', b'b']);
    assert_eq!(bytes[7], 15);
    assert_eq!(decode(&bytes, 5).unwrap(), mac::Packet::Publish(p0));
}

#[test]
fn a_connect_sets_its_flags_from_what_it_carries() {
    let connect = mac::Connect {
        protocol_name: Str::from("MQTT"),
        protocol_level: 4,
        clean_start: true,
        keep_alive: 60,
        client_id: Str::from("c"),
        username: Some(Str::from("u")),
        ..Default::default()
    };
    let p = mac::Packet::Connect(connect);
    let bytes = encode(&p, 4);
    // Flags: user name present (bit 7), clean start (bit 1); no password, no will.
    assert_eq!(
        bytes,
        [
            0x10, 16, 0x00, 0x04, b'M', b'Q', b'T', b'T', 4, 0x82, 0x00, 60, 0x00, 0x01, b'c',
            0x00, 0x01, b'u'
        ]
    );
    assert_eq!(decode(&bytes, 4).unwrap(), p);
}

#[test]
fn malformed_packets_are_refused_as_with_mqtt_wire() {
    // A property that may appear once, twice: two content types.
    let props = [0x03, 0x00, 0x01, b'a', 0x03, 0x00, 0x01, b'b'];
    let mut p = vec![0x30, 0, 0x00, 0x01, b't', props.len() as u8];
    p.extend(props);
    p[1] = (p.len() - 2) as u8;
    let e = decode(&p, 5).expect_err("duplicate tag");
    assert_eq!(e.kind, DecodeErrorKind::DuplicateTag(0x03), "{e}");
    // Packet type 0 is reserved.
    let e = decode(&[0x00, 0x00], 4).expect_err("no such packet");
    assert_eq!(e.kind, DecodeErrorKind::UnknownDiscriminator(0), "{e}");
}
