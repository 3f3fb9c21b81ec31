//! A user crate outside the polywire workspace. `chat.wire`, a three-line `build.rs` and
//! the `include_protocol!` below are all it takes to get typed messages and a sans-IO
//! frame codec; the tests drive that codec.
#![warn(missing_docs)]

polywire::include_protocol!("chat");

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Bytes, BytesMut};
    use polywire::{Codec, DecodeErrorKind, FrameKind, OrderedMap, Str};

    /// A frame with every field set to something other than its default.
    fn frame() -> Frame {
        let mut meta = OrderedMap::new();
        meta.push(Str::from("lang"), Str::from("en"));
        meta.push(Str::from("client"), Str::from("fixture/1.0"));
        let mut f = Frame {
            id: 0,
            flags: Flags::empty(),
            sender: User {
                id: 42,
                name: Str::from("ada"),
                presence: Presence::Away,
            },
            room: Str::from("general"),
            tags: vec![Str::from("intro"), Str::new()],
            mentions: vec![User {
                id: 7,
                name: Str::from("grace"),
                presence: Presence::Busy,
            }],
            seen_by: vec![7, 42],
            reply_to: Some(300),
            meta,
            body: Bytes::from_static(b"hello, chat"),
        };
        f.set_correlation_id(17);
        f.set_kind(FrameKind::Response);
        f
    }

    fn encode(f: &Frame) -> BytesMut {
        let mut buf = BytesMut::new();
        FrameCodec::new().encode(f, &mut buf).expect("encodes");
        buf
    }

    #[test]
    fn round_trip() {
        let f = frame();
        assert_eq!((f.id, f.kind()), (17, FrameKind::Response));
        assert!(f.flags.contains(Flags::REPLY));
        let mut buf = encode(&f);
        assert_eq!(buf.len(), f.encoded_len());
        assert_eq!(buf[..2], [0xC4, 0xA7], "the magic comes first");
        let length = u32::from_be_bytes(buf[2..6].try_into().unwrap());
        assert_eq!(
            length as usize,
            buf.len() - 6,
            "the length counts what follows it"
        );
        let back = FrameCodec::new().decode(&mut buf).expect("decodes");
        assert_eq!(back, Some(f));
        assert!(buf.is_empty(), "the whole frame was consumed");
    }

    #[test]
    fn half_a_frame_decodes_to_none_and_consumes_nothing() {
        let whole = encode(&frame());
        let (first, second) = whole.split_at(whole.len() / 2);
        let mut codec = FrameCodec::new();
        let mut buf = BytesMut::from(first);
        assert_eq!(codec.decode(&mut buf), Ok(None));
        assert_eq!(buf, first);
        buf.extend_from_slice(second);
        assert_eq!(codec.decode(&mut buf), Ok(Some(frame())));
        assert!(buf.is_empty());
    }

    #[test]
    fn bad_magic_is_reported_at_byte_0() {
        let mut buf = encode(&frame());
        buf[1] = 0x00;
        let err = FrameCodec::new().decode(&mut buf).unwrap_err();
        assert_eq!(err.path_string(), "Frame.magic");
        assert_eq!(err.offset, 0);
        let bad = DecodeErrorKind::BadConstant {
            expected: 0xC4A7,
            found: 0xC400,
        };
        assert_eq!(err.kind, bad);
    }

    #[test]
    fn bad_enum_in_nested_struct_has_its_path_and_offset() {
        let mut buf = encode(&frame());
        // magic 2 + length 4 + id 4 + flags 1, then the sender: id 4 + name 1 + 3.
        let at = 2 + 4 + 4 + 1 + 4 + 1 + 3;
        assert_eq!(buf[at], 1, "Presence::Away");
        buf[at] = 9;
        let err = FrameCodec::new().decode(&mut buf).unwrap_err();
        assert_eq!(err.path_string(), "Frame.sender.presence");
        assert_eq!(err.offset, at);
        assert_eq!(err.kind, DecodeErrorKind::UnknownEnum(9));
    }
}
