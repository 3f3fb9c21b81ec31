//! The MQTT packet codec on a stream of packets, under MQTT 3.1.1 or 5.0 as the input's
//! first byte says (odd: 5.0), which decides whether properties and reason codes are read.

use crate::check_codec;
use crate::mqtt::PacketCodec;
use polywire::Codec;

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut codec = PacketCodec::new();
    codec.set_version(if first & 1 == 1 { 5 } else { 4 });
    check_codec(codec, rest);
}
