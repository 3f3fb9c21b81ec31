//! Every message of the RocketMQ protocol decoded on its own, chosen by the first byte: the
//! command header and the heartbeat's structs, each in its binary layout and its JSON
//! encoding, and a `Frame` without its codec.

use crate::rocketmq::*;
use crate::{check_json, check_message};

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let l = protocol_info::LIMITS;
    match which % 11 {
        0 => drop(check_message::<Header>(rest, l)),
        1 => drop(check_json(
            rest,
            l,
            Header::decode_json,
            Header::encode_json,
        )),
        2 => drop(check_message::<HeartbeatData>(rest, l)),
        3 => drop(check_json(
            rest,
            l,
            HeartbeatData::decode_json,
            HeartbeatData::encode_json,
        )),
        4 => drop(check_message::<ProducerData>(rest, l)),
        5 => drop(check_json(
            rest,
            l,
            ProducerData::decode_json,
            ProducerData::encode_json,
        )),
        6 => drop(check_message::<ConsumerData>(rest, l)),
        7 => drop(check_json(
            rest,
            l,
            ConsumerData::decode_json,
            ConsumerData::encode_json,
        )),
        8 => drop(check_message::<SubscriptionData>(rest, l)),
        9 => drop(check_json(
            rest,
            l,
            SubscriptionData::decode_json,
            SubscriptionData::encode_json,
        )),
        _ => drop(check_message::<Frame>(rest, l)),
    }
}
