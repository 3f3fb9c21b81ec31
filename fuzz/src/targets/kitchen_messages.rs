//! Every struct of the kitchen-sink protocol decoded on its own, chosen by the first byte
//! (binary layouts, and the JSON encodings of `Header` and `Point`), and its handshake
//! messages read as the handshake reads them (`decode_partial`, in pieces).

use crate::kitchen::*;
use crate::{check_json, check_message, check_partial};

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let l = protocol_info::LIMITS;
    match which % 14 {
        0 => drop(check_message::<Sink>(rest, l)),
        1 => drop(check_message::<Header>(rest, l)),
        2 => drop(check_json(
            rest,
            l,
            Header::decode_json,
            Header::encode_json,
        )),
        3 => drop(check_message::<Point>(rest, l)),
        4 => drop(check_json(rest, l, Point::decode_json, Point::encode_json)),
        5 => drop(check_message::<Inner>(rest, l)),
        6 => drop(check_message::<Trailer>(rest, l)),
        7 => drop(check_message::<Names>(rest, l)),
        8 => drop(check_message::<Hello>(rest, l)),
        9 => drop(check_message::<Accept>(rest, l)),
        10 => drop(check_message::<Reject>(rest, l)),
        11 => drop(check_partial::<Hello>(rest, l)),
        12 => drop(check_partial::<Reject>(rest, l)),
        _ => drop(check_message::<Frame>(rest, l)),
    }
}
